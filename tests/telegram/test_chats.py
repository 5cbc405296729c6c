"""End to end on Telegram: what members write in private chats and groups, and what they get."""

from __future__ import annotations

import time

from handlers.i18n import normalize_language
from storage import chats
from tests.fakes.telegram_api import private_chat
from tests.telegram.conftest import ANA, BOT_USERNAME, GROUP, JOHN, LUCIA, Telegram, shown


def keyboard(message: dict) -> list[list[dict]]:
    return message.get("reply_markup", {}).get("inline_keyboard", [])


async def test_start_in_private_in_each_language(telegram: Telegram) -> None:
    spanish = await telegram.say(private_chat(ANA), ANA, "/start")
    english = await telegram.say(private_chat(JOHN), JOHN, "/start")

    for sent, user in ((spanish, ANA), (english, JOHN)):
        (reply,) = await telegram.expected("/start", normalize_language(user["language_code"]))
        assert [m["text"] for m in sent] == [shown(reply.html)]
        assert "reply_to_message" not in sent[0]
    assert spanish[0]["text"] != english[0]["text"]


async def test_objective_card_with_its_buttons(telegram: Telegram) -> None:
    (sent,) = await telegram.say(private_chat(ANA), ANA, "/objetivo 10")

    (reply,) = await telegram.expected("/objetivo 10", "es")
    assert sent["text"] == shown(reply.html)
    assert any(e["type"] == "bold" for e in sent["entities"])
    assert [[b["text"] for b in row] for row in keyboard(sent)] == [[b.label for b in row] for row in reply.buttons]
    assert [[b["callback_data"] for b in row] for row in keyboard(sent)] == [
        [b.command for b in row] for row in reply.buttons
    ]
    call = telegram.bot.requests("sendMessage", chat_id=ANA["id"])[-1]
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"] == reply.html


async def test_free_text_questions_in_both_languages(telegram: Telegram) -> None:
    questions = {
        "es": "¿Qué mesa trabaja sobre la trata de personas?",
        "en": "Which table works on human trafficking?",
    }
    answers = {}
    for (language, question), user in zip(questions.items(), (LUCIA, JOHN), strict=True):
        sent = await telegram.say(private_chat(user), user, question)
        expected = await telegram.expected(question, normalize_language(user["language_code"]))
        assert [m["text"] for m in sent] == [shown(r.html) for r in expected]
        answers[language] = sent[0]["text"]
    assert answers["es"] != answers["en"]


async def test_group_command_is_answered_as_a_reply(telegram: Telegram) -> None:
    sent = await telegram.say(GROUP, JOHN, "/mesa 2")

    expected = await telegram.expected("/mesa 2", "en", private=False)
    assert [m["text"] for m in sent] == [shown(r.html) for r in expected]
    asked = telegram.bot.messages[(GROUP["id"], sent[0]["reply_to_message"]["message_id"])]
    assert asked["text"] == "/mesa 2" and asked["from"]["id"] == JOHN["id"]


async def test_group_command_addressed_to_this_bot_or_to_another(telegram: Telegram) -> None:
    assert await telegram.ignored(GROUP, ANA, "/objetivo@OtherHelperBot 10")
    sent = await telegram.say(GROUP, ANA, f"/objetivo@{BOT_USERNAME} 10")

    (reply,) = await telegram.expected("/objetivo 10", "es", private=False)
    assert [m["text"] for m in sent] == [shown(reply.html)]
    assert telegram.hub.handled[-1].text == f"/objetivo@{BOT_USERNAME} 10"


async def test_group_chatter_is_ignored_but_mentions_and_replies_are_answered(telegram: Telegram) -> None:
    chatter = telegram.bot.group(GROUP, ANA, "¿Alguien tiene el acta de la reunión de ayer?")
    mention = await telegram.say(GROUP, JOHN, f"@{BOT_USERNAME}, which table works on human trafficking?")

    # Updates of one chat are handled in order: the chatter was seen and not answered.
    assert [m["reply_to_message"]["message_id"] for m in telegram.bot.sent(GROUP["id"])] == [
        mention[0]["reply_to_message"]["message_id"]
    ]
    assert str(chatter["message_id"]) not in {m.message_id for m in telegram.hub.handled}
    assert telegram.hub.handled[-1].text == "which table works on human trafficking?"
    expected = await telegram.expected("which table works on human trafficking?", "en", private=False)
    assert [m["text"] for m in mention] == [shown(r.html) for r in expected]

    followup = await telegram.say(GROUP, ANA, "¿y la trata de personas?", reply_to=mention[0])
    assert followup and followup[0]["reply_to_message"]["text"] == "¿y la trata de personas?"

    assert await telegram.ignored(GROUP, JOHN, "thanks!", reply_to=chatter)
    assert await telegram.ignored(GROUP, JOHN, "!objetivo 10")


async def test_group_member_language_and_sender_are_passed_on(telegram: Telegram) -> None:
    await telegram.say(GROUP, LUCIA, f"/ayuda@{BOT_USERNAME}")

    message = telegram.hub.handled[-1]
    assert message.private is False
    assert message.chat.chat_id == str(GROUP["id"]) and message.chat_title == GROUP["title"]
    assert (message.sender.key, message.sender.name, message.sender.language_code) == (
        f"telegram:{LUCIA['id']}", "Lucía", "es-419"
    )
    async with telegram.app.db.transaction() as session:
        row = await chats.get_chat(session, "telegram", str(GROUP["id"]))
    assert row is not None and row.private is False and row.title == GROUP["title"]


async def test_button_press_is_answered_and_handled_like_a_typed_command(telegram: Telegram) -> None:
    (card,) = await telegram.say(GROUP, ANA, "/objetivo 10")
    data = keyboard(card)[0][0]["callback_data"]

    sent = await telegram.press(JOHN, card, data)

    (answer,) = telegram.bot.requests("answerCallbackQuery")
    assert answer.ok and "text" not in answer.params
    pressed = telegram.hub.handled[-1]
    assert (pressed.text, pressed.sender.id, pressed.private) == (data, str(JOHN["id"]), False)
    expected = await telegram.expected(data, "en", private=False)
    assert [m["text"] for m in sent] == [shown(r.html) for r in expected]
    assert sent[0]["reply_to_message"]["message_id"] == card["message_id"]


async def test_html_in_what_people_write_is_shown_literally(telegram: Telegram) -> None:
    hostile = '<b>x</b><script>alert("&")</script>'
    (sent,) = await telegram.say(private_chat(JOHN), JOHN, f"/table {hostile}")

    assert hostile[:40] in sent["text"]
    assert "&lt;script&gt;" in telegram.bot.requests("sendMessage")[-1].params["text"]
    (reply,) = await telegram.expected(f"/table {hostile}", "en")
    assert sent["text"] == shown(reply.html)


async def test_commands_that_are_not_ours_are_left_alone(telegram: Telegram) -> None:
    assert await telegram.ignored(GROUP, ANA, "/giphy gatos bailando")
    assert await telegram.ignored(private_chat(ANA), ANA, "/start@OtherHelperBot")

    (sent,) = await telegram.say(GROUP, ANA, f"/giphy@{BOT_USERNAME} gatos")
    (reply,) = await telegram.expected("/giphy gatos", "es", private=False)
    assert sent["text"] == shown(reply.html)


async def test_group_backlog_from_while_the_bot_was_down_is_not_answered(telegram: Telegram) -> None:
    assert await telegram.ignored(GROUP, JOHN, "/tables", date=int(time.time()) - 3 * 3600)
    old_private = await telegram.say(private_chat(JOHN), JOHN, "/tables", date=int(time.time()) - 3 * 3600)
    assert old_private
