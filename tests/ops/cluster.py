"""Several real ``gcmbot run`` processes on one database, for the failover tests and
bench/failover.py: each behind its own taps, so what each process did can be told apart and
its connections cut.

- :class:`Tap` forwards HTTP to the Bot API server and records each message the instance sent
  (when it was accepted): who sent what, and whether two instances ever sent at once.
- :class:`Cable` forwards TCP to PostgreSQL; :meth:`Cable.cut` drops every connection and
  refuses new ones (the server sees the connections close); :meth:`Cable.freeze` silently
  stops carrying anything, as a network gone between that instance and the database (the
  server only notices the silence).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from sqlalchemy.engine import make_url

GCMBOT = Path(sys.executable).parent / "gcmbot"
SEND_METHODS = ("sendmessage", "senddocument", "editmessagetext")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sent:
    instance: str
    at: float
    method: str
    chat_id: str
    text: str


class Tap:
    """An HTTP relay in front of the Bot API server that records the messages sent through it."""

    def __init__(self, name: str, upstream: str, sent: list[Sent]) -> None:
        self.name = name
        self.upstream = upstream.rstrip("/")
        self.sent = sent
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._http = ClientSession(timeout=ClientTimeout(total=None))
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._relay)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type",)}
        try:
            async with self._http.request(
                request.method, self.upstream + request.path_qs, data=body, headers=headers
            ) as answer:
                payload = await answer.read()
                status, content_type = answer.status, answer.content_type
        except ClientError:
            return web.Response(status=502)
        method = request.path.rsplit("/", 1)[-1].lower()
        if status == 200 and method in SEND_METHODS:
            params = _params(body, request.content_type)
            self.sent.append(
                Sent(self.name, time.monotonic(), method, str(params.get("chat_id", "")), str(params.get("text", "")))
            )
        return web.Response(body=payload, status=status, content_type=content_type)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type == "application/json":
        with contextlib.suppress(ValueError):
            return dict(json.loads(body or b"{}"))
    return {}


class Cable:
    """A TCP relay to PostgreSQL that can be cut. ``host`` may be a unix-socket directory (the
    embedded server of ``tests/postgres_server.py`` listens only there)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.target_port = host, port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._flowing.wait()
        if self._server is None:  # cut while waiting
            writer.transport.abort()
            return
        try:
            if self.host.startswith("/"):
                socket_path = f"{self.host}/.s.PGSQL.{self.target_port}"
                up_reader, up_writer = await asyncio.open_unix_connection(socket_path)
            else:
                up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True)
        self._writers -= {writer, up_writer}

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                await self._flowing.wait()
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.transport.abort()

    def freeze(self) -> None:
        """Carry nothing more, close nothing: a silent network failure."""
        self._flowing.clear()

    async def cut(self) -> None:
        """Every connection dropped, none accepted any more."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def stop(self) -> None:
        await self.cut()
        self._flowing.set()  # what waited on a frozen cable ends now
        await asyncio.sleep(0)


@dataclass
class Instance:
    name: str
    process: asyncio.subprocess.Process
    health_port: int
    log: Path
    tap: Tap
    cable: Cable | None = None
    started: float = field(default_factory=time.monotonic)

    async def ready(self) -> dict[str, Any] | None:
        """/readyz's JSON (also when 503), or None while the server does not answer."""
        try:
            async with ClientSession(timeout=ClientTimeout(total=2)) as http:
                async with http.get(f"http://127.0.0.1:{self.health_port}/readyz") as answer:
                    return dict(await answer.json())
        except (OSError, asyncio.TimeoutError, ValueError):
            return None

    async def role(self) -> str | None:
        found = await self.ready()
        return None if found is None else str(found.get("role"))

    async def metrics(self) -> str:
        async with ClientSession(timeout=ClientTimeout(total=5)) as http:
            async with http.get(f"http://127.0.0.1:{self.health_port}/metrics") as answer:
                return await answer.text()

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """Terminate the process (resumed first: a stopped one would not act on SIGTERM)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                await self.kill()
        await self.tap.stop()
        if self.cable is not None:
            await self.cable.stop()


async def spawn(
    name: str,
    workdir: Path,
    database_url: str,
    telegram_url: str,
    token: str,
    sent: list[Sent],
    *,
    cable: bool = False,
    env: dict[str, str] | None = None,
) -> Instance:
    """Start ``gcmbot run`` with Telegram (through its own tap) and a health port; with
    ``cable``, its PostgreSQL connections go through a :class:`Cable`."""
    tap = Tap(name, telegram_url, sent)
    await tap.start()
    relay: Cable | None = None
    if cable:
        url = make_url(database_url)
        host = url.host or str(url.query.get("host") or "127.0.0.1")
        relay = Cable(host, url.port or int(str(url.query.get("port") or 5432)))
        await relay.start()
        database_url = (
            url.difference_update_query(["host", "port"])
            .set(host="127.0.0.1", port=relay.port)
            .render_as_string(hide_password=False)
        )
    health_port = free_port()
    values = {
        key: value for key, value in os.environ.items() if not key.startswith(("MATRIX_", "TELEGRAM_", "BOT_", "HEALTH_"))
    } | {
        "DATABASE_URL": database_url,
        "TELEGRAM_TOKEN": token,
        "TELEGRAM_BASE_URL": tap.url,
        "BOT_LANGUAGE": "es",
        "BOT_TIMEZONE": "America/Bogota",
        "HEALTH_PORT": str(health_port),
        "HEALTH_LISTEN": "127.0.0.1",
        "LOG_LEVEL": os.environ.get("CLUSTER_LOG_LEVEL", "INFO"),
    } | (env or {})
    log = workdir / f"{name}.log"
    process = await asyncio.create_subprocess_exec(
        str(GCMBOT), "run", cwd=workdir, env=values,
        stdout=log.open("ab"), stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
    )
    return Instance(name, process, health_port, log, tap, relay)


async def wait_roles(instances: list[Instance], timeout: float = 60) -> dict[str, str | None]:
    """Wait until exactly one instance leads and every other live one stands by."""
    deadline = time.monotonic() + timeout
    while True:
        roles = {i.name: await i.role() for i in instances}
        live = [r for i, r in zip(instances, roles.values()) if i.process.returncode is None]
        if live.count("leader") == 1 and all(r in ("leader", "standby") for r in live):
            return roles
        if time.monotonic() > deadline:
            raise TimeoutError(f"no single leader: {roles}")
        await asyncio.sleep(0.2)


def overlaps(sent: list[Sent]) -> int:
    """Periods in which two instances sent: times the sender changed back to an instance that
    had already been replaced (its sends interleave with its successor's)."""
    order = [s.instance for s in sorted(sent, key=lambda s: s.at)]
    runs = [name for index, name in enumerate(order) if index == 0 or order[index - 1] != name]
    seen: set[str] = set()
    count = 0
    for name in runs:
        count += name in seen
        seen.add(name)
    return count
