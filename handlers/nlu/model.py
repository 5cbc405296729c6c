"""Which label (an objective, a table, an intent) a message is closest to, learnt from data.

A BM25 index (``bm25s``) holds one document per example sentence and per keyword, title and
summary of the knowledge base; the labels of the sentences nearest to a message vote, weighted
by score and rank, and a second index with one document per label adds its scores (a message
whose words are spread over many sentences of one label).  Features are the Snowball stems of
every language plus stem bigrams; an unknown word is read as its closest known word (rapidfuzz).
bm25s rather than scikit-learn (comparable accuracy in a trial): about 21 MiB on numpy against
about 130 MiB with scipy, and a build about ten times faster.
"""

from __future__ import annotations

import logging
import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
from rapidfuzz import fuzz, process

from handlers.knowledge import Knowledge
from handlers.nlu.text import NLU_DATA, Lexicon, content_words, features, stemmer, tokens

# bm25s sets its logger to DEBUG when imported, after the bot configured logging: keep its
# "Building index" lines out of the chat and of `gcmbot ask` (warnings still show)
logging.getLogger("bm25s").setLevel(logging.WARNING)

EXAMPLES_DIR = NLU_DATA / "examples"
INTENTS_FILE = NLU_DATA / "intents.toml"

NEIGHBOURS, RANK_DECAY = 20, 0.85  # how many nearest sentences vote, how fast a vote fades with rank
LABEL_WEIGHT = 2.0  # what the label index (all of a label's sentences) adds, relative to the best vote
COVERAGE_DOCS = 12  # how many of the best sentences must explain a message's words
PHRASE_LABELS = 3  # a word pair in more labels than this is a question frame ("qué mesa ve"), left out
TYPO_CUTOFF = 84.0  # how close (rapidfuzz ratio) an unknown word must be to a known one to stand for it


@dataclass(frozen=True)
class Document:
    label: str
    text: str
    lang: str


def label_of_file(stem: str) -> str | None:
    """``objective_07`` -> ``objective:7``, ``table_LT`` -> ``table:LT``, ``intent_help`` -> ``help``."""
    kind, _sep, name = stem.partition("_")
    if kind == "objective" and name.isdigit():
        return f"objective:{int(name)}"
    return {"table": f"table:{name}", "intent": name}.get(kind) if name else None


def example_documents(directory: Path = EXAMPLES_DIR) -> list[Document]:
    return [
        Document(label, line.strip(), path.parent.name)
        for path in sorted(directory.glob("*/*.txt"))
        if (label := label_of_file(path.stem))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def knowledge_documents(knowledge: Knowledge) -> list[Document]:
    """Titles, short lines, summaries and keywords of objectives; the keywords naming each table
    (not its name, whose topic words "Inclusion of migrants" belong to the objectives)."""
    tables = [Document(f"table:{code}", text, lang) for code, t in knowledge.tables.items()
              for lang, keywords in t.keyword_lists.items() for text in keywords]  # fmt: skip
    return tables + [
        Document(f"objective:{number}", text, lang)
        for number, o in knowledge.objectives.items()
        for lang in knowledge.languages
        for text in (o.titles.get(lang), o.shorts.get(lang), o.summaries.get(lang),
                     *o.keyword_lists.get(lang, ()), *o.context_lists.get(lang, ()))
        if text
    ]  # fmt: skip


def load_intents(path: Path = INTENTS_FILE) -> dict[str, tuple[str, str | None]]:
    """Intent example name -> (intent, answer)."""
    return {name: (body["intent"], body.get("answer")) for name, body in tomllib.loads(path.read_text("utf-8")).items()}


class Model:
    """A BM25 index over labelled sentences; ``scores`` ranks the labels for a message."""

    def __init__(self, documents: list[Document], lexicon: Lexicon) -> None:
        self.lexicon, self.stem = lexicon, stemmer(lexicon.stemmer_names)
        contents = [(doc.label, c) for doc in documents if (c := content_words(tokens(doc.text, lexicon), lexicon))]
        labels = [label for label, _c in contents]
        corpus = [features(c, self.stem) for _label, c in contents]
        spread: dict[str, set[str]] = defaultdict(set)
        for label, doc in zip(labels, corpus):
            for feature in (f for f in doc if "_" in f):
                spread[feature].add(label)
        frames = {f for f, found in spread.items() if len(found) > PHRASE_LABELS}
        self.vocabulary = {f: i for i, f in enumerate(dict.fromkeys(f for doc in corpus for f in doc if f not in frames))}
        ids = [sorted({self.vocabulary[f] for f in doc if f not in frames}) for doc in corpus]
        self.doc_ids = [frozenset(doc) for doc in ids]  # for the coverage of a message
        frequency = np.bincount([i for doc in ids for i in doc], minlength=len(self.vocabulary))
        self.max_idf = math.log(len(corpus) + 1)
        self.idf = np.log((len(corpus) + 1) / np.maximum(frequency, 1))
        # a typo is compared only with known words of a possible length that start like it
        # (members rarely mistype the first letter)
        self.known_words: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted({w for _label, c in contents for w in c if w.isalpha() and len(w) > 3}):
            self.known_words[word[0], len(word)].append(word)
        grouped: dict[str, list[int]] = defaultdict(list)
        for label, doc in zip(labels, ids):
            grouped[label] += doc
        self.labels, self.label_names = labels, list(grouped)
        self.index, self.label_index = bm25s.BM25(), bm25s.BM25()
        self.index.index(bm25s.tokenization.Tokenized(ids=ids, vocab=self.vocabulary), show_progress=False)
        self.label_index.index(bm25s.tokenization.Tokenized(ids=list(grouped.values()), vocab=self.vocabulary), show_progress=False)

    @lru_cache(maxsize=20_000)
    def spelling(self, word: str) -> str:
        """The word, or the known word it is a typo of."""
        if len(word) <= 3 or not word.isalpha() or any(s in self.vocabulary for s in self.stem(word)):
            return word
        slack = int(2 * len(word) * (100 - TYPO_CUTOFF) / TYPO_CUTOFF)  # longest length gap within the cutoff
        candidates = [w for n in range(len(word) - slack, len(word) + slack + 1) for w in self.known_words.get((word[0], n), ())]
        found = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        return found[0] if found else word

    def scores(self, words: list[str]) -> tuple[dict[str, float], float]:
        """Label -> vote of the nearest sentences, and the idf-weighted share (0-1) of the message's
        words found in the best sentences: low when the message is about something the data never
        mentions ("my car broke down"), whatever label wins the vote."""
        content = [self.spelling(w) for w in content_words(words, self.lexicon)]
        ids = [self.vocabulary[f] for f in dict.fromkeys(features(content, self.stem)) if f in self.vocabulary]
        if not ids:
            return {}, 0.0
        doc_scores = self.index.get_scores(ids)
        count = min(NEIGHBOURS, len(doc_scores))
        best = np.argpartition(-doc_scores, count - 1)[:count]
        best = [int(i) for i in best[np.argsort(-doc_scores[best])] if doc_scores[i] > 0]
        votes: dict[str, float] = defaultdict(float)
        for rank, i in enumerate(best):
            votes[self.labels[i]] += float(doc_scores[i]) * RANK_DECAY**rank
        label_scores = self.label_index.get_scores(ids)
        scale = max(votes.values(), default=0.0) / max(float(label_scores.max()), 1e-9)
        for name, score in zip(self.label_names, label_scores):
            if score > 0 and votes:
                votes[name] += LABEL_WEIGHT * scale * float(score)
        return dict(sorted(votes.items(), key=lambda kv: -kv[1])), self._coverage(content, best[:COVERAGE_DOCS])

    def _coverage(self, content: list[str], docs: list[int]) -> float:
        found = frozenset().union(*(self.doc_ids[d] for d in docs))
        total = explained = 0.0
        for word in dict.fromkeys(content):
            ids = [self.vocabulary[s] for s in self.stem(word) if s in self.vocabulary]
            weight = max((float(self.idf[i]) for i in ids), default=self.max_idf)
            total += weight
            explained += weight if any(i in found for i in ids) else 0.0
        return explained / total if total else 0.0
