"""Handling messages without holding up the sync loop, in order within each room, and
remembering the sync position only once everything received before it was handled."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


@dataclass
class Batch:
    """The jobs one sync response produced, and the token that follows them."""

    seq: int
    token: str
    pending: int = 0
    sealed: bool = False


class Checkpoints:
    """Sync tokens saved in order, each once all jobs of its batch and earlier ones are done.

    After a crash the bot syncs again from the last saved token: nothing received is
    lost; after a clean stop (queues drained) nothing is answered twice.
    """

    def __init__(self, save: Callable[[str], Awaitable[None]]) -> None:
        self._save = save
        self._open: deque[Batch] = deque()
        self._seq = 0
        self._saved_seq = 0
        self._lock = asyncio.Lock()

    def open(self, token: str) -> Batch:
        self._seq += 1
        batch = Batch(self._seq, token)
        self._open.append(batch)
        return batch

    async def seal(self, batch: Batch) -> None:
        """Every job of the batch has been queued."""
        batch.sealed = True
        await self._flush()

    async def done(self, batch: Batch) -> None:
        batch.pending -= 1
        await self._flush()

    async def _flush(self) -> None:
        ready: Batch | None = None
        while self._open and self._open[0].sealed and self._open[0].pending <= 0:
            ready = self._open.popleft()
        if ready is None:
            return
        async with self._lock:
            if ready.seq > self._saved_seq:
                await self._save(ready.token)
                self._saved_seq = ready.seq


class RoomQueues:
    """One queue per room drained by its own task: rooms run side by side, one room's
    messages one after the other; a failing job is logged and the next one runs."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[tuple[Job, Batch | None]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._checkpoints: Checkpoints | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def attach(self, checkpoints: Checkpoints) -> None:
        self._checkpoints = checkpoints

    def put(self, room_id: str, job: Job, batch: Batch | None = None) -> None:
        if batch is not None:
            batch.pending += 1
        self._queues.setdefault(room_id, deque()).append((job, batch))
        self._idle.clear()
        if room_id not in self._workers:
            self._workers[room_id] = asyncio.create_task(self._drain(room_id), name=f"matrix-room {room_id}")

    async def _drain(self, room_id: str) -> None:
        queue = self._queues[room_id]
        try:
            while queue:
                job, batch = queue[0]
                try:
                    await job()
                except Exception:
                    log.exception("handling a message in %s failed", room_id)
                queue.popleft()
                if batch is not None and self._checkpoints is not None:
                    await self._checkpoints.done(batch)
        finally:
            del self._workers[room_id]
            if not queue:
                del self._queues[room_id]
            if not self._workers:
                self._idle.set()

    async def join(self) -> None:
        """Wait until every queued job has run."""
        await self._idle.wait()

    async def cancel(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
