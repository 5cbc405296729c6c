"""Fixtures: a real Synapse for the whole session, members on real nio clients, and the
bot as `gcmbot run` starts it (``App.run`` with the Matrix settings)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.synapse import Account, Synapse, SynapseMissing
from tests.matrix.harness import BOT_NAME, Bot, Member, unique


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    """One homeserver for the session; a missing Synapse install fails loudly."""
    try:
        server = Synapse()
    except SynapseMissing as error:
        pytest.fail(str(error), pytrace=False)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def admin(synapse: Synapse) -> Account:
    return synapse.register("admin", admin=True)


@pytest.fixture
async def people(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Callable[[], Awaitable[Member]]]:
    """``await people()`` -> a new registered member, syncing; all closed at the end."""
    members: list[Member] = []

    async def new() -> Member:
        localpart = unique("ana")
        account = synapse.register(localpart, displayname=localpart.capitalize())
        member = Member(synapse, account, tmp_path / f"{localpart}-store")
        await member.start()
        members.append(member)
        return member

    yield new
    for member in members:
        await member.close()


@pytest.fixture
async def member(people: Callable[[], Awaitable[Member]]) -> Member:
    return await people()


@pytest.fixture
def bot_account(synapse: Synapse) -> Account:
    return synapse.register(unique("gcmbot"), displayname=BOT_NAME)


@pytest.fixture
async def bot(synapse: Synapse, bot_account: Account, tmp_path: Path) -> AsyncIterator[Bot]:
    runner = Bot(synapse, bot_account, tmp_path / "bot")
    await runner.start()
    yield runner
    await runner.stop()


@pytest.fixture
def bystander(synapse: Synapse) -> Account:
    """A third (invited) member, so that a room is a group and not a direct chat."""
    return synapse.register(unique("carlos"))
