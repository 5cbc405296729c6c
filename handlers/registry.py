"""Commands and dialogue flows, each declared once with its Spanish and English names; the
names in other languages come from ``handlers/data/commands.toml`` (:mod:`handlers.vocabulary`).

Feature modules create their own :class:`Registry` and the core composes them; ``/help``
is generated from what is declared here, never written by hand.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from handlers.i18n import LANGUAGES, _, normalize_language, use_locale
from handlers.knowledge import fold
from handlers.vocabulary import command_names

if TYPE_CHECKING:
    from handlers.message import Reply

Replies: TypeAlias = "Reply | list[Reply] | None"
Handler: TypeAlias = Callable[..., Awaitable[Any]]
"""``async def handler(ctx: Context) -> Replies``. Not spelled with ``Context``: the context
offers the command table (``ctx.commands``), which holds handlers, and naming it here would
make this module and :mod:`handlers.context` import each other."""
FlowHandler: TypeAlias = Callable[..., Awaitable[Any]]
"""``async def step(ctx: Context, state: State) -> Replies``."""


@dataclass(frozen=True)
class Command:
    en: str
    es: str
    help: str
    handler: Handler
    args: str = ""
    aliases: tuple[str, ...] = ()
    privileged: bool = False
    intent: str = "help"

    @property
    def names(self) -> dict[str, str]:
        """The command's name per language: English, Spanish and those of the data file."""
        return {"en": self.en, "es": self.es, **command_names(self.en)}

    def name(self, lang: str | None) -> str:
        return self.names.get(normalize_language(lang) or "en", self.en)


@dataclass
class Registry:
    commands: list[Command] = field(default_factory=list)
    flows: dict[str, FlowHandler] = field(default_factory=dict)
    intents: dict[str, Handler] = field(default_factory=dict)

    def command(
        self,
        en: str,
        es: str,
        *,
        help: str,
        args: str = "",
        aliases: Iterable[str] = (),
        privileged: bool = False,
        intent: str = "help",
    ) -> Callable[[Handler], Handler]:
        """Declare a command. ``help`` and ``args`` are message ids (mark them with ``N_``);
        ``intent`` is what ``gcmbot ask --json`` reports for it unless the reply says more."""

        def register(handler: Handler) -> Handler:
            self.commands.append(
                Command(en, es, help, handler, args, tuple(aliases), privileged, intent)
            )
            return handler

        return register

    def flow(self, name: str) -> Callable[[FlowHandler], FlowHandler]:
        """Declare the handler of a multi-step dialogue; it gets every non-command message."""

        def register(handler: FlowHandler) -> FlowHandler:
            self.flows[name] = handler
            return handler

        return register

    def intent(self, name: str) -> Callable[[Handler], Handler]:
        """Declare the answer to free text understood as ``name`` (see ``handlers.understanding``)."""

        def register(handler: Handler) -> Handler:
            self.intents[name] = handler
            return handler

        return register


class CommandTable:
    """All registries merged: lookup by any alias, the language an alias implies, suggestions."""

    def __init__(self, registries: Iterable[Registry]) -> None:
        self.commands: list[Command] = []
        self.flows: dict[str, FlowHandler] = {}
        self.intents: dict[str, Handler] = {}
        self._by_name: dict[str, tuple[Command, str | None]] = {}
        for registry in registries:
            _merge(self.flows, registry.flows, "flow")
            _merge(self.intents, registry.intents, "intent")
            for cmd in registry.commands:
                self.commands.append(cmd)
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
