"""The services handlers use (the core's ports): the database, the clock, the configuration,
the chat directory, dialogue state and the command table.

A handler reaches them through its :class:`~handlers.context.Context` (``ctx.db``,
``ctx.clock``...), never through the :class:`~handlers.core.Core`, which only dispatches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from handlers.clock import Clock, SystemClock
from handlers.dialogues import Dialogues
from handlers.directory import ChatDirectory
from handlers.registry import CommandTable, Registry
from storage.db import Database

CACHE_SIZE = 10_000
"""Chats, people and dialogues remembered in memory (the most recently used; the rest are read
again from the database when they write)."""


@dataclass(frozen=True)
class CoreConfig:
    default_language: str = "es"
    default_timezone: str = "America/Bogota"
    admins: frozenset[str] = frozenset()
    cache_size: int = CACHE_SIZE


@dataclass(frozen=True)
class Services:
    db: Database
    """The unit of work: ``async with db.transaction() as session``."""
    clock: Clock
    config: CoreConfig
    chats: ChatDirectory
    dialogues: Dialogues
    commands: CommandTable

    @classmethod
    def build(
        cls, db: Database, config: CoreConfig, registries: Iterable[Registry], clock: Clock | None = None
    ) -> Services:
        """The services of one bot: every feature's registry composed into one command table."""
        clock = clock or SystemClock()
        return cls(
            db=db,
            clock=clock,
            config=config,
            chats=ChatDirectory(db, clock, config.cache_size),
            dialogues=Dialogues(db, config.cache_size),
            commands=CommandTable(registries),
        )
