"""The Matrix adapter: rooms and direct chats on any homeserver, through matrix-nio.

sync -> invitations joined, room messages -> :mod:`matrix_events` -> per-room queue ->
``hub.dispatch``; replies -> :mod:`matrix_render` -> ``room_send`` (encrypted where the
room is). The sync position is stored, so a restart answers nothing twice; a burst
larger than one sync response is completed from ``/messages``.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import partial
from typing import Any
from uuid import uuid4

from nio import (
    DownloadResponse,
    InviteInfo,
    JoinResponse,
    LocalProtocolError,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    RoomEncryptedFile,
    RoomGetEventResponse,
    RoomGetStateResponse,
    RoomMessagesResponse,
    RoomMessageFile,
    RoomMessageText,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    UploadResponse,
)
from nio.crypto import decrypt_attachment
from nio.exceptions import EncryptionError

from bot.adapters.base import Delivery, Hub, Status
from bot.adapters.matrix_events import (
    PLATFORM,
    Me,
    after_own_join,
    incoming,
    is_direct,
    is_own_join,
    thread_root,
)
from bot.adapters.matrix_queues import Batch, Checkpoints, RoomQueues
from bot.adapters.matrix_render import file_message, notices
from bot.adapters.matrix_retry import NETWORK_ERRORS, Backoff, persist, rate_limited, server_error
from bot.adapters.matrix_rooms import DirectRooms, invitation_allowed, inviter, room_creators
from bot.adapters.matrix_session import (
    NEXT_BATCH,
    MatrixLoginError,
    SessionStore,
    log_in,
    make_client,
)
from bot.config import Settings
from handlers.message import Address, Attachment, Message, Reply, User
from storage.db import Database

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
TIMELINE_LIMIT = 100
"""Synapse answers at most this many events per room and sync; more arrive as a gap."""
SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "room": {"timeline": {"limit": TIMELINE_LIMIT}, "ephemeral": {"not_types": ["*"]}},
}
FIRST_SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "room": {"timeline": {"limit": 1}, "ephemeral": {"not_types": ["*"]}},
}
GAP_LIMIT = 1000
"""At most this many missed events per room are fetched after a gap (a long outage)."""
REMEMBERED = 2000
"""How many recent events the adapter remembers (askers, threads, answered ids, undecryptable)."""
DRAIN_SECONDS = 10.0
UNKNOWN_ROOM_WAIT = 5.0
MAX_DOCUMENT = 5_000_000
"""Files sent to the bot larger than this are not downloaded (the core answers that the file is empty)."""
"""How long a send to a room missing from our state waits for a sync (a room just joined)."""


class MatrixAdapter:
    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        send_patience: float = 300.0,
    ) -> None:
        """``send_patience``: how long a send waits for the first sync, and joins and direct
        rooms for an unreachable or rate-limiting homeserver. A message itself is sent once and
        a failure mapped to a :class:`Status`; the sender (:mod:`bot.delivery`) retries."""
        self.settings = settings
        self.store = SessionStore(db)
        self.client = make_client(settings)
        self.send_patience = send_patience
        self.direct = DirectRooms(self.client, self.store, self._until, patience=send_patience)
        self.me = Me(settings.matrix_user_id or "")
        self._hub: Hub | None = None
        self._queues = RoomQueues()
        self.ready = asyncio.Event()
        """Set after the first sync: the rooms, their members and encryption are known."""
        self._synced = asyncio.Condition()
        self._askers: OrderedDict[str, User] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._sent: OrderedDict[str, None] = OrderedDict()
        self._threads: OrderedDict[str, str] = OrderedDict()
        self._room_creators: dict[str, frozenset[str]] = {}
        self._undecrypted: OrderedDict[str, MegolmEvent] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    # receiving -----------------------------------------------------------------

    async def run(self, hub: Hub) -> None:
        """Log in (the stored device), then sync and dispatch until cancelled."""
        self._hub = hub
        try:
            await log_in(self.client, self.settings, self.store)
            await self._prepare_encryption()
            self.me = Me(self.client.user_id, await self._display_names(), self._sent)
            checkpoints = Checkpoints(self._save_position)
            self._queues.attach(checkpoints)
            await self._sync_forever(checkpoints)
        finally:
            await self._shut_down()

    async def _prepare_encryption(self) -> None:
        olm = self.client.olm
        if olm is None:
            log.warning("end-to-end encryption is unavailable: encrypted rooms will not be read")
            return
        if self.client.should_upload_keys:
            await persist(self.client.keys_upload, patience=self.send_patience)
        log.info(
            "Matrix device %s, ed25519 fingerprint %s (compare it when verifying the bot)",
            self.client.device_id,
            olm.account.identity_keys["ed25519"],
        )

    async def _display_names(self) -> tuple[str, ...]:
        try:
            response = await persist(self.client.get_displayname, patience=30)
        except NETWORK_ERRORS:
            return ()
        name = getattr(response, "displayname", None)
        return (name,) if name else ()

    async def _sync_forever(self, checkpoints: Checkpoints) -> None:
        since = await self.store.get(NEXT_BATCH)
        first = True
        backoff = Backoff()
        while True:
            try:
                response = await self.client.sync(
                    timeout=SYNC_TIMEOUT_MS,
                    sync_filter=FIRST_SYNC_FILTER if since is None else SYNC_FILTER,
                    since=since,
                    full_state=True if first else None,
                )
            except NETWORK_ERRORS as error:
                delay = backoff.delay()
                log.warning("Matrix sync failed (%s); retrying in %.1fs", error or type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            if isinstance(response, SyncError):
                await self._sync_refused(response, backoff)
                continue
            backoff.reset()
            await self._take_sync(response, checkpoints, since=since, history=since is None)
            since, first = response.next_batch, False

    async def _sync_refused(self, response: SyncError, backoff: Backoff) -> None:
        if response.status_code == "M_UNKNOWN_TOKEN":
            if not self.settings.matrix_password:
                raise MatrixLoginError("the Matrix access token is no longer valid and no password is set")
            log.warning("the homeserver dropped the bot's access token; logging in again")
            await log_in(self.client, self.settings, self.store, again=True)
            return
        wait = rate_limited(response)
        delay = wait if wait is not None else backoff.delay()
        log.warning("Matrix sync refused: %s %s; retrying in %.1fs", response.status_code, response.message, delay)
        await asyncio.sleep(delay)

    async def _take_sync(
        self, response: SyncResponse, checkpoints: Checkpoints, *, since: str | None, history: bool
    ) -> None:
        """Queue what a sync brought. ``history``: the very first sync, whose timeline is old."""
        batch = checkpoints.open(response.next_batch)
        for room_id, info in response.rooms.invite.items():
            self._spawn(self._invited(room_id, info))
        for room_id in response.rooms.leave:
            if self.client.rooms.pop(room_id, None) is not None:  # nio keeps rooms we left
                log.info("no longer in %s (left, kicked or banned)", room_id)
        if not history:
            for room_id, info in response.rooms.join.items():
                room = self.client.rooms.get(room_id)
                if room is None:
                    continue
                events = after_own_join(info.timeline.events, self.client.user_id)
                if len(events) < len(info.timeline.events):
                    log.info("joined %s: its earlier messages are history, not questions", room_id)
                elif info.timeline.limited and since and info.timeline.prev_batch:
                    self._queues.put(room_id, partial(self._fill_gap, room, info.timeline.prev_batch, since), batch)
                for event in events:
                    self._take(room, event, batch)
        await checkpoints.seal(batch)
        await self._keep_keys()
        self._retry_undecrypted()
        self.ready.set()
        async with self._synced:
            self._synced.notify_all()

    def _take(self, room: MatrixRoom, event: object, batch: Batch | None) -> None:
        if isinstance(event, (RoomMessageFile, RoomEncryptedFile)) and is_direct(room):
            if event.sender != self.client.user_id and event.event_id not in self._seen:
                _remember(self._seen, event.event_id, None)
                self._queues.put(room.room_id, partial(self._document, room, event), batch)
            return
        message = self._message(room, event)
        if message is not None:
            self._queues.put(room.room_id, partial(self._dispatch, message), batch)

    def _message(self, room: MatrixRoom, event: object) -> Message | None:
        """The core message of a timeline event (remembering who asked), if it is for us.
        A malformed event is logged and skipped: it must not stop the sync loop."""
        try:
            return self._translate(room, event)
        except Exception:
            log.exception("skipping event %s in %s", getattr(event, "event_id", "?"), room.room_id)
            return None

    def _translate(self, room: MatrixRoom, event: object) -> Message | None:
        if isinstance(event, MegolmEvent):
            self._undecryptable(event)
            return None
        if not isinstance(event, RoomMessageText) or event.event_id in self._seen:
            return None
        _remember(self._seen, event.event_id, None)
        message = incoming(event, room, self.me, self._addressed_command)
        if message is not None:
            _remember(self._askers, event.event_id, message.sender)
            root = thread_root(event)
            if root:
                _remember(self._threads, event.event_id, root)
        return message

    async def _document(self, room: MatrixRoom, event: RoomMessageFile | RoomEncryptedFile) -> None:
        """A file sent to the bot in a direct room, downloaded (and decrypted) for the core."""
        content = event.source.get("content") or {}
        info = content.get("info") or {}
        size = info.get("size") or 0
        data = b""
        if size <= MAX_DOCUMENT:
            try:
                response = await persist(partial(self.client.download, event.url), patience=30)
            except NETWORK_ERRORS:
                log.warning("could not download file %s from %s", event.event_id, event.sender)
                return
            if not isinstance(response, DownloadResponse):
                log.warning("could not download file %s: %s", event.event_id, response)
                return
            data = response.body
            if isinstance(event, RoomEncryptedFile):
                data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        sender = User(PLATFORM, event.sender, name=room.user_name(event.sender) or event.sender, username=event.sender)
        filename = str(content.get("filename") or event.body or "file")
        attachment = Attachment(filename, data, str(info.get("mimetype") or ""))
        await self._dispatch(
            Message(Address(PLATFORM, chat_id=room.room_id), sender, "", private=True,
                    message_id=event.event_id, attachment=attachment)
        )

    async def _dispatch(self, message: Message) -> None:
        assert self._hub is not None
        if message.chat_admin is False and message.chat.chat_id:
            creators = await self._creators(message.chat.chat_id)
            message = replace(message, chat_admin=message.sender.id in creators)
        await self._hub.dispatch(message)

    async def _creators(self, room_id: str) -> frozenset[str]:
        """The room's creators (not in its power levels from room version 12), asked once per room."""
        if room_id not in self._room_creators:
            try:
                response = await self.client.room_get_state(room_id)
            except NETWORK_ERRORS:
                return frozenset()
            if not isinstance(response, RoomGetStateResponse):
                return frozenset()
            self._room_creators[room_id] = room_creators(response.events)
        return self._room_creators[room_id]

    async def _fill_gap(self, room: MatrixRoom, prev_batch: str, since: str) -> None:
        """Handle the events a limited sync left out: ``/messages`` back from the timeline's
        start to the previous sync position, then oldest first."""
        missed: list[object] = []
        start: str | None = prev_batch
        while start and len(missed) < GAP_LIMIT:
            response = await persist(
                partial(
                    self.client.room_messages,
                    room.room_id,
                    start=start,
                    end=since,
                    direction=MessageDirection.back,
                    limit=TIMELINE_LIMIT,
                ),
                patience=self.send_patience,
            )
            if not isinstance(response, RoomMessagesResponse):
                log.warning("could not fetch the messages missed in %s: %s", room.room_id, response)
                break
            for event in response.chunk:
                if is_own_join(event, self.client.user_id):  # older ones are history
                    start = None
                    break
                missed.append(event)
            else:
                start = response.end if response.chunk and response.end != start else None
        if len(missed) >= GAP_LIMIT:
            log.warning("more than %d messages missed in %s; answering the latest", GAP_LIMIT, room.room_id)
        log.info("filling a gap of %d events in %s", len(missed), room.room_id)
        for event in reversed(missed):
            message = self._message(room, event)
            if message is not None:
                await self._dispatch(message)

    async def _invited(self, room_id: str, info: InviteInfo) -> None:
        by = inviter(info, self.client.user_id)
        try:
            if not invitation_allowed(by, self.settings.matrix_allowed_servers):
                log.warning("declining the invitation to %s from %s (server not allowed)", room_id, by)
                await persist(partial(self.client.room_leave, room_id), patience=self.send_patience)
                return
            response = await persist(partial(self.client.join, room_id), patience=self.send_patience)
        except NETWORK_ERRORS as error:
            log.warning("could not answer the invitation to %s: %s", room_id, error)
            return
        if isinstance(response, JoinResponse):
            log.info("joined %s (invited by %s)", room_id, by)
        else:
            log.warning("could not join %s: %s", room_id, response)

    # encryption ----------------------------------------------------------------

    async def _keep_keys(self) -> None:
        """What nio's own sync loop does between syncs: send queued to-device messages,
        upload one-time keys, learn the devices of the members of encrypted rooms."""
        client = self.client
        if client.olm is None:
            return
        try:
            await client.send_to_device_messages()
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
        except NETWORK_ERRORS as error:
            log.warning("key maintenance failed (%s); trying again after the next sync", error)

    def _undecryptable(self, event: MegolmEvent) -> None:
        """Keep the event to decrypt once its room key arrives; ask the sender's devices for it."""
        if event.event_id in self._undecrypted:
            return
        log.warning(
            "cannot decrypt %s from %s in %s (session %s); requesting the key",
            event.event_id,
            event.sender,
            event.room_id,
            event.session_id,
        )
        _remember(self._undecrypted, event.event_id, event)
        self._spawn(self._request_key(event))

    async def _request_key(self, event: MegolmEvent) -> None:
        try:
            await self.client.request_room_key(event)
        except LocalProtocolError:
            pass  # already requested for this session
        except NETWORK_ERRORS as error:
            log.info("room key request failed: %s", error)

    def _retry_undecrypted(self) -> None:
        for event_id, event in list(self._undecrypted.items()):
            room = self.client.rooms.get(event.room_id)
            if room is None:
                continue
            try:
                decrypted = self.client.decrypt_event(event)
            except EncryptionError:
                continue
            del self._undecrypted[event_id]
            log.info("decrypted %s once its key arrived", event_id)
            self._take(room, decrypted, None)

    # sending -------------------------------------------------------------------

    async def send(self, reply: Reply) -> Delivery:
        try:
            return await self._send(reply)
        except Exception as error:  # the port promises no platform exception escapes
            log.exception("Matrix send to %s failed", reply.to)
            return Delivery(Status.FAILED, error=str(error))

    async def _send(self, reply: Reply) -> Delivery:
        to = reply.to
        if to is None:
            return Delivery(Status.FAILED, error="no address")
        if not await self._wait_ready():
            return Delivery(Status.RETRY, error="not connected to the homeserver yet")
        room_id = to.chat_id or (await self.direct.room_for(to.user_id) if to.user_id else None)
        if room_id is None:
            return Delivery(Status.FAILED, error=f"no direct room with {to.user_id}")
        if not await self._known(room_id, UNKNOWN_ROOM_WAIT):
            return Delivery(Status.BLOCKED, error=f"not a member of {room_id}")
        room = self.client.rooms[room_id]
        group = not is_direct(room)
        asker = self._askers.get(reply.reply_to or "")
        delivery = Delivery(Status.SENT)
        if reply.html.strip() or reply.buttons:
            for part, content in enumerate(notices(
                reply,
                self._is_command,
                in_reply_to=reply.reply_to,
                thread=self._threads.get(reply.reply_to or ""),
                mention=asker.id if asker and group else None,
            )):
                # one transaction id per part: a retry re-sends only what the homeserver lacks
                key = f"{reply.key}.{part}" if reply.key else None
                delivery = await self._send_event(room_id, content, key)
                if delivery.status is not Status.SENT:
                    break
        if reply.attachment is not None and delivery.status is Status.SENT:
            delivery = await self._send_file(room, reply.attachment, reply.key)
        if reply.image is not None and delivery.status is Status.SENT:
            delivery = await self._send_file(room, reply.image, f"{reply.key}-image" if reply.key else None, "m.image")
        if reply.private_start and group and delivery.status is Status.SENT:
            self._spawn(self._start_private(room_id, reply.reply_to, reply.private_start))
        return delivery

    async def _send_event(self, room_id: str, content: dict[str, Any], key: str | None) -> Delivery:
        """One ``m.room.message``, one attempt (the sender of :mod:`bot.delivery` retries).

        ``key`` (the outbox's delivery) is the transaction id, so the homeserver takes a retry of
        a message it had already accepted as the same message, also after a restart."""
        try:
            response = await self.client.room_send(
                room_id, "m.room.message", content, tx_id=key or str(uuid4()), ignore_unverified_devices=True
            )
        except NETWORK_ERRORS as error:
            return Delivery(Status.RETRY, error=f"homeserver unreachable: {error!r}")
        if isinstance(response, RoomSendResponse):
            _remember(self._sent, response.event_id, None)
            return Delivery(Status.SENT, message_id=response.event_id)
        return _failure(response)

    async def _send_file(
        self, room: MatrixRoom, attachment: Attachment, key: str | None, msgtype: str = "m.file"
    ) -> Delivery:
        keys: dict[str, Any] | None = None

        async def upload() -> object:
            nonlocal keys
            response, keys = await self.client.upload(
                io.BytesIO(attachment.content),
                content_type=attachment.mimetype,
                filename=attachment.filename,
                encrypt=room.encrypted,
                filesize=len(attachment.content),
            )
            return response

        try:
            response = await upload()
        except NETWORK_ERRORS as error:
            return Delivery(Status.RETRY, error=f"homeserver unreachable: {error!r}")
        if not isinstance(response, UploadResponse):
            return _failure(response)
        content = file_message(attachment, response.content_uri, keys, msgtype)
        return await self._send_event(room.room_id, content, f"{key}-file" if key else None)

    async def _start_private(self, room_id: str, question: str | None, command: str) -> None:
        """Asked in a group, continue in private: open the direct room with the asker and
        hand the core ``!<command>`` from them there, so the dialogue starts in private."""
        asker = await self._asker(room_id, question)
        if asker is None:
            log.warning("cannot continue %s in private: unknown asker of %s", command, question)
            return
        direct = await self.direct.room_for(asker.id)
        if direct is None:
            return
        message = Message(Address(PLATFORM, chat_id=direct), asker, f"!{command}", private=True)
        self._queues.put(direct, partial(self._dispatch, message))

    async def _asker(self, room_id: str, event_id: str | None) -> User | None:
        if not event_id:
            return None
        if event_id in self._askers:
            return self._askers[event_id]
        try:
            response = await persist(partial(self.client.room_get_event, room_id, event_id), patience=30)
        except NETWORK_ERRORS:
            return None
        if not isinstance(response, RoomGetEventResponse):
            return None
        sender = response.event.sender
        room = self.client.rooms.get(room_id)
        name = (room.user_name(sender) if room else None) or sender
        return User(PLATFORM, sender, name=name, username=sender)

    # helpers -------------------------------------------------------------------

    def _is_command(self, name: str) -> bool:
        """One of our commands (to write ``!name`` for ``/name`` in replies)."""
        return self._hub is None or self._hub.is_command(name)

    def _addressed_command(self, name: str) -> bool:
        """A ``!word`` in a group is for us if it is our command or close to one (a typo we
        can correct); other bots' commands are left alone."""
        return self._hub is None or self._hub.is_command(name, or_close=True)

    async def _wait_ready(self) -> bool:
        """Sends wait for the first sync (the rooms and their encryption state)."""
        if self.ready.is_set():
            return True
        try:
            await asyncio.wait_for(self.ready.wait(), self.send_patience)
        except TimeoutError:
            return False
        return True

    async def _known(self, room_id: str, timeout: float) -> bool:
        """Wait until a room the bot just joined arrives in a sync."""
        return await self._until(lambda: room_id in self.client.rooms, timeout)

    async def _until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until the synced state satisfies ``condition`` (False after ``timeout`` seconds)."""
        if condition():
            return True
        async with self._synced:
            try:
                await asyncio.wait_for(self._synced.wait_for(condition), timeout)
            except TimeoutError:
                return False
        return True

    async def _save_position(self, token: str) -> None:
        await self.store.put({NEXT_BATCH: token})

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Matrix background task failed", exc_info=task.exception())

    async def _shut_down(self) -> None:
        """Finish the messages already received (briefly), then close the connection."""
        try:
            await asyncio.wait_for(self._queues.join(), DRAIN_SECONDS)
        except TimeoutError:
            log.warning("stopping with Matrix messages still being handled")
        await self._queues.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()


def _failure(response: object) -> Delivery:
    """What an error answer means for a send."""
    code = getattr(response, "status_code", None)
    message = f"{code}: {getattr(response, 'message', response)}"
    wait = rate_limited(response)
    if wait is not None:
        return Delivery(Status.RETRY, retry_after=wait, error=message)
    if code == "M_FORBIDDEN":
        return Delivery(Status.BLOCKED, error=message)
    if server_error(response):
        return Delivery(Status.RETRY, error=message)
    return Delivery(Status.FAILED, error=message)


def _remember(memory: OrderedDict[str, Any], key: str, value: Any) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > REMEMBERED:
        memory.popitem(last=False)
