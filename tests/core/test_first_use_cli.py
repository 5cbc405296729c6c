"""Issue 12, items 2, 5 and 12: `gcmbot ask` forgets between runs; the console greets, prompts
after each answer, keeps logs out of the chat and says when it resumes a dialogue; `gcmbot run`
with nothing to run says so."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handlers.knowledge import load_knowledge

pytestmark = pytest.mark.slow  # each test starts `gcmbot` as a process of its own


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "MATRIX_"))}
    env.pop("DATABASE_URL", None)
    env.pop("LOG_LEVEL", None)
    env.update({"BOT_LANGUAGE": "es", "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **extra})
    return env


def ask(cwd: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", *args],
        input=stdin, capture_output=True, text=True, env=environment(), cwd=cwd, timeout=120, check=True,
    )
    return result.stdout


def test_each_ask_is_a_new_conversation_and_leaves_nothing_behind(tmp_path: Path) -> None:
    assert "Pregunta 1 de 7" in ask(tmp_path, "¿cómo registro mi organización?")
    later = ask(tmp_path, "--lang", "en", "which table works on remittances?")
    assert "Question" not in later and "country" not in later
    assert load_knowledge().tables["WT1"].name("en") in later or "WT" in later
    assert list(tmp_path.iterdir()) == []  # no ./data: nothing for a later ask to find


def test_lines_read_with_a_dash_are_one_conversation(tmp_path: Path) -> None:
    answers = ask(tmp_path, "--lang", "en", "-", stdin="/register\nX\n").splitlines()
    assert len(answers) == 2 and "Question 2 of 7" in answers[1]
    assert "Question 2 of 7" not in ask(tmp_path, "--lang", "en", "X")


def test_the_issue_reproduction_never_takes_done_as_the_contact(tmp_path: Path) -> None:
    answers = ask(
        tmp_path, "--lang", "en", "-", stdin="/register\nX\nDominican Republic\n3\n1 2\ndone\n"
    ).splitlines()
    assert "Question 5 of 7" in answers[4] and "WT1, WT2" in answers[4]
    assert "Question 6 of 7" not in answers[5] and "not a name" in answers[5]


def test_run_with_nothing_to_run_says_so_and_fails(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=environment(), cwd=tmp_path, timeout=60,
    )
    assert result.returncode != 0
    assert "nothing to run" in result.stderr and "TELEGRAM_TOKEN" in result.stderr
    assert result.stdout == ""


class Terminal:
    """`gcmbot run` on a pseudo-terminal, as a person at a keyboard has it."""

    def __init__(self, cwd: Path, **env: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(**env), cwd=cwd,
        )
        os.close(slave)
        assert self.process.stdout is not None
        self.stdout = self.process.stdout.fileno()
        self.seen = b""

    def read_until(self, ending: bytes, timeout: float = 60) -> str:
        """Everything printed until the output ends with ``ending`` (the prompt)."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while len(self.seen) == start or not self.seen.endswith(ending):
            assert time.monotonic() < deadline, self.seen.decode(errors="replace")
            if select.select([self.stdout], [], [], 0.5)[0]:
                self.seen += os.read(self.stdout, 65536)
        return self.seen[start:].decode()

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def leave(self) -> str:
        os.write(self.master, b"\x04")  # Ctrl-D
        _out, err = self.process.communicate(timeout=60)
        os.close(self.master)
        return err.decode()


def test_console_greets_prompts_after_each_answer_and_keeps_logs_out(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path)
    greeting = terminal.read_until(b"> ")
    assert "gcmbot" in greeting.splitlines()[0] and "/ayuda" in greeting
    terminal.type("/objetivo 10")
    answer = terminal.read_until(b"> ")
    assert load_knowledge().objectives[10].title("es") in answer
    assert answer.rstrip().endswith(">")  # the prompt comes after the answer, not before it
    err = terminal.leave()
    assert terminal.process.returncode == 0
    assert " INFO " not in err and " INFO " not in terminal.seen.decode()


def test_console_says_when_it_resumes_an_open_dialogue(tmp_path: Path) -> None:
    first = Terminal(tmp_path)
    assert "dialog" not in first.read_until(b"> ")
    first.type("/registro")
    first.read_until(b"> ")
    first.type("Red X")
    assert "Pregunta 2 de 7" in first.read_until(b"> ")
    first.leave()
    second = Terminal(tmp_path)
    opening = second.read_until(b"> ")
    assert "/cancelar" in opening and "diálogo" in opening
    second.type("Chile")
    assert "Pregunta 3 de 7" in second.read_until(b"> ")
    second.leave()


def test_log_level_asks_for_more(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path, LOG_LEVEL="INFO")
    terminal.read_until(b"> ")
    err = terminal.leave()
    assert " INFO " in err


def test_ask_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    result = subprocess.run(
        f"yes /mesas | head -50 | {sys.executable} -m bot.cli ask - | head -1",
        shell=True, capture_output=True, text=True, env=environment(), cwd=tmp_path, timeout=120,
    )
    assert result.stdout.startswith("Las mesas del mecanismo")
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
