"""Rooms: invitations by allowed servers only, direct rooms the bot opens itself, continuing
in private, files, and rooms the bot was removed from."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import MegolmEvent, RoomMemberEvent, RoomMessage, RoomMessageFile

from bot.adapters.base import Status
from handlers.message import Address, Attachment, Reply
from tests.fakes.synapse import Account, Synapse
from tests.matrix.harness import Bot, Member, group_room

pytestmark = [pytest.mark.slow, pytest.mark.synapse]


async def test_invitations_from_other_servers_are_declined(
    synapse: Synapse, bot_account: Account, member: Member, tmp_path: Path
) -> None:
    bot = Bot(synapse, bot_account, tmp_path / "bot", matrix_allowed_servers=frozenset({"example.org", "un.org"}))
    await bot.start()
    try:
        room = await member.create_room([bot.user_id], name="Not for the bot")

        def declined() -> bool:
            return any(
                isinstance(event, RoomMemberEvent) and event.state_key == bot.user_id and event.membership == "leave"
                for room_id, event in member.events
                if room_id == room
            )

        await member.until(declined)
        assert bot.user_id not in member.client.rooms[room].users
    finally:
        await bot.stop()


async def test_invitations_from_allowed_servers_are_accepted(
    synapse: Synapse, bot_account: Account, member: Member, tmp_path: Path
) -> None:
    bot = Bot(synapse, bot_account, tmp_path / "bot", matrix_allowed_servers=frozenset({synapse.server_name.upper()}))
    await bot.start()
    try:
        room = await member.create_room([bot.user_id], name="Allowed")
        await member.until_joined(room, bot.user_id)
    finally:
        await bot.stop()


async def test_a_room_s_history_is_not_answered_when_the_bot_joins(
    member: Member, bot: Bot, bystander: Account
) -> None:
    room = await member.create_room([bystander.user_id], name="WT2")
    old = await member.say(room, "!objetivo 1")
    await member.client.room_invite(room, bot.user_id)
    await member.until_joined(room, bot.user_id)

    asked = await member.say(room, "!objetivo 2")
    await member.reply_to(asked)
    assert member.replies_to(old) == []


async def test_message_to_a_user_opens_one_direct_room(member: Member, bot: Bot) -> None:
    assert bot.app is not None
    to_member = Address("matrix", user_id=member.user_id)

    first = await bot.app.deliver(Reply("<b>Recordatorio</b>\nReunión de la WT2 mañana.", to=to_member))
    second = await bot.app.deliver(Reply("Segundo aviso.", to=to_member))

    assert first.status is Status.SENT and second.status is Status.SENT
    await member.until(lambda: len(member.from_user(bot.user_id)) == 2)
    await member.until(lambda: not any(isinstance(e, MegolmEvent) for e in member.from_user(bot.user_id)), 5)
    first_event, second_event = member.from_user(bot.user_id)
    rooms = {room_id for room_id, _event in _bot_messages(member, bot)}
    assert len(rooms) == 1
    room = member.client.rooms[rooms.pop()]
    assert room.member_count == 2 and room.encrypted
    assert first_event.body == "Recordatorio\nReunión de la WT2 mañana."
    assert first_event.source["content"]["formatted_body"] == "<b>Recordatorio</b><br>Reunión de la WT2 mañana."
    assert second_event.body == "Segundo aviso."


async def test_private_start_continues_in_a_direct_room(member: Member, bot: Bot, bystander: Account) -> None:
    assert bot.app is not None
    group = await group_room(member, bot, bystander)
    question = await member.say(group, "quiero registrar mi organización")  # not addressed: unanswered

    delivery = await bot.app.deliver(
        Reply(
            "Sigamos en privado.",
            to=Address("matrix", chat_id=group),
            reply_to=question,
            private_start="help",
        )
    )

    assert delivery.status is Status.SENT
    assert (await member.reply_to(question)).body == "Sigamos en privado."
    await member.until(lambda: any(room != group for room, _e in _bot_messages(member, bot)))
    direct, started = next((room, e) for room, e in _bot_messages(member, bot) if room != group)
    assert "!objective" in started.body  # the core's answer to "!help" from this member, in private
    assert member.client.rooms[direct].member_count == 2


async def test_files_are_uploaded_and_sent(member: Member, bot: Bot, bystander: Account) -> None:
    assert bot.app is not None
    room = await group_room(member, bot, bystander)
    table = "organización;mesa\nCafé Migrante;WT2\n".encode()

    delivery = await bot.app.deliver(
        Reply(
            "Miembros de la WT2",
            to=Address("matrix", chat_id=room),
            attachment=Attachment("wt2.csv", table, "text/csv"),
        )
    )

    assert delivery.status is Status.SENT
    await member.until(lambda: any(isinstance(e, RoomMessageFile) for e in member.from_user(bot.user_id, room)))
    file = next(e for e in member.from_user(bot.user_id, room) if isinstance(e, RoomMessageFile))
    assert file.body == "wt2.csv"
    assert file.source["content"]["info"] == {"mimetype": "text/csv", "size": len(table)}
    downloaded = await member.client.download(file.url)
    assert downloaded.body == table


async def test_a_room_the_bot_was_removed_from_is_blocked(member: Member, bot: Bot, bystander: Account) -> None:
    assert bot.app is not None
    room = await group_room(member, bot, bystander)
    asked = await member.say(room, "!objetivo 1")
    await member.reply_to(asked)

    await member.client.room_kick(room, bot.user_id, reason="test")
    address = Address("matrix", chat_id=room)
    delivery = await bot.app.deliver(Reply("¿Sigo aquí?", to=address))

    assert delivery.status is Status.BLOCKED
    assert (await bot.app.services.chats.chat_info(address)).active is False


def _bot_messages(member: Member, bot: Bot) -> list[tuple[str, RoomMessage]]:
    return [
        (room, event) for room, event in member.events if isinstance(event, RoomMessage) and event.sender == bot.user_id
    ]
