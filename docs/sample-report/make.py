"""Regenerate the sample report of the demo database (run by make.sh): demo-review.md and demo-review.pdf.

Starts the throwaway demo server, audits it into a review in a temporary review store, fixes one defect and audits
again (so the report shows a verified fix), records a few decisions and a checklist tick, signs the review off,
then renders the report. Nothing outside this folder and a temporary directory is touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="workbench-sample-"))
    os.environ["WORKBENCH_DATA_DIR"] = str(work / "data")
    os.environ.setdefault("WORKBENCH_LOG_DIR", str(work / "logs"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from workbench.core.checks import audit
    from workbench.core.connections import open_session
    from workbench.core.demo import demo_config, start_demo
    from workbench.core.embedded import load_sql
    from workbench.core.report.build import review_report
    from workbench.core.report.report_markdown import render_report_markdown
    from workbench.core.review import DecisionStatus, ReviewStore
    from workbench.ui.report.pdf import render_pdf

    demo = start_demo(lambda message: print(message, file=sys.stderr))
    try:
        with ReviewStore() as store:
            store.ensure_review("demo", {"target": "postgres@localhost/workbench_demo", "environment": "staging"})
            with open_session(demo.dsn) as session:
                store.record_run("demo", audit(session, demo_config()))
            load_sql(demo.dsn, "alter table public.labels enable row level security;")
            with open_session(demo.dsn) as session:
                second = audit(session, demo_config())
            store.record_run("demo", second)
            by_check = {f.check: f for f in second.findings}
            decisions = [
                ("security_definer_view", DecisionStatus.ACCEPTED_RISK, None, "Internal reporting view; no PII."),
                ("unused_index", DecisionStatus.DEFERRED, date(2027, 3, 31), "Re-check after a month of traffic."),
                ("extension_versions_outdated", DecisionStatus.DEFERRED, date(2027, 1, 15), "Next maintenance window."),
            ]
            for check, status, until, note in decisions:
                if check in by_check:
                    store.decide(
                        "demo", by_check[check].fingerprint, status, reviewer="Ann Lee", note=note, until=until
                    )
            store.tick("demo", "no_data_loss", who="Ann Lee", note="row counts compared before and after")
            store.sign_off(
                "demo",
                reviewer="Ann Lee",
                role="Lead DBA",
                statement="Reviewed with the team. Fit for production once the tier 1 items are fixed.",
            )
            model = review_report(store, "demo")
        (HERE / "demo-review.md").write_text(render_report_markdown(model), encoding="utf-8")
        started = time.perf_counter()
        rendered = render_pdf(model, HERE / "demo-review.pdf", "a4")
        print(
            f"demo-review.pdf: {rendered.pages} pages in {time.perf_counter() - started:.1f} s; "
            f"report SHA-256 {model.report_sha256}"
        )
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
