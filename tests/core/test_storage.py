"""Core storage on SQLite and PostgreSQL: migrations, chats, users, dialogue state, settings."""

from __future__ import annotations

from storage import chats, conversations, roles, settings
from storage.db import Database


async def test_core_storage_round_trip(database_url: str) -> None:
    db = Database(database_url)
    await db.migrate()
    await db.migrate()  # idempotent
    try:
        async with db.transaction() as session:
            chat = await chats.ensure_chat(session, "telegram", "-100", private=False, title="WT2")
            assert await chats.update_chat(session, "telegram", "-100", language="en") is chat
            assert await chats.update_chat(session, "telegram", "unknown", language="en") is None
            await chats.record_user(
                session, "telegram", "42", username="@Ana", name="Ana", language="es", private_chat_id="42"
            )
            await conversations.save_conversation(
                session, "telegram", "42", "42", flow="register", step="name", data={"lang": "es"}
            )
            await settings.put_setting(session, "matrix.next_batch", "s1")
            assert await roles.add_secretary(session, "telegram:42", "WT2", "console:admin")
            assert not await roles.add_secretary(session, "telegram:42", "WT2", "console:admin")
        async with db.transaction() as session:
            await chats.update_chat(session, "telegram", "-100", active=False)
        async with db.transaction() as session:
            chat = await chats.get_chat(session, "telegram", "-100")
            assert chat is not None and chat.language == "en" and not chat.active
            assert chat.created_at.tzinfo is not None
            [user] = await chats.find_user_by_username(session, "ana")
            assert user.user_id == "42" and user.private_chat_id == "42"
            state = await conversations.get_conversation(session, "telegram", "42", "42")
            assert state is not None and state.data == {"lang": "es"} and state.step == "name"
            assert await settings.get_setting(session, "matrix.next_batch") == "s1"
            assert await roles.secretaries(session, "WT2") == ["telegram:42"]
            assert await roles.remove_secretary(session, "telegram:42", "WT2")
            await conversations.end_conversation(session, "telegram", "42", "42")
        async with db.transaction() as session:
            assert await conversations.get_conversation(session, "telegram", "42", "42") is None
            assert await roles.secretary_tables(session, "telegram:42") == set()
    finally:
        await db.close()


async def test_a_failed_transaction_writes_nothing(database_url: str) -> None:
    db = Database(database_url)
    await db.migrate()
    try:
        try:
            async with db.transaction() as session:
                await chats.ensure_chat(session, "console", "x", private=True)
                raise RuntimeError("abort")
        except RuntimeError:
            pass
        async with db.transaction() as session:
            assert await chats.get_chat(session, "console", "x") is None
    finally:
        await db.close()
