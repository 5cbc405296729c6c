"""The health server (/healthz, /readyz, /metrics) and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import logs
from bot import metrics as metrics_module
from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.health import HealthServer
from bot.leadership import SoleLeadership
from storage import deliveries
from tests.conftest import FakeClock, make_settings
from tests.ops.cluster import free_port


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as answer:
        return answer.status, await answer.text()


async def test_health_readiness_and_metrics_of_a_running_bot(app: App, tmp_path: Path) -> None:
    console = ConsoleAdapter(app.hub, files_dir=tmp_path / "files", output=io.StringIO())
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


async def test_metrics_of_the_outbox_and_the_adapters(app: App, clock: FakeClock, tmp_path: Path) -> None:
    console = ConsoleAdapter(app.hub, files_dir=tmp_path / "files", output=io.StringIO())
    app.add(console)
    port = free_port()
    health = HealthServer(app, "127.0.0.1", port)
    await health.start()
    try:
        async with app.db.transaction() as session:
            notice = await deliveries.ensure_notice(
                session, key="metrics:1", kind="broadcast", due_at=clock.now(), status=deliveries.EXPANDED,
                payload={"target": "WT2", "text": "Asamblea", "chat": {"platform": "console", "chat_id": "admin"}},
            )
            assert notice is not None
            await deliveries.add_deliveries(
                session, notice.id, [deliveries.Recipient("console", chat_id=f"member-{n}") for n in range(3)], clock.now()
            )
        clock.advance(timedelta(seconds=42))
        metrics = (await get(port, "/metrics"))[1]
        assert "gcmbot_outbox_lag_seconds 42.0" in metrics and 'gcmbot_outbox_waiting{status="pending"} 3.0' in metrics

        await app.sender.run_due()
        metrics = (await get(port, "/metrics"))[1]
        assert "gcmbot_outbox_lag_seconds 0.0" in metrics
        assert "gcmbot_notice_lateness_seconds_count{kind=\"broadcast\"} 3.0" in metrics, [l for l in metrics.splitlines() if "lateness" in l or "deliveries" in l]
        assert 'gcmbot_notice_lateness_seconds_bucket{kind="broadcast",le="60.0"} 3.0' in metrics
        assert 'gcmbot_deliveries_total{platform="console",status="sent"}' in metrics

        metrics_module.count_adapter_errors()
        logging.getLogger("bot.adapters.matrix_retry").warning("homeserver unreachable; retrying")
        assert 'gcmbot_adapter_errors_total{adapter="matrix"}' in (await get(port, "/metrics"))[1]
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
