"""The bot's Prometheus metrics (served on ``/metrics`` by :mod:`bot.health`).

Counters are bumped where things happen (the app's dispatch and deliver, the leadership); the
outbox figures (lag, lateness) are read from the database when scraped, since any instance may
be asked and the database is the truth."""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select

from storage import deliveries
from storage.db import Database

MESSAGES = Counter(
    "gcmbot_messages_handled_total", "Messages answered, by platform and understood intent", ["platform", "intent"]
)
ANSWER_SECONDS = Histogram(
    "gcmbot_answer_seconds",
    "Time from a message reaching the core to its answer being sent",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DELIVERIES = Counter(
    "gcmbot_deliveries_total", "Outbox deliveries handed to a platform, by platform and outcome", ["platform", "status"]
)
OUTBOX_LAG = Gauge("gcmbot_outbox_lag_seconds", "Age of the oldest outbox delivery that is due and not sent")
OUTBOX_WAITING = Gauge("gcmbot_outbox_waiting", "Outbox deliveries that may still be sent, by status", ["status"])
LATENESS = Histogram(
    "gcmbot_notice_lateness_seconds",
    "How long after its notice fell due each delivery was sent, by kind (reminder, broadcast...)",
    ["kind"],
    buckets=(1, 5, 15, 60, 300, 900, 3600, 21600),
)
ADAPTER_ERRORS = Counter(
    "gcmbot_adapter_errors_total", "Warnings and errors logged by an adapter (failures, retries)", ["adapter"]
)
LEADER = Gauge("gcmbot_leader", "1 while this instance is the leader")
LEADER_CHANGES = Counter("gcmbot_leader_changes_total", "Times this instance became or stopped being the leader")


def set_leader(leading: bool) -> None:
    if bool(LEADER._value.get()) != leading:  # noqa: SLF001 - prometheus_client has no public read
        LEADER_CHANGES.inc()
    LEADER.set(1 if leading else 0)


class AdapterErrors(logging.Handler):
    """Counts the warnings and errors of ``bot.adapters.*`` loggers, by adapter."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        name = record.name.removeprefix("bot.adapters.").split(".")[0].split("_")[0]
        ADAPTER_ERRORS.labels(name).inc()


def count_adapter_errors() -> None:
    logger = logging.getLogger("bot.adapters")
    if not any(isinstance(h, AdapterErrors) for h in logger.handlers):
        logger.addHandler(AdapterErrors())


class OutboxReader:
    """Refreshes the outbox gauges, and feeds the lateness histogram with the deliveries sent
    since the last scrape (by any instance: whichever Prometheus asks reports them once)."""

    def __init__(self, db: Database, since: datetime) -> None:
        self.db = db
        self.since = since

    async def refresh(self, now: datetime) -> None:
        Delivery, Notice = deliveries.DeliveryRecord, deliveries.Notice
        async with self.db.transaction() as session:
            oldest = await session.scalar(
                select(func.min(Delivery.next_attempt_at)).where(
                    Delivery.status.in_(deliveries.WAITING), Delivery.next_attempt_at <= now
                )
            )
            counts: dict[str, int] = dict(
                (await session.execute(
                    select(Delivery.status, func.count()).where(Delivery.status.in_(deliveries.OPEN)).group_by(Delivery.status)
                )).all()
            )
            sent = (await session.execute(
                select(Notice.kind, Delivery.sent_at, Notice.due_at)
                .join(Notice, Notice.id == Delivery.notice_id)
                .where(Delivery.status == deliveries.SENT, Delivery.sent_at > self.since)
            )).all()
        OUTBOX_LAG.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        for status in deliveries.OPEN:
            OUTBOX_WAITING.labels(status).set(counts.get(status, 0))
        for kind, sent_at, due_at in sent:
            if due_at is not None:
                LATENESS.labels(kind).observe(max(0.0, (sent_at - due_at).total_seconds()))
            self.since = max(self.since, sent_at)
