"""The basic commands through the console adapter, in both languages."""

from __future__ import annotations

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.knowledge import load_knowledge
from handlers.markup import plain
from tests.conftest import make_settings


def text_of(replies) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(plain(r.html) for r in replies)


async def test_objective_command_in_both_languages(console: ConsoleAdapter) -> None:
    objective = load_knowledge().objectives[10]
    es = text_of(await console.ask("/objetivo 10"))
    en = text_of(await console.ask("/objective 10", user_id="bob"))
    assert objective.title("es") in es and "WT2" in es
    assert objective.title("en") in en and "WT2" in en
    [reply] = await console.ask("/objetivo 10")
    assert reply.answer is not None and reply.answer.objectives == (10,) and reply.answer.tables == ("WT2",)


async def test_table_command_accepts_number_code_and_words(console: ConsoleAdapter) -> None:
    table = load_knowledge().tables["WT2"]
    for args in ("2", "WT2", "wt 2", "mesa 2"):
        [reply] = await console.ask(f"/mesa {args}")
        assert table.name("es") in plain(reply.html), args
        assert reply.answer is not None and reply.answer.tables == ("WT2",)
    liaison = text_of(await console.ask("/table LT"))
    assert load_knowledge().tables["LT"].name("en") in liaison


@pytest.mark.parametrize(
    ("text", "expected_es"),
    [
        ("/objetivo 99", "No existe el objetivo 99"),
        ("/objetivo 0", "No existe el objetivo 0"),
        ("/mesa 7", "No conozco la mesa «7»"),
        ("/mesa xyz", "No conozco la mesa «xyz»"),
        ("/objetvo 10", "¿Quisiste decir /objetivo"),
        ("/foo", "No conozco el comando /foo"),
    ],
)
async def test_bad_arguments_get_a_clear_answer(console: ConsoleAdapter, text: str, expected_es: str) -> None:
    assert expected_es in text_of(await console.ask(text))


async def test_objective_with_a_topic_instead_of_a_number(console: ConsoleAdapter) -> None:
    [reply] = await console.ask("/objetivo trata de personas")
    assert reply.answer is not None and reply.answer.objectives[0] == 10


async def test_help_is_generated_from_the_registry_in_the_chat_language(console: ConsoleAdapter, app: App) -> None:
    es = text_of(await console.ask("/ayuda"))
    en = text_of(await console.ask("/help", user_id="bob"))
    for command in app.services.commands.commands:
        if not command.privileged:
            assert f"/{command.es}" in es and f"/{command.en}" in en


async def test_language_is_stored_and_survives_a_restart(sqlite_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = App(make_settings(sqlite_url))
    await first.start()
    console = ConsoleAdapter(first.hub, files_dir=tmp_path)
    assert "English" in text_of(await console.ask("/idioma en"))
    await first.close()

    second = App(make_settings(sqlite_url))
    await second.start()
    console = ConsoleAdapter(second.hub, files_dir=tmp_path)
    reply = text_of(await console.ask("/objetivo 10"))
    assert load_knowledge().objectives[10].title("en") in reply
    await second.close()


async def test_unknown_language_is_refused(console: ConsoleAdapter) -> None:
    reply = text_of(await console.ask("/idioma de"))
    assert "Hablo español (es), inglés (en), portugués (pt) y francés (fr)" in reply


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/idioma pt", "português"), ("/idioma português", "português"), ("/idioma portugués", "português"),
        ("/idioma portuguese", "português"), ("/idioma fr", "français"), ("/idioma français", "français"),
        ("/idioma francés", "français"), ("/langue french", "français"), ("/idioma es", "español"),
    ],
)  # fmt: skip
async def test_languages_by_code_and_name(console: ConsoleAdapter, command: str, expected: str) -> None:
    assert expected in text_of(await console.ask(command))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/objectif 10", "Objectif 10"), ("/objective 10", "Objective 10"), ("/objetivo 10", "Objetivo 10"),
        ("/objectifs", "/objectif N"), ("/mesa 2", "Mesa de Trabajo 2"), ("/reunioes", "reuni"),
    ],
)  # fmt: skip
async def test_commands_by_their_names_in_each_language(console: ConsoleAdapter, command: str, expected: str) -> None:
    assert expected in text_of(await console.ask(command))


async def test_free_text_follows_the_question_language(console: ConsoleAdapter) -> None:
    en = await console.ask("who works on human trafficking?")
    es = await console.ask("¿quién trabaja la trata de personas?", user_id="ana")
    assert en[0].answer is not None and en[0].answer.intent == "objective"
    assert "Objective 10" in text_of(en)
    assert "Objetivo 10" in text_of(es)


async def test_cancel_without_a_dialogue(console: ConsoleAdapter) -> None:
    assert "No hay nada que cancelar" in text_of(await console.ask("/cancelar"))


async def test_start_payload_runs_that_command(console: ConsoleAdapter) -> None:
    direct = text_of(await console.ask("/objetivos"))
    assert text_of(await console.ask("/start objectives")) == direct


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("¿cuáles son los 23 objetivos?", "Los 23 objetivos del PMM"),
        ("objetivo 25", "No existe el objetivo 25"),
        ("what is objective 40 about?", "There is no objective 40"),
    ],
)
async def test_objective_questions_without_a_single_answer(console: ConsoleAdapter, question: str, expected: str) -> None:
    [reply] = await console.ask(question)
    assert expected in plain(reply.html)
    assert reply.answer is not None and reply.answer.intent == "objective"


@pytest.mark.parametrize(("app_language", "expected"), [("pt-BR", "Objetivo 10"), ("es-419", "Objetivo 10"), (None, "Objetivo 10")])
async def test_a_name_shared_by_two_languages_follows_the_app_language(
    console: ConsoleAdapter, app_language: str | None, expected: str
) -> None:
    """``/objetivo`` is Spanish and Portuguese: a Brazilian app gets the Portuguese title."""
    [reply] = await console.exchange(console.message("/objetivo 10", "bia", language_code=app_language))
    lang = "pt" if app_language == "pt-BR" else "es"
    assert expected in text_of([reply]) and load_knowledge().objectives[10].title(lang) in text_of([reply])
