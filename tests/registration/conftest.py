"""Helpers for the registration tests: the wizard's answers, replies by recipient, state and rows."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.markup import plain
from handlers.message import Reply
from storage import conversations, organisations
from storage.organisations import Organisation

ANSWERS_ES = (
    "Red Migrante Sin Fronteras",
    "méxico",
    "2",
    "1 3",
    "Ana Pérez",
    "ana@example.org",
    "sí",
    "confirmar",
)
ANSWERS_EN = (
    "Migrant Voices",
    "Brazil",
    "Trade union",
    "WT2, WT4",
    "John Smith",
    "john@example.org",
    "yes",
    "confirm",
)


def text_of(replies: Sequence[Reply]) -> str:
    return "\n".join(plain(r.html) for r in replies)


def to_user(replies: Sequence[Reply], user: str) -> list[Reply]:
    """The replies addressed to the console user ``user`` (their chat, or their private chat)."""
    return [r for r in replies if r.to is not None and user in (r.to.chat_id, r.to.user_id)]


def commands(reply: Reply) -> list[str]:
    return [button.command for row in reply.buttons for button in row]


async def run_wizard(
    console: ConsoleAdapter, user: str, answers: Sequence[str] = ANSWERS_ES, start: str = "/registro"
) -> list[Reply]:
    """Start the wizard and give every answer; the replies to the last one."""
    await console.ask(start, user_id=user)
    for answer in answers[:-1]:
        await console.ask(answer, user_id=user)
    return await console.ask(answers[-1], user_id=user)


async def step_of(app: App, user: str) -> str | None:
    async with app.db.transaction() as session:
        row = await conversations.get_conversation(session, "console", user, user)
        return row.step if row else None


async def organisation_of(app: App, user: str) -> Organisation | None:
    async with app.db.transaction() as session:
        return await organisations.organisation_of(session, f"console:{user}")


async def request_ids(app: App) -> dict[str, int]:
    """Pending request numbers by table."""
    async with app.db.transaction() as session:
        return {m.table_code: m.id for m in await organisations.pending_requests(session)}


@pytest.fixture
async def secretary(console: ConsoleAdapter) -> str:
    """``console:sec``, secretary of WT1 and WT3 (Spanish, the default language)."""
    await console.ask("hola", user_id="sec")
    for table in ("WT1", "WT3"):
        await console.ask(f"/secretaria agregar {table} console:sec", user_id="admin")
    return "sec"
