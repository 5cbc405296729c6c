"""A contact records pledges, a secretary opens a round, the contact answers with a button and a
note, follow-ups go only to who has not answered, the round closes with a summary; in both
languages, through the console and the real outbox."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from storage import pledges
from storage.pledges import Pledge, PledgeReport
from tests.conftest import FakeClock
from tests.meetings.conftest import make_member, make_secretary
from tests.pledges.conftest import add_pledges, texts, to


async def ana_pledges(app: App, titles: list[str]) -> None:
    """Ana, the contact of Red Ana (WT3), with these pledges on record."""
    now = app.services.clock.now()
    await make_member(app, "console:ana", "Red Ana", ["WT3"], at=now)
    await add_pledges(app, "Red Ana", titles, at=now)


async def test_a_contact_records_lists_and_withdraws_a_pledge(app: App, console: ConsoleAdapter) -> None:
    await make_member(app, "console:ana", "Red Ana", ["WT3"], at=app.services.clock.now())
    assert "título" in texts(await console.ask("/compromiso nuevo", user_id="ana"))
    await console.ask("Casas de acogida", user_id="ana")
    asked = texts(await console.ask("la trata de personas y el objetivo 2", user_id="ana"))
    assert "2" in asked
    await console.ask("Refugio para 40 personas", user_id="ana")
    done = await console.ask("-", user_id="ana")
    assert "Casas de acogida" in texts(done)
    listed = texts(await console.ask("/pledge list", user_id="ana"))
    assert "1. Casas de acogida" in listed and "objectives 2" in listed
    await console.ask("/compromiso retirar 1", user_id="ana")
    assert "retirado" in texts(await console.ask("/compromiso lista", user_id="ana"))
    async with app.db.transaction() as session:
        (row,) = list(await session.scalars(select(Pledge)))
    assert row.status == pledges.WITHDRAWN and row.objectives[0] == 2


async def test_objectives_by_words_only(app: App, console: ConsoleAdapter) -> None:
    await make_member(app, "console:ana", "Red Ana", ["WT3"], at=app.services.clock.now())
    await console.ask("/pledge new", user_id="ana")
    await console.ask("Safe shelters", user_id="ana")
    assert "recognise" in texts(await console.ask("xyzzy", user_id="ana"))
    reply = texts(await console.ask("human trafficking", user_id="ana"))
    assert "10" in reply


async def test_a_round_from_request_to_summary(app: App, console: ConsoleAdapter, clock: FakeClock) -> None:
    now = clock.now()
    await make_member(app, "console:ana", "Red Ana", ["WT3"], at=now)
    await make_member(app, "console:beto", "Red Beto", ["WT3"], language="en", at=now)
    await make_secretary(app, "console:sec", "WT3")
    await add_pledges(app, "Red Ana", ["Albergues", "Rutas seguras"], at=now)
    await add_pledges(app, "Red Beto", ["Legal aid"], at=now)

    opened = await console.ask("/compromisos pedir WT3", user_id="sec")
    assert "2" in texts(opened[:1])
    request = to(opened, "ana")
    assert len(request) == 1 and "Albergues" in texts(request)
    assert [b.command for b in request[0].buttons[0]][0] == "/informar 1 on_track"
    assert request[0].buttons[0][0].label == "en curso"
    assert "Legal aid" in texts(to(opened, "beto")) and to(opened, "beto")[0].buttons[0][0].label == "on track"
    again = await console.ask("/compromisos pedir WT3", user_id="sec")
    assert to(again, "ana") == [] and to(again, "beto") == []

    note_question = await console.ask("/informar 1 on_track", user_id="ana")
    assert note_question[0].buttons[0][0].command == "-"
    following = texts(await console.ask("Ya abrimos dos", user_id="ana"))
    assert "Rutas seguras" in following
    await console.ask("retrasado", user_id="ana")
    assert "todo" in texts(await console.ask("-", user_id="ana")).lower()
    await console.ask("/informar 2 completed", user_id="ana")
    await console.ask("Al final sí", user_id="ana")

    clock.advance(timedelta(days=7, minutes=1))
    chased = await console.ask("/start", user_id="nobody")
    assert to(chased, "ana") == []
    assert "Legal aid" in texts(to(chased, "beto"))

    standing = await console.ask("/compromisos informe WT3", user_id="sec")
    assert "Organizaciones que informaron: 1 de 2." in texts(standing) and "Red Beto" in texts(standing)
    assert standing[1].image is not None and standing[1].image.content.startswith(b"\x89PNG")
    shown = console.render(standing[1]).splitlines()[-1]
    assert shown.startswith("🖼 ") and Path(shown[2:]).read_bytes() == standing[1].image.content
    assert "2027-01" in texts(await console.ask("/compromisos", user_id="beto"))

    async with app.db.transaction() as session:
        found = await pledges.get_round(session, "2027-01")
        assert found is not None
        latest = await pledges.latest_reports(session, found.id)
        history = list(await session.scalars(select(PledgeReport).order_by(PledgeReport.id)))
    assert len(history) == 3 and sorted(r.status for r in latest.values()) == ["completed", "on_track"]

    clock.advance(timedelta(days=7))
    chased = await console.ask("/start", user_id="nobody")
    assert to(chased, "ana") == [] and len(to(chased, "beto")) == 1
    clock.advance(timedelta(days=16))
    closed = await console.ask("/start", user_id="nobody")
    summary = texts(to(closed, "sec"))
    assert "2027-01" in summary and "Red Beto" in summary
    assert to(closed, "beto") == []


async def test_the_export_has_pledges_and_reports(app: App, console: ConsoleAdapter) -> None:
    await ana_pledges(app, ["=Albergues"])
    await console.ask("/pledges request WT3", user_id="admin")
    await console.ask("/report 1 delayed", user_id="ana")
    await console.ask("lento", user_id="ana")
    replies = await console.ask("/exportar compromisos WT3", user_id="admin")
    xlsx, table = replies[0].attachment, replies[1].attachment
    assert xlsx is not None and table is not None
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Red Ana" and rows[1][3] == "=Albergues" and rows[1][10] == "lento"
    assert rows[1][11] == datetime(2027, 1, 10, 7, 0)  # the wall time in Bogotá, as a time
    lines = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[1][3] == "'=Albergues" and lines[1][8] == "2027-01" and len(lines) == 2


async def test_forgetting_keeps_pledges_and_reports_but_not_who(app: App, console: ConsoleAdapter) -> None:
    await ana_pledges(app, ["Albergues"])
    await console.ask("/compromisos pedir todo", user_id="admin")
    await console.ask("/informar 1 completed", user_id="ana")
    await console.ask("-", user_id="ana")
    await console.ask("/olvidar sí", user_id="ana")
    async with app.db.transaction() as session:
        reports = list(await session.scalars(select(PledgeReport)))
        rows = list(await session.scalars(select(Pledge)))
    assert len(reports) == 1 and reports[0].status == "completed" and reports[0].reported_by is None
    assert len(rows) == 1 and rows[0].created_by is None


async def test_no_round_no_report(app: App, console: ConsoleAdapter) -> None:
    await ana_pledges(app, ["Albergues"])
    assert "ronda" in texts(await console.ask("/informar", user_id="ana"))
    await console.ask("/compromisos pedir WT3", user_id="admin")
    assert "número" in texts(await console.ask("/informar 7 on_track", user_id="ana"))
    assert "Elige uno de los botones" in texts(await console.ask("/informar 1 fabuloso", user_id="ana"))
    assert "nota" in texts(await console.ask("en curso", user_id="ana"))  # the same question, answered
    assert "Registrado: el compromiso 1 está en curso." in texts(await console.ask("-", user_id="ana"))
