"""Admins appoint and remove secretaries, by platform id or by a seen @username, in either language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.markup import plain
from handlers.message import Address, Message, User
from storage import audit, deliveries, roles
from storage.deliveries import DeliveryRecord
from tests.registration.conftest import text_of, to_user


async def secretaries(app: App, table: str) -> list[str]:
    async with app.db.transaction() as session:
        return await roles.secretaries(session, table)


@pytest.mark.parametrize(
    "text",
    [
        "/secretary add WT2 console:sec",
        "/secretaria agregar WT2 console:sec",
        "/secretary agregar 2 console:sec",
        "/secretaria add console:sec mesa2",
        "/Secretaría Añadir wt2 console:sec",
    ],
)
async def test_add_in_either_language_and_word_order(app: App, console: ConsoleAdapter, text: str) -> None:
    replies = await console.ask(text, user_id="admin")
    assert await secretaries(app, "WT2") == ["console:sec"], text_of(replies)
    [notice] = to_user(replies, "sec")
    assert "WT2" in text_of([notice]) and "/pendientes" in text_of([notice])


async def test_add_list_remove_and_audit(app: App, console: ConsoleAdapter) -> None:
    await console.ask("/secretaria agregar WT1 telegram:12345", user_id="admin")
    await console.ask("/secretaria agregar WT1 matrix:@ana:example.org", user_id="admin")
    await console.ask("/secretary add LT @lu:example.org", user_id="admin")
    again = text_of(await console.ask("/secretaria agregar WT1 telegram:12345", user_id="admin"))
    assert "ya forma parte de la secretaría" in again
    listing = text_of(await console.ask("/secretaria lista", user_id="admin"))
    assert "WT1: matrix:@ana:example.org; telegram:12345" in listing
    assert "LT: matrix:@lu:example.org" in listing and "WT4: todavía ninguna" in listing
    assert "WT1:" in text_of(await console.ask("/secretary list WT1", user_id="admin"))
    removed = await console.ask("/secretary remove WT1 telegram:12345", user_id="admin")
    assert "no longer secretary of WT1" in text_of(to_user(removed, "admin"))
    assert await secretaries(app, "WT1") == ["matrix:@ana:example.org"]
    assert "no formaba parte de la secretaría" in text_of(
        await console.ask("/secretaria quitar WT1 telegram:12345", user_id="admin")
    )
    async with app.db.transaction() as session:
        actions = [(e.action, e.subject, e.actor) for e in await audit.recent(session)]
    assert actions[0] == ("secretary.remove", "WT1 telegram:12345", "console:admin")
    assert ("secretary.add", "WT1 matrix:@ana:example.org", "console:admin") in actions
    assert len(actions) == 4


async def test_by_username_the_bot_has_seen(app: App, console: ConsoleAdapter) -> None:
    ana = User("telegram", "555", "Ana Pérez", username="Ana_P")
    await app.core.handle(Message(Address("telegram", chat_id="555"), ana, "/ayuda", private=True))
    replies = await console.ask("/secretary add WT3 @ana_p", user_id="admin")
    assert await secretaries(app, "WT3") == ["telegram:555"]
    assert "Ana Pérez (@ana_p) is now secretary of WT3" in text_of(replies)
    async with app.db.transaction() as session:
        [notice] = await deliveries.notices_of(session, "message")
        [delivery] = await session.scalars(select(DeliveryRecord))
    assert "Ahora formas parte de la secretaría de WT3" in plain(notice.payload["html"])
    assert (delivery.platform, delivery.chat_id, delivery.status) == ("telegram", "555", "pending")
    unknown = text_of(await console.ask("/secretary add WT3 @nobody", user_id="admin"))
    assert "I have not seen @nobody yet" in unknown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/secretaria", "Ejemplos: /secretaria agregar WT2 telegram:12345"),
        ("/secretaria nombrar WT2 console:x", "Ejemplos:"),
        ("/secretaria agregar WT9 console:x", "No conozco la mesa «WT9»"),
        ("/secretaria agregar WT2", "Ejemplos:"),
        ("/secretaria agregar WT2 facebook:123", "no es una persona a la que pueda escribir"),
        ("/secretaria agregar WT2 telegram:ana", "no es una persona a la que pueda escribir"),
        ("/secretaria lista WT9", "No conozco la mesa «WT9»"),
    ],
)
async def test_bad_secretary_commands(app: App, console: ConsoleAdapter, text: str, expected: str) -> None:
    assert expected in text_of(await console.ask(text, user_id="admin"))
    assert await secretaries(app, "WT2") == []


async def test_a_person_learns_their_id_as_bot_admins_expects_it(app: App, console: ConsoleAdapter) -> None:
    """Issue 12 item 13: the id to put in BOT_ADMINS, without reading the log."""
    for command, example in (("/mi_id", "/secretaria agregar WT2 console:ana"), ("/id", "/secretary add WT2 console:ana")):
        [reply] = await console.ask(command, user_id="ana")
        assert "<code>console:ana</code>" in reply.html
        assert "BOT_ADMINS" in reply.html and example in text_of([reply])
    message = Message(Address("telegram", chat_id="-100"), User("telegram", "12345", name="Ana"), "/id", private=False)
    [group_reply] = await app.core.handle(message)
    assert "<code>telegram:12345</code>" in group_reply.html
    [admin_reply] = await console.ask("/id", user_id="admin")
    assert f"<code>{next(iter(app.settings.bot_admins))}</code>" in admin_reply.html  # the very form BOT_ADMINS holds
