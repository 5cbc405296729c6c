"""Names compared as a reader sees them: case, accents, punctuation and look-alike characters
ignored, so that "Rеd Uno" (a Cyrillic е) and "Red Un0" are the registered "Red Uno".

The look-alikes are Unicode's confusables (UTS #39), as kept by ``confusable_homoglyphs``:
each character becomes the ASCII letter or digit it can be taken for, and the digits that
pass for letters (0, 1) become those letters."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib.resources import files

_NOT_ALNUM = re.compile(r"[\W_]+")
_DIGITS_AS_LETTERS = str.maketrans({"0": "o", "1": "l"})
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
MAX_KEY = 200
"""The column size of a compared name (a longer key is cut: the first 200 characters decide)."""


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character -> the ASCII letter or digit it looks like (when it looks like one)."""
    data = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table: dict[str, str] = {}
    for character, homoglyphs in data.items():
        if len(character) != 1 or character.isascii():
            continue
        looks = sorted(
            glyph["c"].casefold()
            for glyph in homoglyphs
            if glyph["c"].strip("\u200e").casefold() in _ASCII_ALNUM
        )
        if looks:
            table[character] = looks[0].strip("\u200e")
    return table


def skeleton(text: str) -> str:
    """``text`` with every look-alike character replaced by the ASCII one it imitates."""
    prototypes = _prototypes()
    return "".join(prototypes.get(c, c) for c in text)


def name_key(name: str) -> str:
    """The name compared for duplicates: no case, accents, punctuation, spaces or look-alikes."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = skeleton(base).casefold().translate(_DIGITS_AS_LETTERS)
    return _NOT_ALNUM.sub("", folded)[:MAX_KEY]
