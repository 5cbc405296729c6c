"""Telegram throughput: our whole bot against a bare python-telegram-bot echo bot.

Both run in their own process against the same local fake Bot API server (this process), on
the same updates: private messages from many members, commands and free-text questions in
Spanish and English, each answered with one message. Our bot is App + TelegramAdapter on a
temporary SQLite database, with Telegram's flood limits off (they would cap both at 30 messages
a second); the echo bot is python-telegram-bot's example, defaults and all.
Rounds alternate between the two so both see the same machine load; the medians are compared.

    .venv/bin/python bench/telegram_throughput.py [--updates 2000] [--chats 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakes.telegram_api import FakeTelegram, make_user  # noqa: E402

GOAL = 1.0
MESSAGES = (
    "/objetivo 10",
    "/mesa 2",
    "/objective 5",
    "/table WT3",
    "¿Qué mesa trabaja sobre la trata de personas?",
    "Which table works on human trafficking?",
    "/ayuda",
    "¿Cuándo se reúnen las mesas?",
)
TOKENS = {"echo": "7000001:bench-echo-bot", "gcmbot": "7000002:bench-gcmbot"}


# -- the bots, each in its own process -------------------------------------------------------


def serve_echo(url: str, token: str) -> None:
    """The bare echo bot of python-telegram-bot's examples."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application = ApplicationBuilder().token(token).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot").build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(stop_signals=(signal.SIGTERM, signal.SIGINT))


def serve_gcmbot(url: str, token: str, database: str) -> None:
    """The bot as ``gcmbot run`` starts it (scheduler included), Telegram's flood limits off."""
    from bot.adapters.telegram import TelegramAdapter
    from bot.app import App
    from bot.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database, telegram_token=token, telegram_base_url=url
    )
    app = App(settings)
    app.configured_adapters = lambda: [TelegramAdapter(settings, flood_limits=False)]  # type: ignore[method-assign]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(app.run())


# -- the measurement ---------------------------------------------------------------------


class BotProcess:
    """One bot in its own process, polling the fake server under its own token."""

    def __init__(self, fake: FakeTelegram, kind: str, database: str) -> None:
        self.kind = kind
        self.bot = fake.bot(TOKENS[kind], f"bench_{kind}_bot")
        self.command = [sys.executable, __file__, "--serve", kind, "--url", fake.url, "--token", TOKENS[kind]]
        self.command += ["--database", database]
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(*self.command, cwd=REPO)
        await self.bot.server.wait_for(lambda: self.bot.requests("getUpdates"), timeout=60)

    def rss(self) -> int:
        assert self.process is not None
        return psutil.Process(self.process.pid).memory_info().rss

    def cpu_seconds(self) -> float:
        """User and system CPU time of the bot process (its threads included)."""
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            await self.process.wait()

    async def exchange(self, traffic: list[tuple[dict, str]]) -> tuple[float, float]:
        """Inject the messages, wait until each has its one answer: updates per second, and
        the bot's CPU milliseconds per update."""
        bot = self.bot
        target = len(bot.delivered) + len(traffic)
        cpu = self.cpu_seconds()
        started = time.perf_counter()
        for user, text in traffic:
            bot.private(user, text)
        await bot.server.wait_for(lambda: len(bot.delivered) >= target, timeout=600)
        rate = len(traffic) / (time.perf_counter() - started)
        cpu_ms = (self.cpu_seconds() - cpu) * 1000 / len(traffic)
        errors = [c for c in bot.calls if c.status not in (0, 200)]
        if errors:
            raise SystemExit(f"the Bot API refused {len(errors)} calls of {self.kind}, e.g. {errors[0].error}")
        return rate, cpu_ms


async def main(updates: int, chats: int, rounds: int) -> None:
    users = [make_user(100_000 + n, f"Member {n}", language_code=("es", "en")[n % 2]) for n in range(chats)]
    warm_up = [(u, MESSAGES[n % len(MESSAGES)]) for n, u in enumerate(users)]
    traffic = [(users[n % chats], MESSAGES[(n // chats) % len(MESSAGES)]) for n in range(updates)]
    async with FakeTelegram() as fake:
        with tempfile.TemporaryDirectory() as tmp:
            bots = [BotProcess(fake, kind, f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}") for kind in TOKENS]
            try:
                for bot in bots:
                    await bot.start()
                await asyncio.sleep(1)  # settle: both bots idle, waiting in their long poll
                rss = {bot.kind: bot.rss() for bot in bots}
                for bot in bots:
                    await bot.exchange(warm_up)
                rates: dict[str, list[float]] = {bot.kind: [] for bot in bots}
                cpu: dict[str, list[float]] = {bot.kind: [] for bot in bots}
                for _round in range(rounds):  # alternated, so both see the same machine load
                    for bot in bots:
                        rate, cpu_ms = await bot.exchange(traffic)
                        rates[bot.kind].append(rate)
                        cpu[bot.kind].append(cpu_ms)
            finally:
                for bot in bots:
                    await bot.stop()
    median = {kind: statistics.median(values) for kind, values in rates.items()}
    cpu_median = {kind: statistics.median(values) for kind, values in cpu.items()}
    print(f"Telegram throughput: {updates} updates from {chats} private chats over HTTP to a fake Bot API")
    print(f"server; median of {rounds} alternated rounds; idle RSS measured before any traffic")
    for kind, label in (("echo", "bare PTB echo bot"), ("gcmbot", "gcmbot (App + adapter)")):
        rounds_text = ", ".join(f"{rate:.0f}" for rate in rates[kind])
        print(
            f"  {label:<24} {median[kind]:7.1f} updates/s (rounds: {rounds_text})"
            f"  CPU {cpu_median[kind]:5.2f} ms/update  idle RSS {rss[kind] / 2**20:6.1f} MiB"
        )
    print(f"  ratio gcmbot / echo      {median['gcmbot'] / median['echo']:7.2f}   (goal >= {GOAL})")
    print(f"  CPU per update, gcmbot / echo {cpu_median['gcmbot'] / cpu_median['echo']:5.2f}")
    print(f"  idle RSS, gcmbot / echo       {rss['gcmbot'] / rss['echo']:5.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=TOKENS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "echo":
        serve_echo(args.url, args.token)
    elif args.serve == "gcmbot":
        serve_gcmbot(args.url, args.token, args.database)
    else:
        asyncio.run(main(args.updates, args.chats, args.rounds))
