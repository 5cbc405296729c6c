"""Property: whatever arrives — every registered command with random arguments, from every role,
in private and in groups, with unicode of every kind — the core answers, without apologising,
without echoing markup or a lone surrogate, in parts every platform accepts.

``FUZZ_EXAMPLES`` sets the messages per database (``make fuzz`` runs 12,500 on each); the
figures are printed at the end (``-s`` shows them)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console import ConsoleAdapter
from bot.adapters.matrix_render import MAX_CONTENT_BYTES, notices
from bot.app import App
from handlers.i18n import LANGUAGES, _, use_locale
from handlers.markup import split_html, visible_length
from handlers.message import Address, Message, Reply, User
from tests.conftest import FakeClock, make_settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1500"))
TELEGRAM_LIMIT = 4096
ALLOWED_TAGS = {"b", "i", "code", "pre", "a"}
_TAG = re.compile(r"<\s*(/?)\s*([^\s>/]+)[^>]*>?")
_OUR_LINK = re.compile(r'<a href="(?:https?://|mailto:)[^"<>]*">')
_SURROGATE = re.compile(r"[\ud800-\udfff]")
PLATFORM = "console"

PEOPLE = ("admin", "sec", "ana", "newcomer", "other")
"""An admin (``BOT_ADMINS``), WT2's secretary, a member with a registered organisation, and two strangers."""

WORDS = [
    # numbers, including digit-like characters and huge ones
    "1", "2", "10", "23", "24", "0", "-1", "2147483648", "9" * 5000, "²", "①", "፩", "٣", "#12", "p2", "p99999",
    # tables, actions and flags in both languages
    "WT1", "WT2", "wt3", "LT", "TT", "WT9", "agregar", "add", "quitar", "lista", "list", "nueva", "add", "mover",
    "move", "cancelar", "cancel", "confirmar", "confirm", "dia", "day", "todas", "all", "recordar", "remind",
    "--trimestral", "--quarterly", "--recordar", "3d,1h", "7d", "sí", "yes", "no", "-", "en", "es", "fr",
    # dates, times and zones
    "2027-02-15", "15/02/2027", "9999-12-31", "0000-01-01", "2031-12-31", "2027-02-30", "15:00", "25:00", "9h30",
    "America/Bogota", "Factory", "posix/Europe/Madrid", "UTC", "santiago",
    # people
    "@ana", "@sec", "@nobody", "console:sec", "console:ana", "telegram:12345", "matrix:@Alice:Example.org",
    "@Alice:Example.org", "matrix:@" + "a" * 300 + ":x.org", "telegram:" + "9" * 300, "console:" + "x" * 300,
    "telegram:٣",
    # markup and links
    "<b>", "</i>", "<script>alert(1)</script>", "&amp;", "<a href='javascript:x'>x</a>", "https://meet.example.org/x",
    "\"Quarterly", "\"Título con comillas\"",
    # unicode that has broken things
    "\ud800", "a\udfffb", "\u202etxet", "\u200b", "\x00", "\x1b[31m", "ß" * 150, "İ" * 200, "Rеd Uno", "Red Un0",
    "a@-.org", "a@" + "İ" * 200 + ".org", "ana@example.org", "😀" * 50, "x" * 5000,
]

TEMPLATES = [
    "/reunion nueva {t} {d} {h} {w} {w}", "/meeting add {t} {d} {h} --quarterly {w}", "/reunion mover {n} {d} {h} {w}",
    "/reunion cancelar {n} {w}", "/reunion recordar {n} {w}", "/reunion lista {w}", "/secretaria agregar {t} {u}",
    "/secretary remove {t} {u}", "/secretaria lista {w}", "/aprobar {n}", "/rechazar {n} {w}", "/approve {n} {w}",
    "/difundir {t} {w} {w}", "/difundir confirmar {n}", "/broadcast cancel {n}", "/compromisos dia {n} {h}",
    "/compromisos enlace {w}", "/auditoria {n} {w}", "/audit {w} {p}", "/pendientes {p}", "/miembros {t} {p}",
    "/exportar {t}", "/zona {z}", "/timezone {w}", "/idioma {w}", "/objetivo {n}", "/mesa {t}", "/suscribir {t}",
    "/desuscribir {t}", "/unirse {t}", "/salir {t}", "/olvidar {w}", "/olvidar sí", "/registro", "/atras {w}",
    "/calendario {t}", "/reuniones {t}", "/proxima {w}", "/start {w}", "{w}", "{n}", "{d} {h}",
]
HOLES = {
    "t": ["WT1", "WT2", "WT3", "WT4", "LT", "TT", "all", "todas", "WT9", "2"],
    "d": ["2027-02-15", "15/02/2027", "9999-12-31", "0000-01-01", "2031-12-31", "2032-01-20", "2027-02-29", "31/04/27"],
    "h": ["15:00", "9h30", "25:00", "0:00", "23:59"],
    "z": ["America/Bogota", "Factory", "posix/Europe/Madrid", "UTC", "santiago", "Asia/Tokyo"],
    "u": ["@ana", "@sec", "@nobody", "console:sec", "console:ana", "telegram:12345", "matrix:@Alice:Example.org",
          "@" + "b" * 300 + ":x.org", "console:" + "x" * 300, "@" + "c" * 300],
    "n": ["1", "2", "3", "12", "0", "²", "①", "፩", "٣", "9" * 5000, "2147483648", "#1", "-1", "15"],
    "p": ["p2", "p0", "p99999", "p²", ""],
}


def fill(template: str, draw: st.DrawFn) -> str:
    def hole(match: re.Match[str]) -> str:
        key = match.group(1)
        pool = WORDS if key == "w" else HOLES[key]
        return draw(st.sampled_from(pool) | (unicode_text if key == "w" else st.sampled_from(pool)))

    return re.sub(r"\{(\w)\}", hole, template)


@st.composite
def templated(draw: st.DrawFn) -> str:
    return fill(draw(st.sampled_from(TEMPLATES)), draw)


unicode_text = st.text(
    alphabet=st.characters(codec=None, blacklist_categories=()), max_size=80
) | st.text(max_size=300)
arguments = st.lists(st.sampled_from(WORDS) | unicode_text, max_size=6).map(" ".join)
names = st.sampled_from(["Ana", "", "Boss Admin (@boss)", "<b>x</b>", "\ud83d", "N" * 400]) | unicode_text


class Harness:
    """An app on its own event loop, driven one message at a time from a synchronous test."""

    def __init__(self, url: str, files: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.start = self.clock.now()
        self.app = App(make_settings(url), clock=self.clock)
        self.run(self.app.start())
        self.app.add(ConsoleAdapter(self.app.hub, files_dir=files, output=io.StringIO()))
        self.figures: Counter[str] = Counter({figure: 0 for figure in FIGURES})
        for line in ("/secretaria agregar WT2 console:sec",):
            self.handle(self.message(line, "admin"))
        for answer in ("/registro", "Red Uno", "México", "2", "2", "Ana Pérez", "ana@example.org", "sí", "confirmar"):
            self.handle(self.message(answer, "ana"))

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def message(self, text: str, person: str, *, group: bool = False, name: str | None = None, title: str = "") -> Message:
        chat = Address(PLATFORM, chat_id="group-1" if group else person)
        return Message(
            chat, User(PLATFORM, person, name=person if name is None else name, username=person), text,
            private=not group, message_id="1", chat_title=title if group else None,
        )

    def handle(self, message: Message) -> list[Reply]:
        return self.run(self.app.core.handle(message))

    def close(self) -> None:
        self.run(self.app.close())
        self.loop.close()


def apologies() -> set[str]:
    found = set()
    for language in LANGUAGES:
        with use_locale(language):
            found.add(_("Sorry, something went wrong on my side. Please try again later."))
    return found


def well_formed(markup: str) -> bool:
    """Only the reply subset's tags, balanced, and links only as the core writes them: user
    text echoed without escaping breaks one of these."""
    open_tags: list[str] = []
    for match in _TAG.finditer(markup):
        closing, name = match.group(1), match.group(2).lower()
        if name not in ALLOWED_TAGS:
            return False
        if closing:
            if not open_tags or open_tags.pop() != name:
                return False
        else:
            if name == "a" and not _OUR_LINK.fullmatch(match.group()):
                return False
            open_tags.append(name)
    return not open_tags


def check(harness: Harness, message: Message, replies: list[Reply]) -> None:
    """Count and assert what the issue measures, for one message."""
    figures = harness.figures
    figures["messages"] += 1
    if not replies:
        figures["unanswered"] += 1
    texts = [r.html for r in replies] + [b.label + b.command for r in replies for row in r.buttons for b in row]
    if any(apology in text for text in texts for apology in APOLOGIES):
        figures["apologies"] += 1
    if not all(well_formed(r.html) for r in replies):
        figures["markup leaks"] += 1
    if any(_SURROGATE.search(text) for text in texts):
        figures["surrogates echoed"] += 1
    for reply in replies:
        parts = split_html(reply.html, TELEGRAM_LIMIT)
        events = notices(reply, lambda name: True)
        if any(visible_length(p) > TELEGRAM_LIMIT for p in parts) or any(
            len(json.dumps(e).encode()) > MAX_CONTENT_BYTES for e in events
        ):
            figures["parts over the limit"] += 1
    bad = {k: v for k, v in figures.items() if k != "messages" and v}
    assert not bad, f"{bad} after {message.text[:200]!r} from {message.sender.id}: {[r.html[:300] for r in replies]}"


APOLOGIES = apologies()
FIGURES = ("messages", "apologies", "unanswered", "markup leaks", "surrogates echoed", "parts over the limit")


@pytest.fixture(params=["sqlite", "postgres"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    running = Harness(request.getfixturevalue(f"{request.param}_url"), tmp_path / "files")
    yield running
    print(f"\nfuzz {request.param}: " + ", ".join(f"{running.figures[f]} {f}" for f in FIGURES))
    running.close()


def test_no_input_breaks_a_chat(harness: Harness) -> None:
    commands = sorted({name for c in harness.app.services.commands.commands for name in (c.en, c.es, *c.aliases)})
    lines = (
        st.tuples(st.sampled_from(["/", "!"]), st.sampled_from(commands + ["nosuch", "objetivo@bot"]), arguments)
        .map(lambda t: f"{t[0]}{t[1]} {t[2]}".rstrip())
        | templated()
        | arguments
        | unicode_text
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        line=lines,
        person=st.sampled_from(PEOPLE),
        group=st.booleans(),
        name=names,
        title=names,
        later=st.sampled_from([timedelta(0)] * 8 + [timedelta(hours=1), timedelta(days=40)]),
    )
    def one_message(line: str, person: str, group: bool, name: str, title: str, later: timedelta) -> None:
        if harness.clock.now() + later < harness.start + timedelta(days=400):  # the sample dates stay ahead
            harness.clock.advance(later)
        message = harness.message(line, person, group=group, name=name, title=title)
        check(harness, message, harness.handle(message))

    one_message()
    assert harness.figures["messages"] >= EXAMPLES
