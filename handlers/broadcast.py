"""Broadcasts: a secretary's message to every chat following a table and to every member
organisation's contact in private, shown as a preview first and sent only once confirmed.

The draft is a notice in the outbox (status ``draft``); confirming it is one conditional
UPDATE (``draft -> pending``), so pressing "Send" twice sends once. When every delivery is
final, the outbox reports to the chat where it was confirmed (see :mod:`handlers.notices`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import recipients
from handlers.basics import command_text, table_label
from handlers.context import Context
from handlers.errors import UserError
from handlers.i18n import N_, _, ngettext
from handlers.knowledge import fold, load_knowledge
from handlers.markup import bold, esc
from handlers.arguments import Id, TableRef, Text, read_table
from handlers.meetings import require_organiser
from handlers.message import Button, Reply
from handlers.registry import Registry
from handlers.vocabulary import accepted_words, shown_word
from storage import audit, deliveries
from storage.deliveries import Notice, Recipient

registry = Registry()

ALL = "all"
MAX_TEXT = 3500
"""Telegram shows 4,096 characters per message; the header needs the rest."""



@dataclass(frozen=True, kw_only=True)
class Target(TableRef):
    """Whom a broadcast is for: a table (``WT2``), or every table (``all`` in any language)."""

    name: str = "target"
    label: str = N_("table or all")
    greedy: bool = False

    def accepts(self, token: str) -> bool:
        return accepted_words("broadcast").get(fold(token)) == ALL or super().accepts(token)

    def convert(self, ctx: Context, text: str) -> str:
        return ALL if accepted_words("broadcast").get(fold(text)) == ALL else read_table(text)


def target_label(target: str) -> str:
    """``WT2``, or "all tables" in the current language."""
    return _("all tables") if target == ALL else target


def broadcast_text(target: str, body: str) -> str:
    """What recipients see: who it is from, then the secretary's text as written."""
    if target == ALL:
        head = _("Message from the mechanism's coordination")
    else:
        head = _("Message from the secretariat of {table}").format(table=table_label(load_knowledge().tables[target]))
    return f"📢 {bold(head)}\n\n{esc(body)}"


async def audience(session: AsyncSession, target: str) -> tuple[list[Recipient], int]:
    """Everyone a broadcast to ``target`` reaches, and how many of them are subscribed chats."""
    tables = None if target == ALL else [target]
    chats = await recipients.table_chats(session, tables)
    everyone = recipients.unique([*chats, *await recipients.member_contacts(session, tables)])
    return everyone, len(chats)


def _word(name: str) -> str:
    return shown_word("broadcast", name)


def _write_the_message(ctx: Context) -> str:
    return _("Write the message after the table, e.g. {example}. Administrators can write to everyone: {all}").format(
        example=command_text(ctx, "broadcast", "WT2 …"), all=command_text(ctx, "broadcast", f"{_word(ALL)} …")
    )


broadcast = registry.command(
    "broadcast", "difundir",
    Target(),
    Text(name="text", raw=True, missing=_write_the_message, max_length=MAX_TEXT,
         too_long=N_("The message is too long: {length} characters, at most {limit}.")),
    help=N_("Send a message to a table's chats and member organisations (secretaries)"),
    privileged=True,
    guard=require_organiser,
)  # fmt: skip
_WHICH = N_("Which broadcast? Give its number, as shown in the preview.")


@broadcast
async def draft(ctx: Context, target: str, text: str) -> Reply:
    """A preview of the broadcast, with buttons to send or discard it."""
    await _require(ctx, target)
    chat = ctx.message.chat
    async with ctx.db.transaction() as session:
        everyone, chats = await audience(session, target)
        if not everyone:
            raise UserError(esc(_("Nobody would receive it: no chat follows {target} and no member organisation has a contact yet.").format(
                target=target_label(target)
            )))
        notice = await deliveries.ensure_notice(
            session,
            key=f"broadcast:{uuid.uuid4().hex}",
            kind="broadcast",
            due_at=None,
            table_code=None if target == ALL else target,
            owner=ctx.user,
            payload={"target": target, "text": text, "chat": {"platform": chat.platform, "chat_id": chat.chat_id}},
            status=deliveries.DRAFT,
        )
        assert notice is not None
    people = len(everyone) - chats
    summary = _("Preview of broadcast #{id} to {target}: {chats} and {people} will receive:").format(
        id=notice.id,
        target=target_label(target),
        chats=ngettext("{count} chat", "{count} chats", chats).format(count=chats),
        people=ngettext("{count} member contact", "{count} member contacts", people).format(count=people),
    )
    buttons = ((
        Button(_("Send"), command_text(ctx, "broadcast", f"{_word('confirm')} {notice.id}")),
        Button(_("Discard"), command_text(ctx, "broadcast", f"{_word('cancel')} {notice.id}")),
    ),)
    text = "\n\n".join([esc(summary), broadcast_text(target, text), esc(_("Send it?"))])
    return ctx.reply(text, buttons=buttons)


async def _require(ctx: Context, target: str) -> None:
    if target == ALL:
        await ctx.require_admin()
    else:
        await ctx.require_secretary(target)


async def _draft_of(ctx: Context, session: AsyncSession, number: int) -> Notice:
    notice = await deliveries.get_notice(session, number)
    if notice is None or notice.kind != "broadcast":
        raise UserError(esc(_("There is no broadcast #{id}.").format(id=number)))
    await _require(ctx, notice.payload["target"])
    if notice.owner != ctx.user and not ctx.is_admin():
        raise UserError(esc(_("Only who wrote broadcast #{id} can send or discard it.").format(id=notice.id)))
    return notice


@broadcast.sub("confirm", Id(missing=_WHICH), help=N_("send a previewed broadcast"))
async def confirm(ctx: Context, id: int) -> Reply:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        notice = await _draft_of(ctx, session, id)
        if not await deliveries.set_status_if(session, notice.id, deliveries.DRAFT, deliveries.PENDING, due_at=now):
            raise UserError(_already(notice))
        await audit.record(session, ctx.user, "broadcast.send", f"broadcast:{notice.id}", notice.payload["target"], at=now)
    return ctx.reply(esc(_("Sending broadcast #{id}. I will report here how many received it.").format(id=notice.id)))


@broadcast.sub("cancel", Id(missing=_WHICH), help=N_("discard a previewed broadcast"))
async def discard(ctx: Context, id: int) -> Reply:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        notice = await _draft_of(ctx, session, id)
        if not await deliveries.set_status_if(session, notice.id, deliveries.DRAFT, deliveries.CANCELLED):
            raise UserError(_already(notice))
        await audit.record(session, ctx.user, "broadcast.discard", f"broadcast:{notice.id}", notice.payload["target"], at=now)
    return ctx.reply(esc(_("Broadcast #{id} discarded; nothing was sent.").format(id=notice.id)))


def _already(notice: Notice) -> str:
    if notice.status == deliveries.CANCELLED:
        return esc(_("Broadcast #{id} was discarded.").format(id=notice.id))
    return esc(_("Broadcast #{id} is already being sent.").format(id=notice.id))
