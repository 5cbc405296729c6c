"""The deployment as a secretariat would use it, short of a Docker engine: compose.yaml valid
against the Compose specification, the Dockerfile's promises, .env.example in step with the
settings, and a wheel built from a clean export that migrates and answers as an unprivileged
user from an empty directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
UNPRIVILEGED = "nobody"


def compose() -> dict[str, object]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(compose())


def test_compose_runs_postgresql_and_two_restarting_bots_on_it() -> None:
    services: dict[str, dict[str, object]] = compose()["services"]  # type: ignore[assignment]
    bots = {name: service for name, service in services.items() if service.get("image", "").startswith("gcmbot")}  # type: ignore[union-attr]
    assert len(bots) == 2 and "postgres" in services
    assert services["postgres"]["volumes"] and services["postgres"]["healthcheck"]
    for service in bots.values():
        assert service["restart"] == "unless-stopped"
        assert str(service["environment"]["DATABASE_URL"]).startswith("postgresql+asyncpg://")  # type: ignore[index]
        assert service["environment"]["HEALTH_PORT"] == "8080"  # type: ignore[index]
        assert any(str(v).endswith(":/home/gcmbot/data") for v in service["volumes"])  # type: ignore[union-attr]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"  # type: ignore[index]


def test_dockerfile_gives_the_data_directory_to_the_bot_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"mkdir -p /home/gcmbot/data\s*\\\s*&& chown gcmbot:gcmbot /home/gcmbot/data", dockerfile)
    assert dockerfile.index("chown gcmbot") < dockerfile.index('VOLUME ["/home/gcmbot/data"]')
    assert re.search(r"^EXPOSE 8443 8080$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "data", "tests"} <= set(ignored)


def test_env_example_names_only_real_settings() -> None:
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    known = {field.upper() for field in Settings.model_fields} | {"POSTGRES_PASSWORD"}
    assert names and set(names) <= known, set(names) - known
    assert {"TELEGRAM_TOKEN", "BOT_ADMINS", "DATABASE_URL", "HEALTH_PORT"} <= set(names)


def test_systemd_unit_runs_the_bot_as_its_own_user_and_restarts_it() -> None:
    unit = (ROOT / "deploy" / "gcmbot.service").read_text()
    for line in ("ExecStart=/opt/gcmbot/venv/bin/gcmbot run", "Restart=always", "User=gcmbot", "EnvironmentFile="):
        assert line in unit


def _interpreter_for(user: str) -> str | None:
    """A Python >= 3.11 that ``user`` may run (a pyenv under /root is not one)."""
    for candidate in (sys.executable, shutil.which("python3.11"), "/usr/bin/python3"):
        if candidate and _as(user, [candidate, "-c", "import sys, venv; assert sys.version_info >= (3, 11)"]).returncode == 0:
            return candidate
    return None


def _as(user: str, command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    prefix = [] if os.geteuid() != 0 else ["setpriv", f"--reuid={user}", f"--regid={_group(user)}", "--clear-groups"]
    return subprocess.run([*prefix, *command], capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def _group(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory others can traverse (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="gcmbot-wheel-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_wheel_from_a_clean_export_migrates_and_answers_as_an_unprivileged_user(scratch: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to export")
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot become an unprivileged user")
    python = _interpreter_for(UNPRIVILEGED) if os.geteuid() == 0 else sys.executable
    if python is None:
        pytest.skip(f"no Python >= 3.11 that {UNPRIVILEGED} may run")
    source = scratch / "src"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    tools = Path(sys.executable).parent
    subprocess.run([str(tools / "pybabel"), "compile", "-D", "gcmbot", "-d", "locales"], cwd=source, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(scratch / "dist"), "."], cwd=source, check=True, capture_output=True)
    [wheel] = (scratch / "dist").glob("gcmbot-*.whl")
    venv = scratch / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    for path in [scratch, *scratch.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o055 if path.is_dir() else path.stat().st_mode | 0o044)

    home = scratch / "home"  # empty, and the user's own: the data directory is created inside it
    home.mkdir()
    if os.geteuid() == 0:
        shutil.chown(home, UNPRIVILEGED)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    gcmbot = str(venv / "bin" / "gcmbot")
    migrate = _as(UNPRIVILEGED, [gcmbot, "migrate"], cwd=home, env=env)
    assert migrate.returncode == 0, migrate.stderr
    check = _as(UNPRIVILEGED, [gcmbot, "migrate", "--check"], cwd=home, env=env)
    assert check.returncode == 0 and "current" in check.stdout
    ask = _as(UNPRIVILEGED, [gcmbot, "ask", "--json", "¿qué es el objetivo 5?"], cwd=home, env=env)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert answer["objectives"] == [5] and "migración regular" in answer["text"]
    database = home / "data" / "gcmbot.sqlite3"
    assert database.exists() and (os.geteuid() != 0 or database.stat().st_uid != 0)
