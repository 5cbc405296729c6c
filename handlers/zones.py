"""Time zones as people name them: an IANA zone, a city or a country, in Spanish or English, with
or without accents.

The places come from CLDR through Babel (each zone's exemplar city in both languages, each
territory's name and zones) and ``data/capitals.toml`` (the region's capitals, which do not
always name their zone: Quito is in America/Guayaquil). Only canonical zones of a place are
accepted (and UTC): ``Factory``, ``posix/…``, ``right/…`` and ``Etc/…`` are not a chat's zone;
an old alias (``America/Buenos_Aires``, ``US/Eastern``) becomes its canonical zone.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location

from handlers.errors import UserError
from handlers.i18n import LANGUAGES, _
from handlers.knowledge import fold
from handlers.markup import esc

CAPITALS_PATH = Path(__file__).parent / "data" / "capitals.toml"
UTC_NAMES = frozenset({"utc", "gmt", "z", "etc/utc", "etc/gmt", "zulu", "universal"})
_NOT_PLACES = ("etc/", "posix/", "right/", "systemv/")
_PUNCTUATION = re.compile(r"[\s_.,'’`´-]+")


@dataclass(frozen=True)
class ZoneMatch:
    """What a text names: one zone, several (a country or a city with more than one), or none."""

    zone: str | None = None
    choices: tuple[str, ...] = ()


def place_key(text: str) -> str:
    """``Ciudad de México``, ``ciudad_de_mexico``, ``St. John’s`` -> comparable words."""
    return " ".join(_PUNCTUATION.sub(" ", fold(text)).split())


def _loads(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def canonical_zones() -> dict[str, str]:
    """Folded name -> canonical zone of a place (CLDR's zones with a territory), and UTC."""
    zones = {
        fold(zone): zone
        for zone in get_global("zone_territories")
        if not fold(zone).startswith(_NOT_PLACES) and _loads(zone)
    }
    zones["utc"] = "UTC"
    return zones


@cache
def _aliases() -> dict[str, str]:
    """Folded old name -> its canonical zone (only when that one is a place's)."""
    canonical = canonical_zones()
    return {
        fold(alias): canonical[fold(target)]
        for alias, target in get_global("zone_aliases").items()
        if fold(target) in canonical and not fold(alias).startswith(_NOT_PLACES)
    }


def _add(index: dict[str, list[str]], name: str, zone: str) -> None:
    zones = index.setdefault(place_key(name), [])
    if zone not in zones:
        zones.append(zone)


@cache
def _capitals() -> dict[str, str]:
    with CAPITALS_PATH.open("rb") as handle:
        return {place_key(name): zone for name, zone in tomllib.load(handle)["capitals"].items()}


@cache
def _cities() -> dict[str, list[str]]:
    """City -> zones: every canonical zone's exemplar city in each language and in its own id."""
    index: dict[str, list[str]] = {}
    for zone in canonical_zones().values():
        if "/" not in zone:
            continue
        _add(index, zone.rsplit("/", 1)[1], zone)
        for lang in LANGUAGES:
            _add(index, get_timezone_location(zone, locale=lang, return_city=True), zone)
    return index


@cache
def _countries() -> dict[str, list[str]]:
    """Country name (Spanish or English) -> its canonical zones, the capital's first."""
    canonical = set(canonical_zones().values())
    capital_zones = list(_capitals().values())
    index: dict[str, list[str]] = {}
    for territory, zones in get_global("territory_zones").items():
        usable = [z for z in zones if z in canonical]
        if not usable:
            continue
        usable.sort(key=lambda z: (z not in capital_zones, z))
        for lang in LANGUAGES:
            name = Locale.parse(lang).territories.get(territory)
            if name:
                for zone in usable:
                    _add(index, name, zone)
    return index


def match_zone(text: str) -> ZoneMatch:
    """The zone(s) ``text`` names; an IANA-looking name that is not one is read as its last part
    (``America/Quito`` -> Quito -> America/Guayaquil)."""
    folded = fold(text.strip())
    if folded in UTC_NAMES:
        return ZoneMatch("UTC")
    for names in (canonical_zones(), _aliases()):
        if folded.replace(" ", "_") in names:
            return ZoneMatch(names[folded.replace(" ", "_")])
    if folded.startswith(_NOT_PLACES) or folded == "factory":
        return ZoneMatch()
    key = place_key(folded.rsplit("/", 1)[-1])
    if key in _capitals():
        return ZoneMatch(_capitals()[key])
    # a country first: French calls Mexico City "Mexico", and "México" asks which of its zones
    zones = _countries().get(key) or _cities().get(key) or []
    if len(zones) == 1:
        return ZoneMatch(zones[0])
    return ZoneMatch(None, tuple(zones))


def place_of(zone: str, lang: str) -> str:
    """The zone's exemplar city in ``lang`` (``Ciudad de México``), for choices."""
    if zone == "UTC":
        return zone
    return get_timezone_location(zone, locale=lang, return_city=True)


def parse_zone(text: str) -> str:
    """One canonical zone, or a :class:`UserError` listing the choices or the closest names."""
    found = match_zone(text)
    if found.zone is not None:
        return found.zone
    if found.choices:
        raise UserError(esc(several_zones(text, found.choices)))
    raise UserError(esc(unknown_zone(text)))


def several_zones(text: str, choices: tuple[str, ...]) -> str:
    return _("“{place}” has several time zones: {zones}. Which one?").format(
        place=text.strip()[:60], zones=", ".join(choices)
    )


def unknown_zone(text: str) -> str:
    message = _("I don't know the time zone “{zone}”.").format(zone=text.strip()[:60])
    close = _closest(text)
    if close:
        return message + " " + _("Did you mean {zones}?").format(zones=", ".join(close))
    return message + " " + _("Write a city or a country (Quito, Ecuador) or a zone like America/Bogota.")


def _closest(text: str) -> list[str]:
    """Up to three zones or places close to a mistyped name."""
    folded = fold(text.strip())
    names = canonical_zones()
    close = [names[c] for c in difflib.get_close_matches(folded.replace(" ", "_"), names, n=3, cutoff=0.75)]
    if close:
        return close
    places = {**{k: k for k in _cities()}, **{k: k for k in _countries()}, **{k: k for k in _capitals()}}
    key = place_key(folded.rsplit("/", 1)[-1])
    return [p.title() for p in difflib.get_close_matches(key, places, n=3, cutoff=0.8)]
