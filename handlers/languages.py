"""The languages the bot speaks, as data: ``handlers/data/languages.toml`` and the catalogs.

A language is spoken when the registry names it and ``locales/<code>/LC_MESSAGES`` holds its
catalog; nothing else in the code lists languages.  Each language carries its own name, the
words members may type to choose it, and the fallback chain of knowledge texts (pt -> es -> en).
This module is also the one place where a language is recognised: a locale code from an app
(:func:`base_code`, :func:`normalize_language`) or a name a member types (:func:`language_by_word`).
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LANGUAGES", "LANGUAGE_NAMES", "LOCALES_DIR", "REGISTRY_PATH", "SPOKEN", "Language", "base_code",
    "fold_name", "language_by_word", "normalize_language", "read_languages",
]  # fmt: skip

REGISTRY_PATH = Path(__file__).parent / "data" / "languages.toml"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "gcmbot"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    words: tuple[str, ...]
    fallback: tuple[str, ...]


def fold_name(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def read_languages(registry: Path = REGISTRY_PATH, locales: Path = LOCALES_DIR) -> dict[str, Language]:
    """Registry entries that have a catalog, in registry order; English ends every fallback chain."""
    with registry.open("rb") as fh:
        raw = tomllib.load(fh)
    spoken = {
        code: body for code, body in raw.items() if (locales / code / "LC_MESSAGES" / f"{DOMAIN}.po").exists()
    }
    return {
        code: Language(
            code=code,
            name=str(body["name"]),
            words=tuple(dict.fromkeys([code, fold_name(body["name"]), *(fold_name(w) for w in body.get("words", ()))])),
            fallback=tuple(dict.fromkeys(l for l in [*body.get("fallback", ()), "en"] if l != code and l in spoken)),
        )
        for code, body in spoken.items()
    }


SPOKEN = read_languages()
"""The spoken languages, the default first."""
LANGUAGES: tuple[str, ...] = tuple(SPOKEN)
LANGUAGE_NAMES: dict[str, str] = {code: lang.name for code, lang in SPOKEN.items()}


def base_code(code: str | None) -> str:
    """A locale as apps and platforms spell it (``es-419``, ``pt_BR``, ``FR``) -> its language (``es``)."""
    return (code or "").replace("_", "-").split("-")[0].lower()


def normalize_language(code: str | None) -> str | None:
    """``es-419`` -> ``es``; anything not spoken -> None."""
    base = base_code(code)
    return base if base in SPOKEN else None


def language_by_word(word: str) -> str | None:
    """The language a member names ("pt", "português", "francés", "french"), else None."""
    folded = fold_name(word.strip())
    return next((code for code, lang in SPOKEN.items() if folded in lang.words), None)
