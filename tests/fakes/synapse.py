"""A throwaway Synapse homeserver on 127.0.0.1 for the Matrix tests and the benchmark.

Synapse runs from its own virtualenv (``make synapse`` creates ``.venv-synapse``) so its
pins never fight ours. The generated configuration is for tests only: SQLite, no
federation listener, no statistics, cheap password hashing and rate limits high enough
that only the test that wants a 429 gets one (through the admin ratelimit override).
Users are registered with the shared-secret admin API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SYNAPSE_VENV = ROOT / ".venv-synapse"
SYNAPSE_PYTHON = SYNAPSE_VENV / "bin" / "python"
SERVER_NAME = "gcm.test"
_HIGH = {"per_second": 10000, "burst_count": 10000}


class SynapseMissing(RuntimeError):
    """The Synapse virtualenv is not installed."""


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


_ORPHAN_GUARD = """
import ctypes, os, signal, sys
if sys.platform == "linux":
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: end with the test run
os.execv(sys.argv[1], sys.argv[1:])
"""
"""Run as ``python -c`` before Synapse, so that no homeserver outlives a killed test run."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(workdir: Path, port: int, shared_secret: str) -> dict[str, Any]:
    """The homeserver configuration of the tests (YAML is a superset of JSON)."""
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(workdir / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(workdir / "homeserver.db")}},
        "log_config": str(workdir / "log.yaml"),
        "media_store_path": str(workdir / "media"),
        "signing_key_path": str(workdir / "signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "enable_registration": False,
        "bcrypt_rounds": 4,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "rc_message": _HIGH,
        "rc_registration": _HIGH,
        "rc_login": {"address": _HIGH, "account": _HIGH, "failed_attempts": _HIGH},
        "rc_joins": {"local": _HIGH, "remote": _HIGH},
        "rc_joins_per_room": _HIGH,
        "rc_invites": {"per_room": _HIGH, "per_user": _HIGH, "per_issuer": _HIGH},
        "rc_key_requests": _HIGH,
        "rc_room_creation": _HIGH,
        "rc_media_create": _HIGH,
        "rc_3pid_validation": _HIGH,
        "rc_admin_redaction": _HIGH,
        "rc_presence": {"per_user": _HIGH},
        "rc_delayed_event_mgmt": _HIGH,
        "rc_profile": _HIGH,
        "filter_timeline_limit": 100,
    }


def log_config(workdir: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "formatters": {"precise": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filename": str(workdir / "homeserver.log"),
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


def scratch_dir() -> Path:
    """A fresh directory for a homeserver, on tmpfs when there is one: Synapse's SQLite
    commits are most of its cost per event on a real disk."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="gcmbot-synapse-", dir=shm if shm.is_dir() else None))


class Synapse:
    """One homeserver process: ``start()``, ``stop()``, ``start()`` again keeps its data and port;
    ``close()`` stops it and deletes its directory."""

    def __init__(self, workdir: Path | None = None, port: int | None = None) -> None:
        if not SYNAPSE_PYTHON.exists():
            raise SynapseMissing(
                f"Synapse is not installed in {SYNAPSE_VENV}: run `make synapse` "
                "(the Matrix tests need a real homeserver)"
            )
        self.workdir = workdir or scratch_dir()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server_name = SERVER_NAME
        self.shared_secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "homeserver.yaml").write_text(
            json.dumps(config(self.workdir, self.port, self.shared_secret), indent=1)
        )
        (self.workdir / "log.yaml").write_text(json.dumps(log_config(self.workdir), indent=1))

    # process -------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> None:
        """Start the homeserver and wait until it answers (``launch`` + ``wait_until_up``).

        The first start generates the signing key (Synapse's default "generate missing
        and run" mode, ``signedjson``'s ``generate_signing_key``)."""
        self.launch()
        self.wait_until_up(timeout)

    def launch(self) -> None:
        """Start the process; call it from the main thread (the process ends with its thread)."""
        if self.running:
            return
        output = open(self.workdir / "stdout.log", "ab")  # noqa: SIM115 (owned by the process)
        command = [
            str(SYNAPSE_PYTHON),
            "-m",
            "synapse.app.homeserver",
            "--config-path",
            str(self.workdir / "homeserver.yaml"),
        ]
        self.process = subprocess.Popen(
            [str(SYNAPSE_PYTHON), "-c", _ORPHAN_GUARD, *command],
            cwd=self.workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        output.close()

    def wait_until_up(self, timeout: float = 90.0) -> None:
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited with {self.process.returncode}: {self.logs()}")
            if self.healthy():
                return
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"Synapse did not start within {timeout}s: {self.logs()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def logs(self, tail: int = 4000) -> str:
        text = ""
        for name in ("stdout.log", "homeserver.log"):
            path = self.workdir / name
            if path.exists():
                text += path.read_text(errors="replace")[-tail:]
        return text

    # admin API -----------------------------------------------------------------

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def register(
        self, localpart: str, password: str | None = None, *, admin: bool = False, displayname: str | None = None
    ) -> Account:
        """Create a user through ``/_synapse/admin/v1/register`` (HMAC of the shared secret)."""
        password = password or secrets.token_hex(8)
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"])
        )
        body: dict[str, Any] = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        if displayname:
            body["displayname"] = displayname
        result = self.request("POST", "/_synapse/admin/v1/register", body)
        return Account(result["user_id"], password, result["access_token"], result["device_id"])

    def override_ratelimit(self, admin: Account, user_id: str, per_second: float, burst: int) -> None:
        """Give one user its own message rate limit (lower than the relaxed default)."""
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        self.request("POST", path, {"messages_per_second": per_second, "burst_count": burst}, admin.access_token)

    def delete_device(self, admin: Account, user_id: str, device_id: str) -> None:
        """What "sign out this session" does: the device and its access tokens are gone."""
        path = f"/_synapse/admin/v2/users/{urllib.parse.quote(user_id)}/devices/{urllib.parse.quote(device_id)}"
        self.request("DELETE", path, token=admin.access_token)

    def devices(self, admin: Account, user_id: str) -> list[str]:
        path = f"/_synapse/admin/v2/users/{urllib.parse.quote(user_id)}/devices"
        return sorted(d["device_id"] for d in self.request("GET", path, token=admin.access_token)["devices"])
