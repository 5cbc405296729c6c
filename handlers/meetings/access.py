"""Who may organise meetings: secretaries of the meeting's table and administrators."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.errors import UserError
from handlers.i18n import _
from handlers.markup import esc
from storage.meetings import Meeting, get_meeting


async def require_organiser(ctx: Context) -> None:
    """Secretaries (of any table) and admins go on, to the table's own check; anyone else is
    refused before anything else, whatever they typed."""
    if not await ctx.secretary_tables():
        await ctx.require_admin()


async def editable(ctx: Context, session: AsyncSession, meeting_id: int) -> Meeting:
    """The meeting, if this person may change it and it can still change."""
    meeting = await get_meeting(session, meeting_id)
    if meeting is None:
        raise UserError(esc(_("There is no meeting #{id}.").format(id=meeting_id)))
    await ctx.require_secretary(meeting.table_code)
    if meeting.cancelled:
        raise UserError(esc(_("Meeting #{id} is cancelled.").format(id=meeting_id)))
    if meeting.starts_at <= ctx.clock.now():
        raise UserError(esc(_("Meeting #{id} has already started.").format(id=meeting_id)))
    return meeting
