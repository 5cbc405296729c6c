"""Rounds are outbox work: the scheduled month opens one, each contact is asked once per round
(also across a restart in the middle of it), and follow-ups go only to who has not answered."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.base import Delivery, Hub, Status
from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.message import Reply
from handlers.pledge_rounds import start_round
from storage import organisations, pledges
from tests.conftest import FakeClock, make_settings
from tests.meetings.conftest import FakePlatform, make_member, make_secretary, restarted

ORGANISATIONS = 60


@dataclass
class StallingPlatform:
    """Accepts ``accept`` messages, then never answers again: the bot is stopped mid-round with
    deliveries in flight that the platform never received."""

    accept: int
    platform: str = "fake"
    sent: list[Reply] = field(default_factory=list)

    async def run(self, hub: Hub) -> None:
        await asyncio.Event().wait()

    async def send(self, reply: Reply) -> Delivery:
        if len(self.sent) >= self.accept:
            await asyncio.Event().wait()
        self.sent.append(reply)
        return Delivery(Status.SENT, message_id=str(len(self.sent)))


def readers(replies: list[Reply]) -> Counter[str]:
    return Counter(r.to.user_id or r.to.chat_id or "" for r in replies if r.to is not None)


async def members_with_pledges(app: App, count: int, at: datetime) -> None:
    for index in range(count):
        await make_member(app, f"fake:{index}", f"Org {index}", ["WT1" if index % 2 else "WT3"], at=at)
        async with app.db.transaction() as session:
            (organisation,) = await organisations.same_name(session, f"Org {index}")
            for title in ("A", "B", "C"):
                await pledges.add_pledge(
                    session, organisation.id, title=f"{title}{index}", objectives=[index % 23 + 1],
                    description="", url=None, by=None, at=at,
                )


@pytest.mark.slow  # a crash mid-round; seconds on each database
async def test_a_restart_in_the_middle_of_a_round_sends_nothing_twice(database_url: str) -> None:
    clock = FakeClock(datetime(2027, 4, 1, 12, 0, tzinfo=UTC))
    first = App(make_settings(database_url), clock=clock)
    await first.start()
    stalling = StallingPlatform(accept=ORGANISATIONS // 3)
    first.add(stalling)
    try:
        await members_with_pledges(first, ORGANISATIONS, clock.now())
        async with first.db.transaction() as session:
            _round, asked = await start_round(session, clock.now(), "America/Bogota", "es", tables=None, by="fake:admin")
        assert asked == ORGANISATIONS
        sending = asyncio.create_task(first.sender.run_due())
        await asyncio.sleep(0.5)
        while len(stalling.sent) < stalling.accept:
            await asyncio.sleep(0.05)
        sending.cancel()  # the process dies with deliveries in flight
    finally:
        await first.close()

    async with restarted(database_url, clock) as (second, fake):
        await second.sender.recover()
        async with second.db.transaction() as session:
            _round, again = await start_round(session, clock.now(), "America/Bogota", "es", tables=None, by="fake:admin")
        assert again == 0
        await second.sender.run_due()
        clock.advance(timedelta(days=7, minutes=1))
        await second.sender.run_due()
    requests = [r for r in stalling.sent + fake.sent if "Ronda de informes" in r.html]
    chases = [r for r in fake.sent if "Recordatorio" in r.html]
    assert sorted(readers(requests).values()) == [1] * ORGANISATIONS, "each contact asked exactly once"
    assert sorted(readers(chases).values()) == [1] * ORGANISATIONS, "nobody answered: each chased once"


async def test_the_scheduled_month_opens_the_round(app: App, clock: FakeClock) -> None:
    """``/compromisos dia`` sets when; in April the reminder goes to the chats and the round's
    requests to the contacts with pledges (not the generic reminder too)."""
    fake = FakePlatform()
    app.add(fake)
    await make_member(app, "fake:ana", "Red Ana", ["WT3"], at=clock.now())
    await make_member(app, "fake:leo", "Red Leo", ["WT3"], at=clock.now())
    await make_secretary(app, "fake:sec", "WT3")
    async with app.db.transaction() as session:
        (organisation,) = await organisations.same_name(session, "Red Ana")
        await pledges.add_pledge(
            session, organisation.id, title="Albergues", objectives=[10], description="", url=None, by=None, at=clock.now()
        )
    await app.sender.recover()
    clock.current = datetime(2027, 4, 15, 15, 1, tzinfo=UTC)  # 10:00 in Bogotá, the default day
    await app.sender.run_due()
    ana, leo = fake.texts("user:ana"), fake.texts("user:leo")
    assert len(ana) == 1 and "Ronda de informes de compromisos 2027-04" in ana[0]
    assert len(leo) == 1 and "Ronda" not in leo[0]
    async with app.db.transaction() as session:
        found = await pledges.get_round(session, "2027-04")
    assert found is not None and not found.closed
    clock.current = datetime(2027, 5, 1, 5, 1, tzinfo=UTC)
    await app.sender.run_due()
    assert len(fake.texts("user:ana")) == 3  # the 7- and 14-day follow-ups
    assert any("2027-04" in text and "Red Ana" in text for text in fake.texts("user:sec"))


async def test_a_request_that_cannot_be_delivered_is_reported_to_the_admins(
    app: App, console: ConsoleAdapter, clock: FakeClock
) -> None:
    fake = FakePlatform()
    app.add(fake)
    fake.script["user:ana"] = [Delivery(Status.BLOCKED, error="Forbidden: bot was blocked by the user")]
    await make_member(app, "fake:ana", "Red Ana", ["WT3"], at=clock.now())
    async with app.db.transaction() as session:
        (organisation,) = await organisations.same_name(session, "Red Ana")
        await pledges.add_pledge(
            session, organisation.id, title="Albergues", objectives=[10], description="", url=None, by=None, at=clock.now()
        )
    replies = await console.ask("/compromisos pedir todo", user_id="admin")
    await app.sender.run_due()
    told = [r for r in replies if "No pude entregar" in r.html]
    assert fake.sent == []
    told += [r for r in await console.ask("/start", user_id="admin") if "No pude entregar" in r.html]
    assert len(told) == 1
    assert "la solicitud de informe de compromisos 2027-01 de Red Ana" in told[0].html
