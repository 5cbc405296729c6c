"""``gcmbot backup`` while the bot writes, ``gcmbot restore``, and ``gcmbot migrate --check``:
a restored database holds every organisation, meeting and pending delivery written before the
backup, each one whole (the copy is a consistent snapshot), and the Matrix store with them."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text

from bot import backup
from bot.cli import main
from bot.config import Settings
from bot.leadership import SoleLeadership
from storage import deliveries, organisations
from storage.db import Database
from storage.meetings import Meeting, add_meeting
from tests.conftest import make_settings

AT = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


async def write_unit(db: Database, number: int) -> None:
    """An organisation (one transaction), then a meeting and a notice with a pending delivery
    (another): the second is all or nothing in any consistent copy.

    Two transactions because ``create_organisation``'s SAVEPOINT commits on its own on SQLite
    (pysqlite opens no transaction before a SAVEPOINT, so its RELEASE commits)."""
    async with db.transaction() as session:
        await organisations.create_organisation(
            session, name=f"Organización {number}", country="CO", stakeholder_type="ngo",
            contact_name="Ana", contact_email=f"ana{number}@example.org", contact_user=f"telegram:{number}",
            language="es", tables=["WT2"], at=AT,
        )
    async with db.transaction() as session:
        meeting = await add_meeting(session, Meeting(
            table_code="WT2", title=f"Reunión {number}", starts_at=AT + timedelta(days=number % 30 + 1),
            timezone="America/Bogota", offsets=[3600], created_by="telegram:1",
        ))
        notice = await deliveries.ensure_notice(
            session, key=f"backup-test:{number}", kind="broadcast", due_at=AT, meeting_id=meeting.id,
        )
        assert notice is not None
        await deliveries.add_deliveries(session, notice.id, [deliveries.Recipient("telegram", chat_id=str(-number))], AT)


async def counts(db: Database) -> tuple[set[str], set[str], set[str]]:
    async with db.transaction() as session:
        names = set(await session.scalars(select(organisations.Organisation.name)))
        titles = set(await session.scalars(select(Meeting.title)))
        pending = set(await session.scalars(
            select(deliveries.DeliveryRecord.chat_id).where(deliveries.DeliveryRecord.status == deliveries.PENDING)
        ))
    return names, titles, pending


def assert_whole(found: tuple[set[str], set[str], set[str]], at_least: int) -> None:
    """Everything written before the backup began, in order, and each transaction whole: the
    copy may end between a unit's two transactions, never inside one."""
    names, titles, pending = found
    organisations_written, meetings_written = len(names), len(titles)
    assert meetings_written >= at_least and organisations_written - meetings_written in (0, 1)
    assert names == {f"Organización {n}" for n in range(organisations_written)}
    assert titles == {f"Reunión {n}" for n in range(meetings_written)}
    assert pending == {str(-n) for n in range(meetings_written)}


async def backup_during_traffic(db: Database, settings: Settings, file: Path) -> int:
    """Write units continuously; back up in the middle; return how many were written before."""
    stop = asyncio.Event()
    written = 0

    async def traffic() -> None:
        nonlocal written
        while not stop.is_set():
            await write_unit(db, written)
            written += 1

    writer = asyncio.create_task(traffic())
    while written < 30:
        await asyncio.sleep(0.01)
    before = written
    await asyncio.to_thread(backup.backup, settings, file)
    while written < before + 30:  # traffic went on during and after the copy
        await asyncio.sleep(0.01)
    stop.set()
    await writer
    return before


@pytest.mark.slow  # backup and restore under write traffic
async def test_sqlite_backup_during_traffic_restores_everything_with_the_matrix_store(tmp_path: Path) -> None:
    store = tmp_path / "live" / "matrix-store"
    store.mkdir(parents=True)
    with sqlite3.connect(store / "gcmbot_DEVICE.db") as keys:
        keys.execute("CREATE TABLE olm (account TEXT)")
        keys.execute("INSERT INTO olm VALUES ('secret-keys')")
    (store / "next_batch").write_text("s123_456")
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'live' / 'bot.sqlite3'}", matrix_store_path=str(store))
    db = Database(settings.database_url)
    await db.migrate()
    file = tmp_path / "gcmbot-backup.tar.gz"
    try:
        before = await backup_during_traffic(db, settings, file)
    finally:
        await db.close()

    restored_store = tmp_path / "new" / "matrix-store"
    target = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'bot.sqlite3'}", matrix_store_path=str(restored_store))
    assert backup.restore(target, file) == [backup.SQLITE_MEMBER, backup.STORE_MEMBER]
    restored = Database(target.database_url)
    try:
        assert await restored.pending_migrations() == []
        assert_whole(await counts(restored), before)
    finally:
        await restored.close()
    with sqlite3.connect(restored_store / "gcmbot_DEVICE.db") as keys:
        assert keys.execute("SELECT account FROM olm").fetchall() == [("secret-keys",)]
    assert (restored_store / "next_batch").read_text() == "s123_456"


@pytest.mark.postgres
@pytest.mark.slow  # backup and restore under write traffic
async def test_postgresql_backup_during_traffic_restores_everything(tmp_path: Path, postgres_url: str) -> None:
    settings = make_settings(postgres_url, matrix_store_path=str(tmp_path / "no-store"))
    db = Database(postgres_url)
    await db.migrate()
    file = tmp_path / "gcmbot-backup.tar.gz"
    try:
        before = await backup_during_traffic(db, settings, file)
        async with db.transaction() as session:  # a disaster: the outbox and the organisations gone
            await session.execute(delete(deliveries.DeliveryRecord))
            await session.execute(text("TRUNCATE organisations, memberships CASCADE"))
        await db.engine.dispose()
        assert backup.restore(settings, file) == [backup.PG_MEMBER]
        assert_whole(await counts(db), before)
        async with db.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(deliveries.Notice)) >= before
    finally:
        await db.close()


async def test_restore_refuses_while_the_bot_runs(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", matrix_store_path=str(tmp_path / "store"))
    db = Database(settings.database_url)
    await db.migrate()
    await db.close()
    file = tmp_path / "backup.tar.gz"
    backup.backup(settings, file)
    running = SoleLeadership(tmp_path / "bot.sqlite3.lock")
    running.lock()
    try:
        with pytest.raises(backup.BackupError, match="already running"):
            backup.restore(settings, file)
    finally:
        running.release()


def test_migrate_check_says_whether_the_schema_is_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    assert main(["migrate", "--check"]) == 1
    assert "gcmbot migrate" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert main(["migrate", "--check"]) == 0
    assert "current" in capsys.readouterr().out
