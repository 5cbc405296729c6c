"""Requests to join Working Tables and their decisions.

A request is a pending membership; its id is the number secretaries approve or reject.
Each goes to the table's secretaries privately (the admins when the table has none); the
outcome goes to the organisation's contact in the language of the registration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.basics import command_text, table_label
from handlers.context import Context, State
from handlers.dates import format_day
from handlers.errors import UserError
from handlers.i18n import N_, _, ngettext, use_locale
from handlers.knowledge import WORKING_TABLES, load_knowledge
from handlers.markup import bold, esc
from handlers.members import (
    membership_status,
    organisation_details,
    organisation_line,
    own_organisation,
    WorkingTables,
    table_choice,
)
from handlers.message import Button, Reply
from handlers.arguments import Id, Page, Text
from handlers.pages import more_button, page_line, page_of
from handlers.registry import Registry
from handlers.roles import account_markup, describe_user, language_of, privileged_tables, require_privileged
from storage import audit, organisations, roles
from storage.organisations import APPROVED, LEFT, PENDING, REJECTED, Membership

registry = Registry()

REASON_FLOW = "rejection_reason"
MAX_REASON = 500
_SHOWN_WITH_BUTTONS = 10


# notifying secretaries -------------------------------------------------------


async def notify_requests(ctx: Context, session: AsyncSession, requests: Iterable[Membership]) -> list[str]:
    """Plan a card with Approve / Reject for each secretary of each request's table, in their
    language; the admins get it for a table without secretary, and those tables are returned.
    In the transaction that made the requests, so they and their cards commit together."""
    unattended: list[str] = []
    default = ctx.config.default_language
    for request in requests:
        readers = await roles.secretaries(session, request.table_code)
        if not readers:
            unattended.append(request.table_code)
            readers = sorted(ctx.config.admins)
        contact = request.organisation.contact_user
        account = await account_markup(session, contact) if contact else ""
        for reader in readers:
            with use_locale(await language_of(session, reader, default)):
                await ctx.tell(
                    session,
                    reader,
                    request_card(ctx, request, account),
                    buttons=decision_buttons(ctx, request.id),
                    about={"what": "request", "id": request.id},
                    owner=None,
                )
    return unattended


def request_card(ctx: Context, request: Membership, account: str) -> str:
    organisation = request.organisation
    table = load_knowledge().tables[request.table_code]
    lines = [
        bold(
            _("Request #{id}: {organisation} asks to join {table}").format(
                id=request.id, organisation=organisation.name, table=table_label(table)
            )
        ),
        *organisation_details(organisation, account),
    ]
    others = [m for m in organisation.memberships if m.table_code != request.table_code]
    lines += [f"• {membership_status(ctx, m)}" for m in others]
    return "\n".join(lines)


def decision_buttons(ctx: Context, request_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(_("Approve #{id}").format(id=request_id), command_text(ctx, "approve", str(request_id))),
            Button(_("Reject #{id}").format(id=request_id), command_text(ctx, "reject", str(request_id))),
        ),
    )


def unattended_note(ctx: Context, tables: list[str]) -> str:
    """What happens to requests for tables without a secretary: the administrators got them,
    or, with none configured, they wait until someone is named."""
    if not tables:
        return ""
    if ctx.config.admins:
        text = _("There is no secretary yet for {tables}: the administrators were told and will answer.")
    else:
        text = _(
            "There is no secretary yet for {tables}, and no administrator to tell: the request "
            "waits until a secretary is named."
        )
    return esc(text.format(tables=", ".join(tables)))


# deciding --------------------------------------------------------------------

_ACTIONS = {APPROVED: "approve", REJECTED: "reject"}


def _which_request(english_command: str) -> Callable[[Context], str]:
    def which(ctx: Context) -> str:
        return _("Which request? For example {command}; {pending} lists them.").format(
            command=command_text(ctx, english_command, "12"), pending=command_text(ctx, "pending")
        )

    return which


@registry.command(
    "approve", "aprobar", Id(missing=_which_request("approve")),
    help=N_("Approve a request to join a table"), privileged=True, guard=require_privileged,
)  # fmt: skip
async def approve(ctx: Context, id: int) -> list[Reply]:
    return await _decide(ctx, await _allowed_request(ctx, id), APPROVED, None)


@registry.command(
    "reject", "rechazar", Id(missing=_which_request("reject")), Text(name="reason", label=N_("reason"), optional=True, raw=True),
    help=N_("Reject a request to join a table"), privileged=True, guard=require_privileged,
)  # fmt: skip
async def reject(ctx: Context, id: int, reason: str | None) -> Reply | list[Reply]:
    request = await _allowed_request(ctx, id)
    reason = reason or ""
    if reason or not ctx.message.private or request.status != PENDING:
        return await _decide(ctx, request, REJECTED, _reason(reason))
    await ctx.save_state(State(REASON_FLOW, "reason", {"request": request.id, "lang": ctx.lang}))
    text = _(
        "Why is {organisation} not accepted in {table}? Your answer is sent to them. "
        "Write the reason, or “-” for none."
    ).format(organisation=request.organisation.name, table=request.table_code)
    none = Button(_("Reject without a reason"), command_text(ctx, "reject", f"{request.id} -"))
    return ctx.reply(esc(text), buttons=((none,),))


@registry.flow(REASON_FLOW)
async def rejection_reason(ctx: Context, state: State) -> list[Reply]:
    text = ctx.message.text
    if not text:
        raise UserError(esc(_("Write the reason, or “-” for none.")))
    if len(text) > MAX_REASON:
        raise UserError(esc(_("That is too long: at most {n} characters, please.").format(n=MAX_REASON)))
    await ctx.end_state()
    return await _decide(ctx, await _allowed_request(ctx, state.data["request"]), REJECTED, _reason(text))


def _reason(text: str) -> str | None:
    return None if text.strip() in ("", "-") else text.strip()[:MAX_REASON]




async def _allowed_request(ctx: Context, request_id: int) -> Membership:
    """The request, once the sender is known to be allowed to decide it (checked every time)."""
    async with ctx.db.transaction() as session:
        request = await organisations.get_membership(session, request_id)
    if request is None:
        raise UserError(esc(_("There is no request #{id}.").format(id=request_id)))
    await ctx.require_secretary(request.table_code)
    return request


async def _decide(ctx: Context, request: Membership, status: str, reason: str | None) -> list[Reply]:
    """Decide once: whoever comes second is told who decided first."""
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        won = await organisations.decide(session, request.id, status, ctx.user, now, reason)
        decided = await organisations.get_membership(session, request.id)
        assert decided is not None
        organisation = decided.organisation
        if won:
            subject = f"#{decided.id} {decided.table_code} {organisation.name}"
            await audit.record(session, ctx.user, _ACTIONS[status], subject, reason or "", at=now)
            if organisation.contact_user:
                with use_locale(organisation.language or ctx.config.default_language):
                    outcome = outcome_text(ctx, decided)
                about = {"what": "decision", "id": decided.id}
                await ctx.tell(session, organisation.contact_user, outcome, about=about, owner=ctx.user)
        decider = await describe_user(session, decided.decided_by) if decided.decided_by else ""
    if not won:
        return [ctx.reply(already_decided(ctx, decided, decider))]
    done = (
        _("Approved: {organisation} is now a member of {table}.")
        if status == APPROVED
        else _("Rejected: {organisation} was told.")
    )
    return [ctx.reply(esc(done.format(organisation=organisation.name, table=decided.table_code)))]


def already_decided(ctx: Context, request: Membership, decider: str) -> str:
    when = format_day(request.decided_at, ctx.timezone) if request.decided_at else ""
    text = {
        APPROVED: _("Request #{id} was already approved by {who} on {date}."),
        REJECTED: _("Request #{id} was already rejected by {who} on {date}."),
        LEFT: _("Request #{id} was withdrawn by the organisation."),
        PENDING: _("Request #{id} is still pending."),
    }[request.status]
    return esc(text.format(id=request.id, who=decider, date=when))


def outcome_text(ctx: Context, request: Membership) -> str:
    """What the organisation's contact is told, in the current locale (theirs)."""
    organisation = request.organisation
    table = table_label(load_knowledge().tables[request.table_code])
    if request.status == APPROVED:
        return esc(
            _(
                "Welcome! {organisation} is now a member of {table}. Its secretaries will write to you "
                "about the meetings. Your record: {command}."
            ).format(organisation=organisation.name, table=table, command=command_text(ctx, "organisation"))
        )
    text = _("The request of {organisation} to join {table} was not accepted.").format(
        organisation=organisation.name, table=table
    )
    if request.reason:
        text += "\n" + _("Reason: {reason}").format(reason=request.reason)
    return esc(text)


# listing ---------------------------------------------------------------------


@registry.command(
    "pending", "pendientes", Page(), help=N_("Requests waiting for a decision"), privileged=True, guard=require_privileged
)
async def pending(ctx: Context, page: int) -> Reply:
    tables = await privileged_tables(ctx)
    number = page
    async with ctx.db.transaction() as session:
        requests = await organisations.pending_requests(session, tables)
    if not requests:
        return ctx.reply(esc(_("No requests are waiting.")))
    shown, number, pages = page_of(requests, number)
    lines = [
        bold(ngettext("{n} request waiting", "{n} requests waiting", len(requests)).format(n=len(requests))),
        esc(page_line(number, pages)),
    ]
    lines += [
        f"#{r.id} · {esc(r.table_code)} · {organisation_line(r.organisation)} · {esc(format_day(r.requested_at, ctx.timezone))}"
        for r in shown
    ]
    lines += [
        "",
        esc(
            _("Approve with {approve}, reject with {reject}.").format(
                approve=command_text(ctx, "approve", "N"), reject=command_text(ctx, "reject", _("N reason"))
            )
        ),
    ]
    buttons = tuple(row for r in shown[:_SHOWN_WITH_BUTTONS] for row in decision_buttons(ctx, r.id))
    buttons += more_button(command_text(ctx, "pending"), number, pages)
    return ctx.reply("\n".join(lines), buttons=buttons)


# joining and leaving ---------------------------------------------------------


@registry.command(
    "join", "unirse", WorkingTables(optional=True), help=N_("Ask for my organisation to join another table")
)
async def join(ctx: Context, tables: Sequence[str]) -> list[Reply]:
    own = await own_organisation(ctx)
    joined = set(own.tables(APPROVED, PENDING))
    if not tables:
        return [table_choice(ctx, "join", [code for code in WORKING_TABLES if code not in joined])]
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        organisation = await organisations.organisation_of(session, ctx.user)
        assert organisation is not None
        new = [
            request
            for table in tables
            if (
                request := await organisations.request_membership(session, organisation, table, ctx.user, now)
            )
        ]
        if new:
            await audit.record(
                session, ctx.user, "join", organisation.name, " ".join(r.table_code for r in new), at=now
            )
        unattended = await notify_requests(ctx, session, new)
    already = [t for t in tables if t in joined]
    lines = (
        [
            esc(
                _("{organisation} already is in (or asked to join) {tables}.").format(
                    organisation=own.name, tables=", ".join(already)
                )
            )
        ]
        if already
        else []
    )
    if new:
        lines.append(
            esc(
                _("Request sent to the secretaries: {requests}. I will tell you their answer.").format(
                    requests=", ".join(f"#{r.id} ({r.table_code})" for r in new)
                )
            )
        )
    lines += [unattended_note(ctx, unattended)] if unattended else []
    return [ctx.reply("\n".join(lines))]


@registry.command("leave", "salir", WorkingTables(optional=True), help=N_("Take my organisation out of a table"))
async def leave(ctx: Context, tables: Sequence[str]) -> list[Reply]:
    own = await own_organisation(ctx)
    current = set(own.tables(APPROVED, PENDING))
    if not tables:
        return [table_choice(ctx, "leave", sorted(current))]
    outside = [t for t in tables if t not in current]
    if outside:
        raise UserError(
            esc(
                _("{organisation} is not in {tables}.").format(
                    organisation=own.name, tables=", ".join(outside)
                )
            )
        )
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        organisation = await organisations.organisation_of(session, ctx.user)
        assert organisation is not None
        for membership in organisation.memberships:
            if membership.table_code in tables:
                await organisations.leave(session, membership, now)
        await audit.record(session, ctx.user, "leave", organisation.name, " ".join(tables), at=now)
        for table in tables:
            for reader in await roles.secretaries(session, table):
                with use_locale(await language_of(session, reader, ctx.config.default_language)):
                    text = esc(_("{organisation} left {table}.").format(organisation=own.name, table=table))
                about = {"what": "left", "organisation": own.name, "table": table}
                await ctx.tell(session, reader, text, about=about, owner=None)
    done = ctx.reply(
        esc(_("Done: {organisation} left {tables}.").format(organisation=own.name, tables=", ".join(tables)))
    )
    return [done]
