"""Dialogue state per chat and user: stored in the database, cached in memory.

Every free-text message asks whether a dialogue is in progress; the answer is nearly always
"no", so it is remembered after the first look, for the most recently active ``size`` chats and
people. The bot is the only writer (one process), so the cache is written through on every
change and never goes stale.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from storage import conversations
from storage.db import Database

Key = tuple[str, str, str]
"""(platform, chat id, user id)"""


@dataclass
class State:
    """A dialogue in progress: which flow, which step, and the answers so far."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


_UNKNOWN = object()


class Dialogues:
    def __init__(self, db: Database, size: int) -> None:
        self.db = db
        self._known: LRUCache[Key, State | None] = LRUCache(size)

    async def get(self, key: Key) -> State | None:
        """A copy of the stored state, so a handler's changes count only once saved."""
        known = self._known.get(key, _UNKNOWN)
        if known is _UNKNOWN:
            async with self.db.transaction() as session:
                row = await conversations.get_conversation(session, *key)
            known = self._known[key] = State(row.flow, row.step, dict(row.data)) if row else None
        return deepcopy(known)  # type: ignore[arg-type]

    async def save(self, key: Key, state: State) -> None:
        async with self.db.transaction() as session:
            await conversations.save_conversation(
                session, *key, flow=state.flow, step=state.step, data=state.data
            )
        self._known[key] = deepcopy(state)

    async def end(self, key: Key) -> None:
        async with self.db.transaction() as session:
            await conversations.end_conversation(session, *key)
        self._known[key] = None
