"""The bot's Matrix session: one device for life, its token and sync position in the database.

The first start logs in with the password and stores the access token and device id
(``settings`` table, ``matrix.*`` keys); every later start reuses them, so restarts never
create a new device and the end-to-end keys in the crypto store stay valid.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.adapters.matrix_retry import HOMESERVER, NETWORK_ERRORS, R, rate_limited, server_error
from bot.config import Settings
from bot.retry import persist
from storage.db import Database
from storage.settings import get_setting, put_setting

log = logging.getLogger(__name__)

USER_ID = "matrix.user_id"
ACCESS_TOKEN = "matrix.access_token"
DEVICE_ID = "matrix.device_id"
NEXT_BATCH = "matrix.next_batch"
DIRECT_ROOM = "matrix.direct_room:"
DEVICE_NAME = "gcmbot"


class MatrixLoginError(RuntimeError):
    """The homeserver refused the configured credentials: nothing to retry."""


class HomeserverUnavailable(RuntimeError):
    """A 5xx answer while logging in (a homeserver restarting behind its proxy): retried."""


_RETRIED: tuple[type[BaseException], ...] = (*NETWORK_ERRORS, HomeserverUnavailable)


class SessionStore:
    """The adapter's persistent values in the ``settings`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        async with self.db.transaction() as session:
            return await get_setting(session, key)

    async def put(self, values: dict[str, str]) -> None:
        async with self.db.transaction() as session:
            for key, value in values.items():
                await put_setting(session, key, value)


def make_client(settings: Settings) -> AsyncClient:
    """A nio client with a persistent crypto store; nio itself retries nothing (we do)."""
    assert settings.matrix_homeserver and settings.matrix_user_id
    store = Path(settings.matrix_store_path)
    store.mkdir(parents=True, exist_ok=True)
    config = AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=60,
        store_sync_tokens=False,
    )
    return AsyncClient(
        settings.matrix_homeserver.rstrip("/"),
        settings.matrix_user_id,
        store_path=str(store),
        config=config,
    )


async def log_in(client: AsyncClient, settings: Settings, store: SessionStore, *, again: bool = False) -> None:
    """Restore the stored session, or the configured token, or log in with the password;
    ``again``: the server dropped our token, log in with the password on the same device.

    Waits (with backoff) while the homeserver is unreachable; raises
    :class:`MatrixLoginError` when the credentials are refused.
    """

    async def once() -> None:
        if again:
            await _password_login(client, settings, client.device_id)
            await store.put({ACCESS_TOKEN: client.access_token})
        else:
            await _log_in_once(client, settings, store)

    await persist(once, HOMESERVER, log=log, what=f"homeserver {client.homeserver} unreachable", errors=_RETRIED, level=logging.WARNING)


async def _log_in_once(client: AsyncClient, settings: Settings, store: SessionStore) -> None:
    user_id = settings.matrix_user_id
    assert user_id
    same_user = await store.get(USER_ID) == user_id
    stored_device = await store.get(DEVICE_ID) if same_user else None
    if settings.matrix_access_token:
        device = await _whoami_device(client, user_id, settings.matrix_access_token) or settings.matrix_device_id
        if not device:
            raise MatrixLoginError("the homeserver does not tell the token's device: set MATRIX_DEVICE_ID")
        client.restore_login(user_id, device, settings.matrix_access_token)
    else:
        token = await store.get(ACCESS_TOKEN) if same_user else None
        if token and stored_device and await _whoami_device(client, user_id, token, refused_ok=True):
            client.restore_login(user_id, stored_device, token)
        else:
            await _password_login(client, settings, settings.matrix_device_id or stored_device)
    await store.put({USER_ID: user_id, ACCESS_TOKEN: client.access_token, DEVICE_ID: client.device_id})
    log.info("logged in to %s as %s, device %s", client.homeserver, user_id, client.device_id)


async def _whoami_device(client: AsyncClient, user_id: str, token: str, *, refused_ok: bool = False) -> str | None:
    """The device of ``token``; None if the server no longer knows it (and ``refused_ok``)."""
    client.access_token = token
    client.user_id = user_id
    response = await _answered(client.whoami)
    if isinstance(response, WhoamiResponse):
        if response.user_id != user_id:
            raise MatrixLoginError(f"the access token belongs to {response.user_id}, not {user_id}")
        return response.device_id
    client.access_token = ""
    if refused_ok and response.status_code in ("M_UNKNOWN_TOKEN", "M_FORBIDDEN"):
        log.warning("the stored Matrix access token was refused (%s); logging in again", response.message)
        return None
    raise MatrixLoginError(f"the Matrix access token was refused: {response.status_code} {response.message}")


async def _password_login(client: AsyncClient, settings: Settings, device_id: str | None) -> None:
    if not settings.matrix_password:
        raise MatrixLoginError("MATRIX_PASSWORD is needed: there is no usable access token")
    client.device_id = device_id or ""
    password = settings.matrix_password
    response = await _answered(lambda: client.login(password, device_name=DEVICE_NAME))
    if not isinstance(response, LoginResponse):
        raise MatrixLoginError(f"Matrix login refused: {response.status_code} {response.message}")
    if client.olm is not None:
        # The server may have dropped this device's keys (a logout): publish them again.
        client.olm.account.shared = False


async def _answered(request: Callable[[], Awaitable[R]]) -> R:
    """The answer once the homeserver gives one: rate limits are waited out, a 5xx raises
    :class:`HomeserverUnavailable` (the whole log-in is retried)."""
    response = await persist(request, HOMESERVER, log=log, what="Matrix log-in request", again=rate_limited)
    if server_error(response):
        raise HomeserverUnavailable(f"HTTP {getattr(response, 'status_code', '')} {response}")
    return response
