"""Per-request translation: the chat's locale travels in a ContextVar.

Message ids are English. ``_`` looks up the locale of the request being handled,
so no function takes a language argument and concurrent chats never mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from babel.support import NullTranslations, Translations

from handlers.languages import (
    DOMAIN,
    LANGUAGE_NAMES,
    LANGUAGES,
    LOCALES_DIR,
    SPOKEN,
    language_by_word,
    normalize_language,
)

__all__ = [
    "DOMAIN", "LANGUAGES", "LANGUAGE_NAMES", "LOCALES_DIR", "N_", "SPOKEN", "_", "current_locale", "fallback_chain", "gettext",
    "language_by_word", "ngettext", "normalize_language", "use_locale",
]  # fmt: skip

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


def fallback_chain(lang: str | None) -> tuple[str, ...]:
    """The language itself, then where its missing texts come from (``es-AR`` -> es, en)."""
    code = normalize_language(lang) or "en"
    return (code, *SPOKEN[code].fallback) if code in SPOKEN else ("en",)

