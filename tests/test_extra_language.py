"""Adding a language is data only (README, "Adding a language"): a catalog, a lexicon file, the
knowledge fields and evaluation rows.  A tiny Dutch (Suriname) is loaded from test data next to
the packaged files, and the unchanged code speaks it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from handlers.i18n import DOMAIN, LOCALES_DIR
from handlers.knowledge import COMMITMENTS_PATH, DATA_PATH, read_knowledge
from handlers.languages import REGISTRY_PATH, read_languages
from handlers.nlu.text import NLU_DATA
from handlers.understanding import Engine
from tests.evaluation import load_questions, score

EXTRA = Path(__file__).parent / "data" / "extra_language"


def with_dutch(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The packaged registry, catalogs and understanding data, plus the Dutch test files."""
    registry = tmp_path / "languages.toml"
    registry.write_text(REGISTRY_PATH.read_text(encoding="utf-8") + (EXTRA / "languages.toml").read_text(encoding="utf-8"))
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo", "*.py", "__pycache__"))
    shutil.copytree(EXTRA / "locales", locales, dirs_exist_ok=True)
    nlu = tmp_path / "nlu"
    shutil.copytree(NLU_DATA, nlu)
    shutil.copy(EXTRA / "lexicon" / "nl.toml", nlu / "lexicon")
    shutil.copytree(EXTRA / "examples", nlu / "examples", dirs_exist_ok=True)
    return registry, locales, nlu


@pytest.mark.slow  # builds and scores a whole language
def test_a_fifth_language_is_only_data(tmp_path: Path) -> None:
    registry, locales, nlu = with_dutch(tmp_path)

    languages = read_languages(registry, locales)
    assert list(languages) == ["es", "en", "pt", "fr", "nl"]
    assert languages["nl"].name == "Nederlands" and "dutch" in languages["nl"].words
    assert languages["nl"].fallback == ("en",)

    po = locales / "nl" / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as source, po.with_suffix(".mo").open("wb") as target:
        write_mo(target, read_po(source, locale="nl"))
    dutch = Translations.load(str(locales), ["nl"], DOMAIN)
    assert dutch.gettext("Objective {number}").format(number=10) == "Doelstelling 10"

    extra_fields = (*sorted(DATA_PATH.parent.glob("knowledge_*.toml")), EXTRA / "knowledge_nl.toml")
    knowledge = read_knowledge(DATA_PATH, COMMITMENTS_PATH, extra_fields)
    assert "nl" in knowledge.languages
    assert knowledge.objectives[10].title("nl").startswith("Mensenhandel")
    assert knowledge.objectives[3].title("nl") == knowledge.objectives[3].title("en")  # the fallback
    assert knowledge.tables["WT2"].name("nl").startswith("Werktafel 2")

    engine = Engine(nlu, knowledge)
    rows = load_questions(EXTRA / "nl.tsv")
    answers = [engine.understand(row.text) for row in rows]
    scores = score(rows, answers)
    assert scores.objective == 1.0 and scores.intent == 1.0
    assert [a.language for a in answers[:2]] == ["nl", "nl"]
