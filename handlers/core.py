"""The dispatcher: one platform-free message in, the replies out.

adapter -> Message -> Core.handle -> command, dialogue step or free-text answer -> Replies -> adapter
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from cachetools import LRUCache

from handlers.clock import Clock, SystemClock
from handlers.context import ChatInfo, Context
from handlers.dialogues import Dialogues, State
from handlers.errors import UserError
from handlers.i18n import _, normalize_language, use_locale
from handlers.inputs import normalise
from handlers.knowledge import fold
from handlers.markup import esc
from handlers.message import Address, Answer, Message, Reply
from handlers.registry import CommandTable, Registry
from handlers.understanding import understand
from storage import chats
from storage.db import Database
from storage.models import Chat

log = logging.getLogger(__name__)

_COMMAND = re.compile(r"^[/!](\w+)(?:@[\w.:-]+)?(?:\s+(.*))?$", re.S)


CACHE_SIZE = 10_000
"""Chats, people and dialogues remembered in memory (the most recently used; the rest are read
again from the database when they write)."""


@dataclass(frozen=True)
class CoreConfig:
    default_language: str = "es"
    default_timezone: str = "America/Bogota"
    admins: frozenset[str] = frozenset()
    cache_size: int = CACHE_SIZE


class Core:
    def __init__(
        self,
        db: Database,
        config: CoreConfig,
        registries: Iterable[Registry],
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock or SystemClock()
        self.commands = CommandTable(registries)
        self._chats: LRUCache[tuple[str, str], ChatInfo] = LRUCache(config.cache_size)
        self._seen: LRUCache[tuple[str, str, str | None, str, str | None], bool] = LRUCache(config.cache_size)
        """Senders stored as they are now (id, username, name, private chat): not written again."""
        self.dialogues = Dialogues(db, config.cache_size)

    async def handle(self, message: Message) -> list[Reply]:
        """Answer one message; never raises."""
        message = normalise(message)
        try:
            chat = await self.remember(message)
            return await self._dispatch(message, chat)
        except Exception:
            log.exception("failed on %r from %s", message.text[:200], message.sender.key)
            with use_locale(self._fallback_language(message)):
                return [self._reply(message, _("Sorry, something went wrong on my side. Please try again later."))]

    async def _dispatch(self, message: Message, chat: ChatInfo) -> list[Reply]:
        text = message.text
        if message.attachment is not None and self.commands.document is not None:
            ctx = await self._context(message, chat, None)
            return await self._run(ctx, self.commands.document)
        match = _COMMAND.match(text)
        if match:
            return await self._command(message, chat, match.group(1), (match.group(2) or "").strip())
        ctx = await self._context(message, chat, None)
        state = await ctx.state()
        if state is not None:
            flow = self.commands.flows.get(state.flow)
            if flow is not None:
                if not chat.language and state.data.get("lang"):
                    ctx.lang = state.data["lang"]
                return await self._run(ctx, flow, state)
            await ctx.end_state()
        understood = understand(text)
        ctx.understood = understood
        if understood.language and not chat.language:
            ctx.lang = understood.language
        action = self.commands.intents.get(understood.intent) or self.commands.intents["unknown"]
        answer = Answer(understood.intent, understood.objectives, understood.tables)
        return await self._run(ctx, action.answer, answer=answer)

    async def _command(self, message: Message, chat: ChatInfo, name: str, args: str) -> list[Reply]:
        found = self.commands.lookup(fold(name))
        alias_language = found[1] if found else None
        app_language = normalize_language(message.sender.language_code)
        if found and app_language and found[0].name(app_language) == fold(name):
            alias_language = app_language  # /objetivo is Spanish and Portuguese: a Brazilian app says which
        ctx = await self._context(message, chat, alias_language)
        if found is None:
            with use_locale(ctx.lang):
                return [self._unknown_command(ctx, name)]
        ctx.args, ctx.command = args, fold(name)
        return await self._run(ctx, found[0].run, answer=Answer(found[0].intent))

    async def _run(
        self,
        ctx: Context,
        handler: Callable[..., Awaitable[Any]],
        *extra: State,
        answer: Answer | None = None,
    ) -> list[Reply]:
        """Run a handler in the chat's locale; a user error becomes its reply.

        ``answer`` is what the core understood; it is attached to the first reply that
        does not say more itself, for ``gcmbot ask --json``."""
        with use_locale(ctx.lang):
            try:
                result = await handler(ctx, *extra)
            except UserError as error:
                result = ctx.reply(error.markup)
        replies = [] if result is None else [result] if isinstance(result, Reply) else list(result)
        if answer is not None and replies and replies[0].answer is None:
            replies[0] = replace(replies[0], answer=answer)
        return replies

    def _unknown_command(self, ctx: Context, name: str) -> Reply:
        prefix = ctx.message.text[:1]
        text = _("I don't know the command {command}.").format(command=esc(prefix + name))
        suggestions = self.commands.suggest(fold(name), ctx.lang)
        if suggestions:
            text += " " + _("Did you mean {commands}?").format(
                commands=" / ".join(esc(prefix + s) for s in suggestions)
            )
        help_cmd = self.commands.by_english_name("help")
        if help_cmd:
            text += "\n" + _("Send {command} to see what I can do.").format(
                command=esc(prefix + help_cmd.name(ctx.lang))
            )
        return ctx.reply(text)

    async def _context(self, message: Message, chat: ChatInfo, alias_language: str | None) -> Context:
        lang = (
            chat.language
            or alias_language
            or normalize_language(message.sender.language_code)
            or self.config.default_language
        )
        return Context(core=self, message=message, chat=chat, lang=lang)

    def _fallback_language(self, message: Message) -> str:
        info = self._chats.get((message.chat.platform, message.chat.chat_id or ""))
        return (info and info.language) or self.config.default_language

    def _reply(self, message: Message, markup: str) -> Reply:
        return Reply(markup, to=message.chat, reply_to=None if message.private else message.message_id)

    # chats -------------------------------------------------------------------

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

    def forget_cached(self, message: Message) -> None:
        """Drop what is cached of a person whose data were just erased, and of their private chat."""
        sender = message.sender
        if message.private:
            self._chats.pop((message.chat.platform, message.chat.chat_id or ""), None)
        for seen in [s for s in self._seen if (s[0], s[1]) == (sender.platform, sender.id)]:
            del self._seen[seen]

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
