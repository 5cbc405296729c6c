"""What a handler gets: the message, the chat's settings, the services, and reply helpers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import direct
from handlers.dialogues import State
from handlers.directory import ChatInfo
from handlers.errors import Forbidden
from handlers.i18n import _
from handlers.message import Answer, Attachment, Button, Message, Reply
from handlers.understanding import Understanding
from storage import roles

if TYPE_CHECKING:
    from handlers.clock import Clock
    from handlers.directory import ChatDirectory
    from handlers.registry import CommandTable
    from handlers.services import CoreConfig, Services
    from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Context:
    """One message being handled. Handlers use their services through the short properties
    (``ctx.db``, ``ctx.clock``, ``ctx.config``, ``ctx.chats``, ``ctx.commands``)."""

    services: Services
    message: Message
    chat: ChatInfo
    lang: str
    args: str = ""
    """What follows the command's name, as typed; its declaration reads it (:mod:`handlers.arguments`)."""
    command: str | None = None
    understood: Understanding | None = None

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def config(self) -> CoreConfig:
        return self.services.config

    @property
    def chats(self) -> ChatDirectory:
        return self.services.chats

    @property
    def commands(self) -> CommandTable:
        return self.services.commands

    @property
    def user(self) -> str:
        """The sender's platform-qualified id, as written in ``BOT_ADMINS``."""
        return self.message.sender.key

    @property
    def timezone(self) -> str:
        return self.chat.timezone or self.config.default_timezone

    def reply(
        self,
        markup: str,
        *,
        buttons: tuple[tuple[Button, ...], ...] = (),
        attachment: Attachment | None = None,
        answer: Answer | None = None,
        private_start: str | None = None,
    ) -> Reply:
        """A reply in this chat, threaded under the question in groups."""
        return Reply(
            markup,
            to=self.message.chat,
            buttons=buttons,
            attachment=attachment,
            reply_to=None if self.message.private else self.message.message_id,
            answer=answer,
            private_start=private_start,
        )

    def image(self, picture: Attachment) -> Reply:
        """A picture in this chat, threaded like a reply."""
        return replace(self.reply(""), image=picture)

    async def tell(
        self,
        session: AsyncSession,
        user_key: str,
        markup: str,
        *,
        about: dict[str, Any],
        owner: str | None,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> None:
        """A message to someone else (``platform:id``), planned in ``session``'s transaction: it
        goes out through the outbox once that commits (see :mod:`handlers.direct`)."""
        await direct.tell(
            session, user_key, markup, at=self.clock.now(), about=about, owner=owner, buttons=buttons
        )

    # roles -----------------------------------------------------------------

    def is_admin(self) -> bool:
        return self.user in self.config.admins

    async def secretary_tables(self) -> set[str]:
        async with self.db.transaction() as session:
            return await roles.secretary_tables(session, self.user)

    async def require_admin(self) -> None:
        if not self.is_admin():
            self._refuse("admin")

    async def require_secretary(self, table: str) -> None:
        """Admins, or secretaries of ``table``; anyone else is refused and the refusal logged."""
        if self.is_admin() or table in await self.secretary_tables():
            return
        self._refuse(f"secretary of {table}")

    def _refuse(self, role: str) -> None:
        log.warning("refused %r to %s (needs %s)", self.message.text[:80], self.user, role)
        raise Forbidden(_("Sorry, only an administrator or the table's secretary can do that."))

    async def require_group_settings(self) -> None:
        """A group's settings (language, time zone) are changed by the group's administrators
        (where the platform tells), a table's secretary or an admin; a private chat's by its person."""
        if self.message.private or self.message.chat_admin or self.is_admin() or await self.secretary_tables():
            return
        log.warning("refused %r to %s (needs a group administrator)", self.message.text[:80], self.user)
        raise Forbidden(
            _(
                "Sorry, in a group only its administrators, a table's secretary or a bot administrator "
                "can change this: every reminder here follows it."
            )
            if self.message.chat_admin is not None
            else _(
                "Sorry, in a group only a table's secretary or a bot administrator can change this: "
                "every reminder here follows it."
            )
        )

    # settings --------------------------------------------------------------

    async def set_language(self, language: str) -> None:
        await self.chats.update_chat(self.message.chat, language=language)
        self.chat = replace(self.chat, language=language)

    async def set_timezone(self, timezone: str) -> None:
        await self.chats.update_chat(self.message.chat, timezone=timezone)
        self.chat = replace(self.chat, timezone=timezone)

    # dialogue state --------------------------------------------------------

    def _key(self) -> tuple[str, str, str]:
        chat = self.message.chat
        return chat.platform, chat.chat_id or "", self.message.sender.id

    async def state(self) -> State | None:
        return await self.services.dialogues.get(self._key())

    async def save_state(self, state: State) -> None:
        await self.services.dialogues.save(self._key(), state)

    async def end_state(self) -> None:
        await self.services.dialogues.end(self._key())
