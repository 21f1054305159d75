"""The local review store: reviews, audit runs with their snapshots, decisions, checklist and sign-offs.

One SQLite file under the user data directory (``$WORKBENCH_DATA_DIR`` overrides it), in WAL mode with foreign
keys on and a busy timeout. Every write is one short ``BEGIN IMMEDIATE`` transaction that appends rows (no
read-modify-write of a document), so a crash mid-write loses at most that transaction and two windows or
processes writing at once keep each other's changes.

Opening never modifies a file it cannot use: the file is first read through a read-only connection; a damaged
file, a file that is not a review store, or a store written by a newer release raises `ReviewStoreError` with a
sentence for the user, and the file is left as it was. The `schema_version` table records the store's version;
`MIGRATIONS` upgrades an older store step by step when it is opened.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, defer

from workbench.core.checks.registry import all_checks
from workbench.core.checks.runner import AuditResult
from workbench.core.connections.profiles import ConnectionProfile
from workbench.core.gcpause import gc_paused
from workbench.core.model import Category, Finding, Level, ObjectRef, Snapshot
from workbench.core.remediation.verify import FixVerification, verify_fixes
from workbench.core.report.json_text import dumps_items, loads_items
from workbench.core.report.signing import content_hash as canonical_hash
from workbench.core.review.checklist import (
    DEFAULT_ITEMS,
    DEFAULT_TEMPLATE,
    ChecklistItemSpec,
    items_from_json,
    items_to_json,
    validate_items,
)
from workbench.core.review.models import (
    AuditRunRow,
    Base,
    ChecklistMarkRow,
    ChecklistTemplateRow,
    DecisionRow,
    ReviewRow,
    SchemaVersionRow,
    SignOffRow,
)
from workbench.core.review.status import DecisionStatus as DecisionStatus  # re-exported from here too
from workbench.core.snapshot.document import (
    SnapshotFormatError,
    snapshot_from_dict,
    snapshot_json,
)

APP_NAME = "pg-review-workbench"
DATA_DIR_ENV = "WORKBENCH_DATA_DIR"
STORE_FILE = "reviews.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000
WORKBENCH_REVIEWER = "workbench"
# Upgrades of an older store: MIGRATIONS[n] turns a version-n store into version n + 1, inside one transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}
_SECRET_KEY = re.compile(r"pass|secret|token|dsn|conninfo|uri|url", re.IGNORECASE)


class ReviewStoreError(Exception):
    """The review store cannot be used as asked; the message is a sentence for the user."""


class ReviewNotFound(ReviewStoreError):
    pass


def data_dir() -> Path:
    """The user data directory of the workbench (``$WORKBENCH_DATA_DIR`` when set)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_store_path() -> Path:
    return data_dir() / STORE_FILE


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- value objects ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    number: int  # 1-based position among the review's runs
    started_at: str
    recorded_at: str
    database: str
    server_version: str
    findings: tuple[Finding, ...]
    checks_run: tuple[str, ...]
    checks_skipped: tuple[tuple[str, str], ...]  # (check, reason)


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    fingerprint: str
    status: DecisionStatus
    deferred_until: date | None
    note: str
    reviewer: str
    decided_at: str
    verified_run_id: int | None = None
    verified_at: str | None = None  # started_at of the run that verified a fix
    source_review: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "status": self.status.value,
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "note": self.note,
            "reviewer": self.reviewer,
            "decided_at": self.decided_at,
            "verified_run_id": self.verified_run_id,
            "verified_at": self.verified_at,
            "source_review": self.source_review,
        }


@dataclass(frozen=True, slots=True)
class FindingStatus:
    """A finding of the latest run with the decision that applies to it."""

    finding: Finding
    decision: Decision | None
    status: DecisionStatus  # effective: an expired deferral is open again
    label: str  # e.g. "open", "deferred until 2026-12-01", "open (deferral expired 2026-01-31)"

    @property
    def blocking(self) -> bool:
        """Still to be dealt with: open, or claimed fixed while the audit still reports it."""
        return self.status in (DecisionStatus.OPEN, DecisionStatus.FIXED)


@dataclass(frozen=True, slots=True)
class ChecklistState:
    item: ChecklistItemSpec
    ticked: bool
    who: str | None = None
    at: str | None = None
    note: str = ""  # for automatic items: why it is (not) ticked


@dataclass(frozen=True, slots=True)
class SignOff:
    id: int
    reviewer: str
    role: str
    statement: str
    signed_at: str
    content_hash: str
    revision: int
    superseded: bool  # the review changed after this sign-off

    def as_json(self) -> dict[str, Any]:
        return {
            "reviewer": self.reviewer,
            "role": self.role,
            "statement": self.statement,
            "signed_at": self.signed_at,
            "content_hash": self.content_hash,
            "superseded": self.superseded,
        }


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    name: str
    profile: dict[str, Any]
    created_at: str
    checklist_template: str
    revision: int
    runs: int
    latest_run_at: str | None
    database: str | None
    signoff_status: str  # "unsigned", "signed", "superseded"


@dataclass(frozen=True, slots=True)
class RunComparison:
    """A run just recorded against the previous run of the same review."""

    run: RunInfo
    previous_run_id: int | None
    verification: FixVerification
    marked_fixed: tuple[str, ...]  # fingerprints whose decision became "fixed (verified)"
    reopened: tuple[str, ...]  # fingerprints marked fixed earlier that the audit reports again


@dataclass(frozen=True, slots=True)
class ReviewState:
    """Everything `review show` and the report need, read in one transaction."""

    review: ReviewInfo
    content_hash: str
    latest_run: RunInfo | None
    previous_run: RunInfo | None
    comparison: FixVerification | None  # latest run against the previous one
    findings: tuple[FindingStatus, ...]
    resolved: tuple[Decision, ...]  # fixed decisions of fingerprints the latest run no longer reports
    checklist: tuple[ChecklistState, ...]
    signoffs: tuple[SignOff, ...]  # oldest first

    @property
    def current_signoff(self) -> SignOff | None:
        last = self.signoffs[-1] if self.signoffs else None
        return last if last is not None and not last.superseded else None

    def as_json(self) -> dict[str, Any]:
        run = self.latest_run
        return {
            "review": {
                "name": self.review.name,
                "profile": self.review.profile,
                "created_at": self.review.created_at,
                "checklist_template": self.review.checklist_template,
                "signoff_status": self.review.signoff_status,
                "content_hash": self.content_hash,
            },
            "latest_run": _run_json(run) if run else None,
            "comparison": _comparison_json(self.comparison) if self.comparison else None,
            "findings": [
                {
                    **fs.finding.as_json(),
                    "status": fs.status.value,
                    "status_label": fs.label,
                    "decision": fs.decision.as_json() if fs.decision else None,
                }
                for fs in self.findings
            ],
            "resolved": [d.as_json() for d in self.resolved],
            "checklist": [
                {**c.item.as_json(), "ticked": c.ticked, "who": c.who, "at": c.at, "note": c.note}
                for c in self.checklist
            ],
            "signoffs": [s.as_json() for s in self.signoffs],
        }


def _run_json(run: RunInfo) -> dict[str, Any]:
    return {
        "id": run.id,
        "number": run.number,
        "started_at": run.started_at,
        "database": run.database,
        "server_version": run.server_version,
        "findings": len(run.findings),
        "checks_run": len(run.checks_run),
        "checks_skipped": [{"check": c, "reason": r} for c, r in run.checks_skipped],
    }


def _comparison_json(v: FixVerification) -> dict[str, Any]:
    return {
        "fixed": [f.fingerprint for f in v.fixed],
        "new": [f.fingerprint for f in v.new],
        "still_open": [f.fingerprint for f in v.still_open],
        "not_rechecked": [f.fingerprint for f in v.not_rechecked],
    }


# --- encoding -----------------------------------------------------------------------------------------------------


def finding_to_json(f: Finding) -> dict[str, Any]:
    return {**f.as_json(), "discriminator": f.discriminator, "object_key": f.object.key}


def finding_from_json(data: Mapping[str, Any]) -> Finding:
    obj = data.get("object") or {}
    return Finding(
        check=str(data["check"]),
        title=str(data.get("title") or data["check"]),
        level=Level(data["level"]),
        category=Category(data["category"]),
        object=ObjectRef(
            kind=str(obj.get("kind") or ""),
            key=str(data.get("object_key") or data.get("key") or ""),
            schema=obj.get("schema"),
            table=obj.get("table"),
            name=obj.get("name"),
        ),
        detail=str(data.get("detail") or ""),
        evidence=dict(data.get("evidence") or {}),
        remediation_sql=data.get("remediation_sql"),
        discriminator=data.get("discriminator"),
    )


def _profile_json(profile: ConnectionProfile | Mapping[str, Any] | None) -> str:
    if profile is None:
        data: dict[str, Any] = {}
    elif isinstance(profile, ConnectionProfile):
        data = profile.as_json()
    else:
        data = {str(k): v for k, v in profile.items() if not _SECRET_KEY.search(str(k))}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def _effective(decision: Decision | None, today: date) -> tuple[DecisionStatus, str]:
    if decision is None:
        return DecisionStatus.OPEN, "open"
    if decision.status is DecisionStatus.DEFERRED and decision.deferred_until is not None:
        if decision.deferred_until < today:
            return DecisionStatus.OPEN, f"open (deferral expired {decision.deferred_until.isoformat()})"
        return DecisionStatus.DEFERRED, f"deferred until {decision.deferred_until.isoformat()}"
    if decision.status is DecisionStatus.FIXED:
        return DecisionStatus.FIXED, "fixed (not yet verified: the latest run still reports it)"
    return decision.status, decision.status.label


def fixed_label(decision: Decision) -> str:
    """`fixed (verified 2026-11-22)` for a fix an audit run confirmed, else `fixed`."""
    if decision.verified_at:
        return f"fixed (verified {decision.verified_at[:10]})"
    return "fixed"


# --- opening ------------------------------------------------------------------------------------------------------


def _inspect(path: Path) -> int | None:
    """The schema version of an existing store (None for a new or empty file), read without writing to it."""
    if not path.exists():
        return None
    if path.is_dir():
        raise ReviewStoreError(f"The review store {path} is a directory, not a file.")
    if path.stat().st_size == 0:
        return None
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise ReviewStoreError(f"The review store {path} cannot be opened: {exc}.") from None
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return None
        if "schema_version" not in tables:
            raise ReviewStoreError(
                f"{path} is not a workbench review store; it was left untouched. Move it away to start a new store."
            )
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ReviewStoreError(
            f"The review store {path} is damaged ({exc}); it was left untouched. Restore a backup, or move it away "
            "to start a new store."
        ) from None
    finally:
        con.close()
    version = row[0] if row else None
    if not isinstance(version, int):
        raise ReviewStoreError(f"The review store {path} has no schema version; it was left untouched.")
    if version > SCHEMA_VERSION:
        raise ReviewStoreError(_newer_message(path, version))
    return version


def _newer_message(path: Path, version: int) -> str:
    return (
        f"The review store {path} was written by a newer release of the workbench (store version {version}, this "
        f"release reads up to {SCHEMA_VERSION}); it was left untouched. Upgrade the workbench to open it."
    )


def _make_engine(path: Path) -> Engine:
    engine = create_engine(URL.create("sqlite", database=str(path)), connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun explicitly below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: no deadlock between two readers upgrading to writers.
        write = conn.get_execution_options().get("workbench_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class ReviewStore:
    """The review store in one SQLite file. Safe to use from several threads and processes at once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_store_path()
        version = _inspect(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReviewStoreError(f"The review store folder {self.path.parent} cannot be created: {exc}.") from None
        self._engine = _make_engine(self.path)
        self._writer = self._engine.execution_options(workbench_write=True)
        try:
            self._prepare(version)
        except BaseException:
            self._engine.dispose()
            raise

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------------------------------
    def _prepare(self, inspected: int | None) -> None:
        with self._guard(), self._writer.connect() as conn, conn.begin():
            version = inspected
            if version is None:  # another process may have created the store meanwhile
                has_table = conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
                ).first()
                if has_table is not None:
                    version = conn.execute(select(func.max(SchemaVersionRow.version))).scalar()
            if version is None:
                Base.metadata.create_all(conn)
                conn.execute(insert(SchemaVersionRow).values(version=SCHEMA_VERSION, applied_at=_now()))
                version = SCHEMA_VERSION
            if version > SCHEMA_VERSION:
                raise ReviewStoreError(_newer_message(self.path, version))
            while version < SCHEMA_VERSION:
                migrate = MIGRATIONS.get(version)
                if migrate is None:
                    raise ReviewStoreError(f"No upgrade is known from review store version {version}.")
                migrate(conn)
                version += 1
                conn.execute(insert(SchemaVersionRow).values(version=version, applied_at=_now()))
            exists = conn.execute(
                select(ChecklistTemplateRow.id).where(ChecklistTemplateRow.name == DEFAULT_TEMPLATE)
            ).first()
            if exists is None:
                conn.execute(
                    insert(ChecklistTemplateRow).values(
                        name=DEFAULT_TEMPLATE, items_json=items_to_json(DEFAULT_ITEMS), updated_at=_now()
                    )
                )

    def schema_version(self) -> int:
        with self._read() as s:
            return int(s.execute(select(func.max(SchemaVersionRow.version))).scalar_one())

    # -- transactions ---------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except ReviewStoreError:
            raise
        except OperationalError as exc:
            text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
            if "locked" in text or "busy" in text:
                raise ReviewStoreError(
                    "The review store is busy (another window is writing to it); try again in a moment."
                ) from None
            raise ReviewStoreError(f"The review store {self.path} cannot be used: {exc.orig or exc}.") from None
        except DBAPIError as exc:
            raise ReviewStoreError(
                f"The review store {self.path} is damaged ({exc.orig or exc}); restore a backup or move it away."
            ) from None
        except SQLAlchemyError as exc:
            raise ReviewStoreError(f"The review store {self.path} cannot be used: {exc}.") from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        with self._guard(), Session(self._engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        with self._guard(), Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    # -- reviews ----------------------------------------------------------------------------------------------------
    def create_review(
        self,
        name: str,
        profile: ConnectionProfile | Mapping[str, Any] | None = None,
        *,
        template: str = DEFAULT_TEMPLATE,
    ) -> ReviewInfo:
        """A new review; its checklist is a copy of `template`'s items."""
        name = name.strip()
        if not name:
            raise ReviewStoreError("Give the review a name.")
        with self._write() as s:
            if s.execute(select(ReviewRow.id).where(ReviewRow.name == name)).first() is not None:
                raise ReviewStoreError(f"A review named {name!r} already exists.")
            self._insert_review(s, name, profile, template)
        return self.review(name)

    def ensure_review(self, name: str, profile: ConnectionProfile | Mapping[str, Any] | None = None) -> ReviewInfo:
        """The review named `name`, created (with `profile`) when missing."""
        name = name.strip()
        if not name:
            raise ReviewStoreError("Give the review a name.")
        with self._write() as s:
            if s.execute(select(ReviewRow.id).where(ReviewRow.name == name)).first() is None:
                self._insert_review(s, name, profile, DEFAULT_TEMPLATE)
        return self.review(name)

    def _insert_review(
        self, s: Session, name: str, profile: ConnectionProfile | Mapping[str, Any] | None, template: str
    ) -> None:
        items = s.execute(select(ChecklistTemplateRow.items_json).where(ChecklistTemplateRow.name == template)).scalar()
        if items is None:
            raise ReviewStoreError(f"There is no checklist template named {template!r}.")
        s.add(
            ReviewRow(
                name=name,
                profile_json=_profile_json(profile),
                created_at=_now(),
                checklist_template=template,
                checklist_json=items,
                revision=0,
            )
        )
        try:
            s.flush()
        except IntegrityError:
            raise ReviewStoreError(f"A review named {name!r} already exists.") from None

    def reviews(self) -> tuple[ReviewInfo, ...]:
        with self._read() as s:
            rows = s.execute(select(ReviewRow).order_by(ReviewRow.name)).scalars().all()
            return tuple(self._info(s, row) for row in rows)

    def review(self, name: str) -> ReviewInfo:
        with self._read() as s:
            return self._info(s, self._row(s, name))

    def _row(self, s: Session, name: str) -> ReviewRow:
        row = s.execute(select(ReviewRow).where(ReviewRow.name == name)).scalar_one_or_none()
        if row is None:
            raise ReviewNotFound(f"There is no review named {name!r}.")
        return row

    def _info(self, s: Session, row: ReviewRow) -> ReviewInfo:
        latest = s.execute(
            select(AuditRunRow.started_at, AuditRunRow.database)
            .where(AuditRunRow.review_id == row.id)
            .order_by(AuditRunRow.id.desc())
            .limit(1)
        ).first()
        count = s.execute(select(func.count(AuditRunRow.id)).where(AuditRunRow.review_id == row.id)).scalar_one()
        signed = s.execute(
            select(SignOffRow.revision).where(SignOffRow.review_id == row.id).order_by(SignOffRow.id.desc()).limit(1)
        ).scalar()
        status = "unsigned" if signed is None else "signed" if signed == row.revision else "superseded"
        return ReviewInfo(
            name=row.name,
            profile=json.loads(row.profile_json or "{}"),
            created_at=row.created_at,
            checklist_template=row.checklist_template,
            revision=row.revision,
            runs=count,
            latest_run_at=latest[0] if latest else None,
            database=latest[1] if latest else None,
            signoff_status=status,
        )

    def _bump(self, s: Session, review_id: int) -> int:
        """Count one change of the review (atomically, in the caller's write transaction); the new revision."""
        revision = s.execute(
            update(ReviewRow)
            .where(ReviewRow.id == review_id)
            .values(revision=ReviewRow.revision + 1)
            .returning(ReviewRow.revision)
        ).scalar_one()
        return int(revision)

    # -- runs ---------------------------------------------------------------------------------------------------------
    @gc_paused()  # serialising a large snapshot would otherwise trigger full collections (see gcpause)
    def record_run(self, name: str, result: AuditResult) -> RunComparison:
        """Store an audit run, compare it with the previous run, and mark verified fixes and reappearances.

        A finding of the previous run that the new run no longer reports (its check ran) gets a "fixed" decision
        verified by this run, unless it was accepted or marked false positive; a finding marked fixed that the new
        run still reports is open again.
        """
        snapshot = result.snapshot
        checks_skipped = [(sk.check, sk.reason) for sk in result.checks_skipped]
        with self._write() as s:
            review = self._row(s, name)
            previous = s.execute(
                select(AuditRunRow).where(AuditRunRow.review_id == review.id).order_by(AuditRunRow.id.desc()).limit(1)
            ).scalar_one_or_none()
            revision = self._bump(s, review.id)
            document = snapshot_json(snapshot)
            run = AuditRunRow(
                review_id=review.id,
                started_at=result.started_at,
                recorded_at=_now(),
                database=snapshot.database,
                server_version=snapshot.server_version,
                snapshot_zlib=zlib.compress(document.encode("utf-8"), 6),
                findings_json=dumps_items([finding_to_json(f) for f in result.findings]),
                checks_run_json=json.dumps(list(result.checks_run)),
                checks_skipped_json=json.dumps(checks_skipped, ensure_ascii=False),
                revision=revision,
            )
            s.add(run)
            s.flush()
            info = self._run_info(s, run)
            if previous is None:
                verification = verify_fixes((), result)
                return RunComparison(info, None, verification, (), ())
            verification = verify_fixes(self._run_info(s, previous).findings, result)
            latest = self._latest_decisions(s, review.id)
            marked: list[str] = []
            for f in verification.fixed:
                decision = latest.get(f.fingerprint)
                if decision is not None and decision.status in (
                    DecisionStatus.ACCEPTED_RISK,
                    DecisionStatus.FALSE_POSITIVE,
                ):
                    continue
                if decision is not None and decision.status is DecisionStatus.FIXED and decision.verified_run_id:
                    continue
                s.add(
                    self._decision_row(
                        review.id,
                        f.fingerprint,
                        DecisionStatus.FIXED,
                        None,
                        f"no longer reported by audit run #{info.number}",
                        WORKBENCH_REVIEWER,
                        revision,
                        verified_run_id=run.id,
                    )
                )
                marked.append(f.fingerprint)
            reopened: list[str] = []
            for f in result.findings:
                decision = latest.get(f.fingerprint)
                if decision is not None and decision.status is DecisionStatus.FIXED:
                    s.add(
                        self._decision_row(
                            review.id,
                            f.fingerprint,
                            DecisionStatus.OPEN,
                            None,
                            f"reported again by audit run #{info.number}",
                            WORKBENCH_REVIEWER,
                            revision,
                        )
                    )
                    reopened.append(f.fingerprint)
            return RunComparison(info, previous.id, verification, tuple(marked), tuple(reopened))

    def runs(self, name: str, *, last: int | None = None) -> tuple[RunInfo, ...]:
        """The review's audit runs, oldest first (only the `last` ones when given); snapshots are not read."""
        with self._read() as s:
            review = self._row(s, name)
            rows = s.execute(
                select(AuditRunRow)
                .options(defer(AuditRunRow.snapshot_zlib))
                .where(AuditRunRow.review_id == review.id)
                .order_by(AuditRunRow.id.desc())
                .limit(last)
            ).scalars()
            return tuple(self._run_info(s, r) for r in reversed(rows.all()))

    def run_snapshot(self, run_id: int) -> Snapshot:
        with self._read() as s:
            blob = s.execute(select(AuditRunRow.snapshot_zlib).where(AuditRunRow.id == run_id)).scalar()
        if blob is None:
            raise ReviewStoreError(f"There is no audit run #{run_id}.")
        try:
            return snapshot_from_dict(json.loads(zlib.decompress(blob).decode("utf-8")))
        except (zlib.error, ValueError, SnapshotFormatError) as exc:
            raise ReviewStoreError(f"The snapshot of audit run #{run_id} cannot be read: {exc}") from None

    def _run_info(self, s: Session, row: AuditRunRow) -> RunInfo:
        number = s.execute(
            select(func.count(AuditRunRow.id)).where(AuditRunRow.review_id == row.review_id, AuditRunRow.id <= row.id)
        ).scalar_one()
        try:
            findings = tuple(finding_from_json(d) for d in loads_items(row.findings_json))
            checks_run = tuple(str(c) for c in json.loads(row.checks_run_json))
            skipped = tuple((str(c), str(r)) for c, r in json.loads(row.checks_skipped_json))
        except (ValueError, KeyError, TypeError) as exc:
            raise ReviewStoreError(f"Audit run #{row.id} in the review store is damaged: {exc}") from None
        return RunInfo(
            row.id,
            number,
            row.started_at,
            row.recorded_at,
            row.database,
            row.server_version,
            findings,
            checks_run,
            skipped,
        )

    # -- decisions ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _decision_row(
        review_id: int,
        fingerprint: str,
        status: DecisionStatus,
        until: date | None,
        note: str,
        reviewer: str,
        revision: int,
        *,
        verified_run_id: int | None = None,
        source_review: str | None = None,
    ) -> DecisionRow:
        return DecisionRow(
            review_id=review_id,
            fingerprint=fingerprint,
            status=status.value,
            deferred_until=until,
            note=note,
            reviewer=reviewer,
            decided_at=_now(),
            verified_run_id=verified_run_id,
            source_review=source_review,
            revision=revision,
        )

    def decide(
        self,
        name: str,
        fingerprint: str,
        status: DecisionStatus | str,
        *,
        reviewer: str,
        note: str = "",
        until: date | None = None,
    ) -> Decision:
        """Record a decision on a finding (a new history row; the latest decision wins)."""
        try:
            status = DecisionStatus(status)
        except ValueError:
            choices = ", ".join(s.value for s in DecisionStatus)
            raise ReviewStoreError(f"Unknown status {status!r}; choose one of {choices}.") from None
        if not reviewer.strip():
            raise ReviewStoreError("Say who decides (the reviewer's name).")
        if status is DecisionStatus.DEFERRED and until is None:
            raise ReviewStoreError("A deferred finding needs the date it is deferred until.")
        if status is not DecisionStatus.DEFERRED and until is not None:
            raise ReviewStoreError("Only a deferred finding takes a date.")
        with self._write() as s:
            review = self._row(s, name)
            revision = self._bump(s, review.id)
            row = self._decision_row(review.id, fingerprint, status, until, note, reviewer.strip(), revision)
            s.add(row)
            s.flush()
            return self._decision(s, row)

    def _decision(self, s: Session, row: DecisionRow) -> Decision:
        verified_at = None
        if row.verified_run_id is not None:
            verified_at = s.execute(
                select(AuditRunRow.started_at).where(AuditRunRow.id == row.verified_run_id)
            ).scalar()
        return Decision(
            id=row.id,
            fingerprint=row.fingerprint,
            status=DecisionStatus(row.status),
            deferred_until=row.deferred_until,
            note=row.note,
            reviewer=row.reviewer,
            decided_at=row.decided_at,
            verified_run_id=row.verified_run_id,
            verified_at=verified_at,
            source_review=row.source_review,
        )

    def _latest_decisions(self, s: Session, review_id: int) -> dict[str, Decision]:
        rows = s.execute(
            select(DecisionRow).where(DecisionRow.review_id == review_id).order_by(DecisionRow.id)
        ).scalars()
        latest: dict[str, DecisionRow] = {}
        for row in rows:
            latest[row.fingerprint] = row
        return {k: self._decision(s, v) for k, v in latest.items()}

    def decisions(self, name: str) -> dict[str, Decision]:
        """The decision in force per fingerprint."""
        with self._read() as s:
            return self._latest_decisions(s, self._row(s, name).id)

    def decision_history(self, name: str, fingerprint: str | None = None) -> tuple[Decision, ...]:
        """Every decision ever recorded (oldest first), optionally for one fingerprint."""
        with self._read() as s:
            review = self._row(s, name)
            query = select(DecisionRow).where(DecisionRow.review_id == review.id)
            if fingerprint is not None:
                query = query.where(DecisionRow.fingerprint == fingerprint)
            return tuple(self._decision(s, r) for r in s.execute(query.order_by(DecisionRow.id)).scalars())

    def known_fingerprints(self, name: str) -> frozenset[str]:
        """Fingerprints reported by any run of the review."""
        with self._read() as s:
            review = self._row(s, name)
            out: set[str] = set()
            for text in s.execute(
                select(AuditRunRow.findings_json).where(AuditRunRow.review_id == review.id)
            ).scalars():
                out.update(str(d.get("fingerprint")) for d in loads_items(text))
            return frozenset(out)

    def import_decisions(
        self, source: str, target: str, *, reviewer: str, fingerprints: Iterable[str] | None = None
    ) -> int:
        """Carry judgements (accepted risk, deferred, false positive) from one review to another by fingerprint.

        Facts about one database (open, fixed) are not carried over. Returns how many decisions were imported.
        """
        if not reviewer.strip():
            raise ReviewStoreError("Say who imports the decisions (the reviewer's name).")
        wanted = set(fingerprints) if fingerprints is not None else None
        carried = (DecisionStatus.ACCEPTED_RISK, DecisionStatus.DEFERRED, DecisionStatus.FALSE_POSITIVE)
        with self._write() as s:
            src, dst = self._row(s, source), self._row(s, target)
            if src.id == dst.id:
                raise ReviewStoreError("Choose two different reviews to import decisions between.")
            theirs = self._latest_decisions(s, src.id)
            ours = self._latest_decisions(s, dst.id)
            count = 0
            revision = None
            for fp, d in sorted(theirs.items()):
                if d.status not in carried or (wanted is not None and fp not in wanted):
                    continue
                mine = ours.get(fp)
                if mine is not None and (mine.status, mine.deferred_until) == (d.status, d.deferred_until):
                    continue
                revision = revision if revision is not None else self._bump(s, dst.id)
                note = f"{d.note} (imported from review {source}: decided by {d.reviewer} on {d.decided_at[:10]})"
                s.add(
                    self._decision_row(
                        dst.id,
                        fp,
                        d.status,
                        d.deferred_until,
                        note.strip(),
                        reviewer.strip(),
                        revision,
                        source_review=source,
                    )
                )
                count += 1
            return count

    # -- checklist ----------------------------------------------------------------------------------------------------
    def templates(self) -> tuple[str, ...]:
        with self._read() as s:
            return tuple(s.execute(select(ChecklistTemplateRow.name).order_by(ChecklistTemplateRow.name)).scalars())

    def template(self, name: str) -> tuple[ChecklistItemSpec, ...]:
        with self._read() as s:
            text = s.execute(select(ChecklistTemplateRow.items_json).where(ChecklistTemplateRow.name == name)).scalar()
        if text is None:
            raise ReviewStoreError(f"There is no checklist template named {name!r}.")
        return items_from_json(text)

    def save_template(self, name: str, items: Iterable[ChecklistItemSpec]) -> None:
        """Create or replace a template (reviews keep the copy they were created with)."""
        items = tuple(items)
        problems = validate_items(items, (c.spec.id for c in all_checks()))
        if not name.strip():
            problems.insert(0, "Give the template a name.")
        if problems:
            raise ReviewStoreError(" ".join(problems))
        with self._write() as s:
            row = s.execute(select(ChecklistTemplateRow).where(ChecklistTemplateRow.name == name)).scalar_one_or_none()
            if row is None:
                s.add(ChecklistTemplateRow(name=name, items_json=items_to_json(items), updated_at=_now()))
            else:
                row.items_json = items_to_json(items)
                row.updated_at = _now()

    def tick(self, name: str, item_key: str, *, who: str, ticked: bool = True, note: str = "") -> None:
        """Tick (or untick) a manual checklist item; a new history row."""
        if not who.strip():
            raise ReviewStoreError("Say who ticks the item.")
        with self._write() as s:
            review = self._row(s, name)
            items = {i.key: i for i in items_from_json(review.checklist_json)}
            item = items.get(item_key)
            if item is None:
                raise ReviewStoreError(f"The checklist of {name!r} has no item {item_key!r}.")
            if item.automatic:
                raise ReviewStoreError(
                    f"Item {item_key!r} is evaluated from the findings of {', '.join(item.auto_checks)}; it cannot be "
                    "ticked by hand."
                )
            revision = self._bump(s, review.id)
            s.add(
                ChecklistMarkRow(
                    review_id=review.id,
                    item_key=item_key,
                    ticked=ticked,
                    who=who.strip(),
                    at=_now(),
                    note=note,
                    revision=revision,
                )
            )

    # -- state, sign-off ----------------------------------------------------------------------------------------------
    def state(self, name: str, *, today: date | None = None) -> ReviewState:
        with self._read() as s:
            return self._state(s, self._row(s, name), today or date.today())

    def _state(self, s: Session, review: ReviewRow, today: date) -> ReviewState:
        runs = (
            s.execute(
                select(AuditRunRow)
                .options(defer(AuditRunRow.snapshot_zlib))
                .where(AuditRunRow.review_id == review.id)
                .order_by(AuditRunRow.id.desc())
                .limit(2)
            )
            .scalars()
            .all()
        )
        latest = self._run_info(s, runs[0]) if runs else None
        previous = self._run_info(s, runs[1]) if len(runs) > 1 else None
        decisions = self._latest_decisions(s, review.id)
        statuses: list[FindingStatus] = []
        reported = set()
        for f in latest.findings if latest else ():
            reported.add(f.fingerprint)
            d = decisions.get(f.fingerprint)
            status, label = _effective(d, today)
            statuses.append(FindingStatus(f, d, status, label))
        resolved = tuple(
            d for fp, d in sorted(decisions.items()) if d.status is DecisionStatus.FIXED and fp not in reported
        )
        checklist = self._checklist(s, review, latest, statuses)
        signoffs = self._signoffs(s, review)
        return ReviewState(
            review=self._info(s, review),
            content_hash=self._content_hash(s, review, latest, decisions),
            latest_run=latest,
            previous_run=previous,
            comparison=verify_fixes(previous.findings, latest) if latest and previous else None,
            findings=tuple(statuses),
            resolved=resolved,
            checklist=checklist,
            signoffs=signoffs,
        )

    def _checklist(
        self, s: Session, review: ReviewRow, latest: RunInfo | None, statuses: list[FindingStatus]
    ) -> tuple[ChecklistState, ...]:
        marks: dict[str, ChecklistMarkRow] = {}
        for mark in s.execute(
            select(ChecklistMarkRow).where(ChecklistMarkRow.review_id == review.id).order_by(ChecklistMarkRow.id)
        ).scalars():
            marks[mark.item_key] = mark
        out: list[ChecklistState] = []
        for item in items_from_json(review.checklist_json):
            if not item.automatic:
                m = marks.get(item.key)
                out.append(
                    ChecklistState(
                        item, bool(m and m.ticked), m.who if m else None, m.at if m else None, m.note if m else ""
                    )
                )
                continue
            out.append(_evaluate(item, latest, statuses))
        return tuple(out)

    def _signoffs(self, s: Session, review: ReviewRow) -> tuple[SignOff, ...]:
        rows = s.execute(select(SignOffRow).where(SignOffRow.review_id == review.id).order_by(SignOffRow.id)).scalars()
        return tuple(
            SignOff(
                r.id,
                r.reviewer,
                r.role,
                r.statement,
                r.signed_at,
                r.content_hash,
                r.revision,
                superseded=r.revision != review.revision,
            )
            for r in rows
        )

    def _content_hash(
        self, s: Session, review: ReviewRow, latest: RunInfo | None, decisions: Mapping[str, Decision]
    ) -> str:
        """SHA-256 of what a sign-off vouches for: the latest run's findings, the decisions and the manual ticks."""
        marks: dict[str, ChecklistMarkRow] = {}
        for mark in s.execute(
            select(ChecklistMarkRow).where(ChecklistMarkRow.review_id == review.id).order_by(ChecklistMarkRow.id)
        ).scalars():
            marks[mark.item_key] = mark
        content = {
            "review": review.name,
            "run": {"id": latest.id, "findings": sorted(f.fingerprint for f in latest.findings)} if latest else None,
            "decisions": {
                fp: [d.status.value, d.deferred_until.isoformat() if d.deferred_until else None, d.note, d.reviewer]
                for fp, d in sorted(decisions.items())
            },
            "checklist": {k: [m.ticked, m.who, m.note] for k, m in sorted(marks.items())},
        }
        return canonical_hash(content)

    def sign_off(self, name: str, *, reviewer: str, role: str, statement: str) -> SignOff:
        """Sign the review as it is now. Any later change supersedes the sign-off (history is kept)."""
        if not reviewer.strip() or not role.strip() or not statement.strip():
            raise ReviewStoreError("A sign-off needs the reviewer's name, their role and a statement.")
        with self._write() as s:
            review = self._row(s, name)
            latest = s.execute(
                select(AuditRunRow).where(AuditRunRow.review_id == review.id).order_by(AuditRunRow.id.desc()).limit(1)
            ).scalar_one_or_none()
            if latest is None:
                raise ReviewStoreError(f"Review {name!r} has no audit run yet: run an audit into it before signing.")
            content_hash = self._content_hash(
                s, review, self._run_info(s, latest), self._latest_decisions(s, review.id)
            )
            row = SignOffRow(
                review_id=review.id,
                reviewer=reviewer.strip(),
                role=role.strip(),
                statement=statement.strip(),
                signed_at=_now(),
                content_hash=content_hash,
                revision=review.revision,
            )
            s.add(row)
            s.flush()
            return SignOff(
                row.id,
                row.reviewer,
                row.role,
                row.statement,
                row.signed_at,
                row.content_hash,
                row.revision,
                superseded=False,
            )


def _evaluate(item: ChecklistItemSpec, latest: RunInfo | None, statuses: list[FindingStatus]) -> ChecklistState:
    """An automatic item: ticked when its checks ran (or were skipped as not applicable) without a finding still to
    deal with. A check that neither ran nor was skipped (not selected for the run) leaves the item unevaluated."""
    if latest is None:
        return ChecklistState(item, False, note="no audit run yet")
    skipped = dict(latest.checks_skipped)
    missing = [c for c in item.auto_checks if c not in latest.checks_run and c not in skipped]
    if missing:
        return ChecklistState(item, False, note="not evaluated: not run by the latest audit: " + ", ".join(missing))
    ran = [c for c in item.auto_checks if c in latest.checks_run]
    if not ran:
        reasons = "; ".join(f"{c}: {skipped[c]}" for c in item.auto_checks)
        return ChecklistState(item, False, note=f"not evaluated: every check was skipped ({reasons})")
    blocking = [fs for fs in statuses if fs.finding.check in item.auto_checks and fs.blocking]
    who = f"{WORKBENCH_REVIEWER} (audit run #{latest.number})"
    also = "; skipped: " + "; ".join(f"{c} ({skipped[c]})" for c in item.auto_checks if c in skipped)
    also = also if any(c in skipped for c in item.auto_checks) else ""
    if blocking:
        shown = ", ".join(fs.finding.fingerprint for fs in blocking[:5]) + ("…" if len(blocking) > 5 else "")
        return ChecklistState(item, False, who, latest.started_at, note=f"{len(blocking)} open finding(s): {shown}")
    return ChecklistState(item, True, who, latest.started_at, note="no open finding" + also)


def evaluate_checklist(
    items: Iterable[ChecklistItemSpec], run: RunInfo, statuses: Iterable[FindingStatus]
) -> tuple[ChecklistState, ...]:
    """A checklist as it stands after `run` with no manual tick (the automatic items evaluated), e.g. for the
    report of an audit that was not stored in a review."""
    found = list(statuses)
    return tuple(_evaluate(i, run, found) if i.automatic else ChecklistState(i, False) for i in items)
