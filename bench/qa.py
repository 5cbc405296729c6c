"""Accuracy and latency of ``handlers.understanding.understand`` on the evaluation sets.

Run from the repository root::

    python bench/qa.py [path/to/set.tsv ...]

Prints objective top-1, table and intent accuracy and p50/p99 latency per question, for
``understand()`` and for a bare baseline measured in the same run (exact substring match
of the official objective titles plus "objective N" / "table N" regexes), and the latency
ratio between the two.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from handlers.knowledge import fold, load_knowledge  # noqa: E402
from handlers.understanding import Understanding, understand  # noqa: E402
from tests.evaluation import EVAL_SETS, Question, load_questions, score  # noqa: E402

ROUNDS = 5  # each question is timed this many times; percentiles over all timings


def make_baseline() -> Callable[[str], Understanding]:
    """The naive matcher a first version of the bot would have: titles and numbers only."""
    knowledge = load_knowledge()
    titles = [
        (fold(title), number)
        for number, obj in knowledge.objectives.items()
        for title in (obj.title("en"), obj.title("es"))
    ]
    table_of = {number: obj.table for number, obj in knowledge.objectives.items()}
    objective_re = re.compile(r"\b(?:objetivo|objective)\s*#?\s*(\d{1,2})\b")
    table_re = re.compile(r"\b(?:mesa|table|wt)\s*([1-4])\b")

    def baseline(text: str) -> Understanding:
        folded = fold(text)
        match = objective_re.search(folded)
        if match and 1 <= int(match.group(1)) <= 23:
            number = int(match.group(1))
            return Understanding("objective", (number,), (table_of[number],), True)
        for title, number in titles:
            if title in folded:
                return Understanding("objective", (number,), (table_of[number],), True)
        match = table_re.search(folded)
        if match:
            return Understanding("table", (), ("WT" + match.group(1),), True)
        return Understanding("unknown")

    return baseline


def measure(
    fn: Callable[[str], Understanding], questions: list[Question]
) -> tuple[list[Understanding], float, float]:
    """Answers plus p50 and p99 latency in milliseconds.

    Only the one-off index build is warmed up (with a text outside the set), so the first
    round also pays for the per-word typo look-ups that later rounds find cached.
    """
    fn("warm-up")
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
    """Every evaluation set (or the TSV files named on the command line), then all of them together."""
    paths = [Path(a) for a in argv[1:]] or list(EVAL_SETS.values())
    sets = {path.stem: load_questions(path) for path in paths}
    sets["all"] = [q for questions in sets.values() for q in questions]
    baseline = make_baseline()
    for name, questions in sets.items():
        print(f"{name}: {len(questions)} questions")
        latency: dict[str, tuple[float, float]] = {}
        for label, fn in (("understand", understand), ("baseline", baseline)):
            answers, p50, p99 = measure(fn, questions)
            s = score(questions, answers)
            latency[label] = (p50, p99)
            print(
                f"  {label:<10}  objective top-1 {s.objective:.3f}  table {s.table:.3f}  "
                f"intent {s.intent:.3f}  p50 {p50:.3f} ms  p99 {p99:.3f} ms"
            )
        (u50, u99), (b50, b99) = latency["understand"], latency["baseline"]
        print(f"  latency ratio understand/baseline: p50 x{u50 / b50:.1f}  p99 x{u99 / b99:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
