"""Every privileged command refuses everyone else, clearly and with a log line.

Parametrized over the registry itself, so a new privileged command is tested as soon as it exists."""

from __future__ import annotations

import logging

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App, registries
from handlers.i18n import _, use_locale
from handlers.registry import CommandTable
from storage import roles
from tests.registration.conftest import text_of

PRIVILEGED = [c for c in CommandTable(registries()).commands if c.privileged]
ARGUMENTS = ("", "1", "WT1", "add WT1 console:bob")


def refusal(lang: str) -> str:
    with use_locale(lang):
        return _("Sorry, only an administrator or the table's secretary can do that.")


def test_the_registration_commands_are_privileged() -> None:
    names = {c.en for c in PRIVILEGED}
    assert {"approve", "reject", "pending", "members", "export", "secretary", "audit"} <= names
    assert not {"register", "organisation", "join", "leave", "forget", "back"} & names


@pytest.mark.parametrize("command", PRIVILEGED, ids=[c.en for c in PRIVILEGED])
@pytest.mark.parametrize("name_language", ["en", "es"])
async def test_privileged_command_refuses_a_member(
    app: App,
    console: ConsoleAdapter,
    caplog: pytest.LogCaptureFixture,
    command,
    name_language: str,  # type: ignore[no-untyped-def]
) -> None:
    name = command.name(name_language)
    for args in ARGUMENTS:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="handlers.context"):
            replies = await console.ask(f"/{name} {args}".strip(), user_id="bob")
        assert text_of(replies) in (refusal("es"), refusal("en")), (name, args, text_of(replies))
        assert "refused" in caplog.text and "console:bob" in caplog.text, (name, args)
    async with app.db.transaction() as session:
        assert await roles.secretary_tables(session, "console:bob") == set()


ADMIN_ONLY = [c for c in PRIVILEGED if c.en in ("secretary", "audit")]


@pytest.mark.parametrize("command", ADMIN_ONLY, ids=[c.en for c in ADMIN_ONLY])
async def test_admin_commands_refuse_a_secretary(console: ConsoleAdapter, command) -> None:  # type: ignore[no-untyped-def]
    await console.ask("/secretaria agregar WT1 console:sec", user_id="admin")
    replies = await console.ask(f"/{command.es} agregar WT1 console:sec", user_id="sec")
    assert text_of(replies) == refusal("es")


@pytest.mark.parametrize("text", ["/miembros WT2", "/exportar WT2", "/members WT4"])
async def test_a_secretary_sees_only_their_tables(console: ConsoleAdapter, text: str) -> None:
    await console.ask("/secretaria agregar WT1 console:sec", user_id="admin")
    assert text_of(await console.ask(text, user_id="sec")) in (refusal("es"), refusal("en"))


async def test_privileged_commands_are_hidden_from_members_help(console: ConsoleAdapter) -> None:
    member = text_of(await console.ask("/ayuda", user_id="bob"))
    admin = text_of(await console.ask("/ayuda", user_id="admin"))
    assert "/registro" in member and "/aprobar" not in member and "/auditoria" not in member
    assert "/aprobar" in admin and "/secretaria" in admin and "/auditoria" in admin


PRIVILEGED_SUBCOMMANDS = [
    "/compromisos pedir WT1", "/pledges request all", "/compromisos informe WT1", "/pledges report all 2027-01",
    "/compromisos seguimiento 7 14", "/pledges followups 3", "/exportar compromisos WT1", "/export pledges all",
]
"""Privileged words of commands that anyone may send alone (``/compromisos``, ``/exportar``)."""


@pytest.mark.parametrize("text", PRIVILEGED_SUBCOMMANDS)
async def test_privileged_subcommands_refuse_a_member(
    console: ConsoleAdapter, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="handlers.context"):
        replies = await console.ask(text, user_id="bob")
    assert text_of(replies) in (refusal("es"), refusal("en"))
    assert "refused" in caplog.text and "console:bob" in caplog.text


@pytest.mark.parametrize("text", ["/pledges request all", "/compromisos informe todo", "/compromisos seguimiento 7"])
async def test_pledge_admin_subcommands_refuse_a_secretary(console: ConsoleAdapter, text: str) -> None:
    await console.ask("/secretaria agregar WT1 console:sec", user_id="admin")
    assert text_of(await console.ask(text, user_id="sec")) in (refusal("es"), refusal("en"))


async def test_a_pledge_file_from_a_member_is_refused(console: ConsoleAdapter, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pledges.csv"
    path.write_text("organisation,title,objectives\nRed,Albergues,10\n")
    assert text_of(await console.ask(f":file {path}", user_id="bob")) == refusal("es")
