"""`workbench review list|show|decide|signoff` and `workbench audit --review NAME`: the review workflow headless.

Parsing and output only; the store is `workbench.core.review`. Errors are one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from workbench.core.review.status import DecisionStatus

if TYPE_CHECKING:  # the store (SQLAlchemy) and the renderers are imported by the functions that use them
    from workbench.core.checks.runner import AuditResult
    from workbench.core.model import Finding
    from workbench.core.review import ReviewState, ReviewStore, RunComparison

EXIT_OK = 0


def _fail(message: str) -> NoReturn:
    from workbench.cli.main import UsageError  # imported late: main imports this module

    raise UsageError(message)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_parser(sub: Any) -> None:
    """The `review` command and its actions, on the main parser's subcommands."""
    p = sub.add_parser("review", help="decisions, checklist and sign-off of a review (the local review store)")
    actions = p.add_subparsers(dest="review_command", metavar="ACTION", required=True)

    q = actions.add_parser("list", help="list the reviews in the store")
    q.add_argument("--format", choices=("text", "json"), default="text")

    q = actions.add_parser("show", help="show a review: findings with decisions, fixes, checklist, sign-offs")
    q.add_argument("name")
    q.add_argument("--format", choices=("text", "json", "md"), default="text")
    q.add_argument("--output", "-o", type=Path, help="write to FILE instead of standard output")

    q = actions.add_parser("decide", help="record a decision on a finding (by fingerprint)")
    q.add_argument("name")
    q.add_argument("fingerprint")
    q.add_argument("--status", required=True, choices=[s.value for s in DecisionStatus])
    q.add_argument("--note", default="")
    q.add_argument("--until", type=_date, metavar="DATE", help="for --status deferred: deferred until (YYYY-MM-DD)")
    q.add_argument("--reviewer", required=True, metavar="WHO")

    q = actions.add_parser("signoff", help="sign the review off as it is now")
    q.add_argument("name")
    q.add_argument("--reviewer", required=True, metavar="WHO")
    q.add_argument("--role", required=True)
    q.add_argument("--statement", required=True, metavar="TEXT")


def _open_store() -> ReviewStore:
    from workbench.core.review import ReviewStore, ReviewStoreError

    try:
        return ReviewStore()
    except ReviewStoreError as exc:
        _fail(str(exc))


def cmd_review(args: argparse.Namespace) -> int:
    from workbench.core.review import ReviewStoreError

    store = _open_store()
    try:
        action = {"list": _list, "show": _show, "decide": _decide, "signoff": _signoff}[args.review_command]
        return action(store, args)
    except ReviewStoreError as exc:
        _fail(str(exc))
    finally:
        store.close()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"Cannot write {output}: {exc.strerror or exc}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- list -------------------------------------------------------------------------------------------------------


def _list(store: ReviewStore, args: argparse.Namespace) -> int:
    reviews = store.reviews()
    if args.format == "json":
        rows = [
            {
                "name": r.name,
                "created_at": r.created_at,
                "runs": r.runs,
                "latest_run_at": r.latest_run_at,
                "database": r.database,
                "signoff_status": r.signoff_status,
                "profile": r.profile,
            }
            for r in reviews
        ]
        _write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", None)
        return EXIT_OK
    if not reviews:
        _write(f"No reviews yet in {store.path}. Create one with: workbench audit --dsn ... --review NAME\n", None)
        return EXIT_OK
    width = max(len(_one_line(r.name)) for r in reviews)
    lines = [f"{'REVIEW':{width}}  RUNS  LATEST RUN                 DATABASE              SIGN-OFF"]
    for r in reviews:
        lines.append(
            f"{_one_line(r.name):{width}}  {r.runs:4}  {r.latest_run_at or '-':25}  "
            f"{_one_line(r.database or '-'):20}  {r.signoff_status}"
        )
    _write("\n".join(lines) + "\n", None)
    return EXIT_OK


# --- show -------------------------------------------------------------------------------------------------------


def _signoff_line(state: ReviewState) -> str:
    if not state.signoffs:
        return "not signed"
    last = state.signoffs[-1]
    who = f"{_one_line(last.reviewer)} ({_one_line(last.role)}) on {last.signed_at}"
    if last.superseded:
        return f"SUPERSEDED: signed by {who}, changed since; a new sign-off is needed"
    return f"signed by {who}"


def _profile_line(profile: dict[str, Any]) -> str:
    parts = [str(profile[k]) for k in ("name", "target", "database", "environment", "snapshot") if profile.get(k)]
    return _one_line(", ".join(parts)) or "-"


def render_state_text(state: ReviewState) -> str:
    from workbench.core.report.audit_json import sort_findings
    from workbench.core.review import fixed_label

    r = state.review
    out = [
        f"Review: {_one_line(r.name)}",
        f"Profile: {_profile_line(r.profile)}",
        f"Created: {r.created_at}",
        f"Sign-off: {_signoff_line(state)}",
        f"Content hash: {state.content_hash}",
    ]
    run = state.latest_run
    if run is None:
        out.append("No audit run yet: workbench audit --dsn ... --review NAME")
    else:
        out.append(
            f"Latest run: #{run.number} started {run.started_at} on {_one_line(run.database)} (PostgreSQL "
            f"{run.server_version}): {len(run.findings)} findings, {len(run.checks_run)} checks run, "
            f"{len(run.checks_skipped)} skipped"
        )
        if state.comparison is not None and state.previous_run is not None:
            out.append(f"Since run #{state.previous_run.number}: {state.comparison.summary}")
        out.append("")
        out.append("Findings of the latest run:")
        if not state.findings:
            out.append("  none")
        by_fp = {fs.finding.fingerprint: fs for fs in state.findings}
        for f in sort_findings([fs.finding for fs in state.findings]):
            fs = by_fp[f.fingerprint]
            note = f" — {_one_line(fs.decision.note)}" if fs.decision and fs.decision.note else ""
            who = f" ({_one_line(fs.decision.reviewer)})" if fs.decision else ""
            out.append(f"  {f.level.value:5}  {fs.label:28}  {_one_line(f.fingerprint)}{who}{note}")
    if state.resolved:
        out.append("")
        out.append("Fixed:")
        for d in state.resolved:
            out.append(f"  {fixed_label(d):28}  {_one_line(d.fingerprint)}")
    out.append("")
    out.append("Checklist:")
    for c in state.checklist:
        mark = "[x]" if c.ticked else "[ ]"
        by = f" — {_one_line(c.who)}, {c.at}" if c.who and c.ticked else ""
        note = f" ({_one_line(c.note)})" if c.note else ""
        section = f"{c.item.section}: " if c.item.section else ""
        out.append(f"  {mark} {section}{_one_line(c.item.text)}{by}{note}")
    if state.signoffs:
        out.append("")
        out.append("Sign-off history:")
        for s in state.signoffs:
            flag = "superseded" if s.superseded else "current"
            out.append(
                f"  {s.signed_at}  {_one_line(s.reviewer)} ({_one_line(s.role)}): "
                f"{_one_line(s.statement)} [{flag}, hash {s.content_hash[:12]}]"
            )
    return "\n".join(out) + "\n"


def _cell(text: object) -> str:
    return _one_line(str(text)).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")


def render_state_markdown(state: ReviewState) -> str:
    from workbench.core.report.audit_json import sort_findings
    from workbench.core.review import fixed_label

    r = state.review
    out = [
        f"# Review {_cell(r.name)}",
        "",
        f"- **Profile:** {_cell(_profile_line(r.profile))}",
        f"- **Created:** {r.created_at}",
        f"- **Sign-off:** {_cell(_signoff_line(state))}",
        f"- **Content hash:** `{state.content_hash}`",
    ]
    run = state.latest_run
    if run is not None:
        out.append(
            f"- **Latest run:** #{run.number}, {run.started_at}, {_cell(run.database)} (PostgreSQL "
            f"{_cell(run.server_version)}), {len(run.findings)} findings"
        )
        if state.comparison is not None and state.previous_run is not None:
            out.append(f"- **Since run #{state.previous_run.number}:** {state.comparison.summary}")
        out += ["", "## Findings", "", "| Level | Status | Finding | Decided by | Note |", "|---|---|---|---|---|"]
        by_fp = {fs.finding.fingerprint: fs for fs in state.findings}
        for f in sort_findings([fs.finding for fs in state.findings]):
            fs = by_fp[f.fingerprint]
            d = fs.decision
            out.append(
                f"| {f.level.value} | {_cell(fs.label)} | {_cell(f.fingerprint)} | "
                f"{_cell(d.reviewer) if d else ''} | {_cell(d.note) if d else ''} |"
            )
    if state.resolved:
        out += ["", "## Fixed", "", "| Finding | Verified |", "|---|---|"]
        out += [f"| {_cell(d.fingerprint)} | {_cell(fixed_label(d))} |" for d in state.resolved]
    out += ["", "## Checklist", ""]
    for c in state.checklist:
        by = f" — {_cell(c.who)}, {c.at}" if c.who and c.ticked else ""
        note = f" _({_cell(c.note)})_" if c.note else ""
        out.append(f"- [{'x' if c.ticked else ' '}] {_cell(c.item.text)}{by}{note}")
    if state.signoffs:
        out += ["", "## Sign-off history", ""]
        out += ["| Signed at | Reviewer | Role | Statement | Status |", "|---|---|---|---|---|"]
        for s in state.signoffs:
            out.append(
                f"| {s.signed_at} | {_cell(s.reviewer)} | {_cell(s.role)} | {_cell(s.statement)} | "
                f"{'superseded' if s.superseded else 'current'} |"
            )
    return "\n".join(out) + "\n"


def _show(store: ReviewStore, args: argparse.Namespace) -> int:
    state = store.state(args.name)
    if args.format == "json":
        text = json.dumps(state.as_json(), indent=2, ensure_ascii=False, default=str) + "\n"
    elif args.format == "md":
        text = render_state_markdown(state)
    else:
        text = render_state_text(state)
    _write(text, args.output)
    return EXIT_OK


# --- decide, signoff ----------------------------------------------------------------------------------------------


def _decide(store: ReviewStore, args: argparse.Namespace) -> int:
    known = store.known_fingerprints(args.name)
    if args.fingerprint not in known:
        _fail(
            f"Review {args.name!r} has no finding with fingerprint {args.fingerprint!r}; "
            f"see: workbench review show {args.name}"
        )
    before = store.review(args.name).signoff_status
    decision = store.decide(
        args.name, args.fingerprint, args.status, reviewer=args.reviewer, note=args.note, until=args.until
    )
    until = f" until {decision.deferred_until.isoformat()}" if decision.deferred_until else ""
    print(f"{_one_line(decision.fingerprint)}: {decision.status.label}{until} ({_one_line(decision.reviewer)})")
    if before == "signed":
        print("The sign-off of this review is now superseded: a new sign-off is needed.", file=sys.stderr)
    return EXIT_OK


def _signoff(store: ReviewStore, args: argparse.Namespace) -> int:
    signoff = store.sign_off(args.name, reviewer=args.reviewer, role=args.role, statement=args.statement)
    print(
        f"Review {_one_line(args.name)} signed off by {_one_line(signoff.reviewer)} ({_one_line(signoff.role)}) "
        f"at {signoff.signed_at}; content hash {signoff.content_hash}"
    )
    return EXIT_OK


# --- audit --review -------------------------------------------------------------------------------------------------


def _comparison_lines(name: str, comparison: RunComparison, created: bool) -> list[str]:
    run = comparison.run
    out = [f"Review {_one_line(name)}: stored audit run #{run.number}" + (" (new review)" if created else "")]
    if comparison.previous_run_id is None:
        out.append(f"First run of this review: {len(run.findings)} findings, all new.")
        return out
    v = comparison.verification
    out.append(f"Compared with the previous run: {v.summary}")
    verified = run.started_at[:10]
    out += [f"  fixed       {_one_line(f.fingerprint)} — fixed (verified {verified})" for f in v.fixed]
    out += [f"  new         {_one_line(f.fingerprint)}" for f in v.new]
    out += [f"  still open  {_one_line(f.fingerprint)}" for f in v.still_open]
    out += [f"  not re-checked  {_one_line(f.fingerprint)}" for f in v.not_rechecked]
    out += [f"  reopened    {_one_line(fp)} (was marked fixed)" for fp in comparison.reopened]
    return out


def _comparison_json(name: str, comparison: RunComparison, created: bool) -> dict[str, Any]:
    v = comparison.verification

    def fps(findings: tuple[Finding, ...]) -> list[str]:
        return [f.fingerprint for f in findings]

    return {
        "name": name,
        "created": created,
        "run": comparison.run.number,
        "previous_run": comparison.previous_run_id is not None,
        "fixed": fps(v.fixed),
        "new": fps(v.new),
        "still_open": fps(v.still_open),
        "not_rechecked": fps(v.not_rechecked),
        "reopened": list(comparison.reopened),
    }


def record_reviewed_audit(name: str, result: AuditResult, source: str) -> tuple[RunComparison, bool]:
    """Store `result` as a run of review `name` (created when missing); the comparison and whether it was new."""
    from workbench.core.connections.session import describe_target
    from workbench.core.review import ReviewStoreError

    store = _open_store()
    try:
        created = not any(r.name == name.strip() for r in store.reviews())
        profile = {"snapshot": Path(source).name} if Path(source).is_file() else {"target": describe_target(source)}
        store.ensure_review(name, profile)
        return store.record_run(name.strip(), result), created
    except ReviewStoreError as exc:
        _fail(str(exc))
    finally:
        store.close()


def emit_reviewed_audit(name: str, result: AuditResult, fmt: str, output: Path | None, source: str) -> None:
    """Store `result` as a run of review `name` (created when missing), then print the audit and fixed/new/open."""
    from workbench.core.report.audit_json import audit_to_dict
    from workbench.core.report.audit_markdown import render_markdown, render_text

    comparison, created = record_reviewed_audit(name, result, source)
    if fmt == "json":
        document = audit_to_dict(result) | {"review": _comparison_json(name.strip(), comparison, created)}
        text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    elif fmt == "md":
        lines = _comparison_lines(name.strip(), comparison, created)
        text = render_markdown(result) + "\n\n## Review\n\n" + "\n".join(f"    {line}" for line in lines) + "\n"
    else:
        text = render_text(result) + "\n\n" + "\n".join(_comparison_lines(name.strip(), comparison, created)) + "\n"
    _write(text, output)
