"""SARIF 2.1.0: valid against the OASIS schema, rules from the registry, results that code-scanning tools track."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from tests.report.conftest import REVIEW, DemoReview

from workbench.cli.main import main
from workbench.core.checks import all_checks
from workbench.core.report.build import build_audit_report, review_report, sarif_baseline
from workbench.core.report.sarif import FINGERPRINT_KEY, render_sarif, report_to_sarif

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def validate(log: dict[str, object]) -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_review_sarif_is_valid_and_complete(demo_review: DemoReview) -> None:
    with demo_review.store() as store:
        model = review_report(store, REVIEW)
        baseline = sarif_baseline(store.state(REVIEW))
    log = json.loads(render_sarif(model, baseline=baseline))
    validate(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c.spec.id for c in all_checks()]
    results = run["results"]
    assert len(results) == len(demo_review.second.findings)
    levels = {"error": "error", "warn": "warning", "info": "note"}
    by_fp = {f.fingerprint: f for f in demo_review.second.findings}
    for r in results:
        f = by_fp[r["partialFingerprints"][FINGERPRINT_KEY]]
        assert r["ruleId"] == f.check and rules[r["ruleIndex"]]["id"] == f.check
        assert r["level"] == levels[f.level.value]
        assert r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f.key
        assert r["message"]["text"] == f.detail
        assert r["baselineState"] in ("new", "unchanged")
    suppressed = {r["partialFingerprints"][FINGERPRINT_KEY] for r in results if r.get("suppressions")}
    assert suppressed == {demo_review.accepted.fingerprint, demo_review.false_positive.fingerprint}
    assert run["properties"]["reportSha256"] == model.report_sha256
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert {n["descriptor"]["id"] for n in notes} >= {s.check for s in demo_review.second.checks_skipped}


def test_audit_sarif_from_the_command_line(
    demo_review: DemoReview, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "audit.sarif"
    assert main(["audit", "--dsn", demo_review.dsn, "--format", "sarif", "-o", str(out), "--fail-on", "info"]) == 1
    log = json.loads(out.read_text(encoding="utf-8"))
    validate(log)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"rls_disabled_in_public"}
    assert not any(r.get("suppressions") for r in log["runs"][0]["results"])


def test_a_finding_free_audit_is_valid_sarif(demo_review: DemoReview) -> None:
    import dataclasses

    empty = dataclasses.replace(demo_review.second, findings=())
    log = report_to_sarif(build_audit_report(empty))
    validate(log)
    assert log["runs"][0]["results"] == []
