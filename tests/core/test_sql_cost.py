"""What a message costs in SQL: a question answered from the knowledge base costs none once the
chat is known, and the outbox is looked at only after a commit that planned something."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy import event

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.app import registries
from bot.hub import CoreHub
from handlers.core import Core
from handlers.services import Services
from tests.meetings.conftest import text_of

QUESTIONS = (
    "/objetivo 10",
    "/objective 5",
    "¿Qué mesa trabaja sobre la trata de personas?",
    "Which table works on human trafficking?",
    "/mesas",
    "/objetivos",
)
"""Answered from the knowledge base. (``/ayuda`` reads the sender's roles every time, to list
a secretary's commands: privileges are never cached; ``/mesa N`` reads the table's next
meetings.)"""


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    """Every SQL statement the app's engine executes inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = app.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def settle(app: App) -> None:
    """Let a woken outbox start its pass, and wait until it has ended."""
    await asyncio.sleep(0.05)
    await app.sender.idle()


async def test_a_repeated_question_costs_no_sql(app: App, console: ConsoleAdapter) -> None:
    await app.scheduler.start()
    try:
        for question in QUESTIONS:
            await app.dispatch(console.message(question, "ana"))
        await settle(app)
        with statements(app) as executed:
            for question in QUESTIONS:
                await app.dispatch(console.message(question, "ana"))
            await settle(app)
        assert executed == []
    finally:
        await app.scheduler.stop()


async def test_the_outbox_is_woken_by_a_commit_that_planned_something(app: App, console: ConsoleAdapter) -> None:
    woken: list[bool] = []
    app.db.on_planned.append(lambda: woken.append(True))
    await console.ask("hola", user_id="sec")
    await console.ask("/objetivo 3", user_id="sec")
    assert woken == []
    await console.ask("/secretaria agregar WT1 console:sec", user_id="admin")  # the new secretary is told
    assert woken == [True]


async def test_the_caches_of_chats_people_and_dialogues_are_bounded(app: App) -> None:
    services = Services.build(app.db, replace(app.services.config, cache_size=5), registries(), app.services.clock)
    console = ConsoleAdapter(CoreHub(Core(services)))
    for number in range(12):
        await console.ask("hola", user_id=f"user{number}")
    assert len(services.chats._chats) == len(services.chats._seen) == len(services.dialogues._known) == 5
    [reply] = await console.ask("/objetivo 3", user_id="user0")  # forgotten, read again: still answered
    assert "3" in text_of([reply])
