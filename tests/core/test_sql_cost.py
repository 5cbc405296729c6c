"""What a message costs in SQL: a question answered from the knowledge base costs none once the
chat is known, the display reads of the Telegram benchmark's traffic (a table's next meetings,
the commands ``/ayuda`` lists, when "my" tables meet) none when repeated, and the outbox is
looked at only after a commit that planned something. What the read cache keeps is stale the
moment a commit changes its rows; privileges are never read from it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from bench.telegram_throughput import MESSAGES
from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.app import registries
from bot.hub import CoreHub
from handlers.core import Core
from handlers.services import Services
from storage import readcache, roles
from storage.db import Database
from storage.meetings import Meeting, add_meeting
from tests.conftest import FakeClock, make_settings
from tests.meetings.conftest import in_group, make_member, make_secretary, text_of

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


WHEN = "¿Cuándo se reúnen las mesas?"
SECRETARY_ONLY = "\n/reunion "
"""A command ``/ayuda`` lists to secretaries and admins only."""


@pytest.fixture
async def any_app(database_url: str, clock: FakeClock) -> AsyncIterator[App]:
    """The app on SQLite and on PostgreSQL."""
    application = App(make_settings(database_url), clock=clock)
    await application.start()
    yield application
    await application.close()


@pytest.fixture
def any_console(any_app: App, tmp_path: Path) -> ConsoleAdapter:
    adapter = ConsoleAdapter(any_app.hub, files_dir=tmp_path / "files", output=io.StringIO())
    any_app.add(adapter)
    return adapter


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


async def test_the_benchmarks_traffic_repeated_costs_no_sql(any_app: App, any_console: ConsoleAdapter) -> None:
    app, console = any_app, any_console
    await console.ask("/secretaria agregar WT3 console:sec", user_id="admin")
    await console.ask('/reunion nueva WT3 2027-02-15 15:00 "Reunión de febrero"', user_id="sec")
    await console.ask("/suscribir WT3", user_id="follower")
    await make_member(app, "console:member", "Red Uno", ["WT2"], at=app.services.clock.now())
    people = ("ana", "sec", "follower", "member")
    await app.scheduler.start()
    try:
        first = {(who, text): text_of(await console.ask(text, user_id=who)) for who in people for text in MESSAGES}
        await settle(app)
        with statements(app) as executed:
            again = {(who, text): text_of(await console.ask(text, user_id=who)) for who in people for text in MESSAGES}
            await settle(app)
        assert executed == []
    finally:
        await app.scheduler.stop()
    assert again == first
    assert "Reunión de febrero" in first[("ana", "/table WT3")] and "Reunión de febrero" in first[("ana", WHEN)]
    assert SECRETARY_ONLY in first[("sec", "/ayuda")] and SECRETARY_ONLY not in first[("ana", "/ayuda")]
    assert "WT3" in first[("follower", WHEN)] and "WT2" in first[("member", WHEN)]


async def test_meetings_created_moved_and_cancelled_are_shown_at_once(any_app: App, any_console: ConsoleAdapter) -> None:
    app, console = any_app, any_console

    async def shown() -> list[str]:
        """The table's card, the free-text question and /proxima, as a member sees them."""
        return [text_of(await console.ask(text, user_id="ana")) for text in ("/mesa 3", WHEN, "/proxima")]

    await console.ask("/secretaria agregar WT3 console:sec", user_id="admin")
    assert not any("Reunión de febrero" in text for text in await shown())
    await console.ask('/reunion nueva WT3 2027-02-15 15:00 "Reunión de febrero"', user_id="sec")
    created = await shown()
    assert all("Reunión de febrero" in text and "15" in text for text in created)
    await console.ask("/reunion mover 1 2027-02-17 15:00", user_id="sec")
    moved = await shown()
    assert all("Reunión de febrero" in text for text in moved) and moved != created
    assert all("17" in text for text in moved)
    await console.ask("/reunion cancelar 1", user_id="sec")
    assert not any("Reunión de febrero" in text for text in await shown())


async def test_a_meeting_that_started_is_no_longer_next(app: App, console: ConsoleAdapter, clock: FakeClock) -> None:
    async def card() -> str:
        replies = await console.ask("/mesa 3", user_id="ana")  # then what the outbox reported
        return text_of(replies[:1]).replace("Pasado mañana", "Pasado")

    await console.ask('/reunion nueva WT3 2027-01-11 15:00 "Mañana"', user_id="admin")
    await console.ask('/reunion nueva WT3 2027-01-12 15:00 "Pasado mañana"', user_id="admin")
    assert "Mañana" in await card()
    clock.advance(timedelta(days=1, hours=10))
    later = await card()
    assert "Mañana" not in later and "Pasado" in later
    clock.advance(timedelta(days=-1, hours=-10))  # a clock set back reads again
    assert "Mañana" in await card()


async def test_more_meetings_than_are_kept_are_read_again_as_they_pass(app: App, clock: FakeClock) -> None:
    start = clock.now()
    for hour in range(readcache.UPCOMING_KEPT + 3):
        async with app.db.transaction() as session:
            await add_meeting(session, Meeting(
                table_code="WT1", starts_at=start + timedelta(hours=hour + 1), timezone="UTC", offsets=[],
                created_by="console:admin",
            ))
    first = await readcache.upcoming(app.db, clock.now(), ["WT1"], limit=5)
    clock.advance(timedelta(hours=readcache.UPCOMING_KEPT - 2, minutes=30))
    later = await readcache.upcoming(app.db, clock.now(), ["WT1"], limit=5)
    assert [m.starts_at for m in first] == [start + timedelta(hours=h) for h in range(1, 6)]
    assert [m.starts_at for m in later] == [start + timedelta(hours=h) for h in range(readcache.UPCOMING_KEPT - 1, readcache.UPCOMING_KEPT + 4)]


async def test_roles_granted_and_revoked_are_listed_at_once(any_app: App, any_console: ConsoleAdapter) -> None:
    console = any_console
    assert SECRETARY_ONLY not in text_of(await console.ask("/ayuda", user_id="sec"))
    await console.ask("/secretaria agregar WT3 console:sec", user_id="admin")
    assert SECRETARY_ONLY in text_of(await console.ask("/ayuda", user_id="sec"))
    await console.ask("/secretaria quitar WT3 console:sec", user_id="admin")
    assert SECRETARY_ONLY not in text_of(await console.ask("/ayuda", user_id="sec"))


async def test_subscriptions_and_memberships_change_which_tables_meet_at_once(
    any_app: App, any_console: ConsoleAdapter
) -> None:
    app, console = any_app, any_console
    await make_secretary(app, "fake:sec", "WT3")
    assert "WT3" not in text_of(await in_group(app, "-100", "sec", WHEN))
    await in_group(app, "-100", "sec", "/suscribir WT3")
    assert "WT3" in text_of(await in_group(app, "-100", "sec", WHEN))
    await in_group(app, "-100", "sec", "/desuscribir WT3")
    assert "WT3" not in text_of(await in_group(app, "-100", "sec", WHEN))
    # in private: the person's organisation's tables, once approved
    assert "WT2" not in text_of(await console.ask(WHEN, user_id="member"))
    await make_member(app, "console:member", "Red Uno", ["WT2"], at=app.services.clock.now())
    assert "WT2" in text_of(await console.ask(WHEN, user_id="member"))


async def test_a_privilege_is_checked_afresh_while_the_display_lags(any_app: App, any_console: ConsoleAdapter) -> None:
    """Another process (here a second connection) revokes a role: this process's cached
    ``/ayuda`` may list the command a moment longer, the command itself is refused at once."""
    console = any_console
    await console.ask("/secretaria agregar WT3 console:sec", user_id="admin")
    assert SECRETARY_ONLY in text_of(await console.ask("/ayuda", user_id="sec"))
    other = Database(any_app.db.url)
    try:
        async with other.transaction() as session:
            assert await roles.remove_secretary(session, "console:sec", "WT3")
    finally:
        await other.close()
    refused = text_of(await console.ask('/reunion nueva WT3 2027-02-15 15:00 "Febrero"', user_id="sec"))
    assert "solo una persona administradora o la secretaría de la mesa" in refused


async def test_a_cached_read_lives_at_most_its_time_to_live(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = readcache.ReadCache(ttl=readcache.SHARED_TTL)
    now = [1000.0]
    monkeypatch.setattr(readcache.time, "monotonic", lambda: now[0])
    loads: list[int] = []

    async def load() -> int:
        loads.append(len(loads))
        return len(loads)

    assert await cache.get("k", ("roles",), load) == 1
    now[0] += readcache.SHARED_TTL - 0.1
    assert await cache.get("k", ("roles",), load) == 1
    now[0] += 0.2
    assert await cache.get("k", ("roles",), load) == 2
    cache.changed(["roles"])
    assert await cache.get("k", ("roles",), load) == 3
    cache.changed(["meetings"])
    assert await cache.get("k", ("roles",), load) == 3
    cache.changed([readcache.EVERY_TABLE])
    assert await cache.get("k", ("roles",), load) == 4


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
