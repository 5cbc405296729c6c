"""Matrix reply latency: our whole bot against a bare matrix-nio echo bot, same homeserver.

A local Synapse (started here, like the tests' one) hosts both bots, each in its own
process: ours is ``gcmbot run`` (App + MatrixAdapter, SQLite, end-to-end crypto store),
the baseline is the echo bot of matrix-nio's examples (callbacks + ``sync_forever``).
One member on a nio client asks each bot in its own group room, alternating, and times
each question until its answer arrives through its own sync: p50, p95 and the ratio of
the medians (goal: ours at most 1.2 times the bare bot's). Idle RSS of both processes.

    .venv/bin/python bench/matrix_latency.py [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nio import (  # noqa: E402
    AsyncClient,
    InviteMemberEvent,
    MatrixRoom,
    RoomMessageNotice,
    RoomMessageText,
    SyncResponse,
)

from tests.fakes.synapse import Account, Synapse  # noqa: E402

GOAL = 1.2
QUESTION = "!objetivo 10"


# -- the bare baseline, in its own process ----------------------------------------------------


def serve_echo(homeserver: str, user_id: str, access_token: str, device_id: str) -> None:
    """The bare echo bot: join on invite, answer every text with an ``m.notice`` reply."""

    async def main() -> None:
        client = AsyncClient(homeserver, user_id, device_id=device_id)
        client.restore_login(user_id, device_id, access_token)

        async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
            if event.state_key == user_id and event.membership == "invite":
                await client.join(room.room_id)

        async def on_message(room: MatrixRoom, event: RoomMessageText) -> None:
            if event.sender != user_id:
                await client.room_send(
                    room.room_id,
                    "m.room.message",
                    {
                        "msgtype": "m.notice",
                        "body": event.body,
                        "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
                    },
                )

        client.add_event_callback(on_invite, InviteMemberEvent)
        client.add_event_callback(on_message, RoomMessageText)
        await client.sync_forever(timeout=30000)

    asyncio.run(main())


# -- the run -------------------------------------------------------------------------------------


def start_gcmbot(synapse: Synapse, account: Account, workdir: Path) -> subprocess.Popen[bytes]:
    """``gcmbot run`` as deployed: configured from the environment only (no .env here)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'gcmbot.sqlite3'}",
        "MATRIX_HOMESERVER": synapse.url,
        "MATRIX_USER_ID": account.user_id,
        "MATRIX_PASSWORD": account.password,
        "MATRIX_STORE_PATH": str(workdir / "matrix-store"),
        "TELEGRAM_TOKEN": "",
        "LOG_LEVEL": "WARNING",
    }
    log = open(workdir / "gcmbot.log", "wb")  # noqa: SIM115 (owned by the process)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def start_echo(synapse: Synapse, account: Account, workdir: Path) -> subprocess.Popen[bytes]:
    log = open(workdir / "echo.log", "wb")  # noqa: SIM115
    args = [synapse.url, account.user_id, account.access_token, account.device_id]
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--echo", *args],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


class Asker:
    """The member: asks in a room and notes when the answer to each question arrives."""

    def __init__(self, synapse: Synapse, account: Account) -> None:
        self.client = AsyncClient(synapse.url, account.user_id, device_id=account.device_id)
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.answered: dict[str, float] = {}
        self.changed = asyncio.Event()
        self.client.add_event_callback(self._on_notice, RoomMessageNotice)
        self.client.add_response_callback(self._on_sync, SyncResponse)
        self._task: asyncio.Task[None] | None = None

    async def _on_notice(self, _room: MatrixRoom, event: RoomMessageNotice) -> None:
        relation = event.source["content"].get("m.relates_to") or {}
        question = (relation.get("m.in_reply_to") or {}).get("event_id")
        if question:
            self.answered.setdefault(question, time.perf_counter())
            self.changed.set()

    async def _on_sync(self, _response: SyncResponse) -> None:
        self.changed.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self.client.sync_forever(timeout=30000, full_state=True))

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()

    async def room_with(self, bot: str, bystander: str) -> str:
        """A group room (a third, invited member) with the bot, once it has joined."""
        response = await self.client.room_create(name="WT2", invite=[bot, bystander])
        room_id = response.room_id
        while not (
            room_id in self.client.rooms
            and bot in self.client.rooms[room_id].users
            and bot not in self.client.rooms[room_id].invited_users
        ):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 60)
        return room_id

    async def ask(self, room_id: str) -> float:
        """Seconds from sending the question to receiving its answer."""
        started = time.perf_counter()
        response = await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": QUESTION})
        while response.event_id not in self.answered:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 60)
        return self.answered[response.event_id] - started


def idle_rss(process: subprocess.Popen[bytes]) -> float:
    return psutil.Process(process.pid).memory_info().rss / 2**20


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run(messages: int) -> None:
    synapse = Synapse()
    processes: list[subprocess.Popen[bytes]] = []
    asker: Asker | None = None
    try:
        synapse.start()
        ours, bare, member, bystander = (
            synapse.register(name, displayname=name) for name in ("gcmbot", "echobot", "ana", "carlos")
        )
        workdir = synapse.workdir
        processes = [start_gcmbot(synapse, ours, workdir), start_echo(synapse, bare, workdir)]
        asker = Asker(synapse, member)
        await asker.start()
        rooms = {
            "gcmbot": await asker.room_with(ours.user_id, bystander.user_id),
            "bare nio": await asker.room_with(bare.user_id, bystander.user_id),
        }
        for room_id in rooms.values():  # warm up: imports, caches, first database writes
            for _ in range(5):
                await asker.ask(room_id)
        await asyncio.sleep(1.0)
        rss = {"gcmbot": idle_rss(processes[0]), "bare nio": idle_rss(processes[1])}

        latencies: dict[str, list[float]] = {name: [] for name in rooms}
        for _ in range(messages):
            for name, room_id in rooms.items():
                latencies[name].append(await asker.ask(room_id))
    finally:
        if asker is not None:
            await asker.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        synapse.close()

    print(f"Matrix reply latency, {messages} sequential questions ({QUESTION!r}) per bot, local Synapse")
    print(f"{'bot':<10} {'p50 ms':>8} {'p95 ms':>8} {'idle RSS MiB':>13}")
    for name, values in latencies.items():
        p50, p95 = statistics.median(values) * 1000, percentile(values, 95) * 1000
        print(f"{name:<10} {p50:8.1f} {p95:8.1f} {rss[name]:13.1f}")
    ratio = statistics.median(latencies["gcmbot"]) / statistics.median(latencies["bare nio"])
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"ratio p50 gcmbot / bare nio: {ratio:.2f} ({verdict} the goal of at most {GOAL})")
    rss_ratio = rss["gcmbot"] / rss["bare nio"]
    print(f"ratio idle RSS gcmbot / bare nio: {rss_ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--echo", nargs=4, metavar=("HOMESERVER", "USER", "TOKEN", "DEVICE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo:
        serve_echo(*args.echo)
    else:
        asyncio.run(run(args.messages))


if __name__ == "__main__":
    main()
