"""A local fake of the Telegram Bot API server, speaking its wire format over HTTP.

The real python-telegram-bot talks to it (``TELEGRAM_BASE_URL`` = :attr:`FakeTelegram.url`):
``POST {root}/bot<token>/<method>`` with query, form, JSON or multipart parameters, answered
with ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...,
"parameters": {...}}`` and the same HTTP status, as https://core.telegram.org/bots/api says.

What it models: ``getUpdates`` (long poll, ``offset`` confirmation, ``allowed_updates``, the
409 conflicts), webhooks (``setWebhook`` with ``secret_token``: injected updates are then POSTed
to the bot with ``X-Telegram-Bot-Api-Secret-Token``), sending (``sendMessage``, ``sendDocument``,
``editMessageText``, ``answerCallbackQuery``) with Telegram's HTML parser, the 4,096-character
limit, ``callback_data`` and reply checks, known and unknown chats, the bot commands of each
scope and language, and, on request, Telegram's flood limits (30 messages/s per bot, 20 per
minute per group) answered with 429 and ``retry_after``.

Tests and benchmarks drive it in process (:class:`FakeTelegram`, :class:`FakeBot`); another
process can drive it through the small control API under ``/fake/bot<token>/``
(``python -m tests.fakes.telegram_api --port N``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, web

T = TypeVar("T")

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA = 64
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF", b"GIF8")
SEND_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto", "copymessage", "forwardmessage"})
OBJECT_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "link_preview_options",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
    }
)
INT_PARAMS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id", "cache_time", "user_id"}
)
BOOL_PARAMS = frozenset(
    {
        "drop_pending_updates",
        "show_alert",
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
    }
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_CONFLICT = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLLING_CONFLICT = "terminated by other getUpdates request; make sure that only one bot instance is running"
TEXT_BUTTON_IN_INLINE_KEYBOARD = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
OTHER_INLINE_BUTTONS = (
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "pay",
    "copy_text",
    "callback_game",
)
_COMMAND_ENTITY = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_ENTITY = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}\b")
_BOT_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# -- wire-format builders ----------------------------------------------------------------


def make_user(
    user_id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
    is_bot: bool = False,
) -> dict[str, Any]:
    """A ``User`` object."""
    user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    for key, value in (("last_name", last_name), ("username", username), ("language_code", language_code)):
        if value is not None:
            user[key] = value
    return user


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    """The ``Chat`` of a user's private chat with the bot (its id is the user's id)."""
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if key in user:
            chat[key] = user[key]
    return chat


def make_group(chat_id: int, title: str, *, supergroup: bool = True) -> dict[str, Any]:
    """A group ``Chat`` (``chat_id`` negative; supergroups are -100...)."""
    return {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def text_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` and ``mention`` entities Telegram's clients attach to typed text."""
    found: list[tuple[int, int, str]] = []
    for pattern, kind in ((_COMMAND_ENTITY, "bot_command"), (_MENTION_ENTITY, "mention")):
        found += [(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in sorted(found)
    ]


# -- Telegram's HTML parse mode ------------------------------------------------------------

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ATTR_SOURCE = r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?"""
_TAG = re.compile(rf"<(/?)([A-Za-z][A-Za-z0-9-]*)?((?:\s+{_ATTR_SOURCE})*)\s*(/?)>")
_ATTR = re.compile(_ATTR_SOURCE)
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|lt|gt|amp|quot);")


_MARKUP = re.compile(r"[<&]")


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities of an HTML-formatted message, or the error Telegram answers."""
    text: list[str] = []
    length = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, dict[str, Any]]] = []
    i = 0
    while i < len(markup):
        special = _MARKUP.search(markup, i)
        plain_end = special.start() if special else len(markup)
        if plain_end > i:
            chunk = markup[i:plain_end]
            text.append(chunk)
            length += utf16_len(chunk)
            i = plain_end
            continue
        if markup[i] == "&":
            match = _ENTITY.match(markup, i)
            decoded = html.unescape(match.group(0)) if match else "&"
            text.append(decoded)
            length += utf16_len(decoded)
            i = match.end() if match else i + 1
            continue
        offset = len(markup[:i].encode())
        match = _TAG.match(markup, i)
        if match is None or match.group(2) is None:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "" at byte offset {offset}')
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if closing:
            if not stack:
                raise bad_request(f"can't parse entities: Unexpected end tag at byte offset {offset}")
            open_name, start, entity = stack.pop()
            if open_name != name:
                raise bad_request(
                    f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            if length > start and entity:
                entities.append({**entity, "offset": start, "length": length - start})
        else:
            stack.append((name, length, _start_entity(name, dict(_attrs(attrs)), offset)))
        i = match.end()
    if stack:
        unclosed = stack[-1][0]
        raise bad_request(
            f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{unclosed}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(text), entities


def _attrs(attrs: str) -> list[tuple[str, str]]:
    return [
        (m.group(1).lower(), html.unescape(m.group(2) or m.group(3) or m.group(4) or ""))
        for m in _ATTR.finditer(attrs)
    ]


def _start_entity(name: str, attrs: dict[str, str], offset: int) -> dict[str, Any]:
    if name in _SIMPLE_TAGS:
        kind = _SIMPLE_TAGS[name]
        if kind == "blockquote" and "expandable" in attrs:
            kind = "expandable_blockquote"
        return {"type": kind}
    if name == "span" and attrs.get("class") == "tg-spoiler":
        return {"type": "spoiler"}
    if name == "a":
        href = attrs.get("href", "")
        if not href:
            return {}
        if not re.match(r"^(https?|tg|mailto)://|^mailto:", href):
            raise bad_request(f"can't parse entities: Invalid URL \"{href}\" at byte offset {offset}")
        return {"type": "text_link", "url": href}
    if name == "tg-emoji" and "emoji-id" in attrs:
        return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
    raise bad_request(f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}')


# -- recorded requests and injected failures ---------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content: bytes
    content_type: str


@dataclass
class Call:
    """One request the fake received, with what it answered."""

    token: str
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    status: int = 0
    result: Any = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": self.params,
            "files": {k: {"filename": f.filename, "size": len(f.content)} for k, f in self.files.items()},
            "at": self.at,
            "status": self.status,
            "result": self.result,
            "error": self.error,
        }


@dataclass
class FailureRule:
    """Answer the next ``count`` matching calls with an error instead of handling them."""

    status: int
    count: int
    method: str | None = None
    chat_id: int | None = None
    retry_after: int | None = None
    description: str | None = None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        return (
            self.count > 0
            and (self.method is None or self.method.lower() == method)
            and (self.chat_id is None or params.get("chat_id") == self.chat_id)
        )

    def error(self) -> ApiError:
        if self.status == 429:
            retry = self.retry_after or 1
            description = self.description or f"Too Many Requests: retry after {retry}"
            return ApiError(429, description, retry_after=retry)
        default = {
            400: "Bad Request: injected failure",
            403: "Forbidden: bot was blocked by the user",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        return ApiError(self.status, self.description or default.get(self.status, "Injected failure"))


class Bucket:
    """A leaky bucket: ``rate`` messages per ``period`` seconds, bursts up to ``rate``.

    ``slack`` extra messages are let through for timing jitter: a client that paces itself
    exactly (python-telegram-bot's ``AIORateLimiter`` is the same kind of bucket) has its
    requests arrive a little bunched up."""

    def __init__(self, rate: float, period: float, slack: float = 0) -> None:
        self.rate = rate
        self.capacity = rate + slack
        self.leak = rate / period
        self.level = 0.0
        self.updated = time.monotonic()

    def retry_after(self) -> int:
        """0 when one more message fits now, else the whole seconds to wait."""
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.updated) * self.leak)
        self.updated = now
        if self.level + 1 <= self.capacity + 1e-9:
            return 0
        return max(1, math.ceil((self.level + 1 - self.capacity) / self.leak))

    def take(self) -> None:
        self.level += 1


@dataclass(frozen=True)
class RateLimits:
    """Telegram's flood limits; ``jitter`` is the fraction let through above them (see Bucket)."""

    per_second: float = 30
    per_group_per_minute: float = 20
    jitter: float = 0.1

    def overall(self) -> Bucket:
        return Bucket(self.per_second, 1, self.per_second * self.jitter)

    def group(self) -> Bucket:
        return Bucket(self.per_group_per_minute, 60, self.per_group_per_minute * self.jitter)


# -- one bot account ---------------------------------------------------------------------------


@dataclass
class FakeBot:
    """The server-side state of one bot token, and the test's handles on it."""

    server: FakeTelegram
    token: str
    username: str
    first_name: str = "GCM Test Bot"
    calls: list[Call] = field(default_factory=list)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    started_by: set[int] = field(default_factory=set)
    blocked: dict[int, str] = field(default_factory=dict)
    failures: list[FailureRule] = field(default_factory=list)
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    callback_queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered_callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    allowed_updates: list[str] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str | None = None
    webhook_deliveries: list[tuple[int, int]] = field(default_factory=list)
    rate_limited: int = 0
    delivered: list[dict[str, Any]] = field(default_factory=list)
    """Every message the bot sent successfully (text and documents), oldest first."""
    _next_update_id: int = 100_000
    _next_message_id: dict[int, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _poll_generation: int = 0
    _overall: Bucket | None = None
    _groups: dict[int, Bucket] = field(default_factory=dict)
    _webhook_task: asyncio.Task[None] | None = None
    _webhook_wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> int:
        return int(self.token.split(":", 1)[0])

    def me(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # -- injecting what users do -----------------------------------------------------------

    def add_chat(self, chat: dict[str, Any]) -> None:
        """Make a chat known, as if users had started the bot there (or added it to the group)."""
        self.chats[chat["id"]] = chat
        if chat["type"] == "private":
            self.started_by.add(chat["id"])

    def private(self, user: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
        """A user writes ``text`` to the bot in their private chat; returns the message."""
        return self.message(private_chat(user), user, text, **extra)

    def group(
        self, chat: dict[str, Any], user: dict[str, Any], text: str, *, reply_to: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A user writes ``text`` in a group the bot is in (optionally replying to a message)."""
        return self.message(chat, user, text, reply_to=reply_to)

    def message(
        self,
        chat: dict[str, Any],
        user: dict[str, Any],
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": date if date is not None else int(time.time()),
            "text": text,
        }
        found = text_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.inject({"message": message})
        return message

    def document(self, user: dict[str, Any], filename: str, content: bytes, mimetype: str) -> dict[str, Any]:
        """A user sends a file to the bot in their private chat; returns the message."""
        chat = private_chat(user)
        file_id = f"BQACAgEAAx{len(self.files) + 1:08d}"
        self.files[file_id] = UploadedFile("document", filename, content, mimetype)
        message: dict[str, Any] = {
            "message_id": self._message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "document": {"file_id": file_id, "file_unique_id": file_id[-10:], "file_name": filename,
                         "mime_type": mimetype, "file_size": len(content)},
        }
        self.inject({"message": message})
        return message

    def press(self, user: dict[str, Any], message: dict[str, Any], data: str) -> str:
        """A user presses the inline button with ``data`` under the bot's ``message``."""
        query_id = str(next(self._ids) * 7919 + self.id)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(-abs(message["chat"]["id"]) * 31),
            "data": data,
        }
        self.callback_queries[query_id] = query
        self.inject({"callback_query": query})
        return query_id

    def inject(self, update: dict[str, Any]) -> int:
        """Queue a raw update (``update_id`` assigned here) for getUpdates or the webhook.

        The chat it comes from becomes known; so does the sender, who can be written to in
        private once they have written to the bot there."""
        message = update.get("message") or update.get("edited_message")
        if message is not None:
            self.add_chat(message["chat"])
            if "from" in message:
                self.chats.setdefault(message["from"]["id"], private_chat(message["from"]))
            self.messages.setdefault((message["chat"]["id"], message["message_id"]), message)
        self._next_update_id += 1
        update = {"update_id": self._next_update_id, **update}
        self.updates.append(update)
        self._webhook_wakeup.set()
        self.server.changed()
        return self._next_update_id

    def _message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    # -- injecting failures ----------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        count: int = 1,
        method: str | None = None,
        chat_id: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> FailureRule:
        """Answer the next ``count`` matching calls with HTTP ``status`` (429 with ``retry_after``)."""
        rule = FailureRule(status, count, method, chat_id, retry_after, description)
        self.failures.append(rule)
        return rule

    def block(self, chat_id: int, description: str = "Forbidden: bot was blocked by the user") -> None:
        """Every send to ``chat_id`` is refused with 403 from now on (blocked, kicked)."""
        self.blocked[chat_id] = description

    # -- what the bot did --------------------------------------------------------------------

    def requests(self, method: str | None = None, *, chat_id: int | None = None) -> list[Call]:
        method = method.lower() if method else None
        return [
            c for c in self.calls
            if (method is None or c.method == method) and (chat_id is None or c.chat_id == chat_id)
        ]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent successfully (to ``chat_id``), oldest first."""
        return [m for m in self.delivered if chat_id is None or m["chat"]["id"] == chat_id]

    async def wait_sent(
        self, chat_id: int | None = None, count: int = 1, timeout: float = 10
    ) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least ``count`` messages (to ``chat_id``); returns them."""

        def enough() -> list[dict[str, Any]] | None:
            if len(self.delivered) < count:
                return None
            sent = self.sent(chat_id)
            return sent if len(sent) >= count else None

        return await self.server.wait_for(enough, timeout)

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[dict[str, str]]:
        return self.commands.get((scope, language_code), [])


# -- the server ------------------------------------------------------------------------------


class FakeTelegram:
    """The fake Bot API server on 127.0.0.1 and a free port (``url`` is the server root)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | None = None,
        bots: dict[str, str] | None = None,
        any_token: bool = True,
    ) -> None:
        """``bots``: token -> username. With ``any_token`` every well-formed token is a bot;
        without, other tokens are refused with 401 as Telegram refuses a revoked one."""
        self.host = host
        self.any_token = any_token
        self.port = port
        self.rate_limits = rate_limits
        self.bots: dict[str, FakeBot] = {}
        self._runner: web.AppRunner | None = None
        self._condition: asyncio.Condition | None = None
        self._closing = False
        self._http: ClientSession | None = None
        for token, username in (bots or {}).items():
            self.bot(token, username)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bot(self, token: str, username: str | None = None) -> FakeBot:
        """The bot of ``token`` (any well-formed token is accepted, like a registered one)."""
        if token not in self.bots:
            if not re.fullmatch(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,100}", token):
                raise ValueError(f"malformed bot token {token!r}")
            bot = FakeBot(self, token, username or f"test{token.split(':')[0]}_bot")
            if self.rate_limits:
                bot._overall = self.rate_limits.overall()
            self.bots[token] = bot
        return self.bots[token]

    async def start(self) -> str:
        self._closing = False
        self._condition = asyncio.Condition()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/documents/{file_id}", self._file)
        app.router.add_post("/fake/bot{token}/{action}", self._control)
        app.router.add_get("/fake/bot{token}/{action}", self._control)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._http = ClientSession(timeout=ClientTimeout(total=10))
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self.changed()
        for bot in self.bots.values():
            if bot._webhook_task:
                bot._webhook_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await bot._webhook_task
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def changed(self) -> None:
        """Wake everyone waiting on the server's state (pollers, ``wait_for``)."""
        condition = self._condition
        if condition is None:
            return

        async def notify() -> None:
            async with condition:
                condition.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(notify())

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 10) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every change); return its value."""
        assert self._condition is not None, "server not started"
        async with self._condition:
            async with asyncio.timeout(timeout):
                while not (value := predicate()):
                    await self._condition.wait()
        return value

    # -- HTTP ----------------------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        """A file's bytes, as Telegram serves what ``getFile`` named."""
        bot = self.bots.get(request.match_info["token"])
        upload = bot.files.get(request.match_info["file_id"]) if bot else None
        if upload is None:
            return web.Response(status=404)
        return web.Response(body=upload.content, content_type=upload.content_type or "application/octet-stream")

    async def _api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"].lower()
        bot = self.bots.get(token)
        if bot is None and not self.any_token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        if bot is None:
            try:
                bot = self.bot(token)
            except ValueError:
                return web.json_response(ApiError(404, "Not Found").body(), status=404)
        params, files = await _read_params(request)
        call = Call(token, method, params, files, time.time())
        bot.calls.append(call)
        try:
            result = await self._handle(bot, method, params, files)
        except ApiError as error:
            call.status, call.error = error.code, error.description
            self.changed()
            return web.json_response(error.body(), status=error.code)
        call.status, call.result = 200, result
        if method in SEND_METHODS:
            bot.delivered.append(result)
        self.changed()
        return web.json_response({"ok": True, "result": result})

    async def _handle(
        self, bot: FakeBot, method: str, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        handler = _METHODS.get(method)
        if handler is None:
            raise ApiError(404, "Not Found")
        for rule in bot.failures:
            if rule.matches(method, params):
                rule.count -= 1
                raise rule.error()
        if method in SEND_METHODS:
            self._check_send(bot, params)
        return await handler(self, bot, params, files)

    def _check_send(self, bot: FakeBot, params: dict[str, Any]) -> None:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if chat_id in bot.blocked:
            raise ApiError(403, bot.blocked[chat_id])
        if chat_id not in bot.chats:
            raise bad_request("chat not found")
        if bot.chats[chat_id]["type"] == "private" and chat_id not in bot.started_by:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if self.rate_limits is None:
            return
        buckets = [bot._overall] if bot._overall else []
        if isinstance(chat_id, int) and chat_id < 0:
            if chat_id not in bot._groups:
                bot._groups[chat_id] = self.rate_limits.group()
            buckets.append(bot._groups[chat_id])
        wait = max((bucket.retry_after() for bucket in buckets), default=0)
        if wait:
            bot.rate_limited += 1
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        for bucket in buckets:
            bucket.take()

    # -- control API for other processes -----------------------------------------------------

    async def _control(self, request: web.Request) -> web.Response:
        bot = self.bot(request.match_info["token"])
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else {}
        if action == "updates":
            return web.json_response({"update_id": bot.inject(body)})
        if action == "chats":
            bot.add_chat(body)
        elif action == "fail":
            bot.fail(**body)
        elif action == "block":
            bot.block(**body)
        elif action == "calls":
            since = int(request.query.get("since", 0))
            return web.json_response([c.to_json() for c in bot.calls[since:]])
        elif action == "stats":
            stats = {"calls": len(bot.calls), "sent": len(bot.delivered), "rate_limited": bot.rate_limited}
            return web.json_response(stats)
        else:
            raise web.HTTPNotFound()
        return web.json_response({"ok": True})

    # -- webhook delivery ------------------------------------------------------------------

    async def _deliver_webhook(self, bot: FakeBot) -> None:
        """Push queued updates to the bot's webhook one at a time, as Telegram does."""
        assert self._http is not None
        while True:
            while not bot.updates:
                bot._webhook_wakeup.clear()
                await bot._webhook_wakeup.wait()
            update = bot.updates[0]
            headers = {SECRET_HEADER: bot.webhook_secret} if bot.webhook_secret else {}
            try:
                async with self._http.post(bot.webhook_url, json=update, headers=headers) as response:
                    status = response.status
            except (OSError, asyncio.TimeoutError):
                status = 0
            bot.webhook_deliveries.append((update["update_id"], status))
            if 200 <= status < 300:
                bot.updates.popleft()
            else:
                await asyncio.sleep(0.05)
            self.changed()


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json":
        raw.update(await request.json())
    elif request.content_type == "multipart/form-data":
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or part.name is None:
                raise bad_request("can't parse the multipart body")
            content = bytes(await part.read())
            if part.filename:
                kind = part.headers.get("Content-Type", "")
                files[part.name] = UploadedFile(part.name, part.filename, content, kind)
            else:
                raw[part.name] = content.decode()
    elif request.can_read_body:
        raw.update(await request.post())
    return {k: _coerce(k, v) for k, v in raw.items()}, files


def _coerce(name: str, value: Any) -> Any:
    """Form values arrive as strings; objects are JSON-serialized, as the Bot API specifies."""
    if not isinstance(value, str):
        return value
    if name in OBJECT_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in INT_PARAMS and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if name in BOOL_PARAMS:
        return value.lower() == "true"
    return value


# -- the methods -------------------------------------------------------------------------------


async def _get_me(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    return bot.me()


async def _get_updates(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    if bot.webhook_url:
        raise ApiError(409, f"Conflict: {WEBHOOK_CONFLICT}")
    offset = int(params.get("offset") or 0)
    limit = min(max(int(params.get("limit") or 100), 1), 100)
    timeout = max(float(params.get("timeout") or 0), 0)
    if "allowed_updates" in params and params["allowed_updates"] is not None:
        bot.allowed_updates = list(params["allowed_updates"])
    if offset < 0:
        while len(bot.updates) > -offset:
            bot.updates.popleft()
    else:
        while bot.updates and bot.updates[0]["update_id"] < offset:
            bot.updates.popleft()
    bot._poll_generation += 1
    generation = bot._poll_generation
    server.changed()

    def ready() -> list[dict[str, Any]] | bool:
        if generation != bot._poll_generation or server._closing:
            return True
        allowed = bot.allowed_updates or ["message", "edited_message", "channel_post", "callback_query"]
        found = [u for u in bot.updates if any(kind in u for kind in allowed)]
        return found[:limit]

    try:
        result = await server.wait_for(ready, timeout) if timeout else ready()
    except TimeoutError:
        result = []
    if result is True:
        if server._closing:
            return []
        raise ApiError(409, f"Conflict: {POLLING_CONFLICT}")
    return result


async def _send_message(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    text, entities = _formatted(params, "text", MAX_MESSAGE_LENGTH)
    if not text.strip():
        raise bad_request("message text is empty")
    message = _new_message(bot, params)
    message["text"] = text
    if entities:
        message["entities"] = entities
    return message


async def _send_document(
    server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: dict[str, UploadedFile]
) -> Any:
    upload = files.get("document")
    if upload is None:
        if isinstance(params.get("document"), str) and params["document"] in bot.files:
            upload = bot.files[params["document"]]
        else:
            raise bad_request("there is no document in the request")
    if not upload.content:
        raise bad_request("file must be non-empty")
    caption, entities = _formatted(params, "caption", MAX_CAPTION_LENGTH)
    message = _new_message(bot, params)
    file_id = f"BQACAgEAAx{len(bot.files) + 1:08d}"
    bot.files[file_id] = upload
    message["document"] = {
        "file_id": file_id,
        "file_unique_id": f"AgAD{len(bot.files):06d}",
        "file_name": upload.filename,
        "mime_type": upload.content_type or "application/octet-stream",
        "file_size": len(upload.content),
    }
    if caption:
        message["caption"] = caption
    if entities:
        message["caption_entities"] = entities
    return message


async def _send_photo(
    server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: dict[str, UploadedFile]
) -> Any:
    """Like Telegram: the photo must be an image it can read (PNG, JPEG, WebP, GIF); it answers
    with the sizes it keeps (here the original only)."""
    upload = files.get("photo")
    if upload is None:
        raise bad_request("there is no photo in the request")
    if not upload.content.startswith(IMAGE_MAGIC):
        raise bad_request("IMAGE_PROCESS_FAILED")
    caption, entities = _formatted(params, "caption", MAX_CAPTION_LENGTH)
    message = _new_message(bot, params)
    file_id = f"AgACAgEAAx{len(bot.files) + 1:08d}"
    bot.files[file_id] = upload
    message["photo"] = [
        {"file_id": file_id, "file_unique_id": f"AQAD{len(bot.files):06d}", "width": 800, "height": 450,
         "file_size": len(upload.content)}
    ]
    if caption:
        message["caption"] = caption
    if entities:
        message["caption_entities"] = entities
    return message


async def _get_file(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    file_id = str(params.get("file_id", ""))
    upload = bot.files.get(file_id)
    if upload is None:
        raise bad_request("invalid file_id")
    return {"file_id": file_id, "file_unique_id": file_id[-10:], "file_size": len(upload.content),
            "file_path": f"documents/{file_id}"}


async def _edit_message_text(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    key = (params.get("chat_id"), params.get("message_id"))
    old = bot.messages.get(key)  # type: ignore[arg-type]
    if old is None or old["from"]["id"] != bot.id:
        raise bad_request("message to edit not found")
    text, entities = _formatted(params, "text", MAX_MESSAGE_LENGTH)
    markup = _inline_keyboard(params.get("reply_markup"))
    if text == old.get("text") and entities == old.get("entities", []) and markup == old.get("reply_markup"):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are exactly the same "
            "as a current content and reply markup of the message"
        )
    new = {k: v for k, v in old.items() if k not in ("text", "entities", "reply_markup")}
    new.update(text=text, edit_date=int(time.time()))
    if entities:
        new["entities"] = entities
    if markup:
        new["reply_markup"] = markup
    bot.messages[key] = new  # type: ignore[index]
    return new


async def _answer_callback_query(
    server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any
) -> Any:
    query_id = str(params.get("callback_query_id", ""))
    if query_id not in bot.callback_queries or query_id in bot.answered_callbacks:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if len(str(params.get("text", ""))) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    bot.answered_callbacks[query_id] = params
    return True


async def _set_my_commands(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("parameter \"commands\" must be an array of at most 100 BotCommand")
    names = set()
    for command in commands:
        name, description = command.get("command", ""), command.get("description", "")
        if not _BOT_COMMAND_NAME.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        if name in names:
            raise bad_request("BOT_COMMAND_DUPLICATE")
        names.add(name)
    menu = [{"command": c["command"], "description": c["description"]} for c in commands]
    bot.commands[_scope_key(params)] = menu
    return True


async def _get_my_commands(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    return bot.commands.get(_scope_key(params), [])


async def _delete_my_commands(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    bot.commands.pop(_scope_key(params), None)
    return True


def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
    language = str(params.get("language_code") or "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope")
    kind = scope["type"]
    if kind in ("chat", "chat_administrators"):
        kind = f"{kind}:{scope.get('chat_id')}"
    elif kind == "chat_member":
        kind = f"{kind}:{scope.get('chat_id')}:{scope.get('user_id')}"
    return kind, language


async def _set_webhook(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    url = str(params.get("url") or "")
    secret = params.get("secret_token")
    if secret is not None and not _WEBHOOK_SECRET.match(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if params.get("drop_pending_updates"):
        bot.updates.clear()
    if params.get("allowed_updates") is not None:
        bot.allowed_updates = list(params["allowed_updates"])
    _stop_webhook(bot)
    bot.webhook_url, bot.webhook_secret = url, (str(secret) if secret else None)
    if url:
        bot._poll_generation += 1
        bot._webhook_task = asyncio.get_running_loop().create_task(server._deliver_webhook(bot))
    server.changed()
    return True


async def _delete_webhook(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    if params.get("drop_pending_updates"):
        bot.updates.clear()
    _stop_webhook(bot)
    bot.webhook_url, bot.webhook_secret = "", None
    return True


def _stop_webhook(bot: FakeBot) -> None:
    if bot._webhook_task:
        bot._webhook_task.cancel()
        bot._webhook_task = None


async def _get_webhook_info(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    info: dict[str, Any] = {
        "url": bot.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
        "max_connections": 40,
    }
    if bot.allowed_updates:
        info["allowed_updates"] = bot.allowed_updates
    return info


async def _get_chat(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    chat = bot.chats.get(params.get("chat_id"))  # type: ignore[arg-type]
    if chat is None:
        raise bad_request("chat not found")
    return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {
        "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
        "premium_subscription": False, "gifts_from_channels": False}}


async def _send_chat_action(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    if params.get("chat_id") not in bot.chats:
        raise bad_request("chat not found")
    return True


async def _true(server: FakeTelegram, bot: FakeBot, params: dict[str, Any], files: Any) -> Any:
    return True


def _formatted(params: dict[str, Any], name: str, limit: int) -> tuple[str, list[dict[str, Any]]]:
    raw = str(params.get(name) or "")
    mode = str(params.get("parse_mode") or "").lower()
    if mode == "html":
        text, entities = parse_html(raw)
    elif mode:
        raise bad_request(f"unsupported parse_mode {params['parse_mode']}")
    else:
        text, entities = raw, list(params.get(f"{'caption_' if name == 'caption' else ''}entities") or [])
    stripped = text.strip()
    if stripped != text:  # Telegram trims the text; entities keep pointing at the same characters
        shift, end = utf16_len(text[: len(text) - len(text.lstrip())]), utf16_len(stripped)
        moved = []
        for entity in entities:
            start = max(entity["offset"] - shift, 0)
            stop = min(entity["offset"] - shift + entity["length"], end)
            if stop > start:
                moved.append({**entity, "offset": start, "length": stop - start})
        entities = moved
        text = stripped
    if utf16_len(text) > limit:
        raise bad_request("message is too long" if name == "text" else "message caption is too long")
    return text, entities


def _new_message(bot: FakeBot, params: dict[str, Any]) -> dict[str, Any]:
    chat_id = params["chat_id"]
    chat = bot.chats[chat_id]
    message: dict[str, Any] = {
        "message_id": bot._message_id(chat_id),
        "from": {"id": bot.id, "is_bot": True, "first_name": bot.first_name, "username": bot.username},
        "chat": chat,
        "date": int(time.time()),
    }
    reply = _reply_target(bot, params)
    if reply is not None:
        message["reply_to_message"] = reply
    markup = _inline_keyboard(params.get("reply_markup"))
    if markup:
        message["reply_markup"] = markup
    bot.messages[(chat_id, message["message_id"])] = message
    return message


def _reply_target(bot: FakeBot, params: dict[str, Any]) -> dict[str, Any] | None:
    reply = params.get("reply_parameters")
    if reply is None and params.get("reply_to_message_id"):
        reply = {
            "message_id": params["reply_to_message_id"],
            "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
        }
    if not reply:
        return None
    target = bot.messages.get((reply.get("chat_id", params["chat_id"]), reply.get("message_id")))
    if target is None and not reply.get("allow_sending_without_reply"):
        raise bad_request("message to be replied not found")
    return target and {k: v for k, v in target.items() if k != "reply_to_message"}


def _inline_keyboard(markup: Any) -> dict[str, Any] | None:
    """Validate an ``InlineKeyboardMarkup`` as Telegram does; other markups are passed through."""
    if not markup:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise bad_request("BUTTON_TEXT_EMPTY" if "text" in button else TEXT_BUTTON_IN_INLINE_KEYBOARD)
            if "callback_data" in button:
                if not 1 <= len(str(button["callback_data"]).encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif "url" in button:
                if not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                    url = button["url"]
                    raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            elif not any(kind in button for kind in OTHER_INLINE_BUTTONS):
                raise bad_request(TEXT_BUTTON_IN_INLINE_KEYBOARD)
    return markup


_METHODS: dict[str, Callable[..., Any]] = {
    "getme": _get_me,
    "getupdates": _get_updates,
    "sendmessage": _send_message,
    "senddocument": _send_document,
    "sendphoto": _send_photo,
    "getfile": _get_file,
    "editmessagetext": _edit_message_text,
    "answercallbackquery": _answer_callback_query,
    "setmycommands": _set_my_commands,
    "getmycommands": _get_my_commands,
    "deletemycommands": _delete_my_commands,
    "setwebhook": _set_webhook,
    "deletewebhook": _delete_webhook,
    "getwebhookinfo": _get_webhook_info,
    "getchat": _get_chat,
    "sendchataction": _send_chat_action,
    "close": _true,
    "logout": _true,
}


# -- standalone ----------------------------------------------------------------------------


async def _serve(port: int, rate_limits: bool) -> None:
    server = FakeTelegram(port=port, rate_limits=RateLimits() if rate_limits else None)
    await server.start()
    print(server.url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API server.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument(
        "--rate-limits", action="store_true", help="answer 429 beyond Telegram's flood limits"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.rate_limits))


if __name__ == "__main__":
    main()
