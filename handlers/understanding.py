"""Offline understanding of members' free-text messages (Spanish or English).

``understand(text)`` decides what a member wants (an objective, a table, how to register,
the meeting calendar, help, or nothing we know) and which GCM objectives and tables the
message is about.  The engine is generic; what it knows is data:

- ``handlers/data/nlu/lexicon/<lang>.toml``: stopwords, shorthand, slang, negation and
  contrast words, the words for "objective" and "table" and the number words;
- ``handlers/data/nlu/examples/<lang>/*.txt``: example messages per objective, table and
  intent, and ``handlers/data/nlu/intents.toml`` for what each intent example file means;
- ``handlers/data/knowledge.toml``: titles, summaries and keywords of objectives and tables.

Steps: the text is folded and tokenised (``handlers.nlu.text``); objectives and tables
named by number ("objetivo 10 y 13", "mesa 2") or by a table's name are read directly;
the parts of the message the member excludes ("remesas, no inversión") are set aside; the
rest is scored against every example sentence by a BM25 index whose nearest sentences vote
for their labels (``handlers.nlu.model``).  A topic named after a table ("¿qué hace la mesa
3 con las remesas?") is an objective question.  When the two best labels are close the
answer is not confident and carries the runner-up labels as ``alternatives``, so that the
bot can ask which one the member means.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from handlers.knowledge import Knowledge, load_knowledge, table_keywords
from handlers.nlu.text import (
    NLU_DATA, PUNCTUATION, TableReader, content_words, find_phrase, load_lexicon, numbers_after, phrase_at,
    references, tokens,
)  # fmt: skip

if TYPE_CHECKING:
    from handlers.nlu.model import Document

__all__ = ["INTENTS", "Understanding", "detect_language", "number_list", "understand"]

INTENTS = ("objective", "table", "register", "meetings", "help", "unknown")

#: Only the beginning of a message is read: questions are short, pasted documents are not.
MAX_CHARS = 1200
MAX_WORDS = 160
#: Below this vote the best label is noise (a single common word): the message is unknown.
MIN_VOTE = 2.5
#: Below this share of its words explained by the nearest examples, a message is off-topic.
MIN_COVERAGE = 0.2
#: The runner-up must stay under this share of the winner's vote for a confident answer.
CONFIDENT_RATIO = 0.6
#: Around a named table, meeting or joining words must beat the table's own words by this factor.
TABLE_INTENT_MARGIN = 1.25
#: A topic after a named table must reach this vote to make the question an objective one.
TOPIC_AFTER_TABLE = 6.0
#: The best three objectives together reaching this share of a winning table make it a topic question.
OWN_TOPIC_RATIO = 1.0
#: A clause longer than this (content words) is not a greeting.
GREETING_WORDS = 5
#: How many content words must follow an opening greeting for them to be the message.
AFTER_GREETING_WORDS = 3
#: How sure the language guess must be: how far (sum of per-word log-odds, each language
#: against all the others) the best language must lead the runner-up.
LANGUAGE_MARGIN = 1.5


@dataclass(frozen=True)
class Understanding:
    """What a member's message is about.

    ``intent`` is one of :data:`INTENTS`.  ``objectives`` lists up to 3 objective numbers,
    best first; ``tables`` lists table codes ("WT1".."WT4", "LT", "TT"), best first (for an
    objective question the table of the best objective first).  An "objective" or "table"
    intent with nothing listed asks for the whole list.  ``confident`` is False when the
    bot should say it is unsure; ``alternatives`` then names the runner-up labels
    ("objective:10", "table:WT2", or an intent name such as "help" or "unknown").
    ``answer`` says which reply of the intent is meant ("greeting", "about_gcm", "count",
    "list"; "numbers" when objectives were named by number, so all of them are answered).
    ``language`` is "es"/"en" when the text's language is clear, else None.
    """

    intent: str
    objectives: tuple[int, ...] = ()
    tables: tuple[str, ...] = ()
    confident: bool = False
    language: str | None = None
    answer: str | None = None
    alternatives: tuple[str, ...] = ()


class Engine:
    """The lexicon, the model and the knowledge, built once per process."""

    def __init__(self, data: Path = NLU_DATA, knowledge: Knowledge | None = None) -> None:
        """``data`` holds ``lexicon/``, ``examples/`` and ``intents.toml`` (the packaged ones by
        default; a test passes another directory to add a language without code)."""
        # numpy and bm25s (about 20 MiB) are loaded with the first message to understand,
        # not when the bot starts: a bot nobody writes to stays small
        from handlers.nlu.model import Model, example_documents, knowledge_documents, load_intents

        self.lexicon = load_lexicon(data / "lexicon")
        self.knowledge = knowledge or load_knowledge()
        self.intents = load_intents(data / "intents.toml")
        examples = example_documents(data / "examples")
        knowledge_docs = knowledge_documents(self.knowledge)
        self.model = Model(examples + knowledge_docs, self.lexicon)
        self.tables = TableReader(self.lexicon, table_keywords(self.knowledge))
        self.word_language = self._language_evidence(examples + knowledge_docs)

    def _language_evidence(self, examples: list[Document]) -> dict[str, tuple[float, ...]]:
        """Per word, the log-odds of each language (in ``self.languages`` order), from the
        example files, the knowledge texts and the stopwords."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for doc in examples:
            counts[doc.lang].update(set(tokens(doc.text, self.lexicon, canonical=False)))
        for lang, words in self.lexicon.function_words.items():
            counts[lang].update(dict.fromkeys(words, 3))
        self.languages = tuple(counts)
        vocabulary = {w for c in counts.values() for w in c if w.isalpha()}
        return {
            w: tuple(
                math.log((counts[lang][w] + 0.5) / (sum(c[w] for c in counts.values()) - counts[lang][w] + 0.5))
                for lang in self.languages
            )
            for w in vocabulary
        }

    # reading the message -------------------------------------------------------------

    def language(self, words: list[str]) -> str | None:
        totals: Counter[str] = Counter()
        for word in words:
            for lang, odds in zip(self.languages, self.word_language.get(word, ())):
                totals[lang] += max(-3.0, min(3.0, odds))
        ranked = totals.most_common(2)
        if not ranked:
            return None
        (lang, best), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else -LANGUAGE_MARGIN)
        return lang if best - runner_up >= LANGUAGE_MARGIN else None

    def excluded(self, words: list[str]) -> list[bool]:
        """Which words belong to a part the member excludes ("not X", "X rather than Y")."""
        lex = self.lexicon
        marks = [False] * len(words)

        def clause_end(i: int) -> int:
            while i < len(words) and words[i] not in PUNCTUATION and not phrase_at(words, i, lex.contrast):
                i += 1
            return i

        position = 0
        while (match := find_phrase(words, lex.excluding, position)) is not None:
            end = clause_end(match[1])
            if content_words(words[match[1] : end], lex):
                marks[match[0] : end] = [True] * (end - match[0])
            position = max(end, match[1])
        for i in range(len(words)):
            if phrase_at(words, i, lex.contrast):
                j = i - 2 if i > 0 and words[i - 1] in PUNCTUATION else i - 1  # "not X, I mean Y"
                while j >= 0 and words[j] not in PUNCTUATION and words[j] not in lex.negators:
                    j -= 1
                if j >= 0 and words[j] in lex.negators:
                    marks[j:i] = [True] * (i - j)
        return marks

    def votes(self, words: list[str]) -> tuple[dict[str, float], float]:
        """Label votes and coverage of the words the member wants.

        Only the words outside excluded parts vote; the label the excluded part points to
        is dropped from the runners-up, unless the rest points to it too (then the member
        was adding detail to one topic: "sent back with nothing, no job, no house")."""
        marks = self.excluded(words)
        kept = [w for w, m in zip(words, marks) if not m]
        votes, coverage = self.model.scores(kept)
        if not votes:
            return self.model.scores(words)
        excluded = [w for w, m in zip(words, marks) if m]
        if excluded:
            dropped = next(iter(self.model.scores(excluded)[0]), None)
            if dropped != next(iter(votes)):
                votes.pop(dropped, None)
        return votes, coverage

    def intent_of(self, label: str) -> tuple[str, str | None]:
        kind = label.split(":")[0]
        return (kind, None) if kind in ("objective", "table") else self.intents.get(label, ("unknown", None))

    # deciding --------------------------------------------------------------------------

    def understand(self, text: str) -> Understanding:
        words = tokens(text[:MAX_CHARS], self.lexicon)[:MAX_WORDS]
        language = self.language(tokens(text[:MAX_CHARS], self.lexicon, canonical=False)[:MAX_WORDS])
        if not content_words(words, self.lexicon):
            return Understanding("unknown", language=language)
        if numbered := references(words, self.lexicon.objective_words, self.lexicon):
            valid = tuple(dict.fromkeys(n for n, _a, _b in numbered if n in self.knowledge.objectives))[:3]
            return Understanding("objective", valid, self.tables_of(valid), bool(valid), language, "numbers")
        if tables := self.tables.find(words):
            return self.about_table(words, tables, language)
        votes, coverage = self.votes(self.asked_part(words))
        if not votes or next(iter(votes.values())) < MIN_VOTE or coverage < MIN_COVERAGE:
            return Understanding("unknown", language=language)
        return self.from_votes(votes, language)

    def asked_part(self, words: list[str]) -> list[str]:
        """Where what the member asks begins: after context they set aside ("somos una red de
        mujeres..., pero hoy pregunto: ¿qué objetivo cubre las remesas?") and after opening
        greetings ("hola, ¿qué objetivo trata la trata?") when a few content words follow."""
        lex = self.lexicon
        marks = [i + len(p) for i in range(len(words)) if (p := phrase_at(words, i, lex.asking))]
        if marks and len(content_words(words[marks[-1] :], lex)) >= AFTER_GREETING_WORDS:
            words = words[marks[-1] :]
        while (end := _clause_end(words, 0)) < len(words) and len(content_words(words[end:], lex)) >= AFTER_GREETING_WORDS:
            if len(content_words(words[:end], lex)) > GREETING_WORDS:
                break
            if self.intent_of(next(iter(self.model.scores(words[:end])[0]), "unknown"))[1] != "greeting":
                break
            words = words[end:]
        return words

    def from_votes(self, votes: dict[str, float], language: str | None) -> Understanding:
        labels = self.topic_before_table(votes, list(votes))
        intent, answer = self.intent_of(labels[0])
        if answer == "itself":
            return self.table_by_theme([l for l in labels if l.startswith(("objective:", "table:"))], language)
        runner_up = votes[labels[1]] if len(labels) > 1 else 0.0
        confident = runner_up < CONFIDENT_RATIO * votes[labels[0]]
        alternatives = () if confident else tuple(labels[1:3])
        if answer == "list":
            return Understanding(intent, (), (), confident, language, answer, alternatives)
        if intent == "objective":
            numbers = tuple(int(l.split(":")[1]) for l in labels if l.startswith("objective:"))[:3]
            return Understanding("objective", numbers, self.tables_of(numbers), confident, language, None, alternatives)
        if intent == "table":
            codes = tuple(l.split(":")[1] for l in labels if l.startswith("table:"))[:3]
            return Understanding("table", (), codes, confident, language, None, alternatives)
        return Understanding(intent, (), (), confident, language, answer, alternatives)

    def table_by_theme(self, themed: list[str], language: str | None) -> Understanding:
        """"What does the table on data do?": the table named directly, or the best objective's."""
        if not themed:
            return Understanding("table", (), (), False, language, "list")
        kind, _sep, value = themed[0].partition(":")
        code = value if kind == "table" else self.knowledge.objectives[int(value)].table
        return Understanding("table", (), (code,), True, language)

    def topic_before_table(self, votes: dict[str, float], labels: list[str]) -> list[str]:
        """A table that wins by a little over the objectives together is "which table works on X": X.

        Every table example says "mesa"/"table", so the six table labels share those votes
        among few labels while the 23 objectives split theirs; the objectives are compared
        together (their best three) with the table."""
        if not labels[0].startswith("table:"):
            return labels
        topics = [l for l in labels if l.startswith("objective:")][:3]
        if topics and sum(votes[l] for l in topics) >= OWN_TOPIC_RATIO * votes[labels[0]]:
            return [topics[0]] + [l for l in labels if l != topics[0]]
        return labels

    def about_table(self, words: list[str], tables: list[tuple[str, int, int, bool]], language: str | None) -> Understanding:
        """A table named by number or name: its meetings, joining it, a topic asked after its
        number ("¿qué hace la mesa 3 con las remesas?"), or the table itself (a name such as
        "the table on data and evidence" goes on with words of its theme, not a new topic)."""
        codes = tuple(dict.fromkeys(code for code, _a, _b, _n in tables))
        named = {i for _c, a, b, _n in tables for i in range(a, b)}
        rest, _coverage = self.votes([w for i, w in enumerate(words) if i not in named])
        asked = next((l for l in rest if not l.startswith("objective:")), "unknown")
        intent, answer = self.intent_of(asked)
        table_vote = max((v for l, v in rest.items() if self.intent_of(l)[0] == "table"), default=0.0)
        if intent in ("meetings", "register") and rest[asked] >= TABLE_INTENT_MARGIN * table_vote:
            return Understanding(intent, (), codes, True, language, answer)
        after = max((b for _c, _a, b, numbered in tables if numbered), default=len(words))
        topic, _coverage = self.model.scores(words[after:])
        best = next(iter(topic), "")
        if best.startswith("objective:") and topic[best] >= TOPIC_AFTER_TABLE:
            numbers = tuple(int(l.split(":")[1]) for l in topic if l.startswith("objective:"))[:3]
            return Understanding("objective", numbers, self.tables_of(numbers), True, language)
        return Understanding("table", (), codes, True, language)

    def tables_of(self, numbers: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.knowledge.objectives[n].table for n in numbers))


def _clause_end(words: list[str], start: int) -> int:
    """The index just past the next punctuation mark after ``start`` (or the end)."""
    for i in range(start, len(words)):
        if words[i] in PUNCTUATION:
            return i + 1
    return len(words)


@cache
def engine() -> Engine:
    """The engine, built on first use (a fraction of a second)."""
    return Engine()


def understand(text: str) -> Understanding:
    """What a member's message is about; never raises on odd input."""
    if not isinstance(text, str):
        return Understanding("unknown")
    return _understood(text)


@lru_cache(maxsize=4096)
def _understood(text: str) -> Understanding:
    """The engine is a pure function of the text: the same question asked again in a group (or
    by the next member) is answered from memory, and the cache is bounded."""
    return engine().understand(text)


def number_list(text: str) -> list[int] | None:
    """The numbers of a text that is only a list of numbers ("10 13", "10 y 13", "ten and 13"), else None."""
    e = engine()
    words = [w for w in tokens(text[:MAX_CHARS], e.lexicon) if w not in PUNCTUATION]
    numbers, end = numbers_after(words, 0, e.lexicon)
    return numbers if numbers and end == len(words) else None


def detect_language(text: str) -> str | None:
    """"es" or "en" when the text is clearly in one of them, else None (never raises)."""
    if not isinstance(text, str):
        return None
    e = engine()
    return e.language(tokens(text[:MAX_CHARS], e.lexicon, canonical=False)[:MAX_WORDS])
