"""Issue 13: a Brazilian member does everything in Portuguese, and a Haitian member in French:
ask, register, subscribe, receive a meeting reminder (console harness, outbox with a fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.knowledge import load_knowledge
from tests.conftest import FakeClock
from tests.meetings.conftest import FakePlatform, make_chat, make_secretary, text_of

START = datetime(2027, 2, 15, 20, 0, tzinfo=UTC)
ADD = '/meeting add WT2 2027-02-15 15:00 America/Bogota "Quarterly meeting" https://meet.example.org/wt2'

FLOWS = {
    "pt": {
        "question": "qual mesa trata do tráfico de pessoas?",
        "objective": "Objetivo 10",
        "register": "/cadastro",
        "answers": ("Rede Migrante Brasil", "Brasil", "2", "2", "Beatriz Souza", "bia@example.org", "sim", "confirmar"),
        "registered": "Rede Migrante Brasil",
        "subscribe": "/assinar WT2",
        "zone": "America/Sao_Paulo",
        "reminder": ("Lembrete", "segunda-feira, 15 de fevereiro de 2027"),
        "country": "Brasil",
    },
    "fr": {
        "question": "quelle table traite de la traite des personnes ?",
        "objective": "Objectif 10",
        "register": "/inscription",
        "answers": ("Réseau Migrants Haïti", "Haïti", "2", "2", "Jean Baptiste", "jean@example.org", "oui", "confirmer"),
        "registered": "Réseau Migrants Haïti",
        "subscribe": "/abonner WT2",
        "zone": "America/Port-au-Prince",
        "reminder": ("Rappel", "lundi 15 février 2027"),
        "country": "Haïti",
    },
}


@pytest.mark.parametrize("lang", sorted(FLOWS))
async def test_a_member_does_everything_in_their_language(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, lang: str
) -> None:
    flow = FLOWS[lang]
    member = f"member_{lang}"
    answer = text_of(await console.ask(flow["question"], user_id=member))
    assert flow["objective"] in answer
    assert load_knowledge().objectives[10].title(lang) in answer

    await console.ask(flow["register"], user_id=member)
    replies = []
    for step in flow["answers"]:
        replies.append(text_of(await console.ask(step, user_id=member)))
    assert flow["country"] in "\n".join(replies)
    assert flow["registered"] in replies[-1]

    subscribed = text_of(await console.ask(flow["subscribe"], user_id=member))
    assert "WT2" in subscribed

    await make_secretary(app, "console:sec", "WT2")
    await make_chat(app, "-9", tables=["WT2"], language=lang, timezone=flow["zone"])
    await console.ask(ADD, user_id="sec")
    await app.sender.run_due()
    clock.current = START - timedelta(days=7)
    await app.sender.run_due()
    [reminder] = fake.texts("-9")
    word, date = flow["reminder"]
    assert word in reminder and date in reminder, reminder
