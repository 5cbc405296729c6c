"""Alembic environment: runs on the connection handed over by ``Database.migrate``,
or, from the ``alembic`` command line, on ``DATABASE_URL`` (the environment, then ``.env``,
then the bot's default), read here: storage knows nothing of the bot's settings."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from dotenv import dotenv_values
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import DEFAULT_URL

config = context.config


def run(connection: Connection) -> None:
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(run)
    await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        url = os.environ.get("DATABASE_URL") or dotenv_values(".env").get("DATABASE_URL") or DEFAULT_URL
    asyncio.run(run_from_url(url))


main()
