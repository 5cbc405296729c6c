"""The database: an async engine, transactions, and migrations to the newest schema."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from storage.readcache import SHARED_TTL, WRITTEN, ReadCache, TrackedSession

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PLANNED = "planned"
"""``session.info`` flag: this transaction planned something for the outbox."""


def mark_planned(session: AsyncSession) -> None:
    """Say that ``session``'s transaction planned a message: once it commits, the outbox is woken."""
    session.info[PLANNED] = True


DEFAULT_URL = "sqlite+aiosqlite:///./data/gcmbot.sqlite3"
"""Where the bot keeps its data when ``DATABASE_URL`` is not set."""

MIGRATION_LOCK = 0x67636D6D
"""A PostgreSQL advisory lock (per transaction) around the upgrade: two processes migrating a
fresh database at once would otherwise both create the same tables and one would fail."""


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@functools.cache
def _script_heads() -> tuple[str, ...]:
    """The head revisions of the migrations shipped with this code (they do not change while it runs)."""
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


class Database:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_async_engine(url, pool_pre_ping=not self.is_sqlite)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=TrackedSession)
        self.reads = ReadCache(ttl=None if self.is_sqlite else SHARED_TTL)
        """Display reads, made stale by this process's commits (and, with PostgreSQL, by time)."""
        self.on_planned: list[Callable[[], None]] = []
        """Called after a commit that planned something (:func:`mark_planned`): the outbox's wake-up."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self._sessions() as session:
            async with session.begin():
                yield session
            self.reads.changed(session.info.pop(WRITTEN, ()))
            if session.info.pop(PLANNED, False):
                for callback in self.on_planned:
                    callback()

    async def migrate(self) -> None:
        """Bring the schema to every head revision (feature migrations branch from the core)."""

        def upgrade(connection: Connection) -> None:
            if set(MigrationContext.configure(connection).get_current_heads()) == set(_script_heads()):
                return  # current: alembic would load every revision file only to find nothing to do
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "heads")

        async with self.engine.begin() as connection:
            if not self.is_sqlite:  # processes starting together take turns (see MIGRATION_LOCK)
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            await connection.run_sync(upgrade)

    async def pending_migrations(self) -> list[str]:
        """The revisions not applied yet (empty: the schema is current)."""

        def pending(connection: Connection) -> list[str]:
            scripts = ScriptDirectory.from_config(alembic_config(self.url))
            applied = set(MigrationContext.configure(connection).get_current_heads())
            heads = scripts.get_heads()
            if set(heads) <= applied:
                return []
            done = {rev.revision for rev in scripts.iterate_revisions(list(applied), "base")} if applied else set()
            todo = {rev.revision for rev in scripts.iterate_revisions(heads, "base")} - done
            return sorted(todo)

        async with self.engine.connect() as connection:
            return await connection.run_sync(pending)

    async def close(self) -> None:
        await self.engine.dispose()
