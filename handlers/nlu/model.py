"""Which label (an objective, a table, an intent) a message is closest to, learnt from data.

The model is a BM25 index (the ``bm25s`` library) over every example sentence of
``handlers/data/nlu/examples/`` plus each keyword, title, short line and summary of
``handlers/data/knowledge.toml``, one document per sentence.  A message is scored against
all of them and the labels of the best-matching sentences vote, weighted by score and
rank (nearest-neighbour voting): a story told in everyday words wins through the example
stories that share its words, a technical term through its keyword.  A second BM25 index
holds one document per label (all its sentences together) and adds its scores to the
votes, so that a message whose words are spread over many sentences of one label still
finds it.  Words are Snowball stems of both languages plus stem bigrams (phrases).

Why BM25 and not a linear classifier: scikit-learn (TF-IDF + a linear model) brings scipy
and adds about 117 MiB to the process (measured: a bare interpreter 13 MiB, with
``sklearn.linear_model`` and ``feature_extraction`` 131 MiB), against about 21 MiB for
``bm25s`` on numpy alone (17 of them numpy itself; bm25s uses scipy only when it happens to
be installed, and gcmbot does not depend on it); the built index adds about 14 MiB.  The
bot's idle memory matters (issue 16): this module is imported, and the index built, with the
first message to understand (``handlers.understanding.engine``), so an idle bot does not pay
for it.  In a trial on the tuning sets with the same examples and features, a LinearSVC over
stem and character n-grams chose the right objective label in 0.5-1.5 points more messages
and the right intent label in up to 1.4 points fewer, and took about 10 times longer to
build: comparable, so the lighter index won.

Typos: a word the index does not know is replaced by its closest known word (rapidfuzz)
when they are close enough; stems (Snowball) bring inflections together.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
from rapidfuzz import fuzz, process

from handlers.knowledge import Knowledge
from handlers.nlu.text import NLU_DATA, Lexicon, Stemmer, content_words, features, tokens

# bm25s sets its logger to DEBUG when imported, after the bot configured logging: keep its
# "Building index" lines out of the chat and of `gcmbot ask` (warnings still show)
logging.getLogger("bm25s").setLevel(logging.WARNING)

EXAMPLES_DIR = NLU_DATA / "examples"
INTENTS_FILE = NLU_DATA / "intents.toml"

#: How many nearest sentences vote, and how fast a vote fades with rank; then how much the
#: label's whole bag of sentences (one BM25 document per label) adds, relative to the best vote.
NEIGHBOURS = 20
RANK_DECAY = 0.85
LABEL_WEIGHT = 2.0
#: How many of the best sentences must explain a message's words.
COVERAGE_DOCS = 12
#: A word pair found in the sentences of more labels than this is a question frame ("qué mesa
#: ve", "which table works"), not a phrase of one topic: it is left out of the index.
PHRASE_LABELS = 3
#: How close (rapidfuzz ratio, 0-100) an unknown word must be to a known one to stand for it.
TYPO_CUTOFF = 84.0
_EXAMPLE_NAME = re.compile(r"^(objective)_(\d+)$|^(table)_([A-Z0-9]+)$|^intent_(\w+)$")


@dataclass(frozen=True)
class Document:
    label: str
    text: str
    lang: str


def label_of_file(stem: str) -> str | None:
    """``objective_07`` -> ``objective:7``, ``table_LT`` -> ``table:LT``, ``intent_help`` -> ``help``."""
    match = _EXAMPLE_NAME.match(stem)
    if match is None:
        return None
    if match.group(1):
        return f"objective:{int(match.group(2))}"
    if match.group(3):
        return f"table:{match.group(4)}"
    return match.group(5)


def example_documents(directory: Path = EXAMPLES_DIR) -> list[Document]:
    docs: list[Document] = []
    for path in sorted(directory.glob("*/*.txt")):
        label = label_of_file(path.stem)
        if label is None:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                docs.append(Document(label, line, path.parent.name))
    return docs


def knowledge_documents(knowledge: Knowledge) -> list[Document]:
    """Titles, short lines, summaries and keywords of objectives; the keywords naming each table.

    Table names are left out: they hold topic words ("Inclusion of migrants") that belong to
    the objectives, while a table's keywords name the table itself ("inclusion table")."""
    docs: list[Document] = []
    for number, o in knowledge.objectives.items():
        label = f"objective:{number}"
        for lang in knowledge.languages:
            texts = [
                o.titles.get(lang, ""), o.shorts.get(lang, ""), o.summaries.get(lang, ""),
                *o.keyword_lists.get(lang, ()), *o.context_lists.get(lang, ()),
            ]  # fmt: skip
            docs += [Document(label, t, lang) for t in texts if t]
    for code, t in knowledge.tables.items():
        for lang, keywords in t.keyword_lists.items():
            docs += [Document(f"table:{code}", text, lang) for text in keywords]
    return docs


def load_intents(path: Path = INTENTS_FILE) -> dict[str, tuple[str, str | None]]:
    """Intent example name -> (intent, answer)."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return {name: (body["intent"], body.get("answer")) for name, body in raw.items()}


def _without_frames(corpus: list[list[str]], labels: list[str]) -> list[list[str]]:
    spread: dict[str, set[str]] = defaultdict(set)
    for label, doc in zip(labels, corpus):
        for feature in doc:
            if "_" in feature:
                spread[feature].add(label)
    frames = {f for f, found in spread.items() if len(found) > PHRASE_LABELS}
    return [[f for f in doc if f not in frames] for doc in corpus]


class Model:
    """A BM25 index over labelled sentences; ``scores`` ranks the labels for a message."""

    def __init__(self, documents: list[Document], lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.stem = Stemmer(lexicon.stemmer_names)
        corpus: list[list[str]] = []
        labels: list[str] = []
        words: set[str] = set()
        for doc in documents:
            content = content_words(tokens(doc.text, lexicon), lexicon)
            if content:
                words.update(content)
                corpus.append(features(content, self.stem))
                labels.append(doc.label)
        corpus = _without_frames(corpus, labels)
        self.vocabulary = {f: i for i, f in enumerate(dict.fromkeys(f for doc in corpus for f in doc))}
        ids = [sorted({self.vocabulary[f] for f in doc}) for doc in corpus]
        # each document's feature ids, end to end (CSR-like), for the coverage of a message
        self.doc_ids = np.fromiter((i for doc in ids for i in doc), dtype=np.int32)
        self.doc_starts = np.cumsum([0] + [len(doc) for doc in ids])
        frequency = np.bincount(self.doc_ids, minlength=len(self.vocabulary))
        self.max_idf = math.log(len(corpus) + 1)
        self.idf = np.log((len(corpus) + 1) / np.maximum(frequency, 1)).astype(np.float32)
        # known words by first letter and length: a typo is compared only with words of a possible
        # length that start like it (members rarely mistype the first letter)
        self.known_words: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted(w for w in words if w.isalpha() and len(w) > 3):
            self.known_words[word[0], len(word)].append(word)
        self.labels = np.array(labels)
        self.index = bm25s.BM25()
        self.index.index(bm25s.tokenization.Tokenized(ids=ids, vocab=self.vocabulary), show_progress=False)
        grouped: dict[str, list[int]] = defaultdict(list)
        for label, doc in zip(labels, ids):
            grouped[label] += doc
        self.label_names = list(grouped)
        self.label_index = bm25s.BM25()
        self.label_index.index(
            bm25s.tokenization.Tokenized(ids=list(grouped.values()), vocab=self.vocabulary), show_progress=False
        )

    def knows(self, word: str) -> bool:
        return any(s in self.vocabulary for s in self.stem(word))

    @lru_cache(maxsize=20_000)
    def spelling(self, word: str) -> str:
        """The word, or the known word it is a typo of."""
        if len(word) <= 3 or not word.isalpha() or self.knows(word):
            return word
        slack = int(2 * len(word) * (100 - TYPO_CUTOFF) / TYPO_CUTOFF)  # longest length gap within the cutoff
        candidates = [
            w for n in range(len(word) - slack, len(word) + slack + 1) for w in self.known_words.get((word[0], n), ())
        ]
        found = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        return found[0] if found else word

    def scores(self, words: list[str]) -> tuple[dict[str, float], float]:
        """Label -> vote of the nearest sentences, and how much of the message they explain.

        The second value (0-1) is the idf-weighted share of the message's words found in
        the best sentences: low when the message is about something the data never
        mentions ("my car broke down"), whatever label wins the vote."""
        content = [self.spelling(w) for w in content_words(words, self.lexicon)]
        query = list(dict.fromkeys(features(content, self.stem)))
        ids = [self.vocabulary[f] for f in query if f in self.vocabulary]
        if not ids:
            return {}, 0.0
        doc_scores = self.index.get_scores(ids)
        count = min(NEIGHBOURS, len(doc_scores))
        best = np.argpartition(-doc_scores, count - 1)[:count]
        best = [int(i) for i in best[np.argsort(-doc_scores[best])] if doc_scores[i] > 0]
        votes: dict[str, float] = defaultdict(float)
        for rank, i in enumerate(best):
            votes[str(self.labels[i])] += float(doc_scores[i]) * RANK_DECAY**rank
        if votes:
            label_scores = self.label_index.get_scores(ids)
            scale = max(votes.values()) / max(float(label_scores.max()), 1e-9)
            for name, score in zip(self.label_names, label_scores):
                if score > 0:
                    votes[name] += LABEL_WEIGHT * scale * float(score)
        return dict(sorted(votes.items(), key=lambda kv: -kv[1])), self._coverage(content, best[:COVERAGE_DOCS])

    def _coverage(self, content: list[str], docs: list[int]) -> float:
        found = {int(i) for d in docs for i in self.doc_ids[self.doc_starts[d] : self.doc_starts[d + 1]]}
        total = explained = 0.0
        for word in dict.fromkeys(content):
            ids = [self.vocabulary[s] for s in self.stem(word) if s in self.vocabulary]
            weight = max((float(self.idf[i]) for i in ids), default=self.max_idf)
            total += weight
            explained += weight if any(i in found for i in ids) else 0.0
        return explained / total if total else 0.0
