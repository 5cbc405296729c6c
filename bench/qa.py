"""Accuracy, latency and build time of ``handlers.understanding.understand`` on every evaluation set.

Run from the repository root::

    python bench/qa.py [path/to/set.tsv ...]

For each set of ``tests/data/*.tsv`` (sets named ``frozen*`` are marked: never tuned on),
prints objective top-1, table and intent accuracy and p50/p99 latency per message for
``understand()`` and for a real baseline measured in the same run: plain BM25 (``bm25s``,
its own tokenizer, no stemming) over ``knowledge.toml``, one document per objective (titles,
short lines, summaries and keywords in both languages) and per table (names, descriptions and
keywords); the best document's objective or table is the answer.  Then the time each
one takes to build its index from the data files.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import bm25s  # noqa: E402

from handlers.knowledge import fold, load_knowledge  # noqa: E402
from handlers.understanding import Understanding, engine, understand  # noqa: E402
from tests.evaluation import EVAL_SETS, Question, is_frozen, load_questions, score  # noqa: E402

ROUNDS = 5  # each question is timed this many times; percentiles over all timings


def make_baseline() -> Callable[[str], Understanding]:
    """Plain BM25 over the knowledge base: what the data alone gives without the engine."""
    knowledge = load_knowledge()
    labels: list[tuple[str, int | str]] = []
    corpus: list[str] = []
    for number, o in knowledge.objectives.items():
        texts = [
            t for lang in knowledge.languages
            for t in (o.titles.get(lang, ""), o.shorts.get(lang, ""), o.summaries.get(lang, ""), *o.keyword_lists.get(lang, ()))
        ]  # fmt: skip
        labels.append(("objective", number))
        corpus.append(fold(" ".join(texts)))
    for code, t in knowledge.tables.items():
        texts = [
            x for lang in knowledge.languages
            for x in (t.names.get(lang, ""), t.descriptions.get(lang, ""), *t.keyword_lists.get(lang, ()))
        ]  # fmt: skip
        labels.append(("table", code))
        corpus.append(fold(" ".join(texts)))
    index = bm25s.BM25()
    index.index(bm25s.tokenize(corpus, stopwords=None, show_progress=False), show_progress=False)

    def baseline(text: str) -> Understanding:
        query = bm25s.tokenize([fold(text)], stopwords=None, show_progress=False, return_ids=False)[0]
        scores = index.get_scores(query) if query else None
        if scores is None or scores.max() <= 0:
            return Understanding("unknown")
        kind, value = labels[int(scores.argmax())]
        if kind == "objective":
            return Understanding("objective", (int(value),), (knowledge.objectives[int(value)].table,), True)
        return Understanding("table", (), (str(value),), True)

    return baseline


def measure(
    fn: Callable[[str], Understanding], questions: list[Question]
) -> tuple[list[Understanding], float, float]:
    """Answers plus p50 and p99 latency in milliseconds (the first round pays cold typo look-ups)."""
    answers: list[Understanding] = []
    timings: list[float] = []
    for round_ in range(ROUNDS):
        for q in questions:
            start = time.perf_counter_ns()
            answer = fn(q.text)
            timings.append((time.perf_counter_ns() - start) / 1e6)
            if round_ == 0:
                answers.append(answer)
    cuts = statistics.quantiles(timings, n=100)
    return answers, cuts[49], cuts[98]


def main(argv: list[str]) -> int:
    """Every evaluation set (or the TSV files named on the command line), then all tuning sets together."""
    paths = [Path(a) for a in argv[1:]] or list(EVAL_SETS.values())
    start = time.perf_counter()
    engine()
    build = time.perf_counter() - start
    start = time.perf_counter()
    baseline = make_baseline()
    baseline_build = time.perf_counter() - start
    print(f"build: understand {build * 1000:.0f} ms, BM25 baseline {baseline_build * 1000:.0f} ms")
    sets = {path.stem: load_questions(path) for path in paths}
    sets["all tuning sets"] = [q for name, qs in sets.items() if not is_frozen(name) for q in qs]
    for name, questions in sets.items():
        print(f"{name}{' (frozen: never tuned on)' if is_frozen(name) else ''}: {len(questions)} questions")
        # the engine itself, not understand()'s cache of repeated texts: every round is computed
        for label, fn in (("understand", engine().understand), ("BM25", baseline)):
            answers, p50, p99 = measure(fn, questions)
            s = score(questions, answers)
            print(
                f"  {label:<10}  objective top-1 {s.objective:.3f}  table {s.table:.3f}  "
                f"intent {s.intent:.3f}  language {s.language:.3f}  p50 {p50:.3f} ms  p99 {p99:.3f} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
