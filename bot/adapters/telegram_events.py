"""Telegram updates in, core messages out: is it for the bot, what does it say, which chat.

Private chats: every text message (and a document) is for the bot. Groups: only what is
addressed to it — a command (``/objetivo@GcmBot 10``, not one for ``@OtherBot``), a message
that mentions the bot (the mention is removed), a reply to one of the bot's messages, or a
press on one of its buttons; the rest is the members' conversation, and so is anything sent
while the bot was down for long.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from telegram import MaybeInaccessibleMessage, MessageEntity, Update
from telegram import Message as TgMessage
from telegram import User as TgUser
from telegram.constants import ChatType

from handlers.message import Address, Attachment, Message, User

PLATFORM = "telegram"
MAX_DOCUMENT = 5_000_000
"""Files larger than this are not downloaded (the core answers that the file is empty)."""
STALE_GROUP_MESSAGE = timedelta(hours=1)
"""Group messages older than this when they arrive (the bot was down) are not answered."""

_ADDRESSED_COMMAND = re.compile(r"^/(\w+)(?:@(\w+))?")


@dataclass(frozen=True)
class Me:
    """The bot as members address it, and which command names are ours."""

    id: int
    username: str
    is_command: Callable[[str], bool]


def received(msg: TgMessage, me: Me) -> Message | None:
    """The core's message for a Telegram text message, or None when it is not for the bot."""
    sender = msg.from_user
    if msg.text is None or sender is None or sender.is_bot:
        return None
    private = msg.chat.type == ChatType.PRIVATE
    text = text_for_bot(msg, me, private)
    if text is None:
        return None
    return Message(
        chat=Address(PLATFORM, chat_id=str(msg.chat.id)),
        sender=user(sender),
        text=text,
        private=private,
        message_id=str(msg.message_id),
        chat_title=msg.chat.title,
    )


async def document(msg: TgMessage) -> Message | None:
    """A file sent to the bot in a private chat (in groups, files are the members' own)."""
    sender, found = msg.from_user, msg.document
    if sender is None or sender.is_bot or found is None or msg.chat.type != ChatType.PRIVATE:
        return None
    if (found.file_size or 0) > MAX_DOCUMENT:
        content = b""
    else:
        content = bytes(await (await found.get_file()).download_as_bytearray())
    return Message(
        chat=Address(PLATFORM, chat_id=str(msg.chat.id)),
        sender=user(sender),
        text=msg.caption or "",
        private=True,
        message_id=str(msg.message_id),
        attachment=Attachment(found.file_name or "file", content, found.mime_type or ""),
    )


def text_for_bot(msg: TgMessage, me: Me, private: bool) -> str | None:
    """The text meant for the bot (a mention of it removed), or None when it is not."""
    text = msg.text or ""
    command = _ADDRESSED_COMMAND.match(text)
    if command and command.group(2):
        return text if command.group(2).lower() == me.username.lower() else None
    if private:
        return text
    if datetime.now(UTC) - msg.date > STALE_GROUP_MESSAGE:
        return None
    if command:
        return text if me.is_command(command.group(1)) else None
    for entity in msg.entities:
        if (
            entity.type == MessageEntity.MENTION and msg.parse_entity(entity).lower() == f"@{me.username.lower()}"
        ) or (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == me.id):
            return without(text, entity)
    replied = msg.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == me.id:
        return text
    return None


def pressed(origin: MaybeInaccessibleMessage, presser: TgUser, command: str) -> Message:
    """A button's command, as the presser's message in the chat of the message it is under."""
    chat = origin.chat
    return Message(
        chat=Address(PLATFORM, chat_id=str(chat.id)),
        sender=user(presser),
        text=command,
        private=chat.type == ChatType.PRIVATE,
        message_id=str(origin.message_id),
        chat_title=chat.title,
    )


def without(text: str, entity: MessageEntity) -> str:
    """``text`` with the entity (a mention of the bot) taken out: ``@bot, hola`` -> ``hola``."""
    units = text.encode("utf-16-le")
    before = units[: entity.offset * 2].decode("utf-16-le")
    after = units[(entity.offset + entity.length) * 2 :].decode("utf-16-le")
    return f"{before.rstrip()} {after.lstrip(' ,:;').lstrip()}".strip()


def user(found: TgUser) -> User:
    return User(PLATFORM, str(found.id), found.full_name, found.username, found.language_code)


def describe(update: object) -> str:
    """An update, for the log: its chat, sender and the start of its text."""
    if not isinstance(update, Update):
        return repr(update)[:200]
    chat, sender = update.effective_chat, update.effective_user
    text = update.effective_message.text if update.effective_message else None
    return (
        f"update {update.update_id} in chat {chat.id if chat else '-'} "
        f"from {sender.id if sender else '-'}: {(text or '')[:80]!r}"
    )
