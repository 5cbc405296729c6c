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

from handlers.languages import DOMAIN, LOCALES_DIR, fold_name, read_languages

#: The spoken languages (``handlers/data/languages.toml`` with a catalog), the default first.
SPOKEN = read_languages()
LANGUAGES: tuple[str, ...] = tuple(SPOKEN)
LANGUAGE_NAMES: dict[str, str] = {code: lang.name for code, lang in SPOKEN.items()}

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


def language_by_word(word: str) -> str | None:
    """The language a member names ("pt", "português", "francés", "french"), else None."""
    folded = fold_name(word.strip())
    return next((code for code, lang in SPOKEN.items() if folded in lang.words), None)


def normalize_language(code: str | None) -> str | None:
    """``es-419`` -> ``es``; anything not supported -> None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None
