"""Command and sub-command names of every language, from ``handlers/data/commands.toml``.

English and Spanish command names are declared with each command; the names of the other
languages and the sub-command words of all of them live in the data file, so a new language
adds names there, not in code.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from handlers.i18n import current_locale, fallback_chain

VOCABULARY_PATH = Path(__file__).parent / "data" / "commands.toml"


@cache
def _data(path: Path = VOCABULARY_PATH) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def command_names(english: str) -> dict[str, str]:
    """The names of a command in the languages the data file gives (``{"pt": "mesa", ...}``)."""
    return dict(_data()["commands"].get(english, {}))


def shown_word(group: str, key: str, lang: str | None = None) -> str:
    """A sub-command word as shown in ``lang`` (the language being rendered by default)."""
    words = _data()["words"][group][key]
    return next((words[l] for l in fallback_chain(lang or current_locale()) if l in words), key)


def accepted_words(group: str) -> dict[str, str]:
    """Every language's word of a group, and its synonyms -> its English key (what a member may type)."""
    synonyms = _data().get("synonyms", {}).get(group, {})
    return {
        **{word: key for key, words in synonyms.items() for word in words},
        **{word: key for key, words in _data()["words"].get(group, {}).items() for word in words.values()},
    }


@cache
def answer_words(kind: str) -> frozenset[str]:
    """Every language's typed answers of a kind ("yes", "no", "done"), folded as members' words are."""
    return frozenset(word for words in _data()["answers"][kind].values() for word in words)
