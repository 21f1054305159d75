"""Reliability and operations: pg_cron failures (loud and silent), sessions, replication slots, XID wraparound,
connection headroom and slow statements.

Conventions shared by the checks of this module:

* Every check reads probes (facts beyond catalog metadata). A missing extension, table or privilege makes the
  probe record why, and the check is reported as skipped with that reason.
* What a probe could only partly see is never passed silently: sessions of other roles hidden without
  pg_read_all_stats, or cron jobs hidden by pg_cron's row level security, are counted in the evidence; when
  nothing was found among what could be seen, the check is skipped with that limitation as the reason.
* Remediation that must run outside a transaction block (``VACUUM``) says so in a leading SQL comment and
  with ``remediation_transactional: false`` in the evidence. Comments never contain names taken from the
  database, so a hostile name cannot escape them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql

from workbench.core.checks.config import AuditConfig
from workbench.core.checks.objects import comment, database_ref, render
from workbench.core.checks.registry import CheckSkipped, CheckSpec, check
from workbench.core.model import Category, Finding, Function, Level, ObjectRef, Snapshot

Row = dict[str, Any]
XID_LIMIT = 2**31  # transaction IDs a database can consume before wraparound
_NOT_TRANSACTIONAL = {"remediation_transactional": False}
_VACUUM_NOTE = "VACUUM cannot run inside a transaction block: run each statement on its own (autocommit)."


# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------


def _rows(snapshot: Snapshot, name: str) -> tuple[Row, ...]:
    """The rows of a probe the check `requires` (the runner skips the check when the probe was skipped)."""
    found = snapshot.probe(name)
    if found is None:
        raise CheckSkipped(f"the {name} probe did not run")
    if found.skipped:
        raise CheckSkipped(found.skipped)
    return found.rows


def _when(stamp: Any) -> datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    """`45 s`, `12.5 min`, `3.2 h`, `4.0 days`."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# --------------------------------------------------------------------------------------------------
# pg_cron
# --------------------------------------------------------------------------------------------------


def _job_label(job: Row) -> str:
    return str(job["jobname"]) if job.get("jobname") else str(job["jobid"])


def _job_ref(job: Row) -> ObjectRef:
    """`cron:jobname`, or `cron:<jobid>` for a job scheduled without a name."""
    label = _job_label(job)
    return ObjectRef("cron_job", f"cron:{label}", None, None, label)


def _job_evidence(job: Row) -> dict[str, Any]:
    return {
        "jobid": job["jobid"],
        "jobname": job.get("jobname"),
        "schedule": job.get("schedule"),
        "command": _cut(job.get("command"), 500),
        "username": job.get("username"),
        "database": job.get("database"),
    }


def _cut(text: Any, limit: int) -> Any:
    return text[:limit] + "…" if isinstance(text, str) and len(text) > limit else text


def _runs(job: Row) -> list[Row]:
    return list(job.get("runs") or ())


def _require_run_history(jobs: Sequence[Row]) -> None:
    if any(job.get("runs") is None for job in jobs):
        raise CheckSkipped("cron.job_run_details does not exist: pg_cron before 1.3 keeps no run history")
    if (
        jobs
        and str(jobs[0].get("log_run") or "on").lower() in ("off", "false", "0")
        and not any(_runs(j) for j in jobs)
    ):
        raise CheckSkipped("cron.log_run is off: pg_cron records no run history to check")


def _cron_limitation(jobs: Sequence[Row], snapshot: Snapshot) -> str | None:
    if jobs and jobs[0].get("rls_filtered"):
        return (
            f"row level security on cron.job showed role {snapshot.current_user} only its own jobs; the jobs "
            "of other roles were not checked"
        )
    return None


def _cron_history_sql(job: Row) -> str:
    return comment("The job's recent runs, newest first:") + render(
        sql.SQL(
            "SELECT runid, status, return_message, start_time, end_time FROM cron.job_run_details "
            "WHERE jobid = {} ORDER BY runid DESC LIMIT 20"
        ).format(sql.Literal(job["jobid"]))
    )


@check(
    "cron_job_failures",
    "Cron job failures",
    Level.WARN,
    Category.RELIABILITY,
    description="An active pg_cron job whose latest run failed, or that failed repeatedly among its recent runs.",
    rationale=(
        "pg_cron records every run in cron.job_run_details but alerts nobody: a job that fails (a dropped "
        "function, a permission, a lock timeout) keeps failing on schedule until someone reads that table. "
        "A job is reported when its latest finished run failed, or when at least two (configurable: "
        "cron_job_failures.min_failures) of its last 20 runs failed; one old failure followed by successes "
        "is not reported. Inactive jobs are not reported."
    ),
    remediation=(
        "Read the job's return_message to find the cause and fix it (grant, function, schedule overlap); "
        "pause the job with cron.alter_job(job_id, active := false) while it cannot succeed, and monitor "
        "cron.job_run_details for status = 'failed'."
    ),
    requires=("cron_jobs",),
)
def cron_job_failures(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    jobs = _rows(snapshot, "cron_jobs")
    _require_run_history(jobs)
    min_failures = int(config.threshold("cron_job_failures.min_failures", 2))
    limitation = _cron_limitation(jobs, snapshot)
    found = []
    for job in jobs:
        if not job.get("active", True):
            continue
        finished = [r for r in _runs(job) if r.get("status") in ("succeeded", "failed")]
        failed = [r for r in finished if r["status"] == "failed"]
        if not finished or (finished[0]["status"] != "failed" and len(failed) < min_failures):
            continue
        last = failed[0]
        latest = "its latest run failed" if finished[0]["status"] == "failed" else "its latest run succeeded"
        found.append(
            spec.finding(
                _job_ref(job),
                f"Cron job {_job_label(job)} failed {len(failed)} of its last {len(finished)} runs and {latest}; "
                f"last failure at {last.get('start_time')}: {last.get('return_message') or 'no message'}",
                evidence={
                    **_job_evidence(job),
                    "runs_checked": len(finished),
                    "failed_runs": len(failed),
                    "latest_status": finished[0]["status"],
                    "recent_failures": [
                        {k: r.get(k) for k in ("runid", "start_time", "end_time", "return_message")} for r in failed[:5]
                    ],
                    "thresholds": {"min_failures": min_failures},
                    **({"limitation": limitation} if limitation else {}),
                },
                sql=_cron_history_sql(job)
                + comment(
                    "While the cause is being fixed, the job can be paused with cron.alter_job(<jobid>, "
                    "active := false)."
                ),
            )
        )
    if limitation and not found:
        raise CheckSkipped(limitation)
    yield from found


# Calls of pg_net's request functions, and of wrappers known to call them.
_HTTP_FUNCTIONS = {("net", n) for n in ("http_get", "http_post", "http_delete", "http_put", "http_patch")}
_HTTP_FUNCTIONS.add(("supabase_functions", "http_request"))
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_SQL_TOKEN = re.compile(
    rf"""(?P<comment>--[^\n]*|/\*.*?\*/)
       | (?P<string>(?<![A-Za-z0-9_])[EeBbXxUu]?'(?:[^']|'')*')
       | (?P<call>(?P<name>{_IDENT}(?:\s*\.\s*{_IDENT})?)\s*\()""",
    re.S | re.X,
)
_MAX_CALL_DEPTH = 4


def _called_names(text: str) -> list[tuple[str | None, str]]:
    """The functions a SQL command or function definition calls, as (schema or None, name).

    A lexical reading: comments and quoted strings are skipped, dollar-quoted bodies (function and DO
    blocks) are read as code. Unquoted names are folded to lower case, as the server does."""
    out: list[tuple[str | None, str]] = []
    for m in _SQL_TOKEN.finditer(text):
        if not m.group("call"):
            continue
        parts = [p.strip() for p in re.findall(_IDENT, m.group("name"))]
        names = [p[1:-1].replace('""', '"') if p.startswith('"') else p.lower() for p in parts]
        out.append((names[0], names[1]) if len(names) == 2 else (None, names[0]))
    return out


class _HttpCalls:
    """Which cron commands reach pg_net's net.http_* functions, directly or through user functions."""

    def __init__(self, snapshot: Snapshot):
        self.by_name: dict[str, list[Function]] = {}
        for fn in snapshot.functions:
            self.by_name.setdefault(fn.name, []).append(fn)
        self.memo: dict[int, list[str] | None] = {}

    def chain(self, text: str, seen: frozenset[int] = frozenset(), *, resolve: bool = True) -> list[str] | None:
        """The call path to an HTTP function (e.g. ['public.notify()', 'net.http_post']), or None.

        With `resolve` False only direct calls count (a job that runs in another database calls that
        database's functions, which this snapshot does not know)."""
        if len(seen) > _MAX_CALL_DEPTH:
            return None
        for schema, name in _called_names(text):
            if schema is not None and (schema, name) in _HTTP_FUNCTIONS:
                return [f"{schema}.{name}"]
            for fn in self.by_name.get(name, ()) if resolve else ():
                if (schema is not None and fn.schema != schema) or fn.oid in seen or not fn.definition:
                    continue
                if fn.oid not in self.memo:
                    self.memo[fn.oid] = None  # guards recursion
                    inner = self.chain(fn.definition, seen | {fn.oid})
                    self.memo[fn.oid] = [f"{fn.schema}.{fn.name}({fn.identity_args})", *inner] if inner else None
                found = self.memo[fn.oid]
                if found:
                    return found
        return None


def _failed_response(response: Row) -> bool:
    status = response.get("status_code")
    return (
        bool(response.get("error_msg"))
        or bool(response.get("timed_out"))
        or not (isinstance(status, int) and 200 <= status < 300)
    )


@dataclass(frozen=True, slots=True)
class _Window:
    jobid: int
    run: Row
    start: datetime
    end: datetime


@check(
    "cron_silent_http_failure",
    "Cron job fails silently over HTTP",
    Level.ERROR,
    Category.RELIABILITY,
    description=(
        "A pg_cron job calls net.http_* (directly or through a function) and pg_net recorded failed answers "
        "for its runs, while cron.job_run_details says every one of those runs succeeded."
    ),
    rationale=(
        "pg_net is asynchronous: net.http_post() only queues the request and returns its id, so the job's SQL "
        "succeeds whatever the endpoint answers. A 401 from an expired key or a 404 from an undeployed "
        "function shows only in net._http_response, which pg_net empties after pg_net.ttl (6 hours by "
        "default). pg_net does not record which job queued a request, so a failed answer (status outside "
        "200-299, error_msg, or timed_out) is matched to the succeeded runs whose time window contains it: "
        "from the run's start to its end plus cron_silent_http_failure.window_seconds (default 120). The "
        "finding is an error when some failed answer falls only in this job's runs, and a warning when every "
        "such answer also falls in a run of another HTTP job, so either could have made the request. "
        "Requests queued outside pg_cron (triggers, webhooks) at the same moment could also be the source: "
        "the evidence lists the answers so they can be checked."
    ),
    remediation=(
        "Fix the endpoint or the credentials it rejects, then make failures visible: have the job (or a "
        "follow-up job) read net._http_response for its request id and raise or log when the status is not "
        "2xx, or alert on failed answers in net._http_response."
    ),
    requires=("cron_jobs",),
)
def cron_silent_http_failure(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    all_jobs = _rows(snapshot, "cron_jobs")
    limitation = _cron_limitation(all_jobs, snapshot)
    calls = _HttpCalls(snapshot)
    http_jobs = {
        int(j["jobid"]): (j, path)
        for j in all_jobs
        if j.get("active", True)
        and (path := calls.chain(str(j.get("command") or ""), resolve=j.get("database") in (None, snapshot.database)))
    }
    if not http_jobs:
        if limitation:
            raise CheckSkipped(limitation)
        return
    _require_run_history([j for j, _ in http_jobs.values()])
    names = ", ".join(sorted(_job_label(j) for j, _ in http_jobs.values()))
    net = snapshot.probe("net_responses")
    if net is None or net.skipped:
        reason = net.skipped if net is not None else "the net_responses probe did not run"
        raise CheckSkipped(f"cron jobs {names} call net.http_* but pg_net's responses could not be read: {reason}")
    window = timedelta(seconds=float(config.threshold("cron_silent_http_failure.window_seconds", 120)))
    windows: list[_Window] = []
    for jobid, (job, _) in http_jobs.items():
        for run in _runs(job):
            start, end = _when(run.get("start_time")), _when(run.get("end_time"))
            if run.get("status") == "succeeded" and start is not None:
                windows.append(_Window(jobid, run, start, (end or start) + window))
    responses = [(r, when) for r in net.rows if _failed_response(r) and (when := _when(r.get("created")))]
    hits: dict[int, list[tuple[Row, _Window, list[int]]]] = {}
    for response, when in responses:
        matching = [w for w in windows if w.start <= when <= w.end]
        jobids = sorted({w.jobid for w in matching})
        for w in {w.jobid: w for w in sorted(matching, key=lambda w: w.start)}.values():
            hits.setdefault(w.jobid, []).append((response, w, [j for j in jobids if j != w.jobid]))
    for jobid, found in hits.items():
        job, path = http_jobs[jobid]
        exclusive = [h for h in found if not h[2]]
        shared = sorted({_job_label(http_jobs[o][0]) for _, _, others in found for o in others})
        runs = {h[1].run.get("runid") for h in found}
        statuses = sorted({str(r.get("status_code") or r.get("error_msg") or "timed out") for r, _, _ in found})
        detail = (
            f"Cron job {_job_label(job)} reached {path[-1]} and pg_net recorded {_plural(len(found), 'failed answer')} "
            f"({', '.join(statuses)}) during {_plural(len(runs), 'run')} that cron.job_run_details marks succeeded."
        )
        if not exclusive:
            detail += f" The same runs overlap those of {', '.join(shared)}, so the request may be theirs."
        yield spec.finding(
            _job_ref(job),
            detail,
            level=Level.ERROR if exclusive else Level.WARN,
            evidence={
                **_job_evidence(job),
                "http_call_path": path,
                "succeeded_runs_with_failed_answers": len(runs),
                "failed_answers": [
                    {
                        "response_id": r.get("id"),
                        "status_code": r.get("status_code"),
                        "error_msg": r.get("error_msg"),
                        "timed_out": r.get("timed_out"),
                        "created": r.get("created"),
                        "run": {k: w.run.get(k) for k in ("runid", "status", "return_message", "start_time")},
                        "also_in_runs_of": [_job_label(http_jobs[o][0]) for o in others],
                    }
                    for r, w, others in found[:10]
                ],
                "attributed_only_to_this_job": len(exclusive),
                "window_seconds": window.total_seconds(),
                "pg_net_ttl": net.rows[0].get("ttl") if net.rows else None,
                **({"limitation": limitation} if limitation else {}),
            },
            sql=comment("Recent failed pg_net answers:")
            + render(
                sql.SQL(
                    "SELECT id, status_code, error_msg, timed_out, created FROM net._http_response "
                    "WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299 OR error_msg IS NOT NULL "
                    "OR timed_out ORDER BY created DESC LIMIT 50"
                )
            )
            + _cron_history_sql(job),
        )
    if limitation and not hits:
        raise CheckSkipped(limitation)


# --------------------------------------------------------------------------------------------------
# Sessions: long transactions and idle in transaction
# --------------------------------------------------------------------------------------------------
_IDLE_IN_TRANSACTION = ("idle in transaction", "idle in transaction (aborted)")


def _minutes(config: AuditConfig, check_id: str) -> float:
    return float(config.threshold(f"{check_id}.minutes", 5.0))


def _idle_too_long(session: Row, config: AuditConfig) -> bool:
    age = session.get("state_age_s")
    limit = _minutes(config, "idle_in_transaction") * 60
    return session.get("state") in _IDLE_IN_TRANSACTION and age is not None and age > limit


def _session_groups(sessions: Iterable[Row]) -> dict[tuple[str, str], list[Row]]:
    """Sessions by (role, application): one finding each, with a fingerprint that survives the pid."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for s in sessions:
        groups.setdefault((str(s.get("usename") or ""), str(s.get("application_name") or "")), []).append(s)
    return groups


def _session_evidence(s: Row) -> dict[str, Any]:
    keys = (
        "pid",
        "usename",
        "application_name",
        "client_addr",
        "state",
        "backend_start",
        "xact_start",
        "state_change",
        "xact_age_s",
        "state_age_s",
        "backend_xmin_age",
        "wait_event_type",
        "wait_event",
        "query",
    )
    return {k: round(s[k], 1) if k.endswith("_age_s") and s.get(k) is not None else s.get(k) for k in keys}


def _terminate_sql(sessions: Sequence[Row]) -> str:
    """pg_terminate_backend for each session, guarded by its start time so a reused pid is never hit."""
    return comment("Ends the sessions (their open transactions roll back); a reused pid is not touched.") + render(
        *(
            sql.SQL(
                "SELECT pg_catalog.pg_terminate_backend(a.pid) FROM pg_catalog.pg_stat_activity a "
                "WHERE a.pid = {} AND a.backend_start = {}::timestamptz"
            ).format(sql.Literal(s["pid"]), sql.Literal(s["backend_start"]))
            for s in sessions
        )
    )


def _session_findings(
    spec: CheckSpec,
    snapshot: Snapshot,
    sessions: list[Row],
    describe: tuple[str, str],
    extra: dict[str, Any],
    hint: str,
) -> list[Finding]:
    """One finding per (role, application); `describe` is the predicate for one session and for several."""
    out = []
    for (role, app), group in sorted(_session_groups(sessions).items()):
        group.sort(key=lambda s: -(s.get("xact_age_s") or 0))
        oldest = group[0]
        who = f"role {role}" + (f" ({app})" if app else "")
        age_field = "state_age_s" if spec.id == "idle_in_transaction" else "xact_age_s"
        out.append(
            spec.finding(
                database_ref(snapshot.database),
                f"{_plural(len(group), 'session')} of {who} {describe[len(group) > 1]}; the oldest for "
                f"{_duration(float(oldest.get(age_field) or 0))} (pid {oldest['pid']}).",
                evidence={"sessions": [_session_evidence(s) for s in group[:20]], "session_count": len(group), **extra},
                sql=_terminate_sql(group) + comment(hint),
                discriminator=f"{role}/{app}" if app else role,
            )
        )
    return out


def _hidden_sessions(rows: Sequence[Row]) -> int:
    return sum(1 for r in rows if not r.get("details_visible", True))


def _session_check(spec: CheckSpec, snapshot: Snapshot, found: list[Finding], hidden: int) -> Iterator[Finding]:
    if hidden and not found:
        raise CheckSkipped(
            f"{_plural(hidden, 'session')} of other roles could not be inspected: role {snapshot.current_user} "
            "lacks pg_read_all_stats, so the server hides their state and start times"
        )
    yield from found


@check(
    "long_running_transaction",
    "Long-running transaction",
    Level.WARN,
    Category.RELIABILITY,
    description="A session of this database holds a transaction open longer than the threshold (default 5 min).",
    rationale=(
        "An open transaction keeps its snapshot: VACUUM cannot remove rows that died after it began, on any "
        "table, so tables and indexes bloat and the XID horizon stops advancing; its locks block DDL and, "
        "behind the DDL, every other query on the table. The age is measured from xact_start "
        "(long_running_transaction.minutes). Sessions idle in transaction beyond the idle_in_transaction "
        "threshold are reported by that check only, and the audit's own session is never counted. "
        "Sessions of the same role and application are reported together."
    ),
    remediation=(
        "Find what the application does inside the transaction (the query column shows its latest statement) "
        "and commit sooner; batch long jobs into short transactions. End a stuck session with "
        "pg_terminate_backend(pid); set statement_timeout, or transaction_timeout on PostgreSQL 17, for the "
        "role to bound it."
    ),
    requires=("activity",),
)
def long_running_transaction(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    rows = _rows(snapshot, "activity")
    limit = _minutes(config, spec.id)
    idle_reported = "idle_in_transaction" not in config.disabled_checks
    sessions = [
        s
        for s in rows
        if s.get("details_visible", True)
        and s.get("xact_age_s") is not None
        and s["xact_age_s"] > limit * 60
        and not (idle_reported and _idle_too_long(s, config))
    ]
    found = _session_findings(
        spec,
        snapshot,
        sessions,
        (f"has a transaction open longer than {limit:g} min", f"have a transaction open longer than {limit:g} min"),
        {"threshold_minutes": limit, "sessions_not_inspected": _hidden_sessions(rows)},
        "To bound transactions, set statement_timeout (or transaction_timeout on PostgreSQL 17) for the role.",
    )
    yield from _session_check(spec, snapshot, found, _hidden_sessions(rows))


@check(
    "idle_in_transaction",
    "Idle in transaction",
    Level.WARN,
    Category.RELIABILITY,
    description="A session of this database sits idle inside an open transaction longer than the threshold.",
    rationale=(
        "A session idle in transaction does no work but keeps its snapshot and its locks: VACUUM cannot "
        "clean behind it and DDL on the tables it touched waits, with every later query queued behind the "
        "DDL. It is usually an application that forgot to commit, or a connection pool handing out "
        "connections mid-transaction. The idle time is measured from the last state change "
        "(idle_in_transaction.minutes, default 5), not from the transaction start."
    ),
    remediation=(
        "Fix the code path that leaves the transaction open; end the session with pg_terminate_backend(pid); "
        "set idle_in_transaction_session_timeout for the application's role so the server ends such "
        "sessions itself."
    ),
    requires=("activity",),
)
def idle_in_transaction(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    rows = _rows(snapshot, "activity")
    limit = _minutes(config, spec.id)
    sessions = [s for s in rows if s.get("details_visible", True) and _idle_too_long(s, config)]
    timeout = snapshot.setting("idle_in_transaction_session_timeout")
    found = _session_findings(
        spec,
        snapshot,
        sessions,
        (f"is idle in transaction longer than {limit:g} min", f"are idle in transaction longer than {limit:g} min"),
        {
            "threshold_minutes": limit,
            "idle_in_transaction_session_timeout": timeout,
            "sessions_not_inspected": _hidden_sessions(rows),
        },
        "To end such sessions automatically: ALTER ROLE <application role> SET "
        "idle_in_transaction_session_timeout = '5min';",
    )
    yield from _session_check(spec, snapshot, found, _hidden_sessions(rows))


# --------------------------------------------------------------------------------------------------
# Replication slots
# --------------------------------------------------------------------------------------------------


@check(
    "inactive_replication_slot",
    "Inactive replication slot",
    Level.WARN,
    Category.RELIABILITY,
    description="A replication slot that no consumer is using and that retains WAL.",
    rationale=(
        "A slot makes the server keep every WAL segment from the slot's restart_lsn on, and a logical slot "
        "also holds back the catalog xmin. With nobody consuming it (a removed replica, a paused CDC "
        "connector, an abandoned subscription) WAL piles up until the disk is full and the server stops, "
        "unless max_slot_wal_keep_size bounds it (then the slot is eventually invalidated). Reported when "
        "the slot is inactive and retains more than inactive_replication_slot.min_retained_mb (default 0). "
        "On a standby the retained WAL is measured from the last replayed LSN."
    ),
    remediation=(
        "Reconnect the consumer if it is still needed; otherwise drop the slot with "
        "pg_drop_replication_slot(). Set max_slot_wal_keep_size so a forgotten slot cannot fill the disk."
    ),
    requires=("replication_slots",),
)
def inactive_replication_slot(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    min_bytes = float(config.threshold("inactive_replication_slot.min_retained_mb", 0.0)) * 1024 * 1024
    for slot in _rows(snapshot, "replication_slots"):
        retained = slot.get("retained_bytes")
        if slot.get("active") or slot.get("temporary") or retained is None or retained <= min_bytes:
            continue
        name = str(slot["slot_name"])
        evidence = {
            k: slot.get(k)
            for k in (
                "slot_type",
                "plugin",
                "database",
                "retained_bytes",
                "wal_status",
                "safe_wal_size",
                "max_slot_wal_keep_size",
                "xmin_age",
                "catalog_xmin_age",
                "inactive_since",
                "restart_lsn",
                "on_standby",
            )
        }
        since = f" since {slot['inactive_since']}" if slot.get("inactive_since") else ""
        yield spec.finding(
            ObjectRef("replication_slot", f"replication_slot:{name}", None, None, name),
            f"{str(slot.get('slot_type') or '').capitalize() or 'Replication'} slot {name} is inactive{since} "
            f"and retains {_size(float(retained))} of WAL.",
            evidence={**evidence, "thresholds": {"min_retained_mb": min_bytes / 1024 / 1024}},
            sql=comment("Only if no replica or consumer will use this slot again:")
            + render(sql.SQL("SELECT pg_catalog.pg_drop_replication_slot({})").format(sql.Literal(name))),
        )


# --------------------------------------------------------------------------------------------------
# XID wraparound
# --------------------------------------------------------------------------------------------------


def xid_position(age: int, freeze_max_age: int) -> float:
    """Where an XID age stands between autovacuum_freeze_max_age (0 %) and wraparound at 2^31 (100 %).

    Negative while the age is below autovacuum_freeze_max_age, where autovacuum freezes on its own."""
    return (age - freeze_max_age) / (XID_LIMIT - freeze_max_age) * 100


@check(
    "xid_wraparound_risk",
    "Transaction ID wraparound risk",
    Level.WARN,
    Category.RELIABILITY,
    description=(
        "A database or table whose XID age is past 50 % of the way from autovacuum_freeze_max_age to "
        "wraparound at 2^31 (error past 75 %)."
    ),
    rationale=(
        "PostgreSQL must freeze every row before its transaction ID is 2^31 (about 2.1 billion) transactions "
        "old; near that point it refuses new transactions until a VACUUM completes. Autovacuum starts an "
        "aggressive freeze when a table's age reaches autovacuum_freeze_max_age (200 million by default, or "
        "the table's own lower setting), so an age beyond it means freezing is not keeping up: autovacuum "
        "is blocked (a long transaction, an abandoned replication slot or prepared transaction holding the "
        "horizon), throttled, or failing on the table. The position is measured on that remaining span: "
        "position = (age - autovacuum_freeze_max_age) / (2^31 - autovacuum_freeze_max_age). Warning past "
        "50 % (xid_wraparound_risk.warn_percent), error past 75 % (xid_wraparound_risk.error_percent); with "
        "the default setting that is an age of about 1.17 and 1.66 billion. Every database of the server is "
        "checked (wraparound stops the whole server) and the 20 oldest tables of this one; a table's age "
        "includes its TOAST table."
    ),
    remediation=(
        "Run VACUUM (FREEZE) on the oldest tables (outside a transaction block), after removing what blocks "
        "it: end long transactions, drop abandoned replication slots, commit or roll back old prepared "
        "transactions. For another database, connect to it and run VACUUM (FREEZE) there."
    ),
    requires=("xid_age",),
)
def xid_wraparound_risk(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    warn_at = float(config.threshold("xid_wraparound_risk.warn_percent", 50.0))
    error_at = float(config.threshold("xid_wraparound_risk.error_percent", 75.0))
    rows = _rows(snapshot, "xid_age")
    tables = [r for r in rows if r.get("object") == "table"]
    for row in rows:
        age = int(row.get("xid_age") or 0)
        freeze_max_age = int(row.get("freeze_max_age") or 200_000_000)
        if row.get("table_freeze_max_age"):  # a table's own setting only ever lowers the server's
            freeze_max_age = min(freeze_max_age, int(row["table_freeze_max_age"]))
        position = xid_position(age, freeze_max_age)
        if position <= warn_at:
            continue
        level = Level.ERROR if position > error_at else Level.WARN
        evidence: dict[str, Any] = {
            "xid_age": age,
            "autovacuum_freeze_max_age": freeze_max_age,
            "position_percent": round(position, 2),
            "xids_until_wraparound": XID_LIMIT - age,
            "mxid_age": row.get("mxid_age"),
            "thresholds": {"warn_percent": warn_at, "error_percent": error_at},
            **_NOT_TRANSACTIONAL,
        }
        where = f"{position:.1f} % of the way from autovacuum_freeze_max_age to wraparound"
        if row.get("object") == "database":
            name = str(row["database"])
            oldest = [t for t in tables if t.get("xid_age") is not None][:5] if row.get("current_database") else []
            evidence["oldest_tables"] = [{k: t.get(k) for k in ("schema", "name", "xid_age")} for t in oldest]
            statements: list[sql.Composable] = [
                sql.SQL("VACUUM (FREEZE, VERBOSE) {}").format(sql.Identifier(t["schema"], t["name"])) for t in oldest
            ] or [sql.SQL("VACUUM (FREEZE, VERBOSE)")]
            note = _VACUUM_NOTE if row.get("current_database") else "Run this while connected to that database."
            yield spec.finding(
                database_ref(name),
                f"Database {name} has an XID age of {age:,}, {where}.",
                level=level,
                evidence=evidence,
                sql=comment(note) + render(*statements),
            )
        else:
            schema, name = str(row["schema"]), str(row["name"])
            evidence["vacuum_running"] = row.get("vacuum_running")
            yield spec.finding(
                ObjectRef("table", f"{schema}.{name}", schema, None, name),
                f"Table {schema}.{name} has an XID age of {age:,}, {where}.",
                level=level,
                evidence=evidence,
                sql=comment(_VACUUM_NOTE)
                + render(sql.SQL("VACUUM (FREEZE, VERBOSE) {}").format(sql.Identifier(schema, name))),
            )


# --------------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------------


@check(
    "connection_saturation",
    "Connection saturation",
    Level.WARN,
    Category.RELIABILITY,
    description="Client connections above 80 % of the connections available to ordinary roles.",
    rationale=(
        "When max_connections is reached new clients are refused with 'too many clients already': the "
        "application fails while the database is otherwise healthy. The slots reserved for superusers "
        "(superuser_reserved_connections) and, on PostgreSQL 16+, for pg_use_reserved_connections members "
        "(reserved_connections) are not available to the application, so the limit used here is "
        "max_connections minus both. All client backends of the server count, the audit's own included; "
        "the threshold is connection_saturation.percent (default 80)."
    ),
    remediation=(
        "Put a connection pooler (PgBouncer, Supavisor) in transaction mode in front of the database, close "
        "idle connections (idle_session_timeout for the roles that leave them), and size application pools "
        "to the server; raise max_connections only with the memory to match (it needs a restart)."
    ),
    requires=("connections",),
)
def connection_saturation(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    rows = _rows(snapshot, "connections")
    if not rows:
        return
    row = rows[0]
    percent = float(config.threshold("connection_saturation.percent", 80.0))
    reserved = int(row["superuser_reserved_connections"]) + int(row.get("reserved_connections") or 0)
    available = int(row["max_connections"]) - reserved
    used = int(row["client_backends"])
    if available <= 0 or used <= available * percent / 100:
        return
    yield spec.finding(
        ObjectRef("setting", "setting:max_connections", None, None, "max_connections"),
        f"{used:,} client connections use {used / available:.0%} of the {available:,} available to ordinary "
        f"roles (max_connections {row['max_connections']:,} minus {reserved:,} reserved).",
        evidence={
            "client_backends": used,
            "max_connections": row["max_connections"],
            "superuser_reserved_connections": row["superuser_reserved_connections"],
            "reserved_connections": row.get("reserved_connections"),
            "available": available,
            "percent_used": round(100 * used / available, 1),
            "by_state": row.get("by_state"),
            "by_database": row.get("by_database"),
            "by_role": row.get("by_role"),
            "by_application": dict(list((row.get("by_application") or {}).items())[:10]),
            "thresholds": {"percent": percent},
        },
        sql=comment("Who holds the connections, idle ones first:")
        + render(
            sql.SQL(
                "SELECT usename, application_name, state, pg_catalog.count(*) AS connections "
                "FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend' "
                "GROUP BY 1, 2, 3 ORDER BY (state = 'idle') DESC, 4 DESC"
            )
        ),
    )


# --------------------------------------------------------------------------------------------------
# pg_stat_statements
# --------------------------------------------------------------------------------------------------


@check(
    "slow_queries",
    "Slow queries",
    Level.INFO,
    Category.PERFORMANCE,
    description="Statements recorded by pg_stat_statements whose mean execution time exceeds the threshold.",
    rationale=(
        "A statement that is slow on average and runs repeatedly costs the server and its users every time; "
        "its normalized text ($1 for constants) points at the query to tune. Reported when the mean "
        "execution time exceeds slow_queries.mean_ms (default 500 ms) over at least slow_queries.min_calls "
        "calls (default 10), so one-off statements such as migrations are left out. Only statements of this "
        "database are read; the check is skipped when pg_stat_statements is not installed and loaded."
    ),
    remediation=(
        "EXPLAIN (ANALYZE, BUFFERS) the statement with representative values, then add the missing index, "
        "rewrite the query or reduce the rows it reads. Reset pg_stat_statements after the fix to measure "
        "again."
    ),
    requires=("pg_stat_statements",),
)
def slow_queries(spec: CheckSpec, snapshot: Snapshot, config: AuditConfig) -> Iterator[Finding]:
    mean_ms = float(config.threshold("slow_queries.mean_ms", 500.0))
    min_calls = int(config.threshold("slow_queries.min_calls", 10))
    extension = snapshot.extension("pg_stat_statements")
    view = sql.Identifier(extension.schema if extension else "public", "pg_stat_statements")
    for row in _rows(snapshot, "pg_stat_statements"):
        mean, calls = float(row.get("mean_exec_time") or 0), int(row.get("calls") or 0)
        if mean <= mean_ms or calls < min_calls:
            continue
        queryid = row.get("queryid")
        yield spec.finding(
            database_ref(snapshot.database),
            f"Statement {queryid} averages {mean:,.0f} ms over {calls:,} calls "
            f"({float(row.get('total_exec_time') or 0) / 1000:,.1f} s in total).",
            evidence={
                "queryid": queryid,
                "calls": calls,
                "mean_exec_time_ms": round(mean, 2),
                "total_exec_time_ms": round(float(row.get("total_exec_time") or 0), 2),
                "rows": row.get("rows"),
                "role": row.get("role"),
                "query": row.get("query") if row.get("text_visible", True) else None,
                "query_text_visible": row.get("text_visible", True),
                "thresholds": {"mean_ms": mean_ms, "min_calls": min_calls},
            },
            sql=comment(
                "Inspect the plan with representative values: EXPLAIN (ANALYZE, BUFFERS) <the statement>.",
                "Statistics of this statement, with its full text:",
            )
            + render(
                sql.SQL(
                    "SELECT queryid, calls, mean_exec_time, total_exec_time, rows, query FROM {} WHERE queryid = {}"
                ).format(view, sql.Literal(queryid))
            ),
            discriminator=str(queryid),
        )
