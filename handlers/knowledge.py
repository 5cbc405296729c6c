"""The bot's knowledge base: GCM objectives, the Mechanism's tables and its cadence.

The facts live in ``handlers/data/knowledge.toml`` (data, not code, so that members of the
Mechanism can correct a title or add a keyword without touching Python).  This module turns
that file (and ``commitments.toml``, what States commit to under each objective) into
frozen dataclasses once per process and offers a few text helpers.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

from handlers.i18n import fallback_chain
from handlers.languages import base_code
from handlers.nlu.text import TableReader, load_lexicon, tokens

__all__ = [
    "DATA_PATH",
    "pick",
    "TABLE_CODES",
    "WORKING_TABLES",
    "Cadence",
    "Knowledge",
    "Objective",
    "Table",
    "fold",
    "lang_key",
    "load_knowledge",
    "parse_table_code",
    "table_keywords",
]

DATA_PATH = Path(__file__).parent / "data" / "knowledge.toml"
COMMITMENTS_PATH = DATA_PATH.parent / "commitments.toml"
WORKING_TABLES: tuple[str, ...] = ("WT1", "WT2", "WT3", "WT4")
TABLE_CODES: tuple[str, ...] = (*WORKING_TABLES, "LT", "TT")


Texts: TypeAlias = dict[str, str]
"""One text per language code ({"es": ..., "en": ..., "pt": ...})."""
Lists: TypeAlias = dict[str, tuple[str, ...]]
_LANG_SUFFIX = re.compile(r"^(?P<field>[a-z]+)_(?P<lang>[a-z]{2,3})$")


def lang_key(lang: str | None) -> str:
    """Map any locale spelling ("es", "es_AR", "PT-br", None) to a spoken language code;
    English for anything the bot does not speak."""
    return fallback_chain(lang)[0]


def pick(texts: dict[str, Any], lang: str | None, empty: Any = "") -> Any:
    """The text in ``lang``, else along its fallback chain (pt -> es -> en, fr -> en)."""
    code = base_code(lang) or "en"
    for candidate in (code, *fallback_chain(lang)):
        if texts.get(candidate):
            return texts[candidate]
    return empty


def fold(text: str) -> str:
    """Lower-case and strip accents ("Detención" -> "detencion"), keeping other characters."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Objective:
    """One of the 23 GCM objectives (A/RES/73/195) and the Working Table that covers it.

    Every human-readable field maps a language code to its text; the accessors follow the
    language's fallback chain when a text is missing."""

    number: int
    table: str
    titles: Texts
    shorts: Texts
    summaries: Texts
    keyword_lists: Lists
    context_lists: Lists
    source: str
    commitment_texts: Texts = field(default_factory=dict)
    commitments_source: str = ""

    def title(self, lang: str | None = "en") -> str:
        """Official title, verbatim from the resolution (UN Brazil's wording in Portuguese)."""
        return pick(self.titles, lang)

    def summary(self, lang: str | None = "en") -> str:
        return pick(self.summaries, lang)

    def short(self, lang: str | None = "en") -> str:
        return pick(self.shorts, lang)

    def keywords(self, lang: str | None = "en") -> tuple[str, ...]:
        """Words and phrases members use for this objective (slang included)."""
        return pick(self.keyword_lists, lang, ())

    def context(self, lang: str | None = "en") -> tuple[str, ...]:
        """Weaker hints ("women", "border", "money") that matter only when nothing else does."""
        return pick(self.context_lists, lang, ())

    def commitments(self, lang: str | None = "en") -> str:
        """What States commit to under this objective, summarised ("" when not written)."""
        return pick(self.commitment_texts, lang)


@dataclass(frozen=True)
class Table:
    """A table of the Mechanism: Working Tables WT1-WT4, Liaison Table LT, Technical Table TT.

    ``objectives`` is empty for LT and TT, which are coordination bodies, not thematic.
    """

    code: str
    names: Texts
    descriptions: Texts
    objectives: tuple[int, ...]
    priority_lists: Lists
    keyword_lists: Lists
    source: str
    name_source: str
    priorities_source: str

    @property
    def is_working_table(self) -> bool:
        return self.code in WORKING_TABLES

    def name(self, lang: str | None = "en") -> str:
        return pick(self.names, lang)

    def description(self, lang: str | None = "en") -> str:
        return pick(self.descriptions, lang)

    def priorities(self, lang: str | None = "en") -> tuple[str, ...]:
        """2023-24 priorities (seed 000 milestones and seed 002 thematic priorities)."""
        return pick(self.priority_lists, lang, ())

    def keywords(self, lang: str | None = "en") -> tuple[str, ...]:
        return pick(self.keyword_lists, lang, ())


@dataclass(frozen=True)
class Cadence:
    """When tables meet and when pledges are monitored (calendar months, 1-12)."""

    meeting_months: tuple[int, ...]
    pledge_monitoring_months: tuple[int, ...]
    descriptions: Texts
    source: str

    def description(self, lang: str | None = "en") -> str:
        return pick(self.descriptions, lang)


@dataclass(frozen=True)
class Knowledge:
    objectives: dict[int, Objective]
    tables: dict[str, Table]
    cadence: Cadence

    def table_of(self, objective: int) -> Table:
        return self.tables[self.objectives[objective].table]

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language some objective title is written in."""
        return tuple(dict.fromkeys(lang for o in self.objectives.values() for lang in o.titles))


def per_language(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """A field as a mapping language -> value, written either ``name = {es = ..., en = ...}``
    or as ``name_es = ...`` keys; lists become tuples of strings."""
    found: dict[str, Any] = dict(raw.get(name, {})) if isinstance(raw.get(name), dict) else {}
    for key, value in raw.items():
        match = _LANG_SUFFIX.match(key)
        if match and match["field"] == name:
            found[match["lang"]] = value
    return {lang: tuple(str(v) for v in value) if isinstance(value, list) else value for lang, value in found.items()}


def _merged(*bodies: dict[str, Any]) -> dict[str, Any]:
    """Bodies of the same objective or table from several files, language fields joined."""
    out: dict[str, Any] = {}
    for body in bodies:
        out.update(body)
    return out


def _objective(raw: dict[str, Any], commitments: dict[str, Any]) -> Objective:
    return Objective(
        number=int(raw["number"]),
        table=str(raw["table"]),
        titles=per_language(raw, "title"),
        shorts=per_language(raw, "short"),
        summaries=per_language(raw, "summary"),
        keyword_lists=per_language(raw, "keywords"),
        context_lists=per_language(raw, "context"),
        source=raw["source"],
        commitment_texts=per_language(commitments, "commitments"),
        commitments_source=commitments.get("source", ""),
    )


def _table(raw: dict[str, Any]) -> Table:
    return Table(
        code=raw["code"],
        names=per_language(raw, "name"),
        descriptions=per_language(raw, "description"),
        objectives=tuple(int(n) for n in raw.get("objectives", ())),
        priority_lists=per_language(raw, "priorities"),
        keyword_lists=per_language(raw, "keywords"),
        source=raw["source"],
        name_source=raw["name_source"],
        priorities_source=raw["priorities_source"],
    )


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def read_knowledge(
    path: Path, commitments_path: Path | None = None, languages: tuple[Path, ...] = ()
) -> Knowledge:
    """Parse a knowledge file, the objectives' commitments file when there is one, and the
    files adding languages (``knowledge_<codes>.toml``: language fields by objective number,
    table code and cadence), uncached; :func:`load_knowledge` is the cached entry point."""
    raw = _read(path)
    extra = [_read(p) for p in languages]
    commitments: dict[int, dict[str, Any]] = {}
    if commitments_path is not None and commitments_path.exists():
        commitments = {int(c["number"]): c for c in _read(commitments_path).get("objectives", ())}

    def objective_body(body: dict[str, Any]) -> dict[str, Any]:
        number = int(body["number"])
        return _merged(body, *(o for e in extra for o in e.get("objectives", ()) if int(o["number"]) == number))

    objectives = {
        o.number: o
        for o in (_objective(objective_body(body), commitments.get(int(body["number"]), {})) for body in raw["objectives"])
    }
    tables = {
        code: _table(_merged(body, *(e.get("tables", {}).get(code, {}) for e in extra)))
        for code, body in raw["tables"].items()
    }
    cad = _merged(raw["cadence"], *(e.get("cadence", {}) for e in extra))
    cadence = Cadence(
        meeting_months=tuple(int(m) for m in cad["meeting_months"]),
        pledge_monitoring_months=tuple(int(m) for m in cad["pledge_monitoring_months"]),
        descriptions=per_language(cad, "description"),
        source=cad["source"],
    )
    return Knowledge(
        objectives=dict(sorted(objectives.items())),
        tables={code: tables[code] for code in TABLE_CODES if code in tables},
        cadence=cadence,
    )


@cache
def load_knowledge() -> Knowledge:
    """The packaged knowledge base with every language file beside it, parsed once per process.

    The returned mappings are shared by every caller: treat them as read-only.
    """
    return read_knowledge(DATA_PATH, COMMITMENTS_PATH, tuple(sorted(DATA_PATH.parent.glob("knowledge_*.toml"))))


def table_keywords(knowledge: Knowledge) -> list[tuple[str, str]]:
    """(name, code) of every keyword naming a table ("mesa de datos", "liaison table")."""
    return [(name, code) for code, t in knowledge.tables.items() for names in t.keyword_lists.values() for name in names]


@cache
def _table_reader() -> TableReader:
    return TableReader(load_lexicon(), table_keywords(load_knowledge()))


def parse_table_code(text: str) -> str | None:
    """Read a table reference typed by a member, e.g. as a command argument, with the same
    reader as free text (``handlers.nlu.text.TableReader``, its words in the lexicons).

    Accepts "2", "WT2", "wt 2", "MT2", "mesa 2", "table two", "Mesa de Trabajo 4", "segunda
    mesa", "mesa II", "LT", "enlace", "liaison", "TT", "técnica", "technical" (any case, with or
    without accents) and returns "WT1".."WT4", "LT", "TT", or None when nothing matches.
    """
    reader = _table_reader()
    words = tokens(text, reader.lexicon)
    if len(words) == 1 and words[0] in {"1", "2", "3", "4"}:  # an argument that can only be a table
        return "WT" + words[0]
    found = reader.find(words)
    return found[0][0] if found else None
