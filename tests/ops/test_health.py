"""The health server (/healthz, /readyz, /metrics) and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import aiohttp
import pytest

from bot import logs
from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.health import HealthServer
from bot.leadership import SoleLeadership
from tests.conftest import make_settings
from tests.ops.cluster import free_port


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as answer:
        return answer.status, await answer.text()


async def test_health_readiness_and_metrics_of_a_running_bot(app: App, tmp_path: Path) -> None:
    console = ConsoleAdapter(app.core, files_dir=tmp_path / "files", output=io.StringIO())
    app.add(console)
    app.leadership = SoleLeadership(None)
    port = free_port()
    health = HealthServer(app, "127.0.0.1", port)
    await health.start()
    try:
        await app.dispatch(console.message("/objetivo 10"))
        assert (await get(port, "/healthz"))[0] == 200
        status, body = await get(port, "/readyz")
        assert status == 200
        assert json.loads(body) == {"ready": True, "role": "leader", "database": True, "adapters": {"console": True}}
        status, metrics = await get(port, "/metrics")
        assert status == 200
        assert 'gcmbot_messages_handled_total{intent="objective",platform="console"}' in metrics
        assert "gcmbot_answer_seconds_count" in metrics and "gcmbot_outbox_lag_seconds 0.0" in metrics
    finally:
        await health.stop()


async def test_not_ready_without_the_database(tmp_path: Path) -> None:
    app = App(make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"))
    port = free_port()
    health = HealthServer(app, "127.0.0.1", port)
    await health.start()
    try:
        status, body = await get(port, "/readyz")
        assert status == 503 and json.loads(body)["database"] is False
        assert (await get(port, "/healthz"))[0] == 200  # alive all the same: not a reason to restart it
        assert (await get(port, "/metrics"))[0] == 200
    finally:
        await health.stop()
        await app.close()


def test_json_log_lines(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("INFO", "json")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("bot.test").exception("could not do %s", "it")
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.test" and entry["message"] == "could not do it"
    assert "ValueError: boom" in entry["exception"] and entry["time"].endswith("+00:00")
