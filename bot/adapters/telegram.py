"""The Telegram adapter: python-telegram-bot updates in, the core's replies out.

Which updates are for the bot and what they say: :mod:`bot.adapters.telegram_events`; how
replies look (HTML parts, keyboards, the command menu): :mod:`bot.adapters.telegram_render`;
pacing and update concurrency: :mod:`bot.adapters.telegram_pacing`; HTTP:
:mod:`bot.adapters.telegram_http`. Sending makes one attempt: the answer (sent, retry after N
seconds, blocked, failed) is mapped to a :class:`Status`, and the sender (:mod:`bot.delivery`)
decides whether to try again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import warnings
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from cachetools import LRUCache
from telegram import (
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bot.adapters import telegram_events as events
from bot.adapters.base import Delivery, Hub, Status
from bot.adapters.telegram_events import PLATFORM, Me
from bot.adapters.telegram_http import AiohttpRequest
from bot.adapters.telegram_pacing import ChatOrderedProcessor, pacing
from bot.adapters.telegram_render import CallbackData, bot_commands, keyboard_rows, parts
from bot.config import Settings
from bot.retry import RetryPolicy, persist
from handlers.i18n import LANGUAGES, _, normalize_language, use_locale
from handlers.message import Message, Reply

log = logging.getLogger(__name__)

ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY)
PARTS_REMEMBERED = 10_000
"""Replies waiting for a retry whose first parts went out (remembered to skip them)."""
CONNECT_CAP = timedelta(seconds=60)
"""The longest pause between tries while the Bot API server is unreachable at start."""

_START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

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
        self.connecting = RetryPolicy(first=timedelta(seconds=retry_delay), cap=CONNECT_CAP)
        self.started = asyncio.Event()
        self.webhook_secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        self._callbacks = CallbackData()
        self._parts_sent: LRUCache[str, int] = LRUCache(PARTS_REMEMBERED)
        """How many parts of a reply (by ``key``) Telegram accepted before a retryable failure."""
        self._hub: Hub | None = None
        self._me: Me | None = None
        self.application = _build_application(settings, flood_limits)
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    # receiving ---------------------------------------------------------------

    async def run(self, hub: Hub) -> None:
        """Receive updates (long polling, or webhook when configured) until cancelled."""
        self._hub = hub
        app = self.application
        await self._initialize()
        self._me = Me(app.bot.id, app.bot.username, self._is_command)
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
        """Connect (``getMe``), waiting for the Bot API server while it is unreachable (a
        refused token is not retried)."""
        try:
            await persist(
                self.application.initialize, self.connecting, log=log, what="Telegram unreachable",
                errors=(NetworkError,), level=logging.WARNING,
            )
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
            message = await events.document(update.message)
        elif update.message is not None:
            assert self._me is not None
            message = events.received(update.message, self._me)
        else:
            return
        if message is None:
            return
        assert self._hub is not None
        _sender_language.set(message.sender.language_code)
        await self._hub.dispatch(message)

    def _is_command(self, name: str) -> bool:
        assert self._hub is not None
        return self._hub.is_command(name)

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
        return events.pressed(origin, query.from_user, command)

    @staticmethod
    async def _answer(call: Awaitable[bool]) -> None:
        try:
            await call
        except TelegramError as error:
            log.warning("could not answer a button press: %s", error)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed: %s", events.describe(update), exc_info=context.error)

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
        calls = parts(self.application.bot, chat_id, reply)
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
        rows = keyboard_rows(reply.buttons, self._callbacks)
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


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
