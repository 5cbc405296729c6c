"""Commands are declared once: their usage lines are generated from their typed arguments in
every language, and a command with two typed arguments is one declaration and one function,
working end to end through the console and the core (a parse error answers with the usage)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App, registries
from bot.hub import CoreHub
from handlers import basics
from handlers.arguments import Durations, Flag, Number, Option, Page, TableRef, Text, parse
from handlers.context import Context
from handlers.errors import UserError
from handlers.core import Core
from handlers.i18n import LANGUAGES, N_, _, use_locale
from handlers.markup import esc, plain
from handlers.message import Reply
from handlers.registry import CommandTable, Registry, usage_line
from handlers.roles import Person
from handlers.services import Services
from handlers.understanding import INTENTS
from handlers.vocabulary import shown_word
from tests.meetings.conftest import text_of

HANDLERS = Path(basics.__file__).parent


def test_no_usage_line_is_written_by_hand() -> None:
    """No declaration passes a hand-written ``args=`` text, and the registry takes none."""
    assert "args" not in inspect.signature(Registry.command).parameters
    written = []
    for path in HANDLERS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and any(k.arg == "args" for k in node.keywords):
                written.append(f"{path.name}:{node.lineno}")
    assert written == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_declared_argument_and_word_appears_in_the_usage(lang: str) -> None:
    table = CommandTable(registries())
    checked = 0
    with use_locale(lang):
        for command in table.commands:
            for action in command.actions:
                line = usage_line(command, action)
                assert line.startswith(f"/{command.name(lang)}")
                if action is not command:
                    assert line.split()[1] == shown_word(command.en, action.key), line  # type: ignore[attr-defined]
                for argument in action.arguments:
                    if isinstance(argument, Page):
                        continue  # p2: sent by the "More" button, not typed
                    placeholder = argument.placeholder()
                    assert placeholder and placeholder in line, (command.en, argument.name, line)
                    if isinstance(argument, (Flag, Option)):
                        assert f"--{shown_word(argument.group, argument.name)}" in line
                    checked += 1
    assert checked > 40


# a command declared in a test registry --------------------------------------------

tests_registry = Registry()


@tests_registry.command(
    "remind_me", "recordarme", TableRef(greedy=False), Number(name="days", label=N_("N"), low=1, high=30),
    help=N_("test: a table's reminder some days ahead"),
)  # fmt: skip
async def remind_me(ctx: Context, table: str, days: int) -> Reply:
    """Typed: the table's code and a whole number, ready to use."""
    assert isinstance(days, int)
    return ctx.reply(esc(f"{table} in {days * 24} hours"))


@pytest.fixture
def test_console(app: App, tmp_path: Path) -> ConsoleAdapter:
    services = Services.build(app.db, app.services.config, [basics.registry, tests_registry], app.services.clock)
    return ConsoleAdapter(CoreHub(Core(services)), files_dir=tmp_path / "files")


async def test_a_command_with_two_typed_arguments_works_end_to_end(test_console: ConsoleAdapter) -> None:
    assert text_of(await test_console.ask("/recordarme mesa2 3")) == "WT2 in 72 hours"
    assert text_of(await test_console.ask("/remind_me 2 30")) == "WT2 in 720 hours"


@pytest.mark.parametrize(
    ("typed", "lang", "problem"),
    [
        ("/recordarme WT9 3", "es", "No conozco la mesa «WT9»"),
        ("/recordarme WT2 31", "es", "«31» no es un número que pueda usar."),
        ("/recordarme WT2", "es", "Falta un dato: N."),
        ("/recordarme WT2 3 más", "es", "No esperaba «más» ahí."),
        ("/remind_me WT2 x", "en", "“x” is not a number I can use."),
    ],
)
async def test_a_parse_error_answers_with_the_generated_usage(
    test_console: ConsoleAdapter, typed: str, lang: str, problem: str
) -> None:
    text = text_of(await test_console.ask(typed))
    with use_locale(lang):
        usage = _("Usage: {usage}").format(usage=f"/{typed.split()[0][1:]} <{_('table')}> N")
    assert problem in text and text.endswith(usage), text


async def test_help_lists_the_generated_usage_and_details_one_command(test_console: ConsoleAdapter) -> None:
    listing = text_of(await test_console.ask("/ayuda"))
    assert "/recordarme <mesa> N — test: a table's reminder some days ahead" in listing
    details = text_of(await test_console.ask("/ayuda recordarme"))
    assert details.splitlines()[1:] == ["/recordarme <mesa> N"]


async def test_a_commands_own_help_lists_its_sub_commands_in_the_chats_language(
    app: App, console: ConsoleAdapter
) -> None:
    details = text_of(await console.ask("/ayuda reunion", user_id="admin"))
    assert "/reunion nueva <mesa> <fecha> <hora> [zona] [título] [enlace] [--trimestral] [--recordar 7d,1d,1h]" in details
    assert "/reunion cancelar N [todas]" in details
    assert details == text_of(await console.ask("/reunion", user_id="admin"))
    french = text_of(await console.ask("/aide reunion", user_id="admin"))
    assert "/reunion ajouter <table> <date> <heure> [fuseau]" in french
    assert "no conozco" in plain(text_of(await console.ask("/ayuda nada"))).lower()


# the parser on its own -------------------------------------------------------------


def test_flags_and_options_anywhere_quoted_words_and_raw_text() -> None:
    declaration = (
        TableRef(greedy=False), Text(name="title", optional=True),
        Flag(name="quarterly", group="meeting"), Option(name="remind", group="meeting", value=Durations()),
    )  # fmt: skip
    with use_locale("es"):
        values = parse(None, declaration, "--trimestral WT2 “Reunión de mesa” --recordar=3d 2h")
        assert values == {"table": "WT2", "title": "Reunión de mesa", "quarterly": True, "remind": [259200, 7200]}
        assert parse(None, declaration, "mesa2")["remind"] is None
        raw = (TableRef(greedy=False), Text(name="text", raw=True))
        assert parse(None, raw, 'WT2 Línea "uno"\n  línea dos')["text"] == 'Línea "uno"\n  línea dos'
        with pytest.raises(UserError, match="--semanal"):
            parse(None, declaration, "WT2 --semanal")


def test_an_argument_taken_from_anywhere() -> None:
    declaration = (TableRef(greedy=False), Person())
    assert parse(None, declaration, "console:sec mesa2") == {"table": "WT2", "person": "console:sec"}
    assert parse(None, declaration, "WT2 @ana") == {"table": "WT2", "person": "@ana"}


def test_every_intent_the_understanding_gives_is_answered_by_a_declared_command() -> None:
    table = CommandTable(registries())
    assert set(INTENTS) <= set(table.intents)
    assert all(action.handler is not None for action in table.intents.values())
