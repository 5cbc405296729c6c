"""Notice kinds are declared by their features: a new kind is one declaration, and the outbox
sends it, renders it per chat, puts its buttons under it, plans what it says it plans, and lists
it in its owner's report when it could not be sent in time — with no change to the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from handlers import notices, recipients
from handlers.markup import esc
from handlers.message import Button
from handlers.notice_kind import NoticeKind, OnMissed
from handlers.services import CoreConfig
from storage import deliveries
from storage.deliveries import Notice, Recipient
from storage.meetings import Meeting
from tests.conftest import FakeClock
from tests.meetings.conftest import FakePlatform, make_chat

OWNER = "fake:owner"


async def table_chats(session: AsyncSession, notice: Notice, now: datetime, _config: CoreConfig) -> list[Recipient]:
    """The chats of the poll's table; closing the poll is planned with it."""
    await deliveries.ensure_notice(
        session, key=f"poll-close:{notice.id}", kind="poll-close", due_at=now + timedelta(days=1), owner=notice.owner
    )
    return await recipients.table_chats(session, [notice.payload["table"]])


def render(notice: Notice, _meeting: Meeting | None, zone: str, _now: datetime) -> str:
    return esc(f"Poll: {notice.payload['question']} ({zone})")


def buttons(notice: Notice) -> tuple[tuple[Button, ...], ...]:
    return ((Button("yes", f"/vote {notice.id} yes"), Button("no", f"/vote {notice.id} no")),)


async def question(_session: AsyncSession, notice: Notice) -> dict[str, Any]:
    return {"question": notice.payload["question"]}


async def nobody(_session: AsyncSession, _notice: Notice, _now: datetime, _config: CoreConfig) -> list[Recipient]:
    return []


POLL = NoticeKind(
    "poll", table_chats, render, buttons=buttons,
    on_missed=OnMissed(describe=lambda item, _zone: f"the poll “{item['question']}”", facts=question),
)
POLL_CLOSE = NoticeKind("poll-close", nobody, expires=False)


@pytest.fixture
def polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(notices.KINDS, POLL.name, POLL)
    monkeypatch.setitem(notices.KINDS, POLL_CLOSE.name, POLL_CLOSE)


async def plan_poll(app: App, key: str, question_text: str, due: datetime) -> None:
    async with app.db.transaction() as session:
        await deliveries.ensure_notice(
            session, key=key, kind="poll", due_at=due, owner=OWNER, payload={"table": "WT2", "question": question_text}
        )


async def kinds_and_statuses(app: App) -> set[tuple[str, str]]:
    async with app.db.transaction() as session:
        return {(n.kind, n.status) for n in await deliveries.notices_of(session, "poll")} | {
            (n.kind, n.status) for n in await deliveries.notices_of(session, "poll-close")
        }


async def test_a_declared_kind_is_sent_with_its_buttons_and_plans_its_own_work(
    app: App, clock: FakeClock, fake: FakePlatform, polls: None
) -> None:
    await make_chat(app, "-1", tables=["WT2"], timezone="America/Bogota")
    await make_chat(app, "-2", tables=["WT3"])
    await plan_poll(app, "poll:1", "Meet in March?", clock.now())

    await app.sender.run_due()

    assert fake.texts("-1") == ["Poll: Meet in March? (America/Bogota)"] and fake.texts("-2") == []
    (sent,) = fake.sent
    assert [[b.label for b in row] for row in sent.buttons] == [["yes", "no"]]
    assert await kinds_and_statuses(app) == {("poll", deliveries.EXPANDED), ("poll-close", deliveries.PENDING)}


async def test_a_declared_kind_given_up_is_described_to_its_owner_and_its_work_is_never_given_up(
    app: App, clock: FakeClock, fake: FakePlatform, polls: None
) -> None:
    await make_chat(app, "-1", tables=["WT2"])
    await plan_poll(app, "poll:late", "Meet in April?", clock.now() - timedelta(days=2))
    async with app.db.transaction() as session:
        await deliveries.ensure_notice(session, key="poll-close:old", kind="poll-close", due_at=clock.now() - timedelta(days=2))

    await app.sender.run_due()

    assert fake.texts("-1") == []
    (report,) = fake.texts("user:owner")
    assert "the poll “Meet in April?”" in report
    assert await kinds_and_statuses(app) == {("poll", deliveries.MISSED), ("poll-close", deliveries.EXPANDED)}


def test_a_kind_is_declared_once() -> None:
    assert all(name == kind.name for name, kind in notices.KINDS.items())
    with pytest.raises(ValueError, match="declared twice"):
        notices._by_name([POLL], [POLL])  # noqa: SLF001
