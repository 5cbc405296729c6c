"""Platform-free message and reply types: what adapters hand to the core and get back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Address:
    """Where a reply goes: a known chat, or the private chat with a user.

    ``user_id`` alone asks the adapter to open (or find) the direct chat with that
    user, which is how the core reaches a secretary or an organisation's contact.
    """

    platform: str
    chat_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class User:
    platform: str
    id: str
    name: str = ""
    username: str | None = None
    language_code: str | None = None

    @property
    def key(self) -> str:
        """The platform-qualified id used in ``BOT_ADMINS`` (``telegram:12345``)."""
        return f"{self.platform}:{self.id}"


@dataclass(frozen=True)
class Attachment:
    """A file: sent with a reply, or received with a message (a document sent to the bot)."""

    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class Message:
    chat: Address
    sender: User
    text: str
    private: bool
    message_id: str | None = None
    chat_title: str | None = None
    chat_admin: bool | None = None
    """Whether the platform says the sender administers this group (Matrix: may change the
    room's settings); None where the adapter cannot tell cheaply."""
    attachment: Attachment | None = None
    """A document that came with the message (its caption, if any, is ``text``)."""


@dataclass(frozen=True)
class Button:
    """A choice offered under a reply; pressing it sends ``command`` back as a message."""

    label: str
    command: str


@dataclass(frozen=True)
class Answer:
    """What the core understood, for machine-readable output (``gcmbot ask --json``)."""

    intent: str
    objectives: tuple[int, ...] = ()
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """One outgoing message.

    ``html`` uses a small HTML subset (``b``, ``i``, ``code``, ``pre``, ``a``) with every
    piece of user-provided text already escaped by the core; adapters render it natively
    (Telegram HTML, Matrix ``formatted_body``) or as plain text (:func:`handlers.markup.plain`).
    """

    html: str
    to: Address | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None
    image: Attachment | None = None
    """A picture shown in the chat (a PNG chart): a photo on Telegram, an ``m.image`` on Matrix."""
    reply_to: str | None = None
    answer: Answer | None = None
    private_start: str | None = None
    """Asked in a group, continue in private: the adapter offers the sender a way into
    a private chat with the bot where this command (``register``) starts."""
    key: str | None = None
    """The same for every attempt to send this message (an outbox delivery, a reply being
    retried), so that a retry repeats nothing the platform accepted: Matrix takes it as the
    transaction id; Telegram goes on from the part of a long reply that failed."""
