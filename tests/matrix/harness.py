"""The people and the bot of the Matrix tests: real nio clients and ``App.run``."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessage,
    RoomSendResponse,
    SyncResponse,
)
from nio.api import RoomPreset
from nio.event_builders import EnableEncryptionBuilder
from nio.exceptions import EncryptionError

from bot.adapters.matrix import MatrixAdapter
from bot.app import App
from tests.conftest import make_settings
from tests.fakes.synapse import Account, Synapse

BOT_NAME = "GCM Bot"
WAIT = 30.0
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


class Member:
    """A person on a real nio client: creates rooms, talks, and sees what the bot answers."""

    def __init__(self, synapse: Synapse, account: Account, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.account = account
        self.user_id = account.user_id
        self.client = AsyncClient(
            synapse.url,
            account.user_id,
            device_id=account.device_id,
            store_path=str(store),
            config=AsyncClientConfig(store_sync_tokens=False, backoff_factor=0.2, max_timeout_retry_wait_time=2),
        )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.events: list[tuple[str, Any]] = []
        self.changed = asyncio.Condition()
        self.client.add_event_callback(self._on_event, Event)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_response_callback(self._on_sync, SyncResponse)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.keys_upload()
        self._task = asyncio.create_task(self.client.sync_forever(timeout=3000, full_state=True))
        await self.until(lambda: self.client.next_batch is not None)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()

    async def _on_event(self, room: MatrixRoom, event: Any) -> None:
        self.events.append((room.room_id, event))

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def _on_sync(self, _response: SyncResponse) -> None:
        self._decrypt_late()
        async with self.changed:
            self.changed.notify_all()

    def _decrypt_late(self) -> None:
        """Like Element: a message whose room key arrived after it is decrypted then."""
        for index, (room_id, event) in enumerate(self.events):
            if isinstance(event, MegolmEvent):
                try:
                    self.events[index] = (room_id, self.client.decrypt_event(event))
                except EncryptionError:
                    continue

    async def until(self, predicate: Callable[[], Any], timeout: float = WAIT) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), timeout)

    # rooms ---------------------------------------------------------------------

    async def create_room(
        self, invite: list[str], *, name: str | None = None, encrypted: bool = False, direct: bool = False
    ) -> str:
        response = await self.client.room_create(
            name=name,
            invite=invite,
            is_direct=direct,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
            initial_state=[EnableEncryptionBuilder().as_dict()] if encrypted else [],
        )
        assert isinstance(response, RoomCreateResponse), response
        await self.until(lambda: response.room_id in self.client.rooms)
        return response.room_id

    async def until_joined(self, room_id: str, user_id: str) -> None:
        def joined() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and user_id in room.users and user_id not in room.invited_users

        await self.until(joined)

    # messages ------------------------------------------------------------------

    async def say(
        self, room_id: str, text: str, *, content: dict[str, Any] | None = None, event_type: str = "m.room.message"
    ) -> str:
        response = await self.client.room_send(
            room_id,
            event_type,
            content or {"msgtype": "m.text", "body": text},
            ignore_unverified_devices=True,
        )
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def mention(self, room_id: str, bot: str, text: str) -> str:
        """How Element writes a mention: a pill, ``m.mentions``, the display name in ``body``."""
        return await self.say(
            room_id,
            text,
            content={
                "msgtype": "m.text",
                "body": f"{BOT_NAME}: {text}",
                "format": "org.matrix.custom.html",
                "formatted_body": f'<a href="https://matrix.to/#/{bot}">{BOT_NAME}</a>: {text}',
                "m.mentions": {"user_ids": [bot]},
            },
        )

    def from_user(self, user_id: str, room_id: str | None = None) -> list[Any]:
        """The messages ``user_id`` sent (to ``room_id``), oldest first."""
        return [
            event
            for room, event in self.events
            if isinstance(event, (RoomMessage, MegolmEvent))
            and event.sender == user_id
            and (room_id is None or room == room_id)
        ]

    def replies_to(self, event_id: str) -> list[Any]:
        return [event for _room, event in self.events if in_reply_to(event) == event_id]

    async def reply_to(self, event_id: str, timeout: float = WAIT) -> Any:
        await self.until(lambda: self.replies_to(event_id), timeout)
        return self.replies_to(event_id)[0]


def in_reply_to(event: Any) -> str | None:
    relation = event.source.get("content", {}).get("m.relates_to") or {}
    return (relation.get("m.in_reply_to") or {}).get("event_id")


class Bot:
    """The bot as ``gcmbot run`` starts it; stop and start again on the same database and store."""

    def __init__(self, synapse: Synapse, account: Account, workdir: Path, **overrides: object) -> None:
        self.account = account
        values: dict[str, object] = {
            "matrix_homeserver": synapse.url,
            "matrix_user_id": account.user_id,
            "matrix_password": account.password,
            "matrix_store_path": str(workdir / "matrix-store"),
        }
        self.settings = make_settings(f"sqlite+aiosqlite:///{workdir / 'gcmbot.sqlite3'}", **(values | overrides))
        self.app: App | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def user_id(self) -> str:
        return self.account.user_id

    @property
    def adapter(self) -> MatrixAdapter:
        assert self.app is not None
        adapter = self.app.adapters["matrix"]
        assert isinstance(adapter, MatrixAdapter)
        return adapter

    async def start(self) -> App:
        self.app = App(self.settings)
        self._task = task = asyncio.create_task(self.app.run())
        async with asyncio.timeout(WAIT):
            while "matrix" not in self.app.adapters and not task.done():
                await asyncio.sleep(0.02)
            if not task.done():
                ready = asyncio.create_task(self.adapter.ready.wait())
                await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
                ready.cancel()
        if task.done():  # the bot stopped on its own: show why
            self._task = None
            task.result()
        return self.app

    async def stop(self) -> None:
        """Stop as on SIGTERM; a bot that had crashed fails the test."""
        if self._task is not None:
            task, self._task = self._task, None
            if task.done():
                task.result()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def group_room(member: Member, bot: Bot, bystander: Account, **options: Any) -> str:
    room_id = await member.create_room([bot.user_id, bystander.user_id], name="WT2 coordination", **options)
    await member.until_joined(room_id, bot.user_id)
    return room_id
