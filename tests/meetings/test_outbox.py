"""The outbox with an injected clock: reminders at their offsets, once, per chat language and zone;
DST; recurrence; moves and cancellations; catch-up and missed; retries; broadcasts; pledges."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.base import Delivery, Status
from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.delivery import GroupWriter
from storage import chats
from storage.deliveries import DeliveryRecord, Notice
from storage.meetings import Meeting
from tests.conftest import FakeClock
from tests.meetings.conftest import FakePlatform, make_chat, make_member, make_secretary, text_of

START = datetime(2027, 2, 15, 20, 0, tzinfo=UTC)  # 15:00 in Bogota, 17:00 in Santiago (summer)
ADD = '/meeting add WT2 2027-02-15 15:00 America/Bogota "Quarterly meeting" https://meet.example.org/wt2'


@pytest.fixture
async def planned(app: App, console: ConsoleAdapter, fake: FakePlatform) -> None:
    """WT2's secretary planned a meeting; two groups follow WT2 (Spanish in Bogota, English in
    Santiago), one follows WT3 only."""
    await make_secretary(app, "console:sec", "WT2")
    await make_chat(app, "-1", tables=["WT2"], language="es", timezone="America/Bogota")
    await make_chat(app, "-2", tables=["WT2", "LT"], language="en", timezone="America/Santiago")
    await make_chat(app, "-3", tables=["WT3"], language="es")
    await console.ask(ADD, user_id="sec")


async def run_at(app: App, clock: FakeClock, when: datetime) -> datetime | None:
    clock.current = when
    return await app.sender.run_due()


async def rows(app: App) -> list[DeliveryRecord]:
    async with app.db.transaction() as session:
        return list(await session.scalars(select(DeliveryRecord).order_by(DeliveryRecord.id)))


async def test_reminders_fire_once_at_each_offset_in_each_chats_language_and_zone(
    app: App, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    assert await app.sender.run_due() == START - timedelta(days=7)
    assert await run_at(app, clock, START - timedelta(days=7, seconds=1)) == START - timedelta(days=7)
    assert fake.sent == []
    await run_at(app, clock, START - timedelta(days=7))
    [es] = fake.texts("-1")
    [en] = fake.texts("-2")
    assert "lunes, 15 de febrero de 2027, 15:00 (hora de Colombia)" in es and "7" in es
    assert "Reminder: Quarterly meeting (WT2) starts in 7 days." in en
    assert "Monday, February 15, 2027, 5:00\u202fPM (Chile Time)" in en and "https://meet.example.org/wt2" in en
    assert fake.texts("-3") == []
    await app.sender.run_due()
    await run_at(app, clock, START - timedelta(days=3))
    assert len(fake.sent) == 2
    await run_at(app, clock, START - timedelta(days=1))
    await run_at(app, clock, START - timedelta(hours=1))
    assert [t.split("\n")[0] for t in fake.texts("-2")] == [
        "⏰ Reminder: Quarterly meeting (WT2) starts in 7 days.",
        "⏰ Reminder: Quarterly meeting (WT2) starts in 1 day.",
        "⏰ Reminder: Quarterly meeting (WT2) starts in 1 hour.",
    ]
    assert await run_at(app, clock, START + timedelta(hours=1)) is None  # nothing else planned
    assert len(fake.sent) == 6 and all(r.status == "sent" for r in await rows(app) if r.platform == "fake")


async def test_local_times_are_right_on_both_sides_of_a_dst_change(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform
) -> None:
    await make_secretary(app, "console:sec", "WT1")
    await make_chat(app, "-10", tables=["WT1"], language="en", timezone="America/New_York")
    await make_chat(app, "-11", tables=["WT1"], language="es", timezone="America/Santiago")
    # 2027-03-20 15:00 in New York is after the change of 14 March (EDT, -4); Chile changes on 4 April
    await console.ask("/meeting add WT1 2027-03-20 15:00 America/New_York --remind 7d", user_id="sec")
    start = datetime(2027, 3, 20, 19, 0, tzinfo=UTC)
    await run_at(app, clock, start - timedelta(days=7))  # 13 March: still EST in New York
    [ny] = fake.texts("-10")
    [cl] = fake.texts("-11")
    assert "Saturday, March 20, 2027, 3:00\u202fPM (Eastern Time)" in ny
    assert "sábado, 20 de marzo de 2027, 16:00 (hora de Chile)" in cl


async def test_a_quarterly_series_keeps_its_local_time_across_dst(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform
) -> None:
    await make_secretary(app, "console:sec", "LT")
    await make_chat(app, "-20", tables=["LT"], language="es", timezone="America/Santiago")
    await console.ask("/reunion nueva LT 15/02/2027 15:00 America/Santiago Enlace --trimestral --recordar 1d", user_id="sec")
    expected = [
        datetime(2027, 2, 15, 18, 0, tzinfo=UTC),  # -03 (summer)
        datetime(2027, 5, 15, 19, 0, tzinfo=UTC),  # -04
        datetime(2027, 8, 15, 19, 0, tzinfo=UTC),  # -04
        datetime(2027, 11, 15, 18, 0, tzinfo=UTC),  # -03 again from 5 September
    ]
    for start in expected:
        await run_at(app, clock, start - timedelta(days=1))
        await run_at(app, clock, start)  # the occurrence starts: the next one is created
    async with app.db.transaction() as session:
        series = list(await session.scalars(select(Meeting).order_by(Meeting.occurrence)))
    assert [m.starts_at for m in series] == [*expected, datetime(2028, 2, 15, 18, 0, tzinfo=UTC)]
    assert {m.series_id for m in series} == {1} and [m.occurrence for m in series] == [0, 1, 2, 3, 4]
    # each occurrence's reminder went out the day before, saying 15:00 local time
    texts = fake.texts("-20")
    assert len(texts) == 4 and all("15:00 (hora de Chile)" in t for t in texts)
    listing = text_of(await console.ask("/reuniones LT", user_id="x"))
    assert "15 de febrero de 2028" in listing


async def test_a_move_is_announced_and_only_the_new_reminders_go_out(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    await run_at(app, clock, START - timedelta(days=7))
    clock.advance(timedelta(hours=1))
    await console.ask("/meeting move 1 2027-02-22 15:00", user_id="sec")
    await app.sender.run_due()
    change = fake.texts("-2")[-1]
    assert change.startswith("📅 Change: Quarterly meeting (WT2) has moved.")
    assert "Before: Monday, February 15, 2027, 5:00\u202fPM (Chile Time)" in change
    assert "Now: Monday, February 22, 2027, 5:00\u202fPM (Chile Time)" in change
    assert "lunes, 22 de febrero de 2027, 15:00" in fake.texts("-1")[-1]
    await run_at(app, clock, START - timedelta(hours=1))  # the old 1-hour reminder: not sent
    assert len(fake.texts("-1")) == 2
    new_start = START + timedelta(days=7)
    for offset in (timedelta(days=7), timedelta(days=1), timedelta(hours=1)):
        await run_at(app, clock, new_start - offset)
    assert len(fake.texts("-1")) == 5 and "empieza en 1 hora" in fake.texts("-1")[-1]


async def test_a_cancellation_is_announced_and_stops_reminders_even_half_sent(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    fake.script["-2"].append(Delivery(Status.RETRY, error="network down"))
    await run_at(app, clock, START - timedelta(days=7))
    assert len(fake.texts("-1")) == 1 and fake.texts("-2") == []
    clock.advance(timedelta(minutes=5))
    await console.ask("/meeting cancel 1", user_id="sec")
    await app.sender.run_due()
    assert fake.texts("-1")[-1].startswith("❌ Cancelada: Quarterly meeting (WT2)")
    [cancellation] = fake.texts("-2")
    assert "will not take place" in cancellation and "Monday, February 15, 2027" in cancellation
    for when in (START - timedelta(days=1), START - timedelta(hours=1)):
        await run_at(app, clock, when)
    assert len(fake.texts("-1")) == 2 and len(fake.texts("-2")) == 1
    statuses = sorted(r.status for r in await rows(app))
    assert statuses == ["cancelled", "sent", "sent", "sent"]


async def test_after_downtime_late_reminders_within_the_grace_are_sent(
    app: App, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    await run_at(app, clock, START - timedelta(days=1, hours=-5))  # down for 5 h past the 1-day reminder
    assert [t.split("\n")[0] for t in fake.texts("-2")] == ["⏰ Reminder: Quarterly meeting (WT2) starts in 19 hours."]


async def test_after_long_downtime_reminders_are_missed_and_the_secretary_told_once(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    await run_at(app, clock, START - timedelta(days=7, hours=-7))  # 7 h late > 6 h grace
    await app.sender.run_due()
    assert fake.sent == []
    output = console.output.getvalue()  # type: ignore[attr-defined]
    assert output.count("No enviado a tiempo") == 1
    assert "el recordatorio 7 días antes de «Quarterly meeting» (WT2" in output and "nadie lo recibió" in output
    async with app.db.transaction() as session:
        statuses = {(n.kind, n.status) for n in await session.scalars(select(Notice))}
    assert ("reminder", "missed") in statuses and ("missed", "expanded") in statuses
    await run_at(app, clock, START - timedelta(days=1))
    assert len(fake.texts("-1")) == 1  # the next reminder is on time


async def test_a_reminder_never_goes_out_after_the_meeting_started(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    await run_at(app, clock, START + timedelta(minutes=10))  # the 1-hour reminder: 70 min late, meeting on
    assert fake.sent == []
    assert "el recordatorio 1 hora antes" in console.output.getvalue()  # type: ignore[attr-defined]


async def test_transient_failures_are_retried_after_retry_after_and_pause_the_platform(
    app: App, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    app.sender.concurrency["fake"] = 1
    fake.script["-1"].append(Delivery(Status.RETRY, retry_after=30, error="Too Many Requests"))
    due = START - timedelta(days=7)
    next_due = await run_at(app, clock, due)
    assert fake.texts("-1") == [] and next_due == due + timedelta(seconds=30)
    assert len(fake.texts("-2")) in (0, 1)  # paused right after the 429 unless sent first
    await run_at(app, clock, due + timedelta(seconds=30))
    assert len(fake.texts("-1")) == 1 and len(fake.texts("-2")) == 1 and fake.attempts["-1"] == 2
    await app.sender.run_due()
    assert len(fake.sent) == 2


async def test_blocked_and_failed_chats(app: App, clock: FakeClock, fake: FakePlatform, planned: None) -> None:
    fake.script["-1"].append(Delivery(Status.BLOCKED, error="Forbidden: bot was kicked"))
    fake.script["-2"].append(Delivery(Status.FAILED, error="Bad Request"))
    await run_at(app, clock, START - timedelta(days=7))
    await run_at(app, clock, START - timedelta(days=1))
    assert fake.attempts["-1"] == 1  # inactive now: the second reminder is not even tried
    assert fake.attempts["-2"] == 2 and len(fake.texts("-2")) == 1
    async with app.db.transaction() as session:
        chat = await chats.get_chat(session, "fake", "-1")
    assert chat is not None and not chat.active
    assert sorted(r.status for r in await rows(app)) == ["blocked", "blocked", "failed", "sent"]


async def test_deliveries_in_flight_at_a_crash_are_sent_again(
    app: App, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    del app.adapters["fake"]  # expand, but send nothing: then pretend we died mid-send
    await run_at(app, clock, START - timedelta(days=7))
    app.add(fake)
    async with app.db.transaction() as session:
        await session.execute(update(DeliveryRecord).values(status="sending", attempts=1))
    assert await app.sender.recover() == 2
    await app.sender.run_due()
    assert len(fake.texts("-1")) == 1 and len(fake.texts("-2")) == 1
    assert {r.attempts for r in await rows(app)} == {2}


async def test_an_unavailable_platform_keeps_its_deliveries_waiting(
    app: App, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    await make_chat(app, "!room:example.org", tables=["WT2"], platform="matrix")
    next_due = await run_at(app, clock, START - timedelta(days=7))
    assert next_due == START - timedelta(days=1)  # not the waiting Matrix delivery
    [waiting] = [r for r in await rows(app) if r.platform == "matrix"]
    assert waiting.status == "pending" and waiting.attempts == 0


async def test_broadcast_preview_confirm_delivery_and_report(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    await make_member(app, "fake:501", "Org A", ["WT2"], language="en", at=clock.now())
    await make_member(app, "fake:502", "Org B", ["WT2", "WT3"], language="es", at=clock.now())
    await make_member(app, "fake:503", "Org C", ["WT1"], at=clock.now())
    async with app.db.transaction() as session:  # Org B's contact talks to the bot in "-3"... and privately
        await chats.record_user(session, "fake", "502", username=None, name="B", language="es", private_chat_id="502")
    fake.script["-3"].append(Delivery(Status.BLOCKED, error="kicked"))
    [preview] = await console.ask("/broadcast WT2 Please send your <b>inputs</b> by Friday", user_id="sec")
    text = text_of([preview])
    assert "2 chats and 2 member contacts" in text and "Please send your <b>inputs</b> by Friday" in text
    assert "&lt;b&gt;" in preview.html
    [[send, discard]] = preview.buttons
    assert send.command.startswith("/broadcast confirm ") and discard.command.startswith("/broadcast cancel ")
    assert "Sending broadcast" in text_of(await console.ask(send.command, user_id="sec"))
    assert "already" in text_of(await console.ask(send.command, user_id="sec"))
    await app.sender.run_due()
    assert len(fake.texts("-1")) == 1 and len(fake.texts("-2")) == 1
    assert len(fake.texts("user:501")) == 1 and len(fake.texts("502")) == 1
    assert fake.texts("user:503") == [] and fake.texts("-3") == []
    assert fake.texts("502")[0].startswith("📢 Mensaje de la secretaría de WT2")  # the contact's language
    assert fake.texts("user:501")[0].startswith("📢 Message from the secretariat of WT2")
    report = console.output.getvalue()  # type: ignore[attr-defined]
    assert report.count("terminada: 4 entregados, 0 fallidos, 0 bloqueados (de 4)") == 1
    await app.sender.run_due()
    assert len(fake.sent) == 4 and console.output.getvalue().count("terminada") == 1  # type: ignore[attr-defined]


async def test_broadcast_to_everyone_needs_an_admin_and_reaches_every_chat_and_contact(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    await make_member(app, "fake:503", "Org C", ["WT1"], at=clock.now())
    assert "solo una persona administradora" in text_of(await console.ask("/difundir todas Hola", user_id="sec"))
    [preview] = await console.ask("/difundir todas Asamblea general el lunes", user_id="admin")
    assert "a todas las mesas: la recibirán 3 chats y 1 contacto de organización miembro" in text_of([preview])
    [[send, _discard]] = preview.buttons
    assert send.command.startswith("/difundir confirmar ")
    await console.ask(send.command, user_id="admin")
    await app.sender.run_due()
    assert {key: len(fake.texts(key)) for key in ("-1", "-2", "-3", "user:503")} == {"-1": 1, "-2": 1, "-3": 1, "user:503": 1}


async def test_a_discarded_broadcast_is_never_sent(
    app: App, console: ConsoleAdapter, fake: FakePlatform, planned: None
) -> None:
    [preview] = await console.ask("/broadcast WT2 oops", user_id="sec")
    [[send, discard]] = preview.buttons
    assert "discarded" in text_of(await console.ask(discard.command, user_id="sec"))
    assert "discarded" in text_of(await console.ask(send.command, user_id="sec"))
    await make_secretary(app, "console:sec2", "WT2")
    assert "Only who wrote" in text_of(await console.ask(send.command, user_id="sec2"))
    await app.sender.run_due()
    assert fake.sent == []


async def test_pledge_reminders_reach_chats_and_member_contacts_once_per_quarter(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    await make_member(app, "fake:501", "Org A", ["WT1"], language="en", at=clock.now())
    await make_member(app, "fake:502", "Org B", ["WT2"], language="es", at=clock.now())
    async with app.db.transaction() as session:
        await chats.record_user(session, "fake", "502", username=None, name="B", language="es", private_chat_id="-1")
    await app.sender.recover()
    april = datetime(2027, 4, 15, 15, 0, tzinfo=UTC)  # 10:00 in Bogota
    await run_at(app, clock, april - timedelta(seconds=1))
    assert fake.sent == []
    next_due = await run_at(app, clock, april)
    assert next_due == april + timedelta(days=7)  # the round's first follow-up (see tests/pledges)
    received = {key: fake.texts(key) for key in ("-1", "-2", "-3", "user:501", "502")}
    assert {key: len(texts) for key, texts in received.items()} == {"-1": 1, "-2": 1, "-3": 1, "user:501": 1, "502": 0}
    assert received["-1"][0].startswith("Informe de compromisos: abril de 2027")  # 502's private chat is "-1"
    assert received["-2"][0].startswith("Pledge reporting: April 2027")
    assert all("https://migrationnetwork.un.org" in texts[0] for texts in received.values() if texts)
    await app.sender.recover()  # a restart plans nothing twice
    await run_at(app, clock, datetime(2027, 6, 15, 15, 0, tzinfo=UTC))
    assert len(fake.texts("user:501")) == 2 and "June 2027" in fake.texts("user:501")[-1]


async def test_the_scheduler_wakes_the_sender_at_the_next_due_time(
    app: App, clock: FakeClock, fake: FakePlatform, planned: None
) -> None:
    clock.current = START - timedelta(days=7, seconds=-1)  # the 7-day reminder fell due while "down"
    sent = asyncio.Event()
    original = fake.send

    async def send(reply):  # type: ignore[no-untyped-def]
        result = await original(reply)
        if len(fake.sent) == 2:
            sent.set()
        return result

    fake.send = send  # type: ignore[method-assign]
    await app.scheduler.start()
    try:
        await asyncio.wait_for(sent.wait(), 5)
        await asyncio.sleep(0)
        for _ in range(50):
            if app.scheduler.next_due == START - timedelta(days=1):
                break
            await asyncio.sleep(0.01)
        assert app.scheduler.next_due == START - timedelta(days=1)
        job = app.scheduler._apscheduler.get_job("outbox-wake")  # type: ignore[union-attr]
        expected = datetime.now(UTC) + (START - timedelta(days=1) - clock.now())
        assert abs((job.next_run_time - expected).total_seconds()) < 2
    finally:
        await app.scheduler.stop()
    assert len(fake.sent) == 2 and not app.scheduler.running


async def test_writes_waiting_together_commit_together(app: App) -> None:
    writer = GroupWriter(app.db)
    transactions = 0
    original = app.db.transaction

    @asynccontextmanager
    async def counted() -> AsyncIterator[AsyncSession]:
        nonlocal transactions
        transactions += 1
        async with original() as session:
            yield session

    app.db.transaction = counted  # type: ignore[method-assign]

    async def value(n: int, session: AsyncSession) -> int:
        await session.execute(select(1))
        return n

    results = await asyncio.gather(*(writer.run(partial(value, n)) for n in range(20)))
    assert results == list(range(20)) and transactions == 2  # the first alone, then the 19 that queued

    async def boom(session: AsyncSession) -> int:
        raise RuntimeError("database gone")

    outcomes = await asyncio.gather(
        writer.run(partial(value, 1)), writer.run(boom), writer.run(partial(value, 2)), return_exceptions=True
    )
    assert outcomes[0] == 1 and all(isinstance(o, RuntimeError) for o in outcomes[1:])  # one group, one fate
    assert await writer.run(partial(value, 3)) == 3
