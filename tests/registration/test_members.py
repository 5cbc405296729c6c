"""Secretaries' lists and CSV export; members' record, joining, leaving and erasure."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import openpyxl

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.countries import LAC
from handlers.members import STAKEHOLDER_TYPES
from storage import audit, organisations
from storage.organisations import APPROVED
from tests.conftest import FakeClock
from tests.registration.conftest import (
    ANSWERS_ES,
    commands,
    organisation_of,
    request_ids,
    run_wizard,
    text_of,
    to_user,
)


async def eighty_members(app: App, clock: FakeClock) -> None:
    types = list(STAKEHOLDER_TYPES)
    async with app.db.transaction() as session:
        for n in range(80):
            organisation = await organisations.create_organisation(
                session,
                name=f"Organización Número {n:02d} de Defensa de los Derechos de las Personas Migrantes",
                country=LAC[n % len(LAC)],
                stakeholder_type=types[n % len(types)],
                contact_name=f"Persona {n}",
                contact_email=f"p{n}@example.org",
                contact_user=f"console:member{n}",
                language="es",
                tables=["WT2"],
                at=clock.now(),
            )
            await organisations.decide(
                session,
                organisation.memberships[0].id,
                APPROVED,
                "console:admin",
                clock.now() + timedelta(days=1),
            )


async def test_members_of_an_eighty_organisation_table_stay_readable(
    app: App, console: ConsoleAdapter, clock: FakeClock
) -> None:
    await eighty_members(app, clock)
    await console.ask("/secretaria agregar WT2 console:sec", user_id="admin")
    await run_wizard(console, "ana", ANSWERS_ES[:3] + ("2",) + ANSWERS_ES[4:])
    [reply] = await console.ask("/miembros", user_id="sec")
    lines = text_of([reply]).splitlines()
    assert lines[1:3] == ["80 organizaciones", "Página 1 de 4"]
    assert "1 solicitud pendiente: /pendientes" in text_of([reply])
    assert commands(reply) == ["/miembros WT2 p2", "/exportar WT2"]
    members = [line for line in lines if line.startswith("• ")]
    while (more := [c for c in commands(reply) if c.startswith("/miembros")]):
        [reply] = await console.ask(more[0], user_id="sec")
        members += [line for line in text_of([reply]).splitlines() if line.startswith("• ")]
    assert "Página 4 de 4" in text_of([reply])
    assert len(members) == len(set(members)) == 80 and all(len(line) < 160 for line in members)
    assert (
        "• Organización Número 00 de Defensa de los Derechos de las Personas Migrantes (Antigua y Barbuda · sociedad civil)"
        in members
    )


async def test_export_is_an_excel_friendly_csv_on_request(app: App, console: ConsoleAdapter, clock: FakeClock) -> None:
    await console.ask("/secretaria agregar WT1 console:sec", user_id="admin")
    await run_wizard(console, "ana", ('=HYPERLINK("x") Fundación Ñandú',) + ANSWERS_ES[1:])
    await console.ask("/aprobar 1", user_id="sec")
    [reply] = await console.ask("/exportar WT1 csv", user_id="sec")
    attachment = reply.attachment
    assert attachment is not None and attachment.mimetype == "text/csv"
    assert attachment.filename == "WT1-miembros-2027-01-10.csv"
    assert attachment.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(attachment.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "organización",
        "país",
        "tipo",
        "mesas",
        "nombre de contacto",
        "correo",
        "registrada el",
        "aprobada el",
    ]
    assert rows[1] == [
        '\'=HYPERLINK("x") Fundación Ñandú',
        "México",
        "Organización de personas migrantes o de la diáspora",
        "WT1",
        "Ana Pérez",
        "ana@example.org",
        "2027-01-10 07:00",
        "2027-01-10 07:00",
    ]
    shown = console.render(reply)
    assert (
        "WT1-miembros-2027-01-10.csv" in shown
        and (console.files_dir / attachment.filename).read_bytes() == attachment.content
    )
    assert "¿Qué mesa? Por ejemplo /exportar WT1" in text_of(await console.ask("/exportar", user_id="admin"))


async def test_organisation_join_and_leave(app: App, console: ConsoleAdapter) -> None:
    assert "No has registrado ninguna organización" in text_of(
        await console.ask("/organizacion", user_id="ana")
    )
    await console.ask("hola", user_id="sec")
    await console.ask("/secretaria agregar WT2 console:sec", user_id="admin")
    await run_wizard(console, "ana")
    await console.ask("/aprobar 1", user_id="admin")
    [record] = await console.ask("/organización", user_id="ana")
    shown = text_of([record])
    assert (
        "Red Migrante Sin Fronteras" in shown
        and "País: México" in shown
        and "WT1: miembro desde el 10 de enero de 2027" in shown
    )
    assert "WT3: solicitud #2 esperando" in shown
    assert commands(record) == ["/unirse WT2", "/unirse WT4", "/olvidar"]
    joined = await console.ask("/unirse WT2", user_id="ana")
    assert "Solicitud enviada a las secretarías: #3 (WT2)" in text_of(to_user(joined, "ana"))
    assert "Solicitud #3: Red Migrante Sin Fronteras pide unirse a WT2" in text_of(to_user(joined, "sec"))
    assert "ya está en (o pidió unirse a) WT1" in text_of(await console.ask("/unirse 1", user_id="ana"))
    assert "«WT9» no es una de las Mesas de Trabajo" in text_of(
        await console.ask("/unirse WT9", user_id="ana")
    )
    [choice] = await console.ask("/unirse", user_id="ana")
    assert commands(choice) == ["/unirse WT4"]
    left = await console.ask("/salir WT2", user_id="ana")
    assert "Listo: Red Migrante Sin Fronteras salió de WT2" in text_of(to_user(left, "ana"))
    assert "Red Migrante Sin Fronteras salió de WT2" in text_of(to_user(left, "sec"))
    assert "no está en WT4" in text_of(await console.ask("/salir WT4", user_id="ana"))
    rejoined = await console.ask("/join WT2", user_id="ana")
    assert "#3 (WT2)" in text_of(to_user(rejoined, "ana"))
    assert (await request_ids(app))["WT2"] == 3
    async with app.db.transaction() as session:
        actions = [e.action for e in await audit.recent(session)]
    assert actions[:3] == ["join", "leave", "join"]


async def test_forget_erases_personal_data_and_keeps_the_count(app: App, console: ConsoleAdapter) -> None:
    await run_wizard(console, "ana")
    await console.ask("/aprobar 1", user_id="admin")
    [question] = await console.ask("/olvidar", user_id="ana")
    assert "No se puede deshacer" in text_of([question]) and commands(question) == ["/olvidar sí"]
    assert (await organisation_of(app, "ana")) is not None
    assert "se borraron los datos personales" in text_of(await console.ask("/olvidar sí", user_id="ana"))
    assert await organisation_of(app, "ana") is None
    async with app.db.transaction() as session:
        [member] = await organisations.table_members(session, "WT1")
        assert await organisations.member_contacts(session) == []
        entries = await audit.recent(session)
    erased = member.organisation
    assert (erased.contact_name, erased.contact_email, erased.contact_user) == (None, None, None)
    assert erased.name == "Red Migrante Sin Fronteras" and erased.tables("left") == ["WT3"]
    assert all(e.actor != "console:ana" for e in entries)
    assert entries[0].action == "erase" and {e.actor for e in entries} == {
        audit.ERASED_ACTOR,
        "console:admin",
    }
    assert "No has registrado" in text_of(await console.ask("/olvidar sí", user_id="ana"))
    [csv_reply] = await console.ask("/export WT1 csv", user_id="admin")
    assert (
        csv_reply.attachment is not None
        and "Red Migrante Sin Fronteras" in csv_reply.attachment.content.decode("utf-8-sig")
    )


async def test_export_is_an_xlsx_by_default(app: App, console: ConsoleAdapter, clock: FakeClock) -> None:
    """Issue 12 item 10: secretaries live in Excel; text stays text, times are times."""
    await console.ask("/secretaria agregar WT1 console:sec", user_id="admin")
    await run_wizard(console, "ana", ('=HYPERLINK("x") Fundación Ñandú',) + ANSWERS_ES[1:])
    await console.ask("/aprobar 1", user_id="sec")
    [reply] = await console.ask("/exportar WT1", user_id="sec")
    attachment = reply.attachment
    assert attachment is not None and attachment.filename == "WT1-miembros-2027-01-10.xlsx"
    assert attachment.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["organización", "país", "tipo"]
    assert rows[1][0] == '=HYPERLINK("x") Fundación Ñandú' and sheet["A2"].data_type == "s"
    assert rows[1][1:6] == ["México", "Organización de personas migrantes o de la diáspora", "WT1", "Ana Pérez", "ana@example.org"]
    assert rows[1][6] == datetime(2027, 1, 10, 7, 0)
    assert [b.label for row in (await console.ask("/miembros WT1", user_id="sec"))[0].buttons for b in row] == [
        "Exportar a Excel"
    ]
