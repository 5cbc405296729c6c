"""Which tables a chat follows, and the chat's time zone: where and how reminders arrive.

In a group, only a secretary of the table (or an admin) subscribes or unsubscribes it; in a
private chat anyone may follow a table's meetings for themselves.
"""

from __future__ import annotations

from handlers.basics import command_text, table_label
from handlers.context import Context
from handlers.dates import format_clock, format_when, zone_name
from handlers.errors import UserError
from handlers.i18n import N_, _
from handlers.knowledge import TABLE_CODES, load_knowledge
from handlers.markup import bold, esc
from handlers.arguments import TableRef, Text
from handlers.message import Button, Reply
from handlers.registry import Registry
from handlers.zones import match_zone, place_of, several_zones, unknown_zone
from storage import audit, subscriptions

registry = Registry()


async def _may_change(ctx: Context, table: str | None) -> None:
    """In a group, only the table's secretary (or an admin) changes what the chat receives."""
    if table is not None and not ctx.message.private:
        await ctx.require_secretary(table)


async def _chat_tables(ctx: Context) -> list[str]:
    chat = ctx.message.chat
    async with ctx.db.transaction() as session:
        return await subscriptions.chat_tables(session, chat.platform, chat.chat_id or "")


def _subscriptions_text(tables: list[str]) -> str:
    if not tables:
        return esc(_("This chat does not receive any table's reminders."))
    names = load_knowledge().tables
    lines = [esc(_("This chat receives the reminders and announcements of:"))]
    lines += [f"• {esc(table_label(names[t]))}" for t in tables if t in names]
    return "\n".join(lines)


@registry.command(
    "subscribe", "suscribir", TableRef(optional=True), help=N_("Receive a table's meeting reminders in this chat")
)
async def subscribe(ctx: Context, table: str | None) -> Reply:
    await _may_change(ctx, table)
    chat = ctx.message.chat
    if table is None:
        current = await _chat_tables(ctx)
        buttons = tuple(
            (Button(table_label(load_knowledge().tables[t]), command_text(ctx, "subscribe", t)),)
            for t in TABLE_CODES
            if t not in current and t in load_knowledge().tables
        )
        text = _subscriptions_text(current) + "\n\n" + esc(_("Which table? For example: {command}").format(
            command=command_text(ctx, "subscribe", "WT2")
        ))
        return ctx.reply(text, buttons=buttons)
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        added = await subscriptions.subscribe(session, chat.platform, chat.chat_id or "", table, ctx.user)
        if added:
            await audit.record(session, ctx.user, "subscription.add", f"{chat.platform}:{chat.chat_id}", table, at=now)
    if not added:
        return ctx.reply(esc(_("This chat already receives {table}'s reminders.").format(table=table)))
    text = _("Done: this chat will receive {table}'s meeting reminders and announcements, in this chat's language, with times in {zone} ({name}).").format(
        table=table, zone=ctx.timezone, name=zone_name(ctx.timezone)
    )
    hint = _("To change the time zone: {command}").format(command=command_text(ctx, "timezone", "America/Bogota"))
    return ctx.reply(esc(text) + "\n" + esc(hint))


@registry.command(
    "unsubscribe", "desuscribir", TableRef(optional=True), help=N_("Stop a table's meeting reminders in this chat")
)
async def unsubscribe(ctx: Context, table: str | None) -> Reply:
    await _may_change(ctx, table)
    chat = ctx.message.chat
    if table is None:
        current = await _chat_tables(ctx)
        buttons = tuple((Button(t, command_text(ctx, "unsubscribe", t)),) for t in current)
        return ctx.reply(_subscriptions_text(current), buttons=buttons)
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        removed = await subscriptions.unsubscribe(session, chat.platform, chat.chat_id or "", table)
        if removed:
            await audit.record(session, ctx.user, "subscription.remove", f"{chat.platform}:{chat.chat_id}", table, at=now)
    if not removed:
        return ctx.reply(esc(_("This chat was not receiving {table}'s reminders.").format(table=table)))
    return ctx.reply(esc(_("Done: this chat will no longer receive {table}'s reminders.").format(table=table)))


@registry.command(
    "timezone", "zona", Text(name="place", label=N_("city, country or zone"), optional=True),
    help=N_("Set the chat's time zone"),
)  # fmt: skip
async def timezone(ctx: Context, place: str | None) -> Reply:
    """A place or zone name: several zones found are offered as buttons, not refused."""
    now = ctx.clock.now()
    if place is None:
        text = _("This chat's time zone is {zone} ({name}); it is {time} here now.").format(
            zone=ctx.timezone, name=zone_name(ctx.timezone), time=format_clock(now, ctx.timezone)
        )
        example = _("To change it: {command}").format(command=command_text(ctx, "timezone", "America/Santiago"))
        return ctx.reply(esc(text) + "\n" + esc(example))
    await ctx.require_group_settings()
    found = match_zone(place)
    if found.choices:
        buttons = tuple(
            tuple(Button(place_of(z, ctx.lang), command_text(ctx, "timezone", z)) for z in found.choices[i : i + 2])
            for i in range(0, len(found.choices), 2)
        )
        return ctx.reply(esc(several_zones(place, found.choices)), buttons=buttons)
    if found.zone is None:
        raise UserError(esc(unknown_zone(place)))
    zone = found.zone
    await ctx.set_timezone(zone)
    text = _("Done: times in this chat are now shown in {zone} ({name}). It is {when}.").format(
        zone=zone, name=zone_name(zone), when=format_when(now, zone)
    )
    return ctx.reply(bold(_("Time zone set")) + "\n" + esc(text))
