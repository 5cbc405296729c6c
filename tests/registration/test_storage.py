"""The organisations and audit repositories, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from storage import audit, organisations
from storage.db import Database
from storage.organisations import APPROVED, LEFT, PENDING, REJECTED, DuplicateOrganisation

T0 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


async def register(db: Database, name: str, country: str, user: str, tables: tuple[str, ...]) -> int:
    async with db.transaction() as session:
        organisation = await organisations.create_organisation(
            session,
            name=name,
            country=country,
            stakeholder_type="union",
            contact_name="Ana Pérez",
            contact_email="ana@example.org",
            contact_user=user,
            language="en",
            tables=tables,
            at=T0,
        )
        return organisation.id


def test_name_key_ignores_case_accents_punctuation_and_spaces() -> None:
    assert organisations.name_key("Fundación  Pro-Migrantes, A.C.") == organisations.name_key(
        "fundacion pro migrantes ac"
    )
    assert organisations.name_key("Red A") != organisations.name_key("Red B")


async def test_duplicates_by_name_and_country(db: Database) -> None:
    await register(db, "Fundación Sí, A.C.", "MX", "console:ana", ("WT1",))
    with pytest.raises(DuplicateOrganisation):
        await register(db, "FUNDACION  SI AC", "MX", "console:bob", ("WT2",))
    await register(db, "Fundacion Si AC", "CO", "console:bob", ("WT2",))
    async with db.transaction() as session:
        assert len(await organisations.same_name(session, "fundación sí a.c.")) == 2
        [mexican] = await organisations.same_name(session, "fundación sí a.c.", "MX")
        assert mexican.contact_user == "console:ana"
        assert (await organisations.organisation_of(session, "console:bob")).country == "CO"


async def test_decide_once_and_member_contacts(db: Database) -> None:
    await register(db, "Red Uno", "MX", "console:ana", ("WT1", "WT3"))
    await register(db, "Red Dos", "PE", "console:bob", ("WT3",))
    async with db.transaction() as session:
        pending = await organisations.pending_requests(session)
        assert [(m.organisation.name, m.table_code) for m in pending] == [
            ("Red Uno", "WT1"),
            ("Red Uno", "WT3"),
            ("Red Dos", "WT3"),
        ]
        assert len(await organisations.pending_requests(session, {"WT1"})) == 1
    first, third = pending[0].id, pending[2].id

    async def approve(request: int, secretary: str) -> bool:
        async with db.transaction() as session:
            return await organisations.decide(session, request, APPROVED, secretary, T0)

    results = await asyncio.gather(approve(first, "console:s1"), approve(first, "console:s2"))
    assert sorted(results) == [False, True]
    async with db.transaction() as session:
        assert not await organisations.decide(session, first, REJECTED, "console:s3", T0, "late")
        assert await organisations.decide(session, third, APPROVED, "console:s1", T0)
        membership = await organisations.get_membership(session, first)
        assert membership is not None and membership.status == APPROVED
        assert membership.decided_by in ("console:s1", "console:s2")
        contacts = await organisations.member_contacts(session)
        assert {c.user_key for c in contacts} == {"console:ana", "console:bob"}
        wt1 = await organisations.member_contacts(session, ["WT1"])
        assert wt1 == [organisations.MemberContact("console:ana", "en", "Red Uno")]
        assert [m.organisation.name for m in await organisations.table_members(session, "WT3")] == ["Red Dos"]


async def test_rejoin_leave_and_erasure(db: Database) -> None:
    organisation_id = await register(db, "Red Tres", "CL", "console:eve", ("WT2",))
    async with db.transaction() as session:
        [request] = await organisations.pending_requests(session)
        await organisations.decide(session, request.id, APPROVED, "console:s", T0)
    async with db.transaction() as session:
        organisation = await organisations.organisation_of(session, "console:eve")
        assert organisation is not None and organisation.tables() == ["WT2"]
        assert await organisations.request_membership(session, organisation, "WT2", "console:eve", T0) is None
        new = await organisations.request_membership(session, organisation, "WT4", "console:eve", T0)
        assert new is not None and new.status == PENDING
        await organisations.leave(session, new, T0)
        again = await organisations.request_membership(session, organisation, "WT4", "console:eve", T0)
        assert again is not None and again.id == new.id and again.status == PENDING
        await organisations.erase_contact(session, organisation, T0 + timedelta(days=1))
    async with db.transaction() as session:
        assert await organisations.organisation_of(session, "console:eve") is None
        assert await organisations.member_contacts(session) == []
        [member] = await organisations.table_members(session, "WT2")
        assert member.organisation_id == organisation_id
        assert member.organisation.contact_email is None and member.organisation.erased_at is not None
        assert member.organisation.tables(LEFT) == ["WT4"]


async def test_audit_record_filter_and_anonymise(db: Database) -> None:
    async with db.transaction() as session:
        for minute, (actor, action, subject) in enumerate(
            [
                ("console:ana", "register", "Red 100%"),
                ("console:s", "approve", "WT2 #1"),
                ("console:ana", "join", "WT3"),
            ]
        ):
            await audit.record(session, actor, action, subject, at=T0 + timedelta(minutes=minute))
    async with db.transaction() as session:
        assert [e.action for e in await audit.recent(session)] == ["join", "approve", "register"]
        assert [e.action for e in await audit.recent(session, limit=1)] == ["join"]
        assert [e.subject for e in await audit.recent(session, contains="100%")] == ["Red 100%"]
        assert await audit.recent(session, contains="_") == []
        assert [e.action for e in await audit.recent(session, contains="WT2")] == ["approve"]
        await audit.anonymise_actor(session, "console:ana")
    async with db.transaction() as session:
        assert {e.actor for e in await audit.recent(session)} == {audit.ERASED_ACTOR, "console:s"}
