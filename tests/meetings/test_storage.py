"""The outbox, meetings and subscriptions tables on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from handlers.notices import always_done
from storage import deliveries, subscriptions
from storage.db import Database
from storage.deliveries import Recipient
from storage.meetings import CANCELLED, Meeting, add_meeting, occurrence, upcoming

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
GRACE = timedelta(hours=6)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


def meeting(**fields: object) -> Meeting:
    values: dict[str, object] = {
        "table_code": "WT2", "starts_at": NOW + timedelta(days=30), "timezone": "America/Bogota",
        "offsets": [86400], "quarterly": False, "occurrence": 0, "status": "scheduled", "revision": 0,
        "created_by": "console:sec", "created_at": NOW, "updated_at": NOW,
    }
    values.update(fields)
    return Meeting(**values)


async def test_a_notice_is_planned_once_and_a_cancelled_one_again(db: Database) -> None:
    async with db.transaction() as session:
        first = await deliveries.ensure_notice(session, key="reminder:1:x:60", kind="reminder", due_at=NOW)
        again = await deliveries.ensure_notice(session, key="reminder:1:x:60", kind="reminder", due_at=NOW)
        assert first is not None and again is None
        first.status = deliveries.CANCELLED
        await session.flush()
        revived = await deliveries.ensure_notice(
            session, key="reminder:1:x:60", kind="reminder", due_at=NOW + timedelta(hours=1)
        )
        assert revived is not None and revived.id == first.id and revived.status == deliveries.PENDING
    async with db.transaction() as session:
        assert await deliveries.next_notice_due(session) == NOW + timedelta(hours=1)


async def test_one_delivery_per_notice_and_recipient(db: Database) -> None:
    people = [Recipient("telegram", chat_id="-1"), Recipient("telegram", chat_id="-2"), Recipient("telegram", user_id="9")]
    async with db.transaction() as session:
        notice = await deliveries.ensure_notice(session, key="broadcast:a", kind="broadcast", due_at=NOW)
        assert notice is not None
        added = await deliveries.add_deliveries(session, notice.id, [*people, people[0]], NOW, inactive={people[1].key})
        assert added == 3
        assert await deliveries.add_deliveries(session, notice.id, people, NOW) == 0
        assert await deliveries.status_counts(session, notice.id) == {"pending": 2, "blocked": 1}
    async with db.transaction() as session:
        with pytest.raises(IntegrityError):
            session.add(deliveries.DeliveryRecord(
                notice_id=notice.id, recipient=people[0].key, platform="telegram", status="pending",
                attempts=0, next_attempt_at=NOW, error="",
            ))
            await session.flush()


async def test_a_claim_is_won_once_even_concurrently(db: Database) -> None:
    async with db.transaction() as session:
        notice = await deliveries.ensure_notice(session, key="broadcast:b", kind="broadcast", due_at=NOW)
        assert notice is not None
        await deliveries.add_deliveries(session, notice.id, [Recipient("telegram", chat_id="-1")], NOW)
        [row] = await deliveries.due_deliveries(session, NOW, ["telegram"], 10)

    async def claim() -> bool:
        async with db.transaction() as session:
            return await deliveries.claim(session, row.id, NOW)

    assert sorted(await asyncio.gather(*(claim() for _ in range(4)))) == [False, False, False, True]
    async with db.transaction() as session:
        assert await deliveries.due_deliveries(session, NOW, ["telegram"], 10) == []
        requeued = await deliveries.requeue_in_flight(session, NOW)
        assert [r.id for r in requeued] == [row.id]
    async with db.transaction() as session:
        [again] = await deliveries.due_deliveries(session, NOW, ["telegram"], 10)
        assert again.status == deliveries.RETRY and again.attempts == 1
        await deliveries.claim(session, row.id, NOW)
        await deliveries.finish(session, row.id, deliveries.SENT, sent_at=NOW, message_id="5")
        assert not await deliveries.claim(session, row.id, NOW)
        assert await deliveries.next_delivery_due(session, "telegram") is None


async def test_what_is_too_late_is_given_up(db: Database) -> None:
    async with db.transaction() as session:
        late = await deliveries.ensure_notice(session, key="pledge:2027-01", kind="pledge", due_at=NOW - timedelta(hours=7))
        fresh = await deliveries.ensure_notice(session, key="pledge:2027-02", kind="pledge", due_at=NOW - timedelta(hours=5))
        started = await deliveries.ensure_notice(
            session, key="reminder:9", kind="reminder", due_at=NOW - timedelta(hours=1), expires_at=NOW
        )
        recur = await deliveries.ensure_notice(session, key="recur:9", kind="recur", due_at=NOW - timedelta(days=30))
        sent = await deliveries.ensure_notice(session, key="broadcast:c", kind="broadcast", due_at=NOW - timedelta(hours=8))
        assert late and fresh and started and recur and sent
        sent.status = deliveries.EXPANDED
        await deliveries.add_deliveries(
            session, sent.id, [Recipient("matrix", chat_id="!a:x"), Recipient("matrix", chat_id="!b:x")], sent.due_at or NOW
        )
        [first, _second] = await deliveries.due_deliveries(session, NOW, ["matrix"], 10)
        await deliveries.claim(session, first.id, NOW)
        await deliveries.finish(session, first.id, deliveries.SENT, sent_at=NOW)
    async with db.transaction() as session:
        missed = await deliveries.expire(session, NOW, GRACE, keep=always_done())
        assert sorted((n.key, count) for n, count in missed) == [
            ("broadcast:c", 1), ("pledge:2027-01", None), ("reminder:9", None)
        ]
    async with db.transaction() as session:
        assert await deliveries.expire(session, NOW, GRACE, keep=always_done()) == []
        assert await deliveries.status_counts(session, sent.id) == {"sent": 1, "missed": 1}
        assert {n.key for n in await deliveries.due_notices(session, NOW)} == {"pledge:2027-02", "recur:9"}


async def test_a_finished_broadcast_is_reported_once(db: Database) -> None:
    async with db.transaction() as session:
        notice = await deliveries.ensure_notice(
            session, key="broadcast:d", kind="broadcast", due_at=NOW, status=deliveries.DRAFT
        )
        assert notice is not None
        assert not await deliveries.set_status_if(session, notice.id, deliveries.PENDING, deliveries.EXPANDED)
        assert await deliveries.set_status_if(session, notice.id, deliveries.DRAFT, deliveries.PENDING)
        assert await deliveries.set_status_if(session, notice.id, deliveries.PENDING, deliveries.EXPANDED)
        await deliveries.add_deliveries(session, notice.id, [Recipient("telegram", chat_id="-1")], NOW)
        assert await deliveries.finished_unreported(session, ["broadcast"]) == []
        [row] = await deliveries.due_deliveries(session, NOW, ["telegram"], 10)
        await deliveries.finish(session, row.id, deliveries.BLOCKED, error="kicked")
        assert [n.id for n in await deliveries.finished_unreported(session, ["broadcast"])] == [notice.id]
        assert await deliveries.mark_reported(session, notice.id)
        assert not await deliveries.mark_reported(session, notice.id)
        assert await deliveries.finished_unreported(session, ["broadcast"]) == []


async def test_cancelling_a_meetings_notices(db: Database) -> None:
    async with db.transaction() as session:
        planned = await add_meeting(session, meeting())
        due = await deliveries.ensure_notice(session, key="r:due", kind="reminder", due_at=NOW, meeting_id=planned.id)
        later = await deliveries.ensure_notice(
            session, key="r:later", kind="reminder", due_at=NOW + timedelta(days=1), meeting_id=planned.id
        )
        assert due and later
        due.status = deliveries.EXPANDED
        await deliveries.add_deliveries(
            session, due.id, [Recipient("telegram", chat_id="-1"), Recipient("telegram", chat_id="-2")], NOW
        )
        [first, _] = await deliveries.due_deliveries(session, NOW, ["telegram"], 10)
        await deliveries.claim(session, first.id, NOW)  # in flight: cannot be recalled
        await deliveries.cancel_meeting_notices(session, planned.id, ["reminder"], with_deliveries=False)
        assert len(await deliveries.due_deliveries(session, NOW, ["telegram"], 10)) == 1
        await deliveries.cancel_meeting_notices(session, planned.id, ["reminder"], with_deliveries=True)
        assert await deliveries.due_deliveries(session, NOW, ["telegram"], 10) == []
        assert await deliveries.status_counts(session, due.id) == {"sending": 1, "cancelled": 1}
        assert await deliveries.next_notice_due(session) is None


async def test_meetings_upcoming_and_series(db: Database) -> None:
    async with db.transaction() as session:
        first = await add_meeting(session, meeting(quarterly=True, anchor="2027-02-09T07:00"))
        assert first.series_id == first.id
        await add_meeting(session, meeting(table_code="LT", starts_at=NOW + timedelta(days=2)))
        await add_meeting(session, meeting(starts_at=NOW - timedelta(days=1)))
        await add_meeting(session, meeting(starts_at=NOW + timedelta(days=3), status=CANCELLED))
        assert [m.table_code for m in await upcoming(session, NOW)] == ["LT", "WT2"]
        assert len(await upcoming(session, NOW, ["WT2"], with_cancelled=True)) == 2
        assert await occurrence(session, first.id, 0) is first
    async with db.transaction() as session:
        with pytest.raises(IntegrityError):
            await add_meeting(session, meeting(series_id=first.id, occurrence=0))


async def test_subscriptions(db: Database) -> None:
    async with db.transaction() as session:
        assert await subscriptions.subscribe(session, "telegram", "-1", "WT2", "telegram:1")
        assert not await subscriptions.subscribe(session, "telegram", "-1", "WT2", "telegram:1")
        assert await subscriptions.subscribe(session, "telegram", "-1", "LT", "telegram:1")
        assert await subscriptions.subscribe(session, "matrix", "!r:x", "WT2", "matrix:@a:x")
        assert await subscriptions.chat_tables(session, "telegram", "-1") == ["LT", "WT2"]
        assert await subscriptions.subscribed_chats(session, ["WT2", "LT"]) == [("matrix", "!r:x"), ("telegram", "-1")]
        assert await subscriptions.subscribed_chats(session, ["WT4"]) == []
        assert await subscriptions.unsubscribe(session, "telegram", "-1", "LT")
        assert not await subscriptions.unsubscribe(session, "telegram", "-1", "LT")
        assert len(await subscriptions.subscribed_chats(session)) == 2
