"""Per-request translation: the chat's locale travels in a ContextVar.

Message ids are English. ``_`` looks up the locale of the request being handled,
so no function takes a language argument and concurrent chats never mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES: tuple[str, ...] = ("es", "en")
DOMAIN = "gcmbot"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

_locale: ContextVar[str] = ContextVar("gcmbot_locale", default="es")


@cache
def translations(lang: str) -> NullTranslations:
    return Translations.load(str(LOCALES_DIR), [lang], DOMAIN)


def current_locale() -> str:
    return _locale.get()


@contextmanager
def use_locale(lang: str) -> Iterator[None]:
    token = _locale.set(lang if lang in LANGUAGES else LANGUAGES[0])
    try:
        yield
    finally:
        _locale.reset(token)


def gettext(message: str) -> str:
    return translations(_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_locale.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


_ = gettext


def normalize_language(code: str | None) -> str | None:
    """``es-419`` -> ``es``; anything not supported -> None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None
