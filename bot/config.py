"""Configuration from the environment and ``.env``."""

from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated

from handlers.i18n import LANGUAGES
from handlers.inputs import normalise_user_key
from handlers.services import CoreConfig
from storage.db import DEFAULT_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_URL
    bot_language: str = "es"
    bot_timezone: str = "America/Bogota"
    bot_admins: Annotated[frozenset[str], NoDecode] = frozenset()
    log_level: str | None = None
    """None: INFO when a platform runs, WARNING in the console and ``ask`` (they share the terminal)."""
    log_format: str = "text"
    """``text`` or ``json`` (one JSON object per line, for a log collector)."""
    health_port: int | None = None
    """Serve /healthz, /readyz and /metrics on this port (unset: no health server)."""
    health_listen: str = "0.0.0.0"

    telegram_token: str | None = None
    telegram_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: str | None = None

    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_password: str | None = None
    matrix_access_token: str | None = None
    matrix_device_id: str | None = None
    matrix_allowed_servers: Annotated[frozenset[str], NoDecode] = frozenset()
    matrix_store_path: str = "./data/matrix-store"

    reminder_grace: str = "6h"

    @field_validator("bot_admins", "matrix_allowed_servers", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError("LOG_FORMAT must be text or json")
        return value

    @field_validator("bot_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"BOT_LANGUAGE must be one of {', '.join(LANGUAGES)}")
        return value

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def matrix_enabled(self) -> bool:
        return bool(
            self.matrix_homeserver
            and self.matrix_user_id
            and (self.matrix_password or self.matrix_access_token)
        )

    def core_config(self) -> CoreConfig:
        return CoreConfig(
            default_language=self.bot_language,
            default_timezone=self.bot_timezone,
            admins=frozenset(normalise_user_key(admin) for admin in self.bot_admins),
        )
