"""The evaluation sets of free-text understanding, and how they are scored.

Shared by the accuracy tests and ``bench/qa.py``. Each set is a TSV under ``tests/data/``
with the columns ``lang text intent objectives tables`` (objectives and tables:
comma-separated acceptable best answers); every ``*.tsv`` there is a set, found by name.
``questions.tsv`` and the ``heldout*`` sets are tuning sets (the engine and its data were
adjusted while looking at their misses). A set whose name starts with ``frozen`` was written
apart from the project and is never tuned on: it is only scored, and reported as frozen.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from handlers.understanding import Understanding

DATA = Path(__file__).resolve().parent / "data"
EVAL_SETS: dict[str, Path] = {path.stem: path for path in sorted(DATA.glob("*.tsv"))}
TUNING_SETS: dict[str, Path] = {name: path for name, path in EVAL_SETS.items() if not name.startswith("frozen")}


def is_frozen(name: str) -> bool:
    """A set never tuned on (its name starts with ``frozen``)."""
    return name.startswith("frozen")


@dataclass(frozen=True)
class Question:
    lang: str
    text: str
    intent: str
    objectives: frozenset[int]
    tables: frozenset[str]


@dataclass(frozen=True)
class Scores:
    objective: float
    table: float
    intent: float
    language: float = 1.0


def load_questions(path: Path) -> list[Question]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            Question(
                lang=row["lang"],
                text=row["text"],
                intent=row["intent"],
                objectives=frozenset(int(n) for n in row["objectives"].split(",") if n),
                tables=frozenset(t for t in row["tables"].split(",") if t),
            )
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


def objective_misses(questions: Sequence[Question], answers: Sequence[Understanding]) -> list[tuple[str, tuple[int, ...]]]:
    return [
        (q.text, a.objectives)
        for q, a in zip(questions, answers)
        if q.objectives and not (a.objectives and a.objectives[0] in q.objectives)
    ]


def table_misses(questions: Sequence[Question], answers: Sequence[Understanding]) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (q.text, a.tables)
        for q, a in zip(questions, answers)
        if q.tables and not (a.tables and a.tables[0] in q.tables)
    ]


def intent_misses(questions: Sequence[Question], answers: Sequence[Understanding]) -> list[tuple[str, str, str]]:
    return [(q.text, q.intent, a.intent) for q, a in zip(questions, answers) if q.intent != a.intent]


def score(questions: Sequence[Question], answers: Sequence[Understanding]) -> Scores:
    """Top-1 objective accuracy over the rows that expect an objective; likewise for tables."""
    with_objective = sum(bool(q.objectives) for q in questions)
    with_table = sum(bool(q.tables) for q in questions)
    return Scores(
        objective=1 - len(objective_misses(questions, answers)) / max(1, with_objective),
        table=1 - len(table_misses(questions, answers)) / max(1, with_table),
        intent=1 - len(intent_misses(questions, answers)) / max(1, len(questions)),
        language=sum(a.language == q.lang for q, a in zip(questions, answers)) / max(1, len(questions)),
    )
