"""Long lists shown a page at a time, with a button for the next page.

A page is asked for with a ``p2`` among a command's words (what the button sends, read by
:class:`handlers.arguments.Page`), so
every listing command pages the same way and a restart loses nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from handlers.i18n import _
from handlers.message import Button

T = TypeVar("T")

PAGE_SIZE = 25


def page_of(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[Sequence[T], int, int]:
    """The items of ``page`` (the last one if asked past it), that page's number and the count of pages."""
    pages = max(1, -(-len(items) // size))
    page = min(page, pages)
    return items[(page - 1) * size : page * size], page, pages


def page_line(page: int, pages: int) -> str:
    """``Page 2 of 5`` (plain text), or nothing for a list on one page."""
    return _("Page {page} of {pages}").format(page=page, pages=pages) if pages > 1 else ""


def more_button(command: str, page: int, pages: int) -> tuple[tuple[Button, ...], ...]:
    """A button for the next page: ``command`` (as the reader types it) with ``p<next>``."""
    if page >= pages:
        return ()
    label = _("More ({page} of {pages})").format(page=page + 1, pages=pages)
    return ((Button(label, f"{command} p{page + 1}"),),)
