"""The notices of messages to one person (see :mod:`handlers.direct`): the ``message`` itself,
and ``undelivered``, the report to its owner when it could not be delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import direct, recipients
from handlers.services import CoreConfig
from handlers.i18n import N_, _
from handlers.markup import esc
from handlers.message import Button
from handlers.notice_kind import NoticeKind, Report
from handlers.pledge_rounds import REQUEST
from handlers.roles import describe_user
from storage import deliveries
from storage.deliveries import Notice, Recipient
from storage.meetings import Meeting

_UNDELIVERED_BECAUSE = {
    deliveries.BLOCKED: N_("they blocked the bot, or never opened a private chat with it"),
    deliveries.MISSED: N_("it could not be sent in time"),
}
_REFUSED = N_("the platform refused it")


def render_message(notice: Notice, _meeting: Meeting | None, _zone: str, _now: datetime) -> str:
    """Rendered in the reader's language when it was planned."""
    return str(notice.payload["html"])


def message_buttons(notice: Notice) -> tuple[tuple[Button, ...], ...]:
    return direct.buttons_of(notice.payload)


async def undelivered_report(session: AsyncSession, notice: Notice, counts: dict[str, int]) -> Report | None:
    """A report only when the message was not delivered; its text (a card names people,
    e-mails) is not kept once final either way."""
    about = notice.payload["about"]
    notice.payload = {}
    failed = sorted(status for status in counts if status != deliveries.SENT)
    if not failed:
        return None
    who = await describe_user(session, about["to"])
    return Report(f"{direct.REPORT}:{notice.id}", direct.REPORT, {"about": about, "who": who, "status": failed[0]})


async def owner_or_admins(session: AsyncSession, notice: Notice, _now: datetime, config: CoreConfig) -> list[Recipient]:
    """Whoever caused the message, or the administrators when nobody did."""
    people = [notice.owner] if notice.owner else sorted(config.admins)
    return recipients.unique([await recipients.person(session, key) for key in people])


def render_undelivered(notice: Notice, _meeting: Meeting | None, _zone: str, _now: datetime) -> str:
    payload = notice.payload
    because = _(_UNDELIVERED_BECAUSE.get(str(payload["status"]), _REFUSED))
    text = _("I could not deliver {what} to {who}: {reason}.").format(
        what=message_about(payload["about"]), who=payload["who"], reason=because
    )
    return "⚠️ " + esc(text)


def message_about(about: dict[str, Any]) -> str:
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
    if what == REQUEST:
        return _("the pledge reporting request {period} of {organisation}").format(
            period=about["period"], organisation=about["organisation"]
        )
    if what == "pledge-summary":
        return _("the pledge reporting summary {period} of {table}").format(period=about["period"], table=about["table"])
    if what == "secretary":
        return _("the notice about the secretaries of {table}").format(table=about["table"])
    return _("a message")


NOTICE_KINDS = (
    # planned with its one delivery (handlers.direct.tell_many); its misses are in its own report
    NoticeKind(direct.KIND, None, render_message, buttons=message_buttons, on_missed=None, on_finished=undelivered_report),
    NoticeKind(direct.REPORT, owner_or_admins, render_undelivered, on_missed=None),
)
