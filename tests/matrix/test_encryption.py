"""Encrypted rooms: the member writes encrypted, the bot reads, answers encrypted, the member
decrypts; files are encrypted too; the bot keeps its keys across restarts."""

from __future__ import annotations

import pytest
from nio import MegolmEvent, RoomEncryptedFile, RoomMessageNotice
from nio.crypto import decrypt_attachment

from handlers.knowledge import load_knowledge
from handlers.message import Address, Attachment, Reply
from tests.fakes.synapse import Account
from tests.matrix.harness import Bot, Member, group_room

pytestmark = [pytest.mark.slow, pytest.mark.synapse]


async def test_encrypted_group_room(member: Member, bot: Bot, bystander: Account) -> None:
    knowledge = load_knowledge()
    room = await group_room(member, bot, bystander, encrypted=True)
    assert member.client.rooms[room].encrypted

    asked = await member.mention(room, bot.user_id, "¿qué es el objetivo 10?")
    reply = await member.reply_to(asked)

    assert isinstance(reply, RoomMessageNotice) and reply.decrypted
    assert knowledge.objectives[10].title("es") in reply.body
    asked = await member.say(room, "!objective 7")
    assert knowledge.objectives[7].title("en") in (await member.reply_to(asked)).body


async def test_encrypted_direct_room_survives_a_bot_restart(member: Member, bot: Bot) -> None:
    knowledge = load_knowledge()
    room = await member.create_room([bot.user_id], direct=True, encrypted=True)
    await member.until_joined(room, bot.user_id)
    await member.say(room, "!objetivo 10")
    await member.until(lambda: member.from_user(bot.user_id, room))

    await bot.stop()
    await bot.start()
    await member.say(room, "!objetivo 11")
    await member.until(lambda: len(member.from_user(bot.user_id, room)) == 2)

    first, second = member.from_user(bot.user_id, room)
    assert not isinstance(second, MegolmEvent), "the member can decrypt the restarted bot"
    assert knowledge.objectives[10].title("es") in first.body
    assert knowledge.objectives[11].title("es") in second.body and second.decrypted


async def test_files_in_encrypted_rooms_are_encrypted(member: Member, bot: Bot, bystander: Account) -> None:
    assert bot.app is not None
    room = await group_room(member, bot, bystander, encrypted=True)
    await member.reply_to(await member.say(room, "!objetivo 1"))  # the bot knows the room's devices
    calendar = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"

    await bot.app.deliver(
        Reply("", to=Address("matrix", chat_id=room), attachment=Attachment("wt2.ics", calendar, "text/calendar"))
    )

    await member.until(lambda: any(isinstance(e, RoomEncryptedFile) for e in member.from_user(bot.user_id, room)))
    file = next(e for e in member.from_user(bot.user_id, room) if isinstance(e, RoomEncryptedFile))
    ciphertext = (await member.client.download(file.url)).body
    assert ciphertext != calendar
    assert decrypt_attachment(ciphertext, file.key["k"], file.hashes["sha256"], file.iv) == calendar


async def test_an_undecryptable_message_is_logged_and_its_key_requested(
    member: Member, bot: Bot, bystander: Account, caplog: pytest.LogCaptureFixture
) -> None:
    room = await group_room(member, bot, bystander)
    olm = member.client.olm
    assert olm is not None
    lost = await member.say(
        room,
        "",
        content={
            "algorithm": "m.megolm.v1.aes-sha2",
            "sender_key": olm.account.identity_keys["curve25519"],
            "device_id": member.client.device_id,
            "session_id": "a-session-the-bot-never-got",
            "ciphertext": "AwgAEnB1bHNl",
        },
        event_type="m.room.encrypted",
    )
    asked = await member.say(room, "!objetivo 2")
    await member.reply_to(asked)

    assert "a-session-the-bot-never-got" in bot.adapter.client.outgoing_key_requests
    assert any(lost in record.getMessage() and "requesting the key" in record.getMessage() for record in caplog.records)
    assert member.replies_to(lost) == []
