"""Probes: facts beyond catalog metadata, each optional and each saying why when it could not run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from workbench.core.connections.session import AuditSession, ConnectionFailed, explain_connection_error
from workbench.core.model import ProbeResult


class ProbeSkipped(Exception):
    """Raised by a probe that cannot run here; the message is the reason shown in the review."""


@dataclass(frozen=True, slots=True)
class ProbeContext:
    session: AuditSession
    server_version_num: int
    extensions: frozenset[str]

    def rows(self, query: str | sql.Composable, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.session.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query if isinstance(query, sql.Composable) else query.encode(), params)  # type: ignore[arg-type]
            return cur.fetchall()

    def require_extension(self, name: str) -> None:
        if name not in self.extensions:
            raise ProbeSkipped(f"the {name} extension is not installed")

    def relation_exists(self, qualified: str) -> bool:
        found = self.rows("SELECT pg_catalog.to_regclass(%(name)s) IS NOT NULL AS found", {"name": qualified})
        return bool(found[0]["found"])


ProbeFn = Callable[[ProbeContext], list[dict[str, Any]]]
PROBES: dict[str, ProbeFn] = {}


def probe(name: str) -> Callable[[ProbeFn], ProbeFn]:
    """Register a probe under a unique name; checks name the probes they need."""

    def register(fn: ProbeFn) -> ProbeFn:
        if name in PROBES:
            raise ValueError(f"probe {name!r} registered twice")
        PROBES[name] = fn
        return fn

    return register


def run_probes(session: AuditSession, server_version_num: int, extensions: set[str]) -> tuple[ProbeResult, ...]:
    """Run every registered probe, each under its own savepoint."""
    from workbench.core.snapshot import probe_library  # noqa: F401  (registers the probes)

    ctx = ProbeContext(session, server_version_num, frozenset(extensions))
    results = []
    for name, fn in PROBES.items():
        if session.cancelled:
            break
        try:
            # Probes only read: rolling their savepoint back loses nothing and releases the locks they took.
            with session.conn.transaction(force_rollback=True):
                rows = fn(ctx)
            results.append(ProbeResult(name, tuple(rows)))
        except ProbeSkipped as exc:
            results.append(ProbeResult(name, skipped=str(exc)))
        except psycopg.errors.InsufficientPrivilege as exc:
            results.append(ProbeResult(name, skipped=f"permission denied: {_first(exc)}"))
        except psycopg.errors.QueryCanceled:
            if session.cancelled:
                break
            timeout = session.options.statement_timeout_ms / 1000
            results.append(ProbeResult(name, skipped=f"timed out after {timeout:g} s (statement_timeout)"))
        except psycopg.errors.LockNotAvailable as exc:
            results.append(ProbeResult(name, skipped=f"a lock could not be taken in time: {_first(exc)}"))
        except psycopg.OperationalError as exc:
            if (exc.sqlstate or "").startswith("53") and not session.conn.closed:
                results.append(ProbeResult(name, skipped=f"the server ran short of resources: {_first(exc)}"))
                continue
            raise ConnectionFailed(
                f"The connection was lost while running the {name} probe: " + explain_connection_error(exc, session.dsn)
            ) from None
        except (
            psycopg.errors.UndefinedTable,
            psycopg.errors.UndefinedColumn,
            psycopg.errors.UndefinedFunction,
        ) as exc:
            results.append(ProbeResult(name, skipped=f"not available on this server: {_first(exc)}"))
    return tuple(results)


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
