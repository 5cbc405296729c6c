"""Who is who: admins (from configuration), secretaries of tables (appointed by admins with
``/secretary``), and how to name, address and speak to a person the bot has seen."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.basics import command_text, table_label
from handlers.context import Context
from handlers.errors import UserError
from handlers.i18n import N_, _, use_locale
from handlers.inputs import normalise_matrix_id
from handlers.knowledge import TABLE_CODES, fold, load_knowledge, parse_table_code
from handlers.markup import bold, esc
from handlers.message import Reply
from handlers.registry import Registry
from storage import audit, chats, roles

registry = Registry()

MAX_USER_ID = 255
"""Matrix user ids are at most 255 bytes (the spec); no platform id is longer."""
_USER_KEY = re.compile(r"^(?:(telegram):([0-9]{1,20})|(matrix):(@[^:\s]+:\S+)|(console):(\S{1,64}))$")
_MATRIX_ID = re.compile(r"^@[^:\s]+:\S+$")
_ACTION_WORDS = {
    "add": ("add", "agregar", "anadir", "asignar", "assign"),
    "remove": ("remove", "quitar", "eliminar", "borrar", "delete"),
    "list": ("list", "lista", "listar", "ver", "show"),
}
USERNAME_FRESH = timedelta(days=30)
"""A @username not confirmed by its owner's messages for longer names nobody for sure."""
_ACTIONS = {word: action for action, words in _ACTION_WORDS.items() for word in words}


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
    example = command_text(ctx, "secretary", f"{_('add')} WT2 {ctx.user}")
    return ctx.reply(esc(text).format(id=f"<code>{esc(ctx.user)}</code>", command=esc(example)))


@registry.command(
    "secretary",
    "secretaria",
    help=N_("Appoint or remove a table's secretary; list them"),
    args=N_("add|remove WT2 telegram:12345 or @user | list"),
    privileged=True,
)
async def secretary(ctx: Context) -> Reply | list[Reply]:
    await ctx.require_admin()
    words = ctx.args.split()
    action = _ACTIONS.get(fold(words[0])) if words else None
    if action is None:
        raise UserError(_usage(ctx))
    if action == "list":
        return await _list(ctx, words[1:])
    table, user_key = await _table_and_user(ctx, words[1:])
    return await _change(ctx, action, table, user_key)


def _usage(ctx: Context) -> str:
    return esc(
        _(
            "Examples: {add}, {remove}, {list}. A person is written as in BOT_ADMINS "
            "(telegram:12345, matrix:@ana:example.org) or as an @username I have seen."
        ).format(
            add=command_text(ctx, "secretary", _("add") + " WT2 telegram:12345"),
            remove=command_text(ctx, "secretary", _("remove") + " WT2 @ana"),
            list=command_text(ctx, "secretary", _("list")),
        )
    )


async def _table_and_user(ctx: Context, words: list[str]) -> tuple[str, str]:
    table = user = None
    for word in words:
        if ":" in word or word.startswith("@"):
            user = word
        else:
            table = parse_table_code(word) or table
            if table is None:
                raise UserError(
                    esc(
                        _("I don't know the table “{table}”. The tables are {tables}.").format(
                            table=word[:40], tables=", ".join(TABLE_CODES)
                        )
                    )
                )
    if table is None or user is None:
        raise UserError(_usage(ctx))
    return table, await resolve_user(ctx, user)


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


async def _list(ctx: Context, words: list[str]) -> Reply:
    wanted = [parse_table_code(w) for w in words]
    if None in wanted:
        raise UserError(
            esc(
                _("I don't know the table “{table}”. The tables are {tables}.").format(
                    table=words[wanted.index(None)][:40], tables=", ".join(TABLE_CODES)
                )
            )
        )
    lines = [bold(_("Secretaries of the tables")), ""]
    async with ctx.db.transaction() as session:
        for table in [t for t in wanted if t] or TABLE_CODES:
            people = [
                await _name_and_key(session, k) for k in sorted(await roles.secretaries(session, table))
            ]
            lines.append(
                f"<b>{esc(table)}</b>: " + (esc("; ".join(people)) if people else esc(_("none yet")))
            )
    return ctx.reply("\n".join(lines))
