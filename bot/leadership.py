"""Which ``gcmbot run`` process leads: polls Telegram, syncs Matrix, and sends the outbox.

Any number of processes may share one PostgreSQL database; exactly one leads, the others stand
by and take over when it dies. With SQLite only one process may run at all.

Why a session advisory lock, not a lease row
--------------------------------------------
The leader holds ``pg_try_advisory_lock(LOCK_KEY)`` on a *dedicated* connection (never the
pool's). PostgreSQL releases a session lock the moment the session ends, so the failure modes
map onto things the server already detects, with no clock shared between machines:

- the process dies (``kill -9``, OOM, crash): the kernel closes its socket, the server ends the
  session at once, and a standby (trying every :data:`POLL` seconds) leads within about a second;
- the machine or the network is gone: the connection sets ``idle_session_timeout`` (PostgreSQL
  14+) and TCP keepalives, so the server ends the silent session after :data:`SERVER_TIMEOUT`
  seconds (~10 s) and a standby leads within ~12 s.

A lease row would need the same heartbeat plus a clock comparison between the writer and the
readers, and a crashed leader would block takeover for the whole lease instead of a second.

No split brain: before every outbox send the app calls :meth:`Leadership.confirm`, a
``SELECT 1`` on the lock's own session (sends waiting at the same moment share one round trip).
If that session answers, it is alive and still holds the lock, so no other process can lead; if
it does not answer within :data:`HEARTBEAT_TIMEOUT`, this process steps down and sends nothing
more. Between the confirmation and the platform accepting the message lies the one in-flight
window of :mod:`bot.delivery`, a few milliseconds, much shorter than a standby's takeover
(its next :data:`POLL`, then recovering the outbox). A connection that closes (reset, server restart) steps down
at once, through asyncpg's termination listener. A heartbeat on the same session every
:data:`HEARTBEAT` seconds keeps it busy (under ``idle_session_timeout``) and notices a lost
database while nothing is being sent; :meth:`is_leader` is the local view (a lease renewed by
each answer), which the health server reports.

Standbys still answer what reaches them (a Telegram webhook behind a load balancer); when such
an answer planned something (a confirmed broadcast), :meth:`Leadership.nudge` sends
``NOTIFY`` on :data:`CHANNEL`, which the leader LISTENs to on the same session and turns into a
look at the outbox (else its scheduler would find it at its next minute's re-read).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from sqlalchemy.engine import make_url

from bot import metrics

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

LOCK_KEY = 0x67636D62
"""The leader's session lock ("gcmb"; storage.db.MIGRATION_LOCK is another key)."""
CHANNEL = "gcmbot_outbox"
POLL = 1.0
"""Seconds between a standby's attempts to take the lock."""
HEARTBEAT = 2.0
HEARTBEAT_TIMEOUT = 3.0
LEASE = 6.0
SERVER_TIMEOUT = 10
"""Seconds of silence after which the server ends the leader's session (and frees the lock)."""
SESSION_SETTINGS = {
    "application_name": "gcmbot-leadership",
    "idle_session_timeout": str(SERVER_TIMEOUT * 1000),
    "tcp_keepalives_idle": "4",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}


class AlreadyRunning(RuntimeError):
    """Another ``gcmbot run`` holds this SQLite database."""


class Leadership(Protocol):
    @property
    def role(self) -> str:
        """``leader`` or ``standby``."""

    def is_leader(self) -> bool:
        """This process's own view: it leads (no round trip)."""

    async def confirm(self) -> bool:
        """True if this process leads now, checked with the database (before each send)."""

    async def acquire(self) -> None:
        """Return once this process leads."""

    async def lost(self) -> None:
        """Return once this process no longer leads."""

    async def nudge(self) -> None:
        """Tell the leader that the outbox changed (from a standby)."""

    on_nudge: Callable[[], None] | None
    """Called on the leader when a standby nudged."""

    async def close(self) -> None: ...


class SoleLeadership:
    """SQLite: the only process is the leader, and a lock file keeps it the only one."""

    def __init__(self, lock_path: Path | None) -> None:
        self.lock_path = lock_path
        self._file: IO[str] | None = None
        self._forever = asyncio.Event()
        self.on_nudge: Callable[[], None] | None = None

    @property
    def role(self) -> str:
        return "leader"

    def lock(self) -> None:
        if self.lock_path is None:
            return
        handle = self.lock_path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunning(
                f"another gcmbot is already running on this SQLite database (it holds {self.lock_path}); "
                "stop it first, or use PostgreSQL to run several instances"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def is_leader(self) -> bool:
        return True

    async def confirm(self) -> bool:
        return True

    async def acquire(self) -> None:
        metrics.set_leader(True)

    async def lost(self) -> None:
        await self._forever.wait()

    async def nudge(self) -> None:
        return

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    async def close(self) -> None:
        self.release()


class PostgresLeadership:
    """The session advisory lock of the module docstring, on its own connection."""

    def __init__(self, url: str) -> None:
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: asyncpg.Connection | None = None
        self._lease_until = 0.0
        self._leading = False
        self._lost = asyncio.Event()
        self._heartbeat: asyncio.Task[None] | None = None
        self._busy = asyncio.Lock()
        """One operation at a time on the connection (asyncpg's rule)."""
        self._checked_at = 0.0
        self.on_nudge: Callable[[], None] | None = None

    @property
    def role(self) -> str:
        return "leader" if self.is_leader() else "standby"

    def is_leader(self) -> bool:
        return self._leading and time.monotonic() < self._lease_until

    async def acquire(self) -> None:
        while True:
            started = time.monotonic()
            try:
                if await self._try_lock():
                    break
            except Exception as error:  # unreachable, restarting, refusing: try again
                log.warning("cannot reach the database to take the lead: %s", error)
                await self._disconnect()
            await asyncio.sleep(max(0.0, POLL - (time.monotonic() - started)))
        try:
            async with self._busy:
                assert self._connection is not None
                await self._connection.add_listener(CHANNEL, self._nudged)
        except Exception as error:  # the heartbeat will find out whether the session is gone
            log.warning("could not listen for standbys' nudges: %s", error)
        self._lease_until = started + LEASE
        self._leading = True
        self._lost.clear()
        self._heartbeat = asyncio.create_task(self._beat(), name="leadership-heartbeat")
        metrics.set_leader(True)
        log.info("this instance is now the leader")

    async def _try_lock(self) -> bool:
        import asyncpg  # only PostgreSQL deployments need it loaded

        async with self._busy:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(
                    self.dsn, server_settings=SESSION_SETTINGS, timeout=HEARTBEAT_TIMEOUT
                )
                self._connection.add_termination_listener(self._terminated)
            locked = await self._connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", LOCK_KEY, timeout=HEARTBEAT_TIMEOUT
            )
            return bool(locked)

    def _terminated(self, connection: object) -> None:
        """The lock's connection closed (reset, server restart): step down now, not at the next check."""
        if self._leading and connection is self._connection:
            log.error("the database connection holding the lead closed; stepping down")
            self._step_down()

    def _nudged(self, *_notification: object) -> None:
        if self.on_nudge is not None:
            self.on_nudge()

    async def nudge(self) -> None:
        """Best effort: the leader's minute re-read finds the change anyway."""
        try:
            async with self._busy:
                if self._connection is not None and not self._connection.is_closed():
                    await self._connection.execute(f"NOTIFY {CHANNEL}", timeout=HEARTBEAT_TIMEOUT)
        except Exception as error:
            log.warning("could not nudge the leader: %s", error)

    async def _beat(self) -> None:
        """Check the lock's session every HEARTBEAT seconds while leading."""
        while await self.confirm():
            await asyncio.sleep(HEARTBEAT)

    async def confirm(self) -> bool:
        """One ``SELECT 1`` on the lock's session, shared by every caller that asked before it
        was sent; on no answer, step down."""
        if not self._leading:
            return False
        asked = time.monotonic()
        async with self._busy:
            if self._checked_at >= asked or not self._leading:
                return self._leading
            sent = time.monotonic()
            try:
                assert self._connection is not None
                await self._connection.fetchval("SELECT 1", timeout=HEARTBEAT_TIMEOUT)
            except Exception as error:
                log.error("lost the database connection holding the lead (%s); stepping down", error)
                self._step_down()
                await self._disconnect()
                return False
            self._checked_at = sent
            self._lease_until = sent + LEASE
        return True

    def _step_down(self) -> None:
        self._leading = False
        self._lease_until = 0.0
        self._lost.set()
        metrics.set_leader(False)

    async def lost(self) -> None:
        await self._lost.wait()

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()  # never waits on a dead network; the server frees the lock

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.close(), HEARTBEAT_TIMEOUT)
        await self._disconnect()
        if self._leading:
            self._step_down()


def for_database(url: str) -> Leadership:
    """The leadership of the database at ``url``; SQLite's lock file is taken here (or refused)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLeadership(url)
    database = parsed.database
    sole = SoleLeadership(None if not database or database == ":memory:" else Path(f"{database}.lock"))
    sole.lock()
    return sole
