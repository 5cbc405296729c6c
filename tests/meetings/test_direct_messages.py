"""Messages to other people go through the outbox: the appointment notice to a new secretary, a
request's card to its secretaries, the decision to the organisation's contact, the notice that an
organisation left. Each is planned with the change that causes it, survives a transient failure
and a restart, arrives once, and is reported to whoever caused it when it cannot be delivered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.base import Delivery, Status
from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.message import Address, Message, Reply, User
from storage import deliveries
from storage.deliveries import DeliveryRecord
from tests.conftest import FakeClock, make_settings
from tests.meetings.conftest import FAKE, FakePlatform, restarted, text_of
from tests.registration.conftest import ANSWERS_ES

SEC, ANA = "sec", "ana"


async def say(app: App, user: str, text: str) -> list[Reply]:
    """``user`` of the fake platform writes ``text`` in their private chat with the bot."""
    sender = User(FAKE, user, name=user.title(), username=user)
    message = Message(Address(FAKE, chat_id=user), sender, text, private=True)
    return await app.core.handle(message)


async def flush(app: App, clock: FakeClock) -> None:
    """Run the outbox until nothing is due within the hour (moving the clock to each retry)."""
    due = await app.sender.run_due()
    while due is not None and due <= clock.now() + timedelta(hours=1):
        clock.current = max(clock.current, due)
        due = await app.sender.run_due()


async def appoint(app: App, console: ConsoleAdapter) -> None:
    await console.ask(f"/secretaria agregar WT1 @{SEC}", user_id="admin")


async def register(app: App, console: ConsoleAdapter) -> None:
    for answer in ("/registro", *ANSWERS_ES):
        await say(app, ANA, answer)


async def approve(app: App, console: ConsoleAdapter) -> None:
    await say(app, SEC, "/aprobar 1")


async def leave(app: App, console: ConsoleAdapter) -> None:
    await say(app, ANA, "/salir WT1")


Step = Callable[[App, ConsoleAdapter], Awaitable[None]]
STEPS: list[tuple[Step, str, str]] = [
    (appoint, SEC, "Ahora formas parte de la secretaría de WT1"),
    (register, SEC, "Solicitud #1: Red Migrante Sin Fronteras pide unirse a WT1"),
    (approve, ANA, "Red Migrante Sin Fronteras ya es miembro de WT1"),
    (leave, SEC, "Red Migrante Sin Fronteras salió de WT1."),
]
"""Each step, who is told, and what."""


@pytest.fixture
async def people(app: App) -> None:
    """The secretary and the contact have a private chat with the bot."""
    await say(app, SEC, "hola")
    await say(app, ANA, "hola")


async def run_steps(app: App, console: ConsoleAdapter, clock: FakeClock, upto: int) -> None:
    for step, _reader, _text in STEPS[:upto]:
        await step(app, console)
        await flush(app, clock)


@pytest.mark.parametrize("index", range(len(STEPS)), ids=[step.__name__ for step, _r, _t in STEPS])
async def test_a_transient_failure_is_retried_and_the_message_arrives_once(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, people: None, index: int
) -> None:
    await run_steps(app, console, clock, index)
    step, reader, text = STEPS[index]
    fake.script[reader].append(Delivery(Status.RETRY, error="network down"))
    attempts = fake.attempts[reader]
    sent = len(fake.texts(reader))

    await step(app, console)
    assert not any(text in t for t in fake.texts(reader)), "nothing is sent inline"
    await flush(app, clock)

    arrived = [t for t in fake.texts(reader)[sent:] if text in t]
    assert len(arrived) == 1 and fake.attempts[reader] == attempts + 2
    await flush(app, clock)
    assert len([t for t in fake.texts(reader) if text in t]) == 1


async def test_the_card_keeps_its_buttons(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, people: None
) -> None:
    await run_steps(app, console, clock, 2)
    [card] = [r for r in fake.sent if "Solicitud #1" in text_of([r])]
    assert [b.command for row in card.buttons for b in row] == ["/aprobar 1", "/rechazar 1"]


async def test_a_message_is_not_kept_once_delivered(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, people: None
) -> None:
    """A card names the organisation's contact and e-mail: the outbox keeps it only until sent."""
    await run_steps(app, console, clock, 2)
    await flush(app, clock)
    async with app.db.transaction() as session:
        kept = [n.payload for n in await deliveries.notices_of(session, "message")]
    assert kept and all(payload == {} for payload in kept)


@pytest.mark.parametrize(
    ("index", "who_is_told", "report"),
    [
        (0, "admin", "No pude entregar el aviso sobre las secretarías de WT1 a Sec"),
        (1, "admin", "No pude entregar la ficha de la solicitud #1 a Sec"),
        (2, f"{FAKE}:{SEC}", "No pude entregar la respuesta a la solicitud #1 a Ana"),
    ],
    ids=["appoint", "register", "approve"],
)
async def test_an_undelivered_message_is_reported_to_whoever_caused_it(
    app: App, console: ConsoleAdapter, clock: FakeClock, fake: FakePlatform, people: None,
    index: int, who_is_told: str, report: str,
) -> None:
    await run_steps(app, console, clock, index)
    step, reader, _text = STEPS[index]
    fake.script[reader].append(Delivery(Status.BLOCKED, error="Forbidden: bot was blocked by the user"))

    await step(app, console)
    await flush(app, clock)
    await flush(app, clock)

    told = console.output.getvalue() if who_is_told == "admin" else "\n".join(fake.texts(SEC))  # type: ignore[attr-defined]
    assert told.count(report) == 1, told
    async with app.db.transaction() as session:
        statuses = [r.status for r in await session.scalars(select(DeliveryRecord)) if r.chat_id == reader]
    assert "blocked" in statuses


async def test_planned_messages_are_sent_after_a_restart(database_url: str, tmp_path: Path) -> None:
    """Planned while the platform was not running (or the bot stopped before sending): sent once
    the next start's scheduler runs. On SQLite and PostgreSQL."""
    clock = FakeClock()
    first = App(make_settings(database_url), clock=clock)
    await first.start()
    try:
        await say(first, SEC, "hola")
        console = ConsoleAdapter(first.hub, files_dir=tmp_path)
        first.add(console)
        await appoint(first, console)
        await first.sender.run_due()  # the fake platform is not running: it stays planned
    finally:
        await first.close()

    async with restarted(database_url, clock) as (second, fake):
        await second.scheduler.start()
        try:
            await second.sender.idle()
            await flush(second, clock)
        finally:
            await second.scheduler.stop()
    assert [t for t in fake.texts(SEC) if "Ahora formas parte de la secretaría de WT1" in t] != []
    assert len(fake.texts(SEC)) == 1


async def test_a_message_not_sent_in_time_is_given_up_and_reported_once(
    app: App, console: ConsoleAdapter, clock: FakeClock, people: None
) -> None:
    """The new secretary's platform is not running: past ``REMINDER_GRACE`` the notice is given
    up, and the admin who appointed them hears it once."""
    await appoint(app, console)
    await app.sender.run_due()
    clock.advance(timedelta(hours=7))
    await app.sender.run_due()
    await app.sender.run_due()

    told = console.output.getvalue()  # type: ignore[attr-defined]
    report = "No pude entregar el aviso sobre las secretarías de WT1 a Sec (@sec): no se pudo enviar a tiempo."
    assert told.count(report) == 1, told
    assert "No enviado a tiempo" not in told, "reported once, by its own report"
