"""``gcmbot``: run the bot, answer questions from the shell, migrate, back up and restore the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bot import backup, logs
from bot.app import App
from bot.config import Settings
from bot.leadership import AlreadyRunning
from handlers.markup import plain
from handlers.i18n import LANGUAGES, use_locale
from handlers.message import Address, Answer, Attachment, Message, Reply, User
from handlers.pledge_import import import_file
from storage.db import Database

ASK_CHAT = Address("console", chat_id="ask")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gcmbot", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start every configured adapter (the console when none is)")
    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--check", action="store_true", help="only say whether it is current (exit 1 if not)")
    backup_cmd = sub.add_parser("backup", help="write the database and the Matrix store to one file, while the bot runs")
    backup_cmd.add_argument("file", type=Path)
    restore_cmd = sub.add_parser("restore", help="replace the database and the Matrix store with a backup's (bot stopped)")
    restore_cmd.add_argument("file", type=Path)
    ask = sub.add_parser(
        "ask", help="answer as the bot would in a new private chat; nothing is kept for the next ask"
    )
    ask.add_argument("--lang", choices=LANGUAGES, help="the chat's language (else detected)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument("text", nargs="+", help="the message; '-' reads one message per line from stdin")
    pledges = sub.add_parser("pledges", help="pledges on record")
    pledges_sub = pledges.add_subparsers(dest="action", required=True)
    load = pledges_sub.add_parser(
        "import", help="import pledges from a CSV or XLSX file (columns: organisation, country, title, "
        "objectives, description, link)"
    )
    load.add_argument("file", type=Path)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    console_only = not (settings.telegram_enabled or settings.matrix_enabled)
    quiet = args.command == "ask" or (args.command == "run" and console_only)
    level = settings.log_level.upper() if settings.log_level else logging.WARNING if quiet else logging.INFO
    logs.configure(level, settings.log_format)
    if args.command == "run":
        if console_only and not _has_console():
            print(
                "gcmbot: nothing to run: no platform is configured (TELEGRAM_TOKEN, or MATRIX_HOMESERVER "
                "with MATRIX_USER_ID and a password or token) and standard input is no terminal or "
                "pipe for the console.",
                file=sys.stderr,
            )
            return 2
        asyncio.run(_run(settings))
    elif args.command == "migrate":
        return asyncio.run(_check(settings) if args.check else _migrate(settings))
    elif args.command in ("backup", "restore"):
        return _backup_or_restore(settings, args.command, args.file)
    elif args.command == "pledges":
        return asyncio.run(_import_pledges(settings, args.file))
    else:
        text = " ".join(args.text)
        lines = (line.rstrip("\n") for line in sys.stdin) if text == "-" else [text]
        try:
            asyncio.run(_ask(settings, lines, args.lang, args.json, one_line=text == "-"))
        except BrokenPipeError:  # the reader stopped early (`| head`): nothing more to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


async def _run(settings: Settings) -> None:
    """Run until an adapter stops, or SIGINT/SIGTERM asks for a clean stop (a service manager's stop)."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop, task.cancel)
    try:
        await App(settings).run()
    except asyncio.CancelledError:
        await _let_cleanups_finish()
        logging.getLogger(__name__).info("stopped")
    except AlreadyRunning as error:
        print(f"gcmbot: {error}", file=sys.stderr)
        raise SystemExit(1) from None


async def _let_cleanups_finish(timeout: float = 5.0) -> None:
    """Wait (bounded) for tasks still finishing after a stop, such as a database connection
    being handed back: the end of ``asyncio.run`` would cancel them half-way."""
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if others:
        await asyncio.wait(others, timeout=timeout)


def _has_console() -> bool:
    """Whether the console has someone to talk to: a terminal, a pipe or a file on stdin.

    A service or a container started without a terminal has /dev/null (or nothing) there."""
    stdin = sys.stdin
    if stdin is None or stdin.closed:
        return False
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stdin.isatty() or not stat.S_ISCHR(mode)


async def _migrate(settings: Settings) -> int:
    app = App(settings)
    await app.start()
    await app.close()
    return 0


async def _check(settings: Settings) -> int:
    """Exit 0 when the schema is current; else 1, naming the migrations still to run."""
    db = Database(settings.database_url)
    try:
        pending = await db.pending_migrations()
    finally:
        await db.close()
    if pending:
        print(f"the database needs {len(pending)} migrations ({', '.join(pending)}): run `gcmbot migrate`")
        return 1
    print("the database schema is current")
    return 0


def _backup_or_restore(settings: Settings, command: str, file: Path) -> int:
    try:
        held = backup.backup(settings, file) if command == "backup" else backup.restore(settings, file)
    except (backup.BackupError, OSError) as error:
        print(f"gcmbot {command}: {error}", file=sys.stderr)
        return 1
    done = "written to" if command == "backup" else "restored from"
    print(f"{', '.join(held)} {done} {file}")
    if command == "restore":
        print("start the bot (or run `gcmbot migrate`) to bring the restored schema up to date")
    return 0


async def _import_pledges(settings: Settings, path: Path) -> int:
    """Import a pledge file as the command line (audited as ``cli``); 1 if the file is unreadable."""
    try:
        content = path.read_bytes()
    except OSError as error:
        print(f"cannot read {path}: {error.strerror}", file=sys.stderr)
        return 1
    app = App(settings)
    await app.start()
    try:
        with use_locale(settings.bot_language):
            async with app.db.transaction() as session:
                print(await import_file(session, Attachment(path.name, content, ""), "cli", app.services.clock.now()))
    finally:
        await app.close()
    return 0


async def _ask(
    settings: Settings, lines: Iterable[str], lang: str | None, as_json: bool, *, one_line: bool
) -> None:
    """One new conversation: a throw-away database, so no answer depends on an earlier ask."""
    with tempfile.TemporaryDirectory(prefix="gcmbot-ask-") as directory:
        database = Path(directory) / "ask.sqlite3"
        fresh = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{database}"})
        await _answer(fresh, lines, lang, as_json, one_line=one_line)


async def _answer(
    settings: Settings, lines: Iterable[str], lang: str | None, as_json: bool, *, one_line: bool
) -> None:
    app = App(settings)
    await app.start()
    try:
        user = User("console", "ask", name="ask")
        await app.services.chats.remember(Message(ASK_CHAT, user, "", private=True))
        await app.services.chats.update_chat(ASK_CHAT, language=lang)
        for line in lines:
            replies = await app.core.handle(Message(ASK_CHAT, user, line, private=True))
            print(render(replies, as_json, one_line), flush=True)
    finally:
        await app.close()


def render(replies: list[Reply], as_json: bool, one_line: bool) -> str:
    """The answer to one message: its replies' plain text, or the JSON object of the contract."""
    text = "\n\n".join(plain(r.html) for r in replies)
    if as_json:
        answer = next((r.answer for r in replies if r.answer), Answer("unknown"))
        return json.dumps(
            {
                "intent": answer.intent,
                "objectives": list(answer.objectives),
                "tables": list(answer.tables),
                "text": text,
            },
            ensure_ascii=False,
        )
    return " | ".join(line for line in text.splitlines() if line.strip()) if one_line else text


if __name__ == "__main__":
    raise SystemExit(main())
