"""Typed command arguments: declared once, they parse what members type, give handlers typed
keyword arguments, and write the usage line shown in ``/help`` and with every parse error.

A declaration is a tuple of :class:`Argument`; positional ones are read in order, flags and
options (``--quarterly``, ``--remind 3d,1h``) and pages (``p2``) wherever they are typed.
A value that does not parse is a :class:`ParseError`: its message, then the usage line of the
command (or sub-command), both in the chat's language.  Free text understood as a command's
intent fills the same keyword arguments through :meth:`Argument.understood`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any, TypeAlias

from handlers.dates import duration, looks_like_zone, parse_date, parse_duration, parse_time
from handlers.errors import UserError
from handlers.i18n import N_, _
from handlers.knowledge import fold, load_knowledge, parse_table_code
from handlers.languages import language_by_word
from handlers.markup import esc
from handlers.numbers import MAX_ID, parse_number
from handlers.understanding import Understanding, number_list
from handlers.vocabulary import accepted_words, answer_words, shown_word
from handlers.zones import parse_zone

Ctx: TypeAlias = Any
"""The :class:`handlers.context.Context` of the message being read. Not named: the context offers
the command table, which holds these declarations, and naming it would make the modules import
each other (``tests/test_architecture.py``)."""

Explain: TypeAlias = "str | Callable[[Ctx], str]"
"""A message id (marked with ``N_``), or a function of the context giving the plain text."""

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_FLAG = re.compile(r"^(?:--|—|–)(\w+)(?:=(.*))?$")
_PAGE = re.compile(r"^[pP]([0-9]{1,9})$")
_URL = re.compile(r"^https?://\S+$", re.I)


class ParseError(UserError):
    """What was typed does not fit the declaration; the usage line is added where it is known."""

    def __init__(self, text: str) -> None:
        super().__init__(esc(text))


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    """Where the token starts in the typed text (a raw argument takes the text from there)."""
    unclosed: bool = False


def tokenize(text: str) -> list[Token]:
    """Words, with "double-quoted" phrases (typographic quotes too) as one; apostrophes are text."""
    found: list[Token] = []
    for match in _TOKEN.finditer(text.translate(_QUOTES)):
        quoted, word = match.group(1), match.group(2)
        unclosed = word is not None and word.startswith('"') and (len(word) == 1 or '"' not in word[1:])
        found.append(Token(quoted if quoted is not None else word, match.start(), unclosed))
    return found


def explain(ctx: Ctx, message: Explain, **values: Any) -> str:
    """The plain text of a message declared as an id or as a function of the context."""
    if callable(message):
        return message(ctx)
    return _(message).format(**values) if values else _(message)


@dataclass(frozen=True, kw_only=True)
class Argument:
    """One argument: its keyword, its placeholder in the usage line, and how it is read.

    ``missing`` is said when a required argument is not given (by default, "Give the
    <label>."); an optional one not given takes ``default``."""

    name: str
    label: str
    optional: bool = False
    default: Any = None
    missing: Explain | None = None

    greedy: bool = False
    """Read every remaining word (the last positional argument only)."""
    anywhere: bool = False
    """Taken from wherever it is among the words: the first it :meth:`accepts` (a person's id)."""

    def accepts(self, token: str) -> bool:
        """Whether an optional argument takes this word (else it is left for the next one)."""
        return True

    def take(self, ctx: Ctx, tokens: Sequence[Token], typed: str, last: bool) -> tuple[Any, list[Token]]:
        """The value read from the start of ``tokens``, and the tokens left for the next arguments."""
        if self.greedy and last:
            return self.convert(ctx, " ".join(t.text for t in tokens)), []
        return self.convert(ctx, tokens[0].text), list(tokens[1:])

    def convert(self, ctx: Ctx, text: str) -> Any:
        return text

    def understood(self, understood: Understanding) -> Any:
        """This argument as free text understood as the command's intent gives it."""
        return self.default

    def placeholder(self) -> str:
        """The argument in the usage line, in the language being rendered."""
        label = _(self.label)
        return f"[{label}]" if self.optional else f"<{label}>"

    def absent(self, ctx: Ctx) -> str:
        if self.missing is not None:
            return explain(ctx, self.missing)
        return _("Give the {argument}.").format(argument=_(self.label))


@dataclass(frozen=True, kw_only=True)
class Text(Argument):
    """Free text: every remaining word; ``raw`` keeps it as typed (lines, spaces, quotes).
    Words for which ``stop`` is true (a link among a title's words) are left for the next argument."""

    label: str = N_("text")
    raw: bool = False
    stop: Callable[[str], bool] | None = None
    max_length: int | None = None
    too_long: Explain = N_("That is too long: at most {limit} characters, please.")
    unclosed: Explain | None = None
    """Said when a quotation mark is not closed; without it such a quote is taken as text."""

    def take(self, ctx: Ctx, tokens: Sequence[Token], typed: str, last: bool) -> tuple[Any, list[Token]]:
        if self.raw:
            text = typed[tokens[0].start :].strip()
            left: list[Token] = []
        else:
            stop = self.stop or (lambda word: False)
            left = [t for t in tokens if stop(t.text)]
            mine = [t for t in tokens if not stop(t.text)]
            if self.unclosed is not None and any(t.unclosed for t in mine):
                raise ParseError(explain(ctx, self.unclosed))
            text = " ".join(t.text for t in mine).strip()
        if self.max_length is not None and len(text) > self.max_length:
            raise ParseError(explain(ctx, self.too_long, limit=self.max_length, length=len(text)))
        return text or self.default, left


@dataclass(frozen=True, kw_only=True)
class Number(Argument):
    """A whole number in ``low..high`` (:func:`handlers.numbers.parse_number`); ``#12`` is 12."""

    label: str = N_("N")
    low: int = 0
    high: int = MAX_ID
    invalid: Explain | None = None

    def accepts(self, token: str) -> bool:
        return parse_number(token.lstrip("#"), self.low, self.high) is not None

    def convert(self, ctx: Ctx, text: str) -> int:
        number = parse_number(text.lstrip("#"), self.low, self.high)
        if number is None:
            raise ParseError(explain(ctx, self.invalid or self.missing or N_("“{text}” is not a number I can use."), text=text[:20]))
        return number

    def placeholder(self) -> str:
        label = _(self.label)
        return f"[{label}]" if self.optional else label


@dataclass(frozen=True, kw_only=True)
class Numbers(Number):
    """Every remaining word as a whole number in ``low..high`` (``7 14``)."""

    def take(self, ctx: Ctx, tokens: Sequence[Token], typed: str, last: bool) -> tuple[Any, list[Token]]:
        return [self.convert(ctx, t.text) for t in tokens], []

    def placeholder(self) -> str:
        label = _(self.label)
        return f"[{label} …]" if self.optional else f"{label} …"


def Id(name: str = "id", **options: Any) -> Number:
    """The number of a stored row (a meeting, a request, a pledge), as listings show it."""
    return Number(name=name, low=1, **options)


@dataclass(frozen=True, kw_only=True)
class TableRef(Argument):
    """A table: ``WT2``, ``2``, ``mesa 2``, ``LT``, ``enlace``… -> its code (``WT2``).

    As the last positional argument it reads every remaining word ("mesa de trabajo 2")."""

    name: str = "table"
    label: str = N_("table")
    greedy: bool = True

    def accepts(self, token: str) -> bool:
        return parse_table_code(token) is not None

    def convert(self, ctx: Ctx, text: str) -> str:
        return read_table(text)

    def understood(self, understood: Understanding) -> Any:
        return understood.tables[0] if understood.tables else self.default


def read_table(text: str) -> str:
    """A table's code from what a member typed, or a :class:`ParseError` listing the tables."""
    code = parse_table_code(text) if text.strip() else None
    if code is None or code not in load_knowledge().tables:
        raise ParseError(_(
            "I don't know the table “{table}”. The tables are WT1, WT2, WT3, WT4, LT (liaison) and TT (technical)."
        ).format(table=text.strip()[:40]))
    return code


@dataclass(frozen=True, kw_only=True)
class Date(Argument):
    name: str = "day"
    label: str = N_("date")

    def accepts(self, token: str) -> bool:
        return token[:1].isdigit()

    def convert(self, ctx: Ctx, text: str) -> date:
        return parse_date(text)


@dataclass(frozen=True, kw_only=True)
class Time(Argument):
    name: str = "at"
    label: str = N_("time")

    def convert(self, ctx: Ctx, text: str) -> time:
        return parse_time(text)


@dataclass(frozen=True, kw_only=True)
class Zone(Argument):
    """A time zone (``America/Bogota``, ``UTC``); optional ones take only what looks like one."""

    name: str = "zone"
    label: str = N_("zone")

    def accepts(self, token: str) -> bool:
        return looks_like_zone(token) and not _URL.match(token) and " " not in token

    def convert(self, ctx: Ctx, text: str) -> str:
        return parse_zone(text)


@dataclass(frozen=True, kw_only=True)
class Url(Argument):
    name: str = "url"
    label: str = N_("link")
    max_length: int = 500

    def accepts(self, token: str) -> bool:
        return is_url(token)

    def convert(self, ctx: Ctx, text: str) -> str:
        if not is_url(text):
            raise ParseError(_("“{text}” is not a link: it starts with https://").format(text=text[:40]))
        if len(text) > self.max_length:
            raise ParseError(_("The link is too long (at most {count} characters).").format(count=self.max_length))
        return text


def is_url(text: str) -> bool:
    return bool(_URL.match(text))


@dataclass(frozen=True, kw_only=True)
class Durations(Argument):
    """Reminder offsets: ``3d,2h``, ``3d 2h`` or ``none`` -> seconds, largest first."""

    name: str = "offsets"
    label: str = "7d,1d,1h"
    most: int = 6
    longest: timedelta = timedelta(days=60)

    def accepts(self, token: str) -> bool:
        return fold(token) in _none_words() or all(duration(part) for part in token.split(",") if part)

    def take(self, ctx: Ctx, tokens: Sequence[Token], typed: str, last: bool) -> tuple[Any, list[Token]]:
        used = 1
        while used < len(tokens) and self.accepts(tokens[used].text):
            used += 1
        return self.offsets([t.text for t in tokens[:used]]), list(tokens[used:])

    def offsets(self, values: list[str]) -> list[int]:
        parts = [p for value in values for p in value.split(",") if p.strip()]
        if len(parts) == 1 and fold(parts[0]) in _none_words():
            return []
        if not parts:
            raise ParseError(_("Which reminders? For example: 7d 1d 1h (days, hours or minutes before)."))
        offsets = sorted({int(parse_duration(p).total_seconds()) for p in parts}, reverse=True)
        if len(offsets) > self.most or offsets[0] > self.longest.total_seconds():
            raise ParseError(_("At most {count} reminders, each at most {days} days before the meeting.").format(
                count=self.most, days=self.longest.days
            ))
        return offsets

    def placeholder(self) -> str:
        return f"[{self.label}]" if self.optional else self.label

    def absent(self, ctx: Ctx) -> str:
        if self.missing is not None:
            return explain(ctx, self.missing)
        return _("Which reminders? For example: 7d 1d 1h (days, hours or minutes before).")


def _none_words() -> frozenset[str]:
    return answer_words("none")


@dataclass(frozen=True, kw_only=True)
class Word(Argument):
    """One of a few words of the data file's ``[words.<group>]`` (any language's) -> its key."""

    group: str
    keys: tuple[str, ...]

    def accepts(self, token: str) -> bool:
        return self._key(token) is not None

    def convert(self, ctx: Ctx, text: str) -> str:
        key = self._key(text)
        if key is None:
            raise ParseError(_("“{text}” is not one of: {choices}.").format(
                text=text[:20], choices=", ".join(shown_word(self.group, k) for k in self.keys)
            ))
        return key

    def _key(self, token: str) -> str | None:
        key = accepted_words(self.group).get(fold(token))
        return key if key in self.keys else None

    def placeholder(self) -> str:
        shown = "|".join(shown_word(self.group, k) for k in self.keys)
        return f"[{shown}]" if self.optional else shown


@dataclass(frozen=True, kw_only=True)
class Flag(Argument):
    """``--word`` anywhere among the words (any language's word of the group): True if given."""

    group: str
    label: str = ""
    optional: bool = True
    default: Any = False

    def placeholder(self) -> str:
        return f"[--{shown_word(self.group, self.name)}]"


@dataclass(frozen=True, kw_only=True)
class Option(Argument):
    """``--word value`` (or ``--word=value``) anywhere among the words; ``value`` is an argument."""

    group: str
    value: Argument
    label: str = ""
    optional: bool = True

    def placeholder(self) -> str:
        return f"[--{shown_word(self.group, self.name)} {self.value.placeholder().strip('[]<>')}]"


@dataclass(frozen=True, kw_only=True)
class Page(Argument):
    """``p2`` anywhere among the words (what a "More" button sends): the page asked for."""

    name: str = "page"
    label: str = "p2"
    optional: bool = True
    default: Any = 1

    def placeholder(self) -> str:
        return ""


@dataclass(frozen=True, kw_only=True)
class Objectives(Argument):
    """Objective numbers (``10``, ``#10``, ``10 y 13``, ``ten and 13``) -> a tuple of them; any
    other words are a topic, returned as typed (the handler finds its objective)."""

    name: str = "objectives"
    label: str = N_("N")
    greedy: bool = True

    def convert(self, ctx: Ctx, text: str) -> tuple[int, ...] | str:
        numbers = number_list(text.strip().lstrip("#"))
        return tuple(numbers) if numbers else text.strip()

    def placeholder(self) -> str:
        return f"[{_(self.label)}]" if self.optional else _(self.label)


@dataclass(frozen=True, kw_only=True)
class LanguageName(Argument):
    """A spoken language as members name it (``pt``, ``português``, ``francés``) -> its code."""

    name: str = "language"
    label: str = N_("language")
    greedy: bool = True
    invalid: Explain = N_("I don't speak “{text}”.")

    def convert(self, ctx: Ctx, text: str) -> str:
        code = language_by_word(text)
        if code is None:
            raise ParseError(explain(ctx, self.invalid, text=text[:20]))
        return code


# reading a declaration -----------------------------------------------------------


def parse(ctx: Ctx, arguments: Sequence[Argument], typed: str) -> dict[str, Any]:
    """The keyword arguments a declaration reads from ``typed``; a :class:`ParseError` (or the
    :class:`UserError` of a value's own check) when it does not fit."""
    tokens = tokenize(typed)
    values: dict[str, Any] = {}
    named = [a for a in arguments if isinstance(a, (Flag, Option))]
    pages = [a for a in arguments if isinstance(a, Page)]
    positional = [a for a in arguments if not isinstance(a, (Flag, Option, Page))]
    for argument in [*named, *pages]:
        values[argument.name] = argument.default
    rest: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        flag = _FLAG.match(token.text) if named else None
        page = _PAGE.match(token.text) if pages else None
        if page is not None:
            values[pages[0].name] = max(1, int(page.group(1)))
            continue
        if flag is None:
            rest.append(token)
            continue
        word, value = fold(flag.group(1)), flag.group(2)
        argument = next((a for a in named if accepted_words(a.group).get(word) == a.name), None)
        if argument is None:
            raise ParseError(_("I don't know the option {option}. The options are {options}.").format(
                option=token.text, options=" ".join(a.placeholder().strip("[]") for a in named)
            ))
        if isinstance(argument, Flag):
            values[argument.name] = True
            continue
        assert isinstance(argument, Option)
        given = [Token(value, token.start)] if value else []
        given += tokens[index:]
        if not given:
            raise ParseError(argument.value.absent(ctx))
        values[argument.name], left = argument.value.take(ctx, given, typed, last=False)
        index = len(tokens) - len(left)
    for argument in [a for a in positional if a.anywhere]:
        found = next((t for t in rest if argument.accepts(t.text)), None)
        if found is None and not argument.optional:
            raise ParseError(argument.absent(ctx))
        values[argument.name] = argument.convert(ctx, found.text) if found else argument.default
        rest = [t for t in rest if t is not found]
    positional = [a for a in positional if not a.anywhere]
    for number, argument in enumerate(positional):
        last = number == len(positional) - 1
        if not rest or (argument.optional and not last and not argument.accepts(rest[0].text)):
            if not argument.optional:
                raise ParseError(argument.absent(ctx))
            values[argument.name] = argument.default
            continue
        values[argument.name], rest = argument.take(ctx, rest, typed, last)
    if rest:
        raise ParseError(_("I did not expect “{text}” there.").format(text=" ".join(t.text for t in rest)[:40]))
    return values


def usage_of(arguments: Sequence[Argument]) -> str:
    """The placeholders of a declaration, in the language being rendered (plain text)."""
    return " ".join(p for p in (a.placeholder() for a in arguments) if p)
