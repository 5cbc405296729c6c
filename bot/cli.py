"""``gcmbot``: run the bot, answer questions from the shell, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

from bot.app import App
from bot.config import Settings
from handlers.markup import plain
from handlers.i18n import use_locale
from handlers.message import Address, Answer, Attachment, Message, Reply, User
from handlers.pledge_import import import_file

ASK_CHAT = Address("console", chat_id="ask")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gcmbot", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start every configured adapter (the console when none is)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    ask = sub.add_parser("ask", help="answer one message as the bot would in a private chat")
    ask.add_argument("--lang", choices=("es", "en"), help="the chat's language (else detected)")
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
    logging.basicConfig(
        level=logging.WARNING if args.command == "ask" else settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for chatty in ("apscheduler", "alembic", "httpx"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    if args.command == "run":
        asyncio.run(_run(settings))
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "pledges":
        return asyncio.run(_import_pledges(settings, args.file))
    else:
        text = " ".join(args.text)
        lines = (line.rstrip("\n") for line in sys.stdin) if text == "-" else [text]
        asyncio.run(_ask(settings, lines, args.lang, args.json, one_line=text == "-"))
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
        logging.getLogger(__name__).info("stopped")


async def _migrate(settings: Settings) -> None:
    app = App(settings)
    await app.start()
    await app.close()


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
                print(await import_file(session, Attachment(path.name, content, ""), "cli", app.core.clock.now()))
    finally:
        await app.close()
    return 0


async def _ask(
    settings: Settings, lines: Iterable[str], lang: str | None, as_json: bool, *, one_line: bool
) -> None:
    app = App(settings)
    await app.start()
    try:
        user = User("console", "ask", name="ask")
        await app.core.remember(Message(ASK_CHAT, user, "", private=True))
        await app.core.update_chat(ASK_CHAT, language=lang)
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
