"""Every user-facing string is translated in both catalogs, with the same placeholders."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from handlers.i18n import DOMAIN, LANGUAGES, LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def source_messages() -> set[str]:
    """The message ids written in the code right now (not the possibly stale .pot)."""
    ids: set[str] = set()
    for package in ("bot", "handlers", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS, comment_tags=()
        ):
            ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def catalog(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_in_the_code_is_translated(lang: str) -> None:
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog(lang) if m.id}
    missing = sorted(
        msg for msg in source_messages() if msg not in translated or not translated[msg].string
    )
    assert not missing, f"untranslated in {lang} (run `make extract` and translate): {missing[:10]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_fuzzy_entries_and_same_placeholders(lang: str) -> None:
    for message in catalog(lang):
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy entry in {lang}: {message.id!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == expected, (lang, message.id, string)


TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
#: English words that never appear in a sentence of the other catalogs.
ENGLISH_WORDS = re.compile(r"\b(?:the|you|your|with|which|is|are|this|that|please|send)\b")
#: Text inside {placeholders}, /commands, ids and codes, left as they are in every language.
NOT_PROSE = re.compile(r"\{\w*\}|/\w+|\[[^\]]*\]|\b[A-Z_]{2,}\w*")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_is_really_translated(lang: str) -> None:
    """A catalog that copies the English ids, or leaves English sentences in, is not a translation."""
    messages = [m for m in catalog(lang) if m.id and isinstance(m.id, str) and len(m.id) > 25]
    copied = [m.id for m in messages if m.string == m.id]
    assert len(copied) <= len(messages) // 20, copied[:10]
    leaking = [
        string
        for m in catalog(lang)
        if m.id
        for string in (m.string if isinstance(m.string, tuple) else (m.string,))
        if ENGLISH_WORDS.search(NOT_PROSE.sub(" ", string))
    ]
    assert not leaking, f"English left in the {lang} catalog: {leaking[:5]}"


def test_languages_come_from_the_catalogs() -> None:
    assert set(LANGUAGES) == {"es", "en", "pt", "fr"}
    for lang in LANGUAGES:
        assert (LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").exists()


GETTEXT_CALLS = {"_", "N_", "gettext", "ngettext"}


def literal_calls() -> list[tuple[str, int, str]]:
    """Every string literal handed to a gettext function in the code, wherever it sits: also
    inside f-strings and other expressions the extractor may not read."""
    found: list[tuple[str, int, str]] = []
    for package in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in GETTEXT_CALLS
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.append((str(path.relative_to(ROOT)), node.lineno, node.args[0].value))
    return found


def test_every_string_marked_in_the_code_is_extracted() -> None:
    """A string the extractor cannot see (``_('x')`` inside an f-string) is never translated."""
    extracted = source_messages()
    missed = [f"{path}:{line} {text!r}" for path, line, text in literal_calls() if text not in extracted]
    assert not missed, f"marked for translation but not extracted (move it out of the f-string): {missed}"
