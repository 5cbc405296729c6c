"""The wizard's state is in the database: a new App continues it; two people never mix."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from tests.conftest import FakeClock, make_settings
from tests.registration.conftest import (
    ANSWERS_EN,
    ANSWERS_ES,
    organisation_of,
    request_ids,
    run_wizard,
    step_of,
    text_of,
    to_user,
)


async def test_a_restart_mid_wizard_continues_at_the_same_step(sqlite_url: str, tmp_path: Path) -> None:
    first = App(make_settings(sqlite_url), clock=FakeClock())
    await first.start()
    console = ConsoleAdapter(first.hub, files_dir=tmp_path)
    await console.ask("/register", user_id="ana")
    for answer in ANSWERS_EN[:3]:
        await console.ask(answer, user_id="ana")
    await first.close()

    second = App(make_settings(sqlite_url), clock=FakeClock())
    await second.start()
    try:
        console = ConsoleAdapter(second.hub, files_dir=tmp_path)
        assert await step_of(second, "ana") == "tables"
        [contact] = await console.ask("2 4", user_id="ana")
        assert "Question 5 of 7" in text_of([contact]), "continues in the language the wizard started in"
        for answer in ANSWERS_EN[4:]:
            replies = await console.ask(answer, user_id="ana")
        assert "Thank you! Migrant Voices is registered" in text_of(to_user(replies, "ana"))
        organisation = await organisation_of(second, "ana")
        assert organisation is not None and organisation.country == "BR"
    finally:
        await second.close()


async def test_two_wizards_at_once_never_mix(app: App, console: ConsoleAdapter) -> None:
    await asyncio.gather(console.ask("/registro", user_id="ana"), console.ask("/register", user_id="john"))
    for ours, theirs in zip(ANSWERS_ES, ANSWERS_EN, strict=True):
        await asyncio.gather(console.ask(ours, user_id="ana"), console.ask(theirs, user_id="john"))
    ana, john = await organisation_of(app, "ana"), await organisation_of(app, "john")
    assert ana is not None and john is not None
    assert (ana.name, ana.country, ana.contact_email, ana.tables("pending")) == (
        "Red Migrante Sin Fronteras",
        "MX",
        "ana@example.org",
        ["WT1", "WT3"],
    )
    assert (john.name, john.country, john.contact_email, john.tables("pending")) == (
        "Migrant Voices",
        "BR",
        "john@example.org",
        ["WT2", "WT4"],
    )
    assert set(await request_ids(app)) == {"WT1", "WT2", "WT3", "WT4"}


async def test_two_secretaries_deciding_at_once(app: App, console: ConsoleAdapter) -> None:
    for user in ("sec1", "sec2"):
        await console.ask("hola", user_id=user)
        await console.ask(f"/secretaria agregar WT1 console:{user}", user_id="admin")
    await run_wizard(console, "ana")
    request = (await request_ids(app))["WT1"]
    first, second = await asyncio.gather(
        console.ask(f"/aprobar {request}", user_id="sec1"),
        console.ask(f"/rechazar {request} no", user_id="sec2"),
    )
    answers = text_of(to_user(first, "sec1")) + "\n" + text_of(to_user(second, "sec2"))
    assert answers.count("ya fue") == 1, answers
    assert ("Aprobada" in answers) != ("Rechazada" in answers)
    outcomes = {id(reply) for reply in to_user(first + second, "ana")}  # both asks saw the outbox's pass
    assert len(outcomes) == 1, "the organisation hears one decision"
