"""Logging in: a configured access token, refused credentials, and `gcmbot run` with Telegram too."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.matrix_session import ACCESS_TOKEN, DEVICE_ID, MatrixLoginError
from bot.app import App
from handlers.knowledge import load_knowledge
from tests.conftest import make_settings
from tests.fakes.synapse import Account, Synapse
from tests.matrix.harness import Bot, Member

pytestmark = [pytest.mark.slow, pytest.mark.synapse]


async def test_access_token_login_uses_the_token_s_device(
    synapse: Synapse, admin: Account, bot_account: Account, member: Member, tmp_path: Path
) -> None:
    bot = Bot(
        synapse, bot_account, tmp_path / "bot", matrix_password=None, matrix_access_token=bot_account.access_token
    )
    await bot.start()
    try:
        room = await member.create_room([bot.user_id], direct=True)
        await member.until_joined(room, bot.user_id)
        await member.say(room, "!objetivo 5")
        await member.until(lambda: member.from_user(bot.user_id, room))
        assert bot.adapter.client.device_id == bot_account.device_id
        assert synapse.devices(admin, bot.user_id) == [bot_account.device_id]
        assert await bot.adapter.store.get(DEVICE_ID) == bot_account.device_id
    finally:
        await bot.stop()


async def test_a_password_login_is_stored_for_the_next_start(
    synapse: Synapse, bot_account: Account, tmp_path: Path
) -> None:
    bot = Bot(synapse, bot_account, tmp_path / "bot")
    await bot.start()
    token, device = bot.adapter.client.access_token, bot.adapter.client.device_id
    await bot.stop()
    assert await bot.adapter.store.get(ACCESS_TOKEN) == token
    assert await bot.adapter.store.get(DEVICE_ID) == device

    await bot.start()
    try:
        assert (bot.adapter.client.access_token, bot.adapter.client.device_id) == (token, device)
    finally:
        await bot.stop()


async def test_signed_out_bot_logs_in_again_on_the_same_device(
    synapse: Synapse, admin: Account, member: Member, bot: Bot
) -> None:
    """Someone signs the bot's session out (Element: Sessions → Sign out): the bot logs in
    again with its password, on the same device and keys, and keeps answering encrypted."""
    room = await member.create_room([bot.user_id], direct=True, encrypted=True)
    await member.until_joined(room, bot.user_id)
    await member.say(room, "!objetivo 8")
    await member.until(lambda: member.from_user(bot.user_id, room))
    device, token = bot.adapter.client.device_id, bot.adapter.client.access_token

    synapse.delete_device(admin, bot.user_id, device)
    await member.say(room, "!objetivo 9")
    await member.until(lambda: len(member.from_user(bot.user_id, room)) == 2)

    assert bot.adapter.client.device_id == device and bot.adapter.client.access_token != token
    assert await bot.adapter.store.get(ACCESS_TOKEN) == bot.adapter.client.access_token
    answer = member.from_user(bot.user_id, room)[1]
    assert answer.decrypted and load_knowledge().objectives[9].title("es") in answer.body


async def test_refused_credentials_stop_with_a_clear_error(
    synapse: Synapse, bot_account: Account, tmp_path: Path
) -> None:
    bot = Bot(synapse, bot_account, tmp_path / "bot", matrix_password="not the password")
    with pytest.raises(ExceptionGroup) as raised:
        await bot.start()
    assert raised.group_contains(MatrixLoginError, match="M_FORBIDDEN")


def test_run_starts_matrix_and_telegram_together(synapse: Synapse, tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'gcmbot.sqlite3'}",
        telegram_token="123456:test-token",
        matrix_homeserver=synapse.url,
        matrix_user_id="@gcmbot:gcm.test",
        matrix_password="secret",
        matrix_store_path=str(tmp_path / "store"),
    )
    assert sorted(a.platform for a in App(settings).configured_adapters()) == ["matrix", "telegram"]
