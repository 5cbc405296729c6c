"""The reply markup subset: escaping user text in, plain text out, long replies split."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)


def esc(text: object) -> str:
    """Escape user-provided text for the reply markup."""
    return html.escape(_SURROGATE.sub("", str(text)), quote=True)


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


_PIECE = re.compile(r"<[^>]*>|&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z]+);|[^<&]|[<&]", re.S)
_OPEN_OR_CLOSE = re.compile(r"<(/?)([A-Za-z][\w-]*)[^>]*>")
_EMPTY_ELEMENT = re.compile(r"<([A-Za-z][\w-]*)[^>]*></\1>")
"""What a cut right after an opening tag (or right before a closing one) leaves."""


def visible_length(markup: str) -> int:
    """Length of the text shown for ``markup``, in UTF-16 units (Telegram's unit of count)."""
    return utf16_len(html.unescape(re.sub(r"<[^>]*>", "", markup)))


def split_html(markup: str, limit: int) -> list[str]:
    """Messages of at most ``limit`` visible characters, cut at a paragraph, else a line,
    else a space; never inside a tag or entity; tags open at a cut are closed and reopened."""
    parts: list[str] = []
    rest = markup.strip()
    while visible_length(rest) > limit:
        cut = _cut(rest, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        still_open = _open_tags(head)
        parts.append(head + "".join(f"</{name}>" for name, _tag in reversed(still_open)))
        rest = "".join(tag for _name, tag in still_open) + rest
    parts.append(rest)
    parts = [_EMPTY_ELEMENT.sub("", part) for part in parts]
    return [part for part in parts if visible_length(part.strip())]


def _cut(markup: str, limit: int) -> int:
    """Where to cut so the head shows at most ``limit`` characters."""
    best: dict[str, int] = {}
    shown = 0
    previous = ""
    for piece in _PIECE.finditer(markup):
        text = piece.group()
        if not text.startswith("<"):
            size = utf16_len(html.unescape(text))
            if shown + size > limit:
                break
            shown += size
            if text == "\n":
                best["paragraph" if previous == "\n" else "line"] = piece.end()
            elif text == " ":
                best["space"] = piece.end()
            previous = text
        best["any"] = piece.end()
    for kind in ("paragraph", "line", "space"):
        if best.get(kind, 0) > best["any"] // 2:
            return best[kind]
    return best["any"]


def _open_tags(markup: str) -> list[tuple[str, str]]:
    stack: list[tuple[str, str]] = []
    for match in _OPEN_OR_CLOSE.finditer(markup):
        name = match.group(2).lower()
        if not match.group(1):
            stack.append((name, match.group()))
        elif stack and stack[-1][0] == name:
            stack.pop()
    return stack


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
