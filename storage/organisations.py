"""Organisations, their requests to join Working Tables, and the members' contacts.

One organisation per (normalised name, country); one membership row per organisation and
table, whose status moves pending -> approved | rejected, and -> left when it leaves or
withdraws (a new request puts it back to pending). Erasure keeps the organisation and its
memberships, anonymised, for counts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from storage.lookalikes import name_key
from storage.models import Base, utcnow

PENDING, APPROVED, REJECTED, LEFT = "pending", "approved", "rejected", "left"
ACTIVE, ERASED = "active", "erased"


class DuplicateOrganisation(Exception):
    """An organisation with the same normalised name and country exists already."""


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("name_key", "country"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str] = mapped_column(String(2))
    stakeholder_type: Mapped[str] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_user: Mapped[str | None] = mapped_column(String(255), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column()

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", lazy="selectin", order_by="Membership.table_code"
    )

    def tables(self, *statuses: str) -> list[str]:
        """The codes of the tables whose membership has one of ``statuses`` (default: approved)."""
        wanted = statuses or (APPROVED,)
        return [m.table_code for m in self.memberships if m.status in wanted]


class Membership(Base):
    """An organisation in a table; while pending, its id is the request number secretaries decide on."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organisation_id", "table_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    table_code: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    requested_by: Mapped[str | None] = mapped_column(String(255))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(500))

    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined")


_WITH_ORGANISATION = joinedload(Membership.organisation).selectinload(Organisation.memberships)
"""Load a membership's organisation with all its memberships (eager loading stops at the cycle)."""


@dataclass(frozen=True)
class MemberContact:
    user_key: str
    """``telegram:123`` / ``matrix:@x:y`` / ``console:ana``"""
    language: str | None
    """The language stored with the registration."""
    organisation: str


# organisations ---------------------------------------------------------------


async def same_name(session: AsyncSession, name: str, country: str | None = None) -> list[Organisation]:
    """Organisations registered under this name (in ``country``, if given)."""
    query = select(Organisation).where(Organisation.name_key == name_key(name))
    if country is not None:
        query = query.where(Organisation.country == country)
    return list(await session.scalars(query.order_by(Organisation.id)))


async def organisation_of(session: AsyncSession, user_key: str) -> Organisation | None:
    """The organisation whose contact this person is (one per person)."""
    return await session.scalar(
        select(Organisation).where(Organisation.contact_user == user_key).order_by(Organisation.id).limit(1)
    )


async def create_organisation(
    session: AsyncSession,
    *,
    name: str,
    country: str,
    stakeholder_type: str,
    contact_name: str,
    contact_email: str,
    contact_user: str,
    language: str,
    tables: Collection[str],
    at: datetime,
) -> Organisation:
    """The organisation with one pending request per table; raises :class:`DuplicateOrganisation`."""
    organisation = Organisation(
        name=name,
        name_key=name_key(name),
        country=country,
        stakeholder_type=stakeholder_type,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_user=contact_user,
        language=language,
        status=ACTIVE,
        created_at=at,
        memberships=[
            Membership(table_code=t, status=PENDING, requested_by=contact_user, requested_at=at)
            for t in sorted(tables)
        ],
    )
    try:
        async with session.begin_nested():
            session.add(organisation)
            await session.flush()
    except IntegrityError as error:
        raise DuplicateOrganisation(name) from error
    return organisation


async def erase_contact(session: AsyncSession, organisation: Organisation, at: datetime) -> None:
    """Forget the person behind an organisation; its approved memberships stay (anonymised)."""
    organisation.contact_name = organisation.contact_email = organisation.contact_user = None
    organisation.status, organisation.erased_at = ERASED, at
    for membership in organisation.memberships:
        if membership.status == PENDING:
            membership.status, membership.decided_at = LEFT, at
        membership.requested_by = None
    await session.flush()


# memberships -----------------------------------------------------------------


async def get_membership(session: AsyncSession, membership_id: int) -> Membership | None:
    return await session.get(Membership, membership_id, options=[_WITH_ORGANISATION], populate_existing=True)


async def request_membership(
    session: AsyncSession, organisation: Organisation, table: str, user_key: str, at: datetime
) -> Membership | None:
    """A new pending request, or None if the organisation is already in (or asking for) the table."""
    current = next((m for m in organisation.memberships if m.table_code == table), None)
    if current is not None and current.status in (PENDING, APPROVED):
        return None
    if current is None:
        current = Membership(table_code=table)
        organisation.memberships.append(current)
    current.status, current.requested_by, current.requested_at = PENDING, user_key, at
    current.decided_by = current.decided_at = current.reason = None
    await session.flush()
    return current


async def decide(
    session: AsyncSession,
    membership_id: int,
    status: str,
    decided_by: str,
    at: datetime,
    reason: str | None = None,
) -> bool:
    """Approve or reject a pending request; False if it was no longer pending.

    A single conditional UPDATE, so two secretaries deciding at once cannot both win."""
    result = await session.execute(
        update(Membership)
        .where(Membership.id == membership_id, Membership.status == PENDING)
        .values(status=status, decided_by=decided_by, decided_at=at, reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def leave(session: AsyncSession, membership: Membership, at: datetime) -> None:
    membership.status, membership.decided_at = LEFT, at
    await session.flush()


async def pending_requests(session: AsyncSession, tables: Collection[str] | None = None) -> list[Membership]:
    """Pending requests, oldest first (of ``tables``; None = every table)."""
    query = select(Membership).options(_WITH_ORGANISATION).where(Membership.status == PENDING)
    if tables is not None:
        query = query.where(Membership.table_code.in_(list(tables)))
    return list(await session.scalars(query.order_by(Membership.requested_at, Membership.id)))


async def table_members(session: AsyncSession, table: str) -> list[Membership]:
    """The approved memberships of a table, by organisation name."""
    rows = await session.scalars(
        select(Membership)
        .options(_WITH_ORGANISATION)
        .join(Membership.organisation)
        .where(Membership.table_code == table, Membership.status == APPROVED)
        .order_by(Organisation.name_key)
    )
    return list(rows.unique())


async def member_contacts(
    session: AsyncSession, tables: Collection[str] | None = None
) -> list[MemberContact]:
    """The contacts of organisations approved in ``tables`` (None = every table), one per person;
    erased contacts excluded."""
    query = (
        select(Organisation.contact_user, Organisation.language, Organisation.name)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.status == APPROVED, Organisation.contact_user.is_not(None))
        .order_by(Organisation.id)
    )
    if tables is not None:
        query = query.where(Membership.table_code.in_(list(tables)))
    contacts: dict[str, MemberContact] = {}
    for user_key, language, organisation in await session.execute(query):
        contacts.setdefault(user_key, MemberContact(user_key, language, organisation))
    return list(contacts.values())


async def count_approved(session: AsyncSession) -> int:
    """How many organisations are approved in at least one table."""
    query = select(func.count(func.distinct(Membership.organisation_id))).where(Membership.status == APPROVED)
    return int(await session.scalar(query) or 0)
