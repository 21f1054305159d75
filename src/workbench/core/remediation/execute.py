"""Run a remediation script: a dry run that is always rolled back, and a confirmed apply.

The audit never writes; these two functions are the only place the workbench changes a database, and `apply`
only with an explicit `Confirmation`. For a production profile the confirmation must carry the database name
typed by the user, checked against the server's `current_database()` before anything runs.

Both split the script the way psql does (comments, quotes, dollar quotes and BEGIN ATOMIC bodies understood) and
report per statement, with its 1-based index and line in the script. Transaction control in the script (BEGIN,
COMMIT…) is skipped: the workbench manages the transaction. `apply` runs the statements that precede the first
one that cannot run in a transaction block in one transaction; that statement and everything after it run one at
a time in autocommit mode, in the script's order, and only once the transaction committed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import conninfo, sql

from workbench.core.connections.profiles import ConnectionProfile, Environment
from workbench.core.connections.session import (
    Cancelled,
    CancelToken,
    ConnectionFailed,
    explain_connection_error,
    make_conninfo,
)
from workbench.core.migrations.sqltext import Statement, split_statements
from workbench.core.remediation.statements import StatementEffect, classify

APPLICATION_NAME = "workbench-remediation"
Progress = Callable[[float, str], None]


class ApplyRefused(Exception):
    """The workbench will not run the script; the message says why (nothing was run)."""


class Status(StrEnum):
    OK = "ok"  # ran (in a dry run: ran, then rolled back with everything else)
    ERROR = "error"  # failed; `message` has the server's error
    ROLLED_BACK = "rolled_back"  # ran, but its transaction was rolled back because a later statement failed
    NOT_RUN = "not_run"  # not attempted because an earlier statement failed (or the run was cancelled)
    SKIPPED = "skipped"  # transaction control: the workbench manages the transaction itself
    NOT_DRY_RUN = "not_dry_run"  # dry run only: cannot run inside a transaction, so it cannot be tried and undone
    UNVERIFIED = "unverified"  # dry run only: failed, but may depend on an earlier statement that was not dry-run


@dataclass(frozen=True, slots=True)
class StatementOutcome:
    index: int  # 1-based position among the script's statements
    line: int  # 1-based line of the statement's first character in the script
    sql: str
    status: Status
    message: str = ""
    sqlstate: str | None = None
    error_line: int | None = None  # the script line the server's error position points to

    @property
    def failed(self) -> bool:
        return self.status is Status.ERROR


@dataclass(frozen=True, slots=True)
class DryRunResult:
    database: str
    outcomes: tuple[StatementOutcome, ...]

    @property
    def errors(self) -> tuple[StatementOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.ERROR)

    @property
    def not_dry_run(self) -> tuple[StatementOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.NOT_DRY_RUN)

    @property
    def unverified(self) -> tuple[StatementOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.UNVERIFIED)

    @property
    def ok(self) -> bool:
        """No statement failed for certain: `not_dry_run` lists what could not be tried, `unverified` what failed
        perhaps only because a statement before it could not be tried."""
        return not self.errors


@dataclass(frozen=True, slots=True)
class ApplyResult:
    database: str
    committed: bool  # the transactional part committed (True when the script had none)
    outcomes: tuple[StatementOutcome, ...]
    started_at: str
    finished_at: str
    cancelled: bool = False

    @property
    def errors(self) -> tuple[StatementOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.ERROR)

    @property
    def ok(self) -> bool:
        return self.committed and not self.cancelled and not self.errors


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The user's explicit go-ahead to change a database.

    `environment` is the tag of the connection profile the DSN comes from. For production, `typed_database` must
    be the database name as the user typed it; when given for any environment it must match the server's.
    """

    environment: Environment
    typed_database: str | None = None
    confirmed_by: str = ""

    @classmethod
    def for_profile(
        cls, profile: ConnectionProfile, typed_database: str | None = None, confirmed_by: str = ""
    ) -> Confirmation:
        return cls(profile.environment, typed_database, confirmed_by)


# --- shared plumbing --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Item:
    index: int
    statement: Statement
    effect: StatementEffect


def _items(script: str, server_version_num: int) -> list[_Item]:
    return [_Item(i, st, classify(st, server_version_num)) for i, st in enumerate(split_statements(script), start=1)]


def _connect(dsn: str) -> psycopg.Connection[Any]:
    try:
        given = conninfo.conninfo_to_dict(make_conninfo(dsn))
        extra: dict[str, str | int | None] = {}
        if "application_name" not in given:
            extra["application_name"] = APPLICATION_NAME
        if "connect_timeout" not in given:
            extra["connect_timeout"] = 10
        return psycopg.connect(make_conninfo(dsn, **extra), autocommit=True)
    except psycopg.Error as exc:
        raise ConnectionFailed(explain_connection_error(exc, dsn)) from None


def _current_database(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT pg_catalog.current_database()").fetchone()
    return str(row[0]) if row else ""


def _set_timeouts(conn: psycopg.Connection[Any], lock_timeout_ms: int, statement_timeout_ms: int, local: bool) -> None:
    scope = sql.SQL("SET LOCAL" if local else "SET")
    conn.execute(sql.SQL("{} lock_timeout = {}").format(scope, sql.Literal(f"{int(lock_timeout_ms)}ms")))
    conn.execute(sql.SQL("{} statement_timeout = {}").format(scope, sql.Literal(f"{int(statement_timeout_ms)}ms")))


def _outcome(item: _Item, status: Status, message: str = "") -> StatementOutcome:
    return StatementOutcome(item.index, item.statement.line, item.statement.text, status, message)


def _failure(item: _Item, exc: psycopg.Error, status: Status = Status.ERROR) -> StatementOutcome:
    diag = exc.diag
    message = diag.message_primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if diag.message_detail:
        message += f" ({diag.message_detail})"
    position = diag.statement_position
    error_line = item.statement.line_at(int(position)) if position and position.isdigit() else None
    return StatementOutcome(
        item.index, item.statement.line, item.statement.text, status, message, exc.sqlstate, error_line
    )


def _execute(conn: psycopg.Connection[Any], item: _Item) -> None:
    # The statement is the user's reviewed script text: it is sent as is, without parameters.
    conn.execute(item.statement.text.encode("utf-8"))


def _report(progress: Progress | None, done: int, total: int, item: _Item) -> None:
    if progress is not None:
        progress(done / max(total, 1), f"Statement {item.index} (line {item.statement.line}): {item.effect.command}")


# --- dry run ----------------------------------------------------------------------------------------------------


def dry_run(
    dsn: str,
    script: str,
    *,
    lock_timeout_ms: int = 5_000,
    statement_timeout_ms: int = 60_000,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> DryRunResult:
    """Run every statement inside one transaction that is always rolled back; report each statement.

    Each statement runs under its own savepoint, so one failure does not hide the next. The statements really
    execute (locks are taken, rewrites happen) before the rollback: on a busy database, dry-run off-peak.
    Raises ConnectionFailed, or Cancelled after `cancel.cancel()`.
    """
    conn = _connect(dsn)
    try:
        database = _current_database(conn)
        items = _items(script, conn.info.server_version)
        outcomes: list[StatementOutcome] = []
        skipped_earlier = False
        with contextlib.ExitStack() as stack:
            if cancel is not None:
                stack.enter_context(cancel.watching(conn))
            with conn.transaction(force_rollback=True):
                _set_timeouts(conn, lock_timeout_ms, statement_timeout_ms, local=True)
                for done, item in enumerate(items):
                    if cancel is not None and cancel.cancelled:
                        raise Cancelled
                    _report(progress, done, len(items), item)
                    if item.effect.control:
                        outcomes.append(_outcome(item, Status.SKIPPED, "transaction control: the dry run manages it"))
                        continue
                    if not item.effect.transactional:
                        outcomes.append(
                            _outcome(item, Status.NOT_DRY_RUN, "not dry-run: cannot run inside a transaction")
                        )
                        skipped_earlier = True
                        continue
                    try:
                        with conn.transaction():
                            _execute(conn, item)
                    except psycopg.errors.QueryCanceled as exc:
                        if cancel is not None and cancel.cancelled:
                            raise Cancelled from None
                        outcomes.append(_failure(item, exc))
                    except psycopg.Error as exc:
                        if conn.closed or conn.broken:
                            raise
                        if skipped_earlier:
                            failure = _failure(item, exc, Status.UNVERIFIED)
                            note = "may depend on an earlier statement that was not dry-run"
                            outcomes.append(_with_message(failure, f"{note}: {failure.message}"))
                        else:
                            outcomes.append(_failure(item, exc))
                    else:
                        outcomes.append(_outcome(item, Status.OK))
        if progress is not None:
            progress(1.0, "Dry run finished; everything was rolled back")
        return DryRunResult(database, tuple(outcomes))
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(explain_connection_error(exc, dsn)) from None
    finally:
        conn.close()


def _with_message(outcome: StatementOutcome, message: str) -> StatementOutcome:
    return StatementOutcome(
        outcome.index, outcome.line, outcome.sql, outcome.status, message, outcome.sqlstate, outcome.error_line
    )


# --- apply ------------------------------------------------------------------------------------------------------


def check_confirmation(confirm: Confirmation, database: str) -> None:
    """Raise ApplyRefused unless `confirm` allows changing `database` (the server's current_database())."""
    if not isinstance(confirm, Confirmation):
        raise ApplyRefused("Applying a script needs an explicit confirmation; nothing was run.")
    typed = confirm.typed_database
    if confirm.environment is Environment.PRODUCTION and not (typed or "").strip():
        raise ApplyRefused(
            f"This connection is tagged production: type the database name ({database}) to confirm; nothing was run."
        )
    if typed is not None and typed != database:
        raise ApplyRefused(
            f"The name typed ({typed}) is not the name of the database this connection reaches ({database}); "
            "nothing was run."
        )


def apply(
    dsn: str,
    script: str,
    *,
    confirm: Confirmation,
    lock_timeout_ms: int = 5_000,
    statement_timeout_ms: int = 0,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ApplyResult:
    """Run the script for real, after checking `confirm` against the server's current_database().

    The statements before the first one that cannot run in a transaction block run in one transaction; the rest
    run one at a time afterwards, only if that transaction committed, stopping at the first failure.
    Raises ApplyRefused (nothing run) or ConnectionFailed.
    """
    if not isinstance(confirm, Confirmation):
        raise ApplyRefused("Applying a script needs an explicit confirmation; nothing was run.")
    started = _now()
    conn = _connect(dsn)
    try:
        database = _current_database(conn)
        check_confirmation(confirm, database)
        items = _items(script, conn.info.server_version)
        runnable = [i for i in items if not i.effect.control]
        if not runnable:
            raise ApplyRefused("The script contains no statement to run.")
        cut = next((n for n, i in enumerate(runnable) if not i.effect.transactional), len(runnable))
        in_tx, after = runnable[:cut], runnable[cut:]
        outcomes: dict[int, StatementOutcome] = {
            i.index: _outcome(i, Status.SKIPPED, "transaction control: the workbench manages the transaction")
            for i in items
            if i.effect.control
        }
        with contextlib.ExitStack() as stack:
            if cancel is not None:
                stack.enter_context(cancel.watching(conn))
            _set_timeouts(conn, lock_timeout_ms, statement_timeout_ms, local=False)
            committed, stopped = _run_transaction(conn, in_tx, outcomes, len(runnable), progress, cancel)
            cancelled = stopped
            if committed:
                cancelled = _run_one_by_one(conn, after, outcomes, len(in_tx), len(runnable), progress, cancel)
            else:
                for item in after:
                    outcomes[item.index] = _outcome(item, Status.NOT_RUN, "the transaction above did not commit")
        if progress is not None:
            progress(1.0, "Applied" if committed and not cancelled else "Stopped")
        return ApplyResult(
            database=database,
            committed=committed,
            outcomes=tuple(outcomes[k] for k in sorted(outcomes)),
            started_at=started,
            finished_at=_now(),
            cancelled=cancelled,
        )
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(explain_connection_error(exc, dsn)) from None
    finally:
        conn.close()


class _Abort(Exception):
    pass


def _run_transaction(
    conn: psycopg.Connection[Any],
    items: Sequence[_Item],
    outcomes: dict[int, StatementOutcome],
    total: int,
    progress: Progress | None,
    cancel: CancelToken | None,
) -> tuple[bool, bool]:
    """(committed, cancelled) after running `items` in one transaction."""
    if not items:
        return True, False
    done: list[_Item] = []
    cancelled = False
    try:
        with conn.transaction():
            for n, item in enumerate(items):
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                    raise _Abort
                _report(progress, n, total, item)
                try:
                    _execute(conn, item)
                except psycopg.Error as exc:
                    if conn.broken:
                        raise
                    if cancel is not None and cancel.cancelled:
                        cancelled = True
                        outcomes[item.index] = _outcome(item, Status.NOT_RUN, "cancelled")
                    else:
                        outcomes[item.index] = _failure(item, exc)
                    raise _Abort from None
                done.append(item)
                outcomes[item.index] = _outcome(item, Status.OK)
    except _Abort:
        for item in done:
            outcomes[item.index] = _outcome(item, Status.ROLLED_BACK, "rolled back: a later statement failed")
        for item in items:
            outcomes.setdefault(
                item.index, _outcome(item, Status.NOT_RUN, "cancelled" if cancelled else "an earlier statement failed")
            )
        return False, cancelled
    return True, False


def _run_one_by_one(
    conn: psycopg.Connection[Any],
    items: Sequence[_Item],
    outcomes: dict[int, StatementOutcome],
    offset: int,
    total: int,
    progress: Progress | None,
    cancel: CancelToken | None,
) -> bool:
    """Run statements in autocommit mode, stopping at the first failure; True when cancelled."""
    for n, item in enumerate(items):
        if cancel is not None and cancel.cancelled:
            for rest in items[n:]:
                outcomes[rest.index] = _outcome(rest, Status.NOT_RUN, "cancelled")
            return True
        _report(progress, offset + n, total, item)
        try:
            _execute(conn, item)
        except psycopg.Error as exc:
            if conn.broken:
                raise
            cancelled = cancel is not None and cancel.cancelled
            failure = _failure(item, exc)
            if item.effect.command == "CREATE INDEX CONCURRENTLY":
                failure = _with_message(
                    failure, failure.message + " (a failed CONCURRENTLY build leaves an INVALID index: drop it)"
                )
            outcomes[item.index] = failure
            for rest in items[n + 1 :]:
                outcomes[rest.index] = _outcome(rest, Status.NOT_RUN, "an earlier statement failed")
            return cancelled
        outcomes[item.index] = _outcome(item, Status.OK)
    return False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
