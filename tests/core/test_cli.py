"""`gcmbot ask` as a user runs it: a real process, a real database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.knowledge import load_knowledge

pytestmark = pytest.mark.slow  # each test starts `gcmbot` as a process of its own


def gcmbot(tmp_path: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ask.sqlite3'}", "BOT_LANGUAGE": "es"}
    env.pop("TELEGRAM_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_ask_json_reports_intent_objectives_and_tables(tmp_path: Path) -> None:
    [line] = gcmbot(tmp_path, "ask", "--json", "¿qué mesa ve los temas de detención migratoria?").splitlines()
    answer = json.loads(line)
    assert set(answer) == {"intent", "objectives", "tables", "text"}
    assert answer["intent"] == "objective"
    assert answer["objectives"][0] == 13 and answer["tables"][0] == "WT2"
    assert load_knowledge().objectives[13].title("es") in answer["text"]


def test_ask_reads_one_message_per_line_and_answers_one_line_each(tmp_path: Path) -> None:
    questions = ["/objetivo 10", "what does table 3 cover?", "", "/mesa 7", "objetivo sobre la trata"]
    lines = gcmbot(tmp_path, "ask", "--json", "-", stdin="\n".join(questions) + "\n").splitlines()
    answers = [json.loads(line) for line in lines]
    assert len(answers) == len(questions)
    assert answers[0]["objectives"] == [10] and answers[0]["intent"] == "objective"
    assert answers[1]["intent"] == "table" and answers[1]["tables"][0] == "WT3"
    assert answers[4]["objectives"][0] == 10
    plain_lines = gcmbot(tmp_path, "ask", "-", stdin="\n".join(questions) + "\n").splitlines()
    assert len(plain_lines) == len(questions)


def test_ask_lang_forces_the_answer_language(tmp_path: Path) -> None:
    en = gcmbot(tmp_path, "ask", "--lang", "en", "/objetivo 10")
    es = gcmbot(tmp_path, "ask", "--lang", "es", "/objective 10")
    assert load_knowledge().objectives[10].title("en") in en
    assert load_knowledge().objectives[10].title("es") in es
    detected = gcmbot(tmp_path, "ask", "/objective 10")
    assert load_knowledge().objectives[10].title("en") in detected


def test_run_without_a_platform_is_a_console_that_answers_piped_lines(tmp_path: Path) -> None:
    out = gcmbot(tmp_path, "run", stdin="/objetivo 10\n/objective 4\n")
    assert load_knowledge().objectives[10].title("es") in out
    assert load_knowledge().objectives[4].title("en") in out


def test_sigterm_stops_the_bot_cleanly_even_while_it_waits_for_input(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}", "LOG_LEVEL": "info"}
    env.pop("TELEGRAM_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("/objetivo 10\n")
    process.stdin.flush()
    assert "Objetivo 10" in process.stdout.readline()  # running, and now blocked reading stdin
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in err and "stopped" in err
