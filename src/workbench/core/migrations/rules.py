"""The migration rules over a folder of files (CHECKS.md, "Migrations"): pure functions, no database."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from workbench.core.checks.registry import CheckSpec
from workbench.core.migrations.analysis import FileAnalysis, FolderAnalysis, excerpt
from workbench.core.migrations.files import MigrationFile
from workbench.core.migrations.forms import StatementInfo
from workbench.core.migrations.registry import MigrationConfig, declare_rule, file_ref, migration_rule
from workbench.core.model import Finding, Level

_MAX_LISTED = 10

# -- migration_duplicate_version -------------------------------------------------------------------------------


@migration_rule(
    "migration_duplicate_version",
    "Two migrations share a version",
    Level.WARN,
    description="two files share a version prefix (seed 002 §4.3.1)",
    rationale=(
        "Runners order migrations by version and record the versions they applied. Two files with the same "
        "version are applied in an order that depends on the runner (by file name, by number, by file system), "
        "and a runner that records applied versions (Supabase's supabase_migrations.schema_migrations, Flyway's "
        "history table) treats the second one as already applied and skips it. A date (20250909) and a timestamp "
        "of the same day (20250909205408) are ordered differently by a runner that sorts file names and by one "
        "that sorts numbers."
    ),
    remediation=(
        "Give every file a unique version in the format the runner expects (Supabase: a 14-digit timestamp), "
        "renaming the file that was written last; on a database where both already ran, update the recorded "
        "version as well."
    ),
)
def duplicate_version(spec: CheckSpec, analysis: FolderAnalysis, config: MigrationConfig) -> Iterator[Finding]:
    files = [f for f in analysis.folder.files if f.version is not None and f.kind == "versioned"]
    by_key: dict[tuple[int, str], list[MigrationFile]] = {}
    for f in files:
        by_key.setdefault(f.order_key, []).append(f)
    for group in by_key.values():
        for later in group[1:]:
            yield spec.finding(
                file_ref(later.relative),
                f"{later.relative} has version {later.version}, like {group[0].relative}: runners apply the two "
                "in an undefined order, and one that records applied versions skips the second.",
                evidence={"version": later.version, "conflict": "same version", "files": [g.relative for g in group]},
            )
    dated = [f for f in files if f.digits is not None and len(f.digits) >= 8]
    for short in dated:
        assert short.digits is not None
        for long in dated:
            assert long.digits is not None
            if len(long.digits) > len(short.digits) and long.digits.startswith(short.digits):
                by_name = sorted((short.relative, long.relative))
                yield spec.finding(
                    file_ref(short.relative),
                    f"{short.relative} (version {short.version}) and {long.relative} (version {long.version}) share "
                    f"the prefix {short.digits}: a runner that sorts file names applies {by_name[0]} first, one "
                    f"that sorts versions applies {short.relative} first.",
                    evidence={
                        "version": short.version,
                        "conflict": "shared prefix",
                        "prefix": short.digits,
                        "files": [short.relative, long.relative],
                    },
                )


# -- migration_conflicting_schema_files ------------------------------------------------------------------------

_SCHEMA_QUALIFIERS = frozenset(
    {"complete", "full", "whole", "entire", "base", "baseline", "initial", "init", "dump", "all", "master",
     "consolidated", "squashed", "combined", "current"}
)  # fmt: skip
_SCHEMA_ALONE = frozenset({"dump", "baseline", "squashed", "consolidated"})
_PG_DUMP = re.compile(r"^--\s*PostgreSQL database dump", re.IGNORECASE | re.MULTILINE)


def _schema_file_reason(f: MigrationFile) -> str | None:
    words = set(re.split(r"[^a-z0-9]+", f.name.lower())) - {""}
    if f.name.lower() in ("schema", "structure", "database"):
        return f"named {f.name!r}"
    if "schema" in words and words & _SCHEMA_QUALIFIERS:
        return f"named like a complete schema ({f.name!r})"
    if words & _SCHEMA_ALONE:
        return f"named like a schema dump ({f.name!r})"
    if _PG_DUMP.search(f.text[:2000]):
        return "a pg_dump output"
    return None


@migration_rule(
    "migration_conflicting_schema_files",
    "Several complete-schema files",
    Level.WARN,
    description='several "complete schema" files (seed 002 §4.3.2)',
    rationale=(
        "A folder holding two complete definitions of the schema (000_complete_schema.sql and "
        "000_complete_schema_fixed.sql, a dump next to a baseline) leaves nobody sure which one is authoritative. "
        "Applied in order, the second fails on objects the first created, or silently re-creates them differently "
        "when written with IF NOT EXISTS; a new environment built from the folder does not match production."
    ),
    remediation=(
        "Keep one baseline: fold the fixes into it (or into a later migration) and delete the other file, or move "
        "reference dumps out of the migrations folder."
    ),
)
def conflicting_schema_files(spec: CheckSpec, analysis: FolderAnalysis, config: MigrationConfig) -> Iterator[Finding]:
    found = [(f, reason) for f in analysis.folder.files if (reason := _schema_file_reason(f)) is not None]
    if len(found) < 2:
        return
    names = [f.relative for f, _ in found]
    for f, reason in found[1:]:
        yield spec.finding(
            file_ref(f.relative),
            f"{f.relative} ({reason}) is one more complete schema definition next to {found[0][0].relative}.",
            evidence={"reason": reason, "files": names},
        )


# -- migration_missing_rollback --------------------------------------------------------------------------------

_REPLACEABLE = frozenset({"FUNCTION", "PROCEDURE", "VIEW", "POLICY", "TRIGGER", "INDEX", "RULE", "AGGREGATE"})


def _changes(fa: FileAnalysis, defined_before: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """The destructive or complex changes of one file, with their lines."""
    infos = fa.statements
    created_here: set[tuple[str, str]] = set()
    changes: list[dict[str, Any]] = []
    existing_alters: list[StatementInfo] = []
    for i, info in enumerate(infos):
        later_creates = {c for later in infos[i + 1 :] for c in later.creates}
        # DROP … then CREATE of the same definition is a replace, not a loss (unless it held data).
        recreated = bool(info.drops) and all(d in later_creates and d[0] in _REPLACEABLE for d in info.drops)
        if recreated:
            changes.extend(
                {"line": info.line, "change": f"replaces {d[0].lower()} {d[1]} defined by an earlier file"}
                for d in info.drops
                if d in defined_before
            )
        else:
            changes.extend({"line": info.line, "change": phrase} for phrase in info.destructive)
        for kind, name in info.replaces:
            if (kind, name) in defined_before and (kind, name) not in created_here:
                change = f"replaces {kind.lower()} {name} defined by an earlier file"
                changes.append({"line": info.line, "change": change})
        created_here.update(info.creates)
        if info.altered_table and ("TABLE", info.altered_table) not in created_here and not info.destructive:
            existing_alters.append(info)
    actions = sum(a.alter_actions for a in existing_alters)
    if actions >= 2:
        tables = sorted({a.altered_table for a in existing_alters if a.altered_table})
        changes.append(
            {"line": existing_alters[0].line, "change": f"{actions} changes to existing tables ({', '.join(tables)})"}
        )
    return sorted(changes, key=lambda c: int(c["line"]))


@migration_rule(
    "migration_missing_rollback",
    "Destructive or multi-step migration without a rollback",
    Level.INFO,
    description="a file with destructive or complex changes and no rollback section or down file",
    rationale=(
        "When a migration fails half-way in production, or must be reverted after it ran, the way back has to "
        "be written before, not improvised during the incident. Files that drop or rename objects, change "
        "column types, delete or update rows, replace a function or view defined earlier (its previous body "
        "exists nowhere else) or make several changes to existing tables need one. Files that only create new "
        "objects are not flagged: dropping them is their obvious rollback."
    ),
    remediation=(
        "Add a rollback section at the end of the file (a '-- rollback' comment followed by the commented-out "
        "statements that undo it, or the runner's down marker such as '-- migrate:down'), or a down file "
        "(NAME.down.sql); for data changes, say how to restore the rows (a backup table, a reverse UPDATE)."
    ),
)
def missing_rollback(spec: CheckSpec, analysis: FolderAnalysis, config: MigrationConfig) -> Iterator[Finding]:
    defined: set[tuple[str, str]] = set()
    for fa in analysis.files:
        changes = _changes(fa, defined) if fa.file.rollback is None else []
        defined.update(c for info in fa.statements for c in info.creates)
        if not changes:
            continue
        first = changes[0]
        more = f" and {len(changes) - 1} more change(s)" if len(changes) > 1 else ""
        yield spec.finding(
            file_ref(fa.relative),
            f"{fa.relative} {first['change']} (line {first['line']}){more}, and has no rollback section or down file.",
            evidence={"line": first["line"], "changes": changes[:_MAX_LISTED], "rollback": None},
        )


# -- migration_non_idempotent ----------------------------------------------------------------------------------


def _guarded(fa: FileAnalysis) -> Iterator[tuple[StatementInfo, bool]]:
    """Every statement that can be written re-runnable, and whether it is."""
    dropped_if_exists: set[tuple[str, str]] = set()
    for info in fa.statements:
        dropped_if_exists.update(info.guarded_drops)
        if info.guard is None:
            continue
        guarded = info.guard or bool(info.needs_guard_from and set(info.needs_guard_from) <= dropped_if_exists)
        yield info, guarded


def idempotency_convention(analysis: FolderAnalysis, config: MigrationConfig) -> tuple[bool, int, int]:
    """(is the convention idempotent, guarded statements, guardable statements) over the applied files."""
    guarded = total = 0
    for fa in analysis.files:
        for _info, ok in _guarded(fa):
            total += 1
            guarded += ok
    if config.idempotent is not None:
        return config.idempotent, guarded, total
    detected = guarded >= config.idempotent_min and guarded >= config.idempotent_share * total
    return detected, guarded, total


_IDEMPOTENT_FORM = {
    "CREATE TABLE": "CREATE TABLE IF NOT EXISTS …",
    "CREATE INDEX": "CREATE INDEX IF NOT EXISTS name ON … (an index without a name is created again on every run)",
    "CREATE SCHEMA": "CREATE SCHEMA IF NOT EXISTS …",
    "CREATE SEQUENCE": "CREATE SEQUENCE IF NOT EXISTS …",
    "CREATE EXTENSION": "CREATE EXTENSION IF NOT EXISTS …",
    "CREATE VIEW": "CREATE OR REPLACE VIEW …",
    "CREATE FUNCTION": "CREATE OR REPLACE FUNCTION …",
    "CREATE PROCEDURE": "CREATE OR REPLACE PROCEDURE …",
    "CREATE TRIGGER": "CREATE OR REPLACE TRIGGER … (PostgreSQL 14+), or DROP TRIGGER IF EXISTS … first",
    "CREATE POLICY": "DROP POLICY IF EXISTS name ON table; then CREATE POLICY …",
    "ALTER TABLE": "ADD COLUMN IF NOT EXISTS / DROP COLUMN IF EXISTS / DROP CONSTRAINT IF EXISTS before ADD CONSTRAINT",
}


@migration_rule(
    "migration_non_idempotent",
    "Statement not re-runnable in an idempotent project",
    Level.INFO,
    description="CREATE/ALTER without IF [NOT] EXISTS where the project's convention is idempotent files",
    rationale=(
        "Most statements of this folder are written to be re-runnable (IF NOT EXISTS, OR REPLACE, DROP … IF "
        "EXISTS first), so the team relies on re-running files: after a partial failure, on a branch database, "
        "when squashing. A statement that is not fails the second run and stops the files after it."
    ),
    remediation=(
        "Use the guarded form (CREATE … IF NOT EXISTS, CREATE OR REPLACE, ADD COLUMN IF NOT EXISTS, DROP … IF "
        "EXISTS); for objects without one (policies, types, constraints) drop them IF EXISTS first or wrap the "
        "statement in a DO block that checks the catalog."
    ),
)
def non_idempotent(spec: CheckSpec, analysis: FolderAnalysis, config: MigrationConfig) -> Iterator[Finding]:
    idempotent, guarded, total = idempotency_convention(analysis, config)
    if not idempotent:
        return
    convention = {"guarded": guarded, "guardable": total, "configured": config.idempotent is not None}
    for fa in analysis.files:
        for info, ok in _guarded(fa):
            if ok:
                continue
            form = _IDEMPOTENT_FORM.get(info.command)
            yield spec.finding(
                file_ref(fa.relative),
                f"{info.command} at line {info.line} of {fa.relative} fails when the file runs a second time; "
                f"{guarded} of {total} such statements in this folder are re-runnable.",
                evidence={
                    "line": info.line,
                    "statement": excerpt(info.statement.text),
                    "convention": convention,
                    **({"idempotent_form": form} if form else {}),
                },
            )


# -- migration_unsafe_operation --------------------------------------------------------------------------------

UNSAFE_REMEDIATION = (
    "Use the lock-friendly form shown with each finding: CREATE INDEX CONCURRENTLY (in a migration of its own), "
    "constraints added NOT VALID then validated in a separate transaction, NOT NULL enforced through a "
    "validated CHECK, new columns added nullable or with a constant default and backfilled in batches, type "
    "changes through a new column. Start every migration with SET lock_timeout (e.g. '2s') and retry: an "
    "ACCESS EXCLUSIVE request queued behind a long query blocks every query that comes after it."
)


@migration_rule(
    "migration_unsafe_operation",
    "Lock-heavy migration statement",
    Level.WARN,
    description=(
        "lock-heavy DDL (squawk's rules, e.g. CREATE INDEX without CONCURRENTLY, ADD COLUMN NOT NULL without "
        "default, SET NOT NULL, type change), confirmed by the locks and rewrites measured during the replay"
    ),
    rationale=(
        "On a table that has rows and traffic, these statements hold a lock that blocks writes (SHARE: CREATE "
        "INDEX) or every query (ACCESS EXCLUSIVE: table rewrites, validation scans, SET NOT NULL) for as long as "
        "they scan or rewrite the table, and until the migration's transaction commits. The replay measures what "
        "each statement really does on the server: the locks it takes on tables that existed before the file "
        "(pg_locks) and whether it rewrote one (pg_class.relfilenode changed)."
    ),
    remediation=UNSAFE_REMEDIATION,
)
def unsafe_operation_static(spec: CheckSpec, analysis: FolderAnalysis, config: MigrationConfig) -> Iterator[Finding]:
    """Pattern-only findings (no replay): operations on tables the same file did not create before."""
    for fa in analysis.files:
        yield from static_unsafe_findings(spec, fa)


def static_unsafe_findings(spec: CheckSpec, fa: FileAnalysis) -> Iterable[Finding]:
    created: set[str] = set()
    for info in fa.statements:
        ops = [op for op in info.operations if op.table not in created]
        created.update(name for kind, name in info.creates if kind in ("TABLE", "MATERIALIZED VIEW"))
        if not ops:
            continue
        yield spec.finding(
            file_ref(fa.relative),
            f"Line {info.line}: {ops[0].summary}" + (f" (and {len(ops) - 1} more)" if len(ops) > 1 else "") + ".",
            evidence={
                "line": info.line,
                "statement": excerpt(info.statement.text),
                "operations": [{"kind": op.kind, "table": op.table} for op in ops],
                "measured": False,
            },
            sql="\n\n".join(op.safer_sql for op in ops),
        )


# -- migration_replay_failed (reported by the replay) ----------------------------------------------------------

REPLAY_FAILED = declare_rule(
    "migration_replay_failed",
    "Migration fails to apply",
    Level.ERROR,
    description="a file fails when the migrations are applied in order to an empty database",
    rationale=(
        "The replay applies the files in version order, each in its own transaction, to a throwaway PostgreSQL "
        "server (after the Supabase-like scaffold when asked). A file that fails there fails on every new "
        "environment built from this folder (a branch, a preview, a disaster recovery), and every file after it "
        "never runs."
    ),
    remediation=(
        "Fix the statement at the reported line; when it depends on an object that only exists in production "
        "(created by hand or by the platform), create that object in a migration, or replay with --scaffold "
        "supabase for Supabase projects."
    ),
)
