"""Each section of the report, from real audits of the demo database stored in a review."""

from __future__ import annotations

import json
from collections import Counter

from tests.report.conftest import (
    ACCEPT_NOTE,
    DRAFT_REVIEW,
    FIXED,
    REVIEW,
    REVIEWER,
    ROLE,
    STATEMENT,
    DemoReview,
)

from workbench.core.model import Level
from workbench.core.report.build import build_audit_report, compare_reviews, review_report, tier_of
from workbench.core.report.model import ReportModel
from workbench.core.report.report_json import render_json, report_document
from workbench.core.report.report_markdown import render_report_markdown
from workbench.core.review import DecisionStatus

AUDIT_CONTRACT = {"check", "title", "level", "category", "key", "fingerprint", "object", "detail", "evidence"}


def signed(demo: DemoReview) -> ReportModel:
    with demo.store() as store:
        return review_report(store, REVIEW)


def draft(demo: DemoReview) -> ReportModel:
    with demo.store() as store:
        return review_report(store, DRAFT_REVIEW)


def test_title_block(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    t = model.title
    snap = demo_review.second.snapshot
    assert t.database == snap.database and t.server_version == snap.server_version
    assert t.snapshot_at == snap.collected_at and t.audited_as == snap.current_user
    assert t.environment == "staging" and t.review == REVIEW and t.reviewer == REVIEWER
    assert t.run is not None and t.run.startswith("#2, started")
    assert "password" not in json.dumps(model.content["title"]).lower()
    md = render_report_markdown(model)
    assert f"| **Database** | {snap.database} (PostgreSQL {snap.server_version}) |" in md
    assert "| **Environment** | staging |" in md


def test_executive_summary(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    findings = demo_review.second.findings
    counts = Counter(f.level.value for f in findings)
    assert model.summary.counts == {lv.value: counts.get(lv.value, 0) for lv in Level}
    rows = {r.area: r for r in model.summary.rows}
    assert rows["Security"].level == "ERROR" and rows["Security"].total == sum(
        1 for f in findings if f.category.value == "security"
    )
    assert sum(r.total for r in rows.values()) == len(findings)
    assert rows["Not checked"].status.startswith(f"{len(demo_review.second.checks_skipped)} checks skipped")
    assert model.summary.since_previous_run is not None and "fixed" in model.summary.since_previous_run
    assert f"Signed off by {REVIEWER}" in model.summary.headline
    md = render_report_markdown(model)
    assert "| Area | Status | Level |" in md and "| Security |" in md


def test_findings_grouped_by_level_and_category_with_evidence_and_sql(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    entries = model.entries
    assert sorted(e.finding.fingerprint for e in entries) == sorted(f.fingerprint for f in demo_review.second.findings)
    assert [e.number for e in entries] == [f"F{i}" for i in range(1, len(entries) + 1)]
    ranks = [e.finding.level.rank for e in entries]
    assert ranks == sorted(ranks, reverse=True)  # errors first, then warnings, then info
    for lv in model.levels:
        assert {cat.category for cat in lv.categories} == {
            e.finding.category for e in entries if e.finding.level is lv.level
        }
    md = render_report_markdown(model)
    assert "### 2.1 Errors: fix before production" in md and "#### Security" in md
    with_sql = next(e for e in entries if e.finding.remediation_sql)
    assert with_sql.finding.remediation_sql is not None
    assert with_sql.finding.remediation_sql.splitlines()[-1] in md
    with_evidence = next(e for e in entries if e.finding.evidence)
    key = next(iter(with_evidence.finding.evidence))
    assert f"  - {key}: `" in md
    accepted = next(e for e in entries if e.finding.fingerprint == demo_review.accepted.fingerprint)
    assert accepted.status == "accepted_risk" and accepted.decision is not None
    assert accepted.decision.note == ACCEPT_NOTE
    document = report_document(model)
    for item in document["content"]["findings"]:
        assert set(item) >= AUDIT_CONTRACT and "status" in item and "number" in item


def test_remediation_plan_tiers(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    tiers = {t.key: t for t in model.plan}
    assert list(tiers) == ["security", "reliability", "performance", "deferred"]
    by_check = {(t.key, i.check): i for t in model.plan for i in t.items}
    assert ("security", "security_definer_function_executable") in by_check
    assert all(i.status == "open" for i in tiers["security"].items if not i.status.startswith("fixed"))
    deferred = {i.check: i for i in tiers["deferred"].items}
    assert demo_review.accepted.check in deferred and deferred[demo_review.accepted.check].status == "accepted risk"
    assert deferred[demo_review.deferred.check].status == "deferred until 2099-01-31"
    fp = demo_review.false_positive  # other checks may report the same object: compare check and object
    assert fp.key not in {o for t in model.plan for i in t.items if i.check == fp.check for o in i.objects}
    done = [i for t in model.plan for i in t.items if i.status.startswith("fixed (verified")]
    assert any(i.check == FIXED.split(":")[0] and "public.labels" in i.objects for i in done)
    ids = [i.id for i in tiers["security"].items]
    assert ids == [f"S{n}" for n in range(1, len(ids) + 1)]
    assert tier_of(Level.ERROR, demo_review.accepted.category, "open") == "security"
    assert tier_of(Level.INFO, demo_review.accepted.category, "false_positive") is None
    md = render_report_markdown(model)
    assert "### Tier 1: Security (fix now)" in md and "### Tier 4: Deferred (decided)" in md


def test_decisions_log(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    logged = {(d.fingerprint, d.status) for d in model.decisions}
    assert (demo_review.accepted.fingerprint, "accepted_risk") in logged
    assert (demo_review.deferred.fingerprint, "deferred") in logged
    assert (demo_review.false_positive.fingerprint, "false_positive") in logged
    assert (FIXED, "fixed") in logged  # verified by the second run, by the workbench
    fixed = next(d for d in model.decisions if d.fingerprint == FIXED)
    assert fixed.reviewer == "workbench" and fixed.verified_at
    md = render_report_markdown(model)
    assert "internal reporting view; \\| pipes and <b>markup</b> stay text" in md  # table-safe


def test_what_was_not_checked(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    kinds = Counter(n.kind for n in model.not_checked)
    skipped = {c for c, _ in ((s.check, s.reason) for s in demo_review.second.checks_skipped)}
    assert {n.name for n in model.not_checked if n.kind == "check"} == skipped
    probes = {p.name for p in demo_review.second.snapshot.probes if p.skipped}
    assert {n.name for n in model.not_checked if n.kind == "probe"} == probes
    assert kinds["check"] and all(n.reason for n in model.not_checked)
    md = render_report_markdown(model)
    assert "## 5. What was not checked" in md and "| check | " in md


def test_checklist(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    with demo_review.store() as store:
        state = store.state(REVIEW)
    assert [(c.key, c.ticked) for c in model.checklist] == [(c.item.key, c.ticked) for c in state.checklist]
    manual = next(c for c in model.checklist if c.key == "no_data_loss")
    assert manual.ticked and manual.who == REVIEWER and not manual.automatic
    rls = next(c for c in model.checklist if c.key == "rls_on_exposed_tables")
    assert not rls.ticked and "open finding" in rls.note
    md = render_report_markdown(model)
    assert "- [x] No data loss" in md and "- [ ] RLS enabled on every table the API can reach" in md


def test_sign_off_block_and_draft_banner(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    assert model.signoff.status == "signed" and not model.draft
    assert model.signoff.current is not None and model.signoff.current.statement == STATEMENT
    assert model.signature is not None and model.signature.signed_by == REVIEWER and model.signature.role == ROLE
    md = render_report_markdown(model)
    assert "DRAFT" not in md.split("## 1.")[0]
    assert f"**Signed off by {REVIEWER} ({ROLE}) on " in md and f"> {STATEMENT}" in md

    unsigned = draft(demo_review)
    assert unsigned.draft and unsigned.signoff.status == "draft"
    assert "> **DRAFT.** This review has not been signed off" in render_report_markdown(unsigned)
    bare = build_audit_report(demo_review.second)
    assert bare.draft and bare.title.review is None and bare.signature is not None
    assert bare.signature.review_content_hash is None
    assert "> **DRAFT.** This report is a single audit" in render_report_markdown(bare)


def test_a_change_after_sign_off_makes_it_a_draft(demo_review: DemoReview) -> None:
    with demo_review.store() as store:
        store.ensure_review("demo-superseded", {"target": "x"})
        store.record_run("demo-superseded", demo_review.second)
        store.sign_off("demo-superseded", reviewer="Cy", role="DBA", statement="ok")
        assert not review_report(store, "demo-superseded").draft
        f = demo_review.second.findings[0]
        store.decide("demo-superseded", f.fingerprint, DecisionStatus.ACCEPTED_RISK, reviewer="Cy", note="later")
        model = review_report(store, "demo-superseded")
    assert model.draft and model.signoff.status == "superseded"
    assert "superseded" in render_report_markdown(model).split("## 1.")[0]


def test_inventory_appendix(demo_review: DemoReview) -> None:
    model = signed(demo_review)
    inv = model.inventory
    snap = demo_review.second.snapshot
    tables = {t.name: t for t in inv.tables}
    labels = snap.relation_named("public", "labels")
    assert labels is not None
    row = tables["public.labels"]
    assert row.rls == "enabled" and row.policies == len(snap.policies_of(labels.oid)) > 0
    assert row.size_bytes == labels.size_bytes
    assert "pg_catalog.pg_class" not in tables and not any(t.startswith("information_schema.") for t in tables)
    parents = {p.parent for p in inv.partitions}
    assert parents and all(tables[p].kind == "partitioned table" for p in parents)
    for parent in parents:
        assert tables[parent].partitions == sum(1 for p in inv.partitions if p.parent == parent)
    assert any(fn.security == "definer" for fn in inv.functions)
    assert {i.table for i in inv.indexes} <= set(tables)
    md = render_report_markdown(model)
    assert "## Appendix A. Inventory" in md and "| `public.labels` | table |" in md


def test_comparison_section(demo_review: DemoReview) -> None:
    with demo_review.store() as store:
        store.ensure_review("demo-before", {"target": "x"})
        store.record_run("demo-before", demo_review.first)
        model = review_report(store, REVIEW, compare_with="demo-before")
        comparison = compare_reviews(store, "demo-before", REVIEW)
    assert model.comparison is not None
    assert [f.fingerprint for f in comparison.findings.only_in_a] == [
        f.fingerprint for f in model.comparison.findings.only_in_a
    ]
    assert FIXED in {f.fingerprint for f in comparison.findings.only_in_a}  # fixed between the two runs
    assert any(d.key == "public.labels" for d in comparison.schema.different)
    md = render_report_markdown(model)
    assert "## 8. Comparison" in md and "### Finding differences" in md
    document = json.loads(render_json(model))
    assert FIXED in {f["fingerprint"] for f in document["content"]["comparison"]["findings"]["only_in_a"]}
