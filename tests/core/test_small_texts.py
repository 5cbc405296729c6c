"""Issue 12 item 11: the smaller texts — plurals, language names, internal jargon."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.knowledge import load_knowledge
from tests.meetings.conftest import make_chat, make_member, text_of


async def test_broadcast_preview_counts_with_plurals(app: App, console: ConsoleAdapter) -> None:
    await make_chat(app, "-1", tables=["WT4"])
    one = text_of(await console.ask("/difundir WT4 Hola", user_id="admin"))
    assert "1 chat y 0 contactos de organizaciones miembro" in one and "1 chats" not in one
    await make_chat(app, "-2", tables=["WT4"])
    await make_member(app, "fake:9", "Org", ["WT4"], at=app.services.clock.now())
    two = text_of(await console.ask("/difundir WT4 Hola", user_id="admin"))
    assert "2 chats y 1 contacto de organización miembro" in two
    english = text_of(await console.ask("/broadcast WT4 Hi", user_id="admin"))
    assert "2 chats and 1 member contact will receive" in english


async def test_language_names_are_lower_case_mid_sentence_in_spanish(console: ConsoleAdapter) -> None:
    asked = text_of(await console.ask("/idioma", user_id="ana"))
    assert "Este chat está en español" in asked
    assert "respondo en español" in text_of(await console.ask("/idioma es", user_id="ana"))
    assert "I answer in English" in text_of(await console.ask("/idioma en", user_id="ana"))
    assert "respondo en español" in text_of(await console.ask("/idioma español", user_id="ana"))


async def test_table_descriptions_carry_no_internal_jargon(console: ConsoleAdapter) -> None:
    for table in load_knowledge().tables.values():
        for lang in ("en", "es"):
            assert "seed" not in table.description(lang).lower()
    assert "seeds" not in text_of(await console.ask("/table TT", user_id="ana"))
