"""Secretaries plan meetings, everyone sees them: through the console, in both languages; bad
input gets a clear answer and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from storage import audit
from storage.deliveries import DeliveryRecord, Notice
from storage.meetings import Meeting
from tests.conftest import FakeClock
from tests.meetings.conftest import count, in_group, make_chat, make_member, make_secretary, text_of

ADD = '/meeting add WT2 2027-02-15 15:00 America/Bogota "Quarterly meeting" https://meet.example.org/wt2'


async def notices(app: App) -> list[Notice]:
    async with app.db.transaction() as session:
        return list(await session.scalars(select(Notice).order_by(Notice.due_at, Notice.id)))


async def meetings(app: App) -> list[Meeting]:
    async with app.db.transaction() as session:
        return list(await session.scalars(select(Meeting).order_by(Meeting.id)))


@pytest.fixture
async def secretary(app: App) -> str:
    await make_secretary(app, "console:sec", "WT2")
    return "sec"


async def test_a_secretary_plans_a_meeting_and_its_three_reminders(
    app: App, console: ConsoleAdapter, secretary: str
) -> None:
    text = text_of(await console.ask(ADD, user_id=secretary))
    assert "Meeting #1 saved" in text and "Quarterly meeting · WT2" in text
    assert "Monday, February 15, 2027, 3:00\u202fPM (Colombia Time)" in text
    [meeting] = await meetings(app)
    start = datetime(2027, 2, 15, 20, 0, tzinfo=UTC)
    assert (meeting.table_code, meeting.starts_at, meeting.timezone) == ("WT2", start, "America/Bogota")
    assert (meeting.title, meeting.url, meeting.created_by) == ("Quarterly meeting", "https://meet.example.org/wt2", "console:sec")
    reminders = [n for n in await notices(app) if n.kind == "reminder"]
    assert [start - n.due_at for n in reminders] == [timedelta(days=7), timedelta(days=1), timedelta(hours=1)]
    assert all(n.expires_at == start and n.owner == "console:sec" for n in reminders)
    async with app.db.transaction() as session:
        [entry] = await audit.recent(session, contains="meeting.add")
    assert entry.actor == "console:sec" and entry.subject == "meeting:1"


async def test_spanish_names_words_and_day_first_dates(app: App, console: ConsoleAdapter, secretary: str) -> None:
    text = text_of(await console.ask("/reunion nueva WT2 15/02/2027 15:00 “Reunión trimestral” --trimestral", user_id=secretary))
    assert "Reunión n.º 1 guardada" in text and "lunes, 15 de febrero de 2027, 15:00 (hora de Colombia)" in text
    text = text_of(await console.ask("/meeting nueva LT 16/02/2027 9:00", user_id="admin"))
    assert "Meeting #2 saved" in text
    text = text_of(await console.ask("/reunion add WT2 2027-03-01 10:00 America/Santiago --remind 3d,2h", user_id=secretary))
    assert "Reunión n.º 3 guardada" in text
    first, second, third = await meetings(app)
    assert first.title == "Reunión trimestral" and first.quarterly and first.anchor == "2027-02-15T15:00"
    assert second.table_code == "LT" and second.title is None and second.timezone == "America/Bogota"
    assert third.timezone == "America/Santiago" and third.offsets == [3 * 86400, 7200]
    assert third.starts_at == datetime(2027, 3, 1, 13, 0, tzinfo=UTC)  # 10:00 at -03 (Chilean summer time)


async def test_without_a_zone_the_chats_zone_is_used(app: App, console: ConsoleAdapter, secretary: str) -> None:
    await console.ask("/zona America/Santiago", user_id=secretary)
    await console.ask("/meeting add WT2 2027-07-15 15:00", user_id=secretary)
    [meeting] = await meetings(app)
    assert meeting.timezone == "America/Santiago"
    assert meeting.starts_at == datetime(2027, 7, 15, 19, 0, tzinfo=UTC)  # -04 in the southern winter


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/meeting add WT2 2026-12-01 15:00", "in the past"),
        ("/meeting add WT2 2027-01-10 06:59", "in the past"),  # a minute ago in Bogota
        ("/meeting add WT2 31/02/2027 15:00", "February 2027 has 28 days"),
        ("/meeting add WT2 2027-02-15 25:00", "24-hour clock"),
        ("/meeting add WT2 2027-02-15 15:00 Mars/Olympus", "time zone “Mars/Olympus”"),
        ("/meeting add WT2 2027-03-14 02:30 America/New_York", "does not exist"),
        ("/meeting add WT9 2027-02-15 15:00", "I don't know the table “WT9”"),
        ("/meeting add WT2 2027-02-15", "date and the time"),
        ('/meeting add WT2 2027-02-15 15:00 "unclosed', "quotation mark"),
        ("/meeting add WT2 2027-02-15 15:00 --weekly", "option --weekly"),
        ("/meeting add WT2 2027-02-15 15:00 --remind 90d", "at most"),
        ("/meeting move 99 2027-02-20 15:00", "no meeting #99"),
        ("/meeting cancel abc", "meeting's number"),
        ("/meeting remind 99 3d", "no meeting #99"),
    ],
)
async def test_bad_input_is_explained_and_nothing_is_stored(
    app: App, console: ConsoleAdapter, secretary: str, command: str, expected: str
) -> None:
    text = text_of(await console.ask(command, user_id=secretary))
    assert expected in text
    assert await count(app, Meeting) == 0
    assert await count(app, Notice) == 0


@pytest.mark.parametrize(
    "command",
    [ADD, "/meeting add WT1 2027-02-15 15:00", "/meeting move 1 2027-02-20 15:00", "/meeting cancel 1",
     "/meeting remind 1 3d", "/broadcast WT2 hola", "/broadcast all hola", "/pledges day 3 10:00"],
)
async def test_someone_without_the_role_is_refused_every_time(
    app: App, console: ConsoleAdapter, secretary: str, command: str
) -> None:
    await console.ask(ADD, user_id=secretary)
    before = (await count(app, Meeting), await count(app, Notice))
    await make_secretary(app, "console:other", "WT1")
    for user in ("stranger", "other"):
        if command.startswith("/meeting add WT1") and user == "other":
            continue
        text = text_of(await console.ask(command, user_id=user))
        assert "only an administrator or the table's secretary" in text, (user, text)
    assert (await count(app, Meeting), await count(app, Notice)) == before
    [meeting] = await meetings(app)
    assert meeting.status == "scheduled" and meeting.starts_at == datetime(2027, 2, 15, 20, 0, tzinfo=UTC)


async def test_list_move_cancel_and_remind(app: App, console: ConsoleAdapter, secretary: str) -> None:
    await console.ask(ADD + " --quarterly", user_id=secretary)
    listing = text_of(await console.ask("/meeting list", user_id=secretary))
    assert "#1 Quarterly meeting · WT2" in listing and "7d 1d 1h" in listing and "repeats every quarter" in listing

    moved = text_of(await console.ask("/meeting move 1 2027-02-22 16:00", user_id=secretary))
    assert "moved" in moved and "Before: Monday, February 15, 2027, 3:00\u202fPM" in moved
    kinds = {(n.kind, n.status) for n in await notices(app)}
    assert ("change", "pending") in kinds
    reminders = [n for n in await notices(app) if n.kind == "reminder"]
    assert sorted(n.status for n in reminders) == ["cancelled"] * 3 + ["pending"] * 3
    new_start = datetime(2027, 2, 22, 21, 0, tzinfo=UTC)
    assert {n.due_at for n in reminders if n.status == "pending"} == {
        new_start - timedelta(days=7), new_start - timedelta(days=1), new_start - timedelta(hours=1)
    }

    changed = text_of(await console.ask("/meeting remind 1 2d 30m", user_id=secretary))
    assert "2 days, 30 minutes" in changed
    pending = sorted(n.due_at for n in await notices(app) if n.kind == "reminder" and n.status == "pending")
    assert pending == [new_start - timedelta(days=2), new_start - timedelta(minutes=30)]

    cancelled = text_of(await console.ask("/meeting cancel 1", user_id=secretary))
    assert "cancelled" in cancelled and "series goes on" in cancelled
    statuses = {(n.kind, n.status) for n in await notices(app)}
    assert ("reminder", "pending") not in statuses and ("cancellation", "pending") in statuses
    assert ("recur", "pending") in statuses  # the next quarter still happens
    again = text_of(await console.ask("/meeting move 1 2027-02-23 16:00", user_id=secretary))
    assert "is cancelled" in again


async def test_cancelling_the_whole_series(app: App, console: ConsoleAdapter, secretary: str) -> None:
    await console.ask(ADD + " --trimestral", user_id=secretary)
    text = text_of(await console.ask("/reunion cancelar 1 todas", user_id=secretary))
    assert "La serie trimestral termina aquí" in text
    [meeting] = await meetings(app)
    assert not meeting.quarterly and meeting.status == "cancelled"
    assert ("recur", "cancelled") in {(n.kind, n.status) for n in await notices(app)}


async def test_next_meetings_of_my_tables(app: App, console: ConsoleAdapter, secretary: str, clock: FakeClock) -> None:
    await make_secretary(app, "console:sec", "WT3")
    await console.ask(ADD, user_id=secretary)
    await console.ask('/meeting add WT3 2027-02-20 10:00 "Mesa 3"', user_id=secretary)
    everyone = text_of(await console.ask("/meetings", user_id="member"))
    assert "Quarterly meeting" in everyone and "Mesa 3" in everyone
    # a member of WT3's organisation sees WT3's meetings only
    await make_member(app, "console:member", "Org Tres", ["WT3"], at=clock.now())
    mine = text_of(await console.ask("/next", user_id="member"))
    assert "Mesa 3" in mine and "Quarterly meeting" not in mine
    # a chat subscribed to WT2 sees WT2's
    await console.ask("/subscribe WT2", user_id="other")
    theirs = text_of(await console.ask("/proxima", user_id="other"))
    assert "Quarterly meeting" in theirs and "Mesa 3" not in theirs
    assert "No meeting of WT1" in text_of(await console.ask("/next WT1", user_id="other"))


async def test_free_text_about_meetings_answers_with_the_next_ones_and_the_cadence(
    app: App, console: ConsoleAdapter, secretary: str
) -> None:
    await console.ask(ADD, user_id=secretary)
    [reply] = await console.ask("¿cuándo se reúne la mesa de trabajo 2?", user_id="member")
    assert reply.answer is not None and reply.answer.intent == "meetings"
    text = text_of([reply])
    assert "Quarterly meeting" in text and "15 de febrero de 2027" in text
    assert "febrero" in text and "mayo" in text  # the quarterly cadence


async def test_calendar_file(app: App, console: ConsoleAdapter, secretary: str, clock: FakeClock) -> None:
    await console.ask(ADD, user_id=secretary)
    await console.ask("/meeting add WT2 2027-07-15 15:00 America/Santiago Winter", user_id=secretary)
    await console.ask("/meeting cancel 2", user_id=secretary)
    await console.ask("/subscribe WT2", user_id="member")
    [reply] = await console.ask("/calendar", user_id="member")
    assert reply.attachment is not None and reply.attachment.mimetype == "text/calendar"
    calendar = Calendar.from_ical(reply.attachment.content)
    events = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["meeting-1@gcmbot", "meeting-2@gcmbot"]
    first, second = events
    assert first.decoded("DTSTART") == datetime(2027, 2, 15, 20, 0, tzinfo=UTC)
    assert first["DTSTART"].params["TZID"] == "America/Bogota"
    assert str(first["SUMMARY"]) == "WT2: Quarterly meeting" and str(first["URL"]) == "https://meet.example.org/wt2"
    assert first.decoded("DTSTAMP") == clock.now() and str(first["STATUS"]) == "CONFIRMED"
    assert str(second["STATUS"]) == "CANCELLED" and int(second["SEQUENCE"]) == 1
    assert second["DTSTART"].params["TZID"] == "America/Santiago"
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {"America/Bogota", "America/Santiago"}


async def test_subscriptions_in_groups_need_the_tables_secretary(app: App, console: ConsoleAdapter) -> None:
    await make_secretary(app, "fake:sec", "WT2")
    refused = text_of(await in_group(app, "-100", "member", "/subscribe WT2"))
    assert "only an administrator or the table's secretary" in refused
    assert "Listo" in text_of(await in_group(app, "-100", "sec", "/suscribir mesa 2"))
    assert "already" in text_of(await in_group(app, "-100", "sec", "/subscribe WT2"))
    listing = text_of(await in_group(app, "-100", "member", "/unsubscribe"))
    assert "WT2" in listing
    assert "only" in text_of(await in_group(app, "-100", "member", "/unsubscribe WT2"))
    assert "ya no recibirá" in text_of(await in_group(app, "-100", "sec", "/desuscribir WT2"))
    assert "no recibía" in text_of(await in_group(app, "-100", "sec", "/desuscribir WT2"))
    # in private, anyone follows a table for themselves
    assert "Done" in text_of(await console.ask("/subscribe LT", user_id="member"))
    assert "I don't know the table" in text_of(await console.ask("/subscribe WT7", user_id="member"))


async def test_time_zone_of_a_chat(app: App, console: ConsoleAdapter) -> None:
    text = text_of(await console.ask("/timezone", user_id="ana"))
    assert "America/Bogota" in text
    text = text_of(await console.ask("/zona santiago", user_id="ana"))
    assert "America/Santiago" in text
    assert (await app.services.chats.chat_info(console.message("", "ana").chat)).timezone == "America/Santiago"
    text = text_of(await console.ask("/zona America/Bogata", user_id="ana"))
    assert "¿Quisiste decir America/Bogota" in text
    assert (await app.services.chats.chat_info(console.message("", "ana").chat)).timezone == "America/Santiago"


async def test_pledge_reminder_schedule(app: App, console: ConsoleAdapter, clock: FakeClock) -> None:
    text = text_of(await console.ask("/pledges", user_id="ana"))
    assert "April, June, September, and December" in text
    assert "Thursday, April 15, 2027, 10:00\u202fAM" in text
    refused = text_of(await console.ask("/pledges day 3 09:00", user_id="ana"))
    assert "only an administrator" in refused
    await app.sender.recover()
    done = text_of(await console.ask("/compromisos dia 3 09:00", user_id="admin"))
    assert "3 de abril de 2027" in done or "April 3, 2027" in done
    pending = [n for n in await notices(app) if n.kind == "pledge" and n.status == "pending"]
    assert [(n.key, n.due_at) for n in pending] == [("pledge:2027-04", datetime(2027, 4, 3, 14, 0, tzinfo=UTC))]
    assert "day from 1 to 28" in text_of(await console.ask("/pledges day 31", user_id="admin"))
    assert "https://" in text_of(await console.ask("/pledges link ftp://x", user_id="admin"))
    await console.ask("/pledges link https://pledges.example.org/report", user_id="admin")
    assert "https://pledges.example.org/report" in text_of(await console.ask("/pledges", user_id="ana"))


async def test_help_lists_the_new_commands_by_role(app: App, console: ConsoleAdapter, secretary: str) -> None:
    public = text_of(await console.ask("/help", user_id="ana"))
    assert "/next" in public and "/calendar" in public and "/subscribe" in public and "/meeting " not in public
    private = text_of(await console.ask("/ayuda", user_id=secretary))
    assert "/reunion" in private and "/difundir" in private


async def test_storage_rows_of_a_broadcast_draft_are_all_that_a_preview_stores(
    app: App, console: ConsoleAdapter, secretary: str
) -> None:
    await make_chat(app, "-1", tables=["WT2"])
    await console.ask("/broadcast WT2 Hello", user_id=secretary)
    assert await count(app, DeliveryRecord) == 0
    [draft] = [n for n in await notices(app) if n.kind == "broadcast"]
    assert draft.status == "draft" and draft.payload["text"] == "Hello"
