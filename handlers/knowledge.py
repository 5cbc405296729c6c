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
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DATA_PATH",
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
]

DATA_PATH = Path(__file__).parent / "data" / "knowledge.toml"
COMMITMENTS_PATH = DATA_PATH.parent / "commitments.toml"
WORKING_TABLES: tuple[str, ...] = ("WT1", "WT2", "WT3", "WT4")
TABLE_CODES: tuple[str, ...] = (*WORKING_TABLES, "LT", "TT")


def lang_key(lang: str | None) -> str:
    """Map any locale spelling ("es", "es_AR", "ES-mx", None, "pt") to "es" or "en".

    English is the fallback because every text exists in both languages.
    """
    return "es" if lang and lang.strip().lower().startswith("es") else "en"


def fold(text: str) -> str:
    """Lower-case and strip accents ("Detención" -> "detencion"), keeping other characters."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Objective:
    """One of the 23 GCM objectives (A/RES/73/195) and the Working Table that covers it."""

    number: int
    table: str
    title_en: str
    title_es: str
    short_en: str
    short_es: str
    summary_en: str
    summary_es: str
    keywords_en: tuple[str, ...]
    keywords_es: tuple[str, ...]
    context_en: tuple[str, ...]
    context_es: tuple[str, ...]
    source: str
    commitments_en: str = ""
    commitments_es: str = ""
    commitments_source: str = ""

    def title(self, lang: str | None = "en") -> str:
        """Official title, verbatim from the resolution."""
        return self.title_es if lang_key(lang) == "es" else self.title_en

    def summary(self, lang: str | None = "en") -> str:
        return self.summary_es if lang_key(lang) == "es" else self.summary_en

    def short(self, lang: str | None = "en") -> str:
        return self.short_es if lang_key(lang) == "es" else self.short_en

    def keywords(self, lang: str | None = "en") -> tuple[str, ...]:
        """Words and phrases members use for this objective (slang included)."""
        return self.keywords_es if lang_key(lang) == "es" else self.keywords_en

    def context(self, lang: str | None = "en") -> tuple[str, ...]:
        """Weaker hints ("women", "border", "money") that matter only when nothing else does."""
        return self.context_es if lang_key(lang) == "es" else self.context_en

    def commitments(self, lang: str | None = "en") -> str:
        """What States commit to under this objective, summarised ("" when not written)."""
        return self.commitments_es if lang_key(lang) == "es" else self.commitments_en


@dataclass(frozen=True)
class Table:
    """A table of the Mechanism: Working Tables WT1-WT4, Liaison Table LT, Technical Table TT.

    ``objectives`` is empty for LT and TT, which are coordination bodies, not thematic.
    """

    code: str
    name_en: str
    name_es: str
    description_en: str
    description_es: str
    objectives: tuple[int, ...]
    priorities_en: tuple[str, ...]
    priorities_es: tuple[str, ...]
    keywords_en: tuple[str, ...]
    keywords_es: tuple[str, ...]
    source: str
    name_source: str
    priorities_source: str

    @property
    def is_working_table(self) -> bool:
        return self.code in WORKING_TABLES

    def name(self, lang: str | None = "en") -> str:
        return self.name_es if lang_key(lang) == "es" else self.name_en

    def description(self, lang: str | None = "en") -> str:
        return self.description_es if lang_key(lang) == "es" else self.description_en

    def priorities(self, lang: str | None = "en") -> tuple[str, ...]:
        """2023-24 priorities (seed 000 milestones and seed 002 thematic priorities)."""
        return self.priorities_es if lang_key(lang) == "es" else self.priorities_en

    def keywords(self, lang: str | None = "en") -> tuple[str, ...]:
        return self.keywords_es if lang_key(lang) == "es" else self.keywords_en


@dataclass(frozen=True)
class Cadence:
    """When tables meet and when pledges are monitored (calendar months, 1-12)."""

    meeting_months: tuple[int, ...]
    pledge_monitoring_months: tuple[int, ...]
    description_en: str
    description_es: str
    source: str

    def description(self, lang: str | None = "en") -> str:
        return self.description_es if lang_key(lang) == "es" else self.description_en


@dataclass(frozen=True)
class Knowledge:
    objectives: dict[int, Objective]
    tables: dict[str, Table]
    cadence: Cadence

    def table_of(self, objective: int) -> Table:
        return self.tables[self.objectives[objective].table]


def _strings(raw: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(item) for item in raw.get(key, ()))


def _objective(raw: dict[str, Any], commitments: dict[str, Any]) -> Objective:
    return Objective(
        number=int(raw["number"]),
        table=str(raw["table"]),
        title_en=raw["title_en"],
        title_es=raw["title_es"],
        short_en=raw["short_en"],
        short_es=raw["short_es"],
        summary_en=raw["summary_en"],
        summary_es=raw["summary_es"],
        keywords_en=_strings(raw, "keywords_en"),
        keywords_es=_strings(raw, "keywords_es"),
        context_en=_strings(raw, "context_en"),
        context_es=_strings(raw, "context_es"),
        source=raw["source"],
        commitments_en=commitments.get("commitments_en", ""),
        commitments_es=commitments.get("commitments_es", ""),
        commitments_source=commitments.get("source", ""),
    )


def _table(raw: dict[str, Any]) -> Table:
    return Table(
        code=raw["code"],
        name_en=raw["name_en"],
        name_es=raw["name_es"],
        description_en=raw["description_en"],
        description_es=raw["description_es"],
        objectives=tuple(int(n) for n in raw.get("objectives", ())),
        priorities_en=_strings(raw, "priorities_en"),
        priorities_es=_strings(raw, "priorities_es"),
        keywords_en=_strings(raw, "keywords_en"),
        keywords_es=_strings(raw, "keywords_es"),
        source=raw["source"],
        name_source=raw["name_source"],
        priorities_source=raw["priorities_source"],
    )


def read_knowledge(path: Path, commitments_path: Path | None = None) -> Knowledge:
    """Parse a knowledge file and, when there is one, the objectives' commitments file
    (uncached; :func:`load_knowledge` is the cached entry point)."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    commitments: dict[int, dict[str, Any]] = {}
    if commitments_path is not None and commitments_path.exists():
        with commitments_path.open("rb") as fh:
            commitments = {int(c["number"]): c for c in tomllib.load(fh).get("objectives", ())}
    objectives = {
        o.number: o for o in (_objective(body, commitments.get(int(body["number"]), {})) for body in raw["objectives"])
    }
    tables = {code: _table(body) for code, body in raw["tables"].items()}
    cad = raw["cadence"]
    cadence = Cadence(
        meeting_months=tuple(int(m) for m in cad["meeting_months"]),
        pledge_monitoring_months=tuple(int(m) for m in cad["pledge_monitoring_months"]),
        description_en=cad["description_en"],
        description_es=cad["description_es"],
        source=cad["source"],
    )
    return Knowledge(
        objectives=dict(sorted(objectives.items())),
        tables={code: tables[code] for code in TABLE_CODES if code in tables},
        cadence=cadence,
    )


@cache
def load_knowledge() -> Knowledge:
    """The packaged knowledge base, parsed once per process.

    The returned mappings are shared by every caller: treat them as read-only.
    """
    return read_knowledge(DATA_PATH, COMMITMENTS_PATH)


_NUMBER_WORDS = {
    "1": "1", "one": "1", "uno": "1", "una": "1", "first": "1", "primera": "1", "primer": "1", "i": "1",
    "2": "2", "two": "2", "dos": "2", "second": "2", "segunda": "2", "ii": "2",
    "3": "3", "three": "3", "tres": "3", "third": "3", "tercera": "3", "iii": "3",
    "4": "4", "four": "4", "cuatro": "4", "fourth": "4", "cuarta": "4", "iv": "4",
}  # fmt: skip
_TABLE_WORD = (
    r"(?:working\s+tables?|round\s+tables?|mesas?\s+de\s+trabajo|mesas?|tables?|tablas?|"
    r"grupos?\s+de\s+trabajo|wt|mt|rt|mdt|gt)"
)
_NUMBER_TOKEN = r"(?:[1-4]|one|two|three|four|uno|una|dos|tres|cuatro|iv|iii|ii|i)"
_ORDINAL = r"(?:first|second|third|fourth|primera|primer|segunda|tercera|cuarta)"
_TABLE_PATTERNS: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(rf"\b{_TABLE_WORD}\s*(?:n[or]?\.?\s*|num(?:ero)?\.?\s*|number\s*|#\s*|-\s*)?"
                rf"({_NUMBER_TOKEN})\b"), None),
    (re.compile(rf"\b({_ORDINAL})\s+{_TABLE_WORD}\b"), None),
    (re.compile(r"\b(?:liaison|enlace|lt|coordination\s+table|mesa\s+de\s+coordinacion)\b"), "LT"),
    (re.compile(r"\b(?:tt|tecnica|technical)\b"), "TT"),
)  # fmt: skip


def parse_table_code(text: str) -> str | None:
    """Read a table reference typed by a member, e.g. as a command argument.

    Accepts "2", "WT2", "wt 2", "MT2", "mesa 2", "table two", "Mesa de Trabajo 2",
    "LT", "enlace", "liaison", "TT", "técnica", "technical" (any case, with or without
    accents) and returns "WT1".."WT4", "LT", "TT", or None when nothing matches.
    """
    folded = fold(text).strip()
    if folded in {"1", "2", "3", "4"}:
        return "WT" + folded
    for pattern, code in _TABLE_PATTERNS:
        match = pattern.search(folded)
        if match:
            return code or "WT" + _NUMBER_WORDS[match.group(1)]
    return None
