"""Input bounded and normalised once, at the boundary, before anything is stored or echoed.

Adapters hand over whatever the platform sent: lone surrogates (from Matrix JSON escapes),
control and bidirectional-override characters, room names and display names of any length.
:func:`normalise` makes every text field of a :class:`Message` safe to store in its column
and to echo in a reply."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from handlers.message import Message, User

MAX_DISPLAY = 255
"""The column size of the display-only fields (``chats.title``, ``users.name``, ``users.username``)."""
MAX_TEXT = 20_000
"""Longer messages are cut: no command or answer needs more (a broadcast takes 3,500)."""

_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    r"\ud800-\udfff]"
)
"""Control, invisible formatting and bidirectional characters, and lone surrogates."""


def clean(text: str) -> str:
    """The text without control characters, invisible marks and lone surrogates, NFC, stripped."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()


def display(text: str | None, limit: int = MAX_DISPLAY) -> str | None:
    """A display-only field (a chat title, a person's name) on one line, cut to ``limit``."""
    if text is None:
        return None
    shown = " ".join(clean(text).split())[:limit].rstrip()
    return shown or None


def normalise(message: Message) -> Message:
    """Every text field of ``message`` cleaned; display fields cut to their columns."""
    sender = message.sender
    return replace(
        message,
        text=clean(message.text[: MAX_TEXT * 2])[:MAX_TEXT],
        chat_title=display(message.chat_title),
        sender=User(
            sender.platform,
            sender.id,
            name=display(sender.name) or "",
            username=display(sender.username),
            language_code=display(sender.language_code, 16),
        ),
    )


def normalise_matrix_id(user_id: str) -> str:
    """A Matrix user id as the spec compares it: the server name is case-insensitive (a DNS
    name), so it is lower-cased; the localpart is kept as written."""
    localpart, _sep, server = user_id.partition(":")
    return f"{localpart}:{server.lower()}"


def normalise_user_key(key: str) -> str:
    """A platform-qualified id as stored (``matrix:@Ana:Example.org`` -> ``matrix:@Ana:example.org``)."""
    platform, _sep, user_id = key.partition(":")
    return f"{platform}:{normalise_matrix_id(user_id)}" if platform == "matrix" else key
