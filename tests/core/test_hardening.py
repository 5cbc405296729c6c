"""The defects of the hardening issue, one test (or a few) each: every one failed before its fix.

Messages are built as adapters build them (display names, usernames, group titles, the
``chat_admin`` flag), so the core is tested with what platforms really send."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.i18n import _, use_locale
from handlers.markup import plain
from handlers.message import Address, Message, Reply, User
from storage import organisations
from storage.meetings import Meeting
from storage.models import Base, Chat, SeenUser
from tests.conftest import FakeClock, make_settings
from tests.registration.conftest import ANSWERS_ES, commands, run_wizard, text_of

PLATFORM = "console"


def apology() -> set[str]:
    found = set()
    for language in ("es", "en"):
        with use_locale(language):
            found.add(_("Sorry, something went wrong on my side. Please try again later."))
    return found


APOLOGY = apology()


def message(
    text_: str,
    user: str,
    *,
    chat: str | None = None,
    name: str | None = None,
    username: str | None = None,
    title: str | None = None,
    chat_admin: bool | None = None,
) -> Message:
    return Message(
        Address(PLATFORM, chat_id=chat or user),
        User(PLATFORM, user, name=user if name is None else name, username=username),
        text_,
        private=chat is None,
        message_id="1",
        chat_title=title,
        chat_admin=chat_admin,
    )


async def say(app: App, *args: object, **kwargs: object) -> str:
    replies = await app.core.handle(message(*args, **kwargs))  # type: ignore[arg-type]
    shown = text_of(replies)
    assert replies and not any(a in shown for a in APOLOGY), shown
    return shown


@pytest.fixture
async def any_app(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    """The app on SQLite and on PostgreSQL, with the console adapter."""
    application = App(make_settings(database_url), clock=clock)
    await application.start()
    application.add(ConsoleAdapter(application.hub, files_dir=tmp_path / "files"))
    yield application
    await application.close()


# 1. display fields and keys bounded -----------------------------------------------


async def test_1_a_long_room_name_or_display_name_does_not_stop_the_bot(any_app: App) -> None:
    """Matrix room names have no limit and Synapse allows 256-character display names."""
    long_title, long_name = "Sala " * 100, "N" * 256
    assert "Objetivo 10" in await say(any_app, "/objetivo 10", "@u:x.org", chat="!room", title=long_title, name=long_name)
    assert "Objetivo 10" in await say(any_app, "/objetivo 10", "@u:x.org", chat="!room", title=long_title, name=long_name)
    async with any_app.db.transaction() as session:
        chat = await session.scalar(select(Chat).where(Chat.chat_id == "!room"))
        user = await session.scalar(select(SeenUser).where(SeenUser.user_id == "@u:x.org"))
    assert chat is not None and chat.title is not None and len(chat.title) <= 255
    assert user is not None and user.name == "N" * 255


async def test_1_a_name_whose_key_grows_and_an_email_whose_domain_grows_fit_their_columns(
    any_app: App,
) -> None:
    console = any_app.adapters[PLATFORM]
    assert isinstance(console, ConsoleAdapter)
    answers = ("ß" * 150, *ANSWERS_ES[1:5], "a@" + "İ" * 200 + ".org")
    replies = await run_wizard(console, "ana", answers)
    assert "no parece una dirección de correo" in text_of(replies)
    await say(any_app, "ana@example.org", "ana")
    await say(any_app, "sí", "ana")
    assert "#" in await say(any_app, "confirmar", "ana")
    async with any_app.db.transaction() as session:
        [registered] = await organisations.same_name(session, "ß" * 150)
    assert registered.name == "ß" * 150 and len(registered.name_key) <= 200


# 2. a @username names a person only while current ---------------------------------


async def test_2_a_username_the_platform_no_longer_sends_names_nobody(app: App, console: ConsoleAdapter) -> None:
    await say(app, "hola", "1001", username="ana")
    await say(app, "hola", "1001", username=None)  # Ana removed her username
    refused = await say(app, "/secretaria agregar WT2 @ana", "admin")
    assert "no he visto" in refused.lower() or "not seen" in refused.lower()
    assert "es ahora" not in refused


async def test_2_a_username_taken_by_someone_else_moves_to_them(app: App, console: ConsoleAdapter) -> None:
    await say(app, "hola", "1001", username="ana")
    await say(app, "hola", "2002", username="Ana")  # the username changed hands
    answer = await say(app, "/secretaria agregar WT2 @ana", "admin")
    assert "console:2002" in (await say(app, "/secretaria lista WT2", "admin"))
    assert "console:1001" not in answer


async def test_2_a_username_last_confirmed_long_ago_is_refused_with_the_id(
    app: App, console: ConsoleAdapter, clock: FakeClock
) -> None:
    await say(app, "hola", "1001", username="ana")
    clock.advance(timedelta(days=45))
    refused = await say(app, "/secretaria agregar WT2 @ana", "admin")
    assert "console:1001" in refused and "45" in refused
    assert "ninguna" in (await say(app, "/secretaria lista WT2", "admin")).lower()


# 3. /olvidar erases every row naming the person ---------------------------------


async def test_3_forget_leaves_no_personal_data_in_any_table(
    app: App, console: ConsoleAdapter, clock: FakeClock
) -> None:
    person, name, username, email = "zq-7731", "Zacarías Quintero", "zquintero", "zq.7731@example.org"
    await say(app, "/secretaria agregar WT2 console:sec", "admin")
    answers = ("Red Andina de Acogida", "Perú", "2", "2", name, email, "sí", "confirmar")
    await say(app, "/registro", person, name=name, username=username)
    for answer in answers:
        await say(app, answer, person, name=name, username=username)
    await say(app, "/aprobar 1", "sec")
    await say(app, "/suscribir WT2", person, name=name, username=username)
    draft = await say(app, "/difundir WT2 Reunión el lunes", "sec")
    number = re.search(r"#(\d+)", draft)
    assert number is not None
    await say(app, f"/difundir confirmar {number.group(1)}", "sec")
    await app.sender.run_due()
    await say(app, "/idioma en", person, name=name, username=username)
    assert await _rows_naming(app, (person, name, username, email, "Quintero"))  # it was all there

    await say(app, "/olvidar sí", person, name=name, username=username)

    assert await _rows_naming(app, (person, name, username, email, "Quintero")) == []
    assert "(erased)" in await say(app, "/auditoria", "admin")
    assert "Red Andina de Acogida" in await say(app, "/miembros WT2", "sec")


async def _rows_naming(app: App, needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Every (table, column, value) of the whole database holding one of ``needles``."""
    found = []
    async with app.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    shown = str(value).lower()
                    if any(n.lower() in shown for n in needles):
                        found.append((table.name, column, str(value)[:80]))
    return found


# 4. dates in a sane window; calendars robust to any stored meeting ----------------


@pytest.mark.parametrize(
    "line",
    [
        "/reunion nueva WT2 9999-12-31 15:00",
        "/reunion nueva WT2 0000-01-01 15:00",
        "/reunion nueva WT2 2040-01-01 15:00 --trimestral",
        "/reunion nueva WT2 9999-12-31 23:00 Asia/Tokyo --trimestral",
    ],
)
async def test_4_meetings_are_planned_within_five_years(app: App, console: ConsoleAdapter, line: str) -> None:
    answer = await say(app, line, "admin")
    assert "guardada" not in answer
    assert "demasiado lejos" in answer or "no existe el año 0" in answer
    async with app.db.transaction() as session:
        assert (await session.scalars(select(Meeting))).first() is None


async def test_4_a_meeting_is_moved_within_five_years_only(app: App, console: ConsoleAdapter) -> None:
    assert "guardada" in await say(app, "/reunion nueva WT2 2027-02-15 15:00", "admin")
    assert "demasiado lejos" in await say(app, "/reunion mover 1 9999-12-31 15:00", "admin")
    assert "movida" in await say(app, "/reunion mover 1 2031-12-31 15:00", "admin")


async def test_4_a_meeting_stored_in_year_9999_breaks_no_list(any_app: App) -> None:
    async with any_app.db.transaction() as session:
        session.add(
            Meeting(
                table_code="WT2", title="Far", url=None, starts_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
                timezone="Asia/Tokyo", offsets=[], quarterly=False, occurrence=0, revision=0,
                created_by="console:admin",
            )
        )
    replies = await any_app.core.handle(message("/calendario", "ana"))
    assert replies[0].attachment is not None and b"BEGIN:VEVENT" in replies[0].attachment.content
    assert "Far" in await say(any_app, "/reuniones", "ana")
    assert "9999" in await say(any_app, "/reunion lista", "admin")


# 5. group settings -----------------------------------------------------------------


@pytest.mark.parametrize("line", ["/zona Asia/Tokyo", "/idioma en"])
async def test_5_a_group_member_cannot_change_the_group_settings(app: App, console: ConsoleAdapter, line: str) -> None:
    refused = await say(app, line, "stranger", chat="group-1", title="Grupo")
    assert "solo la secretaría de una mesa o una persona administradora del bot" in refused
    assert "chat_admin" not in refused
    info = await app.services.chats.chat_info(Address(PLATFORM, chat_id="group-1"))
    assert info.timezone is None and info.language is None


async def test_5_group_settings_change_by_its_admins_secretaries_and_admins(app: App, console: ConsoleAdapter) -> None:
    refused = await say(app, "/zona Asia/Tokyo", "member", chat="group-1", chat_admin=False)
    assert "solo sus administradores" in refused
    assert "Asia/Tokyo" in await say(app, "/zona Asia/Tokyo", "owner", chat="group-1", chat_admin=True)
    await say(app, "/secretaria agregar WT2 console:sec", "admin")
    assert "America/Santiago" in await say(app, "/zona America/Santiago", "sec", chat="group-1")
    assert "English" in await say(app, "/idioma en", "admin", chat="group-1")
    assert "Asia/Tokyo" in await say(app, "/zona Asia/Tokyo", "anyone")  # a private chat is its person's


# 6. numbers --------------------------------------------------------------------------

DIGIT_LIKE = ["²", "①", "፩", "9" * 5000]


@pytest.mark.parametrize("number", DIGIT_LIKE)
@pytest.mark.parametrize(
    "line",
    [
        "/objetivo {n}", "/aprobar {n}", "/auditoria {n}", "/reunion cancelar {n}", "/difundir confirmar {n}",
        "/compromisos dia {n}", "/miembros {n}",
    ],
)
async def test_6_digit_like_characters_and_huge_numbers_get_a_clear_answer(
    app: App, console: ConsoleAdapter, line: str, number: str
) -> None:
    await say(app, "/secretaria agregar WT2 console:sec", "admin")
    await say(app, line.format(n=number), "admin")


@pytest.mark.parametrize("number", DIGIT_LIKE)
async def test_6_digit_like_characters_at_the_wizards_type_step(app: App, console: ConsoleAdapter, number: str) -> None:
    for answer in ("/registro", "Red Uno", "México"):
        await say(app, answer, "ana")
    assert "escribe su número" in await say(app, number, "ana")


# 7. lone surrogates -----------------------------------------------------------------


async def test_7_lone_surrogates_are_never_stored_nor_echoed(any_app: App) -> None:
    for line in ("/mesa \ud800", "\udfff hola", "/auditoria \ud800"):
        for replies in (
            await any_app.core.handle(message(line, "admin", name="Ana \ud83d")),
            await any_app.core.handle(message(line, "ana", chat="!g", title="Sala \udc00")),
        ):
            assert replies and not any(re.search("[\ud800-\udfff]", r.html) for r in replies)
            assert not any(a in r.html for r in replies for a in APOLOGY)
    console = any_app.adapters[PLATFORM]
    assert isinstance(console, ConsoleAdapter)
    replies = await run_wizard(console, "ana", ("Red \ud800Uno", *ANSWERS_ES[1:]))
    assert "Red Uno" in text_of(replies)


# 8. long lists paged ---------------------------------------------------------------


async def test_8_240_pending_requests_are_paged_with_a_more_button(app: App, console: ConsoleAdapter, clock: FakeClock) -> None:
    async with app.db.transaction() as session:
        for n in range(240):
            await organisations.create_organisation(
                session, name=f"Organización {n:03}", country="MX", stakeholder_type="ngo", contact_name="C",
                contact_email="c@example.org", contact_user=f"console:c{n}", language="es", tables=["WT2"],
                at=clock.now(),
            )
    [reply] = await console.ask("/pendientes", user_id="admin")
    assert "Página 1 de 10" in plain(reply.html) and len(reply.html) < 4096
    seen = set(re.findall(r"Organización (\d{3})", plain(reply.html)))
    while more := [c for c in commands(reply) if c.startswith("/pendientes")]:
        [reply] = await console.ask(more[0], user_id="admin")
        assert len(reply.html) < 4096
        seen |= set(re.findall(r"Organización (\d{3})", plain(reply.html)))
    assert len(seen) == 240


# 9. look-alike names ----------------------------------------------------------------


@pytest.mark.parametrize("lookalike", ["Rеd Uno", "Red Un0", "RED UNO", "𝐑𝐞𝐝 𝐔𝐧𝐨", "Ｒｅｄ Ｕｎｏ"])
async def test_9_a_lookalike_of_a_registered_name_is_refused(app: App, console: ConsoleAdapter, lookalike: str) -> None:
    await run_wizard(console, "ana", ("Red Uno", *ANSWERS_ES[1:]))
    await say(app, "/registro", "bea")
    await say(app, lookalike, "bea")
    assert "ya está registrada" in await say(app, "México", "bea")


# 10. Matrix ids ---------------------------------------------------------------------


async def test_10_a_matrix_id_is_normalised_and_an_unseen_one_warned_about(app: App, console: ConsoleAdapter) -> None:
    await app.core.handle(
        Message(Address("matrix", chat_id="!dm"), User("matrix", "@alice:example.org", "Alice", "@alice:example.org"),
                "hola", private=True)
    )
    answer = await say(app, "/secretaria agregar WT2 @Alice:Example.org", "admin")
    assert "matrix:@alice:example.org" in await say(app, "/secretaria lista WT2", "admin")
    assert "nunca he visto" not in answer
    warned = await say(app, "/secretaria agregar WT3 matrix:@Bob:Example.ORG", "admin")
    assert "nunca he visto a matrix:@Bob:example.org" in warned


# 11. display names in request cards --------------------------------------------------


async def test_11_a_display_name_cannot_pass_for_someone_else_in_a_request_card(app: App, console: ConsoleAdapter) -> None:
    await say(app, "/secretaria agregar WT2 console:sec", "admin")
    await say(app, "/registro", "777", name="Boss Admin (@boss) <b>x</b>")
    replies: list[Reply] = []
    for answer in (*ANSWERS_ES[:3], "2", *ANSWERS_ES[4:]):
        replies = await console.exchange(message(answer, "777", name="Boss Admin (@boss) <b>x</b>"))
    [card] = [r for r in replies if r.to is not None and r.to.user_id == "sec"]
    assert "<code>console:777</code>" in card.html
    assert "“Boss Admin (@boss) &lt;b&gt;x&lt;/b&gt;”" in card.html


# 12. e-mail addresses ------------------------------------------------------------------


@pytest.mark.parametrize("address", ["a@-.org", "a@b", "ana@exa mple.org", "ana@localhost"])
async def test_12_an_invalid_email_is_refused(app: App, console: ConsoleAdapter, address: str) -> None:
    replies = await run_wizard(console, "ana", (*ANSWERS_ES[:5], address))
    assert "no parece una dirección de correo" in text_of(replies) or "necesita una @" in text_of(replies)


async def test_12_an_email_is_stored_normalised(app: App, console: ConsoleAdapter) -> None:
    await run_wizard(console, "ana", (*ANSWERS_ES[:5], "Ana.Perez@EXAMPLE.Org", *ANSWERS_ES[6:]))
    async with app.db.transaction() as session:
        email = await session.scalar(text("SELECT contact_email FROM organisations"))
    assert email == "Ana.Perez@example.org"


@pytest.mark.parametrize("written", ["matrix:@" + "a" * 300 + ":x.org", "@" + "a" * 300 + ":x.org", "console:" + "x" * 300])
async def test_10_an_id_longer_than_any_platform_allows_is_refused(any_app: App, written: str) -> None:
    answer = await say(any_app, f"/secretaria agregar WT2 {written}", "admin")
    assert "no es una persona a la que pueda escribir" in answer


def test_10_matrix_admins_are_compared_as_the_spec_says(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, bot_admins=frozenset({"matrix:@Admin:Example.ORG", "telegram:12345"}))
    assert settings.core_config().admins == {"matrix:@Admin:example.org", "telegram:12345"}
