"""The reply markup subset: escaping user text in, plain text out."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)


def esc(text: object) -> str:
    """Escape user-provided text for the reply markup."""
    return html.escape(str(text), quote=True)


def bold(text: object) -> str:
    return f"<b>{esc(text)}</b>"


def link(url: str, label: str) -> str:
    return f'<a href="{esc(url)}">{esc(label)}</a>'


def plain(markup: str) -> str:
    """Plain text for consoles and Matrix ``body``: tags dropped, links kept as ``label (url)``."""

    def _link(m: re.Match[str]) -> str:
        url, label = m.group(1), m.group(2)
        return label if label == url else f"{label} ({url})"

    return html.unescape(_TAG.sub("", _LINK.sub(_link, markup)))
