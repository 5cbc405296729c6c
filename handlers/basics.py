"""The basic commands and free-text answers: objectives, tables, language, help."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

from babel import Locale
from babel.dates import get_month_names
from babel.lists import format_list

from handlers.agenda import table_agenda
from handlers.context import Context
from handlers.errors import UserError
from handlers.i18n import LANGUAGE_NAMES, LANGUAGES, N_, _, current_locale, ngettext, use_locale
from handlers.arguments import LanguageName, Objectives, TableRef, Text
from handlers.knowledge import Knowledge, Objective, Table, fold, load_knowledge
from handlers.markup import bold, esc
from handlers.message import Answer, Button, Reply
from handlers.registry import Registry, command_help, summary_line
from handlers.understanding import Understanding, understand
from storage import organisations, readcache

registry = Registry()

_NUMBER = re.compile(r"\b[0-9]{1,4}\b")
MAX_CARDS = 3

def command_text(ctx: Context, english_name: str, args: str = "") -> str:
    """A command as its reader would type it, in the language being rendered (``/mesa WT2``).

    That is the chat's language, or another person's while rendering a message for them
    (a secretary's notice, a contact's decision)."""
    command = ctx.commands.by_english_name(english_name)
    name = command.name(current_locale()) if command else english_name
    return f"/{name} {args}".rstrip()


def language_name(code: str) -> str:
    """A language named in the language being rendered, as written mid-sentence (“español”)."""
    return Locale.parse(current_locale()).languages.get(code, code)


def months(numbers: tuple[int, ...] | list[int]) -> str:
    names = get_month_names("wide", locale=current_locale())
    return format_list([names[m] for m in numbers], locale=current_locale())


# rendering -------------------------------------------------------------------


def table_label(table: Table) -> str:
    return _("{code} · {name}").format(code=table.code, name=table.name(current_locale()))


def objective_line(objective: Objective) -> str:
    return _("Objective {number}: {title}").format(
        number=objective.number, title=objective.title(current_locale())
    )


def objective_card(ctx: Context, objective: Objective) -> Reply:
    lang = current_locale()
    table = load_knowledge().tables[objective.table]
    lines = [bold(objective_line(objective)), esc(objective.summary(lang))]
    if objective.commitments(lang):
        lines += ["", bold(_("What States commit to")), esc(objective.commitments(lang))]
    lines += ["", _("Worked on by {table}.").format(table=bold(table_label(table)))]
    text = "\n".join(lines)
    buttons = ((Button(table_label(table), command_text(ctx, "table", table.code)),),)
    return ctx.reply(
        text,
        buttons=buttons,
        answer=Answer("objective", (objective.number,), (objective.table,)),
    )


def table_card(ctx: Context, table: Table, agenda: str = "") -> Reply:
    """What a table covers; ``agenda`` (markup) is its next meetings, shown before the cadence."""
    lang = current_locale()
    knowledge = load_knowledge()
    lines = [bold(table_label(table)), esc(table.description(lang))]
    if table.objectives:
        lines += ["", bold(_("GCM objectives"))]
        lines += [esc(objective_line(knowledge.objectives[n])) for n in table.objectives]
    priorities = table.priorities(lang)
    if priorities:
        lines += ["", bold(_("Priorities 2023-2024"))]
        lines += [f"• {esc(p)}" for p in priorities]
    if agenda:
        lines += ["", agenda]
    lines += ["", esc(meeting_cadence())]
    buttons = tuple(
        tuple(Button(str(n), command_text(ctx, "objective", str(n))) for n in table.objectives[i : i + 4])
        for i in range(0, len(table.objectives), 4)
    )
    return ctx.reply(
        "\n".join(lines),
        buttons=buttons,
        answer=Answer("table", tuple(table.objectives), (table.code,)),
    )


def meeting_cadence() -> str:
    cadence = load_knowledge().cadence
    return _("The tables meet every quarter ({meetings}); pledges are monitored in {pledges}.").format(
        meetings=months(cadence.meeting_months), pledges=months(cadence.pledge_monitoring_months)
    )


def help_text(ctx: Context, privileged: bool) -> str:
    """Every command the reader may use, each with its usage line generated from its declaration."""
    lines = [bold(_("What I can do")), ""]
    for command in ctx.commands.commands:
        if command.privileged and not privileged:
            continue
        lines.append(f"{esc(summary_line(command))} — {esc(_(command.help))}")
    lines += ["", esc(_("You can also just ask, e.g. “which table works on human trafficking?”"))]
    lines.append(esc(_("Send {command} for one command's details.").format(command=command_text(ctx, "help", "…"))))
    return "\n".join(lines)


# commands --------------------------------------------------------------------


@registry.command("start", "start", Text(name="payload", label=N_("command"), optional=True, raw=True), help=N_("Welcome and what I can do"))
async def start(ctx: Context, payload: str | None) -> Reply | list[Reply] | None:
    """A deep link (``t.me/bot?start=register``) runs that command; otherwise the welcome."""
    name, _sep, rest = (payload or "").partition(" ")
    target = ctx.commands.by_english_name(name.lower())
    if target is not None and target.en != "start":
        ctx.args = rest.strip()
        return await target.run(ctx)
    welcome = _(
        "Hello! I am the assistant of the Latin America and the Caribbean civil-society "
        "dialogue mechanism on the Global Compact for Migration (GCM)."
    )
    return ctx.reply(esc(welcome) + "\n\n" + help_text(ctx, await _privileged(ctx)))


@registry.command(
    "help", "ayuda", Text(name="command", label=N_("command"), optional=True),
    help=N_("This list of commands, or one command's details"), answers=("help", "unknown"),
)  # fmt: skip
async def help_command(ctx: Context, command: str | None = None) -> Reply:
    """``/ayuda``: every command; ``/ayuda reunion``: that one's sub-commands and usage. Free
    text asking for help (or out of scope) gets :func:`help_answer`."""
    if ctx.understood is not None and command is None:
        return await help_answer(ctx)
    if command:
        found = ctx.commands.lookup(fold(command.lstrip("/!").split()[0]))
        if found is None:
            raise UserError(esc(_("I don't know the command {command}.").format(command=command[:40])))
        return ctx.reply(command_help(ctx, found[0]))
    return ctx.reply(help_text(ctx, await _privileged(ctx)))


async def _privileged(ctx: Context) -> bool:
    """Whether to list the secretaries' commands: display only, so the roles may come from the
    read cache (each of those commands checks the privilege afresh)."""
    return ctx.is_admin() or bool(await readcache.secretary_tables(ctx.db, ctx.user))


@registry.command(
    "objective", "objetivo", Objectives(optional=True),
    help=N_("An objective of the GCM and its table"), intent="objective", answers=("objective",),
)  # fmt: skip
async def objective(ctx: Context, objectives: tuple[int, ...] | str | None) -> Reply | list[Reply]:
    """``/objetivo 10 y 13``: their cards; ``/objetivo remesas``: the objective of that topic;
    free text about an objective: the same answer."""
    if isinstance(objectives, tuple):
        return objective_cards(ctx, objectives)
    if objectives is not None:
        ctx.understood = understand(objectives)
    elif ctx.understood is None:
        return objectives_reply(ctx)
    return answer_topic(ctx)


def objective_cards(ctx: Context, numbers: list[int] | tuple[int, ...]) -> list[Reply]:
    """One card per objective named ("/objetivo 10 y 13"); an unknown number is a clear error."""
    knowledge = load_knowledge()
    for number in numbers:
        if number not in knowledge.objectives:
            raise UserError(esc(no_such_objective(number)))
    return [objective_card(ctx, knowledge.objectives[n]) for n in numbers[:MAX_CARDS]]


@registry.command("objectives", "objetivos", help=N_("The 23 objectives of the GCM"), intent="objective")
async def objectives_command(ctx: Context) -> Reply:
    return objectives_reply(ctx)


def objectives_reply(ctx: Context) -> Reply:
    knowledge = load_knowledge()
    lines = [bold(_("The 23 objectives of the GCM")), ""]
    lines += [
        f"{n}. {esc(o.title(current_locale()))} ({o.table})" for n, o in sorted(knowledge.objectives.items())
    ]
    lines += ["", esc(_("Send {command} for one of them.").format(command=command_text(ctx, "objective", "N")))]
    return ctx.reply("\n".join(lines), answer=Answer("objective"))


@registry.command(
    "table", "mesa", TableRef(optional=True),
    help=N_("A table: what it covers and when it meets"), intent="table", answers=("table",),
)  # fmt: skip
async def table(ctx: Context, table: str | None) -> Reply:
    """``/mesa WT2``: the table's card with its next meetings; free text about a table: its card,
    the list, or a question when unsure."""
    understood = ctx.understood
    if understood is not None:
        if table is None or understood.answer == "list":
            return tables_reply(ctx)
        if not understood.confident and understood.alternatives:
            return clarify(ctx, understood, Answer("table", (), understood.tables))
        return table_card(ctx, load_knowledge().tables[table])
    if table is None:
        return tables_reply(ctx)
    agenda = await table_agenda(ctx.db, table, ctx.clock.now(), ctx.timezone)
    return table_card(ctx, load_knowledge().tables[table], agenda)


@registry.command("tables", "mesas", help=N_("The tables of the mechanism"), intent="table")
async def tables(ctx: Context) -> Reply:
    return tables_reply(ctx)


def tables_reply(ctx: Context) -> Reply:
    knowledge = load_knowledge()
    lines = [bold(_("The tables of the mechanism")), esc(_(
        "Each Working Table follows a group of GCM objectives with the UN Regional Network on "
        "Migration; the Liaison Table coordinates them and links them with the UN system, and the "
        "Technical Table keeps their annual plan running."
    )), ""]
    for t in knowledge.tables.values():
        label = table_label(t)
        if t.objectives:
            label = _("{table} (objectives {numbers})").format(
                table=label, numbers=", ".join(map(str, t.objectives))
            )
        lines.append(esc(label))
    buttons = tuple(
        (Button(table_label(t), command_text(ctx, "table", t.code)),) for t in knowledge.tables.values()
    )
    return ctx.reply("\n".join(lines), buttons=buttons, answer=Answer("table", (), tuple(knowledge.tables)))


def _languages_spoken(ctx: Context) -> str:
    spoken = format_list([f"{language_name(code)} ({code})" for code in LANGUAGES], locale=current_locale())
    return _("I speak {languages}. Example: {command}").format(
        languages=spoken, command=command_text(ctx, "language", LANGUAGES[-1])
    )


@registry.command(
    "language", "idioma", LanguageName(optional=True, invalid=_languages_spoken), help=N_("Set the chat's language")
)
async def language(ctx: Context, language: str | None = None) -> Reply:
    if language is None:
        current = language_name(ctx.lang)
        buttons = (tuple(Button(LANGUAGE_NAMES[l], f"/{ctx.command or 'idioma'} {l}") for l in LANGUAGES),)
        return ctx.reply(esc(_("This chat speaks {language}. Choose:").format(language=current)), buttons=buttons)
    await ctx.require_group_settings()
    await ctx.set_language(language)
    with use_locale(language):
        return ctx.reply(esc(_("Done: from now on I answer in {language} in this chat.").format(
            language=language_name(language)
        )))


@registry.command("about", "acerca", help=N_("About this bot and its sources"))
async def about(ctx: Context) -> Reply:
    text = _(
        "I answer questions about the 23 objectives of the Global Compact for Safe, Orderly and "
        "Regular Migration and the tables of the Latin America and the Caribbean civil-society "
        "open and permanent dialogue mechanism that work on them. My information comes from the "
        "mechanism's Terms of Reference (2022), the Regional Network work plan 2023-2024 and "
        "UN General Assembly resolution 73/195; what States commit to under each objective is "
        "our own summary of that resolution (objectives 1-23, paragraphs 17-39). I am open-source software."
    )
    return ctx.reply(esc(text))


@registry.command("cancel", "cancelar", help=N_("Stop what we are doing"))
async def cancel(ctx: Context) -> Reply:
    if await ctx.state() is None:
        return ctx.reply(esc(_("There is nothing to cancel.")))
    await ctx.end_state()
    return ctx.reply(esc(_("Cancelled. Nothing was saved.")))


# free text -------------------------------------------------------------------


def answer_topic(ctx: Context) -> Reply | list[Reply]:
    """The objective(s) the understood text is about, or a question when unsure."""
    knowledge = load_knowledge()
    understood = ctx.understood
    if understood is None:
        return unknown_reply(ctx)
    if understood.answer == "list":
        return objectives_reply(ctx)
    if not understood.objectives:
        return _objective_request_without_match(ctx, understood.confident)
    if understood.answer == "numbers":
        return objective_cards(ctx, understood.objectives)
    numbers = understood.objectives
    answer = Answer("objective", numbers, understood.tables)
    if understood.confident or len(numbers) == 1:
        card = replace(objective_card(ctx, knowledge.objectives[numbers[0]]), answer=answer)
        if understood.confident:
            return card
        return replace(card, html=esc(_("I am not sure, but this seems the closest:")) + "\n\n" + card.html)
    return clarify(ctx, understood, answer)


def clarify(ctx: Context, understood: Understanding, answer: Answer) -> Reply:
    """"Did you mean one of these?" with the best choices (objectives, tables, help) as buttons."""
    knowledge = load_knowledge()
    labels = [_label(understood), *understood.alternatives, *(f"objective:{n}" for n in understood.objectives[1:3])]
    choices = list(dict.fromkeys(_choice(ctx, label, knowledge) for label in labels))[:3]
    lines = [esc(_("I am not sure. Did you mean one of these?")), ""]
    lines += [f"• {esc(text)}" for text, _command, _button in choices]
    buttons = tuple((Button(button, command),) for _text, command, button in choices)
    return ctx.reply("\n".join(lines), buttons=buttons, answer=answer)


def _label(understood: Understanding) -> str:
    if understood.intent == "objective" and understood.objectives:
        return f"objective:{understood.objectives[0]}"
    if understood.intent == "table" and understood.tables:
        return f"table:{understood.tables[0]}"
    return understood.intent


def _choice(ctx: Context, label: str, knowledge: Knowledge) -> tuple[str, str, str]:
    """(line, command, button text) for one possible meaning: an objective, a table, joining,
    the meetings, or else what the bot can do."""
    kind, _sep, value = label.partition(":")
    if kind == "objective" and value.isdigit() and int(value) in knowledge.objectives:
        objective = knowledge.objectives[int(value)]
        line = f"{objective_line(objective)} ({objective.table})"
        return line, command_text(ctx, "objective", value), _("Objective {number}").format(number=value)
    if kind == "table" and value in knowledge.tables:
        label_text = table_label(knowledge.tables[value])
        return label_text, command_text(ctx, "table", value), label_text
    if kind in ("register", "meetings"):
        command = next((c for c in ctx.commands.commands if c.intent == kind and not c.privileged), None)
        if command is not None:
            return _(command.help), command_text(ctx, command.en), f"/{command.name(current_locale())}"
    return _("What I can do"), command_text(ctx, "help"), _("What I can do")


def _objective_request_without_match(ctx: Context, confident: bool) -> Reply:
    """"Which are the 23 objectives?" gets the list; "objetivo 25" the range; the rest, what I can do."""
    if confident:
        return objectives_reply(ctx)
    number = _NUMBER.search(ctx.args or ctx.message.text)
    if number:
        return ctx.reply(esc(no_such_objective(int(number.group()))), answer=Answer("objective"))
    return unknown_reply(ctx)


def no_such_objective(number: int | str) -> str:
    return _("There is no objective {number}: the GCM has objectives 1 to {last}.").format(
        number=number, last=len(load_knowledge().objectives)
    )


def unknown_reply(ctx: Context) -> Reply:
    text = _(
        "Sorry, that is outside what I know. I can tell you which GCM objective covers a topic and "
        "which table works on it, what a table covers and when it meets. Try “which table works on "
        "remittances?” or send {command}."
    ).format(command=command_text(ctx, "help"))
    buttons = ((Button(_("What I can do"), command_text(ctx, "help")),),)
    return ctx.reply(esc(text), buttons=buttons, answer=Answer("unknown"))


async def greeting_reply(ctx: Context) -> Reply:
    text = _(
        "Hello! Ask me about a GCM objective or a table of the Mechanism, e.g. “which table works "
        "on remittances?”, or send {command} for everything I can do."
    ).format(command=command_text(ctx, "help"))
    return ctx.reply(esc(text))


async def about_gcm_reply(ctx: Context) -> Reply:
    text = _(
        "The Global Compact for Safe, Orderly and Regular Migration (GCM) was adopted in Marrakech "
        "and endorsed by the UN General Assembly in December 2018 (resolution 73/195). It is not "
        "legally binding: States commit to 23 objectives, from data and regular pathways to "
        "detention, remittances and return. Send {command} for the list, or ask about one of them."
    ).format(command=command_text(ctx, "objectives"))
    return ctx.reply(esc(text))


async def about_mechanism_reply(ctx: Context) -> Reply:
    text = _(
        "The Open and Permanent Dialogue Mechanism brings together civil-society organisations and "
        "other stakeholders of Latin America and the Caribbean to follow up the GCM with the UN "
        "Regional Network on Migration. They work in four thematic Working Tables (WT1-WT4); the "
        "Liaison Table coordinates them and links them with the UN system, and the Technical Table "
        "keeps their annual plan running. Send {command} to see the tables."
    ).format(command=command_text(ctx, "tables"))
    return ctx.reply(esc(text))


async def count_reply(ctx: Context) -> Reply:
    knowledge = load_knowledge()
    lines = [_(
        "The Mechanism brings together more than 80 organisations in {count} tables: four Working "
        "Tables, the Liaison Table and the Technical Table."
    ).format(count=len(knowledge.tables))]
    async with ctx.db.transaction() as session:
        approved = await organisations.count_approved(session)
    if approved:
        lines.append(ngettext(
            "{count} organisation is registered with me and approved in a table.",
            "{count} organisations are registered with me and approved in a table.",
            approved,
        ).format(count=approved))
    return ctx.reply(esc(" ".join(lines)))


async def help_answer(ctx: Context) -> Reply:
    """Free text asking what the bot does, greeting it, or out of scope."""
    understood = ctx.understood
    assert understood is not None
    if understood.intent != "help":
        return unknown_reply(ctx)  # out of scope is an answer: a kind redirect, with "what I can do"
    if understood.answer in (None, "capabilities") and not understood.confident:
        if understood.alternatives[:1] == ("unknown",):
            return unknown_reply(ctx)  # help or out of scope: the redirect, with "what I can do" as the choice
        if any(a.startswith(("objective:", "table:")) for a in understood.alternatives):
            return clarify(ctx, understood, Answer("help"))
    reply = HELP_ANSWERS.get(understood.answer)
    return await reply(ctx) if reply is not None else ctx.reply(help_text(ctx, await _privileged(ctx)))


#: The replies of the "help" intent, by the ``answer`` named in handlers/data/nlu/intents.toml.
HELP_ANSWERS: dict[str | None, Callable[[Context], Awaitable[Reply]]] = {
    "greeting": greeting_reply,
    "about_gcm": about_gcm_reply,
    "about_mechanism": about_mechanism_reply,
    "count": count_reply,
    "language": language,
}
