"""Item 1 of issue 12: without a PostgreSQL on the machine, the suite brings its own."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import psutil
import pytest

from tests.postgres_server import EmbeddedPostgres, configured


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_nothing_configured_when_no_server_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("TEST_PG_PORT", str(unused_port()))
    assert configured() is None


def test_a_given_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://ci@db.example:6543/admin")
    server = configured()
    assert server is not None
    assert server.database_url("x") == "postgresql+asyncpg://ci@db.example:6543/x"


@pytest.mark.slow  # starts a PostgreSQL server of its own
def test_embedded_server_runs_migrations_and_is_gone_afterwards() -> None:
    from storage.db import Database

    embedded = EmbeddedPostgres()
    server = embedded.start()
    try:
        async def exercise() -> list[str]:
            conn = await asyncpg.connect(server.admin_dsn())
            try:
                await conn.execute('CREATE DATABASE "fallback"')
            finally:
                await conn.close()
            db = Database(server.database_url("fallback"))
            await db.migrate()
            await db.close()
            conn = await asyncpg.connect(server.admin_dsn().replace("/postgres?", "/fallback?"))
            try:
                rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            finally:
                await conn.close()
            return [row["tablename"] for row in rows]

        tables = asyncio.run(exercise())
        assert "chats" in tables and "alembic_version" in tables
    finally:
        embedded.stop()
    assert not embedded.directory.exists()
    leftovers = [
        p for p in psutil.process_iter(["cmdline"]) if str(embedded.directory) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []
