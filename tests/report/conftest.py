"""A reviewed demo database, built once per server: two audit runs (a fix verified in between), decisions of every
kind, a manual checklist tick and a sign-off, in a review store of its own; plus an unsigned review of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from workbench.core.checks import AuditResult, audit
from workbench.core.connections import open_session
from workbench.core.connections.session import describe_target
from workbench.core.demo import demo_config, load_demo
from workbench.core.embedded import EmbeddedServer, load_sql
from workbench.core.model import Category, Finding, Level
from workbench.core.review import DecisionStatus, ReviewStore

REVIEW = "demo"
DRAFT_REVIEW = "demo-draft"
REVIEWER = "Ann Lee"
ROLE = "Lead DBA"
STATEMENT = "Reviewed with the team; fit for production once tier 1 is done."
FIX_SQL = "alter table public.labels enable row level security;"
FIXED = "rls_disabled_in_public:public.labels"
ACCEPT_NOTE = "internal reporting view; | pipes and <b>markup</b> stay text"
UNTIL = date(2099, 1, 31)


@dataclass(frozen=True)
class DemoReview:
    dsn: str
    store_path: Path
    first: AuditResult
    second: AuditResult
    accepted: Finding
    deferred: Finding
    false_positive: Finding

    def store(self) -> ReviewStore:
        return ReviewStore(self.store_path)


def _run(dsn: str) -> AuditResult:
    with open_session(dsn) as session:
        return audit(session, demo_config())


def _pick(findings: tuple[Finding, ...], taken: set[str], **where: object) -> Finding:
    for f in sorted(findings, key=lambda x: x.fingerprint):
        if f.fingerprint not in taken and all(getattr(f, k) == v for k, v in where.items()):
            taken.add(f.fingerprint)
            return f
    raise AssertionError(f"the demo has no finding with {where}")


@pytest.fixture(scope="session")
def demo_review(pg_server: EmbeddedServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoReview]:
    name = f"wb_report_{uuid.uuid4().hex[:10]}"
    dsn = pg_server.create_database(name)
    try:
        load_demo(dsn)
        store_path = tmp_path_factory.mktemp("report-store") / "reviews.sqlite3"
        profile = {"target": describe_target(dsn), "environment": "staging"}
        first = _run(dsn)
        with ReviewStore(store_path) as store:
            store.ensure_review(REVIEW, profile)
            store.record_run(REVIEW, first)
            load_sql(dsn, FIX_SQL)
            second = _run(dsn)
            store.record_run(REVIEW, second)
            taken: set[str] = set()
            accepted = _pick(second.findings, taken, check="security_definer_view")
            deferred = _pick(second.findings, taken, category=Category.PERFORMANCE, level=Level.WARN)
            false_positive = _pick(second.findings, taken, level=Level.INFO)
            decide = store.decide
            decide(REVIEW, accepted.fingerprint, DecisionStatus.ACCEPTED_RISK, reviewer=REVIEWER, note=ACCEPT_NOTE)
            decide(REVIEW, deferred.fingerprint, DecisionStatus.DEFERRED, reviewer=REVIEWER, note="wait", until=UNTIL)
            decide(REVIEW, false_positive.fingerprint, DecisionStatus.FALSE_POSITIVE, reviewer="Bo Chen", note="ok")
            store.tick(REVIEW, "no_data_loss", who=REVIEWER, note="row counts compared")
            store.sign_off(REVIEW, reviewer=REVIEWER, role=ROLE, statement=STATEMENT)
            store.ensure_review(DRAFT_REVIEW, profile)
            store.record_run(DRAFT_REVIEW, second)
        yield DemoReview(dsn, store_path, first, second, accepted, deferred, false_positive)
    finally:
        pg_server.drop_database(name)
