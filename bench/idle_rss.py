"""Idle memory: one ``gcmbot run`` with both adapters against the bare bots of each platform.

In the same run, on the same machine: our bot (Telegram on the fake Bot API server, Matrix on a
local Synapse, SQLite, scheduler, health server), python-telegram-bot's bare echo bot
(bench/telegram_throughput.py's baseline) and matrix-nio's bare echo bot (bench/matrix_latency.py's
baseline), each in its own process. Once all are connected and settled, their resident memory
is read; the goal: ours at most 1.3 times the sum of the two bare bots.

    .venv/bin/python bench/idle_rss.py [--settle 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))

from tests.fakes.synapse import Synapse, free_port  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

GOAL = 1.3
TOKENS = {"gcmbot": "7000016:idle-gcmbot", "echo": "7000001:bench-echo-bot"}


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(json.load(answer)["ready"])
    except OSError:
        return False


def rss_mib(process: subprocess.Popen[bytes]) -> float:
    return psutil.Process(process.pid).memory_info().rss / 2**20


async def run(settle: float) -> None:
    synapse = Synapse()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        synapse.start()
        ours, bare = (synapse.register(name, displayname=name) for name in ("gcmbot", "echobot"))
        workdir = synapse.workdir
        async with FakeTelegram() as telegram:
            health = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "BOT_"))} | {
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'gcmbot.sqlite3'}",
                "TELEGRAM_TOKEN": TOKENS["gcmbot"],
                "TELEGRAM_BASE_URL": telegram.url,
                "MATRIX_HOMESERVER": synapse.url,
                "MATRIX_USER_ID": ours.user_id,
                "MATRIX_PASSWORD": ours.password,
                "MATRIX_STORE_PATH": str(workdir / "matrix-store"),
                "HEALTH_PORT": str(health),
                "LOG_LEVEL": "WARNING",
            }
            logs = {name: open(workdir / f"{name}.log", "wb") for name in ("gcmbot", "ptb", "nio")}  # noqa: SIM115
            processes["gcmbot"] = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], cwd=workdir, env=env, stdout=logs["gcmbot"], stderr=subprocess.STDOUT
            )
            processes["bare PTB"] = subprocess.Popen(
                [sys.executable, str(BENCH / "telegram_throughput.py"), "--serve", "echo", "--url", telegram.url,
                 "--token", TOKENS["echo"]],
                cwd=workdir, stdout=logs["ptb"], stderr=subprocess.STDOUT,
            )
            processes["bare nio"] = subprocess.Popen(
                [sys.executable, str(BENCH / "matrix_latency.py"), "--echo", synapse.url, bare.user_id,
                 bare.access_token, bare.device_id],
                cwd=workdir, stdout=logs["nio"], stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 120
            echo = telegram.bot(TOKENS["echo"])
            while not (await asyncio.to_thread(ready, health) and echo.requests("getUpdates")):
                if time.monotonic() > deadline:
                    raise SystemExit(f"the bots did not connect; see {workdir}/*.log")
                await asyncio.sleep(0.5)
            await asyncio.sleep(settle)
            rss = {name: rss_mib(process) for name, process in processes.items()}
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                process.wait(timeout=30)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
        synapse.close()

    bare_sum = rss["bare PTB"] + rss["bare nio"]
    print(f"Idle RSS, {settle:.0f} s after connecting (Telegram: fake Bot API server; Matrix: local Synapse)")
    for name, value in rss.items():
        print(f"  {name:<28} {value:7.1f} MiB")
    print(f"  {'bare PTB + bare nio':<28} {bare_sum:7.1f} MiB")
    ratio = rss["gcmbot"] / bare_sum
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"  ratio gcmbot / (PTB + nio)   {ratio:7.2f}  ({verdict} the goal of at most {GOAL})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait after connecting")
    asyncio.run(run(parser.parse_args().settle))


if __name__ == "__main__":
    main()
