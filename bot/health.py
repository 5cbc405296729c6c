"""The health server (``HEALTH_PORT``): ``/healthz``, ``/readyz`` and ``/metrics``.

- ``/healthz``: 200 while the process's event loop answers (a container's HEALTHCHECK).
- ``/readyz``: 200 when the database answers and, on the leader, every adapter is connected;
  503 otherwise. JSON: ``{"ready", "role", "database", "adapters"}``; a standby is ready when
  its database is (it can take over).
- ``/metrics``: Prometheus text format (:mod:`bot.metrics`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.metrics import OutboxReader

if TYPE_CHECKING:
    from handlers.services import Services
    from storage.db import Database

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0


class Watched(Protocol):
    """What the health server reads of the running bot (the :class:`~bot.app.App`)."""

    db: Database
    services: Services

    @property
    def role(self) -> str: ...

    def adapter_states(self) -> dict[str, bool]: ...


class HealthServer:
    def __init__(self, app: Watched, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._outbox = OutboxReader(app.db, since=app.services.clock.now())
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        server = web.Application()
        server.router.add_get("/healthz", self._healthz)
        server.router.add_get("/readyz", self._readyz)
        server.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("health and metrics on http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def _readyz(self, _request: web.Request) -> web.Response:
        database = await self._database_answers()
        role = self.app.role
        adapters = self.app.adapter_states()
        ready = database and (role != "leader" or all(adapters.values()))
        body = {"ready": ready, "role": role, "database": database, "adapters": adapters}
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self._outbox.refresh(self.app.services.clock.now())
        except Exception as error:  # the process's own counters are still worth serving
            log.warning("could not read the outbox for /metrics: %s", error)
        response = web.Response(body=generate_latest())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), self.app.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
