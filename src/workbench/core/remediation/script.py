"""Turn selected findings into one reviewed remediation script.

Layout of `RemediationScript.text`:

1. header: database, server version, snapshot time, the findings covered;
2. `SET lock_timeout` so that no statement queues behind long transactions and stalls the application;
3. `BEGIN; … COMMIT;` with the fixes whose statements can all run in a transaction;
4. the fixes with a statement that cannot (CREATE/DROP INDEX CONCURRENTLY, VACUUM…), each statement on its own
   after the COMMIT, in the order the check wrote them (a partitioned index is created ON ONLY the parent, built
   on each partition, then attached: the order matters);
5. findings without an SQL fix, with the check's remediation text;
6. the rollback section (commented out): statements restoring the state recorded in the snapshot, undoing the
   fixes of section 3 in one transaction, then those of section 4;
7. the verification section (commented out): per finding, queries showing the state the fix should produce.

Per fix: a comment with the check, the object and why it matters (the registry's rationale), then, above each
statement, the lock it takes and its impact. Comments go through `objects.comment`, which flattens line breaks, so
no object name can escape a comment; commented-out SQL is commented line by line for the same reason.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import sql

from workbench import __version__
from workbench.core.checks.objects import comment
from workbench.core.checks.registry import CheckSpec, all_checks
from workbench.core.migrations.sqltext import Statement, split_statements
from workbench.core.model import Finding, Snapshot
from workbench.core.remediation.plan import PlanContext, plan_statement
from workbench.core.remediation.statements import StatementEffect, classify

LOCK_TIMEOUT = "5s"
_WIDTH = 110


@dataclass(frozen=True, slots=True)
class PlannedStatement:
    """One forward statement with its cost, how to undo it and how to check it."""

    sql: str  # the statement as the check wrote it, without the closing semicolon
    effect: StatementEffect
    rollback: tuple[str, ...] = ()
    rollback_note: str | None = None
    verification: tuple[str, ...] = ()
    duplicate_of: int | None = None  # number of the fix that already runs this exact statement


@dataclass(frozen=True, slots=True)
class FindingFix:
    """The part of the script that fixes one finding."""

    number: int
    finding: Finding
    title: str
    rationale: str
    remediation: str
    statements: tuple[PlannedStatement, ...]
    notes: tuple[str, ...]  # the check's own comments around its statements

    @property
    def transactional(self) -> bool:
        return all(s.effect.transactional for s in self.statements if s.duplicate_of is None)

    @property
    def has_sql(self) -> bool:
        return bool(self.statements)

    @property
    def rollback(self) -> tuple[str, ...]:
        return tuple(stmt for s in reversed(self.statements) for stmt in s.rollback)

    @property
    def rollback_transactional(self) -> bool:
        return all(classify(st).transactional for text in self.rollback for st in split_statements(text))

    @property
    def verification(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q for s in self.statements for q in s.verification))


@dataclass(frozen=True, slots=True)
class ScriptSection:
    kind: str  # header, transaction, outside_transaction, manual, rollback, verification
    title: str
    text: str  # exactly as it appears in RemediationScript.text


@dataclass(frozen=True, slots=True)
class RemediationScript:
    """A reviewed script: `text` to save or run, plus its parts for a UI."""

    text: str
    findings: tuple[Finding, ...]
    sections: tuple[ScriptSection, ...]
    fixes: tuple[FindingFix, ...]
    forward_sql: str  # the runnable part of `text` (header, transaction, outside-transaction sections)
    rollback_sql: str  # the rollback section, runnable
    verification_sql: str  # the verification queries, runnable (read only)

    def section(self, kind: str) -> ScriptSection | None:
        return next((s for s in self.sections if s.kind == kind), None)


def _specs() -> dict[str, CheckSpec]:
    return {c.spec.id: c.spec for c in all_checks()}


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _wrapped(*paragraphs: str) -> str:
    lines: list[str] = []
    for paragraph in paragraphs:
        # Flatten first: a name with a line break must not become a line of its own outside the comment.
        lines.extend(textwrap.wrap(" ".join(paragraph.splitlines()), _WIDTH) or [""])
    return comment(*lines)


def commented(text: str) -> str:
    """SQL text commented out line by line (every kind of line break counts, as PostgreSQL ends `--` at CR)."""
    return "".join(f"-- {line}\n" if line else "--\n" for line in text.rstrip("\n").splitlines())


def _gap_notes(text: str, start: int, end: int) -> list[str]:
    """The comment lines of the check's SQL between two statements, without their comment markers."""
    out: list[str] = []
    for line in text[start:end].splitlines():
        stripped = line.strip().lstrip("-").strip().removeprefix("/*").removesuffix("*/").strip()
        if stripped and stripped != ";":
            out.append(stripped)
    return out


def _plan_fix(
    number: int, finding: Finding, spec: CheckSpec | None, snapshot: Snapshot, seen: dict[str, int]
) -> FindingFix:
    source = finding.remediation_sql or ""
    statements = split_statements(source)
    ctx = PlanContext(snapshot)
    ctx.note_attachments(statements)
    planned: list[PlannedStatement] = []
    notes: list[str] = []
    previous_end = 0
    for st in statements:
        notes.extend(_gap_notes(source, previous_end, st.offset))
        previous_end = st.offset + len(st.text)
        effect = classify(st, snapshot.server_version_num)
        if effect.control:
            continue
        key = _normalise(st.text)
        if key in seen:
            planned.append(PlannedStatement(st.text, effect, duplicate_of=seen[key]))
            continue
        seen[key] = number
        planned.append(_planned(st, effect, ctx))
    notes.extend(_gap_notes(source, previous_end, len(source)))
    return FindingFix(
        number=number,
        finding=finding,
        title=spec.title if spec else finding.title,
        rationale=spec.rationale if spec else "",
        remediation=spec.remediation if spec else "",
        statements=tuple(planned),
        notes=tuple(notes),
    )


def _planned(st: Statement, effect: StatementEffect, ctx: PlanContext) -> PlannedStatement:
    plan = plan_statement(st, ctx)
    return PlannedStatement(
        sql=st.text,
        effect=effect,
        rollback=tuple(s.as_string() for s in plan.rollback),
        rollback_note=plan.note,
        verification=tuple(q.as_string() for q in plan.checks),
    )


def _fix_heading(fix: FindingFix) -> str:
    f = fix.finding
    return (
        comment(f"[{fix.number}] {fix.title} ({f.check}, {f.level.value}) on {f.object.kind} {f.key}")
        + _wrapped(f"Finding: {f.detail}")
        + (_wrapped(f"Why: {fix.rationale}") if fix.rationale else "")
    )


def _fix_block(fix: FindingFix) -> str:
    out = [_fix_heading(fix)]
    if fix.notes:
        out.append(comment(*fix.notes))
    for s in fix.statements:
        if s.duplicate_of is not None:
            out.append(comment(f"(This statement is already run by fix [{s.duplicate_of}] above; not repeated.)"))
            continue
        out.append(_wrapped(s.effect.summary))
        out.append(s.sql + ";\n")
    return "".join(out) + "\n"


def _manual_block(fix: FindingFix) -> str:
    out = [_fix_heading(fix)]
    if fix.notes:
        out.append(comment(*fix.notes))
    if fix.remediation:
        out.append(_wrapped(f"What to do: {fix.remediation}"))
    return "".join(out) + "\n"


def _rollback_block(fix: FindingFix) -> str:
    f = fix.finding
    out = [comment(f"Undo [{fix.number}] {f.check} on {f.key}")]
    notes = [s.rollback_note for s in reversed(fix.statements) if s.rollback_note]
    for note in dict.fromkeys(notes):
        out.append(_wrapped(f"Not restored automatically: {note}."))
    out.extend(stmt + ";\n" for stmt in fix.rollback)
    return "".join(out) + "\n"


def _verification_block(fix: FindingFix) -> str:
    f = fix.finding
    out = [
        comment(f"[{fix.number}] {f.check} on {f.key}: the state after the fix"),
        comment(f"Re-running the audit must no longer report {f.fingerprint}"),
    ]
    out.extend(q + ";\n" for q in fix.verification)
    return "".join(out) + "\n"


def build_script(findings: Iterable[Finding], snapshot: Snapshot) -> RemediationScript:
    """One script fixing `findings` (each fingerprint once, in the given order), with rollback and verification.

    `snapshot` must be the snapshot the findings came from: the rollback restores what it recorded.
    """
    unique: dict[str, Finding] = {}
    for f in findings:
        unique.setdefault(f.fingerprint, f)
    specs = _specs()
    seen: dict[str, int] = {}
    fixes = tuple(_plan_fix(n, f, specs.get(f.check), snapshot, seen) for n, f in enumerate(unique.values(), start=1))
    in_tx = [fx for fx in fixes if fx.has_sql and fx.transactional]
    outside = [fx for fx in fixes if fx.has_sql and not fx.transactional]
    manual = [fx for fx in fixes if not fx.has_sql]

    header = (
        comment(f"Remediation script generated by workbench {__version__}")
        + comment(f"Database: {snapshot.database} (PostgreSQL {snapshot.server_version})")
        + comment(f"Snapshot taken: {snapshot.collected_at}")
        + comment(f"Findings covered: {len(fixes)}")
        + "".join(comment(f"  [{fx.number}] {fx.finding.level.value}: {fx.finding.fingerprint}") for fx in fixes)
        + _wrapped(
            "Review every statement before running it. Statements that cannot run inside a transaction block are "
            "in their own section after the COMMIT. The rollback and verification sections at the end are "
            "commented out."
        )
        + "\n"
        + sql.SQL("SET lock_timeout = {};\n").format(sql.Literal(LOCK_TIMEOUT)).as_string()
        + "\n"
    )
    sections = [ScriptSection("header", "Header", header)]
    if in_tx:
        body = "BEGIN;\n\n" + "".join(_fix_block(fx) for fx in in_tx) + "COMMIT;\n\n"
        sections.append(ScriptSection("transaction", "In one transaction", body))
    if outside:
        body = (
            _wrapped(
                "Outside a transaction block: each statement runs on its own (autocommit), in this order, after the "
                "transaction above committed."
            )
            + "\n"
            + "".join(_fix_block(fx) for fx in outside)
        )
        sections.append(ScriptSection("outside_transaction", "Outside a transaction", body))
    if manual:
        body = comment("Findings without an SQL fix: to do by hand.") + "\n" + "".join(map(_manual_block, manual))
        sections.append(ScriptSection("manual", "Without an SQL fix", body))
    forward_sql = "".join(s.text for s in sections)

    rollback_sql = _rollback_sql(snapshot, [fx for fx in fixes if fx.has_sql])
    verification_sql = "".join(_verification_block(fx) for fx in fixes if fx.verification)
    if rollback_sql:
        body = (
            _wrapped(
                f"Rollback: restores the state recorded in the snapshot of {snapshot.collected_at}. "
                "Commented out: run it only to undo this script."
            )
            + commented(rollback_sql)
            + "\n"
        )
        sections.append(ScriptSection("rollback", "Rollback", body))
    if verification_sql:
        body = comment("Verification: read-only queries to run after the script.") + commented(verification_sql)
        sections.append(ScriptSection("verification", "Verification", body))
    return RemediationScript(
        text="".join(s.text for s in sections),
        findings=tuple(unique.values()),
        sections=tuple(sections),
        fixes=fixes,
        forward_sql=forward_sql,
        rollback_sql=rollback_sql,
        verification_sql=verification_sql,
    )


def _rollback_sql(snapshot: Snapshot, fixes: list[FindingFix]) -> str:
    """Undo the transactional fixes in one transaction (last fix first), then the others one statement at a time."""
    undoable = [fx for fx in reversed(fixes) if fx.rollback or any(s.rollback_note for s in fx.statements)]
    if not undoable:
        return ""
    in_tx = [fx for fx in undoable if fx.rollback_transactional]
    outside = [fx for fx in undoable if not fx.rollback_transactional]
    out = [sql.SQL("SET lock_timeout = {};\n\n").format(sql.Literal(LOCK_TIMEOUT)).as_string()]
    if in_tx:
        out.append("BEGIN;\n\n" + "".join(map(_rollback_block, in_tx)) + "COMMIT;\n\n")
    if outside:
        out.append(comment("Outside a transaction block, one statement at a time:") + "\n")
        out.append("".join(map(_rollback_block, outside)))
    return "".join(out)
