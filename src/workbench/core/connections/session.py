"""Open the read-only audit session and turn connection failures into one clear sentence."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import conninfo

from workbench.core.logs import register_secret

APPLICATION_NAME = "workbench"
log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The user cancelled the running audit."""


class CancelToken:
    """Stops running work from another thread: the statement in flight is cancelled on the server."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                conn.cancel_safe(timeout=5.0)

    def attach(self, conn: psycopg.Connection[Any] | None) -> None:
        """The connection whose running statement `cancel()` stops (None when there is none)."""
        with self._lock:
            self._conn = conn

    @contextlib.contextmanager
    def watching(self, conn: psycopg.Connection[Any]) -> Iterator[None]:
        self.attach(conn)
        try:
            yield
        finally:
            self.attach(None)

    def check(self) -> None:
        """Raise Cancelled once `cancel()` was called."""
        if self._event.is_set():
            raise Cancelled


class ConnectionFailed(Exception):
    """A connection problem explained in one sentence for the user (never contains a password)."""


@dataclass(frozen=True, slots=True)
class SessionOptions:
    statement_timeout_ms: int = 30_000
    lock_timeout_ms: int = 1_000
    connect_timeout_s: int = 10


def make_conninfo(dsn: str = "", **keywords: str | int | None) -> str:
    """Merge a URI, libpq keyword string or `service=` name with explicit keywords into one conninfo."""
    try:
        return conninfo.make_conninfo(dsn, **{k: v for k, v in keywords.items() if v not in (None, "")})
    except psycopg.ProgrammingError as exc:
        raise ConnectionFailed(f"The connection string is not valid: {_first_line(exc)}") from None


def describe_target(dsn: str) -> str:
    """`user@host:port/dbname` for messages; never includes the password."""
    try:
        params = conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "the database"
    host = str(params.get("host") or "local socket")
    if host.startswith("/"):
        host = "local socket"
    port = params.get("port")
    where = f"{host}:{port}" if port else host
    db = params.get("dbname") or params.get("service") or ""
    user = params.get("user")
    return f"{str(user) + '@' if user else ''}{where}{'/' + str(db) if db else ''}"


def explain_connection_error(exc: BaseException, dsn: str = "") -> str:
    """One sentence saying what went wrong and what to do; the raw server text is kept short."""
    target = describe_target(dsn) if dsn else "the database"
    text = str(exc).lower()
    sqlstate = getattr(exc, "sqlstate", None)
    if "password authentication failed" in text or sqlstate == "28P01":
        return f"Wrong user name or password for {target}."
    if "no password supplied" in text or "fe_sendauth" in text:
        return f"{target} asks for a password and none was given."
    if ("does not exist" in text and "database" in text) or sqlstate == "3D000":
        return f"The database named in the connection does not exist on {target}."
    if "role" in text and "does not exist" in text:
        return f"The user named in the connection does not exist on {target}."
    if "ssl" in text and ("required" in text or "no encryption" in text or "not support" in text):
        return f"{target} requires SSL, or refuses it: set sslmode (require, verify-full, or disable) to match."
    if "no pg_hba.conf entry" in text:
        return f"{target} refuses connections from this machine for this user (pg_hba.conf)."
    if "timeout expired" in text or "timed out" in text:
        return f"{target} did not answer in time: check the host, port and firewall."
    if "could not translate host name" in text or "name or service not known" in text:
        return f"The host name of {target} cannot be resolved."
    if "connection refused" in text or "could not connect" in text or "no such file" in text:
        return f"Nothing accepts connections at {target}: is the server running and the port right?"
    if "permission denied" in text or sqlstate == "42501":
        return f"The user lacks a privilege the audit needs on {target}: {_first_line(exc)}"
    if "too many connections" in text or sqlstate == "53300":
        return f"{target} has no free connection slot."
    if "definition of service" in text:
        return f"The service name is not defined in pg_service.conf: {_first_line(exc)}"
    return f"Could not connect to {target}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class AuditSession:
    """A read-only connection for one audit. `cancel()` may be called from any thread."""

    def __init__(self, conn: psycopg.Connection[Any], dsn: str, options: SessionOptions):
        self.conn = conn
        self.dsn = dsn
        self.options = options
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop the running query server-side; the audit then stops at its next step."""
        self._cancelled.set()
        # The connection may already be gone; the flag still stops the audit.
        with contextlib.suppress(psycopg.Error, OSError):
            self.conn.cancel_safe(timeout=5.0)

    def close(self) -> None:
        if not self.conn.closed:
            with contextlib.suppress(psycopg.Error):
                self.conn.rollback()
            self.conn.close()

    def __enter__(self) -> AuditSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(
    dsn: str,
    options: SessionOptions | None = None,
    *,
    password: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> AuditSession:
    """Connect read-only with statement and lock timeouts; raise ConnectionFailed with a clear sentence."""
    options = options or SessionOptions()
    target = describe_target(dsn)
    register_secret(password)  # from the keyring or a prompt: never in the log
    log.info("Connecting to %s (read-only audit session)", target)
    params: dict[str, str | int | None] = {
        "application_name": APPLICATION_NAME,
        "connect_timeout": options.connect_timeout_s,
        "password": password,
        **(extra or {}),
    }
    # Keep any explicit application_name/connect_timeout of the user's DSN.
    try:
        given = conninfo.conninfo_to_dict(make_conninfo(dsn))
    except ConnectionFailed as exc:
        log.warning("Connection to %s refused before connecting: %s", target, exc)
        raise
    register_secret(str(given.get("password") or "") or None)
    for key in ("application_name", "connect_timeout"):
        if key in given:
            params.pop(key)
    full = make_conninfo(dsn, **params)
    try:
        conn = psycopg.connect(full, autocommit=False)
    except psycopg.Error as exc:
        message = explain_connection_error(exc, dsn)
        log.warning("Connection to %s failed: %s", target, message)
        raise ConnectionFailed(message) from None
    try:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {int(options.statement_timeout_ms)}")
            cur.execute(f"SET lock_timeout = {int(options.lock_timeout_ms)}")
            cur.execute("SET search_path = ''")
            # Catalog queries gain nothing from JIT; on large catalogs their cost estimates cross
            # jit_above_cost and compiling alone takes longer than the query.
            cur.execute("SET jit = off")
        conn.commit()
    except psycopg.Error as exc:
        conn.close()
        message = explain_connection_error(exc, dsn)
        log.warning("Session set-up on %s failed: %s", target, message)
        raise ConnectionFailed(message) from None
    log.info("Connected to %s (server version %s)", target, conn.info.server_version)
    return AuditSession(conn, dsn, options)
