"""Talking to the bot on a real homeserver: `!` commands in both languages, mentions, groups
that are left alone, direct rooms."""

from __future__ import annotations

import pytest
from nio import RoomMessageNotice

from handlers.knowledge import load_knowledge
from tests.fakes.synapse import Account
from tests.matrix.harness import BOT_NAME, Bot, Member, group_room, in_reply_to

pytestmark = [pytest.mark.slow, pytest.mark.synapse]


async def test_invited_bot_joins_and_answers_commands_in_spanish_and_english(
    member: Member, bot: Bot, bystander: Account
) -> None:
    knowledge = load_knowledge()
    room = await group_room(member, bot, bystander)

    asked = await member.say(room, "!objetivo 10")
    reply = await member.reply_to(asked)
    assert isinstance(reply, RoomMessageNotice)
    assert knowledge.objectives[10].title("es") in reply.body
    content = reply.source["content"]
    assert content["format"] == "org.matrix.custom.html"
    assert f"{knowledge.objectives[10].title('es')}</b>" in content["formatted_body"]
    assert "<" not in reply.body
    assert content["m.mentions"] == {"user_ids": [member.user_id]}
    assert "<code>!mesa WT2</code>" in content["formatted_body"]  # the button, as a command to type

    asked = await member.say(room, "!objective 10")
    assert knowledge.objectives[10].title("en") in (await member.reply_to(asked)).body

    asked = await member.say(room, "!mesa 2")
    assert knowledge.tables["WT2"].name("es") in (await member.reply_to(asked)).body

    asked = await member.say(room, "!idioma en")
    await member.reply_to(asked)
    asked = await member.say(room, "!objetivo 10")
    assert knowledge.objectives[10].title("en") in (await member.reply_to(asked)).body


async def test_help_shows_commands_with_an_exclamation_mark(member: Member, bot: Bot, bystander: Account) -> None:
    room = await group_room(member, bot, bystander)
    asked = await member.say(room, "!ayuda")
    reply = await member.reply_to(asked)
    assert "!objetivo" in reply.body and "!mesa" in reply.body
    assert "/objetivo" not in reply.body
    assert "/objetivo" not in reply.source["content"]["formatted_body"]
    assert "<br>" in reply.source["content"]["formatted_body"]


async def test_group_chatter_is_ignored_and_mentions_are_answered(member: Member, bot: Bot, bystander: Account) -> None:
    knowledge = load_knowledge()
    room = await group_room(member, bot, bystander)
    chatter = await member.say(room, "¿Alguien tiene el acta del objetivo 10?")
    other_bot = await member.say(room, "!ban @spam:example.org")

    asked = await member.mention(room, bot.user_id, "¿qué es el objetivo 10?")
    reply = await member.reply_to(asked)
    assert knowledge.objectives[10].title("es") in reply.body

    asked = await member.say(room, f"{BOT_NAME}, what is objective 10 about?")
    assert knowledge.objectives[10].title("en") in (await member.reply_to(asked)).body

    replied = await member.say(
        room,
        "and objective 11?",
        content={
            "msgtype": "m.text",
            "body": f"> <{bot.user_id}> ...\n\nand objective 11?",
            "m.relates_to": {"m.in_reply_to": {"event_id": reply.event_id}},
        },
    )
    assert knowledge.objectives[11].title("en") in (await member.reply_to(replied)).body
    assert member.replies_to(chatter) == [] and member.replies_to(other_bot) == []


async def test_direct_room_is_a_private_chat(member: Member, bot: Bot) -> None:
    knowledge = load_knowledge()
    room = await member.create_room([bot.user_id], direct=True)
    await member.until_joined(room, bot.user_id)

    await member.say(room, "¿qué es el objetivo 10?")
    await member.until(lambda: member.from_user(bot.user_id, room))
    reply = member.from_user(bot.user_id, room)[0]
    assert knowledge.objectives[10].title("es") in reply.body
    assert in_reply_to(reply) is None  # no threading needed in a private chat
    assert reply.source["content"]["m.mentions"] == {}


async def test_questions_in_a_thread_are_answered_in_the_thread(member: Member, bot: Bot, bystander: Account) -> None:
    room = await group_room(member, bot, bystander)
    root = await member.say(room, "Hilo de la WT2")
    asked = await member.say(
        room,
        "!objetivo 10",
        content={
            "msgtype": "m.text",
            "body": "!objetivo 10",
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": root},
            },
        },
    )
    relation = (await member.reply_to(asked)).source["content"]["m.relates_to"]
    assert relation == {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": asked},
    }
