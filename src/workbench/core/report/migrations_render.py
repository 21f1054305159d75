"""A migrations review as JSON, Markdown or terminal text.

The JSON keeps the audit's output contract at the top level (tool, database, started_at, duration_s,
checks_run, checks_skipped, findings) so that tools reading ``workbench audit --format json`` read this too; the
database is the replayed one. Audit findings carry ``attributed_to`` (the migration that created and the one that
last altered their object), and a ``migrations`` section describes the folder and the replay. The Markdown
reuses the audit's review for the replayed schema.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from workbench import __version__
from workbench.core.checks.registry import REGISTRY, CheckSpec
from workbench.core.migrations import MigrationReview, migration_specs
from workbench.core.migrations.replay import REPLAY_SKIPPED_CHECKS
from workbench.core.model import Finding, Level
from workbench.core.report.audit_json import sort_findings
from workbench.core.report.audit_markdown import render_markdown

__all__ = ["migrations_to_dict", "render_migrations_markdown", "render_migrations_text"]

_REPLAY_SKIP_REASON = "judges traffic, statistics or the server: not meaningful on a freshly replayed schema"


def _skipped(review: MigrationReview) -> list[dict[str, str]]:
    if review.audit is None:
        return []
    out = [{"check": s.check, "reason": s.reason} for s in review.audit.checks_skipped]
    out += [{"check": c, "reason": _REPLAY_SKIP_REASON} for c in REPLAY_SKIPPED_CHECKS if c in REGISTRY]
    return out


def _file_rows(review: MigrationReview) -> list[dict[str, Any]]:
    replayed = {a.file: a for a in review.replay.files} if review.replay is not None else {}
    rows = []
    for f in review.files:
        row: dict[str, Any] = {
            "file": f.relative,
            "version": f.version,
            "kind": f.kind,
            "rollback": f.rollback,
            "down_file": f.down_file,
        }
        applied = replayed.get(f.relative)
        if applied is not None:
            row.update({k: v for k, v in applied.as_json().items() if k != "file"})
        elif review.replay is not None:
            row["status"] = "not applied (no version prefix)"
        rows.append(row)
    return rows


def migrations_to_dict(review: MigrationReview) -> dict[str, Any]:
    audit = review.audit
    replay = review.replay
    database = None
    if audit is not None:
        snap = audit.snapshot
        database = {
            "name": snap.database,
            "server_version": snap.server_version,
            "server_version_num": snap.server_version_num,
        }
    findings = []
    for f in sort_findings(list(review.all_findings)):
        item = f.as_json()
        if replay is not None and f.object.kind != "file":
            attribution = replay.attribution_of(f)
            item["attributed_to"] = attribution.as_json() if attribution else None
        findings.append(item)
    return {
        "tool": {"name": "workbench", "version": __version__},
        "database": database,
        "started_at": review.started_at,
        "duration_s": review.duration_s,
        "checks_run": list(review.rules_run) + (list(audit.checks_run) if audit is not None else []),
        "checks_skipped": _skipped(review),
        "findings": findings,
        "migrations": {
            "folder": review.folder,
            "files": _file_rows(review),
            "down_files": list(review.analysis.folder.down_files),
            "unreadable": [{"file": f, "reason": r} for f, r in review.analysis.folder.unreadable],
            "replay": None
            if replay is None
            else {
                "server_version": replay.server_version,
                "scaffold": replay.scaffold,
                "apply_s": replay.apply_s,
                "duration_s": replay.duration_s,
                "failure": replay.failure.as_json() if replay.failure is not None else None,
            },
        },
    }


def _counts(findings: tuple[Finding, ...] | list[Finding]) -> str:
    counts = Counter(f.level for f in findings)
    return ", ".join(f"{counts[lv]} {lv.value}" for lv in Level)


def _where(review: MigrationReview, f: Finding) -> str:
    if f.object.kind == "file":
        line = f.evidence.get("line")
        return f"line {line}" if line is not None else "file"
    attribution = review.replay.attribution_of(f) if review.replay is not None else None
    if attribution is None:
        return f.key
    parts = [f.key]
    if attribution.created_in:
        parts.append(f"created in {attribution.created_in}")
    if attribution.last_altered_in and attribution.last_altered_in != attribution.created_in:
        parts.append(f"last altered in {attribution.last_altered_in}")
    return ", ".join(parts)


def _headline(review: MigrationReview) -> str:
    replay = review.replay
    if replay is None:
        how = "not replayed"
    else:
        scaffold = f" after the {replay.scaffold} scaffold" if replay.scaffold else ""
        how = f"replayed on PostgreSQL {replay.server_version}{scaffold} in {replay.duration_s:.1f} s"
    return f"Migrations in {review.folder}: {len(review.files)} files, {how}"


def render_migrations_text(review: MigrationReview) -> str:
    """Findings grouped by file, the replay's outcome, then a summary line."""
    out = [_headline(review), ""]
    groups = review.by_file()
    width = max((len(f.check) for f in review.all_findings), default=10)
    for name, items in groups.items():
        out.append(name or "(not attributable to a migration file)")
        for f in sort_findings(items):
            out.append(f"  {f.level.value.upper():5}  {f.check:{width}}  {_where(review, f)}")
            out.append(f"  {'':5}  {'':{width}}  {f.detail}")
        out.append("")
    replay = review.replay
    if replay is not None:
        notes = [(a.file, n) for a in replay.files for n in a.notes]
        for file, note in notes:
            out.append(f"NOTE   {file}: {note}")
        if replay.failure is not None:
            failure = replay.failure
            out.append(f"FAILED {failure.file}, line {failure.line}: {failure.message}")
            reached = sum(1 for a in replay.files if a.status == "applied")
            out.append(f"       the replay stopped there ({reached} files applied before it)")
        if notes or replay.failure is not None:
            out.append("")
    audit_count = len(review.audit.findings) if review.audit is not None else 0
    out.append(
        f"{len(review.findings)} migration findings ({_counts(review.findings)}); {audit_count} database audit "
        f"findings on the replayed schema; {review.duration_s:.2f} s"
    )
    return "\n".join(out)


def _md_code(text: object) -> str:
    value = str(text)
    fence = "``" if "`" in value else "`"
    return f"{fence}{value}{fence}"


def _md_cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_migrations_markdown(review: MigrationReview) -> str:
    """The review: files table, migration findings by file with their safer SQL, then the database audit."""
    specs: dict[str, CheckSpec] = {s.id: s for s in migration_specs()}
    out = [f"# Migrations review: {review.folder}", "", f"- {_headline(review)}"]
    out.append(f"- **Migration findings**: {len(review.findings)} ({_counts(review.findings)})")
    if review.audit is not None:
        out.append(f"- **Database audit findings**: {len(review.audit.findings)} ({_counts(review.audit.findings)})")
    out.append(f"- **Tool**: workbench {__version__}, {review.duration_s:.2f} s")
    out += ["", "## Files", "", "| # | File | Version | Rollback | Replay | Findings |", "|---|---|---|---|---|---|"]
    groups = review.by_file()
    for i, row in enumerate(_file_rows(review), 1):
        status = row.get("status", "—")
        if row.get("seconds") is not None and status == "applied":
            status = f"applied ({row['seconds']:.2f} s)"
        count = len(groups.get(row["file"], []))
        out.append(
            f"| {i} | {_md_code(row['file'])} | {_md_cell(row['version'] or '—')} | "
            f"{_md_cell(row['rollback'] or 'none')} | {_md_cell(status)} | {count} |"
        )
    out.append("")
    replay = review.replay
    if replay is not None and replay.failure is not None:
        failure = replay.failure
        out += [
            "## Replay stopped",
            "",
            f"{_md_code(failure.file)}, line {failure.line}: **{_md_cell(failure.message)}**"
            + (f" (SQLSTATE {failure.sqlstate})" if failure.sqlstate else ""),
            "",
            "```sql",
            failure.statement,
            "```",
            "",
        ]
        if failure.hint:
            out += [f"Hint: {failure.hint}", ""]
    notes = [(a.file, n) for a in replay.files for n in a.notes] if replay is not None else []
    if notes:
        out += ["## Replay notes", ""] + [f"- {_md_code(file)}: {_md_cell(note)}" for file, note in notes] + [""]
    if review.findings:
        out += ["## Migration findings by file", ""]
        for name, items in groups.items():
            own = [f for f in items if f.object.kind == "file"]
            if not own:
                continue
            out += [f"### {_md_code(name)}", ""]
            for f in sort_findings(own):
                spec = specs[f.check]
                out += [f"#### {spec.title} ({_md_code(f.check)}, {f.level.value}) — {_where(review, f)}", ""]
                out += [f.detail, ""]
                statement = f.evidence.get("statement")
                if statement:
                    out += [f"- Statement: {_md_code(statement)}"]
                relations = f.evidence.get("relations")
                if relations:
                    out += [f"- Measured: {_md_code(json.dumps(relations, ensure_ascii=False))}"]
                out.append("")
                if f.remediation_sql:
                    out += ["```sql", f.remediation_sql.rstrip(), "```", ""]
                out += [f"<sub>fingerprint {_md_code(f.fingerprint)}</sub>", ""]
    triggered = sorted({f.check for f in review.findings})
    if triggered:
        out += ["## Migration rules", ""]
        for check_id in triggered:
            spec = specs[check_id]
            out += [f"### {spec.title} ({_md_code(check_id)}, {spec.level.value})", "", spec.rationale, ""]
            out += [f"**How to fix**: {spec.remediation}", ""]
    if review.audit is not None:
        attributed = [(f, _where(review, f)) for f in sort_findings(list(review.audit.findings))]
        if attributed:
            out += [
                "## Database audit findings by migration",
                "",
                "| Level | Check | Object and migration |",
                "|---|---|---|",
            ]
            out += [f"| {f.level.value} | {_md_code(f.check)} | {_md_cell(where)} |" for f, where in attributed]
            out.append("")
        audit_md = render_markdown(review.audit)
        out += ["## Database audit of the replayed schema", ""]
        out += [("#" + line) if line.startswith("#") else line for line in audit_md.splitlines()[1:]]
    return "\n".join(out).rstrip() + "\n"
