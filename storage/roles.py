"""Secretaries of tables (admins come from configuration)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Role


async def secretary_tables(session: AsyncSession, user_key: str) -> set[str]:
    rows = await session.scalars(
        select(Role.table_code).where(Role.user_key == user_key, Role.role == "secretary")
    )
    return set(rows)


async def secretaries(session: AsyncSession, table: str) -> list[str]:
    rows = await session.scalars(
        select(Role.user_key).where(Role.table_code == table, Role.role == "secretary")
    )
    return list(rows)


async def add_secretary(session: AsyncSession, user_key: str, table: str, granted_by: str) -> bool:
    """Returns False if the user already was secretary of that table."""
    if table in await secretary_tables(session, user_key):
        return False
    session.add(Role(user_key=user_key, role="secretary", table_code=table, granted_by=granted_by))
    await session.flush()
    return True


async def remove_secretary(session: AsyncSession, user_key: str, table: str) -> bool:
    result = await session.execute(
        delete(Role).where(Role.user_key == user_key, Role.role == "secretary", Role.table_code == table)
    )
    return bool(result.rowcount)
