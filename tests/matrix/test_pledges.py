"""Pledges on a real Synapse: a contact records a pledge, answers the round's request with the
commands its buttons type, the report's chart arrives as an uploaded ``m.image``, and an
administrator imports pledges by sending a file to the bot."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageImage, UploadResponse

from bot.app import App
from handlers.markup import plain
from storage import organisations, pledges
from tests.fakes.synapse import Account, Synapse
from tests.matrix.harness import Bot, Member
from tests.meetings.conftest import make_member

pytestmark = [pytest.mark.slow, pytest.mark.synapse]

TABLE = "organisation,title,objectives\nRed Ana,Rutas seguras,trata\n".encode()
"""One pledge for Red Ana, as an administrator's CSV file."""


async def said(member: Member, bot: Bot, room: str, text: str, *, content: dict[str, Any] | None = None) -> str:
    """``text`` (or the event ``content``) in ``room``; the body of the bot's next message there."""
    before = len(member.from_user(bot.user_id, room))
    await member.say(room, text, content=content)
    await member.until(lambda: len(member.from_user(bot.user_id, room)) > before)
    return member.from_user(bot.user_id, room)[before].body


@asynccontextmanager
async def contact_and_admin(
    synapse: Synapse, bot_account: Account, member: Member, tmp_path: Path, *, encrypted: bool = False
) -> AsyncIterator[tuple[App, Bot, str]]:
    """The bot, with ``member`` an administrator and the contact of Red Ana (WT3), and their
    direct room once the bot has joined it."""
    bot = Bot(synapse, bot_account, tmp_path / "bot", bot_admins=frozenset({f"matrix:{member.user_id}"}))
    app = await bot.start()
    try:
        await make_member(app, f"matrix:{member.user_id}", "Red Ana", ["WT3"], at=app.services.clock.now())
        room = await member.create_room([bot.user_id], direct=True, encrypted=encrypted)
        await member.until_joined(room, bot.user_id)
        yield app, bot, room
    finally:
        await bot.stop()


async def file_sent(member: Member, bot: Bot, room: str, table: bytes, *, encrypt: bool = False) -> str:
    """``table`` uploaded (encrypted or not) and sent to ``room`` as compromisos.csv; the body of
    the bot's answer."""
    upload, keys = await member.client.upload(
        io.BytesIO(table), content_type="text/csv", filename="compromisos.csv", encrypt=encrypt, filesize=len(table)
    )
    assert isinstance(upload, UploadResponse)
    if encrypt:
        assert keys is not None
        where: dict[str, Any] = {"file": {**keys, "url": upload.content_uri}}
    else:
        where = {"url": upload.content_uri}
    return await said(member, bot, room, "", content={
        "msgtype": "m.file", "body": "compromisos.csv", "filename": "compromisos.csv",
        "info": {"mimetype": "text/csv", "size": len(table)}, **where,
    })


async def test_a_pledge_round_and_its_chart_on_matrix(
    synapse: Synapse, bot_account: Account, member: Member, tmp_path: Path
) -> None:
    async with contact_and_admin(synapse, bot_account, member, tmp_path) as (app, bot, room):
        assert "título" in await said(member, bot, room, "!compromiso nuevo")
        for line in ("Albergues seguros", "10", "Tres albergues"):
            await said(member, bot, room, line)
        assert "Guardado" in await said(member, bot, room, "-")

        request = await said(member, bot, room, "!compromisos pedir todo")
        if "Ronda de informes" not in request:
            await member.until(lambda: any("Ronda de informes" in e.body for e in member.from_user(bot.user_id, room)))
            request = next(e.body for e in member.from_user(bot.user_id, room) if "Ronda de informes" in e.body)
        assert "!informar 1 on_track" in request, "the buttons, as the commands they type"
        assert "nota" in await said(member, bot, room, "!informar 1 on_track")
        assert "Registrado" in await said(member, bot, room, "Dos abiertos")

        report = await said(member, bot, room, "!compromisos informe todo")
        assert "Organizaciones que informaron: 1 de 1." in plain(report)
        await member.until(lambda: any(isinstance(e, RoomMessageImage) for e in member.from_user(bot.user_id, room)))
        image = next(e for e in member.from_user(bot.user_id, room) if isinstance(e, RoomMessageImage))
        assert image.source["content"]["info"]["mimetype"] == "image/png"
        assert (await member.client.download(image.url)).body.startswith(b"\x89PNG")

        assert "Importados 1 compromisos" in await file_sent(member, bot, room, TABLE)
        async with app.db.transaction() as session:
            (organisation,) = await organisations.same_name(session, "Red Ana")
            titles = [p.title for p in await pledges.pledges_of(session, organisation.id)]
        assert titles == ["Albergues seguros", "Rutas seguras"]


async def test_a_file_sent_in_an_encrypted_direct_room_is_decrypted(
    synapse: Synapse, bot_account: Account, member: Member, tmp_path: Path
) -> None:
    async with contact_and_admin(synapse, bot_account, member, tmp_path, encrypted=True) as (_app, bot, room):
        assert "Red Ana" in await said(member, bot, room, "!compromiso lista")  # the bot knows the room's devices
        assert "Importados 1 compromisos" in await file_sent(member, bot, room, TABLE, encrypt=True)
