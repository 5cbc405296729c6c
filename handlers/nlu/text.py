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
from collections.abc import Iterable
from pathlib import Path

import Stemmer as pystemmer

NLU_DATA = Path(__file__).resolve().parent.parent / "data" / "nlu"
LEXICON_DIR = NLU_DATA / "lexicon"

#: Words, numbers (also "10.7", "2+2"), and the punctuation that ends a clause.
_TOKEN = re.compile(r"[a-z0-9]+(?:[.+][0-9]+)*|[.,;:!?]")
_LONG_RUN = re.compile(r"([a-z])\1{2,}")
_GLUED_NUMBER = re.compile(r"^([a-z]{2,})(\d{1,2})$")  # "wt2", "objetivo10"
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
    asking: tuple[Phrase, ...]
    objective_words: tuple[Phrase, ...]
    table_words: tuple[Phrase, ...]
    joiners: frozenset[str]
    number_words: frozenset[str]
    numbers: dict[str, int]
    ordinals: frozenset[str]
    table_names: dict[Phrase, str]
    """A table's names ("mesa de enlace", "technical table") -> its code."""
    table_names_alone: dict[Phrase, str]
    """Names that mean the table only when they are all the text ("enlace": otherwise a link)."""
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
    refs = [data.get("references", {}) for data in raw.values()]

    def words(items: list) -> frozenset[str]:
        return frozenset(ascii_fold(w) for item in items for w in (item.split() if isinstance(item, str) else item))

    def merged(key: str, sub: str | None = None) -> list:
        return [v for data in raw.values() for v in (data.get(key, {}).get(sub, []) if sub else data.get(key, {}))]

    def mapping(key: str) -> dict[str, str]:
        return {ascii_fold(k): ascii_fold(v) for data in raw.values() for k, v in data.get(key, {}).items()}

    def names(key: str) -> dict[Phrase, str]:
        return {p: code for r in refs for code, items in r.get(key, {}).items() for p in _phrases(items)}

    return Lexicon(
        stopwords=words([data.get("stopwords", "") for data in raw.values()]),
        shorthand={k: tuple(v.split()) for k, v in mapping("shorthand").items()},
        synonyms=mapping("synonyms"),
        excluding=_phrases(merged("negation", "excluding")),
        contrast=_phrases(merged("negation", "contrast")),
        negators=words(merged("negation", "negators")),
        asking=_phrases(merged("negation", "asking")),
        objective_words=_phrases(merged("references", "objective")),
        table_words=_phrases(merged("references", "table")),
        joiners=words(merged("references", "joiners")),
        number_words=words(merged("references", "number_words")),
        numbers={ascii_fold(k): int(v) for r in refs for k, v in r.get("numbers", {}).items()},
        ordinals=words(merged("references", "ordinals")),
        table_names=names("tables"),
        table_names_alone=names("tables_alone"),
        stemmer_names=tuple(dict.fromkeys(data["stemmer"] for data in raw.values() if data.get("stemmer"))),
        function_words={
            lang: words([data.get("stopwords", ""), list(data.get("references", {}).get("numbers", {}))])
            for lang, data in raw.items()
        },
    )


def tokens(text: str, lexicon: Lexicon, canonical: bool = True) -> list[str]:
    """Folded words and clause punctuation, shorthand spelt out, a number glued to a word split
    off ("wt2", "objetivo10") and (when ``canonical``) slang made canonical; the language guess
    reads the words as written ("remessas" stays Portuguese)."""
    out: list[str] = []
    for token in _TOKEN.findall(_LONG_RUN.sub(r"\1", ascii_fold(text))):
        for word in lexicon.shorthand.get(token, (token,)):
            glued = _GLUED_NUMBER.match(word)
            for part in glued.groups() if glued else (word,):
                out.append(lexicon.synonyms.get(part, part) if canonical else part)
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


def phrase_at(words: list[str], i: int, phrases: Iterable[Phrase]) -> Phrase | None:
    """The first of the phrases that ``words`` holds from index ``i`` on."""
    return next((p for p in phrases if tuple(words[i : i + len(p)]) == p), None)


def find_phrase(words: list[str], phrases: Iterable[Phrase], start: int = 0) -> tuple[int, int] | None:
    """The first (start, end) of any of the phrases in words[start:]."""
    for i in range(start, len(words)):
        if (phrase := phrase_at(words, i, phrases)) is not None:
            return i, i + len(phrase)
    return None


def numbers_after(words: list[str], start: int, lexicon: Lexicon) -> tuple[list[int], int]:
    """Numbers listed from ``words[start]`` on ("10 13", "10 y 13", "twenty two", "dix-sept"),
    and where they end."""
    numbers: list[int] = []
    i, glued = start, False
    while i < len(words):
        word = words[i]
        value = int(word) if word.isascii() and word.isdigit() and len(word) <= 3 else lexicon.numbers.get(word)
        if value is not None:
            if glued and numbers[-1] % 10 == 0 and value < 10:
                numbers[-1] += value  # "twenty two", "dix-sept"
            else:
                numbers.append(value)
            i, glued = i + 1, not word.isdigit()
        elif numbers and (word in lexicon.joiners or word == ",") and i + 1 < len(words):
            i, glued = i + 1, False
        else:
            break
    return numbers, i


def references(words: list[str], phrases: tuple[Phrase, ...], lexicon: Lexicon) -> list[tuple[int, int, int]]:
    """(number, start, end) of each number written after one of the phrases ("objetivo 10 y 13",
    "mesa nº 2"); start and end span the phrase and its whole list."""
    found: list[tuple[int, int, int]] = []
    position = 0
    while (match := find_phrase(words, phrases, position)) is not None:
        after = match[1]
        while after < len(words) and (words[after] in lexicon.number_words or words[after] == "."):
            after += 1
        numbers, stop = numbers_after(words, after, lexicon)
        found += [(n, match[0], stop) for n in numbers]
        position = match[1]
    return found


class TableReader:
    """The one reader of table references, for command arguments and free text alike.

    A table word and its number ("mesa 2", "WT2", "wt-3", "table two", "mesa II"), an ordinal
    and a table word ("segunda mesa"), or a table's name: from the lexicons (``[references.tables]``)
    and the table keywords of the knowledge base ("mesa de datos", "liaison table").  A name of
    ``[references.tables_alone]`` ("enlace", "técnica") counts only when it is the whole text."""

    def __init__(self, lexicon: Lexicon, names: Iterable[tuple[str, str]] = ()) -> None:
        self.lexicon = lexicon
        self.names = {**lexicon.table_names, **{tuple(tokens(n, lexicon)): code for n, code in names}}

    def find(self, words: list[str]) -> list[tuple[str, int, int, bool]]:
        """(code, start, end, numbered) of every table named in ``words`` (from ``tokens``), in order."""
        lex = self.lexicon
        found = [(f"WT{n}", a, b, True) for n, a, b in references(words, lex.table_words, lex) if 1 <= n <= 4]
        for i, word in enumerate(words[:-1]):
            if word in lex.ordinals and 1 <= lex.numbers[word] <= 4 and phrase_at(words, i + 1, lex.table_words):
                found.append((f"WT{lex.numbers[word]}", i, i + 2, True))
        for phrase, code in self.names.items():
            if match := find_phrase(words, (phrase,)):
                found.append((code, *match, False))
        whole = tuple(w for w in words if w not in PUNCTUATION)
        if whole in lex.table_names_alone:
            found.append((lex.table_names_alone[whole], 0, len(words), False))
        return sorted(found, key=lambda ref: ref[1])
