"""The one way typed numbers are read: ASCII digits only, within a range.

``str.isdigit()`` also accepts ``²``, ``①`` and ``፩``, which ``int()`` then refuses, and a
number of 5,000 nines is a valid ``int`` that no column holds; every command taking a number
reads it here instead."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,18}")
MAX_ID = 2**31 - 1
"""The largest row id a command may name (an INTEGER column on every backend)."""


def parse_number(text: str, low: int = 0, high: int = MAX_ID) -> int | None:
    """``text`` as a whole number in ``low..high``, or None (not ASCII digits, or out of range)."""
    text = text.strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def is_number(text: str) -> bool:
    """Written as a (non-negative) ASCII number, whatever its size: ``12`` yes, ``²`` or ``1a`` no."""
    return bool(text) and text.isascii() and text.isdigit()
