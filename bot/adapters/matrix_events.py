"""Matrix room messages in, core messages out: is it for us, what does it say, which chat.

In a group room the bot answers ``!commands``, messages that mention it (pill,
``m.mentions``, user id or display name) and replies to its own messages; the rest of
the conversation is not ours.
A room of two members is a private chat, where every message is for the bot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from nio import MatrixRoom, RoomMemberEvent, RoomMessageText

from handlers.markup import plain
from handlers.message import Address, Message, User

PLATFORM = "matrix"
_PILL = re.compile(r"""<a\s[^>]*href=["']https://matrix\.to/#/([^"'?]+)[^"']*["'][^>]*>(.*?)</a>""", re.S | re.I)
_REPLY_FALLBACK = re.compile(r"<mx-reply>.*?</mx-reply>", re.S | re.I)
_COMMAND = re.compile(r"^[/!](\w+)")


@dataclass(frozen=True)
class Me:
    """The bot as others address it."""

    user_id: str
    names: tuple[str, ...] = ()
    sent: Container[str] = ()
    """Ids of the bot's recent messages: a reply to one of them is addressed to the bot."""


def is_direct(room: MatrixRoom) -> bool:
    """Two members (the bot and one person, joined or invited) make a private chat."""
    return room.member_count <= 2


def after_own_join(events: list[object], user_id: str) -> list[object]:
    """The events after the bot's arrival in the room, if it arrived in this batch: what a
    newly joined room shows before that is history, not questions for the bot."""
    for index in range(len(events) - 1, -1, -1):
        if is_own_join(events[index], user_id):
            return events[index + 1 :]
    return events


def is_own_join(event: object, user_id: str) -> bool:
    """The bot joining (not a change of its display name or avatar)."""
    return (
        isinstance(event, RoomMemberEvent)
        and event.state_key == user_id
        and event.membership == "join"
        and event.prev_membership != "join"
    )


def server_of(user_id: str) -> str:
    """``@ana:example.org`` -> ``example.org`` (ports included, compared lower-case)."""
    return user_id.partition(":")[2].lower()


def incoming(event: RoomMessageText, room: MatrixRoom, me: Me, is_command: Callable[[str], bool]) -> Message | None:
    """The message for the core, or None when the event is not addressed to the bot."""
    if event.sender == me.user_id:
        return None
    content: dict[str, Any] = event.source.get("content") or {}
    relation = content.get("m.relates_to") or {}
    if relation.get("rel_type") == "m.replace":
        return None  # an edit of a message already answered
    body = event.body or ""
    replied = relation.get("m.in_reply_to")
    if relation.get("is_falling_back"):
        replied = None  # a thread's pointer for clients without threads, not a reply
    if isinstance(replied, dict):
        body = strip_reply_fallback(body)
    private = is_direct(room)
    names = _names(room, me)
    pill_labels = [label for target, label in _pills(event.formatted_body) if target == me.user_id]
    mentioned = bool(pill_labels) or _in_mentions(content, me.user_id) or _named(body, [me.user_id, *names])
    text = strip_mentions(body, [me.user_id, *pill_labels, *names]) if mentioned else body.strip()
    answering_us = isinstance(replied, dict) and replied.get("event_id") in me.sent
    command = _COMMAND.match(text)
    if not (private or mentioned or answering_us or (command and is_command(command.group(1)))):
        return None
    return Message(
        chat=Address(PLATFORM, chat_id=room.room_id),
        sender=User(PLATFORM, event.sender, name=room.user_name(event.sender) or event.sender, username=event.sender),
        text=text,
        private=private,
        message_id=event.event_id,
        chat_title=None if private else room.display_name,
        chat_admin=not private and room.power_levels.can_user_send_state(event.sender, "m.room.name"),
    )


def thread_root(event: RoomMessageText) -> str | None:
    """The root of the thread the message was written in, if any: the answer goes there too."""
    relation = (event.source.get("content") or {}).get("m.relates_to") or {}
    root = relation.get("event_id")
    return root if relation.get("rel_type") == "m.thread" and isinstance(root, str) else None


def strip_reply_fallback(body: str) -> str:
    """Drop the ``> <@who:server> quoted`` lines clients put before the text of a reply."""
    lines = body.split("\n")
    quoted = 0
    while quoted < len(lines) and lines[quoted].startswith(">"):
        quoted += 1
    if quoted and quoted < len(lines) and not lines[quoted].strip():
        return "\n".join(lines[quoted + 1 :])
    return body


def strip_mentions(body: str, forms: Iterable[str]) -> str:
    """The text without the ways it addressed the bot (``GCM Bot: hola`` -> ``hola``)."""
    text = body
    for form in sorted({f for f in forms if f.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w)@?{re.escape(form)}(?!\w)\s*[:,]?", " ", text, flags=re.I)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _names(room: MatrixRoom, me: Me) -> list[str]:
    own = room.users.get(me.user_id)
    names = list(me.names)
    if own is not None and own.display_name:
        names.append(own.display_name)
    return names


def _pills(formatted_body: str | None) -> list[tuple[str, str]]:
    """The user links in the HTML, outside the quoted message of a reply (``<mx-reply>``)."""
    if not formatted_body:
        return []
    html = _REPLY_FALLBACK.sub("", formatted_body)
    return [(unquote(target), plain(label)) for target, label in _PILL.findall(html)]


def _in_mentions(content: dict[str, Any], user_id: str) -> bool:
    mentions = content.get("m.mentions")
    return isinstance(mentions, dict) and user_id in (mentions.get("user_ids") or [])


def _named(body: str, forms: Iterable[str]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(form)}(?!\w)", body, flags=re.I) for form in forms if form.strip())
