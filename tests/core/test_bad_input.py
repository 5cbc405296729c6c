"""No input crashes the core; user text never leaks markup; unexpected errors are apologised for."""

from __future__ import annotations

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.hub import CoreHub
from handlers.core import Core
from handlers.i18n import N_
from handlers.markup import plain
from handlers.registry import Registry
from handlers.services import Services

BAD_INPUTS = [
    "",
    "   ",
    "a" * 10_000,
    "🙂🙂🙂🚀",
    "\x00\x01\x02\x1b[31mred\x7f",
    "<b>bold</b> & *stars* _under_ `code`",
    "<script>alert(1)</script>",
    "/",
    "!",
    "/objetivo <b>1</b>",
    "/mesa <i>&amp;</i>",
    "/idioma <b>",
    "/" + "x" * 5000,
    "\u202eevil\u202c",
]


@pytest.mark.parametrize("text", BAD_INPUTS)
async def test_every_bad_input_gets_a_clear_escaped_answer(console: ConsoleAdapter, text: str) -> None:
    replies = await console.ask(text)
    assert replies, "no answer"
    for reply in replies:
        assert "<script>" not in reply.html and "<b>1</b>" not in reply.html
        assert "<i>&amp;</i>" not in reply.html
        assert plain(reply.html).strip()
        assert len(reply.html) < 8000


async def test_an_unexpected_error_is_logged_and_apologised_for(
    app: App, console: ConsoleAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Registry()

    @broken.command("explode", "explotar", help=N_("This list of commands"))
    async def explode(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    services = app.services
    console.hub = CoreHub(Core(Services.build(services.db, services.config, [*_registries(), broken], services.clock)))
    replies = await console.ask("/explotar")
    assert "algo falló de mi lado" in plain(replies[0].html)
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def _registries() -> list[Registry]:
    from bot.app import registries

    return registries()
