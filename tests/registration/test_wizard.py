"""The registration wizard through the console adapter, in both languages."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.message import Address, Message, User
from storage import audit
from tests.registration.conftest import (
    ANSWERS_EN,
    ANSWERS_ES,
    commands,
    organisation_of,
    run_wizard,
    step_of,
    text_of,
    to_user,
)


async def test_full_wizard_in_spanish(app: App, console: ConsoleAdapter, secretary: str) -> None:
    first = text_of(await console.ask("/registro", user_id="ana"))
    assert "Pregunta 1 de 7" in first and "¿Cómo se llama tu organización?" in first
    expected = [
        "Pregunta 2 de 7",
        "Pregunta 3 de 7",
        "Pregunta 4 de 7",
        "Pregunta 5 de 7",
        "Pregunta 6 de 7",
        "Pregunta 7 de 7",
        "Revisa y luego confirma",
    ]
    for answer, question in zip(ANSWERS_ES[:-1], expected, strict=True):
        assert question in text_of(await console.ask(answer, user_id="ana")), answer
    summary = text_of(
        await console.ask("/atras correo", user_id="ana")
        + await console.ask("ana@example.org", user_id="ana")
    )
    for shown in (
        "Red Migrante Sin Fronteras",
        "México",
        "Organización de personas migrantes",
        "WT1, WT3",
        "Ana Pérez",
    ):
        assert shown in summary
    replies = await console.ask("confirmar", user_id="ana")
    thanks = text_of(to_user(replies, "ana"))
    assert (
        "¡Gracias! Red Migrante Sin Fronteras quedó registrada" in thanks and "#1 (WT1), #2 (WT3)" in thanks
    )
    cards = to_user(replies, "sec")
    assert len(cards) == 2 and "Solicitud #1: Red Migrante Sin Fronteras pide unirse a WT1" in text_of(cards)
    assert commands(cards[0]) == ["/aprobar 1", "/rechazar 1"]
    assert await step_of(app, "ana") is None
    organisation = await organisation_of(app, "ana")
    assert organisation is not None
    assert (organisation.country, organisation.stakeholder_type, organisation.language) == (
        "MX",
        "migrants",
        "es",
    )
    assert (organisation.contact_name, organisation.contact_email) == ("Ana Pérez", "ana@example.org")
    assert organisation.tables("pending") == ["WT1", "WT3"]
    async with app.db.transaction() as session:
        [entry] = await audit.recent(session, contains="register")
    assert entry.actor == "console:ana" and entry.details == "WT1 WT3"


async def test_full_wizard_in_english_with_buttons(app: App, console: ConsoleAdapter) -> None:
    [first] = await console.ask("/register", user_id="john")
    assert "Question 1 of 7" in text_of([first])
    await console.ask(ANSWERS_EN[0], user_id="john")
    [country] = await console.ask("Brasil", user_id="john")
    assert "Question 3 of 7" in text_of([country]) and "Trade union" in [
        b.label for row in country.buttons for b in row
    ]
    [tables] = await console.ask(commands(country)[5], user_id="john")
    assert "WT1 · Working Table 1" in text_of([tables]) and "Objective 2:" in text_of([tables])
    [toggled] = await console.ask("+WT2", user_id="john")
    [toggled] = await console.ask("+WT4", user_id="john")
    assert "Chosen: WT2, WT4" in text_of([toggled]) and "✓ WT4" in [
        b.label for row in toggled.buttons for b in row
    ]
    [contact] = await console.ask(commands(toggled)[-1], user_id="john")
    assert "Question 5 of 7" in text_of([contact])
    for answer in ANSWERS_EN[4:6]:
        await console.ask(answer, user_id="john")
    [summary] = await console.ask("Yes, I agree", user_id="john")
    assert "Please check" in text_of([summary]) and "/back country" in commands(summary)
    [change] = await console.ask("/back country", user_id="john")
    assert "Question 2 of 7" in text_of([change])
    [summary] = await console.ask("Chile", user_id="john")
    assert "Country: Chile" in text_of([summary])
    replies = await console.ask(commands(summary)[0], user_id="john")
    assert "Thank you! Migrant Voices is registered" in text_of(to_user(replies, "john"))
    assert "There is no secretary yet for WT2, WT4" in text_of(to_user(replies, "john"))
    admin_cards = to_user(replies, "admin")
    assert len(admin_cards) == 2 and commands(admin_cards[0]) == ["/aprobar 1", "/rechazar 1"]
    organisation = await organisation_of(app, "john")
    assert organisation is not None and organisation.country == "CL" and organisation.language == "en"
    assert organisation.stakeholder_type == "trade_union"


async def test_back_and_cancel(app: App, console: ConsoleAdapter) -> None:
    assert "nada a lo que volver" in text_of(await console.ask("/atras", user_id="ana"))
    await console.ask("/registro", user_id="ana")
    assert "primera pregunta" in text_of(await console.ask("/atrás", user_id="ana"))
    await console.ask("Red Uno", user_id="ana")
    await console.ask("Perú", user_id="ana")
    back = text_of(await console.ask("/atras", user_id="ana"))
    assert "Pregunta 2 de 7" in back and await step_of(app, "ana") == "country"
    assert "¿Volver a qué pregunta?" in text_of(await console.ask("/atras correo", user_id="ana"))
    assert "Pregunta 1 de 7" in text_of(await console.ask("/atras nombre", user_id="ana"))
    assert "Cancelado" in text_of(await console.ask("/cancelar", user_id="ana"))
    assert await step_of(app, "ana") is None and await organisation_of(app, "ana") is None


async def test_refused_consent_stores_nothing(app: App, console: ConsoleAdapter) -> None:
    replies = await run_wizard(console, "ana", ANSWERS_ES[:6] + ("no",))
    assert "sin tu consentimiento no puedo registrar" in text_of(replies)
    assert await step_of(app, "ana") is None and await organisation_of(app, "ana") is None


async def test_restart_of_the_command_resumes_and_a_registered_contact_is_redirected(
    app: App, console: ConsoleAdapter
) -> None:
    await console.ask("/registro", user_id="ana")
    await console.ask("Red Uno", user_id="ana")
    again = text_of(await console.ask("/registro", user_id="ana"))
    assert "Habíamos llegado hasta aquí" in again and "Pregunta 2 de 7" in again
    await console.ask("/cancelar", user_id="ana")
    await run_wizard(console, "ana")
    assert "Ya registraste Red Migrante Sin Fronteras" in text_of(
        await console.ask("/registro", user_id="ana")
    )


async def test_free_text_and_start_payload_open_the_wizard(app: App, console: ConsoleAdapter) -> None:
    assert "Pregunta 1 de 7" in text_of(await console.ask("quiero registrar mi organización", user_id="ana"))
    assert await step_of(app, "ana") == "name"
    assert "Pregunta 1 de 7" in text_of(await console.ask("/start register", user_id="bob"))
    assert await step_of(app, "bob") == "name"


async def test_in_a_group_the_wizard_continues_privately(app: App) -> None:
    group = Message(
        Address("console", chat_id="wt2-group"),
        User("console", "ana", "Ana"),
        "/registro",
        private=False,
        message_id="7",
    )
    [reply] = await app.core.handle(group)
    assert reply.private_start == "register" and reply.to == group.chat and reply.reply_to == "7"
    assert "chat privado" in text_of([reply])
    async with app.db.transaction() as session:
        from storage import conversations

        assert await conversations.get_conversation(session, "console", "wt2-group", "ana") is None


async def test_duplicates_are_detected_at_name_and_country(
    app: App, console: ConsoleAdapter, secretary: str
) -> None:
    await console.ask("hola", user_id="sec")
    await run_wizard(console, "ana")
    await console.ask("/registro", user_id="bob")
    note = text_of(await console.ask("RED MIGRANTE, sin fronteras!", user_id="bob"))
    assert "ya hay una organización registrada con este nombre (México)" in note
    refused = text_of(await console.ask("Mexico", user_id="bob"))
    assert "Red Migrante Sin Fronteras (México) ya está registrada" in refused
    assert "WT1, WT3" in refused and "sec" in refused and "/atras" in refused
    assert await step_of(app, "bob") == "country"
    assert "Pregunta 3 de 7" in text_of(await console.ask("Guatemala", user_id="bob"))
    mine = text_of(await console.ask("/registro", user_id="ana"))
    assert "Ya registraste" in mine
