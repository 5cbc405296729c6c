"""Several ``gcmbot run`` processes on one PostgreSQL database: one leader, standbys taking over
when it dies or loses the database, no message lost or sent twice beyond the in-flight window;
and on SQLite, a second process refused."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.app import App
from bot.delivery import CONCURRENCY
from storage import chats, roles, subscriptions
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeBot, FakeTelegram, RateLimits, make_group, make_user
from tests.ops.cluster import GCMBOT, Instance, Sent, free_port, overlaps, spawn, wait_roles

TOKEN = "5550016:AAfailover-test_token"
TAKEOVER = 15.0
USER = make_user(1601, "Ana", language_code="es")
SECRETARY = make_user(1616, "Sec", username="sec_wt2", language_code="es")
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(240)]


def group_id(index: int) -> int:
    return -1001600000000 - index


async def answered(bot: FakeBot, sent: list[Sent], text: str, timeout: float = 30) -> Sent:
    """``USER`` writes ``text``; the answer, as the tap of the instance that sent it saw it."""
    before = len(sent)
    bot.private(USER, text)
    async with asyncio.timeout(timeout):
        while not any(s.chat_id == str(USER["id"]) for s in sent[before:]):
            await asyncio.sleep(0.05)
    return next(s for s in sent[before:] if s.chat_id == str(USER["id"]))


async def leader_of(instances: list[Instance]) -> tuple[Instance, Instance]:
    roles_now = await wait_roles(instances)
    leader = next(i for i in instances if roles_now[i.name] == "leader")
    return leader, next(i for i in instances if i is not leader)


async def test_one_leader_and_a_standby_that_takes_over_within_15_s(tmp_path: Path, postgres_url: str) -> None:
    sent: list[Sent] = []
    async with FakeTelegram() as server:
        bot = server.bot(TOKEN, "GcmFailoverBot")
        instances = [await spawn(n, tmp_path, postgres_url, server.url, TOKEN, sent) for n in ("a", "b")]
        try:
            leader, standby = await leader_of(instances)
            state = await standby.ready()
            assert state is not None and state["ready"] and state["role"] == "standby"
            assert (await answered(bot, sent, "/start")).instance == leader.name

            await leader.kill()
            killed = time.monotonic()
            while await standby.role() != "leader":
                assert time.monotonic() - killed < TAKEOVER, "the standby did not take over in time"
                await asyncio.sleep(0.1)
            assert (await answered(bot, sent, "/ayuda")).instance == standby.name
            assert "gcmbot_leader_changes_total 1.0" in await standby.metrics()
        finally:
            for instance in instances:
                await instance.stop()


def to_groups(sent: list[Sent], marker: str) -> list[Sent]:
    """The broadcast messages sent to the groups (not the secretary's preview)."""
    return [s for s in sent if marker in s.text and s.chat_id.startswith("-")]


async def prepare_groups(database_url: str, count: int) -> None:
    app = App(make_settings(database_url))
    await app.start()
    async with app.db.transaction() as session:
        for index in range(count):
            await chats.ensure_chat(session, "telegram", str(group_id(index)), private=False, title=f"G{index}")
            await subscriptions.subscribe(session, "telegram", str(group_id(index)), "WT2", "telegram:1616")
        await roles.add_secretary(session, "telegram:1616", "WT2", "telegram:1")
    await app.close()


def bot_in_groups(server: FakeTelegram, count: int) -> FakeBot:
    """The bot on ``server``, a member of the groups of :func:`prepare_groups`."""
    bot = server.bot(TOKEN, "GcmFailoverBot")
    for index in range(count):
        bot.add_chat(make_group(group_id(index), f"G{index}"))
    return bot


async def send_broadcast(bot: FakeBot, marker: str) -> None:
    """WT2's secretary asks to broadcast a text with ``marker`` to the table and presses Send."""
    bot.private(SECRETARY, f"/difundir WT2 Asamblea {marker}")
    [preview] = await bot.wait_sent(SECRETARY["id"], 1, timeout=60)
    bot.press(SECRETARY, preview, preview["reply_markup"]["inline_keyboard"][0][0]["callback_data"])


async def in_flight(database_url: str) -> set[str]:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT chat_id FROM deliveries WHERE status = 'sending'")
    finally:
        await connection.close()
    return {row["chat_id"] for row in rows}


async def test_a_leader_cut_from_the_database_stops_and_the_broadcast_is_neither_lost_nor_doubled(
    tmp_path: Path, postgres_url: str
) -> None:
    groups = 150
    await prepare_groups(postgres_url, groups)
    marker = f"failover-{os.getpid()}"
    sent: list[Sent] = []
    async with FakeTelegram(rate_limits=RateLimits()) as server:
        bot = bot_in_groups(server, groups)
        instances = [
            await spawn(n, tmp_path, postgres_url, server.url, TOKEN, sent, cable=True) for n in ("a", "b")
        ]
        try:
            leader, standby = await leader_of(instances)
            await send_broadcast(bot, marker)
            while len(to_groups(sent, marker)) < 40:
                await asyncio.sleep(0.01)

            standby.process.send_signal(signal.SIGSTOP)  # to read what was in flight before it recovers
            assert leader.cable is not None
            await leader.cable.cut()
            cut = time.monotonic()
            await asyncio.sleep(TAKEOVER / 5)
            ambiguous = await in_flight(postgres_url)
            late = [s for s in sent if s.instance == leader.name and s.at > cut + 3.5]
            standby.process.send_signal(signal.SIGCONT)

            while await standby.role() != "leader":
                assert time.monotonic() - cut < TAKEOVER + TAKEOVER / 5
                await asyncio.sleep(0.1)
            deadline = time.monotonic() + 90
            while len({s.chat_id for s in to_groups(sent, marker)}) < groups:
                assert time.monotonic() < deadline, "the broadcast was not finished by the new leader"
                await asyncio.sleep(0.1)
        finally:
            for instance in instances:
                await instance.stop()

    broadcast = to_groups(sent, marker)
    counts = Counter(s.chat_id for s in broadcast)
    assert set(counts) == {str(group_id(i)) for i in range(groups)}
    doubled = {chat for chat, n in counts.items() if n > 1}
    assert doubled <= ambiguous, f"doubled {doubled}, in flight at the cut {ambiguous}"
    assert len(ambiguous) <= CONCURRENCY["telegram"] and max(counts.values()) <= 2
    assert not late, "the leader cut from the database kept sending"
    assert overlaps(sent) == 0
    assert {s.instance for s in broadcast} == {leader.name, standby.name}


async def test_two_processes_migrating_a_fresh_database_together(fresh_postgres_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))} | {"DATABASE_URL": fresh_postgres_url}
    runs = [
        await asyncio.create_subprocess_exec(str(GCMBOT), "migrate", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE)
        for _ in range(3)
    ]
    errors = [(await run.communicate())[1].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], errors
    check = subprocess.run([str(GCMBOT), "migrate", "--check"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


async def test_a_second_process_on_sqlite_is_refused(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    sent: list[Sent] = []
    async with FakeTelegram() as server:
        first = await spawn("first", tmp_path, database_url, server.url, TOKEN, sent)
        try:
            await wait_roles([first])
            second = subprocess.run(
                [str(GCMBOT), "run"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                env={k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))}
                | {"DATABASE_URL": database_url, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.url},
            )
            assert second.returncode != 0
            assert "already running" in second.stderr and "bot.sqlite3.lock" in second.stderr
            assert first.process.returncode is None
        finally:
            await first.stop()


async def test_in_webhook_mode_a_standby_answers_and_only_the_leader_sends_the_broadcast(
    tmp_path: Path, postgres_url: str
) -> None:
    groups = 8
    await prepare_groups(postgres_url, groups)
    marker = f"webhook-{os.getpid()}"
    sent: list[Sent] = []

    def webhook(port: int) -> dict[str, str]:
        return {
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "TELEGRAM_WEBHOOK_PORT": str(port),
        }

    async with FakeTelegram() as server:
        bot = bot_in_groups(server, groups)
        leader = await spawn("a", tmp_path, postgres_url, server.url, TOKEN, sent, env=webhook(free_port()))
        instances = [leader]
        try:
            await wait_roles(instances)
            port = free_port()
            standby = await spawn("b", tmp_path, postgres_url, server.url, TOKEN, sent, env=webhook(port))
            instances.append(standby)
            assert (await wait_roles(instances))["b"] == "standby"
            async with asyncio.timeout(60):  # the standby set the webhook last: updates now reach it
                while str(port) not in bot.webhook_url or not (await standby.ready() or {}).get("ready"):
                    await asyncio.sleep(0.1)

            await send_broadcast(bot, marker)
            pressed = time.monotonic()
            async with asyncio.timeout(TAKEOVER):  # a nudge, not the leader's minute re-read
                while len({s.chat_id for s in to_groups(sent, marker)}) < groups:
                    await asyncio.sleep(0.05)
            assert time.monotonic() - pressed < TAKEOVER
        finally:
            for instance in instances:
                await instance.stop()
    assert {s.instance for s in sent if s.chat_id == str(SECRETARY["id"]) and marker in s.text} >= {"b"}
    assert {s.instance for s in to_groups(sent, marker)} == {"a"}
    assert len(to_groups(sent, marker)) == groups
