"""The migration history is one line again after the feature branches, and downgrades cleanly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.db import Database, alembic_config


def test_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert heads == ["0006_pledges"]


async def test_upgrade_downgrade_upgrade(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)

    def tables(connection) -> set[str]:  # type: ignore[no-untyped-def]
        return set(inspect(connection).get_table_names()) - {"alembic_version"}

    def downgrade(connection) -> None:  # type: ignore[no-untyped-def]
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")

    try:
        await db.migrate()
        async with db.engine.begin() as connection:
            created = await connection.run_sync(tables)
            await connection.run_sync(downgrade)
            assert await connection.run_sync(tables) == set()
        await db.migrate()
        async with db.engine.begin() as connection:
            assert await connection.run_sync(tables) == created
        assert {"chats", "organisations", "meetings", "audit", "pledges", "pledge_rounds", "pledge_reports"} <= created
    finally:
        await db.close()


async def test_hardening_recomputes_name_keys_with_lookalikes(fresh_database_url: str) -> None:
    """0005 folds look-alikes into the stored keys; a row whose new key would repeat an earlier
    one's keeps its own, so the upgrade never fails and nothing is lost."""
    db = Database(fresh_database_url)

    def migrate(connection, target: str, down: bool = False) -> None:  # type: ignore[no-untyped-def]
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, target)

    rows = [("Red Uno", "reduno"), ("Rеd Uno", "rеduno"), ("Red Un0", "redun0"), ("Casa Migrante", "casamigrante")]
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(migrate, "0004_merge_features")
            for n, (name, key) in enumerate(rows, start=1):
                country = "MX" if n < 4 else "CO"
                await connection.execute(
                    text(
                        "INSERT INTO organisations (id, name, name_key, country, stakeholder_type, status, created_at)"
                        " VALUES (:id, :name, :key, :country, 'ngo', 'active', CURRENT_TIMESTAMP)"
                    ),
                    {"id": n, "name": name, "key": key, "country": country},
                )
            await connection.run_sync(migrate, "head")
            keys = dict((await connection.execute(text("SELECT id, name_key FROM organisations"))).all())
        assert keys == {1: "reduno", 2: "rеduno", 3: "redun0", 4: "casamigrante"}
        async with db.engine.begin() as connection:
            await connection.execute(text("UPDATE organisations SET name_key = 'rеduno-old' WHERE id = 1"))
            await connection.execute(text("DELETE FROM organisations WHERE id IN (2, 3)"))
            await connection.run_sync(migrate, "0004_merge_features", True)
            await connection.run_sync(migrate, "head")
            keys = dict((await connection.execute(text("SELECT id, name_key FROM organisations"))).all())
        assert keys == {1: "reduno", 4: "casamigrante"}
    finally:
        await db.close()


def test_the_alembic_command_line_reads_database_url_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a URL in alembic's configuration (the bare ``alembic`` command), the environment's
    ``DATABASE_URL`` is migrated: storage does not ask the bot's settings for it."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    cfg = alembic_config("sqlite://")
    cfg.set_main_option("sqlalchemy.url", "")
    command.upgrade(cfg, "head")
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"alembic_version", "chats", "meetings", "pledges"} <= tables
