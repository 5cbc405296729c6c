"""A broadcast's notices (see :mod:`handlers.broadcast`): the ``broadcast`` itself, to every
chat and contact of its target, and its ``report`` to the chat where it was confirmed once
every delivery is final."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcast import audience, broadcast_text, target_label
from handlers.services import CoreConfig
from handlers.i18n import _
from handlers.markup import esc
from handlers.notice_kind import NoticeKind, OnMissed, Report
from storage import deliveries
from storage.deliveries import Notice, Recipient
from storage.meetings import Meeting

REPORT = "report"


async def broadcast_audience(session: AsyncSession, notice: Notice, _now: datetime, _config: CoreConfig) -> list[Recipient]:
    return (await audience(session, notice.payload["target"]))[0]


def render_broadcast(notice: Notice, _meeting: Meeting | None, _zone: str, _now: datetime) -> str:
    return broadcast_text(notice.payload["target"], notice.payload["text"])


async def broadcast_facts(_session: AsyncSession, notice: Notice) -> dict[str, Any]:
    return {"target": notice.payload.get("target")}


def describe_missed(item: dict[str, Any], _zone: str) -> str:
    return _("broadcast #{id} to {target}").format(id=item["id"], target=target_label(str(item["target"])))


async def report_of(_session: AsyncSession, notice: Notice, counts: dict[str, int]) -> Report:
    """The broadcast's counts, to the chat where it was confirmed."""
    payload = {"broadcast": notice.id, "target": notice.payload["target"], "counts": counts, "chat": notice.payload["chat"]}
    return Report(f"{REPORT}:{notice.id}", REPORT, payload)


async def confirming_chat(_session: AsyncSession, notice: Notice, _now: datetime, _config: CoreConfig) -> list[Recipient]:
    chat = notice.payload["chat"]
    return [Recipient(chat["platform"], chat_id=chat["chat_id"])]


def render_report(notice: Notice, _meeting: Meeting | None, _zone: str, _now: datetime) -> str:
    payload = notice.payload
    counts: dict[str, int] = payload["counts"]
    sent = counts.get(deliveries.SENT, 0)
    blocked = counts.get(deliveries.BLOCKED, 0)
    failed = sum(counts.get(s, 0) for s in (deliveries.FAILED, deliveries.MISSED, deliveries.CANCELLED))
    text = _("Broadcast #{id} to {target} is done: {sent} delivered, {failed} failed, {blocked} blocked (of {total}).").format(
        id=payload["broadcast"], target=target_label(str(payload["target"])), sent=sent, failed=failed, blocked=blocked,
        total=sent + failed + blocked,
    )
    note = _("Blocked: chats that removed the bot or people who blocked it.") if blocked else ""
    return "📬 " + esc(text) + (f"\n{esc(note)}" if note else "")


NOTICE_KINDS = (
    NoticeKind(
        "broadcast", broadcast_audience, render_broadcast,
        on_missed=OnMissed(describe=describe_missed, facts=broadcast_facts), on_finished=report_of,
    ),
    NoticeKind(REPORT, confirming_chat, render_report, on_missed=None),
)
