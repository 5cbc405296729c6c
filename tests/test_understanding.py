"""Accuracy, robustness and speed of handlers.understanding on the evaluation sets.

Each TSV under tests/data (columns lang, text, intent, objectives, tables) holds members'
phrasings in both languages (see tests/evaluation.py).  questions.tsv and heldout*.tsv are
tuning sets: the engine's data (handlers/data/nlu, knowledge.toml) was adjusted while looking
at their misses, so their floors below only guard against regressions; they say nothing
about messages never seen.  That is measured on sets named frozen*.tsv, never tuned on,
whose floor is set apart.  Labels follow the conventions of issue 10: a topic question,
"which table works on X" included, is an objective question; a question about a table
itself is a table question; how many organisations or tables there are is help.

The first rounds of each held-out set, scored before any tuning on them with the old rule
engine, are in the commit history; the figures of this engine are printed by bench/qa.py.
"""

from __future__ import annotations

import statistics
import time
import csv
from pathlib import Path

import pytest

from handlers.i18n import LANGUAGES
from handlers.knowledge import TABLE_CODES, load_knowledge, parse_table_code
from handlers.understanding import INTENTS, Understanding, detect_language, engine, understand
from tests.evaluation import (
    DATA,
    TUNING_SETS,
    Question,
    Scores,
    intent_misses,
    load_questions,
    objective_misses,
    score,
    table_misses,
)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "gcm_objectives.tsv"

# Regression floors on the tuning sets, a little under what the engine reaches on each
# (0.969-1.000 objective, 0.977-1.000 table, 0.977-1.000 intent when they were set, heldout4 and
# heldout4-ptfr the lowest): room for a data edit that moves a few answers, not for a broken engine.
FLOORS = Scores(objective=0.96, table=0.97, intent=0.96)

# History of the frozen sets (written apart from the engine and its data, never tuned on, their
# misses never shown):
# - frozen-2026-11-29 (392 es/en messages: stories without the topic's word, context before the
#   question, negation, meta, off-topic, tables by theme) was scored when the engine was built
#   (0.914 objective, 0.931 table, 0.949 intent) and once more after the Portuguese and French
#   data landed (0.936, 0.954, 0.964); frozen-ptfr-2026-11-29 (214 pt/fr messages) was scored once,
#   after that (0.950, 0.955, 0.930). Scored twice, they became the tuning sets heldout4 and
#   heldout4-ptfr.
# - frozen2-2026-11-29 (409 es/en messages in the same styles, 11-12 per objective) and
#   frozen2-ptfr-2026-11-29 (162 pt/fr messages) were written apart on 2026-11-29 by someone who
#   never opened the engine or its data, kept outside the repository while the engine was tuned,
#   and scored once, after the tuning: 0.977 objective, 0.984 table, 0.983 intent (language 0.963)
#   and 0.990, 1.000, 0.969 (language 0.975). Those are the honest estimates for messages never
#   seen; the floors, a little under them, guard against regressions and are never targets.
FROZEN_FLOORS = {
    "frozen2-2026-11-29": Scores(objective=0.96, table=0.97, intent=0.97),
    "frozen2-ptfr-2026-11-29": Scores(objective=0.97, table=0.98, intent=0.95),
}

SETS: dict[str, list[Question]] = {name: load_questions(path) for name, path in TUNING_SETS.items()}
ROWS = SETS["questions"]
HELDOUT_ROWS, HELDOUT2_ROWS, HELDOUT3_ROWS = SETS["heldout"], SETS["heldout2"], SETS["heldout3"]


@pytest.fixture(scope="module", params=sorted(SETS))
def eval_set(request: pytest.FixtureRequest) -> tuple[list[Question], list[Understanding], str]:
    rows = SETS[request.param]
    return rows, [understand(row.text) for row in rows], request.param


# --- the evaluation set itself --------------------------------------------------------


def test_eval_set_shape() -> None:
    assert len(ROWS) >= 260
    share_es = sum(r.lang == "es" for r in ROWS) / len(ROWS)
    assert 0.4 <= share_es <= 0.6
    assert {r.intent for r in ROWS} == set(INTENTS)
    assert all(r.objectives <= set(range(1, 24)) for r in ROWS)
    assert all(r.tables <= set(TABLE_CODES) for r in ROWS)
    assert {n for r in ROWS for n in r.objectives} == set(range(1, 24))


@pytest.mark.parametrize(
    ("rows", "size"), [(HELDOUT_ROWS, 360), (HELDOUT2_ROWS, 280), (HELDOUT3_ROWS, 300)]
)
def test_heldout_set_shape(rows: list[Question], size: int) -> None:
    assert len(rows) >= size
    # both languages in (nearly) equal shares
    assert abs(sum(r.lang == "es" for r in rows) - sum(r.lang == "en" for r in rows)) <= 2
    assert {r.intent for r in rows} == set(INTENTS)
    assert all(r.objectives <= set(range(1, 24)) for r in rows)
    assert all(r.tables <= set(TABLE_CODES) for r in rows)
    assert {n for r in rows for n in r.objectives} == set(range(1, 24))


# --- accuracy -------------------------------------------------------------------------


def test_objective_top1_accuracy(eval_set: tuple[list[Question], list[Understanding], str]) -> None:
    rows, answers, _name = eval_set
    assert score(rows, answers).objective >= FLOORS.objective, objective_misses(rows, answers)


def test_table_accuracy(eval_set: tuple[list[Question], list[Understanding], str]) -> None:
    rows, answers, _name = eval_set
    assert score(rows, answers).table >= FLOORS.table, table_misses(rows, answers)


def test_intent_accuracy(eval_set: tuple[list[Question], list[Understanding], str]) -> None:
    rows, answers, _name = eval_set
    assert score(rows, answers).intent >= FLOORS.intent, intent_misses(rows, answers)


def test_answers_are_well_formed(eval_set: tuple[list[Question], list[Understanding], str]) -> None:
    for answer in eval_set[1]:
        _assert_well_formed(answer)


def test_objective_answers_lead_with_their_table(
    eval_set: tuple[list[Question], list[Understanding], str],
) -> None:
    knowledge = load_knowledge()
    for answer in eval_set[1]:
        if answer.intent == "objective" and answer.objectives:
            assert answer.tables[0] == knowledge.objectives[answer.objectives[0]].table


def test_latency_p99_under_5ms() -> None:
    """p99 over questions of each question's median of 3 runs of the engine itself (not
    ``understand``'s cache of repeated texts), in CPU time of this process: on a shared box the
    wall clock measures the other processes (bench/qa.py reports the wall clock).
    """
    understand("warm-up")  # one-off index build
    rows = [row for rows in SETS.values() for row in rows]
    runs: list[list[float]] = [[] for _ in rows]
    for _ in range(3):
        for timings, row in zip(runs, rows):
            start = time.process_time()
            engine().understand(row.text)
            timings.append(time.process_time() - start)
    medians = sorted(statistics.median(t) for t in runs)
    assert medians[int(0.99 * len(medians))] < 0.005


# --- specific behaviour ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent", "objective", "table"),
    [
        ("¿de qué va el objetivo 12?", "objective", 12, "WT1"),
        ("¿qué mesa ve los temas de detención migratoria?", "objective", 13, "WT2"),
        ("what does table 3 cover", "table", None, "WT3"),
        ("objetivo sobre la trata", "objective", 10, "WT2"),
        ("hola, ¿qué objetivo trata la trata?", "objective", 10, "WT2"),
        ("polleros", "objective", 9, "WT2"),
        ("cheaper ways to send money to family", "objective", 20, "WT3"),
        ("mi pensión si me mudo de país", "objective", 22, "WT3"),
        ("¿cuándo se reúne la mesa 2?", "meetings", None, "WT2"),
        ("how do we join?", "register", None, None),
        ("registrar mi organización", "register", None, None),
        ("registro de nacimiento de niños migrantes", "objective", 4, "WT2"),
        ("quiero unirme a la lucha contra la xenofobia", "objective", 17, "WT4"),
        ("who is on the liaison table?", "table", None, "LT"),
        ("la mesa de datos", "table", None, "WT4"),
        ("¿cuáles son los 23 objetivos?", "objective", None, None),
        ("objective twenty-two", "objective", 22, "WT3"),
        ("qué puedes hacer", "help", None, None),
        ("what's 2+2", "unknown", None, None),
    ],
)
def test_examples(text: str, intent: str, objective: int | None, table: str | None) -> None:
    answer = understand(text)
    assert answer.intent == intent
    assert (answer.objectives[0] if answer.objectives else None) == objective
    assert (answer.tables[0] if answer.tables else None) == table


@pytest.mark.parametrize(
    ("text", "intent", "objective", "table"),
    [
        # regional slang, portuñol, cue phrases made of common words
        ("envios de pisto a guate", "objective", 20, "WT3"),
        ("remessas pra familia no brasil", "objective", 20, "WT3"),
        ("os haitianos sofrem muito preconceito", "objective", 17, "WT4"),
        ("¿cuántos nicas han llegado a Costa Rica?", "objective", 1, "WT4"),
        # misspelt or stretched intent words, thanks, advertisements
        ("next metting?", "meetings", None, None),
        ("a que hora es la reu de mañana", "meetings", None, None),
        ("como me registor", "register", None, None),
        ("ok gracias", "help", None, None),
        ("ayudaaa", "help", None, None),
        ("gracias a todos por la reunión de hoy!", "help", None, None),
        ("vendo celular usado barato", "unknown", None, None),
        # "ayuda" inside a topic question; joining a cause or the Mechanism
        ("la embajada no contesta, necesito ayuda con un trámite", "objective", 14, "WT3"),
        ("We are a diaspora group in Toronto. Can we participate?", "register", None, None),
        ("how can I participate in local politics as a migrant", "objective", 16, "WT3"),
        # a named table: context before it, topic after it
        ("somos una red de jornaleros, ¿qué temas trata la mesa 1?", "table", None, "WT1"),
        ("¿qué hace la mesa 3 con las remesas?", "objective", 20, "WT3"),
        # the reason for leaving before the leaving; jailed for one's status; the fee
        # for a crossing, whatever border it crosses
        ("no hay empleo en el campo y por eso la gente emigra", "objective", 2, "WT1"),
        ("la gente se va porque no hay futuro", "objective", 2, "WT1"),
        ("detenidos por estar indocumentados", "objective", 13, "WT2"),
        ("they charged us $2000 to cross the border", "objective", 9, "WT2"),
        # joining verbs in the subjunctive or present, when the Mechanism is named
        ("queremos que nuestra red se una al mecanismo", "register", None, None),
        ("¿cómo participo en las mesas?", "register", None, None),
        # "mejor" and "¿dónde queda?" come from no topic
        ("¿dónde queda el mejor hotel?", "unknown", None, None),
        # the train migrants ride vs training them; prisoners vs the press
        ("migrants falling off the train in Mexico", "objective", 8, "WT2"),
        ("we train migrant youth in trades", "objective", 18, "WT1"),
        ("el cónsul nunca visita a los migrantes presos", "objective", 14, "WT3"),
    ],
)
def test_everyday_phrasing(
    text: str, intent: str, objective: int | None, table: str | None
) -> None:
    answer = understand(text)
    assert answer.intent == intent
    assert (answer.objectives[0] if answer.objectives else None) == objective
    assert (answer.tables[0] if answer.tables else None) == table


@pytest.mark.parametrize(
    ("text", "intent", "objective"),
    [
        # chat shorthand is spelt out before the cue phrases look at the text
        ("q mesa ve lo de las remesas xfa", "objective", 20),
        ("pls which obj covers smugglers rn", "objective", 9),
        # a keyword's negation or "país" must be there: "dejar pasar" is not leaving home
        ("no hay comida en mi pueblo, por eso nos vamos", "objective", 2),
        ("los guardias fronterizos piden coimas para dejar pasar", "objective", 11),
        # who one is vs what one asks: the topic wins over the population group
        ("los wayuu no tienen cédula de ningún país", "objective", 4),
        # sent back is a return; sending money back home is a remittance
        ("they sent him back to Haiti", "objective", 21),
        ("the fees to send money back home are insane", "objective", 20),
        ("lo discriminan por ser haitiano", "objective", 17),
        ("hace meses que no sé nada de mi hermano", "objective", 8),
        ("can a returnee org from Honduras join?", "register", None),
        ("¿una red de pastoral migrante puede participar?", "register", None),
        # a greeting that opens a topic question is not small talk
        ("Hola, soy docente en Lima: ¿qué objetivo ve lo de los cupos escolares?", "objective", 15),
        ("deadline for the pledge report?", "meetings", None),
        ("mèsi anpil", "help", None),
    ],
)
def test_general_cues(text: str, intent: str, objective: int | None) -> None:
    answer = understand(text)
    assert answer.intent == intent
    if objective is not None:
        assert answer.objectives[:1] == (objective,)


@pytest.mark.parametrize(
    ("text", "intent", "objective", "table"),
    [
        # situations told as stories, without the topic's word
        ("my cousin was sent back on a flight and arrived with nothing, no job no house", "objective", 21, "WT2"),
        ("a man in our neighbourhood charges people to take them across without papers", "objective", 9, "WT2"),
        ("girls were promised a job in a restaurant and then they were locked up", "objective", 10, "WT2"),
        ("there are posters telling venezuelans to go home", "objective", 17, "WT4"),
        ("one of our members is detained abroad and the consulate never answers", "objective", 14, "WT3"),
        ("teenagers are travelling alone through the jungle", "objective", 7, "WT4"),
        ("my son stopped answering his phone on the route", "objective", 8, "WT2"),
        ("a mi primo lo mandaron de vuelta en un avión y llegó sin nada", "objective", 21, "WT2"),
        ("un señor del barrio cobra por pasar gente sin papeles", "objective", 9, "WT2"),
        ("pusieron carteles diciendo que los venezolanos se vayan a su país", "objective", 17, "WT4"),
        ("mi hijo dejó de contestar el teléfono en la ruta", "objective", 8, "WT2"),
        # negation and contrast: the excluded topic does not win
        ("the cost of sending money, not diaspora investment", "objective", 20, "WT3"),
        ("diaspora investment, not the cost of sending money", "objective", 19, "WT3"),
        ("el costo de mandar remesas, no la inversión de la diáspora", "objective", 20, "WT3"),
        ("me interesa la inversión de la diáspora más que las remesas", "objective", 19, "WT3"),
        ("no hablo de remesas sino de inversión de la diáspora", "objective", 19, "WT3"),
        ("not smuggling, I mean trafficking of women", "objective", 10, "WT2"),
        ("deportations rather than detention", "objective", 21, "WT2"),
        ("el tráfico de migrantes, no la trata", "objective", 9, "WT2"),
        # help and meta questions
        ("what kind of things can I ask you?", "help", None, None),
        ("¿qué es el Pacto Mundial?", "help", None, None),
        ("¿qué es el PMM?", "help", None, None),
        ("¿cuántas organizaciones hay?", "help", None, None),
        ("hola", "help", None, None),
        # off-topic personal requests near the domain
        ("lend me money for the rent", "unknown", None, None),
        ("I forgot my bank password", "unknown", None, None),
        ("will it rain tomorrow?", "unknown", None, None),
        # a table asked about by its theme or role
        ("what does the table that handles returns cover?", "table", None, "WT2"),
        ("who links the tables with the UN system?", "table", None, "LT"),
        ("what does the table on data and evidence do?", "table", None, "WT4"),
        ("¿qué hace la mesa técnica?", "table", None, "TT"),
        # context, then a question that names its own topic
        ("soy periodista en Quito; ¿qué objetivo trata la xenofobia?", "objective", 17, "WT4"),
        ("Somos una red de mujeres que trabaja violencia de género, pero hoy pregunto: ¿qué objetivo cubre las remesas?", "objective", 20, "WT3"),
        # short natural forms
        ("¿qué mesa trabaja la trata?", "objective", 10, "WT2"),
        ("¿quién trabaja la trata?", "objective", 10, "WT2"),
        ("objectve 14 wat is it", "objective", 14, "WT3"),
    ],
)
def test_issue_10_messages(text: str, intent: str, objective: int | None, table: str | None) -> None:
    answer = understand(text)
    assert answer.intent == intent
    assert (answer.objectives[0] if answer.objectives else None) == objective
    assert (answer.tables[0] if answer.tables else None) == table


@pytest.mark.parametrize(
    ("text", "intent", "objective"),
    [
        # "which table works on X" is a question about X: the objective, its table first
        ("¿qué mesa lleva el tema de salud?", "objective", 15),
        ("¿qué mesa lleva el tema de la trata?", "objective", 10),
        ("¿en qué mesa se trabaja la xenofobia?", "objective", 17),
        ("which table works on remittances?", "objective", 20),
        ("what table deals with consular protection?", "objective", 14),
        ("quelle table s'occupe de la traite ?", "objective", 10),
        # the excluded topic does not win
        ("no las remesas sino la trata", "objective", 10),
        ("ni remesas ni inversión, quiero saber de la trata", "objective", 10),
        ("I care more about trafficking than smuggling", "objective", 10),
        ("más que las remesas, me interesa la trata", "objective", 10),
        ("más que la detención, nos preocupa el retorno", "objective", 21),
        ("rather than smuggling, trafficking of women", "objective", 10),
        ("trafficking of women, not smuggling", "objective", 10),
        ("sin contar las remesas, ¿qué objetivo ve la inversión de la diáspora?", "objective", 19),
        ("not detention but return", "objective", 21),
        ("Je ne parle pas du trafic de migrants mais de la traite des personnes", "objective", 10),
        # personal errands near the domain are not objectives
        ("can you lend me 100 dollars?", "unknown", None),
        ("préstame plata para el alquiler", "unknown", None),
        ("olvidé la clave del banco", "unknown", None),
        ("tengo cita para mi visa el lunes, a qué hora abren?", "unknown", None),
        ("¿va a llover mañana?", "unknown", None),
        ("who won the football match yesterday?", "unknown", None),
        # ... while the same words about migrants are
        ("migrants can't open bank accounts without papers", "objective", 20),
        ("el consulado no da citas y la gente queda sin papeles", "objective", 14),
    ],
)
def test_weak_spots(text: str, intent: str, objective: int | None) -> None:
    answer = understand(text)
    assert answer.intent == intent
    assert (answer.objectives[0] if answer.objectives else None) == objective
    if answer.objectives:
        assert answer.tables[0] == load_knowledge().objectives[objective].table


@pytest.mark.parametrize(
    ("text", "intent", "table"),
    [
        ("¿qué hace la GT2?", "table", "WT2"),
        ("la segunda mesa, ¿quién la coordina?", "table", "WT2"),
        ("what does the mesa II do", "table", "WT2"),
        ("¿qué hace la mesa técnica?", "table", "TT"),
        ("enlace", "table", "LT"),
        ("me mandas el enlace de la reunión?", "meetings", None),
        ("qdo a mesa 2 se reune?", "meetings", "WT2"),
        ("what does table 2 work on", "table", "WT2"),
        # a table named by its theme is a question about it, unless the member asks which one it is
        ("¿qué hace la mesa que ve los retornos?", "table", "WT2"),
        ("who chairs the table on missing migrants?", "table", "WT2"),
        ("¿cuál es la mesa que trabaja la trata?", "objective", "WT2"),
    ],
)
def test_tables_read_as_commands_read_them(text: str, intent: str, table: str | None) -> None:
    answer = understand(text)
    assert answer.intent == intent
    assert (answer.tables[0] if answer.tables else None) == table


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("hola", "greeting"),
        ("thanks a lot!", "greeting"),
        ("what is the global compact?", "about_gcm"),
        ("¿qué es el mecanismo?", "about_mechanism"),
        ("how many organisations are there?", "count"),
        ("¿cuántas mesas hay?", "count"),
        ("what can you do?", "capabilities"),
    ],
)
def test_meta_questions_name_their_answer(text: str, answer: str) -> None:
    understood = understand(text)
    assert (understood.intent, understood.answer) == ("help", answer)


def test_several_numbered_objectives() -> None:
    knowledge = load_knowledge()
    answer = understand("objectives 1, 3 and 17")
    assert answer.objectives == (1, 3, 17)
    assert answer.tables == tuple(dict.fromkeys(knowledge.objectives[n].table for n in (1, 3, 17)))
    assert understand("mesas 1 y 2").tables == ("WT1", "WT2")
    for text in ("objetivo 10 13", "objetivo 10 y 13", "objective 10 and 13", "objetivo número 10, 13"):
        assert understand(text).objectives == (10, 13), text


def test_a_number_alone_is_an_objective() -> None:
    assert understand("y el 19?").objectives == (19,)
    assert understand("#8").objectives == (8,)
    assert understand("42").intent == "unknown"


def test_sdg_numbers_are_not_objective_numbers() -> None:
    assert understand("ODS 8").objectives[:1] != (8,)
    assert understand("SDG 10.7 and migration").objectives[:1] != (10,)


def test_out_of_range_objective_is_not_confident() -> None:
    answer = understand("objetivo 25")
    assert answer.intent == "objective"
    assert answer.objectives == ()
    assert not answer.confident


def test_vague_topic_is_not_confident_and_offers_alternatives() -> None:
    answer = understand("derechos")
    assert answer.intent == "objective"
    assert not answer.confident
    assert answer.alternatives
    assert understand("remesas").confident
    assert understand("remesas").alternatives == ()


# --- robustness -----------------------------------------------------------------------

ODD_INPUTS = [
    "",
    "   ",
    "\n\t\r",
    "a" * 10_000,
    "remesas " * 2_000,
    "🙂" * 40,
    "\x00\x01\x02\x1b[31m\x7f",
    "<b>&*</b>",
    "**bold** _it_ `code` [link](http://x)",
    "<script>alert('x')</script>",
    "hola how are you? mesa 2 remittances por favor",
    "\u200b\u200e\ufeff",
    "#",
    "##12",
    "99999999999999999999",
    "é" * 5_000,
    "\ud83d",  # lone surrogate
    "objetivo " + "1" * 500,
    "((((((((((",
    "mesa" * 3_000,
]


@pytest.mark.parametrize("text", ODD_INPUTS, ids=range(len(ODD_INPUTS)))
def test_odd_inputs_never_raise(text: str) -> None:
    start = time.perf_counter()
    answer = understand(text)
    assert time.perf_counter() - start < 0.25
    _assert_well_formed(answer)
    assert detect_language(text) in (None, *LANGUAGES)


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "\x00\x01", "<b>&*</b>", "a" * 10_000])
def test_empty_or_noise_is_unknown(text: str) -> None:
    assert understand(text).intent == "unknown"


def test_non_string_input_does_not_raise() -> None:
    for value in (None, 12, b"remesas", ["remesas"]):
        assert understand(value).intent == "unknown"  # type: ignore[arg-type]
        assert detect_language(value) is None  # type: ignore[arg-type]


def _assert_well_formed(answer: Understanding) -> None:
    assert isinstance(answer, Understanding)
    assert answer.intent in INTENTS
    assert len(answer.objectives) <= 3
    assert all(isinstance(n, int) and 1 <= n <= 23 for n in answer.objectives)
    assert set(answer.tables) <= set(TABLE_CODES)
    assert len(set(answer.tables)) == len(answer.tables)
    assert answer.language in (None, *LANGUAGES)
    assert isinstance(answer.confident, bool)


# --- language -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("¿Qué objetivo habla de las remesas?", "es"),
        ("mandar plata a la familia", "es"),
        ("Which table deals with remittances?", "en"),
        ("remittances", "en"),
        ("remesas", "es"),
        ("xenofobia", None),  # the same word in Spanish and Portuguese: the chat's language decides
        ("qual mesa trata do tráfico de pessoas?", "pt"),
        ("quelle table traite de la traite des personnes ?", "fr"),
        ("vc sabe qdo é a reunião?", "pt"),
        ("slt, c koi le pacte svp", "fr"),
        ("how do we join", "en"),
        ("cuándo se reúne la mesa", "es"),
        ("", None),
        ("12", None),
        ("🙂", None),
        ("OK", None),
    ],
)
def test_detect_language(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("name", sorted(SETS))
def test_detect_language_on_eval_set(name: str) -> None:
    guesses = [(row.lang, detect_language(row.text)) for row in SETS[name]]
    decided = [(lang, guess) for lang, guess in guesses if guess is not None]
    assert len(decided) / len(guesses) >= 0.93
    wrong = [g for g in decided if g[0] != g[1]]
    assert len(wrong) / len(decided) <= 0.02


def test_understanding_reports_language() -> None:
    assert understand("¿qué mesa ve remesas?").language == "es"
    assert understand("which table covers remittances?").language == "en"


# --- reference data -------------------------------------------------------------------


def test_parse_table_code_examples() -> None:
    for text, code in [("2", "WT2"), ("wt 2", "WT2"), ("MT2", "WT2"), ("mesa 2", "WT2"), ("GT2", "WT2"),
                       ("table 2", "WT2"), ("LT", "LT"), ("enlace", "LT"), ("liaison", "LT"),
                       ("TT", "TT"), ("técnica", "TT"), ("technical", "TT"), ("segunda mesa", "WT2"),
                       ("mesa de datos", "WT4"), ("table de liaison", "LT")]:  # fmt: skip
        assert parse_table_code(text) == code, text
    for text in ("nada", "el enlace de la reunión", "tt le monde", "which table i should join"):
        assert parse_table_code(text) is None, text


def test_official_titles_match_reference() -> None:
    if not REFERENCE.exists():
        pytest.skip(f"reference file {REFERENCE} not present (needs ../shared beside the repo)")
    knowledge = load_knowledge()
    with REFERENCE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 23
    for row in rows:
        obj = knowledge.objectives[int(row["number"])]
        assert obj.table == row["table"], row["number"]
        assert obj.title("en") == row["title_en"].strip(), row["number"]
        assert obj.title("es") == row["title_es"].strip(), row["number"]


# --- the data the engine learns from --------------------------------------------------


def test_every_example_file_is_a_known_label_with_examples_in_both_languages() -> None:
    from handlers.nlu.model import EXAMPLES_DIR, label_of_file, load_intents

    intents = load_intents()
    assert {intent for intent, _answer in intents.values()} <= set(INTENTS)
    by_language: dict[str, set[str]] = {}
    for path in EXAMPLES_DIR.glob("*/*.txt"):
        label = label_of_file(path.stem)
        assert label is not None, path
        assert label.startswith(("objective:", "table:")) or label in intents, path
        lines = [l for l in path.read_text(encoding="utf-8").splitlines() if l.strip() and not l.startswith("#")]
        assert lines, path
        by_language.setdefault(path.parent.name, set()).add(label)
    assert {"es", "en"} <= set(by_language)
    assert all(labels == by_language["es"] for labels in by_language.values())
    assert {f"objective:{n}" for n in range(1, 24)} <= by_language["es"]
    assert {f"table:{code}" for code in TABLE_CODES} <= by_language["es"]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_at_least_40_examples_per_objective(lang: str) -> None:
    from handlers.nlu.model import EXAMPLES_DIR

    for number in range(1, 24):
        lines = (EXAMPLES_DIR / lang / f"objective_{number:02d}.txt").read_text(encoding="utf-8").splitlines()
        assert len([l for l in lines if l.strip() and not l.startswith("#")]) >= 40, number


@pytest.mark.parametrize("name", sorted(FROZEN_FLOORS))
def test_frozen_set_floor(name: str) -> None:
    rows = load_questions(DATA / f"{name}.tsv")
    assert len(rows) >= 150
    floors = FROZEN_FLOORS[name]
    scores = score(rows, [understand(row.text) for row in rows])
    assert scores.objective >= floors.objective
    assert scores.table >= floors.table
    assert scores.intent >= floors.intent
