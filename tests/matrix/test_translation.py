"""Events in and content out, on nio's own event and room objects (no homeserver needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nio import MatrixRoom, RoomMessageText

from bot.adapters.matrix_events import Me, incoming, strip_mentions, strip_reply_fallback
from bot.adapters.matrix_queues import Checkpoints
from bot.adapters.matrix_render import MAX_CONTENT_BYTES, bang_commands, html_lines, notices
from bot.adapters.matrix_rooms import invitation_allowed, room_creators
from handlers.message import Button, Reply

pytestmark = [pytest.mark.slow, pytest.mark.synapse]

BOT = "@gcmbot:un.org"
ME = Me(BOT, ("GCM Bot",))
OURS = {"objetivo", "objective", "mesa", "help", "ayuda"}


def is_ours(name: str) -> bool:
    return name.lower() in OURS


def room(members: int) -> MatrixRoom:
    matrix_room = MatrixRoom("!room:un.org", BOT)
    matrix_room.add_member(BOT, "GCM Bot", None)
    for n in range(members - 1):
        matrix_room.add_member(f"@member{n}:example.org", f"Member {n}", None)
    return matrix_room


def event(body: str, sender: str = "@member0:example.org", **content: Any) -> RoomMessageText:
    parsed = RoomMessageText.from_dict(
        {
            "type": "m.room.message",
            "event_id": "$question",
            "sender": sender,
            "origin_server_ts": 1,
            "content": {"msgtype": "m.text", "body": body, **content},
        }
    )
    assert isinstance(parsed, RoomMessageText)
    return parsed


def test_group_commands_are_ours_and_chatter_is_not() -> None:
    group = room(3)
    message = incoming(event("!objetivo 10"), group, ME, is_ours)
    assert message is not None
    assert (message.text, message.private, message.message_id) == ("!objetivo 10", False, "$question")
    assert message.chat.chat_id == "!room:un.org" and message.sender.key == "matrix:@member0:example.org"
    assert incoming(event("hola a todos"), group, ME, is_ours) is None
    assert incoming(event("!ban @spam:example.org"), group, ME, is_ours) is None


def test_a_group_message_says_whether_its_sender_may_change_the_room_settings() -> None:
    group = room(3)
    group.power_levels.events["m.room.name"] = 50
    group.power_levels.users["@member1:example.org"] = 50
    member = incoming(event("!mesa 2"), group, ME, is_ours)
    assert member is not None and member.chat_admin is False
    moderator = incoming(event("!mesa 2", sender="@member1:example.org"), group, ME, is_ours)
    assert moderator is not None and moderator.chat_admin is True


def test_room_creators_outrank_the_power_levels() -> None:
    """From room version 12 the creators are not listed in ``m.room.power_levels``."""
    state = [
        {"type": "m.room.create", "sender": "@ana:example.org", "content": {"additional_creators": ["@bea:example.org"]}},
        {"type": "m.room.name", "sender": "@eve:example.org", "content": {"name": "x"}},
    ]
    assert room_creators(state) == {"@ana:example.org", "@bea:example.org"}
    assert room_creators([{"type": "m.room.create", "sender": "@old:example.org", "content": {"creator": "@old:example.org"}}]) == {"@old:example.org"}


def test_direct_rooms_take_everything() -> None:
    message = incoming(event("hola"), room(2), ME, is_ours)
    assert message is not None and message.private and message.text == "hola"


@pytest.mark.parametrize(
    ("body", "content"),
    [
        (
            "GCM Bot: ¿qué es el objetivo 10?",
            {
                "format": "org.matrix.custom.html",
                "formatted_body": (
                    '<a href="https://matrix.to/#/%40gcmbot%3Aun.org">GCM Bot</a>: ¿qué es el objetivo 10?'
                ),
            },
        ),
        ("¿qué es el objetivo 10?", {"m.mentions": {"user_ids": [BOT]}}),
        ("@gcmbot:un.org ¿qué es el objetivo 10?", {}),
        ("gcm bot, ¿qué es el objetivo 10?", {}),
    ],
)
def test_mentions_are_recognised_and_removed(body: str, content: dict[str, Any]) -> None:
    message = incoming(event(body, **content), room(3), ME, is_ours)
    assert message is not None and message.text == "¿qué es el objetivo 10?"


def test_own_messages_and_edits_are_dropped() -> None:
    own = event("!objetivo 1")
    own.sender = BOT
    assert incoming(own, room(2), ME, is_ours) is None
    edit = event("* !objetivo 2", **{"m.relates_to": {"rel_type": "m.replace", "event_id": "$old"}})
    assert incoming(edit, room(2), ME, is_ours) is None


def test_a_reply_to_the_bot_is_addressed_to_it_without_the_quote() -> None:
    me = Me(BOT, ("GCM Bot",), sent={"$answer"})
    reply = event(
        "> <@gcmbot:un.org> Objetivo 10\n\n¿y el 11?", **{"m.relates_to": {"m.in_reply_to": {"event_id": "$answer"}}}
    )
    message = incoming(reply, room(3), me, is_ours)
    assert message is not None and message.text == "¿y el 11?"
    assert strip_reply_fallback("> quoted only") == "> quoted only"
    assert strip_mentions("hola GCM Bot, ¿y el 11?", ["GCM Bot"]) == "hola ¿y el 11?"


def test_a_thread_message_after_the_bot_s_answer_is_not_a_reply_to_it() -> None:
    me = Me(BOT, ("GCM Bot",), sent={"$answer"})
    chatter = event(
        "gracias",
        **{
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": "$root",
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": "$answer"},
            }
        },
    )
    assert incoming(chatter, room(3), me, is_ours) is None


def test_the_bot_quoted_in_a_reply_between_members_is_not_a_mention() -> None:
    reply = event(
        "> <@member1:example.org> GCM Bot said objective 10\n\nthanks!",
        format="org.matrix.custom.html",
        formatted_body=(
            '<mx-reply><blockquote><a href="https://matrix.to/#/@gcmbot:un.org">GCM Bot</a> said objective 10'
            "</blockquote></mx-reply>thanks!"
        ),
        **{"m.relates_to": {"m.in_reply_to": {"event_id": "$someone_else"}}},
    )
    assert incoming(reply, room(3), ME, is_ours) is None


def test_commands_are_written_with_an_exclamation_mark_where_they_are_ours() -> None:
    markup = '/objetivo 10 <code>/mesa WT2</code> (/help) <a href="https://t.me/x/objetivo">x</a> </b> /unknown'
    assert bang_commands(markup, is_ours) == (
        '!objetivo 10 <code>!mesa WT2</code> (!help) <a href="https://t.me/x/objetivo">x</a> </b> /unknown'
    )


def test_notice_content() -> None:
    reply = Reply(
        "<b>Objetivo 10</b>\nVer <pre>a\nb</pre>",
        buttons=((Button("WT2 · Mesa 2", "/mesa WT2"), Button("10", "10")),),
    )
    content = notices(reply, is_ours, in_reply_to="$question", mention="@member0:example.org")[0]
    assert content["msgtype"] == "m.notice"
    assert content["body"] == "Objetivo 10\nVer a\nb\n\n!mesa WT2 — WT2 · Mesa 2\n10"
    assert content["formatted_body"] == (
        "<b>Objetivo 10</b><br>Ver <pre>a\nb</pre><br><br><code>!mesa WT2</code> — WT2 · Mesa 2<br><code>10</code>"
    )
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$question"}}
    assert content["m.mentions"] == {"user_ids": ["@member0:example.org"]}
    assert html_lines("a\nb") == "a<br>b"


@pytest.mark.parametrize(
    "line",
    ["• Red de apoyo migrante &amp; asociados (WT2)", "<b>😀 Организация</b> «𝒳» &lt;x&gt;", "x" * 300],
)
def test_a_long_reply_is_split_into_events_under_the_size_limit(line: str) -> None:
    """240 pending requests made one 130 KB event; homeservers refuse events over 65,536 bytes."""
    reply = Reply("\n".join(f"{n}. {line}" for n in range(2_000)))

    contents = notices(reply, is_ours, in_reply_to="$question", mention="@member0:example.org")

    assert len(contents) > 1
    assert all(len(json.dumps(c).encode()) < MAX_CONTENT_BYTES for c in contents)
    assert contents[0]["m.mentions"] == {"user_ids": ["@member0:example.org"]}
    assert all(c["m.mentions"] == {} for c in contents[1:])
    assert "\n".join(c["body"] for c in contents).count("\n") >= 1_999


def test_allowed_servers() -> None:
    allowed = frozenset({"example.org", "UN.org"})
    assert invitation_allowed("@ana:un.org", allowed)
    assert not invitation_allowed("@eve:evil.example", allowed)
    assert not invitation_allowed(None, allowed)
    assert invitation_allowed("@eve:evil.example", frozenset())


async def test_checkpoints_save_a_position_once_everything_before_it_is_done() -> None:
    saved: list[str] = []

    async def save(token: str) -> None:
        saved.append(token)

    checkpoints = Checkpoints(save)
    first, second = checkpoints.open("s1"), checkpoints.open("s2")
    first.pending = second.pending = 1
    await checkpoints.seal(first)
    await checkpoints.seal(second)
    await checkpoints.done(second)
    assert saved == []
    await checkpoints.done(first)
    assert saved == ["s2"]
