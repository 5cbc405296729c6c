"""Admins import pledges from CSV or XLSX: from the command line and as a file sent privately;
a second import adds nothing, bad rows are named by line and the rest is imported."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from storage.pledges import Pledge
from tests.conftest import make_settings
from tests.meetings.conftest import make_member
from tests.pledges.conftest import texts

CSV = (
    "organización;país;título;objetivos;descripción;enlace\n"
    "Red Ana;Colombia;Albergues;10, 23;Refugios;https://example.org/p/1\n"
    "Red Ana;CO;Rutas seguras;trata de personas;;\n"
    "Nadie;CO;Algo;5;;\n"
    "Red Ana;CO;Sin objetivos;;;\n"
)


async def titles(app: App) -> list[str]:
    async with app.db.transaction() as session:
        return [p.title for p in await session.scalars(select(Pledge).order_by(Pledge.id))]


async def test_a_csv_sent_privately_by_an_admin(app: App, console: ConsoleAdapter, tmp_path: Path) -> None:
    await make_member(app, "console:ana", "Red Ana", ["WT3"], at=app.services.clock.now())
    path = tmp_path / "compromisos.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    answer = texts(await console.ask(f":file {path}", user_id="admin"))
    assert "Importados 2 compromisos; 0 ya estaban registrados." in answer
    assert "Línea 4: no hay una única organización registrada llamada “Nadie”" in answer
    assert "Línea 5:" in answer
    assert await titles(app) == ["Albergues", "Rutas seguras"]
    again = texts(await console.ask(f":file {path}", user_id="admin"))
    assert "Importados 0 compromisos; 2 ya estaban registrados." in again
    listed = texts(await console.ask("/compromiso lista", user_id="ana"))
    assert "objetivos 10, 23" in listed


async def test_an_xlsx_and_a_file_that_is_not_one(app: App, console: ConsoleAdapter, tmp_path: Path) -> None:
    await make_member(app, "console:ana", "Red Ana", ["WT3"], at=app.services.clock.now())
    book = Workbook()
    book.active.append(["Organisation", "Title", "Objectives"])
    book.active.append(["Red Ana", "Legal aid", 7])
    out = io.BytesIO()
    book.save(out)
    (tmp_path / "pledges.xlsx").write_bytes(out.getvalue())
    assert "Importados 1" in texts(await console.ask(f":file {tmp_path / 'pledges.xlsx'}", user_id="admin"))
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    assert "No pude leer" in texts(await console.ask(f":file {tmp_path / 'broken.xlsx'}", user_id="admin"))
    (tmp_path / "notes.txt").write_text("hola")
    assert ".csv o .xlsx" in texts(await console.ask(f":file {tmp_path / 'notes.txt'}", user_id="admin"))
    (tmp_path / "header.csv").write_text("name,what\nx,y\n")
    assert "encabezado" in texts(await console.ask(f":file {tmp_path / 'header.csv'}", user_id="admin"))
    assert await titles(app) == ["Legal aid"]


@pytest.mark.slow  # a real `gcmbot` process
async def test_the_command_line_import(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    app = App(make_settings(url))
    await app.start()
    try:
        await make_member(app, "console:ana", "Red Ana", ["WT3"], at=app.services.clock.now())
    finally:
        await app.close()
    path = tmp_path / "pledges.csv"
    path.write_text(CSV, encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": url, "BOT_LANGUAGE": "en"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "pledges", "import", str(path)],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )
    assert "Imported 2 pledges; 0 were already on record." in result.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "bot.cli", "pledges", "import", str(tmp_path / "none.csv")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert missing.returncode == 1 and "cannot read" in missing.stderr
