"""Core replies as Matrix event content: ``m.notice`` with a plain ``body`` and HTML
``formatted_body``, commands written with ``!``, buttons as commands to type."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from handlers.markup import esc, plain, split_html
from handlers.message import Attachment, Button, Reply

HTML_FORMAT = "org.matrix.custom.html"
MAX_CONTENT_BYTES = 60_000
"""Homeservers refuse events over 65,536 bytes; a reply's content is kept under this (room for the envelope)."""
_FIRST_PART_CHARS = 16_000
_PRE = re.compile(r"(<pre>.*?</pre>)", re.S)
_SLASH_COMMAND = re.compile(r"(?:^|(?<=[\s(>«“'¡¿\[]))/(\w+)(?![\w/])")

IsCommand = Callable[[str], bool]


def bang_commands(markup: str, is_command: IsCommand) -> str:
    """``/objetivo`` -> ``!objetivo`` where it is one of our commands (not ``</b>``, not a URL)."""

    def swap(match: re.Match[str]) -> str:
        return "!" + match.group(1) if is_command(match.group(1)) else match.group(0)

    return _SLASH_COMMAND.sub(swap, markup)


def buttons_markup(buttons: tuple[tuple[Button, ...], ...]) -> str:
    """Matrix has no buttons: each becomes a line with what to type and its label."""
    lines = []
    for row in buttons:
        for button in row:
            line = f"<code>{esc(button.command)}</code>"
            if button.label.strip() and button.label.strip() != button.command.strip():
                line += f" — {esc(button.label)}"
            lines.append(line)
    return "\n\n" + "\n".join(lines) if lines else ""


def html_lines(markup: str) -> str:
    """Newlines as ``<br>``, except inside ``<pre>`` where they are kept."""
    parts = _PRE.split(markup)
    return "".join(part if i % 2 else part.replace("\n", "<br>") for i, part in enumerate(parts))


def notices(
    reply: Reply,
    is_command: IsCommand,
    *,
    in_reply_to: str | None = None,
    thread: str | None = None,
    mention: str | None = None,
) -> list[dict[str, Any]]:
    """The ``m.notice`` contents of a reply's text (and its buttons): one per part, each under
    :data:`MAX_CONTENT_BYTES` as sent (JSON, non-ASCII escaped).

    The answer is a reply to the question, inside the question's ``thread`` if it was
    asked in one. ``m.mentions`` is always present so clients never guess mentions from
    the text; the first part names the asker of the question we answer in a group, so they
    are notified."""
    markup = bang_commands(reply.html + buttons_markup(reply.buttons), is_command)
    limit = _FIRST_PART_CHARS
    while True:
        parts = split_html(markup, limit) or [markup]
        contents = [
            _notice_content(part, in_reply_to, thread, mention if i == 0 else None) for i, part in enumerate(parts)
        ]
        if limit <= 64 or all(len(json.dumps(c).encode()) <= MAX_CONTENT_BYTES for c in contents):
            return contents
        limit //= 2


def _notice_content(
    markup: str, in_reply_to: str | None, thread: str | None, mention: str | None
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": plain(markup),
        "format": HTML_FORMAT,
        "formatted_body": html_lines(markup),
        "m.mentions": {"user_ids": [mention]} if mention else {},
    }
    if in_reply_to:
        relation: dict[str, Any] = {"m.in_reply_to": {"event_id": in_reply_to}}
        if thread:
            relation |= {"rel_type": "m.thread", "event_id": thread, "is_falling_back": False}
        content["m.relates_to"] = relation
    return content


def file_message(
    attachment: Attachment, uri: str, keys: dict[str, Any] | None, msgtype: str = "m.file"
) -> dict[str, Any]:
    """``m.file`` (or ``m.image``) content; in an encrypted room the upload is encrypted and
    ``file`` holds its keys."""
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": attachment.filename,
        "filename": attachment.filename,
        "info": {"mimetype": attachment.mimetype, "size": len(attachment.content)},
        "m.mentions": {},
    }
    if keys is None:
        content["url"] = uri
    else:
        content["file"] = {**keys, "url": uri}
    return content
