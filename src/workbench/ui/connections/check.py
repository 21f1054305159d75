"""The "Test connection" job of the profile dialog: connect with what the form holds and say who answered.

It runs on a pool thread through `workbench.ui.workers.Worker` (never on the GUI thread): reading a saved
password from the keyring and connecting are both I/O. The password is handed to `open_session` (which
registers it for redaction) and dropped right after; it is never put in a message or a log record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from workbench.core.connections.secrets import SecretStoreUnavailable
from workbench.core.connections.session import (
    Cancelled,
    ConnectionFailed,
    SessionOptions,
    describe_target,
    open_session,
)
from workbench.ui.workers import WorkerContext

# A test should answer quickly: an unreachable host is reported after this many seconds.
CHECK_OPTIONS = SessionOptions(statement_timeout_ms=10_000, connect_timeout_s=10)


class ProfileCheckJob:
    """Open a session on `dsn` and return "Connected: PostgreSQL <version> as <user> on <database>".

    `password` is the one typed in the dialog; when it is None, `saved_password` (if given) is called on the
    pool thread to read the saved one from the keyring. `cancel()` (GUI thread) makes the job drop its result:
    a connection attempt in flight still ends by itself (at most `connect_timeout_s`), then closes at once.
    """

    def __init__(
        self,
        dsn: str,
        *,
        password: str | None = None,
        saved_password: Callable[[], str | None] | None = None,
        options: SessionOptions = CHECK_OPTIONS,
    ):
        self.dsn = dsn
        self.options = options
        self._password = password
        self._saved_password = saved_password
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def _take_password(self) -> str | None:
        password, saved = self._password, self._saved_password
        self._password = self._saved_password = None  # not kept on the job once used
        if password is None and saved is not None:
            try:
                password = saved()
            except SecretStoreUnavailable as exc:
                raise ConnectionFailed(f"The saved password cannot be read: {exc}") from None
        return password

    def __call__(self, context: WorkerContext) -> str:
        context.progress(0.0, f"Connecting to {describe_target(self.dsn)}")
        password = self._take_password()
        if self._cancelled.is_set():
            raise Cancelled
        with open_session(self.dsn, self.options, password=password) as session:
            del password
            if self._cancelled.is_set():
                raise Cancelled
            try:
                row = session.conn.execute(
                    "SELECT pg_catalog.current_setting('server_version'), current_user, pg_catalog.current_database()"
                ).fetchone()
            except psycopg.Error as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConnectionFailed(
                    f"Connected to {describe_target(self.dsn)}, but reading the server version failed ({first})."
                ) from None
        assert row is not None
        version = str(row[0]).split(" ", 1)[0]  # "16.2 (Debian 16.2-1.pgdg120+2)" -> "16.2"
        return f"Connected: PostgreSQL {version} as {row[1]} on {row[2]}"
