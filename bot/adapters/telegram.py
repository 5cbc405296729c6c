"""The Telegram adapter: python-telegram-bot updates in, the core's replies out.

Private chats: every text message goes to the core. Groups: only what is addressed to the
bot — a command (``/objetivo@GcmBot 10``, not one for ``@OtherBot``), a message that mentions
the bot (the mention is removed), a reply to one of the bot's messages, or a press on one of
its buttons. Replies are Telegram HTML, split under the 4,096-character limit, with inline
keyboards. Sending paces itself to Telegram's flood limits and makes one attempt: the answer
(sent, retry after N seconds, blocked, failed) is mapped to a :class:`Status`, and the sender
(:mod:`bot.delivery`) decides whether to try again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cachetools import LRUCache
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram import Message as TgMessage
from telegram import User as TgUser
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.base import Delivery, Hub, Status
from bot.config import Settings
from handlers.i18n import LANGUAGES, _, normalize_language, use_locale
from handlers.markup import split_html, utf16_len
from handlers.message import Address, Attachment, Message, Reply, User

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_TEXT = 4096
MAX_DOCUMENT = 5_000_000
"""Files larger than this are not downloaded (the core answers that the file is empty)."""
MAX_CALLBACK_DATA = 64
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY)
STALE_GROUP_MESSAGE = timedelta(hours=1)
"""Group messages older than this when they arrive (the bot was down) are not answered."""
FLOOD_LIMITS = {
    "overall_max_rate": 30,
    "overall_time_period": 1,
    "group_max_rate": 20,
    "group_time_period": 60,
}
"""Telegram's limits: 30 messages a second in all, 20 a minute in one group."""
PARTS_REMEMBERED = 10_000
"""Replies waiting for a retry whose first parts went out (remembered to skip them)."""
RUNNING_UPDATES = 16
"""Updates of different chats answered at the same time."""

_ADDRESSED_COMMAND = re.compile(r"^/(\w+)(?:@(\w+))?")
_TELEGRAM_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN_IN_URL = re.compile(r"(/(?:file/)?bot)[0-9]+:[A-Za-z0-9_-]+")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Sending = Callable[..., Awaitable[TgMessage]]
"""A Bot method bound to its chat and content, waiting for the reply options."""

_sender_language: ContextVar[str | None] = ContextVar("telegram_sender_language", default=None)
"""The language of the person whose message is being answered, for the adapter's own labels."""


class TelegramAdapter:
    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        *,
        flood_limits: bool = True,
        retry_delay: float = 1.0,
    ) -> None:
        """``flood_limits=False`` drops the pacing to Telegram's rate bounds (benchmarks);
        ``retry_delay`` is the first pause while the Bot API server is unreachable at start."""
        if not settings.telegram_token:
            raise ValueError("TELEGRAM_TOKEN is not set")
        self.settings = settings
        self.retry_delay = retry_delay
        self.started = asyncio.Event()
        self.webhook_secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        self._callbacks = CallbackData()
        self._parts_sent: LRUCache[str, int] = LRUCache(PARTS_REMEMBERED)
        """How many parts of a reply (by ``key``) Telegram accepted before a retryable failure."""
        self._hub: Hub | None = None
        self.application = _build_application(settings, flood_limits)
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    # receiving ---------------------------------------------------------------

    async def run(self, hub: Hub) -> None:
        """Receive updates (long polling, or webhook when configured) until cancelled."""
        self._hub = hub
        app = self.application
        await self._initialize()
        async with app:
            try:
                await self._publish_commands(hub)
                await self._start_receiving()
                await app.start()
                log.info("Telegram: @%s is listening", app.bot.username)
                self.started.set()
                await asyncio.Future()
            finally:
                self.started.clear()
                if app.updater is not None and app.updater.running:
                    await app.updater.stop()
                if app.running:
                    await app.stop()

    async def _initialize(self) -> None:
        """Connect (``getMe``), waiting for the Bot API server while it is unreachable."""
        delay = self.retry_delay
        try:
            while True:
                try:
                    await self.application.initialize()
                    return
                except InvalidToken:
                    raise
                except NetworkError as error:
                    log.warning("Telegram unreachable (%s); retrying in %.1f s", error, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60)
        except BaseException:
            await self.application.bot.shutdown()  # its HTTP sessions, opened by the first try
            raise

    async def _start_receiving(self) -> None:
        updater = self.application.updater
        assert updater is not None
        url = self.settings.telegram_webhook_url
        if url:
            await updater.start_webhook(
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                url_path=urlsplit(url).path,
                webhook_url=url,
                secret_token=self.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
                bootstrap_retries=-1,
            )
        else:
            await updater.start_polling(
                allowed_updates=list(ALLOWED_UPDATES),
                bootstrap_retries=-1,
                error_callback=lambda error: log.warning("polling Telegram failed: %s", error),
            )

    async def _publish_commands(self, hub: Hub) -> None:
        """The command menu of each language, for private chats and for groups."""
        default = self.settings.bot_language
        for language in (None, *LANGUAGES):
            menu = bot_commands(hub.menu(language or default))
            for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
                try:
                    await self.application.bot.set_my_commands(menu, scope=scope, language_code=language)
                except TelegramError as error:
                    log.warning("could not set the %s command menu: %s", language or "default", error)

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            message = await self._pressed(update)
        elif update.message is not None and update.message.document is not None:
            message = await self._document(update.message)
        elif update.message is not None:
            message = self._received(update.message)
        else:
            return
        if message is None:
            return
        assert self._hub is not None
        _sender_language.set(message.sender.language_code)
        await self._hub.dispatch(message)

    def _received(self, msg: TgMessage) -> Message | None:
        """The core's message for a Telegram text message, or None when it is not for the bot."""
        sender = msg.from_user
        if msg.text is None or sender is None or sender.is_bot:
            return None
        private = msg.chat.type == ChatType.PRIVATE
        text = self._text_for_bot(msg, private)
        if text is None:
            return None
        return Message(
            chat=Address(PLATFORM, chat_id=str(msg.chat.id)),
            sender=_user(sender),
            text=text,
            private=private,
            message_id=str(msg.message_id),
            chat_title=msg.chat.title,
        )

    async def _document(self, msg: TgMessage) -> Message | None:
        """A file sent to the bot in a private chat (in groups, files are the members' own)."""
        sender, document = msg.from_user, msg.document
        if sender is None or sender.is_bot or document is None or msg.chat.type != ChatType.PRIVATE:
            return None
        if (document.file_size or 0) > MAX_DOCUMENT:
            content = b""
        else:
            content = bytes(await (await document.get_file()).download_as_bytearray())
        return Message(
            chat=Address(PLATFORM, chat_id=str(msg.chat.id)),
            sender=_user(sender),
            text=msg.caption or "",
            private=True,
            message_id=str(msg.message_id),
            attachment=Attachment(document.file_name or "file", content, document.mime_type or ""),
        )

    def _text_for_bot(self, msg: TgMessage, private: bool) -> str | None:
        """The text meant for the bot (a mention of it removed), or None when it is not.

        A command for another bot is never ours. In groups: a command of ours (``/mesa`` or
        any ``/x@ThisBot``), a mention of the bot, a reply to it; the rest is the members'
        conversation, and so is anything sent while the bot was down for long."""
        text = msg.text or ""
        bot = self.application.bot
        command = _ADDRESSED_COMMAND.match(text)
        if command and command.group(2):
            return text if command.group(2).lower() == bot.username.lower() else None
        if private:
            return text
        if datetime.now(UTC) - msg.date > STALE_GROUP_MESSAGE:
            return None
        if command:
            assert self._hub is not None
            return text if self._hub.is_command(command.group(1)) else None
        for entity in msg.entities:
            if (
                entity.type == MessageEntity.MENTION
                and msg.parse_entity(entity).lower() == f"@{bot.username.lower()}"
            ) or (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id):
                return _without(text, entity)
        replied = msg.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return text
        return None

    async def _pressed(self, update: Update) -> Message | None:
        """A button press: answered at once, its command handed on as the presser's message."""
        query = update.callback_query
        assert query is not None
        command = self._callbacks.command(query.data or "")
        origin = query.message
        if command is None or origin is None:
            with use_locale(normalize_language(query.from_user.language_code) or self.settings.bot_language):
                await self._answer(query.answer(_("This button has expired. Please send the command again.")))
            return None
        await self._answer(query.answer())
        chat = origin.chat
        return Message(
            chat=Address(PLATFORM, chat_id=str(chat.id)),
            sender=_user(query.from_user),
            text=command,
            private=chat.type == ChatType.PRIVATE,
            message_id=str(origin.message_id),
            chat_title=chat.title,
        )

    @staticmethod
    async def _answer(call: Awaitable[bool]) -> None:
        try:
            await call
        except TelegramError as error:
            log.warning("could not answer a button press: %s", error)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed: %s", _describe(update), exc_info=context.error)

    # sending -----------------------------------------------------------------

    async def send(self, reply: Reply) -> Delivery:
        """Send one reply (several messages when it is long); never raises for Telegram errors.

        A reply sent again under the same ``key`` after ``Status.RETRY`` goes on from the part
        that failed: the parts Telegram accepted are not sent twice."""
        delivery = await self._attempt(reply)
        if reply.key and delivery.status is not Status.RETRY:
            self._parts_sent.pop(reply.key, None)
        return delivery

    async def _attempt(self, reply: Reply) -> Delivery:
        to = reply.to
        if to is None or to.platform != PLATFORM or not (to.chat_id or to.user_id):
            return Delivery(Status.FAILED, error=f"not a Telegram address: {to}")
        try:
            chat_id = int(to.chat_id or to.user_id or "")
            message_id = await self._send(chat_id, reply)
        except Forbidden as error:
            log.info("Telegram refuses chat %s: %s", to, error.message)
            return Delivery(Status.BLOCKED, error=error.message)
        except RetryAfter as error:
            return Delivery(Status.RETRY, retry_after=_seconds(error), error=error.message)
        except ChatMigrated as error:
            log.warning("chat %s became supergroup %s", to, error.new_chat_id)
            return Delivery(Status.FAILED, error=error.message)
        except BadRequest as error:
            log.warning("Telegram rejected a message to %s: %s", to, error.message)
            return Delivery(Status.FAILED, error=error.message)
        except NetworkError as error:
            return Delivery(Status.RETRY, error=error.message)
        except (TelegramError, ValueError, RuntimeError) as error:
            log.exception("could not send to %s", to)
            return Delivery(Status.FAILED, error=str(error))
        if message_id is None:
            return Delivery(Status.FAILED, error="empty reply")
        return Delivery(Status.SENT, message_id=str(message_id))

    async def _send(self, chat_id: int, reply: Reply) -> int | None:
        """Each part of the reply in turn: the first one threaded, the keyboard on the last."""
        bot = self.application.bot
        html_options = {"parse_mode": ParseMode.HTML, "link_preview_options": _NO_PREVIEW}
        calls: list[Sending] = [
            partial(bot.send_message, chat_id, part, **html_options) for part in split_html(reply.html, MAX_TEXT)
        ]
        if reply.attachment is not None:
            attachment = reply.attachment
            calls.append(partial(bot.send_document, chat_id, attachment.content, filename=attachment.filename))
        if reply.image is not None:
            calls.append(partial(bot.send_photo, chat_id, reply.image.content, filename=reply.image.filename))
        keyboard = await self._keyboard(reply, chat_id)
        threaded = (
            ReplyParameters(int(reply.reply_to), allow_sending_without_reply=True)
            if reply.reply_to and reply.to and reply.to.chat_id
            else None
        )
        sent = None
        done = self._parts_sent.get(reply.key, 0) if reply.key else 0
        for index, call in enumerate(calls[done:], start=done):
            extra: dict[str, Any] = {}
            if index == 0 and threaded is not None:
                extra["reply_parameters"] = threaded
            if index == len(calls) - 1 and keyboard is not None:
                extra["reply_markup"] = keyboard
            sent = await call(**extra)
            if reply.key:
                self._parts_sent[reply.key] = index + 1
        return sent.message_id if sent is not None else None

    async def _keyboard(self, reply: Reply, chat_id: int) -> InlineKeyboardMarkup | None:
        rows = [
            [InlineKeyboardButton(b.label, callback_data=self._callbacks.data(b.command)) for b in row]
            for row in reply.buttons
            if row
        ]
        if reply.private_start is not None and chat_id < 0:
            label = await self._in_chat_language(reply, lambda: _("Continue in private chat"))
            rows.append([InlineKeyboardButton(label, url=self.deep_link(reply.private_start))])
        return InlineKeyboardMarkup(rows) if rows else None

    def deep_link(self, payload: str) -> str:
        """``t.me`` link that opens the private chat and sends ``/start <payload>``."""
        link = f"https://t.me/{self.application.bot.username}"
        if _START_PAYLOAD.match(payload):
            return f"{link}?start={payload}"
        log.warning("start payload %r is not allowed by Telegram; linking without it", payload)
        return link

    async def _in_chat_language(self, reply: Reply, text: Callable[[], str]) -> str:
        """One of the adapter's few labels, in the language the core answers that chat in."""
        language = None
        if self._hub is not None and reply.to is not None:
            language = await self._hub.chat_language(reply.to)
        language = language or normalize_language(_sender_language.get()) or self.settings.bot_language
        with use_locale(language):
            return text()


# building blocks -----------------------------------------------------------------


def _build_application(settings: Settings, flood_limits: bool) -> Application:
    """PTB's application over our HTTP client, with :func:`pacing` unless ``flood_limits`` is off."""
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token or "")
        .concurrent_updates(ChatOrderedProcessor())
        .job_queue(None)
        .request(AiohttpRequest(connections=32))
        .get_updates_request(AiohttpRequest(connections=1))
    )
    if flood_limits:
        builder = builder.rate_limiter(pacing())
    if settings.telegram_base_url:
        root = settings.telegram_base_url.rstrip("/")
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    return builder.build()


def pacing() -> AIORateLimiter:
    """Every request waits its turn under Telegram's flood limits (:data:`FLOOD_LIMITS`).

    PTB's ``AIORateLimiter`` is kept for its pacing alone: a broadcast to hundreds of chats goes
    out at the 30 messages a second Telegram allows (``bench/broadcast.py``) instead of running
    into 429s and waiting them out, and a group's 20 a minute are kept the same way. It retries
    nothing (``max_retries=0``): a 429 that still happens becomes ``Status.RETRY`` with Telegram's
    ``retry_after``, and the sender's one retry policy takes it from there."""
    return AIORateLimiter(max_retries=0, **FLOOD_LIMITS)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Different chats are answered concurrently; one chat's updates strictly in order.

    A group held back by its 20-messages-a-minute limit then delays only itself, and a
    dialogue never sees its steps out of order. Updates waiting for their chat's turn take
    no ``running`` slot; the slots bound the database and HTTP connections in use."""

    def __init__(self, running: int = RUNNING_UPDATES, waiting: int = 4096) -> None:
        super().__init__(waiting)
        self._running = asyncio.Semaphore(running)
        self._chats: dict[int | None, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock, self._running:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users == 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


class AiohttpRequest(BaseRequest):
    """python-telegram-bot's HTTP over aiohttp, at a third of the CPU per request of its
    default httpx backend (0.33 ms against 1.1 ms here). Parameters go as a JSON body, files
    as multipart: the Bot API accepts both."""

    def __init__(self, *, connections: int, timeout: float = 5.0) -> None:
        self.connections = connections
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self.timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One request; ``read_timeout`` is per read (long polling raises it), and aiohttp
        has no separate write or pool timeouts."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(
            sock_connect=self.timeout if connect_timeout is BaseRequest.DEFAULT_NONE else connect_timeout,
            sock_read=self.timeout if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout,
        )
        body: aiohttp.FormData | bytes | None = None
        headers = {}
        if request_data is not None and request_data.contains_files:
            body = aiohttp.FormData(request_data.json_parameters)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data is not None:
            body, headers = request_data.json_payload, {"Content-Type": "application/json"}
        try:
            request = self._session.request(method, url, data=body, headers=headers, timeout=timeout)
            async with request as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(_TOKEN_IN_URL.sub(r"\1<token>", f"{type(error).__name__}: {error}")) from error


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


def _without(text: str, entity: MessageEntity) -> str:
    """``text`` with the entity (a mention of the bot) taken out: ``@bot, hola`` -> ``hola``."""
    units = text.encode("utf-16-le")
    before = units[: entity.offset * 2].decode("utf-16-le")
    after = units[(entity.offset + entity.length) * 2 :].decode("utf-16-le")
    return f"{before.rstrip()} {after.lstrip(' ,:;').lstrip()}".strip()


def _user(user: TgUser) -> User:
    return User(PLATFORM, str(user.id), user.full_name, user.username, user.language_code)


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _describe(update: object) -> str:
    if not isinstance(update, Update):
        return repr(update)[:200]
    chat, user = update.effective_chat, update.effective_user
    text = update.effective_message.text if update.effective_message else None
    return (
        f"update {update.update_id} in chat {chat.id if chat else '-'} "
        f"from {user.id if user else '-'}: {(text or '')[:80]!r}"
    )
