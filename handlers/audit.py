"""``/audit``: the administrators read who registered, decided, joined, left, erased or changed roles."""

from __future__ import annotations

from babel.dates import format_datetime

from handlers.basics import command_text
from handlers.context import Context
from handlers.dates import local
from handlers.i18n import N_, _, current_locale
from handlers.markup import bold, esc
from handlers.message import Reply
from handlers.arguments import Number, Page, Text
from handlers.pages import more_button, page_line, page_of
from handlers.registry import Registry
from storage import audit as audit_log

registry = Registry()

DEFAULT_ENTRIES, MAX_ENTRIES = 20, 200

ACTION_LABELS = {
    "register": N_("registration"),
    "approve": N_("request approved"),
    "reject": N_("request rejected"),
    "join": N_("asked to join"),
    "leave": N_("left a table"),
    "erase": N_("data erased"),
    "secretary.add": N_("secretary appointed"),
    "secretary.remove": N_("secretary removed"),
    "meeting.add": N_("meeting scheduled"),
    "meeting.move": N_("meeting moved"),
    "meeting.cancel": N_("meeting cancelled"),
    "meeting.cancel_series": N_("quarterly series ended"),
    "meeting.remind": N_("reminders changed"),
    "meeting.recur": N_("next quarterly meeting planned"),
    "subscription.add": N_("chat subscribed"),
    "subscription.remove": N_("chat unsubscribed"),
    "broadcast.send": N_("broadcast sent"),
    "broadcast.discard": N_("broadcast discarded"),
    "pledges.schedule": N_("pledge reminders scheduled"),
    "pledges.link": N_("pledge reporting link changed"),
    "pledge.new": N_("pledge recorded"),
    "pledge.withdraw": N_("pledge withdrawn"),
    "pledge.report": N_("pledge progress reported"),
    "pledges.request": N_("pledge reports requested"),
    "pledges.followups": N_("pledge follow-ups changed"),
    "pledges.import": N_("pledges imported"),
}
"""What each recorded action is called in the log's readers' language (the stored name stays stable)."""


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return _(label) if label else action


@registry.command(
    "audit", "auditoria",
    Number(name="count", optional=True), Text(name="contains", optional=True), Page(),
    help=N_("The latest recorded actions"), privileged=True, guard=Context.require_admin,
)  # fmt: skip
async def audit(ctx: Context, count: int | None, contains: str | None, page: int) -> Reply:
    """``/audit 50 WT2``: the last 50 entries, those mentioning WT2; more than the most shows the most."""
    count = DEFAULT_ENTRIES if count is None else count if 1 <= count <= MAX_ENTRIES else MAX_ENTRIES
    contains = contains[:100] if contains else None
    number = page
    async with ctx.db.transaction() as session:
        entries = await audit_log.recent(session, count, contains)
    if not entries:
        return ctx.reply(esc(_("Nothing recorded matches.") if contains else _("Nothing recorded yet.")))
    shown, number, pages = page_of(entries, number)
    lines = [bold(_("Latest recorded actions")), esc(page_line(number, pages))]
    for entry in shown:
        when = format_datetime(local(entry.at, ctx.timezone), "short", locale=current_locale())
        details = f" — {entry.details}" if entry.details else ""
        lines.append(
            f"{esc(when)} · <b>{esc(action_label(entry.action))}</b> · {esc(entry.subject)}{esc(details)} · {esc(entry.actor)}"
        )
    args = " ".join([str(count), *([contains] if contains else [])])
    return ctx.reply("\n".join(lines), buttons=more_button(command_text(ctx, "audit", args), number, pages))
