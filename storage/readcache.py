"""A small cache for display reads (a table's next meetings, the tables a chat follows, whose
commands ``/ayuda`` lists), so that a repeated question costs no SQL.

Every entry names the tables its rows come from. Each table has a generation, bumped after a
commit that wrote it (:class:`TrackedSession` notes what a transaction wrote: its flushes and
its bulk INSERT/UPDATE/DELETE); an entry read under an older generation is read again. The
generation is taken *before* the read, so a commit that lands while the read is under way makes
the entry stale at once, never the other way round.

Across processes (several share one PostgreSQL), this process does not see the others' commits:
there an entry lives at most :data:`SHARED_TTL` seconds, the staleness bound of a display read
after another process's write. With SQLite only one process runs, and entries live until a
write makes them stale.

Privileges are never read from here: ``require_secretary`` and friends read the roles every time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from cachetools import LRUCache
from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage import meetings, roles
from storage.meetings import Meeting
from storage.models import Role

T = TypeVar("T")

WRITTEN = "written"
"""``session.info`` key: the names of the tables this transaction wrote (``*``: unknown, all)."""
EVERY_TABLE = "*"
SHARED_TTL = 5.0
"""Seconds a cached read lives when other processes may write the same database (PostgreSQL)."""
SIZE = 10_000


class TrackedSession(Session):
    """A session that notes in ``info[WRITTEN]`` the tables its transaction writes."""


def _written(session: Session) -> set[str]:
    return session.info.setdefault(WRITTEN, set())  # type: ignore[no-any-return]


@event.listens_for(TrackedSession, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    tables = _written(session)
    for instance in (*session.new, *session.dirty, *session.deleted):
        tables.update(table.name for table in inspect(instance).mapper.tables)


@event.listens_for(TrackedSession, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    """Bulk statements (``delete(Role).where(...)``) bypass the flush; text SQL counts as all."""
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    dml = state.is_insert or state.is_update or state.is_delete
    _written(state.session).add(table.name if dml and table is not None else EVERY_TABLE)


class Source(Protocol):
    """What the cached reads need of :class:`storage.db.Database`."""

    reads: ReadCache

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...


class ReadCache:
    """Display reads by key, each valid while the generations of its tables stay the same."""

    def __init__(self, *, ttl: float | None, size: int = SIZE) -> None:
        self.ttl = ttl
        self._generations: dict[str, int] = {}
        self._every = 0
        """Bumped by writes of unknown tables: every entry is stale."""
        self._entries: LRUCache[Hashable, tuple[tuple[int, ...], float, Any]] = LRUCache(size)

    def changed(self, tables: Iterable[str]) -> None:
        """Called after a commit that wrote ``tables``."""
        for table in tables:
            if table == EVERY_TABLE:
                self._every += 1
            else:
                self._generations[table] = self._generations.get(table, 0) + 1

    def _stamp(self, tables: Collection[str]) -> tuple[int, ...]:
        return (self._every, *(self._generations.get(table, 0) for table in tables))

    async def get(
        self,
        key: Hashable,
        tables: Collection[str],
        load: Callable[[], Awaitable[T]],
        *,
        usable: Callable[[T], bool] | None = None,
    ) -> T:
        """The value cached under ``key``, or ``load()``'s (then cached); ``tables`` are those
        ``load`` reads (in the same order for the same key). ``usable`` may refuse a cached
        value that time has made insufficient (it is then read again)."""
        stamp = self._stamp(tables)
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] == stamp and now < found[1] and (usable is None or usable(found[2])):
            return found[2]  # type: ignore[no-any-return]
        value = await load()
        self._entries[key] = (stamp, now + self.ttl if self.ttl is not None else float("inf"), value)
        return value


# the cached reads -----------------------------------------------------------------------

UPCOMING_KEPT = 20
"""How many of a table set's next meetings are kept: enough for every display limit, with spare
for those that start while they are cached."""


async def upcoming(db: Source, now: datetime, tables: Collection[str] | None, *, limit: int) -> list[Meeting]:
    """:func:`storage.meetings.upcoming` (scheduled ones) for display, cached: the kept list is
    filtered by ``now`` on each read, and read again when too few are left or the clock went back."""
    if limit > UPCOMING_KEPT:
        async with db.transaction() as session:
            return await meetings.upcoming(session, now, tables, limit=limit)

    async def load() -> tuple[datetime, list[Meeting]]:
        async with db.transaction() as session:
            return now, await meetings.upcoming(session, now, tables, limit=UPCOMING_KEPT)

    def enough(kept: tuple[datetime, list[Meeting]]) -> bool:
        loaded_at, found = kept
        left = sum(1 for meeting in found if meeting.starts_at > now)
        return loaded_at <= now and (left >= limit or len(found) < UPCOMING_KEPT)

    key = ("upcoming", None if tables is None else tuple(sorted(set(tables))))
    _loaded_at, found = await db.reads.get(key, (Meeting.__tablename__,), load, usable=enough)
    return [meeting for meeting in found if meeting.starts_at > now][:limit]


async def secretary_tables(db: Source, user_key: str) -> frozenset[str]:
    """The tables ``user_key`` is secretary of, cached: only to choose what to *show* (the
    commands ``/ayuda`` lists). A privilege check reads :func:`storage.roles.secretary_tables`."""

    async def load() -> frozenset[str]:
        async with db.transaction() as session:
            return frozenset(await roles.secretary_tables(session, user_key))

    return await db.reads.get(("secretary_tables", user_key), (Role.__tablename__,), load)
