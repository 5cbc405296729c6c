"""From a member's message to tokens and features, driven by the per-language lexicons.

Everything language-specific (stopwords, chat shorthand, slang, negation words, how
objectives and tables are referred to, number words, which Snowball stemmer) lives in
``handlers/data/nlu/lexicon/<lang>.toml``; this module only applies it.  The lexicons of
all languages are merged: a message's language is not known before reading it, and
members mix them.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import Stemmer as pystemmer

NLU_DATA = Path(__file__).resolve().parent.parent / "data" / "nlu"
LEXICON_DIR = NLU_DATA / "lexicon"

#: Words, numbers (also "10.7", "2+2"), and the punctuation that ends a clause.
_TOKEN = re.compile(r"[a-z0-9]+(?:[.+][0-9]+)*|[.,;:!?]")
_LONG_RUN = re.compile(r"([a-z])\1{2,}")
PUNCTUATION = frozenset(".,;:!?")
#: Words whose stems each stemmer keeps (PyStemmer's cache; stemming is fast without it).
STEM_CACHE = 2000

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """The merged lexicons of every language the bot speaks."""

    stopwords: frozenset[str]
    shorthand: dict[str, Phrase]
    synonyms: dict[str, str]
    excluding: tuple[Phrase, ...]
    contrast: tuple[Phrase, ...]
    negators: frozenset[str]
    objective_words: tuple[Phrase, ...]
    table_words: tuple[Phrase, ...]
    joiners: frozenset[str]
    number_words: frozenset[str]
    numbers: dict[str, int]
    stemmer_names: tuple[str, ...]
    function_words: dict[str, frozenset[str]]
    """Per language, its stopwords and number words: evidence of the language a message is in."""


def ascii_fold(text: str) -> str:
    """Lower case without accents, and without any other non-ASCII character (tokens are ASCII)."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")


def _phrases(items: list[str]) -> tuple[Phrase, ...]:
    """Marker phrases as token sequences, longest first (so "pero no" wins over "no")."""
    found = {tuple(_TOKEN.findall(ascii_fold(item))) for item in items}
    return tuple(sorted((p for p in found if p), key=len, reverse=True))


@cache
def load_lexicon(directory: Path = LEXICON_DIR) -> Lexicon:
    raw: dict[str, dict] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            raw[path.stem] = tomllib.load(fh)

    def merged(key: str, sub: str | None = None) -> list:
        out: list = []
        for data in raw.values():
            value = data.get(key, {})
            value = value.get(sub, []) if sub else value
            out += value.split() if isinstance(value, str) else list(value)
        return out

    def mapping(key: str) -> dict[str, str]:
        return {ascii_fold(k): ascii_fold(v) for data in raw.values() for k, v in data.get(key, {}).items()}

    return Lexicon(
        stopwords=frozenset(ascii_fold(w) for w in merged("stopwords")),
        shorthand={k: tuple(v.split()) for k, v in mapping("shorthand").items()},
        synonyms=mapping("synonyms"),
        excluding=_phrases(merged("negation", "excluding")),
        contrast=_phrases(merged("negation", "contrast")),
        negators=frozenset(ascii_fold(w) for w in merged("negation", "negators")),
        objective_words=_phrases(merged("references", "objective")),
        table_words=_phrases(merged("references", "table")),
        joiners=frozenset(ascii_fold(w) for w in merged("references", "joiners")),
        number_words=frozenset(ascii_fold(w) for w in merged("references", "number_words")),
        numbers={
            ascii_fold(k): int(v) for data in raw.values() for k, v in data.get("references", {}).get("numbers", {}).items()
        },
        stemmer_names=tuple(dict.fromkeys(data["stemmer"] for data in raw.values() if data.get("stemmer"))),
        function_words={
            lang: frozenset(
                ascii_fold(w)
                for w in [*str(data.get("stopwords", "")).split(), *data.get("references", {}).get("numbers", {})]
            )
            for lang, data in raw.items()
        },
    )


def tokens(text: str, lexicon: Lexicon, canonical: bool = True) -> list[str]:
    """Folded words and clause punctuation, shorthand spelt out and (when ``canonical``) slang
    made canonical; the language guess reads the words as written ("remessas" stays Portuguese)."""
    out: list[str] = []
    for token in _TOKEN.findall(_LONG_RUN.sub(r"\1", ascii_fold(text))):
        for word in lexicon.shorthand.get(token, (token,)):
            out.append(lexicon.synonyms.get(word, word) if canonical else word)
    return out


class Stemmer:
    """Every language's Snowball stem of a word (PyStemmer): the same word may be either language."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self._stemmers = [pystemmer.Stemmer(name, STEM_CACHE) for name in names]

    def __call__(self, word: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.stemWord(word) for s in self._stemmers))


def content_words(words: list[str], lexicon: Lexicon) -> list[str]:
    """The words that can carry meaning: no punctuation, no stopwords, no bare numbers
    (numbers name objectives and tables only after their word, see ``references``)."""
    return [w for w in words if w not in PUNCTUATION and w not in lexicon.stopwords and not w.isdigit()]


def features(words: list[str], stem: Stemmer) -> list[str]:
    """Stems of the content words plus stem bigrams of neighbouring words (phrases)."""
    stems = [stem(w) for w in words]
    out = [s for group in stems for s in group]
    out += [f"{a[0]}_{b[0]}" for a, b in zip(stems, stems[1:])]
    return out


def find_phrase(words: list[str], phrases: tuple[Phrase, ...], start: int = 0) -> tuple[int, int] | None:
    """The first (start, end) of any of the phrases in words[start:]."""
    for i in range(start, len(words)):
        for phrase in phrases:
            if tuple(words[i : i + len(phrase)]) == phrase:
                return i, i + len(phrase)
    return None
