"""Secretaries approve or reject; the organisation hears the outcome in its own language."""

from __future__ import annotations

import logging

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from storage import audit, organisations
from tests.registration.conftest import (
    ANSWERS_EN,
    ANSWERS_ES,
    commands,
    request_ids,
    run_wizard,
    step_of,
    text_of,
    to_user,
)


async def test_approval_reaches_the_contact_in_their_language(
    app: App, console: ConsoleAdapter, secretary: str
) -> None:
    english = ANSWERS_EN[:3] + ("1 3",) + ANSWERS_EN[4:]
    await run_wizard(console, "john", english, start="/register")
    requests = await request_ids(app)
    replies = await console.ask(f"/aprobar {requests['WT1']}", user_id="sec")
    assert "Aprobada: Migrant Voices ya es miembro de WT1." in text_of(to_user(replies, "sec"))
    [outcome] = to_user(replies, "john")
    assert outcome.to is not None and outcome.to.chat_id == "john"  # their private chat with the bot
    assert "Welcome! Migrant Voices is now a member of WT1 · Working Table 1" in text_of([outcome])
    assert "/organisation" in text_of([outcome])
    again = await console.ask(f"/approve {requests['WT1']}", user_id="sec")
    assert f"Request #{requests['WT1']} was already approved by sec on January 10, 2027." in text_of(again)
    assert not to_user(again, "john")
    async with app.db.transaction() as session:
        [entry] = await audit.recent(session, contains="approve")
        contacts = await organisations.member_contacts(session, ["WT1"])
    assert entry.actor == "console:sec" and entry.subject.startswith(f"#{requests['WT1']} WT1 Migrant Voices")
    assert contacts == [organisations.MemberContact("console:john", "en", "Migrant Voices")]


async def test_rejection_asks_for_the_reason_and_accepts_none(
    app: App, console: ConsoleAdapter, secretary: str
) -> None:
    await run_wizard(console, "ana")
    requests = await request_ids(app)
    [question] = await console.ask(f"/rechazar {requests['WT1']}", user_id="sec")
    assert "¿Por qué no se acepta a Red Migrante Sin Fronteras en WT1?" in text_of([question])
    assert commands(question) == [f"/rechazar {requests['WT1']} -"]
    assert "Escribe el motivo" in text_of(await console.ask("", user_id="sec"))
    replies = await console.ask(
        "El trabajo de la organización no cubre los objetivos de la mesa.", user_id="sec"
    )
    assert "Rechazada" in text_of(to_user(replies, "sec"))
    assert "Motivo: El trabajo de la organización no cubre" in text_of(to_user(replies, "ana"))
    assert await step_of(app, "sec") is None
    replies = await console.ask(f"/rechazar {requests['WT3']} -", user_id="sec")
    [outcome] = to_user(replies, "ana")
    assert "no fue aceptada" in text_of([outcome]) and "Motivo" not in text_of([outcome])
    organisation = (await console.ask("/organizacion", user_id="ana"))[0]
    assert "WT1: no aceptada" in text_of([organisation]) and "no cubre los objetivos" in text_of(
        [organisation]
    )


async def test_a_table_without_secretary_goes_to_the_admins(app: App, console: ConsoleAdapter) -> None:
    replies = await run_wizard(console, "ana")
    assert "Todavía no hay secretaría para WT1, WT3" in text_of(to_user(replies, "ana"))
    assert len(to_user(replies, "admin")) == 2
    requests = await request_ids(app)
    replies = await console.ask(f"/aprobar {requests['WT3']}", user_id="admin")
    assert "¡Te damos la bienvenida! Red Migrante Sin Fronteras ya es miembro de WT3" in text_of(to_user(replies, "ana"))


async def test_pending_shows_a_secretary_their_tables_and_an_admin_all(
    app: App, console: ConsoleAdapter, secretary: str
) -> None:
    await run_wizard(console, "ana")
    await run_wizard(console, "john", ANSWERS_EN, start="/register")
    [mine] = await console.ask("/pendientes", user_id="sec")
    assert "2 solicitudes pendientes" in text_of([mine])
    assert (
        "WT1" in text_of([mine]) and "WT2" not in text_of([mine]) and "Migrant Voices" not in text_of([mine])
    )
    assert "/aprobar 1" in commands(mine) and "/rechazar 2" in commands(mine)
    [everything] = await console.ask("/pending", user_id="admin")
    assert "4 requests waiting" in text_of(
        [everything]
    ) and "Migrant Voices (Brazil · trade union)" in text_of([everything])
    await console.ask("/aprobar 1", user_id="sec")
    await console.ask("/rechazar 2 -", user_id="sec")
    assert "No hay solicitudes pendientes" in text_of(await console.ask("/pendientes", user_id="sec"))


async def test_a_secretary_cannot_decide_for_another_table(
    app: App, console: ConsoleAdapter, secretary: str, caplog: pytest.LogCaptureFixture
) -> None:
    await run_wizard(console, "john", ANSWERS_EN, start="/register")
    requests = await request_ids(app)
    with caplog.at_level(logging.WARNING, logger="handlers.context"):
        replies = await console.ask(f"/aprobar {requests['WT2']}", user_id="sec")
    assert "secretary of WT2" in caplog.text
    assert not to_user(replies, "john") and requests == await request_ids(app)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/aprobar", "¿Qué solicitud? Por ejemplo /aprobar 12"),
        ("/aprobar doce", "¿Qué solicitud?"),
        ("/rechazar 99999999999999999999", "¿Qué solicitud?"),
        ("/aprobar 999", "No existe la solicitud #999"),
        ("/rechazar #999 motivo", "No existe la solicitud #999"),
    ],
)
async def test_bad_request_numbers(console: ConsoleAdapter, secretary: str, text: str, expected: str) -> None:
    assert expected in text_of(await console.ask(text, user_id="sec"))


async def test_spanish_registration_outcome_stays_spanish_for_an_english_secretary(
    app: App, console: ConsoleAdapter
) -> None:
    await console.ask("/language en", user_id="sue")
    await console.ask("/secretary add WT1 console:sue", user_id="admin")
    replies = await run_wizard(console, "ana", ANSWERS_ES)
    [card] = to_user(replies, "sue")
    assert "Request #1: Red Migrante Sin Fronteras asks to join WT1" in text_of([card])
    assert commands(card) == ["/approve 1", "/reject 1"]
    replies = await console.ask(commands(card)[0], user_id="sue")
    assert "¡Te damos la bienvenida!" in text_of(to_user(replies, "ana"))
