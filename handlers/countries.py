"""The countries of Latin America and the Caribbean: localized names and typed-name matching.

Names come from Babel's territory data (CLDR), in Spanish and English; a typed country is
matched in either language, without case or accents, by ISO code, by common short names,
and with a little tolerance for typos. A country outside the region is recognised as such,
so the person is told why it is refused instead of "unknown".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from babel import Locale
from rapidfuzz import fuzz, process

from handlers.i18n import LANGUAGES, current_locale
from handlers.knowledge import fold

LAC: tuple[str, ...] = (
    "AG",
    "AR",
    "BS",
    "BB",
    "BZ",
    "BO",
    "BR",
    "CL",
    "CO",
    "CR",
    "CU",
    "DM",
    "DO",
    "EC",
    "SV",
    "GD",
    "GT",
    "GY",
    "HT",
    "HN",
    "JM",
    "MX",
    "NI",
    "PA",
    "PY",
    "PE",
    "KN",
    "LC",
    "VC",
    "SR",
    "TT",
    "UY",
    "VE",
)
"""The 33 states of Latin America and the Caribbean (the region of the UN Regional Network)."""

_SHORT_NAMES: dict[str, tuple[str, ...]] = {
    "AG": ("antigua",),
    "BO": ("estado plurinacional de bolivia",),
    "BR": ("brasil",),
    "BS": ("the bahamas", "las bahamas"),
    "DO": ("rep dominicana", "republica dominicana", "dominicana", "dominican rep", "rd"),
    "KN": ("saint kitts", "st kitts", "san cristobal", "saint kitts and nevis", "nevis"),
    "LC": ("saint lucia", "st lucia"),
    "MX": ("mejico",),
    "SR": ("surinam",),
    "SV": ("el salvador", "salvador"),
    "TT": ("trinidad", "tobago", "trinidad and tobago"),
    "VC": ("saint vincent", "st vincent", "san vicente", "saint vincent and the grenadines"),
    "VE": ("republica bolivariana de venezuela",),
}
_OUTSIDE_SHORT_NAMES: dict[str, tuple[str, ...]] = {
    "US": ("eeuu", "ee uu", "usa", "us", "united states of america", "estados unidos de america"),
    "GB": ("uk", "reino unido", "england", "inglaterra"),
    "ES": ("espana", "spain"),
}
_FUZZY_SURE, _FUZZY_CLOSE, _LONGEST = 85, 70, 60
_SEPARATORS = re.compile(r"[\s.,&'’()-]+")


@dataclass(frozen=True)
class CountryMatch:
    """What a typed country was understood as: a LAC code, close suggestions, or a country outside."""

    code: str | None = None
    suggestions: tuple[str, ...] = ()
    outside: str | None = None


def country_name(code: str, lang: str | None = None) -> str:
    """The country's name in ``lang`` (default: the current locale)."""
    return Locale(lang or current_locale()).territories.get(code, code)


def countries_sorted(lang: str | None = None) -> list[tuple[str, str]]:
    """``(code, name)`` of the LAC countries in alphabetical order of their localized names."""
    return sorted(((c, country_name(c, lang)) for c in LAC), key=lambda item: _key(item[1]))


def find_country(text: str) -> CountryMatch:
    typed = _key(text)
    if not typed:
        return CountryMatch()
    lac, outside = _names()
    if typed in lac:
        return CountryMatch(code=lac[typed])
    if typed in outside:
        return CountryMatch(outside=outside[typed])
    if not 3 <= len(typed) <= _LONGEST:
        return CountryMatch()
    found = process.extract(typed, list(lac), scorer=fuzz.ratio, limit=8, score_cutoff=_FUZZY_CLOSE)
    codes: list[str] = []
    for name, _score, _index in found:
        if lac[name] not in codes:
            codes.append(lac[name])
    if not codes:
        return CountryMatch()
    best = found[0][1]
    runner_up = next((score for name, score, _i in found if lac[name] != codes[0]), 0.0)
    if best >= _FUZZY_SURE and runner_up < best - 8:
        return CountryMatch(code=codes[0])
    return CountryMatch(suggestions=tuple(codes[:3]))


def _key(name: str) -> str:
    """A typed or official name compared without case, accents, punctuation; ``&``/``St.`` spelt out."""
    words = _SEPARATORS.sub(" ", fold(name).replace("&", " and ")).split()
    return " ".join("saint" if w == "st" else w for w in words)


@cache
def _names() -> tuple[dict[str, str], dict[str, str]]:
    """Every known name (keyed by :func:`_key`) -> ISO code, for LAC countries and all others."""
    lac: dict[str, str] = {}
    outside: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, name in Locale(lang).territories.items():
            if code.isalpha() and len(code) == 2:
                (lac if code in LAC else outside)[_key(name)] = code
    for code in LAC:
        lac[code.lower()] = code
        for short in _SHORT_NAMES.get(code, ()):
            lac[_key(short)] = code
    for code, shorts in _OUTSIDE_SHORT_NAMES.items():
        for short in shorts:
            outside.setdefault(_key(short), code)
    return lac, outside
