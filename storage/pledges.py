"""Organisations' pledges, the reporting rounds and the reports given in them.

A pledge belongs to an organisation and is numbered within it (``/compromiso retirar 2``). A
round is one reporting period, named by its month (``2027-04``), open until ``closes_at``. A
report is one answer about one pledge in one round; answering again adds a row, so the latest
counts and the history stays. Erasing an organisation's contact keeps its pledges and reports
but forgets who gave them (:func:`erase_reporters`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.organisations import APPROVED, Membership, Organisation

ACTIVE, WITHDRAWN = "active", "withdrawn"
STATUSES: tuple[str, ...] = ("on_track", "delayed", "completed", "not_started", "withdrawn")
"""What a report says about a pledge, in the order the buttons show them."""


class Pledge(Base):
    __tablename__ = "pledges"
    __table_args__ = (UniqueConstraint("organisation_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    objectives: Mapped[list[int]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(String(500), default="")
    url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()


class PledgeRound(Base):
    __tablename__ = "pledge_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)
    opened_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    opened_by: Mapped[str | None] = mapped_column(String(255))
    closed: Mapped[bool] = mapped_column(default=False)


class PledgeReport(Base):
    __tablename__ = "pledge_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pledge_rounds.id"), index=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    reported_by: Mapped[str | None] = mapped_column(String(255))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


# pledges -----------------------------------------------------------------------


async def add_pledge(
    session: AsyncSession,
    organisation_id: int,
    *,
    title: str,
    objectives: Collection[int],
    description: str,
    url: str | None,
    by: str | None,
    at: datetime,
) -> Pledge:
    """A new active pledge, numbered after the organisation's last one."""
    last = await session.scalar(select(func.max(Pledge.number)).where(Pledge.organisation_id == organisation_id))
    pledge = Pledge(
        organisation_id=organisation_id, number=(last or 0) + 1, title=title, objectives=sorted(set(objectives)),
        description=description, url=url, status=ACTIVE, created_by=by, created_at=at,
    )
    session.add(pledge)
    await session.flush()
    return pledge


async def pledges_of(session: AsyncSession, organisation_id: int, *, active_only: bool = False) -> list[Pledge]:
    query = select(Pledge).where(Pledge.organisation_id == organisation_id)
    if active_only:
        query = query.where(Pledge.status == ACTIVE)
    return list(await session.scalars(query.order_by(Pledge.number)))


async def same_pledge(session: AsyncSession, organisation_id: int, title: str) -> Pledge | None:
    return await session.scalar(
        select(Pledge).where(Pledge.organisation_id == organisation_id, func.lower(Pledge.title) == title.lower())
    )


async def withdraw(session: AsyncSession, pledge: Pledge, at: datetime) -> None:
    pledge.status, pledge.withdrawn_at = WITHDRAWN, at
    await session.flush()


async def pledging_organisations(session: AsyncSession, tables: Collection[str] | None) -> list[Organisation]:
    """Organisations approved in ``tables`` (None: any) with at least one active pledge."""
    query = (
        select(Organisation)
        .join(Pledge, Pledge.organisation_id == Organisation.id)
        .where(Pledge.status == ACTIVE)
    )
    if tables is not None:
        member = select(Membership.organisation_id).where(
            Membership.status == APPROVED, Membership.table_code.in_(list(tables))
        )
        query = query.where(Organisation.id.in_(member))
    return list((await session.scalars(query.distinct().order_by(Organisation.id))).unique())


async def table_pledges(session: AsyncSession, tables: Collection[str] | None) -> list[tuple[Organisation, Pledge]]:
    """Every pledge (withdrawn too) of organisations approved in ``tables`` (None: every organisation)."""
    query = select(Organisation, Pledge).join(Pledge, Pledge.organisation_id == Organisation.id)
    if tables is not None:
        member = select(Membership.organisation_id).where(
            Membership.status == APPROVED, Membership.table_code.in_(list(tables))
        )
        query = query.where(Organisation.id.in_(member))
    rows = await session.execute(query.order_by(Organisation.name_key, Pledge.number))
    return [(organisation, pledge) for organisation, pledge in rows]


# rounds ------------------------------------------------------------------------


async def get_round(session: AsyncSession, period: str) -> PledgeRound | None:
    return await session.scalar(select(PledgeRound).where(PledgeRound.period == period))


async def open_round(
    session: AsyncSession, period: str, *, at: datetime, closes_at: datetime, by: str | None
) -> tuple[PledgeRound, bool]:
    """The round of ``period``, created if new (True); an existing one is returned as it is."""
    found = await get_round(session, period)
    if found is not None:
        return found, False
    found = PledgeRound(period=period, opened_at=at, closes_at=closes_at, opened_by=by, closed=False)
    session.add(found)
    await session.flush()
    return found, True


async def current_round(session: AsyncSession, now: datetime) -> PledgeRound | None:
    """The open round (the latest, if ever more than one)."""
    return await session.scalar(
        select(PledgeRound)
        .where(PledgeRound.closed.is_(False), PledgeRound.closes_at > now)
        .order_by(PledgeRound.opened_at.desc())
        .limit(1)
    )


async def latest_round(session: AsyncSession) -> PledgeRound | None:
    return await session.scalar(select(PledgeRound).order_by(PledgeRound.opened_at.desc()).limit(1))


async def close_round(session: AsyncSession, round_id: int) -> bool:
    """False if it was closed already (one conditional UPDATE)."""
    result = await session.execute(
        update(PledgeRound)
        .where(PledgeRound.id == round_id, PledgeRound.closed.is_(False))
        .values(closed=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# reports -----------------------------------------------------------------------


async def add_report(
    session: AsyncSession, round_id: int, pledge: Pledge, status: str, note: str, by: str | None, at: datetime
) -> PledgeReport:
    """Record an answer; a ``withdrawn`` one also withdraws the pledge from later rounds."""
    report = PledgeReport(round_id=round_id, pledge_id=pledge.id, status=status, note=note, reported_by=by, reported_at=at)
    session.add(report)
    if status == "withdrawn" and pledge.status == ACTIVE:
        pledge.status, pledge.withdrawn_at = WITHDRAWN, at
    await session.flush()
    return report


async def latest_reports(session: AsyncSession, round_id: int) -> dict[int, PledgeReport]:
    """The latest report of each pledge answered in the round, by pledge id."""
    rows = await session.scalars(
        select(PledgeReport).where(PledgeReport.round_id == round_id).order_by(PledgeReport.id)
    )
    return {report.pledge_id: report for report in rows}


async def reports_of(session: AsyncSession, pledge_ids: Collection[int]) -> dict[int, list[tuple[PledgeReport, str]]]:
    """Every report of these pledges, oldest first, with its round's period, by pledge id."""
    rows = await session.execute(
        select(PledgeReport, PledgeRound.period)
        .join(PledgeRound, PledgeRound.id == PledgeReport.round_id)
        .where(PledgeReport.pledge_id.in_(list(pledge_ids)))
        .order_by(PledgeReport.id)
    )
    found: dict[int, list[tuple[PledgeReport, str]]] = {}
    for report, period in rows:
        found.setdefault(report.pledge_id, []).append((report, period))
    return found


async def unreported(session: AsyncSession, round_id: int, organisation_id: int) -> list[Pledge]:
    """The organisation's active pledges not yet answered in the round."""
    answered = select(PledgeReport.pledge_id).where(PledgeReport.round_id == round_id)
    rows = await session.scalars(
        select(Pledge)
        .where(Pledge.organisation_id == organisation_id, Pledge.status == ACTIVE, Pledge.id.not_in(answered))
        .order_by(Pledge.number)
    )
    return list(rows)


async def unreported_of(
    session: AsyncSession, round_id: int, organisation_ids: Collection[int]
) -> dict[int, list[Pledge]]:
    """:func:`unreported` for many organisations in one query, by organisation id."""
    answered = select(PledgeReport.pledge_id).where(PledgeReport.round_id == round_id)
    rows = await session.scalars(
        select(Pledge)
        .where(Pledge.organisation_id.in_(list(organisation_ids)), Pledge.status == ACTIVE, Pledge.id.not_in(answered))
        .order_by(Pledge.organisation_id, Pledge.number)
    )
    found: dict[int, list[Pledge]] = {}
    for pledge in rows:
        found.setdefault(pledge.organisation_id, []).append(pledge)
    return found


async def organisations_by_id(session: AsyncSession, ids: Collection[int]) -> list[Organisation]:
    return list(await session.scalars(select(Organisation).where(Organisation.id.in_(list(ids))).order_by(Organisation.id)))


async def erase_reporters(session: AsyncSession, organisation_id: int) -> None:
    """Forget who recorded and reported the organisation's pledges; the pledges and reports stay."""
    ids = select(Pledge.id).where(Pledge.organisation_id == organisation_id)
    await session.execute(
        update(PledgeReport).where(PledgeReport.pledge_id.in_(ids)).values(reported_by=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Pledge).where(Pledge.organisation_id == organisation_id).values(created_by=None)
        .execution_options(synchronize_session=False)
    )
