"""Admins read the audit log: newest first, a number of entries, a filter."""

from __future__ import annotations

from datetime import timedelta

from bot.adapters.console import ConsoleAdapter
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
        lines[2].startswith("10/1/27, 9:00") and "approve · #1 WT2 Migrant Voices · console:sec" in lines[2]
    )
    assert "register · Migrant Voices (BR) — WT2 WT4 · console:john" in lines[3]
    assert "secretary.add · WT2 console:sec · console:admin" in lines[4]
    assert len(text_of(await console.ask("/audit 1", user_id="admin")).splitlines()) == 3
    filtered = text_of(await console.ask("/audit 50 secretary", user_id="admin")).splitlines()
    assert len(filtered) == 3 and "secretary.add" in filtered[2]
    assert "Nothing recorded matches" in text_of(await console.ask("/audit nadie", user_id="admin"))
