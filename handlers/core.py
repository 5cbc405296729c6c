"""The dispatcher: one platform-free message in, the replies out.

adapter -> Message -> Core.handle -> command, dialogue step or free-text answer -> Replies -> adapter
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from handlers.context import Context
from handlers.dialogues import State
from handlers.directory import ChatInfo
from handlers.errors import UserError
from handlers.i18n import _, normalize_language, use_locale
from handlers.inputs import normalise
from handlers.knowledge import fold
from handlers.markup import esc
from handlers.message import Answer, Message, Reply
from handlers.services import Services
from handlers.understanding import understand

log = logging.getLogger(__name__)

_COMMAND = re.compile(r"^[/!](\w+)(?:@[\w.:-]+)?(?:\s+(.*))?$", re.S)


class Core:
    """The dispatcher; what handlers use is in ``services`` (they get it through their Context)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle(self, message: Message) -> list[Reply]:
        """Answer one message; never raises."""
        message = normalise(message)
        try:
            chat = await self.services.chats.remember(message)
            return await self._dispatch(message, chat)
        except Exception:
            log.exception("failed on %r from %s", message.text[:200], message.sender.key)
            with use_locale(self._fallback_language(message)):
                return [self._reply(message, _("Sorry, something went wrong on my side. Please try again later."))]

    async def _dispatch(self, message: Message, chat: ChatInfo) -> list[Reply]:
        text = message.text
        if message.attachment is not None and self.services.commands.document is not None:
            ctx = await self._context(message, chat, None)
            return await self._run(ctx, self.services.commands.document)
        match = _COMMAND.match(text)
        if match:
            return await self._command(message, chat, match.group(1), (match.group(2) or "").strip())
        ctx = await self._context(message, chat, None)
        state = await ctx.state()
        if state is not None:
            flow = self.services.commands.flows.get(state.flow)
            if flow is not None:
                if not chat.language and state.data.get("lang"):
                    ctx.lang = state.data["lang"]
                return await self._run(ctx, flow, state)
            await ctx.end_state()
        understood = understand(text)
        ctx.understood = understood
        if understood.language and not chat.language:
            ctx.lang = understood.language
        intents = self.services.commands.intents
        action = intents.get(understood.intent) or intents["unknown"]
        answer = Answer(understood.intent, understood.objectives, understood.tables)
        return await self._run(ctx, action.answer, answer=answer)

    async def _command(self, message: Message, chat: ChatInfo, name: str, args: str) -> list[Reply]:
        found = self.services.commands.lookup(fold(name))
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
        suggestions = self.services.commands.suggest(fold(name), ctx.lang)
        if suggestions:
            text += " " + _("Did you mean {commands}?").format(
                commands=" / ".join(esc(prefix + s) for s in suggestions)
            )
        help_cmd = self.services.commands.by_english_name("help")
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
            or self.services.config.default_language
        )
        return Context(services=self.services, message=message, chat=chat, lang=lang)

    def _fallback_language(self, message: Message) -> str:
        return self.services.chats.cached_language(message.chat) or self.services.config.default_language

    def _reply(self, message: Message, markup: str) -> Reply:
        return Reply(markup, to=message.chat, reply_to=None if message.private else message.message_id)
