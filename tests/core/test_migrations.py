"""The migration history is one line again after the feature branches, and downgrades cleanly."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import Database, alembic_config


def test_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert heads == ["0006_pledges"]


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    db = Database(database_url)

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
