"""One ``gcmbot run`` process on both platforms: the fake Telegram Bot API server and the test
Synapse, one SQLite database. A question on each platform, a Matrix admin appointing a Matrix
secretary, a Telegram organisation registering, the secretary approving it on Matrix and the
organisation told on Telegram; then SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nio import MegolmEvent

from handlers.basics import table_label
from handlers.i18n import _, use_locale
from handlers.knowledge import load_knowledge
from handlers.members import STAKEHOLDER_TYPES
from handlers.registration import STEPS
from tests.fakes.synapse import Account, Synapse
from tests.fakes.telegram_api import FakeBot, FakeTelegram, make_user
from tests.matrix.harness import WAIT, Member

pytestmark = [pytest.mark.slow, pytest.mark.synapse]

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
TOKEN = "5550042:AAboth-platforms_test-token"
BOT_USERNAME = "GcmBothBot"
LUCIA = make_user(4242, "Lucía", last_name="Gómez", username="lucia_g", language_code="es")
ORGANISATION = "Red Fronteras Solidarias"
STOP_WAIT = 30.0


class Gcmbot:
    """``gcmbot run`` as a process configured by its environment, its log in a file.
    Waits go through :meth:`alive`, so a bot that dies fails the test at once with its log."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, env: dict[str, str], workdir: Path) -> Gcmbot:
        log = workdir / "gcmbot.log"
        with log.open("wb") as output:  # the child keeps its own copy of the descriptor
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run",
                cwd=workdir,
                env={**os.environ, **env, "PYTHONPATH": str(REPO)},
                stdout=output,
                stderr=output,
            )
        return cls(process, log)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def alive(self, waiting: Awaitable[T]) -> T:
        """The result of ``waiting``, unless the process exits first."""
        task = asyncio.ensure_future(waiting)
        exited = asyncio.create_task(self.process.wait())
        await asyncio.wait({task, exited}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            exited.cancel()
            return task.result()
        task.cancel()
        pytest.fail(f"gcmbot run exited with {self.process.returncode}:\n{self.output()[-4000:]}")

    async def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), STOP_WAIT)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


class TelegramChat:
    """A Telegram user's private chat with the bot, on the fake server."""

    def __init__(self, fake: FakeTelegram, bot: FakeBot, user: dict[str, Any], gcmbot: Gcmbot) -> None:
        self.fake = fake
        self.bot = bot
        self.user = user
        self.gcmbot = gcmbot

    def received(self) -> list[dict[str, Any]]:
        return self.bot.sent(self.user["id"])

    async def send(self, text: str, expect: str) -> dict[str, Any]:
        """Write ``text``; the bot's next message containing ``expect`` (any, when empty)."""
        before = len(self.received())
        self.bot.private(self.user, text)
        return await self.answer(before, expect)

    async def press(self, message: dict[str, Any], label: str, expect: str) -> dict[str, Any]:
        """Press the button labelled ``label`` under the bot's ``message``."""
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        (button,) = [b for b in buttons if b["text"] == label]
        before = len(self.received())
        query = self.bot.press(self.user, message, button["callback_data"])
        await self.gcmbot.alive(self.fake.wait_for(lambda: query in self.bot.answered_callbacks, WAIT))
        return await self.answer(before, expect)

    async def answer(self, before: int, expect: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((m for m in self.received()[before:] if expect in m.get("text", "")), None)

        return await self.gcmbot.alive(self.fake.wait_for(found, WAIT))


def spanish(msgid: str, **values: object) -> str:
    with use_locale("es"):
        return _(msgid).format(**values)


def spanish_until(msgid: str, placeholder: str, **values: object) -> str:
    """The Spanish text of ``msgid`` up to ``placeholder`` (what follows it is not checked)."""
    return spanish(msgid, **values, **{placeholder: "\0"}).split("\0")[0]


def question(step: str) -> str:
    """The wizard's counter above the question of ``step``, in Spanish."""
    return spanish("Question {n} of {total}", n=STEPS.index(step) + 1, total=len(STEPS) - 1)


def bot_messages(member: Member, bot_id: str, room_id: str) -> list[Any]:
    """What the bot wrote in the room, once the member could decrypt all of it."""
    events = member.from_user(bot_id, room_id)
    return [] if any(isinstance(e, MegolmEvent) for e in events) else events


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(bots={TOKEN: BOT_USERNAME})
    await server.start()
    yield server
    await server.stop()


async def test_one_process_serves_telegram_and_matrix(
    synapse: Synapse,
    fake: FakeTelegram,
    bot_account: Account,
    people: Callable[[], Awaitable[Member]],
    bystander: Account,
    tmp_path: Path,
) -> None:
    knowledge = load_knowledge()
    admin, secretary = await people(), await people()
    telegram_bot = fake.bot(TOKEN)
    gcmbot = await Gcmbot.start(
        {
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": fake.url,
            "MATRIX_HOMESERVER": synapse.url,
            "MATRIX_USER_ID": bot_account.user_id,
            "MATRIX_PASSWORD": bot_account.password,
            "MATRIX_STORE_PATH": str(tmp_path / "matrix-store"),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gcmbot.sqlite3'}",
            "BOT_ADMINS": f"matrix:{admin.user_id}",
            "BOT_LANGUAGE": "es",
            "LOG_LEVEL": "INFO",
        },
        tmp_path,
    )
    bot_id = bot_account.user_id
    try:
        # 1. the same process answers on both platforms
        lucia = TelegramChat(fake, telegram_bot, LUCIA, gcmbot)
        await gcmbot.alive(fake.wait_for(lambda: telegram_bot.requests("getUpdates"), WAIT))
        objective = await lucia.send("/objetivo 10", expect="")
        assert knowledge.objectives[10].title("es") in objective["text"]

        group = await admin.create_room([bot_id, bystander.user_id], name="WT2 coordination")
        await gcmbot.alive(admin.until_joined(group, bot_id))
        asked = await admin.say(group, "!objective 10")
        answer = await gcmbot.alive(admin.reply_to(asked))
        assert knowledge.objectives[10].title("en") in answer.body

        # 2. the Matrix admin appoints a Matrix secretary of WT2, in a direct room
        direct = await admin.create_room([bot_id], direct=True)
        await gcmbot.alive(admin.until_joined(direct, bot_id))
        await admin.say(direct, f"!secretaria agregar WT2 matrix:{secretary.user_id}")
        await gcmbot.alive(admin.until(lambda: bot_messages(admin, bot_id, direct)))
        wt2 = table_label(knowledge.tables["WT2"])
        assert wt2 in bot_messages(admin, bot_id, direct)[0].body

        def secretary_room() -> str | None:
            rooms = {room for room, event in secretary.events if getattr(event, "sender", None) == bot_id}
            return next(iter(rooms), None)

        await gcmbot.alive(secretary.until(secretary_room))
        sec_room = secretary_room()
        assert sec_room is not None and secretary.client.rooms[sec_room].member_count == 2
        await gcmbot.alive(secretary.until(lambda: bot_messages(secretary, bot_id, sec_room)))
        assert wt2 in bot_messages(secretary, bot_id, sec_room)[0].body

        # ... a Telegram user registers an organisation in the wizard ...
        await lucia.send("/registro", expect=question("name"))
        await lucia.send(ORGANISATION, expect=question("country"))
        kinds = await lucia.send("Colombia", expect=question("type"))
        civil_society = spanish(STAKEHOLDER_TYPES["civil_society"])
        await lucia.press(kinds, civil_society, expect=question("tables"))
        await lucia.send("2", expect=question("contact"))
        await lucia.send("Lucía Gómez", expect=question("email"))
        await lucia.send("lucia@fronteras.example.org", expect=question("consent"))
        summary = await lucia.send("sí", expect=spanish("Please check, then confirm:"))
        assert ORGANISATION in summary["text"] and "WT2" in summary["text"]
        registered = spanish_until(
            "Thank you! {organisation} is registered. Your requests {requests} went to the tables' "
            "secretaries; I will write to you here when they decide. Your record: {command}.",
            "requests",
            organisation=ORGANISATION,
            command="",
        )
        thanks = await lucia.press(summary, spanish("Confirm"), expect=registered)
        found = re.search(r"#(\d+) \(WT2\)", thanks["text"])
        assert found, thanks["text"]
        request = int(found.group(1))
        unattended = spanish(
            "There is no secretary yet for {tables}: the administrators were told and will answer.", tables="WT2"
        )
        assert unattended not in thanks["text"]  # the secretary appointed on Matrix was found

        # ... the Matrix secretary gets the request in the direct room the bot opened ...
        await gcmbot.alive(secretary.until(lambda: len(bot_messages(secretary, bot_id, sec_room)) >= 2))
        card = bot_messages(secretary, bot_id, sec_room)[1].body
        title = spanish(
            "Request #{id}: {organisation} asks to join {table}", id=request, organisation=ORGANISATION, table=wt2
        )
        assert title in card and f"!aprobar {request}" in card

        # ... approves it there, and the organisation hears it on Telegram
        before = len(lucia.received())
        await secretary.say(sec_room, f"!aprobar {request}")
        await gcmbot.alive(secretary.until(lambda: len(bot_messages(secretary, bot_id, sec_room)) >= 3))
        approved = spanish(
            "Approved: {organisation} is now a member of {table}.", organisation=ORGANISATION, table="WT2"
        )
        assert approved in bot_messages(secretary, bot_id, sec_room)[2].body
        welcome = spanish_until(
            "Welcome! {organisation} is now a member of {table}. Its secretaries will write to you "
            "about the meetings. Your record: {command}.",
            "command",
            organisation=ORGANISATION,
            table=wt2,
        )
        await lucia.answer(before, expect=welcome)

        # 3. SIGTERM: a clean stop
        assert await gcmbot.stop() == 0
    finally:
        await gcmbot.kill()
    output = gcmbot.output()
    assert f"Telegram: @{BOT_USERNAME} is listening" in output
    assert " ERROR " not in output and "Traceback" not in output, output[-4000:]
