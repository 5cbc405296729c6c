"""Issue 12 item 3 (and 13 for Portuguese and French): every command, rendered in Spanish,
Portuguese or French, carries no English text from the catalog.

Generic over the registry and the catalogs: each declared command is sent bare and with the
usual kinds of argument, by an administrator who is a member and secretary too, in a Spanish
chat with data to show; any English message id (or a piece of one between placeholders) whose
translation is different must not appear in what the bot answers."""

from __future__ import annotations

import re
from functools import cache

import pytest
from babel.messages.pofile import read_po

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.i18n import DOMAIN, LOCALES_DIR
from handlers.knowledge import load_knowledge
from handlers.markup import plain
from handlers.message import Reply
from tests.registration.conftest import run_wizard

ARGUMENTS = ("", "WT1", "1", "WT1 1")
PLACEHOLDER = re.compile(r"\{\w*\}")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


@cache
def translated_corpus(lang: str) -> str:
    """Everything the bot may legitimately say in ``lang``: translations and the knowledge base."""
    with (LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        strings = [s for m in read_po(handle, locale=lang) for s in _strings(m.string)]
    knowledge = load_knowledge()
    strings += [o.title(lang) + " " + o.summary(lang) + " " + o.commitments(lang) for o in knowledge.objectives.values()]
    strings += [t.name(lang) + " " + t.description(lang) + " ".join(t.priorities(lang)) for t in knowledge.tables.values()]
    return "\n".join(strings).lower()


def _strings(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, tuple) else (str(value),)


@cache
def english_pieces(lang: str) -> list[re.Pattern[str]]:
    """Patterns of catalog English that Spanish replies must not contain: each id's text between
    placeholders, when it has two words or more, or is a whole one-word message; pieces that are
    also Spanish (names, shared words) are left out."""
    with (LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    corpus = translated_corpus(lang)
    patterns: dict[str, re.Pattern[str]] = {}
    for message in catalog:
        if not message.id:
            continue
        spanish = " ".join(_strings(message.string))
        for english in _strings(message.id):
            for piece in PLACEHOLDER.split(english):
                piece = piece.strip(" .,:;!?()«»“”\"'—-\n")
                words = WORD.findall(piece)
                whole_word = len(words) == 1 and piece == english.strip(" .:!?") and len(piece) >= 5
                if not (len(words) >= 2 or whole_word) or piece in spanish or piece.lower() in corpus:
                    continue
                patterns[piece] = re.compile(rf"(?<![\w/]){re.escape(piece)}(?![\w])")
    return list(patterns.values())


def shown(replies: list[Reply]) -> str:
    parts = [plain(r.html) for r in replies]
    parts += [button.label for r in replies for row in r.buttons for button in row]
    return "\n".join(parts)


WIZARD = {
    "es": None,
    "pt": ("Rede Migrante", "Brasil", "2", "1 3", "Ana Souza", "ana@example.org", "sim", "confirmar"),
    "fr": ("Réseau Migrant", "Haïti", "2", "1 3", "Anne Joseph", "anne@example.org", "oui", "confirmer"),
}


@pytest.mark.parametrize(
    # Spanish in `make check`; the same sweep over the Portuguese and French catalogs in `make test`
    "lang", [lang if lang == "es" else pytest.param(lang, marks=pytest.mark.slow) for lang in sorted(WIZARD)]
)
async def test_every_command_answers_in_its_language_without_english_catalog_text(
    app: App, console: ConsoleAdapter, lang: str
) -> None:
    await console.ask(f"/idioma {lang}", user_id="admin")
    await console.ask("/secretaria agregar WT1 console:admin", user_id="admin")
    await run_wizard(console, "admin", *(() if WIZARD[lang] is None else (WIZARD[lang],)))
    await run_wizard(console, "ana", ("Otra Red", "Chile", "2", "1 2", "Ana Ruiz", "ana@example.org", "sí", "confirmar"))
    await console.ask('/reunion nueva WT1 2027-02-15 15:00 America/Lima "Reunión trimestral" --trimestral', user_id="admin")
    await console.ask("/suscribir WT1", user_id="admin")
    patterns = english_pieces(lang)
    assert len(patterns) > 100
    commands = app.services.commands.commands
    assert len(commands) > 25
    leaks: list[str] = []
    for command in commands:
        for arguments in ARGUMENTS:
            text = f"/{command.name(lang)} {arguments}".strip()
            answer = shown(await console.ask(text, user_id="admin"))
            assert answer, text
            leaks += [f"{text!r}: {p.pattern}" for p in patterns if p.search(answer)]
            await console.ask(f"/{app.services.commands.by_english_name('cancel').name(lang)}", user_id="admin")
    assert not leaks, leaks[:20]
