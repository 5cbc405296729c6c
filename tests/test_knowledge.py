"""Integrity of handlers/data/knowledge.toml as loaded by handlers.knowledge."""

from __future__ import annotations

import re

import pytest

from handlers.knowledge import (
    TABLE_CODES,
    WORKING_TABLES,
    Knowledge,
    fold,
    lang_key,
    load_knowledge,
    parse_table_code,
    pick,
)

# Terms of Reference (seed 001, "Architecture"): RT 1-4.
TOR = {
    "WT1": (2, 5, 6, 12, 18),
    "WT2": (4, 8, 9, 10, 11, 13, 21),
    "WT3": (14, 15, 16, 19, 20, 22),
    "WT4": (1, 3, 7, 17, 23),
}
SOURCE = re.compile(r"\b(?:seed 00[0-4]|reference)\b")


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def test_loader_is_cached(knowledge: Knowledge) -> None:
    assert load_knowledge() is knowledge


def test_23_objectives_numbered_1_to_23(knowledge: Knowledge) -> None:
    assert sorted(knowledge.objectives) == list(range(1, 24))
    assert all(number == obj.number for number, obj in knowledge.objectives.items())


def test_tables_present(knowledge: Knowledge) -> None:
    assert tuple(knowledge.tables) == TABLE_CODES
    assert all(code == table.code for code, table in knowledge.tables.items())


def test_each_objective_in_exactly_one_working_table(knowledge: Knowledge) -> None:
    for number, obj in knowledge.objectives.items():
        holders = [c for c in WORKING_TABLES if number in knowledge.tables[c].objectives]
        assert holders == [obj.table], f"objective {number}"


def test_table_lists_match_objective_fields(knowledge: Knowledge) -> None:
    for code in WORKING_TABLES:
        expected = tuple(n for n, o in knowledge.objectives.items() if o.table == code)
        assert knowledge.tables[code].objectives == expected


def test_working_tables_follow_terms_of_reference(knowledge: Knowledge) -> None:
    assert {code: knowledge.tables[code].objectives for code in WORKING_TABLES} == TOR


def test_liaison_and_technical_tables_are_not_thematic(knowledge: Knowledge) -> None:
    for code in ("LT", "TT"):
        table = knowledge.tables[code]
        assert table.objectives == ()
        assert not table.is_working_table
    # seed 001: 8 Working Table representatives + 2 UN agencies = 10
    lt = knowledge.tables["LT"]
    for lang in ("en", "es"):
        assert re.search(r"\b10\b", lt.description(lang))
        assert re.search(r"\b2\b", lt.description(lang))


@pytest.mark.parametrize("number", range(1, 24))
def test_objective_bilingual_and_sourced(knowledge: Knowledge, number: int) -> None:
    obj = knowledge.objectives[number]
    for lang in ("en", "es"):
        for text in (obj.title(lang), obj.summary(lang), obj.short(lang)):
            assert text.strip(), f"objective {number} {lang}"
        assert len(obj.keywords(lang)) >= 10, f"objective {number} {lang} keywords"
        assert all(k.strip() for k in (*obj.keywords(lang), *obj.context(lang)))
        sentences = len(re.findall(r"[.!?](?:\s|$)", obj.summary(lang)))
        assert 2 <= sentences <= 4, f"objective {number} {lang} summary has {sentences}"
    assert obj.title("en") != obj.title("es")
    assert SOURCE.search(obj.source)


@pytest.mark.parametrize("number", range(1, 24))
def test_keywords_have_no_duplicates(knowledge: Knowledge, number: int) -> None:
    obj = knowledge.objectives[number]
    for lang in ("en", "es"):
        words = [fold(k) for k in (*obj.keywords(lang), *obj.context(lang))]
        assert len(words) == len(set(words)), f"objective {number} {lang}"


@pytest.mark.parametrize("code", TABLE_CODES)
def test_table_bilingual_and_sourced(knowledge: Knowledge, code: str) -> None:
    table = knowledge.tables[code]
    for lang in ("en", "es"):
        assert table.name(lang).strip()
        assert table.description(lang).strip()
        assert table.priorities(lang), f"{code} {lang} priorities"
        assert all(p.strip() for p in table.priorities(lang))
        assert table.keywords(lang)
    assert len(table.priorities("en")) == len(table.priorities("es"))
    for source in (table.source, table.name_source, table.priorities_source):
        assert SOURCE.search(source), code


def test_cadence(knowledge: Knowledge) -> None:
    cadence = knowledge.cadence
    assert cadence.meeting_months == (2, 5, 8, 11)
    assert cadence.pledge_monitoring_months == (4, 6, 9, 12)
    assert cadence.description("en").strip() and cadence.description("es").strip()
    assert "seed 002" in cadence.source


def test_table_of(knowledge: Knowledge) -> None:
    assert knowledge.table_of(20).code == "WT3"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", "es"), ("es_AR", "es"), ("ES-mx", "es"), ("en", "en"), ("en_GB", "en"),
        (None, "en"), ("pt", "pt"), ("pt_BR", "pt"), ("fr-HT", "fr"), ("de", "en"), ("", "en"),
    ],
)  # fmt: skip
def test_lang_key(lang: str | None, expected: str) -> None:
    assert lang_key(lang) == expected


def test_language_selection(knowledge: Knowledge) -> None:
    obj = knowledge.objectives[20]
    assert obj.title("es_MX") == obj.titles["es"]
    assert obj.title(None) == obj.titles["en"]
    assert obj.title("pt_BR") == obj.titles["pt"] != obj.titles["es"]
    assert obj.title("fr") == obj.titles["fr"]
    assert knowledge.tables["LT"].name("es") == "Mesa de Enlace"


def test_missing_texts_follow_the_fallback_chain() -> None:
    """A text missing in Portuguese falls back to Spanish, in French to English."""
    texts = {"es": "Los Estados", "en": "States"}
    assert pick(texts, "pt") == "Los Estados"
    assert pick(texts, "fr") == "States"
    assert pick(texts, "de") == "States"


def test_commitments_in_every_spoken_language(knowledge: Knowledge) -> None:
    obj = knowledge.objectives[10]
    assert obj.commitments("pt").startswith("Os Estados")
    assert obj.commitments("fr").startswith("Les États")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2", "WT2"), ("WT2", "WT2"), ("wt 2", "WT2"), ("wt-3", "WT3"), ("MT2", "WT2"),
        ("mesa 2", "WT2"), ("Mesa de Trabajo 4", "WT4"), ("table 2", "WT2"), ("Table one", "WT1"),
        ("mesa tres", "WT3"), ("RT4", "WT4"), ("segunda mesa", "WT2"), ("mesa II", "WT2"),
        ("LT", "LT"), ("lt", "LT"), ("enlace", "LT"), ("Mesa de Enlace", "LT"), ("liaison", "LT"),
        ("TT", "TT"), ("técnica", "TT"), ("Tecnica", "TT"), ("technical", "TT"),
        ("the liaison table please", "LT"),
    ],
)  # fmt: skip
def test_parse_table_code(text: str, code: str) -> None:
    assert parse_table_code(text) == code


@pytest.mark.parametrize(
    "text", ["", "   ", "5", "WT5", "mesa 7", "table", "remesas", "🙂", "0", "23"]
)
def test_parse_table_code_rejects(text: str) -> None:
    assert parse_table_code(text) is None


def test_every_objective_says_what_states_commit_to_in_both_languages() -> None:
    for number, objective in load_knowledge().objectives.items():
        assert objective.commitments("en") and objective.commitments("es"), number
        assert objective.commitments("en") != objective.commitments("es"), number
        assert "73/195" in objective.commitments_source, number
