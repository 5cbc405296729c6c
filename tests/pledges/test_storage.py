"""The pledge tables on SQLite and PostgreSQL: numbering, rounds, the latest report and the
history, who has not answered, and erasure of who reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import App
from storage import organisations, pledges
from tests.conftest import make_settings

NOW = datetime(2027, 4, 15, 15, 0, tzinfo=UTC)


async def test_pledges_rounds_and_reports(database_url: str) -> None:
    app = App(make_settings(database_url))
    await app.start()
    try:
        async with app.db.transaction() as session:
            first = await organisations.create_organisation(
                session, name="Red Ana", country="CO", stakeholder_type="ngo", contact_name="Ana",
                contact_email="ana@example.org", contact_user="fake:ana", language="es", tables=["WT3"], at=NOW,
            )
            other = await organisations.create_organisation(
                session, name="Red Leo", country="PE", stakeholder_type="ngo", contact_name="Leo",
                contact_email="leo@example.org", contact_user="fake:leo", language="es", tables=["WT1"], at=NOW,
            )
            for organisation in (first, other):
                await organisations.decide(session, organisation.memberships[0].id, organisations.APPROVED, "x", NOW)
            a = await pledges.add_pledge(session, first.id, title="A", objectives=[23, 10, 10], description="", url=None, by="fake:ana", at=NOW)
            b = await pledges.add_pledge(session, first.id, title="B", objectives=[1], description="", url=None, by="fake:ana", at=NOW)
            c = await pledges.add_pledge(session, other.id, title="C", objectives=[2], description="", url=None, by=None, at=NOW)
            assert (a.number, b.number, c.number, a.objectives) == (1, 2, 1, [10, 23])
            found, new = await pledges.open_round(session, "2027-04", at=NOW, closes_at=NOW + timedelta(days=16), by=None)
            again, new_again = await pledges.open_round(session, "2027-04", at=NOW, closes_at=NOW, by=None)
            assert new and not new_again and again.id == found.id
            await pledges.add_report(session, found.id, a, "delayed", "lento", "fake:ana", NOW)
            await pledges.add_report(session, found.id, a, "on_track", "mejor", "fake:ana", NOW + timedelta(days=1))
            await pledges.add_report(session, found.id, b, "withdrawn", "", "fake:ana", NOW)
            round_id, first_id, other_id = found.id, first.id, other.id

        async with app.db.transaction() as session:
            latest = await pledges.latest_reports(session, round_id)
            assert {pledge_id: report.status for pledge_id, report in latest.items()} == {a.id: "on_track", b.id: "withdrawn"}
            history = await pledges.reports_of(session, [a.id, b.id, c.id])
            assert [(report.status, period) for report, period in history[a.id]] == [("delayed", "2027-04"), ("on_track", "2027-04")]
            assert [p.title for p in await pledges.pledges_of(session, first_id, active_only=True)] == ["A"]
            waiting = await pledges.unreported_of(session, round_id, [first_id, other_id])
            assert {key: [p.title for p in value] for key, value in waiting.items()} == {other_id: ["C"]}
            assert [o.name for o in await pledges.pledging_organisations(session, ["WT3"])] == ["Red Ana"]
            assert [o.name for o in await pledges.pledging_organisations(session, None)] == ["Red Ana", "Red Leo"]
            assert [(o.name, p.title) for o, p in await pledges.table_pledges(session, None)] == [
                ("Red Ana", "A"), ("Red Ana", "B"), ("Red Leo", "C")
            ]
            assert (await pledges.current_round(session, NOW)).id == round_id  # type: ignore[union-attr]
            assert await pledges.close_round(session, round_id) and not await pledges.close_round(session, round_id)
            assert await pledges.current_round(session, NOW) is None
            await pledges.erase_reporters(session, first_id)

        async with app.db.transaction() as session:
            history = await pledges.reports_of(session, [a.id, b.id])
            assert len(history[a.id]) == 2 and all(report.reported_by is None for report, _p in history[a.id])
            assert all(p.created_by is None for p in await pledges.pledges_of(session, first_id))
    finally:
        await app.close()
