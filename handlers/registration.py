"""The registration wizard: an organisation asks to join Working Tables, in a private chat.

name -> country -> type -> tables -> contact -> e-mail -> consent -> summary -> one request per
table, sent to that table's secretaries. The dialogue state lives in the database (a restart
continues at the same step); every step takes typed answers, buttons only type them for you.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from rapidfuzz import fuzz, process

from handlers.approval import notify_requests, unattended_note
from handlers.basics import command_text, objective_line, table_label
from handlers.context import Context, State
from handlers.countries import (
    CountryMatch,
    countries_sorted,
    country_name,
    find_country,
)
from handlers.errors import UserError
from handlers.i18n import LANGUAGES, N_, _, use_locale
from handlers.knowledge import WORKING_TABLES, fold, load_knowledge
from handlers.markup import bold, esc
from handlers.numbers import parse_number
from handlers.members import (
    STAKEHOLDER_TYPES,
    is_yes,
    parse_working_tables,
    stakeholder_label,
    words,
)
from handlers.message import Button, Reply
from handlers.arguments import Word
from handlers.registry import Registry
from handlers.roles import describe_user
from handlers.vocabulary import answer_words, shown_word
from storage import audit, organisations, roles
from storage.organisations import APPROVED, PENDING, DuplicateOrganisation, Organisation

registry = Registry()

FLOW = "register"
STEPS: tuple[str, ...] = ("name", "country", "type", "tables", "contact", "email", "consent", "summary")
MAX_NAME, MAX_CONTACT, MAX_EMAIL = 200, 120, 254
MISSES_BEFORE_HELP = 2

_BUTTON_BYTES = 64
"""What a button may send (Telegram's limit for callback data)."""
_TOGGLE = re.compile(r"^\+\s*(\S+)$")


@dataclass(frozen=True)
class Next:
    """What an answer leads to: the next question (with a note), the same one again, or the end."""

    stay: bool = False
    note: str = ""
    replies: tuple[Reply, ...] | None = None


Answer = Callable[[Context, dict[str, Any], str], Awaitable[Next]]


# starting, resuming, going back ----------------------------------------------


@registry.command(
    "register", "registro",
    help=N_("Register your organisation in the Working Tables"), intent="register", answers=("register",),
)  # fmt: skip
async def register(ctx: Context) -> Reply:
    if not ctx.message.private:
        return ctx.reply(
            esc(
                _(
                    "Let's do it in a private chat, so that your contact data stay private: "
                    "open a chat with me and send {command}."
                ).format(command=command_text(ctx, "register"))
            ),
            private_start="register",
        )
    async with ctx.db.transaction() as session:
        own = await organisations.organisation_of(session, ctx.user)
    if own is not None:
        return ctx.reply(esc(_already_registered(ctx, own)))
    state = await ctx.state()
    if state is not None and state.flow == FLOW:
        return prompt(
            ctx,
            state.step,
            state.data,
            note=esc(
                _("We had got this far; send {cancel} to start over.").format(
                    cancel=command_text(ctx, "cancel")
                )
            ),
        )
    data: dict[str, Any] = {"lang": ctx.lang}
    await ctx.save_state(State(FLOW, "name", data))
    intro = _(
        "Let's register your organisation in the Working Tables of the mechanism: seven short "
        "questions, then the tables' secretaries decide. Send {back} to change the previous answer, "
        "{cancel} to stop."
    ).format(back=command_text(ctx, "back"), cancel=command_text(ctx, "cancel"))
    return prompt(ctx, "name", data, note=esc(intro))


def _already_registered(ctx: Context, own: Organisation) -> str:
    """Where to see the record and, while there is one left, how to join a table not yet asked for."""
    text = _("You already registered {organisation}. See {command}.").format(
        organisation=own.name, command=command_text(ctx, "organisation")
    )
    asked = set(own.tables(APPROVED, PENDING))
    other = next((code for code in WORKING_TABLES if code not in asked), None)
    if other is None:
        return text
    return text + " " + _("To join another table send {join}.").format(join=command_text(ctx, "join", other))


@registry.command(
    "back", "atras", Word(name="question", label="", group="registration", keys=STEPS[:-1], optional=True),
    help=N_("Go back to the previous question"),
)  # fmt: skip
async def back(ctx: Context, question: str | None) -> Reply:
    state = await ctx.state()
    if state is None or state.flow != FLOW:
        return ctx.reply(esc(_("There is nothing to go back to.")))
    data, current = state.data, STEPS.index(state.step)
    if question is not None:
        answered = STEPS[:-1] if state.step == "summary" else STEPS[:current]
        target = question
        if target not in answered:
            words = ", ".join(shown_word("registration", s) for s in answered)
            raise UserError(esc(_("Go back to which question? {steps}").format(steps=words or "—")))
        data["editing"] = state.step == "summary" or bool(data.get("editing"))
    elif current == 0:
        raise UserError(
            esc(
                _("This is the first question. Send {cancel} to stop.").format(
                    cancel=command_text(ctx, "cancel")
                )
            )
        )
    else:
        target = STEPS[current - 1]
    await ctx.save_state(State(FLOW, target, data))
    return prompt(ctx, target, data)


@registry.flow(FLOW)
async def wizard(ctx: Context, state: State) -> Reply | list[Reply]:
    data = state.data
    try:
        result = await _ANSWERS[state.step](ctx, data, ctx.message.text)
    except UserError as error:
        data["misses"] = data.get("misses", 0) + 1
        await ctx.save_state(state)
        return ctx.reply(_with_way_out(ctx, error.markup, data["misses"]), buttons=_buttons(ctx, state.step, data))
    data.pop("misses", None)
    if result.replies is not None:
        return list(result.replies)
    if result.stay:
        await ctx.save_state(state)
        return ctx.reply(result.note, buttons=_buttons(ctx, state.step, data))
    step = "summary" if data.pop("editing", False) else STEPS[STEPS.index(state.step) + 1]
    await ctx.save_state(State(FLOW, step, data))
    return prompt(ctx, step, data, note=result.note)


def _with_way_out(ctx: Context, markup: str, misses: int) -> str:
    """After the second answer in a row the step cannot use, remind the person how to get out."""
    if misses < MISSES_BEFORE_HELP:
        return markup
    hint = _("Stuck? {back} goes back to the previous question, {cancel} stops the registration.").format(
        back=command_text(ctx, "back"), cancel=command_text(ctx, "cancel")
    )
    return f"{markup}\n\n<i>{esc(hint)}</i>"


# questions -------------------------------------------------------------------


def prompt(ctx: Context, step: str, data: dict[str, Any], note: str = "") -> Reply:
    """The question of ``step``, with its buttons; ``note`` (markup) comes first."""
    question = _QUESTIONS[step](ctx, data)
    if step != "summary":
        counter = _("Question {n} of {total}").format(n=STEPS.index(step) + 1, total=len(STEPS) - 1)
        question = f"<i>{esc(counter)}</i>\n{question}"
    return ctx.reply("\n\n".join(p for p in (note, question) if p), buttons=_buttons(ctx, step, data))


def _ask_name(ctx: Context, data: dict[str, Any]) -> str:
    return bold(_("What is the name of your organisation?"))


def _ask_country(ctx: Context, data: dict[str, Any]) -> str:
    return bold(
        _("In which country is {organisation} based? Write it or choose it.").format(
            organisation=data["name"]
        )
    )


def _ask_type(ctx: Context, data: dict[str, Any]) -> str:
    lines = [bold(_("What kind of organisation is it? Write the number or choose."))]
    lines += [f"{n}. {esc(_(label))}" for n, label in enumerate(STAKEHOLDER_TYPES.values(), 1)]
    return "\n".join(lines)


def _ask_tables(ctx: Context, data: dict[str, Any]) -> str:
    knowledge = load_knowledge()
    lines = [bold(_("Which Working Tables do you want to join? You can choose several."))]
    for code in WORKING_TABLES:
        table = knowledge.tables[code]
        lines += ["", bold(table_label(table))]
        lines += [esc(objective_line(knowledge.objectives[n])) for n in table.objectives]
    lines += [
        "",
        esc(
            _("Write their numbers (for example “1 3”), or press them and then “{done}”.").format(
                done=_("Done")
            )
        ),
    ]
    if data.get("tables"):
        lines.append(bold(_("Chosen: {tables}").format(tables=", ".join(data["tables"]))))
    return "\n".join(lines)


def _ask_contact(ctx: Context, data: dict[str, Any]) -> str:
    return bold(_("Who is the contact person? Write their full name."))


def _ask_email(ctx: Context, data: dict[str, Any]) -> str:
    return bold(_("What is the e-mail address of {name}?").format(name=data["contact"]))


def _ask_consent(ctx: Context, data: dict[str, Any]) -> str:
    return (
        esc(
            _(
                "To handle your membership I store the organisation's name, country and type, the contact "
                "person's name and e-mail, and your chat account. Only the secretaries of the tables you "
                "chose and the mechanism's administrators see them, and you can erase them at any time "
                "with {forget}."
            ).format(forget=command_text(ctx, "forget"))
        )
        + "\n"
        + bold(_("Do you agree that I store these data?"))
    )


def _summary(ctx: Context, data: dict[str, Any]) -> str:
    rows = [
        (_("Organisation"), data["name"]),
        (_("Country"), country_name(data["country"])),
        (_("Type"), stakeholder_label(data["type"])),
        (_("Tables"), ", ".join(data["tables"])),
        (_("Contact"), data["contact"]),
        (_("E-mail"), data["email"]),
    ]
    lines = [bold(_("Please check, then confirm:")), ""]
    lines += [f"{esc(label)}: <b>{esc(value)}</b>" for label, value in rows]
    return "\n".join(lines)


_QUESTIONS: dict[str, Callable[[Context, dict[str, Any]], str]] = {
    "name": _ask_name,
    "country": _ask_country,
    "type": _ask_type,
    "tables": _ask_tables,
    "contact": _ask_contact,
    "email": _ask_email,
    "consent": _ask_consent,
    "summary": _summary,
}


def _buttons(ctx: Context, step: str, data: dict[str, Any]) -> tuple[tuple[Button, ...], ...]:
    """Each step's choices; a button sends a text the step also accepts when typed."""
    if step == "country":
        chosen = data.get("country")
        return _rows(
            [Button(("✓ " if code == chosen else "") + name, name) for code, name in countries_sorted()], 3
        )
    if step == "type":
        return tuple(
            (Button(("✓ " if code == data.get("type") else "") + _(label), str(n)),)
            for n, (code, label) in enumerate(STAKEHOLDER_TYPES.items(), 1)
        )
    if step == "tables":
        chosen = set(data.get("tables", ()))
        toggles = [Button(("✓ " if code in chosen else "") + code, f"+{code}") for code in WORKING_TABLES]
        return (*_rows(toggles, 2), (Button(_("Done"), _("Done").lower()),))
    if step == "consent":
        return ((Button(_("Yes, I agree"), _("yes")), Button(_("No"), _("no"))),)
    if step == "summary":
        change = [
            Button(
                _("Change {what}").format(what=_(label)),
                command_text(ctx, "back", shown_word("registration", s)),
            )
            for s, label in _CHANGE_LABELS.items()
        ]
        return (
            (Button(_("Confirm"), _("confirm")),),
            *_rows(change, 2),
            (Button(_("Cancel"), command_text(ctx, "cancel")),),
        )
    keep = {
        "name": data.get("name"),
        "contact": data.get("contact") or ctx.message.sender.name,
        "email": data.get("email"),
    }
    value = keep.get(step)
    return ((Button(value, value),),) if value and len(value.encode()) <= _BUTTON_BYTES else ()


def _rows(buttons: list[Button], width: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


_CHANGE_LABELS = {
    "name": N_("name"),
    "country": N_("country"),
    "type": N_("type"),
    "tables": N_("tables"),
    "contact": N_("contact"),
    "email": N_("e-mail"),
}


# answers ---------------------------------------------------------------------


def _words(text: str, *, longest: int, empty: str) -> str:
    """A typed name: not empty, not too long, no markup, some letters; spaces tidied."""
    if not text:
        raise UserError(esc(empty))
    if len(text) > longest:
        raise UserError(
            esc(
                _("That is too long ({length} characters): at most {longest}, please.").format(
                    length=len(text), longest=longest
                )
            )
        )
    if "<" in text or ">" in text:
        raise UserError(esc(_("Please write it as plain text, without < or >.")))
    if not any(c.isalpha() for c in text):
        raise UserError(esc(_("That does not look like a name: please write it with letters.")))
    if words(text) in answer_words("done"):
        raise UserError(esc(_("“{word}” is not a name: please write the name itself.").format(word=text)))
    return " ".join(text.split())


async def _answer_name(ctx: Context, data: dict[str, Any], text: str) -> Next:
    name = _words(text, longest=MAX_NAME, empty=_("Please write the name of your organisation."))
    if data.get("country"):
        await _refuse_duplicate(ctx, name, data["country"])
    data["name"] = name
    async with ctx.db.transaction() as session:
        namesakes = await organisations.same_name(session, name)
    if not namesakes or data.get("editing"):
        return Next()
    countries = ", ".join(country_name(o.country) for o in namesakes)
    return Next(
        note=esc(
            _(
                "Note: an organisation with this name is already registered ({countries}). "
                "If it is yours, it does not need to register again."
            ).format(countries=countries)
        )
    )


async def _answer_country(ctx: Context, data: dict[str, Any], text: str) -> Next:
    match = find_country(text)
    if match.code is None:
        raise UserError(_country_problem(text, match))
    await _refuse_duplicate(ctx, data["name"], match.code)
    data["country"] = match.code
    return Next()


def _country_problem(text: str, match: CountryMatch) -> str:
    if match.outside:
        return esc(
            _(
                "{country} is not in Latin America and the Caribbean: the mechanism gathers organisations "
                "of this region. Choose the country where your organisation works."
            ).format(country=country_name(match.outside))
        )
    if match.suggestions:
        return esc(
            _("Did you mean {countries}?").format(
                countries=", ".join(country_name(c) for c in match.suggestions)
            )
        )
    if not text:
        return esc(_("Please write the country, or choose it."))
    return esc(
        _("I don't know the country “{country}”. Write it as in “México” or “Brazil”, or choose it.").format(
            country=text[:40]
        )
    )


async def _refuse_duplicate(ctx: Context, name: str, country: str) -> None:
    """Stop at a registered organisation and tell how to reach its record."""
    async with ctx.db.transaction() as session:
        found = await organisations.same_name(session, name, country)
        if not found:
            return
        existing = found[0]
        tables = existing.tables(APPROVED, PENDING)
        keys = [k for t in tables for k in await roles.secretaries(session, t)] or sorted(
            ctx.config.admins
        )
        people = [await describe_user(session, k) for k in dict.fromkeys(keys)]
    lines = [
        esc(
            _("{organisation} ({country}) is already registered.").format(
                organisation=existing.name, country=country_name(country)
            )
        )
    ]
    if existing.contact_user == ctx.user:
        lines.append(esc(_("It is yours: see {command}.").format(command=command_text(ctx, "organisation"))))
    else:
        if tables:
            lines.append(esc(_("It is in (or asked to join) {tables}.").format(tables=", ".join(tables))))
        if people:
            lines.append(
                esc(
                    _("If you work with it, write to {people} to be put in touch.").format(
                        people=", ".join(people)
                    )
                )
            )
        lines.append(
            esc(
                _(
                    "If it is another organisation, send {back} to change the name, or choose another country."
                ).format(back=command_text(ctx, "back"))
            )
        )
    raise UserError("\n".join(lines))


async def _answer_type(ctx: Context, data: dict[str, Any], text: str) -> Next:
    codes = list(STAKEHOLDER_TYPES)
    folded = words(text)
    number = parse_number(text, 1, len(codes))
    if number is not None:
        data["type"] = codes[number - 1]
        return Next()
    names = {}
    for lang in LANGUAGES:
        with use_locale(lang):
            names.update({fold(_(label)): code for code, label in STAKEHOLDER_TYPES.items()})
    found = (
        process.extractOne(folded, list(names), scorer=fuzz.WRatio, score_cutoff=86)
        if 0 < len(folded) <= 80
        else None
    )
    if found is None:
        raise UserError(
            esc(
                _("Please choose one of the types, or write its number (1 to {last}).").format(
                    last=len(codes)
                )
            )
        )
    data["type"] = names[found[0]]
    return Next()


async def _answer_tables(ctx: Context, data: dict[str, Any], text: str) -> Next:
    toggle = _TOGGLE.match(text)
    if toggle:
        code = parse_working_tables(toggle.group(1))
        data["tables"] = sorted(set(data.get("tables", ())) ^ set(code))
        if not data["tables"]:
            return Next(stay=True, note=esc(_("No table chosen yet.")))
        return Next(
            stay=True,
            note=esc(
                _("Chosen: {tables}. Choose more, or press “{done}”.").format(
                    tables=", ".join(data["tables"]), done=_("Done")
                )
            ),
        )
    if words(text) in answer_words("done"):
        if not data.get("tables"):
            raise UserError(esc(_("Choose at least one table first.")))
        return _tables_chosen(data["tables"])
    tables = parse_working_tables(text)
    if not tables:
        raise UserError(esc(_("Write the numbers of the tables, for example “1 3”.")))
    data["tables"] = tables
    return _tables_chosen(tables)


def _tables_chosen(tables: list[str]) -> Next:
    """Typed numbers and the buttons' “Done” end the step alike: the choice, then the next question."""
    return Next(note=esc(_("Tables chosen: {tables}.").format(tables=", ".join(tables))))


async def _answer_contact(ctx: Context, data: dict[str, Any], text: str) -> Next:
    data["contact"] = _words(text, longest=MAX_CONTACT, empty=_("Please write the contact person's name."))
    return Next()


async def _answer_email(ctx: Context, data: dict[str, Any], text: str) -> Next:
    address = text.strip().removeprefix("mailto:")
    if not address:
        raise UserError(esc(_("Please write the e-mail address, like ana@example.org.")))
    if "@" not in address:
        raise UserError(
            esc(
                _("“{email}” is not an e-mail address: it needs an @, like ana@example.org.").format(
                    email=address[:60]
                )
            )
        )
    try:
        normalised = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        normalised = ""
    if not normalised or len(normalised) > MAX_EMAIL:
        raise UserError(
            esc(
                _("“{email}” does not look like an e-mail address (like ana@example.org).").format(
                    email=address[:60]
                )
            )
        )
    data["email"] = normalised
    return Next()


async def _answer_consent(ctx: Context, data: dict[str, Any], text: str) -> Next:
    if is_yes(text) or words(text) in {"agree", "de acuerdo"}:
        data["consent"] = True
        return Next()
    if words(text) in answer_words("no"):
        await ctx.end_state()
        return Next(
            replies=(
                ctx.reply(
                    esc(
                        _(
                            "Understood: without your consent I cannot register the organisation, "
                            "and I stored nothing. You can start again with {command}."
                        ).format(command=command_text(ctx, "register"))
                    )
                ),
            )
        )
    raise UserError(esc(_("Please answer yes or no.")))


async def _answer_summary(ctx: Context, data: dict[str, Any], text: str) -> Next:
    if not is_yes(text):
        raise UserError(
            esc(
                _("Press “{confirm}” to send the registration, or change an answer.").format(
                    confirm=_("Confirm")
                )
            )
        )
    return Next(replies=tuple(await _submit(ctx, data)))


_ANSWERS: dict[str, Answer] = {
    "name": _answer_name,
    "country": _answer_country,
    "type": _answer_type,
    "tables": _answer_tables,
    "contact": _answer_contact,
    "email": _answer_email,
    "consent": _answer_consent,
    "summary": _answer_summary,
}


# the end ---------------------------------------------------------------------


async def _submit(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """Store the organisation with one pending request per table, and tell the secretaries."""
    now = ctx.clock.now()
    try:
        async with ctx.db.transaction() as session:
            if await organisations.organisation_of(session, ctx.user) is not None:
                raise UserError(
                    esc(
                        _("You already registered an organisation: see {command}.").format(
                            command=command_text(ctx, "organisation")
                        )
                    )
                )
            organisation = await organisations.create_organisation(
                session,
                name=data["name"],
                country=data["country"],
                stakeholder_type=data["type"],
                contact_name=data["contact"],
                contact_email=data["email"],
                contact_user=ctx.user,
                language=ctx.lang,
                tables=data["tables"],
                at=now,
            )
            subject = f"{organisation.name} ({organisation.country})"
            await audit.record(session, ctx.user, "register", subject, " ".join(data["tables"]), at=now)
            requests = list(organisation.memberships)
            unattended = await notify_requests(ctx, session, requests)
    except DuplicateOrganisation:
        await _refuse_duplicate(ctx, data["name"], data["country"])
        raise
    await ctx.end_state()
    text = esc(
        _(
            "Thank you! {organisation} is registered. Your requests {requests} went to the tables' "
            "secretaries; I will write to you here when they decide. Your record: {command}."
        ).format(
            organisation=organisation.name,
            requests=", ".join(f"#{r.id} ({r.table_code})" for r in requests),
            command=command_text(ctx, "organisation"),
        )
    )
    return [ctx.reply("\n\n".join(p for p in (text, unattended_note(ctx, unattended)) if p))]
