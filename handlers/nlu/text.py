"""From a member's message to tokens and features, driven by the per-language lexicons
(``handlers/data/nlu/lexicon/<lang>.toml``); this module only applies them.  The lexicons of all
languages are merged: a message's language is not known before reading it, and members mix them.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from collections.abc import Callable, Iterable
from pathlib import Path


NLU_DATA = Path(__file__).resolve().parent.parent / "data" / "nlu"

#: Words, numbers (also "10.7", "2+2"), and the punctuation that ends a clause.
_TOKEN = re.compile(r"[a-z0-9]+(?:[.+][0-9]+)*|[.,;:!?]")
_LONG_RUN = re.compile(r"([a-z])\1{2,}")
_GLUED_NUMBER = re.compile(r"^([a-z]{2,})(\d{1,2})$")  # "wt2", "objetivo10"
PUNCTUATION = frozenset(".,;:!?")

Phrase = tuple[str, ...]
Phrases = dict[str, tuple[Phrase, ...]]  # phrases by their first word, longest first


@dataclass(frozen=True)
class Lexicon:
    """The merged lexicons of every language the bot speaks (phrases are token tuples)."""

    stopwords: frozenset[str]
    shorthand: dict[str, Phrase]
    synonyms: dict[str, str]
    excluding: Phrases  # starts a part the member excludes ("no la", "rather than")
    contrast: Phrases  # ends it and starts what they want ("sino", "I mean")
    negators: frozenset[str]  # "no X sino Y": X is excluded
    asking: Phrases  # what comes before is context ("mi pregunta es")
    greetings: frozenset[str]  # a clause of only these opens a message ("hola, buenas tardes")
    objective_words: Phrases
    table_words: Phrases
    themed_table: Phrases  # "la mesa que", "the table on": a table named by its theme...
    which_table: Phrases  # ... unless the member asks which one it is ("cuál es la mesa que")
    joiners: frozenset[str]  # in a list of numbers ("10 y 13")
    number_words: frozenset[str]  # between a reference and its number ("objetivo número 10")
    numbers: dict[str, int]
    ordinals: frozenset[str]  # before a table word ("segunda mesa")
    table_names: dict[Phrase, str]  # "mesa de enlace" -> "LT"
    table_names_alone: dict[Phrase, str]  # "enlace" -> "LT" only when it is the whole text
    stemmer_names: tuple[str, ...]
    function_words: dict[str, frozenset[str]]  # per language: evidence of the language of a message


def ascii_fold(text: str) -> str:
    """Lower case without accents, and without any other non-ASCII character (tokens are ASCII)."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")


def phrase_index(phrases: Iterable[Phrase]) -> Phrases:
    """Phrases by their first word, longest first (so "pero no" wins over "no")."""
    ordered = sorted({p for p in phrases if p}, key=len, reverse=True)
    return {first: tuple(p for p in ordered if p[0] == first) for first in {p[0] for p in ordered}}


def _phrases(items: list[str]) -> Phrases:
    return phrase_index(tuple(_TOKEN.findall(ascii_fold(item))) for item in items)


@cache
def load_lexicon(directory: Path = NLU_DATA / "lexicon") -> Lexicon:
    raw = {path.stem: tomllib.loads(path.read_text("utf-8")) for path in sorted(directory.glob("*.toml"))}
    refs = [data.get("references", {}) for data in raw.values()]
    negation = [data.get("negation", {}) for data in raw.values()]

    def words(items: list) -> frozenset[str]:
        return frozenset(ascii_fold(w) for item in items for w in (item.split() if isinstance(item, str) else item))

    def mapping(key: str) -> dict[str, str]:
        return {ascii_fold(k): ascii_fold(v) for data in raw.values() for k, v in data.get(key, {}).items()}

    def names(key: str) -> dict[Phrase, str]:
        return {tuple(_TOKEN.findall(ascii_fold(i))): code for r in refs for code, items in r.get(key, {}).items() for i in items}

    def merged(tables: list[dict], key: str) -> list[str]:
        return [item for table in tables for item in table.get(key, [])]

    return Lexicon(
        stopwords=words([data.get("stopwords", "") for data in raw.values()]),
        shorthand={k: tuple(v.split()) for k, v in mapping("shorthand").items()},
        synonyms=mapping("synonyms"),
        excluding=_phrases(merged(negation, "excluding")),
        contrast=_phrases(merged(negation, "contrast")),
        negators=words(merged(negation, "negators")),
        asking=_phrases(merged(negation, "asking")),
        greetings=words([data.get("greetings", "") for data in raw.values()]),
        objective_words=_phrases(merged(refs, "objective")),
        table_words=_phrases(merged(refs, "table")),
        themed_table=_phrases(merged(refs, "themed_table")),
        which_table=_phrases(merged(refs, "which_table")),
        joiners=words(merged(refs, "joiners")),
        number_words=words(merged(refs, "number_words")),
        numbers={ascii_fold(k): int(v) for r in refs for k, v in r.get("numbers", {}).items()},
        ordinals=words(merged(refs, "ordinals")),
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


def stemmer(names: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """Every language's Snowball stem of a word (PyStemmer): the same word may be either language."""
    import Stemmer  # with the first message, like the model: the table reader needs no stemmer
    stemmers = [Stemmer.Stemmer(name) for name in names]
    return lambda word: tuple(dict.fromkeys(s.stemWord(word) for s in stemmers))


def content_words(words: list[str], lexicon: Lexicon) -> list[str]:
    """The words that can carry meaning: no punctuation, no stopwords, no bare numbers."""
    return [w for w in words if w not in PUNCTUATION and w not in lexicon.stopwords and not w.isdigit()]


def features(words: list[str], stem: Callable[[str], tuple[str, ...]]) -> list[str]:
    """Stems of the content words plus stem bigrams of neighbouring words (phrases)."""
    stems = [stem(w) for w in words]
    return [s for group in stems for s in group] + [f"{a[0]}_{b[0]}" for a, b in zip(stems, stems[1:])]


def phrase_at(words: list[str], i: int, phrases: Phrases) -> Phrase | None:
    """The longest of the phrases that ``words`` holds from index ``i`` on."""
    return next((p for p in phrases.get(words[i], ()) if tuple(words[i : i + len(p)]) == p), None) if i < len(words) else None


def find_phrase(words: list[str], phrases: Phrases, start: int = 0) -> tuple[int, int] | None:
    """The first (start, end) of any of the phrases in words[start:]."""
    return next(((i, i + len(p)) for i in range(start, len(words)) if (p := phrase_at(words, i, phrases))), None)


def numbers_after(words: list[str], start: int, lexicon: Lexicon) -> tuple[list[int], int]:
    """Numbers listed from ``words[start]`` on ("10 y 13", "twenty two", "dix-sept"), and where they end."""
    numbers: list[int] = []
    i, glued = start, False
    while i < len(words):
        word = words[i]
        value = int(word) if word.isascii() and word.isdigit() and len(word) <= 3 else lexicon.numbers.get(word)
        if value is not None and glued and numbers[-1] % 10 == 0 and value < 10:
            numbers[-1] += value  # "twenty two", "dix-sept"
        elif value is not None:
            numbers.append(value)
        elif not (numbers and (word in lexicon.joiners or word == ",") and i + 1 < len(words)):
            break
        i, glued = i + 1, value is not None and not word.isdigit()
    return numbers, i


def references(words: list[str], phrases: Phrases, lexicon: Lexicon) -> list[tuple[int, int, int]]:
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
    """The one reader of table references, for command arguments and free text alike: a table word
    and its number ("mesa 2", "WT2", "table two", "mesa II"), an ordinal and a table word ("segunda
    mesa"), a name of the lexicons or a table keyword of the knowledge base ("mesa de datos"),
    or a name that counts only as the whole text ("enlace", "técnica")."""

    def __init__(self, lexicon: Lexicon, names: Iterable[tuple[str, str]] = ()) -> None:
        self.lexicon = lexicon
        self.names = {**lexicon.table_names, **{tuple(tokens(n, lexicon)): code for n, code in names}}
        self.name_index = phrase_index(self.names)

    def find(self, words: list[str]) -> list[tuple[str, int, int, bool]]:
        """(code, start, end, numbered) of every table named in ``words`` (from ``tokens``), in order."""
        lex = self.lexicon
        found = [(f"WT{n}", a, b, True) for n, a, b in references(words, lex.table_words, lex) if 1 <= n <= 4]
        found += [(f"WT{lex.numbers[w]}", i, i + 2, True) for i, w in enumerate(words)  # "segunda mesa"
                  if w in lex.ordinals and 1 <= lex.numbers[w] <= 4 and phrase_at(words, i + 1, lex.table_words)]
        found += [(self.names[p], i, i + len(p), False) for i in range(len(words)) if (p := phrase_at(words, i, self.name_index))]
        whole = tuple(w for w in words if w not in PUNCTUATION)
        if whole in lex.table_names_alone:
            found.append((lex.table_names_alone[whole], 0, len(words), False))
        return sorted(found, key=lambda ref: ref[1])
