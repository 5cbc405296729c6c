"""Meetings of the tables: secretaries plan, move and cancel them (:mod:`.organise`); everyone
sees the next ones and a calendar (:mod:`.public`). Planning their notices is :mod:`.planning`,
who may change them :mod:`.access`, how they read :mod:`.rendering`, the calendar file :mod:`.ical`."""

from __future__ import annotations

from handlers.agenda import meeting_title
from handlers.meetings import organise, public
from handlers.meetings.access import require_organiser
from handlers.meetings.planning import plan_meeting
from handlers.registry import Registry

__all__ = ["meeting_title", "plan_meeting", "registry", "require_organiser"]

registry = Registry(commands=[*organise.registry.commands, *public.registry.commands])
