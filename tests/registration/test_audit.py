"""Admins read the audit log: newest first, a number of entries, a filter."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.approval import _ACTIONS as approval_actions
from handlers.audit import ACTION_LABELS, action_label
from handlers.i18n import use_locale
from storage import audit
from tests.conftest import FakeClock
from tests.registration.conftest import ANSWERS_EN, run_wizard, text_of


async def test_audit_lists_filters_and_limits(console: ConsoleAdapter, clock: FakeClock) -> None:
    assert "Todavía no hay nada registrado" in text_of(await console.ask("/auditoria", user_id="admin"))
    await console.ask("/secretaria agregar WT2 console:sec", user_id="admin")
    clock.advance(timedelta(hours=1))
    await run_wizard(console, "john", ANSWERS_EN, start="/register")
    clock.advance(timedelta(hours=1))
    await console.ask("/aprobar 1", user_id="sec")
    lines = text_of(await console.ask("/auditoria", user_id="admin")).splitlines()
    assert lines[0] == "Últimas acciones registradas"
    assert (
        lines[2].startswith("10/1/27, 9:00") and "solicitud aprobada · #1 WT2 Migrant Voices · console:sec" in lines[2]
    )
    assert "registro · Migrant Voices (BR) — WT2 WT4 · console:john" in lines[3]
    assert "designación de secretaría · WT2 console:sec · console:admin" in lines[4]
    assert len(text_of(await console.ask("/audit 1", user_id="admin")).splitlines()) == 3
    filtered = text_of(await console.ask("/audit 50 secretary", user_id="admin")).splitlines()
    assert len(filtered) == 3 and "secretary appointed" in filtered[2]
    assert "Nothing recorded matches" in text_of(await console.ask("/audit nadie", user_id="admin"))


def recorded_actions() -> list[tuple[str, str]]:
    """The action names the code hands to ``audit.record``: literals, and f-strings as patterns."""
    found: list[tuple[str, str]] = []
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "handlers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"):
                continue
            if len(node.args) < 3:
                continue
            action = node.args[2]
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                found.append((path.name, re.escape(action.value)))
            elif isinstance(action, ast.JoinedStr):
                pattern = "".join(
                    re.escape(part.value) if isinstance(part, ast.Constant) else ".+" for part in action.values
                )
                found.append((path.name, pattern))
    return found


def test_every_recorded_action_has_a_label() -> None:
    """Issue 12 item 4: /auditoria shows what happened in the reader's language, not raw names."""
    actions = recorded_actions()
    assert len(actions) >= 15
    unlabelled = [(f, p) for f, p in actions if not any(re.fullmatch(p, name) for name in ACTION_LABELS)]
    assert not unlabelled
    assert set(approval_actions.values()) <= set(ACTION_LABELS)


async def test_audit_in_spanish_shows_no_raw_action_names(app: App, console: ConsoleAdapter) -> None:
    await console.ask("/secretaria agregar WT1 console:sec", user_id="admin")
    await run_wizard(console, "ana")
    await console.ask("/aprobar 1", user_id="sec")
    await console.ask("/rechazar 2 no", user_id="admin")
    shown = text_of(await console.ask("/auditoria", user_id="admin"))
    async with app.db.transaction() as session:
        entries = await audit.recent(session, 50, None)
    assert {e.action for e in entries} >= {"secretary.add", "register", "approve", "reject"}
    for entry in entries:
        assert f"· {entry.action} ·" not in shown
    with use_locale("es"):
        assert all(action_label(e.action) in shown for e in entries)
    assert "designación de secretaría" in shown and "solicitud aprobada" in shown
