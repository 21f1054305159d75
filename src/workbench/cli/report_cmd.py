"""`workbench report`, `workbench verify-report` and `workbench audit --format pdf|sarif`: reports headless.

Parsing and output only; the report is built in `workbench.core.report`. The PDF renderer uses Qt and lives in
`workbench.ui.report.pdf`: it is imported only when a PDF is asked for, so other commands never load Qt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # the report builders and the review store (SQLAlchemy) are imported by the commands that use them
    from workbench.core.checks.runner import AuditResult
    from workbench.core.report.model import ReportModel
    from workbench.core.report.verify import Verification

REPORT_FORMATS = ("md", "pdf", "json", "sarif")
AUDIT_REPORT_FORMATS = ("pdf", "sarif")  # the audit's own text, json and md stay as they are
PAGE_SIZES = ("a4", "letter")
EXIT_OK, EXIT_ALTERED, EXIT_USAGE = 0, 1, 2


def _fail(message: str) -> NoReturn:
    from workbench.cli.main import UsageError  # imported late: main imports this module

    raise UsageError(message)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("report", help="render a review as a signed report: Markdown, PDF, JSON or SARIF")
    p.add_argument("--review", required=True, metavar="NAME", help="the review in the local review store")
    p.add_argument("--format", choices=REPORT_FORMATS, default="md")
    p.add_argument("--output", "-o", type=Path, help="write to FILE instead of standard output (required for pdf)")
    p.add_argument("--page-size", choices=PAGE_SIZES, default="a4", help="PDF page size (default a4)")
    p.add_argument(
        "--compare",
        metavar="REVIEW",
        help="add the differences from another review's latest run (A = REVIEW, e.g. staging; B = this review)",
    )
    p = sub.add_parser("verify-report", help="check that a report was not altered after it was generated or signed")
    p.add_argument("file", type=Path, help="a report in Markdown, JSON or PDF")


def extend_audit_parser(p: argparse.ArgumentParser) -> None:
    """Let `workbench audit` write a PDF or SARIF report too (after its own text, json and md formats)."""
    for action in p._actions:
        if action.dest == "format" and action.choices is not None:
            action.choices = [*action.choices, *AUDIT_REPORT_FORMATS]
    p.add_argument("--page-size", choices=PAGE_SIZES, default="a4", help="PDF page size (default a4)")


# --- writing --------------------------------------------------------------------------------------------------------


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"Cannot write {output}: {exc.strerror or exc}")


def write_report(
    model: ReportModel,
    fmt: str,
    output: Path | None,
    *,
    page_size: str = "a4",
    baseline: dict[str, str] | None = None,
) -> None:
    """Render `model` in `fmt` to `output` (standard output for the text formats when None)."""
    if fmt == "md":
        from workbench.core.report.report_markdown import render_report_markdown

        _write_text(render_report_markdown(model), output)
    elif fmt == "json":
        from workbench.core.report.report_json import render_json

        _write_text(render_json(model), output)
    elif fmt == "sarif":
        from workbench.core.report.sarif import render_sarif

        _write_text(render_sarif(model, baseline=baseline), output)
    elif fmt == "pdf":
        if output is None:
            _fail("A PDF report needs a file: add -o FILE.")
        try:
            from workbench.ui.report.pdf import render_pdf
        except ImportError as exc:
            _fail(f"The PDF renderer cannot load Qt: {exc}. Use --format md or json.")
        try:
            rendered = render_pdf(model, output, page_size)
        except OSError as exc:
            _fail(f"Cannot write {output}: {exc.strerror or exc}")
        print(
            f"Wrote {output}: {rendered.pages} pages ({page_size.upper()}) in {rendered.seconds:.1f} s; "
            f"report SHA-256 {model.report_sha256}",
            file=sys.stderr,
        )
    else:  # pragma: no cover - argparse restricts the choices
        _fail(f"Unknown report format {fmt!r}.")


# --- commands ---------------------------------------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    from workbench.core.report.build import review_report, sarif_baseline
    from workbench.core.review import ReviewStore, ReviewStoreError

    try:
        store = ReviewStore()
    except ReviewStoreError as exc:
        _fail(str(exc))
    try:
        model = review_report(store, args.review, compare_with=args.compare)
        baseline = sarif_baseline(store.state(args.review)) if args.format == "sarif" else None
    except ReviewStoreError as exc:
        _fail(str(exc))
    finally:
        store.close()
    write_report(model, args.format, args.output, page_size=args.page_size, baseline=baseline)
    return EXIT_OK


def emit_audit_report(result: AuditResult, args: argparse.Namespace) -> None:
    """`workbench audit … --format pdf|sarif`: the report of this audit, or of the review it was stored in."""
    from workbench.core.report.build import build_audit_report, review_report, sarif_baseline

    if args.format == "pdf" and args.output is None:
        _fail("A PDF report needs a file: add -o FILE.")
    source = args.dsn or str(args.snapshot)
    if args.review:
        from workbench.cli.review_cmd import record_reviewed_audit
        from workbench.core.review import ReviewStore, ReviewStoreError

        record_reviewed_audit(args.review, result, source)
        try:
            with ReviewStore() as store:
                model = review_report(store, args.review.strip())
                baseline = sarif_baseline(store.state(args.review.strip()))
        except ReviewStoreError as exc:
            _fail(str(exc))
    else:
        from workbench.core.connections.session import describe_target

        target = f"snapshot {Path(source).name}" if args.snapshot else describe_target(source)
        model = build_audit_report(result, target=target)
        baseline = None
    write_report(model, args.format, args.output, page_size=args.page_size, baseline=baseline)


def _store_line(v: Verification) -> str | None:
    """What the local review store says about the sign-off the report claims (None when it cannot tell)."""
    from workbench.core.review import ReviewNotFound, ReviewStore, ReviewStoreError, default_store_path

    path = default_store_path()
    if not (v.signed and v.review and path.exists()):
        return None
    try:
        with ReviewStore(path) as store:
            signoffs = store.state(v.review).signoffs
    except ReviewNotFound:
        return f"The review store {path} has no review {v.review!r} (the report may come from another machine)."
    except ReviewStoreError as exc:
        return f"The review store could not be read: {exc}"
    if any(s.content_hash == v.review_content_hash and s.reviewer == v.signed_by for s in signoffs):
        return f"The review store {path} records this sign-off of review {v.review!r}."
    return (
        f"The review store {path} has no sign-off by {v.signed_by} of review {v.review!r} with content hash "
        f"{v.review_content_hash}."
    )


def cmd_verify_report(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        _fail(f"Cannot read {args.file}: {exc.strerror or exc}")
    from workbench.core.report.verify import verify_report_bytes

    v = verify_report_bytes(data)
    print(f"{args.file}: {v.message()}")
    if v.report_sha256:
        print(f"  report SHA-256       {v.report_sha256}")
    if v.review_content_hash:
        print(f"  review content hash  {v.review_content_hash}" + (f" (review {v.review})" if v.review else ""))
    line = _store_line(v) if v.intact else None
    if line:
        print(f"  {line}")
    if v.intact is None:
        return EXIT_USAGE
    return EXIT_OK if v.intact else EXIT_ALTERED
