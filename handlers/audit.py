"""``/audit``: the administrators read who registered, decided, joined, left, erased or changed roles."""

from __future__ import annotations

from babel.dates import format_datetime

from handlers.basics import command_text
from handlers.context import Context
from handlers.dates import local
from handlers.i18n import N_, _, current_locale
from handlers.markup import bold, esc
from handlers.message import Reply
from handlers.numbers import is_number, parse_number
from handlers.pages import more_button, page_line, page_of, take_page
from handlers.registry import Registry
from storage import audit as audit_log

registry = Registry()

DEFAULT_ENTRIES, MAX_ENTRIES = 20, 200


@registry.command(
    "audit", "auditoria", help=N_("The latest recorded actions"), args=N_("[N] [text]"), privileged=True
)
async def audit(ctx: Context) -> Reply:
    await ctx.require_admin()
    number, words = take_page(ctx.args.split())
    count = DEFAULT_ENTRIES
    if words and is_number(words[0]):
        count = parse_number(words.pop(0), 1, MAX_ENTRIES) or MAX_ENTRIES
    contains = " ".join(words)[:100] or None
    async with ctx.core.db.transaction() as session:
        entries = await audit_log.recent(session, count, contains)
    if not entries:
        return ctx.reply(esc(_("Nothing recorded matches.") if contains else _("Nothing recorded yet.")))
    shown, number, pages = page_of(entries, number)
    lines = [bold(_("Latest recorded actions")), esc(page_line(number, pages))]
    for entry in shown:
        when = format_datetime(local(entry.at, ctx.timezone), "short", locale=current_locale())
        details = f" — {entry.details}" if entry.details else ""
        lines.append(
            f"{esc(when)} · <b>{esc(entry.action)}</b> · {esc(entry.subject)}{esc(details)} · {esc(entry.actor)}"
        )
    args = " ".join([str(count), *words])
    return ctx.reply("\n".join(lines), buttons=more_button(command_text(ctx, "audit", args), number, pages))
