"""Small persistent settings: adapters' tokens and sync positions, admins' options."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Setting


async def get_setting(session: AsyncSession, key: str) -> str | None:
    row = await session.get(Setting, key)
    return row.value if row else None


async def put_setting(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
