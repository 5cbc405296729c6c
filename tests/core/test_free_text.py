"""Free-text answers through the console adapter: greetings, meta questions, off-topic
requests, several objectives at once and clarifying questions."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.knowledge import load_knowledge
from handlers.markup import plain
from handlers.registration import STAKEHOLDER_TYPES
from storage import organisations
from storage.organisations import APPROVED
from tests.conftest import FakeClock


def text_of(replies) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(plain(r.html) for r in replies)


async def test_a_greeting_gets_a_greeting_and_one_hint_not_the_command_list(console: ConsoleAdapter) -> None:
    [reply] = await console.ask("hola")
    help_list = text_of(await console.ask("/ayuda"))
    assert reply.answer is not None and reply.answer.intent == "help"
    assert "¡Hola!" in plain(reply.html) and "/ayuda" in plain(reply.html)
    assert len(plain(reply.html).splitlines()) == 1 < len(help_list.splitlines())


async def test_what_the_gcm_and_the_mechanism_are(console: ConsoleAdapter) -> None:
    gcm = text_of(await console.ask("¿qué es el Pacto Mundial?"))
    mechanism = text_of(await console.ask("what is the mechanism?", user_id="bob"))
    assert "73/195" in gcm and "23 objetivos" in gcm
    assert "Liaison Table" in mechanism and "UN system" in mechanism


async def test_how_many_organisations_counts_the_approved_ones(
    app: App, console: ConsoleAdapter, clock: FakeClock
) -> None:
    before = text_of(await console.ask("¿cuántas organizaciones hay?"))
    assert "más de 80 organizaciones en 6 mesas" in before and "registrad" not in before
    async with app.db.transaction() as session:
        for n in range(3):
            organisation = await organisations.create_organisation(
                session, name=f"Red {n}", country="CO", stakeholder_type=next(iter(STAKEHOLDER_TYPES)),
                contact_name="Ana", contact_email="ana@example.org", contact_user=f"console:m{n}",
                language="es", tables=["WT1", "WT2"], at=clock.now(),
            )  # fmt: skip
            for membership in organisation.memberships:
                await organisations.decide(session, membership.id, APPROVED, "console:admin", clock.now())
    after = text_of(await console.ask("¿cuántas organizaciones hay?"))
    assert "3 organizaciones están registradas conmigo y aprobadas en una mesa." in after


async def test_off_topic_requests_get_a_short_kind_redirect(console: ConsoleAdapter) -> None:
    [reply] = await console.ask("can you lend me money for the rent?", user_id="bob")
    assert reply.answer is not None and reply.answer.intent == "unknown"
    assert plain(reply.html).startswith("Sorry, that is outside what I know.")
    assert [b.command for row in reply.buttons for b in row] == ["/help"]


async def test_several_objectives_in_one_command_or_question(console: ConsoleAdapter) -> None:
    knowledge = load_knowledge()
    for text in ("/objetivo 10 13", "/objetivo 10 y 13", "/objective 10 and 13", "objetivos 10 y 13"):
        replies = await console.ask(text)
        assert [r.answer.objectives for r in replies if r.answer] == [(10,), (13,)], text
        assert knowledge.objectives[13].title("es") in text_of(replies) or knowledge.objectives[13].title("en") in text_of(replies)
    assert "No existe el objetivo 25" in text_of(await console.ask("/objetivo 10 y 25"))


async def test_an_objective_card_says_what_states_commit_to(console: ConsoleAdapter) -> None:
    objective = load_knowledge().objectives[10]
    text = text_of(await console.ask("/objective 10", user_id="bob"))
    assert "What States commit to" in text and objective.commitments("en") in text
    assert "summary of that resolution" in text_of(await console.ask("/about", user_id="bob"))


async def test_an_unsure_answer_asks_with_buttons(console: ConsoleAdapter) -> None:
    [reply] = await console.ask("derechos")
    assert plain(reply.html).startswith("No estoy seguro.")
    commands = [b.command for row in reply.buttons for b in row]
    assert 2 <= len(commands) <= 3 and all(c.startswith(("/objetivo", "/mesa", "/ayuda")) for c in commands)


async def test_asking_for_another_language_offers_the_choice(console: ConsoleAdapter) -> None:
    [reply] = await console.ask("¿puedes hablar en inglés?")
    assert [b.command for row in reply.buttons for b in row] == ["/idioma es", "/idioma en", "/idioma pt", "/idioma fr"]
