"""Issue 12, items 7, 8, 9 and 11: a table's card shows its next meetings, a meeting shows its own
zone beside the chat's, quarterly series repeat in the .ics, an empty calendar is a sentence, and
the move/cancel confirmations only claim to tell chats that exist."""

from __future__ import annotations

from icalendar import Calendar

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from tests.meetings.conftest import make_secretary, text_of


async def secretary(app: App) -> str:
    await make_secretary(app, "console:sec", "WT3")
    return "sec"


async def test_table_card_shows_the_tables_next_meetings(app: App, console: ConsoleAdapter) -> None:
    sec = await secretary(app)
    before = text_of(await console.ask("/mesa 3", user_id="member"))
    assert "Próximas reuniones" not in before
    await console.ask('/reunion nueva WT3 2027-02-15 15:00 "Reunión de febrero"', user_id=sec)
    await console.ask('/reunion nueva WT3 2027-05-17 15:00 "Reunión de mayo"', user_id=sec)
    card = text_of(await console.ask("/mesa 3", user_id="member"))
    assert "Próximas reuniones" in card
    assert card.index("Reunión de febrero") < card.index("Reunión de mayo")
    assert "lunes, 15 de febrero de 2027, 15:00" in card
    assert "Reunión de" not in text_of(await console.ask("/mesa 2", user_id="member"))


async def test_a_meeting_set_in_another_zone_shows_that_zone_too(app: App, console: ConsoleAdapter) -> None:
    sec = await secretary(app)
    await console.ask('/reunion nueva WT3 2027-02-15 15:00 America/Lima "En Lima"', user_id=sec)
    await console.ask('/reunion nueva WT3 2027-02-16 15:00 America/Bogota "En Bogotá"', user_id=sec)
    await console.ask('/reunion nueva WT3 2027-02-17 23:30 America/Mexico_City "En México"', user_id=sec)
    listing = text_of(await console.ask("/reuniones WT3", user_id="member")).split("\n\n")
    lima = next(block for block in listing if "En Lima" in block)
    assert "hora de Colombia" in lima and "fijada como 15:00 (hora de Perú)" in lima
    bogota = next(block for block in listing if "En Bogotá" in block)
    assert "fijada como" not in bogota
    mexico = next(block for block in listing if "En México" in block)
    assert "jueves, 18 de febrero de 2027, 0:30" in mexico and "fijada como miércoles, 17 de febrero" in mexico


async def test_a_quarterly_series_repeats_in_the_calendar_file(app: App, console: ConsoleAdapter) -> None:
    sec = await secretary(app)
    await console.ask('/reunion nueva WT3 2027-02-15 15:00 "Trimestral" --trimestral', user_id=sec)
    await console.ask('/reunion nueva WT3 2027-03-01 15:00 "Única"', user_id=sec)
    [reply] = await console.ask("/calendario WT3", user_id="member")
    assert reply.attachment is not None
    events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(reply.attachment.content).walk("VEVENT")}
    rule = events["WT3: Trimestral"]["RRULE"]
    assert rule["FREQ"] == ["MONTHLY"] and rule["INTERVAL"] == [3]
    assert "RRULE" not in events["WT3: Única"]


async def test_an_empty_calendar_is_a_sentence_not_a_file(app: App, console: ConsoleAdapter) -> None:
    [reply] = await console.ask("/calendario WT1", user_id="member")
    assert reply.attachment is None
    assert "WT1" in text_of([reply]) and "Próximas" not in text_of([reply])


async def test_moving_a_meeting_claims_to_tell_only_the_chats_there_are(app: App, console: ConsoleAdapter) -> None:
    sec = await secretary(app)
    await console.ask("/reunion nueva WT3 2027-02-15 15:00", user_id=sec)
    moved = text_of(await console.ask("/reunion mover 1 2027-02-16 15:00", user_id=sec))
    assert "Ningún chat está suscrito a WT3" in moved and "/suscribir WT3" in moved
    await console.ask("/suscribir WT3", user_id="member")
    moved = text_of(await console.ask("/reunion mover 1 2027-02-17 15:00", user_id=sec))
    assert "Se lo aviso a 1 chat suscrito." in moved
    cancelled = text_of(await console.ask("/reunion cancelar 1", user_id=sec))
    assert "Se lo aviso a 1 chat suscrito." in cancelled


async def test_a_past_date_error_starts_with_a_capital(app: App, console: ConsoleAdapter) -> None:
    sec = await secretary(app)
    error = text_of(await console.ask("/reunion nueva WT3 2026-11-01 15:00", user_id=sec))
    assert error.startswith("Domingo, 1 de noviembre de 2026")
