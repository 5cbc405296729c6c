"""Which rooms the bot is in: invitations it accepts, and the private chat with each user."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from nio import (
    AsyncClient,
    InviteInfo,
    InviteMemberEvent,
    MatrixRoom,
    RoomCreateResponse,
)
from nio.api import MATRIX_API_PATH_V3, RoomPreset
from nio.event_builders import EnableEncryptionBuilder

from bot.adapters.matrix_events import is_direct, server_of
from bot.adapters.matrix_retry import NETWORK_ERRORS, persist
from bot.adapters.matrix_session import DIRECT_ROOM, SessionStore

log = logging.getLogger(__name__)

ROOM_ARRIVAL = 30.0
"""How long to wait for a room the bot created to arrive in its sync."""


def inviter(info: InviteInfo, me: str) -> str | None:
    """Who invited the bot, from the stripped state of the invitation."""
    for event in info.invite_state:
        if isinstance(event, InviteMemberEvent) and event.state_key == me and event.membership == "invite":
            return event.sender
    return None


def invitation_allowed(inviter_id: str | None, allowed_servers: frozenset[str]) -> bool:
    """Any inviter when no list is configured; else only users of the listed servers."""
    if not allowed_servers:
        return True
    return inviter_id is not None and server_of(inviter_id) in {s.lower() for s in allowed_servers}


class DirectRooms:
    """The private chat with a user: the remembered one, one already shared, or a new one.

    New direct rooms are created like Element does (``is_direct``, trusted private chat,
    encrypted when the bot can encrypt), recorded in the database and in the bot's
    ``m.direct`` account data so clients show them as direct messages.
    """

    def __init__(
        self,
        client: AsyncClient,
        store: SessionStore,
        until: Callable[[Callable[[], bool], float], Awaitable[bool]],
        *,
        patience: float,
    ) -> None:
        """``until(condition, timeout)`` waits for the synced state to satisfy ``condition``."""
        self.client = client
        self.store = store
        self.until = until
        self.patience = patience
        self._locks: dict[str, asyncio.Lock] = {}
        self._rooms: dict[str, str] = {}

    async def room_for(self, user_id: str) -> str | None:
        async with self._locks.setdefault(user_id, asyncio.Lock()):
            known = self._rooms.get(user_id) or await self.store.get(DIRECT_ROOM + user_id)
            if known and self._shared(known, user_id):
                self._rooms[user_id] = known
                return known
            room_id = self._find(user_id) or await self._create(user_id)
            if room_id:
                await self.store.put({DIRECT_ROOM + user_id: room_id})
                self._rooms[user_id] = room_id
            return room_id

    def _shared(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users and is_direct(room)

    def _find(self, user_id: str) -> str | None:
        rooms: list[MatrixRoom] = [
            room for room in self.client.rooms.values() if user_id in room.users and is_direct(room)
        ]
        rooms.sort(key=lambda room: room.users[user_id].invited)
        return rooms[0].room_id if rooms else None

    async def _create(self, user_id: str) -> str | None:
        initial_state = [EnableEncryptionBuilder().as_dict()] if self.client.olm else []
        try:
            response = await persist(
                lambda: self.client.room_create(
                    is_direct=True,
                    invite=[user_id],
                    preset=RoomPreset.trusted_private_chat,
                    initial_state=initial_state,
                ),
                patience=self.patience,
            )
        except NETWORK_ERRORS as error:
            log.warning("could not open a direct room with %s: %s", user_id, error)
            return None
        if not isinstance(response, RoomCreateResponse):
            log.warning("could not open a direct room with %s: %s", user_id, response)
            return None
        room_id = response.room_id
        # Wait for the invitation too: the room key of an encrypted first message is
        # shared with the members the bot knows of when it sends.
        if not await self.until(lambda: self._shared(room_id, user_id), ROOM_ARRIVAL):
            log.warning("the new direct room %s with %s did not arrive in a sync", room_id, user_id)
            return None
        await self._mark_direct(user_id, room_id)
        return room_id

    async def _mark_direct(self, user_id: str, room_id: str) -> None:
        """Add the room to ``m.direct``, keeping what clients wrote there (best effort)."""
        path = f"{MATRIX_API_PATH_V3}/user/{quote(self.client.user_id, safe='')}/account_data/m.direct"
        headers = {"Authorization": f"Bearer {self.client.access_token}", "Content-Type": "application/json"}
        try:
            current = await self.client.send("GET", path, headers=headers)
            direct = _direct_map(current.status, await current.read())
            if room_id in direct.setdefault(user_id, []):
                return
            direct[user_id].append(room_id)
            saved = await self.client.send("PUT", path, json.dumps(direct), headers=headers)
            await saved.read()
            if saved.status != 200:
                log.info("m.direct not updated: HTTP %s", saved.status)
        except NETWORK_ERRORS as error:
            log.info("m.direct not updated: %s", error)


def _direct_map(status: int, body: bytes) -> dict[str, list[str]]:
    """The ``m.direct`` content; empty when there is none yet (404) or it is unreadable."""
    if status != 200:
        return {}
    try:
        content = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(content, dict):
        return {}
    return {user: list(rooms) for user, rooms in content.items() if isinstance(rooms, list)}


def room_creators(state: list[dict[str, Any]]) -> frozenset[str]:
    """Who created a room, from its state: the ``m.room.create`` sender (and, from room version 12,
    its ``additional_creators``), who outrank everyone without being listed in the power levels."""
    creators: set[str] = set()
    for event in state:
        if isinstance(event, dict) and event.get("type") == "m.room.create":
            content = event.get("content") or {}
            found = [event.get("sender"), content.get("creator"), *(content.get("additional_creators") or [])]
            creators.update(c for c in found if isinstance(c, str))
    return frozenset(creators)
