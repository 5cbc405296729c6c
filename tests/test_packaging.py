"""Issue 12 item 3: the package build compiles the catalogs, so a plain ``pip install .`` of a
checkout (no ``make``, no ``.mo`` files in git) answers in Spanish."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
_SKIP_ANYWHERE = shutil.ignore_patterns("*.mo", "__pycache__", ".venv*", ".git", "build", "*.egg-info", "tests", "bench")


def SKIP(directory: str, names: list[str]) -> set[str]:
    """What a fresh checkout would not have: built files, and the bot's runtime ``data/`` at the
    top (``handlers/data/`` is source: the knowledge base and the language registry)."""
    skipped = set(_SKIP_ANYWHERE(directory, names))
    return skipped | ({"data"} if Path(directory) == ROOT else set())


@pytest.mark.slow  # installs the package into a fresh virtualenv
def test_a_plain_install_answers_in_spanish(tmp_path: Path) -> None:
    source = tmp_path / "checkout"
    shutil.copytree(ROOT, source, ignore=SKIP)
    assert not list(source.rglob("*.mo"))
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    [wheel] = wheels.glob("gcmbot-*.whl")
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "-q", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    assert (site / "locales" / "es" / "LC_MESSAGES" / "gcmbot.mo").is_file()
    with (ROOT / "locales" / "es" / "LC_MESSAGES" / "gcmbot.po").open("rb") as handle:
        catalog = read_po(handle, locale="es")
    samples = [m for m in catalog if m.id and isinstance(m.id, str) and m.string and m.string != m.id][:25]
    probe = (
        "import json, sys, handlers.i18n as i18n\n"
        "assert i18n.__file__.startswith(sys.argv[1]), i18n.__file__\n"
        "with i18n.use_locale('es'):\n"
        "    print(json.dumps([i18n._(m) for m in json.loads(sys.stdin.read())]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(site)],
        input=json.dumps([m.id for m in samples]),
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True, timeout=120,
    )
    assert json.loads(result.stdout) == [m.string for m in samples]
