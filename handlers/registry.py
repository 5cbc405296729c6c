"""Commands, their sub-commands and typed arguments, and dialogue flows, each declared once.

A command is declared with its English and Spanish names (the other languages' names, and
the sub-command words of every language, come from ``handlers/data/commands.toml`` through
:mod:`handlers.vocabulary`) and its arguments (:mod:`handlers.arguments`); its handler gets
them as typed keyword arguments::

    meeting = registry.command("meeting", "reunion", help=N_("…"), guard=require_organiser)

    @meeting.sub("move", Id(), Date(), Time(), Zone(optional=True), help=N_("…"))
    async def move(ctx: Ctx, id: int, day: date, at: time, zone: str | None) -> Reply: ...

The usage lines of ``/help``, of ``/help meeting`` and of every parse error, the platform
menus, and the routing of free text understood as an intent (``answers=``) all come from
these declarations; feature modules create their own :class:`Registry` and the core composes them.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from handlers.arguments import Argument, Ctx, Explain, explain, parse, usage_of
from handlers.errors import UserError
from handlers.i18n import LANGUAGES, _, current_locale, normalize_language, use_locale
from handlers.knowledge import fold
from handlers.markup import bold, esc
from handlers.vocabulary import accepted_words, command_names, shown_word

if TYPE_CHECKING:
    from handlers.message import Reply

Replies: TypeAlias = "Reply | list[Reply] | None"
Handler: TypeAlias = Callable[..., Awaitable[Any]]
"""``async def handler(ctx: Ctx, **arguments) -> Replies``: the context, then each declared
argument by its name. Not spelled with ``Context``: the context offers the command table
(``ctx.commands``), which holds handlers, and naming it here would make this module and
:mod:`handlers.context` import each other (see :data:`handlers.arguments.Ctx`)."""
FlowHandler: TypeAlias = Callable[..., Awaitable[Any]]
"""``async def step(ctx: Ctx, state: State) -> Replies``."""
Guard: TypeAlias = Callable[..., Awaitable[None]]
"""``async def guard(ctx: Ctx) -> None``, raising :class:`~handlers.errors.Forbidden`."""
H = TypeVar("H", bound=Handler)


@dataclass(eq=False)
class Action:
    """What a command or one of its sub-commands does: its arguments and its handler."""

    arguments: tuple[Argument, ...] = ()
    handler: Handler | None = None
    help: str = ""
    answers: tuple[str, ...] = ()
    """Free-text intents answered by this handler, its arguments filled from what was understood."""
    guard: Guard | None = None
    """Checked before anything typed is read (who may use it at all)."""

    async def call(self, ctx: Ctx, typed: str, usage: str) -> Any:
        """Check the guard, parse ``typed`` and run the handler; a parse error gets the usage line added."""
        assert self.handler is not None
        if self.guard is not None:
            await self.guard(ctx)
        try:
            values = parse(ctx, self.arguments, typed)
        except UserError as error:
            raise UserError(error.markup + "\n\n" + esc(_("Usage: {usage}").format(usage=usage))) from None
        return await self.handler(ctx, **values)

    async def answer(self, ctx: Ctx) -> Any:
        """Run the handler for free text understood as one of :attr:`answers`."""
        assert self.handler is not None and ctx.understood is not None
        understood = ctx.understood
        if self.guard is not None:
            await self.guard(ctx)
        return await self.handler(ctx, **{a.name: a.understood(understood) for a in self.arguments})


@dataclass(eq=False)
class Subcommand(Action):
    key: str = ""
    """The English word; every language's word is in the data file's ``[words.<command>]``."""


@dataclass(eq=False)
class Command(Action):
    en: str = ""
    es: str = ""
    aliases: tuple[str, ...] = ()
    privileged: bool = False
    intent: str = "help"
    note: Explain | None = None
    """A line under the command's own help (``/help meeting``): formats, defaults."""
    subcommands: list[Subcommand] = field(default_factory=list)

    def __call__(self, handler: H) -> H:
        """Used as a decorator: ``handler`` runs the command itself (without a sub-command word)."""
        self.handler = handler
        return handler

    def sub(
        self, key: str, *arguments: Argument, help: str, answers: Iterable[str] = (), guard: Guard | None = None
    ) -> Callable[[H], H]:
        """Declare a sub-command: ``key`` is its English word (``add``), ``help`` a message id;
        ``guard`` is checked after the command's own."""
        if key not in accepted_words(self.en).values():
            raise ValueError(f"sub-command {self.en} {key!r} has no words in the data file")

        def register(handler: H) -> H:
            self.subcommands.append(Subcommand(arguments, handler, help, tuple(answers), guard, key))
            return handler

        return register

    @property
    def names(self) -> dict[str, str]:
        """The command's name per language: English, Spanish and those of the data file."""
        return {"en": self.en, "es": self.es, **command_names(self.en)}

    def name(self, lang: str | None) -> str:
        return self.names.get(normalize_language(lang) or "en", self.en)

    def subcommand(self, word: str) -> Subcommand | None:
        key = accepted_words(self.en).get(fold(word))
        return next((s for s in self.subcommands if s.key == key), None)

    async def run(self, ctx: Ctx) -> Any:
        """Check the guard, pick the sub-command by its word, parse the rest, run the handler.

        Without a sub-command word (and no handler of its own) the command shows its help."""
        typed = ctx.args
        if self.subcommands:
            words = typed.split(maxsplit=1)
            found = self.subcommand(words[0]) if words else None
            if found is not None:
                if self.guard is not None:
                    await self.guard(ctx)
                return await found.call(ctx, words[1] if len(words) > 1 else "", usage_line(self, found))
            if self.handler is None:
                if self.guard is not None:
                    await self.guard(ctx)
                return ctx.reply(command_help(ctx, self))
        usage = "\n".join(usage_line(self, action) for action in self.actions)  # a wrong word: every way to use it
        return await self.call(ctx, typed, usage)

    @property
    def actions(self) -> list[Action]:
        return [*self.subcommands, *([self] if self.handler is not None else [])]


# usage and help ------------------------------------------------------------------


def usage_line(command: Command, action: Action) -> str:
    """``/reunion mover N <fecha> <hora> [zona]`` in the language being rendered (plain text)."""
    words = [f"/{command.name(current_locale())}"]
    if isinstance(action, Subcommand):
        words.append(shown_word(command.en, action.key))
    words.append(usage_of(action.arguments))
    return " ".join(w for w in words if w)


def summary_line(command: Command) -> str:
    """The command in the list of ``/help`` (plain text): its usage, or its sub-command words."""
    if command.subcommands:
        words = "|".join(shown_word(command.en, s.key) for s in command.subcommands)
        return f"/{command.name(current_locale())} {words} …"
    return usage_line(command, command)


def command_help(ctx: Ctx, command: Command) -> str:
    """``/help meeting``: what the command does, then each sub-command's usage and purpose (markup)."""
    lines = [bold(_(command.help))]
    for action in command.actions:
        line = esc(usage_line(command, action))
        if isinstance(action, Subcommand) and action.help:
            line += " — " + esc(_(action.help))
        lines.append(line)
    if command.note is not None:
        lines += ["", esc(explain(ctx, command.note))]
    return "\n".join(lines)


# registries ----------------------------------------------------------------------


@dataclass
class Registry:
    commands: list[Command] = field(default_factory=list)
    flows: dict[str, FlowHandler] = field(default_factory=dict)
    documents: list[Handler] = field(default_factory=list)

    def command(
        self,
        en: str,
        es: str,
        *arguments: Argument,
        help: str,
        aliases: Iterable[str] = (),
        privileged: bool = False,
        intent: str = "help",
        answers: Iterable[str] = (),
        guard: Guard | None = None,
        note: Explain | None = None,
    ) -> Command:
        """Declare a command; use the result as the decorator of its handler, or declare its
        sub-commands with :meth:`Command.sub`. ``help`` is a message id (mark it with ``N_``);
        ``intent`` is what ``gcmbot ask --json`` reports for it unless the reply says more;
        ``answers`` are the free-text intents its handler answers."""
        command = Command(
            arguments=tuple(arguments), help=help, answers=tuple(answers), en=en, es=es,
            aliases=tuple(aliases), privileged=privileged, intent=intent, guard=guard, note=note,
        )  # fmt: skip
        self.commands.append(command)
        return command

    def flow(self, name: str) -> Callable[[FlowHandler], FlowHandler]:
        """Declare the handler of a multi-step dialogue; it gets every non-command message."""

        def register(handler: FlowHandler) -> FlowHandler:
            self.flows[name] = handler
            return handler

        return register

    def document(self, handler: H) -> H:
        """Declare the handler of a file sent to the bot."""
        self.documents.append(handler)
        return handler


class CommandTable:
    """All registries merged: lookup by any alias, the language an alias implies, suggestions,
    and the handler of each free-text intent."""

    def __init__(self, registries: Iterable[Registry]) -> None:
        self.commands: list[Command] = []
        self.flows: dict[str, FlowHandler] = {}
        self.intents: dict[str, Action] = {}
        self.document: Handler | None = None
        self._by_name: dict[str, tuple[Command, str | None]] = {}
        for registry in registries:
            _merge(self.flows, registry.flows, "flow")
            for handler in registry.documents:
                if self.document is not None:
                    raise ValueError("two handlers of documents")
                self.document = handler
            for cmd in registry.commands:
                if cmd.handler is None and not cmd.subcommands:
                    raise ValueError(f"command {cmd.en!r} has no handler")
                self.commands.append(cmd)
                for action in [cmd, *cmd.subcommands]:
                    _merge(self.intents, dict.fromkeys(action.answers, action), "intent")
                names = cmd.names
                for name in dict.fromkeys(names.values()):
                    self._add(name, cmd, _implied_language(names, name))
                for alias in cmd.aliases:
                    self._add(alias, cmd, None)

    def _add(self, name: str, cmd: Command, lang: str | None) -> None:
        if name in self._by_name and self._by_name[name][0] is not cmd:
            raise ValueError(f"command name {name!r} declared twice")
        self._by_name[name] = (cmd, lang)

    def lookup(self, name: str) -> tuple[Command, str | None] | None:
        return self._by_name.get(name.lower())

    def by_english_name(self, name: str) -> Command | None:
        found = self._by_name.get(name)
        return found[0] if found else None

    def suggest(self, name: str, lang: str) -> list[str]:
        """Names of up to two commands close to a mistyped one, in the language of the alias it resembles."""
        names: list[str] = []
        for close in difflib.get_close_matches(name.lower(), self._by_name, n=6, cutoff=0.6):
            command, alias_lang = self._by_name[close]
            shown = command.name(alias_lang or lang)
            if shown not in names:
                names.append(shown)
        return names[:2]

    def menu(self, language: str) -> list[tuple[str, str]]:
        """The public commands a platform's menu lists: (name in ``language``, its help in ``language``)."""
        menu: list[tuple[str, str]] = []
        names: set[str] = set()
        with use_locale(language):
            for command in self.commands:
                name = fold(command.name(language))
                if command.privileged or name in names:
                    continue
                names.add(name)
                menu.append((name, _(command.help)))
        return menu


def _implied_language(names: dict[str, str], name: str) -> str | None:
    """The language a command name implies: None when every language spells it alike, else the
    first spoken language (registry order) that uses it (``objetivo`` -> es, ``objectif`` -> fr)."""
    if len(set(names.values())) == 1:
        return None
    return next((lang for lang in LANGUAGES if names.get(lang) == name), None)


def _merge(into: dict[str, Any], new: dict[str, Any], what: str) -> None:
    for name in new:
        if name in into:
            raise ValueError(f"{what} {name!r} declared twice")
    into.update(new)

