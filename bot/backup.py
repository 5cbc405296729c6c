"""``gcmbot backup FILE`` and ``gcmbot restore FILE``: one tar bundle with the database and the
Matrix store (its encryption keys: without them the bot cannot read encrypted rooms again).

- SQLite is copied with SQLite's online backup API, a consistent snapshot even while the bot
  writes (WAL included); so are the SQLite files of the Matrix store.
- PostgreSQL is dumped with ``pg_dump --format=custom`` when it is installed (and restored with
  ``pg_restore``); without it the command says what to run instead.

A restore replaces the database and the Matrix store; with SQLite it refuses while a bot runs
on that database (the lock file of :mod:`bot.leadership`). Stop every instance first.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.leadership import SoleLeadership

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
STORE_MEMBER = "matrix-store"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, with what to do instead."""


def backup(settings: Settings, target: Path) -> list[str]:
    """Write the bundle to ``target``; returns what it holds."""
    url = make_url(settings.database_url)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        held: list[str] = []
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(Path(_sqlite_path(settings.database_url)), work / SQLITE_MEMBER)
            held.append(SQLITE_MEMBER)
        else:
            _pg_dump(settings.database_url, work / PG_MEMBER)
            held.append(PG_MEMBER)
        store = Path(settings.matrix_store_path)
        if store.is_dir():
            _copy_store(store, work / STORE_MEMBER)
            held.append(STORE_MEMBER)
        manifest = {"format": FORMAT, "created": datetime.now(UTC).isoformat(), "members": held}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as bundle:
            for name in (MANIFEST, *held):
                bundle.add(work / name, arcname=name)
        partial.replace(target)
    return held


def restore(settings: Settings, source: Path) -> list[str]:
    """Replace the database (and the Matrix store, when the bundle has one) with the bundle's."""
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(source, "r:*") as bundle:
        work = Path(scratch)
        bundle.extractall(work, filter="data")
        manifest = json.loads((work / MANIFEST).read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{source} is not a gcmbot backup this version can read")
        held: list[str] = manifest["members"]
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite":
            if SQLITE_MEMBER not in held:
                raise BackupError(f"{source} holds a PostgreSQL dump; DATABASE_URL is SQLite")
            _sqlite_restore(work / SQLITE_MEMBER, Path(_sqlite_path(settings.database_url)))
        else:
            if PG_MEMBER not in held:
                raise BackupError(f"{source} holds a SQLite database; DATABASE_URL is PostgreSQL")
            _pg_restore(settings.database_url, work / PG_MEMBER)
        if STORE_MEMBER in held:
            store = Path(settings.matrix_store_path)
            if store.exists():
                shutil.rmtree(store)
            store.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(work / STORE_MEMBER, store)
    return held


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return database


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API (safe while the bot writes)."""
    if not source.exists():
        raise BackupError(f"no database at {source}")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _copy_store(store: Path, target: Path) -> None:
    """The Matrix store: its SQLite files through the backup API, anything else copied."""
    for path in sorted(store.rglob("*")):
        copy = target / path.relative_to(store)
        if path.is_dir():
            copy.mkdir(parents=True, exist_ok=True)
        elif path.name.endswith(("-wal", "-shm", "-journal")):
            continue  # part of a SQLite file copied consistently below
        elif path.suffix in SQLITE_SUFFIXES:
            copy.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(path, copy)
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)


def _sqlite_restore(source: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    lock = SoleLeadership(Path(f"{database}.lock"))
    try:
        lock.lock()
    except RuntimeError as error:
        raise BackupError(f"{error}. A restore needs the bot stopped.") from None
    try:
        for stale in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            stale.unlink(missing_ok=True)
        partial = database.with_name(database.name + ".restoring")
        shutil.copyfile(source, partial)
        partial.replace(database)
    finally:
        lock.release()


def _libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str, hint: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed here. Install the PostgreSQL client tools (Debian: "
            f"apt-get install postgresql-client), or run it where they are: {hint}"
        )
    return found


def _pg_dump(url: str, target: Path) -> None:
    tool = _pg_tool("pg_dump", "pg_dump --format=custom --file=gcmbot.pgdump \"$DATABASE_URL\"")
    _run([tool, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={_libpq_dsn(url)}"])


def _pg_restore(url: str, source: Path) -> None:
    tool = _pg_tool("pg_restore", "pg_restore --clean --if-exists --no-owner --dbname=\"$DATABASE_URL\" gcmbot.pgdump")
    _run([tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={_libpq_dsn(url)}", str(source)])


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {message}")
