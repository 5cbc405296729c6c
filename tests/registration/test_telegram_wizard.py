"""The registration wizard on Telegram: real python-telegram-bot against the fake Bot API server.

From a group to the private chat by the deep link, answers typed and pressed, the secretary's
Approve button, and the outcome in the applicant's language."""

from __future__ import annotations

from typing import Any

from handlers.message import Address, Message, User
from storage import organisations
from tests.fakes.telegram_api import private_chat
from tests.telegram import conftest as telegram_fixtures
from tests.telegram.conftest import ANA, BOT_USERNAME, GROUP, JOHN, Telegram

fake, telegram = telegram_fixtures.fake, telegram_fixtures.telegram


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """An inline keyboard as label -> callback data (or URL)."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b.get("callback_data") or b.get("url") for row in rows for b in row}


async def appoint(telegram: Telegram, user: dict[str, Any], table: str) -> None:
    admin = Message(
        Address("console", chat_id="admin"),
        User("console", "admin"),
        f"/secretary add {table} telegram:{user['id']}",
        private=True,
    )
    await telegram.app.core.handle(admin)


async def test_wizard_on_telegram_from_group_to_approval(telegram: Telegram) -> None:
    await telegram.say(private_chat(JOHN), JOHN, "/start")
    await appoint(telegram, JOHN, "WT1")

    [invitation] = await telegram.say(GROUP, ANA, f"/registro@{BOT_USERNAME}")
    [link] = [url for url in buttons(invitation).values() if url and url.startswith("https://t.me/")]
    assert link == f"https://t.me/{BOT_USERNAME}?start=register"

    chat = private_chat(ANA)
    [first] = await telegram.say(chat, ANA, "/start register")
    assert "Pregunta 1 de 7" in first["text"]
    [country] = await telegram.say(chat, ANA, "Red Migrante Sin Fronteras")
    assert buttons(country)["México"] == "México"
    [kind] = await telegram.press(ANA, country, "México")
    assert "Pregunta 3 de 7" in kind["text"]
    [tables] = await telegram.press(
        ANA, kind, buttons(kind)["Organización de personas migrantes o de la diáspora"]
    )
    [toggled] = await telegram.press(ANA, tables, "+WT1")
    assert "✓ WT1" in buttons(toggled)
    [toggled] = await telegram.press(ANA, toggled, "+WT3")
    [contact] = await telegram.press(ANA, toggled, buttons(toggled)["Listo"])
    assert "Pregunta 5 de 7" in contact["text"] and "Ana Pérez" in buttons(contact)
    [email] = await telegram.press(ANA, contact, "Ana Pérez")
    [wrong] = await telegram.say(chat, ANA, "ana.example.org")
    assert "le falta una @" in wrong["text"]
    [consent] = await telegram.say(chat, ANA, "ana@example.org")
    [summary] = await telegram.press(ANA, consent, buttons(consent)["Sí, acepto"])
    assert "Revisa y luego confirma" in summary["text"] and buttons(summary)["Cambiar país"] == "/atras pais"
    before = len(telegram.bot.sent(JOHN["id"]))
    [thanks] = await telegram.press(ANA, summary, buttons(summary)["Confirmar"])
    assert "¡Gracias! Red Migrante Sin Fronteras quedó registrada" in thanks["text"]
    assert "Todavía no hay secretaría para WT3" in thanks["text"]

    [card] = await telegram.fake.wait_for(lambda: telegram.bot.sent(JOHN["id"])[before:])  # through the outbox
    assert "Request #1: Red Migrante Sin Fronteras asks to join WT1" in card["text"]
    assert buttons(card) == {"Approve #1": "/approve 1", "Reject #1": "/reject 1"}
    [done] = await telegram.press(JOHN, card, "/approve 1")
    assert "Approved: Red Migrante Sin Fronteras is now a member of WT1." in done["text"]
    welcome = await telegram.fake.wait_for(lambda: telegram.bot.sent(ANA["id"])[-1]["text"].startswith("¡Te") and telegram.bot.sent(ANA["id"])[-1])
    assert welcome["text"].startswith("¡Te damos la bienvenida! Red Migrante Sin Fronteras ya es miembro de WT1")
    async with telegram.app.db.transaction() as session:
        contacts = await organisations.member_contacts(session)
    assert contacts == [
        organisations.MemberContact(f"telegram:{ANA['id']}", "es", "Red Migrante Sin Fronteras")
    ]
