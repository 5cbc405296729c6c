"""Core replies out as Telegram messages: Telegram HTML split under its 4,096-character limit
(then a document or a photo), buttons as inline keyboards whose ``callback_data`` fits its 64
bytes, and the command menu of each language."""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from telegram import Bot, BotCommand, InlineKeyboardButton, LinkPreviewOptions
from telegram import Message as TgMessage
from telegram.constants import ParseMode

from handlers.markup import split_html
from handlers.message import Button, Reply

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
_TELEGRAM_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Sending = Callable[..., Awaitable[TgMessage]]
"""A Bot method bound to its chat and content, waiting for the reply options."""


def parts(bot: Bot, chat_id: int, reply: Reply) -> list[Sending]:
    """The messages a reply is sent as, in order: its HTML in parts, then its file and image."""
    html = {"parse_mode": ParseMode.HTML, "link_preview_options": _NO_PREVIEW}
    calls: list[Sending] = [partial(bot.send_message, chat_id, part, **html) for part in split_html(reply.html, MAX_TEXT)]
    if reply.attachment is not None:
        attachment = reply.attachment
        calls.append(partial(bot.send_document, chat_id, attachment.content, filename=attachment.filename))
    if reply.image is not None:
        calls.append(partial(bot.send_photo, chat_id, reply.image.content, filename=reply.image.filename))
    return calls


def keyboard_rows(buttons: Sequence[Sequence[Button]], callbacks: CallbackData) -> list[list[InlineKeyboardButton]]:
    return [[InlineKeyboardButton(b.label, callback_data=callbacks.data(b.command)) for b in row] for row in buttons if row]


class CallbackData:
    """Button commands as ``callback_data``: as they are when they fit Telegram's 64 bytes,
    else a short token remembered for the most recent ``size`` long commands."""

    PREFIX = "~cb:"

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._commands: OrderedDict[str, str] = OrderedDict()
        self._tokens: dict[str, str] = {}

    def data(self, command: str) -> str:
        if 0 < len(command.encode()) <= MAX_CALLBACK_DATA and not command.startswith(self.PREFIX):
            return command
        token = self._tokens.get(command)
        if token is None:
            token = self.PREFIX + secrets.token_urlsafe(12)
            self._tokens[command] = token
            self._commands[token] = command
            if len(self._commands) > self.size:
                _old, forgotten = self._commands.popitem(last=False)
                del self._tokens[forgotten]
        self._commands.move_to_end(token)
        return token

    def command(self, data: str) -> str | None:
        """The command of a pressed button; None when its token has been forgotten."""
        if not data.startswith(self.PREFIX):
            return data or None
        return self._commands.get(data)


def bot_commands(menu: Sequence[tuple[str, str]]) -> list[BotCommand]:
    """The menu Telegram shows: the hub's public commands (name, description) in one language,
    those whose names Telegram accepts, within its limits."""
    return [
        BotCommand(name, description[:256]) for name, description in menu if _TELEGRAM_COMMAND.match(name)
    ][:100]
