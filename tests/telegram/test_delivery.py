"""Sending on Telegram: formatting, long messages, files, buttons, and every kind of failure."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta

import pytest

from bot.adapters.base import Status
from bot.adapters.telegram_render import MAX_TEXT
from bot.delivery import RetryPolicy
from handlers.markup import split_html, visible_length
from handlers.i18n import _, use_locale
from handlers.markup import esc
from handlers.message import Address, Attachment, Button, Reply
from storage import chats
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram, RateLimits, make_user, private_chat
from tests.telegram.conftest import ANA, BOT_USERNAME, GROUP, JOHN, TOKEN, Telegram, running, shown

GROUP_ADDRESS = Address("telegram", chat_id=str(GROUP["id"]))


def to(user: dict) -> Address:
    return Address("telegram", chat_id=str(user["id"]))


async def is_active(telegram: Telegram, chat_id: int) -> bool:
    async with telegram.app.db.transaction() as session:
        row = await chats.get_chat(session, "telegram", str(chat_id))
    assert row is not None
    return row.active


async def test_flood_wait_is_honoured_then_delivered(telegram: Telegram) -> None:
    telegram.bot.fail(429, method="sendMessage", retry_after=1)

    sent = await telegram.say(private_chat(ANA), ANA, "/objetivo 10")

    assert [c.status for c in telegram.bot.requests("sendMessage")] == [429, 200]
    (reply,) = await telegram.expected("/objetivo 10", "es")
    assert [m["text"] for m in sent] == [shown(reply.html)]


async def test_server_errors_are_retried_by_the_sender_then_given_up(telegram: Telegram) -> None:
    await telegram.say(private_chat(ANA), ANA, "/start")
    telegram.app.sender.reply_retry = RetryPolicy(
        first=timedelta(milliseconds=10), cap=timedelta(milliseconds=40), patience=timedelta(seconds=1)
    )
    telegram.bot.fail(500, method="sendMessage", count=2)
    delivered = await telegram.app.deliver(Reply("uno", to=to(ANA)))
    assert delivered.status is Status.SENT
    assert telegram.bot.sent(ANA["id"])[-1]["text"] == "uno"
    assert [c.status for c in telegram.bot.requests("sendMessage")][-3:] == [500, 500, 200]

    telegram.bot.fail(502, method="sendMessage", count=1000)
    calls = len(telegram.bot.requests("sendMessage"))
    once = await telegram.adapter.send(Reply("dos", to=to(ANA)))
    assert once.status is Status.RETRY and len(telegram.bot.requests("sendMessage")) == calls + 1, "one attempt"
    retry_later = await telegram.app.deliver(Reply("dos", to=to(ANA)))
    assert retry_later.status is Status.RETRY
    assert len(telegram.bot.requests("sendMessage")) >= calls + 4  # the sender tried again, then gave up
    assert {c.status for c in telegram.bot.requests("sendMessage")[calls:]} == {502}


async def test_a_retry_goes_on_from_the_part_that_failed(telegram: Telegram) -> None:
    await telegram.say(private_chat(ANA), ANA, "/start")
    telegram.app.sender.reply_retry = RetryPolicy(
        first=timedelta(milliseconds=10), cap=timedelta(milliseconds=10), patience=timedelta(seconds=5)
    )
    telegram.bot.fail(502, method="sendDocument")
    reply = Reply("El calendario:", to=to(ANA), attachment=Attachment("reuniones.ics", b"BEGIN:VCALENDAR", "text/calendar"))

    delivery = await telegram.app.deliver(reply)

    assert delivery.status is Status.SENT
    assert [c.status for c in telegram.bot.requests("sendDocument")] == [502, 200]
    assert [m.get("text") for m in telegram.bot.sent(ANA["id"])].count("El calendario:") == 1


async def test_rejected_message_fails_without_retrying(telegram: Telegram) -> None:
    await telegram.say(private_chat(ANA), ANA, "/start")
    calls = len(telegram.bot.calls)

    delivery = await telegram.app.deliver(Reply("<b>sin cerrar", to=to(ANA)))

    assert delivery.status is Status.FAILED and "can't parse entities" in delivery.error.lower()
    assert len(telegram.bot.calls) == calls + 1
    assert await is_active(telegram, ANA["id"])


async def test_blocked_bot_marks_the_chat_inactive(telegram: Telegram) -> None:
    await telegram.say(private_chat(ANA), ANA, "/start")
    await telegram.say(GROUP, JOHN, "/tables")
    telegram.bot.block(ANA["id"])
    telegram.bot.block(GROUP["id"], "Forbidden: bot was kicked from the supergroup chat")

    reminder = await telegram.app.deliver(Reply("Recordatorio", to=to(ANA)))
    await telegram.say(GROUP, JOHN, "/tables")

    assert reminder.status is Status.BLOCKED and "blocked" in reminder.error
    assert not await is_active(telegram, ANA["id"])
    assert not await is_active(telegram, GROUP["id"])
    assert [c.status for c in telegram.bot.requests("sendMessage", chat_id=GROUP["id"])] == [200, 403]


async def test_someone_who_never_started_the_bot_cannot_be_written_to(telegram: Telegram) -> None:
    await telegram.say(GROUP, JOHN, "/tables")

    delivery = await telegram.app.deliver(Reply("Hola", to=Address("telegram", user_id=str(JOHN["id"]))))
    await telegram.say(private_chat(JOHN), JOHN, "/start")
    second = await telegram.app.deliver(Reply("Hello again", to=Address("telegram", user_id=str(JOHN["id"]))))

    assert delivery.status is Status.BLOCKED
    assert second.status is Status.SENT
    assert telegram.bot.sent(JOHN["id"])[-1]["text"] == "Hello again"
    assert second.message_id == str(telegram.bot.sent(JOHN["id"])[-1]["message_id"])


async def test_long_reply_is_split_cleanly(telegram: Telegram) -> None:
    asked = telegram.bot.group(GROUP, ANA, "¿Nos mandas el resumen completo?")
    paragraphs = [f"<b>{i}. {esc('Título & <más>')}</b>\n" + "palabra " * 120 for i in range(40)]
    paragraphs.insert(20, "<pre>" + "\n".join("línea de código " * 3 for _ in range(200)) + "</pre>")
    markup = "\n\n".join(p.strip() for p in paragraphs)
    buttons = ((Button("WT2", "/mesa WT2"),),)

    delivery = await telegram.app.deliver(
        Reply(markup, to=GROUP_ADDRESS, buttons=buttons, reply_to=str(asked["message_id"]))
    )

    assert delivery.status is Status.SENT
    parts = telegram.bot.sent(GROUP["id"])
    assert len(parts) >= 8
    assert all(len(p["text"]) <= MAX_TEXT for p in parts)
    assert re.sub(r"\s+", " ", " ".join(p["text"] for p in parts)) == re.sub(r"\s+", " ", shown(markup))
    assert ["reply_markup" in p for p in parts] == [False] * (len(parts) - 1) + [True]
    assert ["reply_to_message" in p for p in parts] == [True] + [False] * (len(parts) - 1)
    assert delivery.message_id == str(parts[-1]["message_id"])
    code = [e for p in parts for e in p.get("entities", []) if e["type"] == "pre"]
    assert len(code) >= 2


@pytest.mark.parametrize(
    "markup",
    [
        "x" * 10_000,
        "&amp;" * 5_000,
        "<b>" + "😀 " * 3_000 + "</b>",
        "<a href=\"https://example.org/a?b=1&amp;c=2\">" + "enlace " * 1_000 + "</a>",
    ],
)
def test_split_never_breaks_a_tag_or_an_entity(markup: str) -> None:
    parts = split_html(markup, MAX_TEXT)

    assert len(parts) > 1
    for part in parts:
        assert visible_length(part) <= MAX_TEXT
        shown(part)  # Telegram's parser accepts every part
        assert not re.search(r"<(\w+)[^>]*></\1>", part)
    assert "".join(shown(p) for p in parts).replace(" ", "") == shown(markup).replace(" ", "")


async def test_file_with_text_and_buttons(telegram: Telegram) -> None:
    await telegram.say(private_chat(ANA), ANA, "/start")
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    reply = Reply(
        "<b>Reunión</b> de la WT2",
        to=to(ANA),
        attachment=Attachment("reunion-wt2.ics", ics, "text/calendar"),
        buttons=((Button("OK", "/ayuda"),),),
    )

    delivery = await telegram.app.deliver(reply)

    text, document = telegram.bot.sent(ANA["id"])[-2:]
    assert text["text"] == "Reunión de la WT2" and "reply_markup" not in text
    assert document["document"]["file_name"] == "reunion-wt2.ics"
    assert document["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/ayuda"
    (call,) = telegram.bot.requests("sendDocument")
    assert call.files["document"].content == ics
    assert delivery.message_id == str(document["message_id"])


async def test_continue_in_private_from_a_group(telegram: Telegram) -> None:
    await telegram.say(GROUP, JOHN, "/tables")
    await telegram.say(private_chat(ANA), ANA, "/start")
    invite = Reply("Te escribo en privado.", to=GROUP_ADDRESS, private_start="register")

    await telegram.app.deliver(invite)
    await telegram.app.services.chats.update_chat(GROUP_ADDRESS, language="en")
    await telegram.app.deliver(invite)
    await telegram.app.deliver(Reply("Aquí.", to=to(ANA), private_start="register"))

    spanish, english = (m["reply_markup"]["inline_keyboard"][-1][0] for m in telegram.bot.sent(GROUP["id"])[-2:])
    assert spanish["url"] == english["url"] == f"https://t.me/{BOT_USERNAME}?start=register"
    for button, language in ((spanish, "es"), (english, "en")):
        with use_locale(language):
            assert button["text"] == _("Continue in private chat")
    assert spanish["text"] != english["text"]
    assert "reply_markup" not in telegram.bot.sent(ANA["id"])[-1]


async def test_long_button_commands_and_expired_buttons(telegram: Telegram) -> None:
    await telegram.say(private_chat(ANA), ANA, "/start")
    long_command = "/objetivo " + "trata de personas y tráfico ilícito de migrantes " * 2
    await telegram.app.deliver(Reply("Elige:", to=to(ANA), buttons=((Button("Trata", long_command),),)))
    menu = telegram.bot.sent(ANA["id"])[-1]
    data = menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(data.encode()) <= 64 and data != long_command

    sent = await telegram.press(ANA, menu, data)
    expired = telegram.bot.press(JOHN, menu, "~cb:forgotten")
    await telegram.fake.wait_for(lambda: expired in telegram.bot.answered_callbacks)

    assert telegram.hub.handled[-1].text == long_command.strip() or telegram.hub.handled[-1].text == long_command
    expected = await telegram.expected(long_command, "es")
    assert [m["text"] for m in sent] == [shown(r.html) for r in expected]
    with use_locale("en"):
        assert telegram.bot.answered_callbacks[expired]["text"] == _(
            "This button has expired. Please send the command again."
        )
    assert all(m.sender.id != str(JOHN["id"]) for m in telegram.hub.handled)


async def test_a_failing_update_is_logged_and_the_next_is_answered(
    telegram: Telegram, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.hub.fail_on = lambda message: message.text == "boom"

    with caplog.at_level(logging.ERROR, logger="bot.adapters.telegram"):
        await telegram.say(private_chat(ANA), ANA, "boom")
        after = await telegram.say(private_chat(ANA), ANA, "/start")

    assert after
    (record,) = [r for r in caplog.records if r.name == "bot.adapters.telegram"]
    assert f"in chat {ANA['id']}" in record.getMessage() and "'boom'" in record.getMessage()
    assert record.exc_info is not None


@pytest.mark.slow  # seconds of rate-limited sending
async def test_broadcast_burst_stays_within_telegram_limits(sqlite_url: str, clock: FakeClock) -> None:
    people = [make_user(5000 + n, f"Miembro {n}") for n in range(45)]
    async with FakeTelegram(bots={TOKEN: BOT_USERNAME}, rate_limits=RateLimits()) as fake:
        for person in people:
            fake.bot(TOKEN).add_chat(private_chat(person))
        async with running(fake, sqlite_url, clock) as telegram:
            deliveries = await asyncio.gather(
                *(telegram.app.deliver(Reply(f"Aviso {n}", to=to(p))) for n, p in enumerate(people))
            )

            # The pacing keeps a burst under the limits; on a machine too loaded to keep its pace
            # a 429 can still slip through, and the sender's retry policy waits it out: every
            # message arrives, once.
            assert {d.status for d in deliveries} == {Status.SENT}
            assert telegram.bot.rate_limited <= 2
            assert sorted(m["text"] for m in telegram.bot.sent()) == sorted(f"Aviso {n}" for n in range(len(people)))
