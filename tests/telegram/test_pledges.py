"""On Telegram (the fake Bot API server): a contact records a pledge, gets the round's request,
answers with a button and a note and is not chased; the secretary's report arrives as text and a
photo; an administrator imports pledges by sending a file."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from storage import organisations, pledges
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram, private_chat
from tests.meetings.conftest import make_member, make_secretary
from tests.telegram.conftest import ANA, JOHN, LUCIA, running


def button(message: dict, label: str) -> str:
    """The callback data of the inline button labelled ``label``."""
    for row in message["reply_markup"]["inline_keyboard"]:
        for key in row:
            if key["text"] == label:
                return key["callback_data"]
    raise AssertionError(f"no button {label!r} in {message['reply_markup']}")


async def member(app: App) -> None:
    await make_member(app, f"telegram:{ANA['id']}", "Red Ana", ["WT3"], at=app.services.clock.now())
    await make_secretary(app, f"telegram:{JOHN['id']}", "WT3")


async def test_a_pledge_round_on_telegram(fake: FakeTelegram, sqlite_url: str, clock: FakeClock) -> None:
    async with running(fake, sqlite_url, clock) as telegram:
        await member(telegram.app)
        ana = private_chat(ANA)
        for line in ("/compromiso nuevo", "Albergues seguros", "10 y 23", "Tres albergues en la frontera"):
            await telegram.say(ana, ANA, line)
        link_question = telegram.bot.sent(ANA["id"])[-1]
        (again,) = await telegram.say(ana, ANA, "no es un enlace")
        assert "https://" in again["text"]
        saved = await telegram.press(ANA, link_question, button(link_question, "Omitir"))
        assert "Guardado: compromiso 1" in saved[0]["text"]

        before = len(telegram.bot.sent(ANA["id"]))
        await telegram.say(private_chat(JOHN), JOHN, "/pledges request WT3")
        await telegram.fake.wait_for(lambda: len(telegram.bot.sent(ANA["id"])) > before)
        request = telegram.bot.sent(ANA["id"])[-1]
        assert "Ronda de informes de compromisos" in request["text"] and "Albergues seguros" in request["text"]
        (note,) = await telegram.press(ANA, request, button(request, "en curso"))
        assert button(note, "Omitir")
        (done,) = await telegram.say(ana, ANA, "Dos abiertos")
        assert "Registrado: el compromiso 1 está en curso." in done["text"]

        before = len(telegram.bot.sent(ANA["id"]))
        clock.advance(timedelta(days=15))
        await telegram.app.sender.run_due()
        assert len(telegram.bot.sent(ANA["id"])) == before, "a contact who answered is not chased"

        answer = await telegram.say(private_chat(JOHN), JOHN, "/pledges report WT3")
        assert "Organisations that reported: 1 of 1." in answer[0]["text"]
        (photo,) = telegram.bot.requests("sendPhoto")
        assert photo.ok and photo.files["photo"].content.startswith(b"\x89PNG")


async def test_an_admin_imports_pledges_by_sending_a_file(fake: FakeTelegram, sqlite_url: str, clock: FakeClock) -> None:
    async with running(fake, sqlite_url, clock, bot_admins=frozenset({f"telegram:{LUCIA['id']}"})) as telegram:
        await member(telegram.app)
        telegram.bot.add_chat(private_chat(LUCIA))
        message = telegram.bot.document(
            LUCIA, "compromisos.csv", "organization,title,objectives\nRed Ana,Rutas seguras,trata\n".encode(), "text/csv"
        )
        await telegram.handled(LUCIA["id"], message["message_id"])
        assert "Importados 1 compromisos" in telegram.bot.sent(LUCIA["id"])[-1]["text"]
        refused = telegram.bot.document(ANA, "mine.csv", b"organisation,title,objectives\n", "text/csv")
        await telegram.handled(ANA["id"], refused["message_id"])
        assert "Lo siento" in telegram.bot.sent(ANA["id"])[-1]["text"]
        async with telegram.app.db.transaction() as session:
            (organisation,) = await organisations.same_name(session, "Red Ana")
            assert [p.title for p in await pledges.pledges_of(session, organisation.id)] == ["Rutas seguras"]
