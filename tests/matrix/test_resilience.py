"""Restarts, bursts, rate limits and a homeserver that goes away: nothing answered twice,
nothing lost."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.adapters.base import Status
from handlers.knowledge import load_knowledge
from handlers.message import Address, Reply
from tests.fakes.synapse import Account, Synapse
from tests.matrix.harness import Bot, Member, group_room, in_reply_to

pytestmark = [pytest.mark.slow, pytest.mark.synapse]

BURST = 150


async def test_restart_answers_nothing_twice_and_keeps_its_device(
    synapse: Synapse, admin: Account, member: Member, bot: Bot, bystander: Account
) -> None:
    room = await group_room(member, bot, bystander)
    before = await member.say(room, "!objetivo 1")
    await member.reply_to(before)
    devices = synapse.devices(admin, bot.user_id)

    await bot.stop()
    await bot.start()
    after = await member.say(room, "!objetivo 2")
    await member.reply_to(after)

    assert len(member.replies_to(before)) == 1
    assert synapse.devices(admin, bot.user_id) == devices


async def test_a_burst_larger_than_a_sync_is_answered_completely_and_in_order(
    member: Member, bot: Bot, bystander: Account
) -> None:
    """While the bot is down 150 questions arrive: its next sync holds the last 100
    (``limited``), the first 50 come from ``/messages``."""
    knowledge = load_knowledge()
    room = await group_room(member, bot, bystander)
    await bot.stop()
    numbers = [i % len(knowledge.objectives) + 1 for i in range(BURST)]
    asked = [await member.say(room, f"!objetivo {n}") for n in numbers]

    await bot.start()
    await member.until(lambda: all(member.replies_to(e) for e in asked), timeout=120)

    answers = [in_reply_to(e) for e in member.from_user(bot.user_id, room)]
    assert answers == asked
    for event_id, number in zip(asked, numbers, strict=True):
        assert knowledge.objectives[number].title("es") in member.replies_to(event_id)[0].body


async def test_homeserver_restart_mid_run(synapse: Synapse, member: Member, bot: Bot, bystander: Account) -> None:
    assert bot.app is not None
    room = await group_room(member, bot, bystander)
    await member.reply_to(await member.say(room, "!objetivo 3"))

    synapse.stop()
    try:
        pending = asyncio.create_task(
            bot.app.deliver(Reply("Aviso enviado sin servidor.", to=Address("matrix", chat_id=room)))
        )
        done, _ = await asyncio.wait({pending}, timeout=1.0)
        assert not done, "a send while the homeserver is down waits for it"
    finally:
        synapse.launch()
        await asyncio.to_thread(synapse.wait_until_up)

    assert (await pending).status is Status.SENT
    await member.until(
        lambda: any(e.body == "Aviso enviado sin servidor." for e in member.from_user(bot.user_id, room))
    )
    asked = await member.say(room, "!objetivo 4")
    assert load_knowledge().objectives[4].title("es") in (await member.reply_to(asked)).body


async def test_the_bot_waits_for_a_homeserver_that_is_down_at_start(
    synapse: Synapse, bot_account: Account, member: Member, tmp_path: Path
) -> None:
    bot = Bot(synapse, bot_account, tmp_path / "bot")
    synapse.stop()
    try:
        starting = asyncio.create_task(bot.start())
        done, _ = await asyncio.wait({starting}, timeout=1.0)
        assert not done, "no crash: the bot keeps trying"
    finally:
        synapse.launch()
        await asyncio.to_thread(synapse.wait_until_up)
    await starting
    try:
        room = await member.create_room([bot.user_id], direct=True)
        await member.until_joined(room, bot.user_id)
    finally:
        await bot.stop()


async def test_rate_limited_replies_wait_and_all_arrive(
    synapse: Synapse, admin: Account, member: Member, bot: Bot, bystander: Account, caplog: pytest.LogCaptureFixture
) -> None:
    room = await group_room(member, bot, bystander)
    synapse.override_ratelimit(admin, bot.user_id, per_second=4, burst=1)
    caplog.set_level(logging.INFO, logger="bot.delivery")  # the sender's one retry policy waits

    asked = [await member.say(room, f"!objetivo {n}") for n in range(1, 7)]
    await member.until(lambda: all(member.replies_to(e) for e in asked))

    assert [in_reply_to(e) for e in member.from_user(bot.user_id, room)] == asked
    assert any("M_LIMIT_EXCEEDED" in r.getMessage() for r in caplog.records)


async def test_a_retried_outbox_message_is_one_matrix_event(member: Member, bot: Bot, bystander: Account) -> None:
    """The outbox's delivery key is the transaction id: a retry of a message the homeserver had
    accepted (its answer lost) is the same event, not a second one."""
    assert bot.app is not None
    room = await group_room(member, bot, bystander)
    reply = Reply("Aviso que se reintenta.", to=Address("matrix", chat_id=room), key="gcmbot-delivery-7")

    first = await bot.app.router.send_once(reply)
    again = await bot.app.router.send_once(reply)
    await member.reply_to(await member.say(room, "!objetivo 5"))  # later than both sends

    assert first.status is again.status is Status.SENT and first.message_id == again.message_id
    assert [e.body for e in member.from_user(bot.user_id, room)].count("Aviso que se reintenta.") == 1
