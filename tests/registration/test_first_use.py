"""Issue 12 (items 5 and 11): the wizard's tables step, answers it cannot use, and its notes."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from tests.conftest import FakeClock, make_settings
from tests.registration.conftest import ANSWERS_ES, run_wizard, step_of, text_of

TO_TABLES = ("/registro", "Red X", "México", "2")


async def start_at_tables(console: ConsoleAdapter, user: str) -> None:
    for answer in TO_TABLES:
        await console.ask(answer, user_id=user)


async def test_typed_numbers_and_buttons_end_the_tables_step_alike(app: App, console: ConsoleAdapter) -> None:
    await start_at_tables(console, "typist")
    typed = text_of(await console.ask("1 2", user_id="typist"))
    await start_at_tables(console, "presser")
    await console.ask("+WT1", user_id="presser")
    await console.ask("+WT2", user_id="presser")
    pressed = text_of(await console.ask("listo", user_id="presser"))
    assert typed == pressed
    assert "WT1, WT2" in typed and "Pregunta 5 de 7" in typed
    assert await step_of(app, "typist") == await step_of(app, "presser") == "contact"


async def test_done_words_are_never_taken_as_a_name(app: App, console: ConsoleAdapter) -> None:
    await start_at_tables(console, "ana")
    await console.ask("1 2", user_id="ana")
    for word in ("done", "Listo", "ok", "OK."):
        reply = text_of(await console.ask(word, user_id="ana"))
        assert "Pregunta 5 de 7" not in reply and "nombre" in reply
        assert await step_of(app, "ana") == "contact"
    await console.ask("/cancelar", user_id="ana")
    for word in ("listo", "done"):
        await console.ask("/registro", user_id="ana")
        assert "nombre" in text_of(await console.ask(word, user_id="ana"))
        assert await step_of(app, "ana") == "name"
        await console.ask("/cancelar", user_id="ana")


async def test_after_two_unusable_answers_the_way_out_is_recalled(app: App, console: ConsoleAdapter) -> None:
    await start_at_tables(console, "ana")
    first = text_of(await console.ask("ninguna", user_id="ana"))
    assert "/atras" not in first and "/cancelar" not in first
    second = text_of(await console.ask("???", user_id="ana"))
    assert "/atras" in second and "/cancelar" in second
    assert "Pregunta 5 de 7" in text_of(await console.ask("1", user_id="ana"))
    assert "/cancelar" not in text_of(await console.ask("12", user_id="ana"))  # counted afresh per step


async def test_registration_without_admins_does_not_claim_they_were_told(sqlite_url: str, tmp_path: Path) -> None:
    for admins, told in ((frozenset(), False), (frozenset({"console:admin"}), True)):
        app = App(make_settings(sqlite_url.replace(".sqlite3", f"{told}.sqlite3"), bot_admins=admins), clock=FakeClock())
        await app.start()
        try:
            console = ConsoleAdapter(app.hub, files_dir=tmp_path)
            thanks = text_of(await run_wizard(console, "ana", ANSWERS_ES))
            assert ("avisé a las personas administradoras" in thanks) is told
            assert ("ni un administrador a quien avisar" in thanks) is not told
        finally:
            await app.close()


async def test_registering_again_suggests_a_table_not_yet_asked_for(app: App, console: ConsoleAdapter) -> None:
    await run_wizard(console, "ana", ANSWERS_ES)  # WT1 and WT3
    again = text_of(await console.ask("/registro", user_id="ana"))
    assert "/unirse WT2" in again and "WT1" not in again and "WT3" not in again
    await run_wizard(console, "bea", ("Otra Red", "Chile", "2", "1 2 3 4", "Bea Ruiz", "bea@example.org", "sí", "confirmar"))
    assert "/unirse" not in text_of(await console.ask("/registro", user_id="bea"))
