"""Bad input at every step of the wizard gets a clear answer, and the wizard stays where it was."""

from __future__ import annotations

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.i18n import _, use_locale
from handlers.registration import STEPS
from tests.registration.conftest import ANSWERS_ES, run_wizard, step_of, text_of

EVERYWHERE = {"empty": "", "5000 characters": "x" * 5000, "html": "<b>Red</b> <script>alert(1)</script>"}
SPECIFIC = {
    "country": {"unknown country": "Narnia", "outside the region": "EEUU"},
    "tables": {"no such table": "WT7", "not a working table": "LT", "unknown word": "mesa azul"},
    "email": {"no @": "ana.example.org", "two @": "ana@@example.org", "no domain": "ana@example"},
    "type": {"out of range": "11", "unknown": "astronautas"},
    "consent": {"neither yes nor no": "quizás"},
    "summary": {"not a confirmation": "tal vez"},
}
CASES = [
    (step, label, text) for step in STEPS for label, text in (EVERYWHERE | SPECIFIC.get(step, {})).items()
]


@pytest.mark.parametrize(("step", "label", "text"), CASES, ids=[f"{s}-{label}" for s, label, _t in CASES])
async def test_bad_input_keeps_the_step(
    app: App, console: ConsoleAdapter, step: str, label: str, text: str
) -> None:
    if STEPS.index(step):
        await run_wizard(console, "ana", ANSWERS_ES[: STEPS.index(step)])
    else:
        await console.ask("/registro", user_id="ana")
    assert await step_of(app, "ana") == step
    replies = await console.ask(text, user_id="ana")
    answer = text_of(replies)
    with use_locale("es"):
        apology = _("Sorry, something went wrong on my side. Please try again later.")
    assert len(replies) == 1 and answer and apology not in answer
    assert "<script>" not in replies[0].html and len(answer) < 3000
    assert "Pregunta" not in answer and "Revisa y luego" not in answer, "moved on to another question"
    assert await step_of(app, "ana") == step
    if step in ("country", "type", "tables", "consent", "summary"):
        assert replies[0].buttons, "the step's choices are offered again"


async def test_each_error_says_what_is_wrong(console: ConsoleAdapter) -> None:
    await console.ask("/registro", user_id="ana")
    assert "demasiado largo (5000 caracteres)" in text_of(await console.ask("x" * 5000, user_id="ana"))
    assert "sin < ni >" in text_of(await console.ask("<b>Red</b>", user_id="ana"))
    assert "con letras" in text_of(await console.ask("12345", user_id="ana"))
    await console.ask("Red Uno", user_id="ana")
    assert "No conozco el país «Narnia»" in text_of(await console.ask("Narnia", user_id="ana"))
    assert "Estados Unidos no está en América Latina y el Caribe" in text_of(
        await console.ask("EEUU", user_id="ana")
    )
    await console.ask("Honduras", user_id="ana")
    await console.ask("1", user_id="ana")
    assert "«WT7» no es una de las Mesas de Trabajo" in text_of(await console.ask("WT7", user_id="ana"))
    assert "Primero elige al menos una mesa" in text_of(await console.ask("listo", user_id="ana"))
    await console.ask("2", user_id="ana")
    await console.ask("Ana", user_id="ana")
    assert "le falta una @" in text_of(await console.ask("ana.example.org", user_id="ana"))
