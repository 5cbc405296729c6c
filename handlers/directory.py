"""The chat directory: each chat's stored settings and the people who wrote, cached in memory.

The database row stays the truth; the cache holds the most recently used chats and senders
(the bot is the only writer, and every change goes through here, so it never goes stale)."""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import LRUCache

from handlers.clock import Clock
from handlers.i18n import normalize_language
from handlers.message import Address, Message
from storage import chats
from storage.db import Database
from storage.models import Chat


@dataclass(frozen=True)
class ChatInfo:
    """A snapshot of the chat's stored settings (the database row stays the truth)."""

    language: str | None
    timezone: str | None
    private: bool
    active: bool = True


class ChatDirectory:
    def __init__(self, db: Database, clock: Clock, size: int) -> None:
        self.db = db
        self.clock = clock
        self._chats: LRUCache[tuple[str, str], ChatInfo] = LRUCache(size)
        self._seen: LRUCache[tuple[str, str, str | None, str, str | None], bool] = LRUCache(size)
        """Senders stored as they are now (id, username, name, private chat): not written again."""

    async def remember(self, message: Message) -> ChatInfo:
        """Load (and on first contact store) the chat and the sender; cached after that."""
        key = (message.chat.platform, message.chat.chat_id or "")
        sender = message.sender
        seen = (sender.platform, sender.id, sender.username, sender.name, key[1] if message.private else None)
        info = self._chats.get(key)
        if info is not None and info.active and self._seen.get(seen, False):
            return info
        async with self.db.transaction() as session:
            row = await chats.ensure_chat(
                session, key[0], key[1], private=message.private, title=message.chat_title
            )
            await chats.record_user(
                session,
                sender.platform,
                sender.id,
                username=sender.username,
                name=sender.name,
                language=normalize_language(sender.language_code),
                private_chat_id=key[1] if message.private else None,
                at=self.clock.now(),
            )
            info = _info(row)
        self._chats[key] = info
        self._seen[seen] = True
        return info

    def cached_language(self, address: Address) -> str | None:
        """The chat's language if it is in memory (for an apology when the database fails)."""
        info = self._chats.get((address.platform, address.chat_id or ""))
        return info.language if info else None

    def forget_cached(self, message: Message) -> None:
        """Drop what is cached of a person whose data were just erased, and of their private chat
        (here and in the database's read cache)."""
        sender = message.sender
        if message.private:
            self._chats.pop((message.chat.platform, message.chat.chat_id or ""), None)
            self.db.reads.forget(message.chat.chat_id)
        for seen in [s for s in self._seen if (s[0], s[1]) == (sender.platform, sender.id)]:
            del self._seen[seen]
        self.db.reads.forget(sender.key)

    async def chat_info(self, address: Address) -> ChatInfo:
        """The stored settings of a chat the bot sends to (for rendering in its language and zone)."""
        key = (address.platform, address.chat_id or "")
        info = self._chats.get(key)
        if info is None:
            async with self.db.transaction() as session:
                row = await chats.get_chat(session, *key)
            if row is None:
                return ChatInfo(None, None, private=True)
            info = self._chats[key] = _info(row)
        return info

    async def update_chat(self, address: Address, **fields: object) -> None:
        key = (address.platform, address.chat_id or "")
        async with self.db.transaction() as session:
            row = await chats.update_chat(session, *key, **fields)
            if row is not None:
                self._chats[key] = _info(row)

    async def mark_inactive(self, address: Address) -> None:
        """The platform says the bot can no longer write there (blocked, kicked)."""
        await self.update_chat(address, active=False)


def _info(row: Chat) -> ChatInfo:
    return ChatInfo(row.language, row.timezone, row.private, row.active)
