"""Offline understanding of members' free-text messages, in every language of the lexicons.

``understand(text)`` says what a member wants (an objective, a table, registering, meetings,
help, or nothing we know) and which objectives and tables the message is about.  The engine is
generic; what it knows is data (``handlers/data/nlu/``: lexicons, examples, ``intents.toml``;
``handlers/data/knowledge.toml``).  Objectives and tables named by number or name are read
directly ("objetivo 10 y 13", "mesa 2", "mesa de enlace"); otherwise the part the member asks
(after context and greetings), less what they exclude ("remesas, no inversión"), is scored by
the nearest examples (``handlers.nlu.model``).  When the two best labels are close the answer
is not confident and names the runners-up, for the bot to ask which one is meant.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path

from handlers.knowledge import Knowledge, load_knowledge, table_keywords
from handlers.nlu.text import (
    NLU_DATA, PUNCTUATION, TableReader, content_words, find_phrase, load_lexicon, numbers_after, phrase_at,
    references, tokens,
)  # fmt: skip

__all__ = ["INTENTS", "Understanding", "detect_language", "number_list", "understand"]

INTENTS = ("objective", "table", "register", "meetings", "help", "unknown")

MAX_CHARS, MAX_WORDS = 1200, 160  # only the beginning of a message is read: pasted documents are not questions
MIN_VOTE = 2.5  # below this vote the best label is noise (a single common word): unknown
MIN_COVERAGE = 0.2  # below this share of its words explained by the nearest examples: off-topic
CONFIDENT_RATIO = 0.6  # the runner-up must stay under this share of the winner's vote to be sure
TABLE_INTENT_MARGIN = 1.25  # around a named table, meeting or joining words must beat the table's words by this
TOPIC_AFTER_TABLE = 30.0  # the vote a topic after a numbered table needs (clear of the table's words) to be asked
AFTER_GREETING_WORDS = 3  # content words that must follow a greeting (or context) for them to be the question
LANGUAGE_MARGIN = 1.5  # how far (summed per-word log-odds) the best language must lead the runner-up


@dataclass(frozen=True)
class Understanding:
    """``intent`` (one of :data:`INTENTS`), up to 3 ``objectives`` and table codes best first (the best
    objective's table first; none listed asks for the list), ``alternatives`` when not ``confident``
    ("objective:10", "help"), and which reply ``answer`` means ("greeting", "count", "numbers"...)."""

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
        """``data`` holds ``lexicon/``, ``examples/`` and ``intents.toml`` (a test adds a language there)."""
        # numpy and bm25s (about 20 MiB) are loaded with the first message, not when the bot starts
        from handlers.nlu.model import Model, example_documents, knowledge_documents, load_intents

        self.lexicon = lex = load_lexicon(data / "lexicon")
        self.knowledge = knowledge or load_knowledge()
        self.intents = load_intents(data / "intents.toml")
        documents = example_documents(data / "examples") + knowledge_documents(self.knowledge)
        self.model = Model(documents, lex)
        self.tables = TableReader(lex, table_keywords(self.knowledge))
        # per word, the log-odds of each language against the others, from the documents and stopwords
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for doc in documents:
            counts[doc.lang].update(set(tokens(doc.text, lex, canonical=False)))
        for lang, words in lex.function_words.items():
            counts[lang].update(dict.fromkeys(words, 3))
        self.languages = tuple(counts)
        total = sum(counts.values(), Counter())
        self.word_language = {
            w: tuple(math.log((counts[lang][w] + 0.5) / (n - counts[lang][w] + 0.5)) for lang in self.languages)
            for w, n in total.items()
            if w.isalpha()
        }

    def language(self, words: list[str]) -> str | None:
        totals: Counter[str] = Counter()
        for word in words:
            for lang, odds in zip(self.languages, self.word_language.get(word, ())):
                totals[lang] += max(-3.0, min(3.0, odds))
        ranked = totals.most_common(2) + [("", -LANGUAGE_MARGIN)]
        return ranked[0][0] if totals and ranked[0][1] - ranked[1][1] >= LANGUAGE_MARGIN else None

    def excluded(self, words: list[str]) -> list[bool]:
        """Which words the member excludes: from an excluding phrase to the end of its clause or a contrast
        word ("remesas, no la inversión"), and a negated part before a contrast word ("no X sino Y")."""
        lex, marks = self.lexicon, [False] * len(words)
        position = 0
        while (match := find_phrase(words, lex.excluding, position)) is not None:
            end = match[1]
            while end < len(words) and words[end] not in PUNCTUATION and not phrase_at(words, end, lex.contrast):
                end += 1
            if content_words(words[match[1] : end], lex):
                marks[match[0] : end] = [True] * (end - match[0])
            position = max(end, match[1])
        for i in (i for i in range(1, len(words)) if phrase_at(words, i, lex.contrast)):
            stops = (j for j in range(i - 1, -1, -1) if words[j] in lex.negators or (words[j] in PUNCTUATION and j < i - 1))
            if (j := next(stops, -1)) >= 0 and words[j] in lex.negators:  # "not X, I mean Y"
                marks[j:i] = [True] * (i - j)
        return marks

    def votes(self, words: list[str]) -> tuple[dict[str, float], float]:
        """Label votes and coverage of the words the member wants.  The label the excluded part
        points to is dropped, unless the rest points to it too (then the member was adding detail
        to one topic: "sent back with nothing, no job, no house")."""
        marks = self.excluded(words)
        votes, coverage = self.model.scores([w for w, m in zip(words, marks) if not m])
        if not votes:
            return self.model.scores(words)
        excluded = self.model.scores([w for w, m in zip(words, marks) if m])[0] if any(marks) else {}
        if (dropped := next(iter(excluded), None)) != next(iter(votes)):
            votes.pop(dropped, None)
        return votes, coverage

    def intent_of(self, label: str) -> tuple[str, str | None]:
        kind = label.split(":")[0]
        return (kind, None) if kind in ("objective", "table") else self.intents.get(label, ("unknown", None))

    def table_of(self, label: str) -> str:
        kind, _sep, value = label.partition(":")
        return self.knowledge.objectives[int(value)].table if kind == "objective" else value

    def objective_answer(self, labels: list[str], sure: bool, language: str | None, others: tuple[str, ...] = ()) -> Understanding:
        """The best three objectives among the labels, their tables in the same order."""
        topics = [l for l in labels if l.startswith("objective:")][:3]
        tables = tuple(dict.fromkeys(self.table_of(l) for l in topics))
        return Understanding("objective", tuple(int(l.partition(":")[2]) for l in topics), tables, sure, language, None, others)

    def understand(self, text: str) -> Understanding:
        words = tokens(text[:MAX_CHARS], self.lexicon)[:MAX_WORDS]
        language = self.language(tokens(text[:MAX_CHARS], self.lexicon, canonical=False)[:MAX_WORDS])
        numbered = [n for n, _a, _b in references(words, self.lexicon.objective_words, self.lexicon)]
        if not content_words(words, self.lexicon):  # "y el 19?", "#8": a number alone is an objective's
            numbered = [int(w) for w in words if w.isdigit() and int(w) in self.knowledge.objectives]
            if not numbered:
                return Understanding("unknown", language=language)
        if numbered:
            valid = [f"objective:{n}" for n in dict.fromkeys(numbered) if n in self.knowledge.objectives]
            return replace(self.objective_answer(valid, bool(valid), language), answer="numbers")
        if tables := self.tables.find(words):
            return self.about_table(words, tables, language)
        votes, coverage = self.votes(self.asked_part(words))
        if not votes or next(iter(votes.values())) < MIN_VOTE or coverage < MIN_COVERAGE:
            return Understanding("unknown", language=language)
        labels = list(votes)
        if labels[0].startswith("table:") and self.knowledge.tables[self.table_of(labels[0])].objectives:  # "which table works on X"
            topics = [l for l in labels if l.startswith("objective:")][:3]
            if topics and sum(votes[l] for l in topics) >= votes[labels[0]]:
                labels.insert(0, labels.pop(labels.index(topics[0])))
        intent, answer = self.intent_of(labels[0])
        confident = len(labels) < 2 or votes[labels[1]] < CONFIDENT_RATIO * votes[labels[0]]
        alternatives = () if confident else tuple(labels[1:3])
        themed = find_phrase(words, self.lexicon.themed_table) and not find_phrase(words, self.lexicon.which_table)
        if answer == "itself" or (themed and intent in ("objective", "table")):  # "what does the table on data do?"
            themed = [self.table_of(l) for l in labels if l.startswith(("objective:", "table:"))][:1]
            return Understanding("table", (), tuple(themed), bool(themed), language, None if themed else "list")
        if intent == "objective" and answer is None:
            return self.objective_answer(labels, confident, language, alternatives)
        codes = tuple(l.split(":")[1] for l in labels if l.startswith("table:"))[:3] if intent == "table" and answer is None else ()
        return Understanding(intent, (), codes, confident, language, answer, alternatives)

    def asked_part(self, words: list[str]) -> list[str]:
        """Where what the member asks begins: after context set aside ("somos una red..., pero hoy pregunto:
        ¿qué objetivo cubre las remesas?") and after greetings ("hola, ¿qué objetivo trata la trata?")."""
        lex = self.lexicon
        negated = {i + 1 for i, w in enumerate(words) if w in lex.negators}  # "no me interesa X sino Y"
        marks = [i + len(p) for i in range(len(words)) if (p := phrase_at(words, i, lex.asking)) and i not in negated]
        if marks and content_words(words[marks[-1] :], lex):
            words = words[marks[-1] :]
        while True:
            end = next((i + 1 for i, w in enumerate(words) if w in PUNCTUATION), len(words))
            opening, rest = content_words(words[:end], lex), content_words(words[end:], lex)
            if len(rest) < AFTER_GREETING_WORDS or not set(opening) <= lex.greetings:
                return words
            words = words[end:]

    def about_table(self, words: list[str], tables: list[tuple[str, int, int, bool]], language: str | None) -> Understanding:
        """A table named by number or name: its meetings, joining it, a topic asked after its number
        ("¿qué hace la mesa 3 con las remesas?"), or the table itself ("the table on data and evidence")."""
        codes = tuple(dict.fromkeys(code for code, _a, _b, _n in tables))
        named = {i for _c, a, b, _n in tables for i in range(a, b)}
        rest, _coverage = self.votes([w for i, w in enumerate(words) if i not in named])
        asked = next((l for l in rest if not l.startswith("objective:")), "unknown")
        intent, answer = self.intent_of(asked)
        table_vote = max((v for l, v in rest.items() if self.intent_of(l)[0] == "table"), default=0.0)
        if intent in ("meetings", "register") and rest[asked] >= TABLE_INTENT_MARGIN * table_vote:
            return Understanding(intent, (), codes, True, language, answer)
        topic, _coverage = self.model.scores(words[max((b for _c, _a, b, n in tables if n), default=len(words)) :])
        best, frame = (max((v for l, v in topic.items() if l.startswith("objective:") == kind), default=0.0) for kind in (True, False))
        if best >= max(TOPIC_AFTER_TABLE, frame / CONFIDENT_RATIO):
            return self.objective_answer(list(topic), True, language)
        return Understanding("table", (), codes, True, language)


@cache
def engine() -> Engine:
    """The engine, built on first use (well under a second)."""
    return Engine()


def understand(text: str) -> Understanding:
    """What a member's message is about; never raises on odd input."""
    return _understood(text) if isinstance(text, str) else Understanding("unknown")


@lru_cache(maxsize=4096)
def _understood(text: str) -> Understanding:
    """The same question asked again in a group (or by the next member) is answered from memory."""
    return engine().understand(text)


def number_list(text: str) -> list[int] | None:
    """The numbers of a text that is only a list of numbers ("10 13", "10 y 13", "ten and 13"), else None."""
    lexicon = engine().lexicon
    words = [w for w in tokens(text[:MAX_CHARS], lexicon) if w not in PUNCTUATION]
    numbers, end = numbers_after(words, 0, lexicon)
    return numbers if numbers and end == len(words) else None


def detect_language(text: str) -> str | None:
    """The language code of the text when it is clear, else None (never raises)."""
    return engine().language(tokens(text[:MAX_CHARS], engine().lexicon, False)[:MAX_WORDS]) if isinstance(text, str) else None
