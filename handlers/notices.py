"""What each kind of notice says and to whom: the platform-free half of the outbox.

:mod:`bot.delivery` decides *when* and sends; this module decides *who* (``expand``, when a
notice falls due, inside the transaction that records its deliveries) and *what* (``render``,
per recipient, in the recipient's language and zone, right before sending). Kinds:

- ``reminder``, ``change``, ``cancellation``: a meeting's, to the chats following its table;
- ``pledge``: the quarterly pledge-reporting reminder, to every following chat and the contacts
  of organisations without pledges on record; it opens the month's reporting round, whose
  requests, ``pledge-chase`` follow-ups and ``pledge-close`` summaries are messages to one
  person (see :mod:`handlers.pledge_rounds`);
- ``broadcast``: a secretary's message (see :mod:`handlers.broadcast`), and its ``report``;
- ``missed``: what could not be sent in time, to whoever planned it;
- ``message``: a message to one person (see :mod:`handlers.direct`), planned with its delivery,
  and ``undelivered``: the report to its owner when it could not be delivered;
- ``recur``: no message: creates the next occurrence of a quarterly meeting.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import direct, pledge_rounds, recipients
from handlers.basics import months
from handlers.broadcast import audience, broadcast_text, target_label
from handlers.dates import add_months, format_meeting_when, format_span, format_when
from handlers.i18n import N_, _, ngettext
from handlers.markup import bold, esc, link
from handlers.meetings import meeting_title, plan_meeting
from handlers.pledges import plan_next_pledge, pledge_schedule, pledge_text
from handlers.roles import describe_user
from handlers.services import CoreConfig
from storage import audit, deliveries
from storage.deliveries import Notice, Recipient
from storage.meetings import SCHEDULED, Meeting, add_meeting, get_meeting, occurrence

MEETING_KINDS = ("reminder", "change", "cancellation")
REPORTED_KINDS = ("broadcast", direct.KIND)
"""Kinds whose sender gets a delivery report once every delivery is final (a message to one
person only when it was not delivered)."""
UNREPORTED_MISSES = ("report", "missed", direct.REPORT, direct.KIND)
"""A report that could not be sent is not itself reported (no loops); a message's misses are
in its own report."""
SYSTEM = "gcmbot"


async def prepare(session: AsyncSession, now: datetime, config: CoreConfig) -> None:
    """At start: whatever must always be planned (the next pledge reminder)."""
    await plan_next_pledge(session, now, config.default_timezone)


async def expand(session: AsyncSession, notice: Notice, now: datetime, config: CoreConfig) -> list[Recipient]:
    """The recipients of a due notice; also does the notice's own work (plan what follows)."""
    kind = notice.kind
    if kind in MEETING_KINDS:
        return await recipients.table_chats(session, [notice.table_code or ""])
    if kind == "pledge":
        await plan_next_pledge(session, now, config.default_timezone)
        notice.payload = {**notice.payload, "link": (await pledge_schedule(session)).link}
        await pledge_rounds.start_round(
            session, now, config.default_timezone, config.default_language, tables=None, by=None
        )
        return await pledge_rounds.reminder_audience(session)
    if kind == pledge_rounds.CHASE:
        await pledge_rounds.chase(session, notice, now, config.default_language)
        return []
    if kind == pledge_rounds.CLOSE:
        await pledge_rounds.close(session, notice, now, config.default_language)
        return []
    if kind == "broadcast":
        return (await audience(session, notice.payload["target"]))[0]
    if kind == "report":
        chat = notice.payload["chat"]
        return [Recipient(chat["platform"], chat_id=chat["chat_id"])]
    if kind in ("missed", direct.REPORT):
        people = [notice.owner] if notice.owner else sorted(config.admins)
        return recipients.unique([await recipients.person(session, key) for key in people])
    if kind == "recur":
        await next_occurrence(session, notice, now)
        return []
    raise ValueError(f"unknown notice kind {kind!r}")


async def next_occurrence(session: AsyncSession, notice: Notice, now: datetime) -> Meeting | None:
    """Create the series' next occurrence: ``anchor + 3n months``, same wall time, in its zone."""
    meeting = await get_meeting(session, notice.meeting_id or 0)
    if meeting is None or not meeting.quarterly or meeting.series_id is None or meeting.anchor is None:
        return None
    anchor = datetime.fromisoformat(meeting.anchor)
    number = meeting.occurrence + 1
    while (start := add_months(anchor, 3 * number, meeting.timezone)) <= now:
        number += 1
    if await occurrence(session, meeting.series_id, number) is not None:
        return None
    following = await add_meeting(
        session,
        Meeting(
            table_code=meeting.table_code, title=meeting.title, url=meeting.url,
            starts_at=start.astimezone(UTC), timezone=meeting.timezone, offsets=list(meeting.offsets),
            quarterly=True, series_id=meeting.series_id, occurrence=number, anchor=meeting.anchor,
            status=SCHEDULED, revision=0, created_by=meeting.created_by, created_at=now, updated_at=now,
        ),
    )
    await plan_meeting(session, following, now)
    await audit.record(
        session, SYSTEM, "meeting.recur", f"meeting:{following.id}", f"series {meeting.series_id} #{number}", at=now
    )
    return following


async def report_finished(session: AsyncSession, now: datetime) -> int:
    """Plan a delivery report for each broadcast whose deliveries are all final, and one for each
    message to a person that ended undelivered (once each)."""
    made = 0
    for notice in await deliveries.finished_unreported(session, REPORTED_KINDS):
        if not await deliveries.mark_reported(session, notice.id):
            continue
        counts = await deliveries.status_counts(session, notice.id)
        if notice.kind == direct.KIND:
            about = notice.payload["about"]
            notice.payload = {}  # its text (a card names people, e-mails) is not kept once final
            failed = sorted(status for status in counts if status != deliveries.SENT)
            if not failed:
                continue
            key, kind = f"{direct.REPORT}:{notice.id}", direct.REPORT
            who = await describe_user(session, about["to"])
            payload: dict[str, object] = {"about": about, "who": who, "status": failed[0]}
        else:
            key, kind = f"report:{notice.id}", "report"
            payload = {
                "broadcast": notice.id,
                "target": notice.payload["target"],
                "counts": counts,
                "chat": notice.payload["chat"],
            }
        await deliveries.ensure_notice(session, key=key, kind=kind, due_at=now, owner=notice.owner, payload=payload)
        made += 1
    return made


async def report_missed(session: AsyncSession, missed: list[tuple[Notice, int | None]], now: datetime) -> int:
    """One message per owner listing what was given up (called in the transaction that gave up)."""
    by_owner: dict[str | None, list[dict[str, object]]] = {}
    for notice, count in missed:
        if notice.kind in UNREPORTED_MISSES:
            continue
        meeting = await get_meeting(session, notice.meeting_id) if notice.meeting_id else None
        item: dict[str, object] = {
            "kind": notice.kind,
            "id": notice.id,
            "count": count,
            "offset": notice.payload.get("offset"),
            "target": notice.payload.get("target"),
            "month": notice.payload.get("month"),
        }
        if meeting is not None:
            item.update(title=meeting_title(meeting), table=meeting.table_code, starts_at=meeting.starts_at.isoformat())
        by_owner.setdefault(notice.owner, []).append(item)
    for owner, items in by_owner.items():
        await deliveries.ensure_notice(
            session, key=f"missed:{uuid.uuid4().hex}", kind="missed", due_at=now, owner=owner, payload={"items": items}
        )
    return len(by_owner)


# rendering -------------------------------------------------------------------------


def render(notice: Notice, meeting: Meeting | None, zone: str, now: datetime) -> str | None:
    """The message for one recipient, in the current locale and ``zone``; None when there is
    nothing to say any more (the meeting was cancelled or has started)."""
    kind = notice.kind
    if kind in MEETING_KINDS:
        return None if meeting is None else _render_meeting(notice, meeting, zone, now)
    if kind == "pledge":
        return pledge_text(notice.payload["year"], notice.payload["month"], notice.payload["link"])
    if kind == "broadcast":
        return broadcast_text(notice.payload["target"], notice.payload["text"])
    if kind == "report":
        return _render_report(notice.payload)
    if kind == "missed":
        return _render_missed(notice.payload["items"], zone)
    if kind == direct.KIND:
        return str(notice.payload["html"])
    if kind == direct.REPORT:
        return _render_undelivered(notice.payload)
    return None


def _render_meeting(notice: Notice, meeting: Meeting, zone: str, now: datetime) -> str | None:
    if notice.kind == "cancellation":
        head = "❌ " + bold(_("Cancelled: {title} ({table})").format(title=meeting_title(meeting), table=meeting.table_code))
        body = esc(_("The meeting of {when} will not take place.").format(when=format_when(meeting.starts_at, zone)))
        return f"{head}\n{body}"
    if meeting.cancelled or meeting.starts_at <= now:
        return None
    where = [esc(format_meeting_when(meeting.starts_at, zone, meeting.timezone))]
    if meeting.url:
        where.append(link(meeting.url, meeting.url))
    title = bold(meeting_title(meeting))
    if notice.kind == "change":
        old = datetime.fromisoformat(notice.payload["old"])
        head = "📅 " + _("Change: {title} ({table}) has moved.").format(title=title, table=esc(meeting.table_code))
        before = esc(_("Before: {when}").format(when=format_when(old, zone)))
        now_line = esc(_("Now: {when}").format(when=format_when(meeting.starts_at, zone)))
        return "\n".join([head, before, now_line, *where[1:]])
    head = "⏰ " + _("Reminder: {title} ({table}) starts in {span}.").format(
        title=title, table=esc(meeting.table_code), span=esc(format_span(meeting.starts_at - now))
    )
    return "\n".join([head, *where])


def _render_report(payload: dict[str, object]) -> str:
    counts: dict[str, int] = payload["counts"]  # type: ignore[assignment]
    sent = counts.get(deliveries.SENT, 0)
    blocked = counts.get(deliveries.BLOCKED, 0)
    failed = sum(counts.get(s, 0) for s in (deliveries.FAILED, deliveries.MISSED, deliveries.CANCELLED))
    text = _("Broadcast #{id} to {target} is done: {sent} delivered, {failed} failed, {blocked} blocked (of {total}).").format(
        id=payload["broadcast"], target=target_label(str(payload["target"])), sent=sent, failed=failed, blocked=blocked,
        total=sent + failed + blocked,
    )
    note = _("Blocked: chats that removed the bot or people who blocked it.") if blocked else ""
    return "📬 " + esc(text) + (f"\n{esc(note)}" if note else "")


_UNDELIVERED_BECAUSE = {
    deliveries.BLOCKED: N_("they blocked the bot, or never opened a private chat with it"),
    deliveries.MISSED: N_("it could not be sent in time"),
}
_REFUSED = N_("the platform refused it")


def _render_undelivered(payload: dict[str, Any]) -> str:
    because = _(_UNDELIVERED_BECAUSE.get(str(payload["status"]), _REFUSED))
    text = _("I could not deliver {what} to {who}: {reason}.").format(
        what=_message_about(payload["about"]), who=payload["who"], reason=because
    )
    return "⚠️ " + esc(text)


def _message_about(about: dict[str, Any]) -> str:
    """What a message to one person was (``about`` of :func:`handlers.direct.tell`)."""
    what = about.get("what")
    if what == "request":
        return _("the card of request #{id}").format(id=about["id"])
    if what == "decision":
        return _("the answer to request #{id}").format(id=about["id"])
    if what == "left":
        return _("the notice that {organisation} left {table}").format(
            organisation=about["organisation"], table=about["table"]
        )
    if what == pledge_rounds.REQUEST:
        return _("the pledge reporting request {period} of {organisation}").format(
            period=about["period"], organisation=about["organisation"]
        )
    if what == "pledge-summary":
        return _("the pledge reporting summary {period} of {table}").format(period=about["period"], table=about["table"])
    if what == "secretary":
        return _("the notice about the secretaries of {table}").format(table=about["table"])
    return _("a message")


def _render_missed(items: list[dict[str, object]], zone: str) -> str:
    lines = ["⚠️ " + bold(_("Not sent in time")), esc(_("I could not send these in time (I was offline or the platform refused), so I gave up on them:"))]
    for item in items:
        count = item.get("count")
        tail = (
            _("nobody received it")
            if count is None
            else ngettext("{count} recipient did not receive it", "{count} recipients did not receive it", int(count)).format(count=count)  # type: ignore[call-overload]
        )
        lines.append(f"• {esc(_describe(item, zone))}: {esc(tail)}")
    return "\n".join(lines)


def _describe(item: dict[str, object], zone: str) -> str:
    kind = item["kind"]
    if kind in MEETING_KINDS and "title" in item:
        when = format_when(datetime.fromisoformat(str(item["starts_at"])), zone)
        values = {"title": item["title"], "table": item["table"], "when": when}
        if kind == "reminder":
            span = format_span(timedelta(seconds=int(item["offset"] or 0)))  # type: ignore[call-overload]
            return _("the reminder {span} before “{title}” ({table}, {when})").format(span=span, **values)
        if kind == "change":
            return _("the announcement that “{title}” ({table}) moved to {when}").format(**values)
        return _("the announcement that “{title}” ({table}, {when}) is cancelled").format(**values)
    if kind == "pledge":
        return _("the pledge-reporting reminder of {month}").format(month=months([int(item["month"] or 1)]))  # type: ignore[call-overload]
    if kind == "broadcast":
        return _("broadcast #{id} to {target}").format(id=item["id"], target=target_label(str(item["target"])))
    return str(kind)
