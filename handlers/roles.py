"""Who is who: admins (from configuration), secretaries of tables (appointed by admins with
``/secretary``), and how to name, address and speak to a person the bot has seen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.basics import command_text, table_label
from handlers.context import Context
from handlers.errors import UserError
from handlers.i18n import N_, _, use_locale
from handlers.inputs import normalise_matrix_id
from handlers.arguments import Argument, TableRef
from handlers.knowledge import TABLE_CODES, load_knowledge
from handlers.markup import bold, esc
from handlers.message import Reply
from handlers.registry import Registry
from handlers.vocabulary import shown_word
from storage import audit, chats, roles

registry = Registry()

MAX_USER_ID = 255
"""Matrix user ids are at most 255 bytes (the spec); no platform id is longer."""
_USER_KEY = re.compile(r"^(?:(telegram):([0-9]{1,20})|(matrix):(@[^:\s]+:\S+)|(console):(\S{1,64}))$")
_MATRIX_ID = re.compile(r"^@[^:\s]+:\S+$")
USERNAME_FRESH = timedelta(days=30)
"""A @username not confirmed by its owner's messages for longer names nobody for sure."""


@dataclass(frozen=True, kw_only=True)
class Person(Argument):
    """A person as administrators write one: ``telegram:12345``, ``matrix:@ana:example.org``,
    ``@ana:example.org`` or an ``@username`` (who it is, is looked up by :func:`resolve_user`)."""

    name: str = "person"
    label: str = N_("person")
    anywhere: bool = True

    def accepts(self, token: str) -> bool:
        return ":" in token or token.startswith("@")


def _examples(ctx: Context) -> str:
    return _(
        "Examples: {add}, {remove}, {list}. A person is written as in BOT_ADMINS "
        "(telegram:12345, matrix:@ana:example.org) or as an @username I have seen."
    ).format(
        add=command_text(ctx, "secretary", shown_word("secretary", "add") + " WT2 telegram:12345"),
        remove=command_text(ctx, "secretary", shown_word("secretary", "remove") + " WT2 @ana"),
        list=command_text(ctx, "secretary", shown_word("secretary", "list")),
    )


async def require_privileged(ctx: Context) -> None:
    """Admins and secretaries (of any table) go on; anyone else is refused before anything is read."""
    await privileged_tables(ctx)


# people ----------------------------------------------------------------------


async def describe_user(session: AsyncSession, user_key: str) -> str:
    """How to name a person (plain text): ``Ana (@ana)``, else their platform id."""
    platform, _sep, user_id = user_key.partition(":")
    user = await chats.get_user(session, platform, user_id)
    if user is None:
        return user_key
    handle = f"@{user.username}" if user.username else None
    if user.name and handle:
        return f"{user.name} ({handle})"
    return user.name or handle or user_key


async def account_markup(session: AsyncSession, user_key: str) -> str:
    """A person where a display name could pass for someone else (a secretary's request card):
    the name quoted as said, their current @username, and the platform id no one can choose."""
    platform, _sep, user_id = user_key.partition(":")
    user = await chats.get_user(session, platform, user_id)
    parts = []
    if user is not None and user.name and user.name != user_id:
        parts.append(esc(f"“{user.name}”"))
    if user is not None and user.username and user.username.lstrip("@") != user_id.lstrip("@").lower():
        parts.append(esc(f"@{user.username}"))
    return " ".join([*parts, f"<code>{esc(user_key)}</code>"])


async def language_of(session: AsyncSession, user_key: str, default: str) -> str:
    """The language to write to a person in: their private chat's, else their app's, else ``default``."""
    platform, _sep, user_id = user_key.partition(":")
    user = await chats.get_user(session, platform, user_id)
    if user is None:
        return default
    if user.private_chat_id:
        chat = await chats.get_chat(session, platform, user.private_chat_id)
        if chat is not None and chat.language:
            return chat.language
    return user.language or default


async def privileged_tables(ctx: Context) -> set[str] | None:
    """The tables whose requests and members ``ctx.user`` may see: None = all (an admin).
    Anyone who is neither admin nor secretary is refused (and the refusal logged)."""
    if ctx.is_admin():
        return None
    tables = await ctx.secretary_tables()
    if not tables:
        await ctx.require_admin()
    return tables


# /secretary ------------------------------------------------------------------


@registry.command("id", "mi_id", help=N_("My platform id, as administrators write it"), aliases=("whoami",))
async def my_id(ctx: Context) -> Reply:
    """How a person learns what goes in ``BOT_ADMINS`` or ``/secretaria agregar`` for them."""
    text = _(
        "Your id is {id}. That is how an administrator names you in BOT_ADMINS or when appointing "
        "you secretary of a table ({command})."
    )
    example = command_text(ctx, "secretary", f"{shown_word('secretary', 'add')} WT2 {ctx.user}")
    return ctx.reply(esc(text).format(id=f"<code>{esc(ctx.user)}</code>", command=esc(example)))


secretary = registry.command(
    "secretary", "secretaria",
    help=N_("Appoint or remove a table's secretary; list them"),
    privileged=True,
    guard=Context.require_admin,
    note=_examples,
)  # fmt: skip


@secretary.sub("add", TableRef(greedy=False), Person(missing=_examples), help=N_("appoint a secretary of a table"))
async def appoint(ctx: Context, table: str, person: str) -> list[Reply]:
    return await _change(ctx, "add", table, await resolve_user(ctx, person))


@secretary.sub("remove", TableRef(greedy=False), Person(missing=_examples), help=N_("remove a secretary of a table"))
async def remove(ctx: Context, table: str, person: str) -> list[Reply]:
    return await _change(ctx, "remove", table, await resolve_user(ctx, person))


async def resolve_user(ctx: Context, written: str) -> str:
    """A platform key from ``telegram:12345``, ``matrix:@ana:example.org``, ``@ana:example.org``
    (Matrix) or an ``@username`` the bot has seen, currently, on one person only."""
    match = _USER_KEY.match(written) if len(written.encode()) <= MAX_USER_ID else None
    if match:
        platform, user_id = [g for g in match.groups() if g]
        return await _known_form(ctx, platform, user_id)
    if _MATRIX_ID.match(written) and len(written.encode()) <= MAX_USER_ID:
        return await _known_form(ctx, "matrix", written)
    if written.startswith("@") and ":" not in written:
        return await _by_username(ctx, written)
    raise UserError(
        esc(
            _(
                "“{user}” is not a person I can address: write telegram:12345, "
                "matrix:@ana:example.org or an @username."
            ).format(user=written[:60])
        )
    )


async def _known_form(ctx: Context, platform: str, user_id: str) -> str:
    """The key as stored: a Matrix id normalised, and matched without case against the people
    seen when its exact form is unknown (``@Alice:Example.org`` is the ``@alice:example.org`` seen)."""
    if platform != "matrix":
        return f"{platform}:{user_id}"
    user_id = normalise_matrix_id(user_id)
    async with ctx.db.transaction() as session:
        if await chats.get_user(session, platform, user_id) is None:
            same = await chats.find_user_by_username(session, user_id)
            ids = {u.user_id for u in same if u.platform == platform}
            if len(ids) == 1:
                user_id = ids.pop()
    return f"{platform}:{user_id}"


async def _by_username(ctx: Context, written: str) -> str:
    """The one person who has this @username now; refused when several or when last seen long ago
    (usernames change hands: the platform tells who has one only when that person writes)."""
    async with ctx.db.transaction() as session:
        seen = await chats.find_user_by_username(session, written)
    keys = list(dict.fromkeys(f"{u.platform}:{u.user_id}" for u in seen))
    if len(keys) > 1:
        raise UserError(
            esc(
                _("Several people are called {user}: write one of {keys}.").format(
                    user=written[:60], keys=", ".join(keys)
                )
            )
        )
    if keys:
        last_seen = seen[0].seen_at
        if ctx.clock.now() - last_seen > USERNAME_FRESH:
            raise UserError(
                esc(
                    _(
                        "{user} was {key} when I last saw them, {days} days ago, and usernames can change "
                        "hands: if it is still them, write {key}."
                    ).format(
                        user=written[:60], key=keys[0], days=(ctx.clock.now() - last_seen).days
                    )
                )
            )
        return keys[0]
    raise UserError(
        esc(
            _(
                "I have not seen {user} yet: ask them to write to me once, or write their id "
                "(telegram:12345, matrix:@ana:example.org)."
            ).format(user=written[:60])
        )
    )


async def is_known(ctx: Context, user_key: str) -> bool:
    """Whether the bot has seen this person (an id typed for someone it never saw is likely a typo)."""
    platform, _sep, user_id = user_key.partition(":")
    async with ctx.db.transaction() as session:
        return await chats.get_user(session, platform, user_id) is not None


async def _change(ctx: Context, action: str, table: str, user_key: str) -> list[Reply]:
    """Appoint (``add``) or remove a secretary; the person is told privately, in their language."""
    async with ctx.db.transaction() as session:
        if action == "add":
            changed = await roles.add_secretary(session, user_key, table, ctx.user)
        else:
            changed = await roles.remove_secretary(session, user_key, table)
        if changed:
            subject = f"{table} {user_key}"
            await audit.record(session, ctx.user, f"secretary.{action}", subject, at=ctx.clock.now())
            with use_locale(await language_of(session, user_key, ctx.config.default_language)):
                notice = _secretary_notice(ctx, action, table)
            about = {"what": "secretary", "table": table}
            await ctx.tell(session, user_key, notice, about=about, owner=ctx.user)
        name = await describe_user(session, user_key)
    label = table_label(load_knowledge().tables[table])
    if not changed:
        unchanged = (
            _("{user} already is secretary of {table}.")
            if action == "add"
            else _("{user} was not secretary of {table}.")
        )
        return [ctx.reply(esc(unchanged.format(user=name, table=label)))]
    done = (
        _("{user} is now secretary of {table}.")
        if action == "add"
        else _("{user} is no longer secretary of {table}.")
    )
    text = esc(done.format(user=name, table=label))
    if action == "add" and not await is_known(ctx, user_key):
        text += "\n" + esc(
            _(
                "Warning: I have never seen {user}. Check the id: I can only reach them once they write to me."
            ).format(user=user_key)
        )
    return [ctx.reply(text)]


def _secretary_notice(ctx: Context, action: str, table: str) -> str:
    label = table_label(load_knowledge().tables[table])
    if action == "remove":
        return esc(_("You are no longer secretary of {table}.").format(table=label))
    return esc(
        _(
            "You are now secretary of {table}: I will send you its membership requests. "
            "See {pending}, {members} and {export}."
        ).format(
            table=label,
            pending=command_text(ctx, "pending"),
            members=command_text(ctx, "members", table),
            export=command_text(ctx, "export", table),
        )
    )


async def _name_and_key(session: AsyncSession, user_key: str) -> str:
    name = await describe_user(session, user_key)
    return user_key if name == user_key else f"{name} · {user_key}"


@secretary.sub("list", TableRef(optional=True), help=N_("the secretaries of every table, or of one"))
async def secretaries(ctx: Context, table: str | None) -> Reply:
    lines = [bold(_("Secretaries of the tables")), ""]
    async with ctx.db.transaction() as session:
        for table in [table] if table else TABLE_CODES:
            people = [
                await _name_and_key(session, k) for k in sorted(await roles.secretaries(session, table))
            ]
            lines.append(
                f"<b>{esc(table)}</b>: " + (esc("; ".join(people)) if people else esc(_("none yet")))
            )
    return ctx.reply("\n".join(lines))
