"""The report hash and the seals: intact files verify, a one-character change anywhere does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.report.conftest import DRAFT_REVIEW, REVIEW, REVIEWER, ROLE, DemoReview

from workbench.cli.main import main
from workbench.core.report.build import review_report
from workbench.core.report.model import ReportModel
from workbench.core.report.report_json import render_json
from workbench.core.report.report_markdown import render_report_markdown
from workbench.core.report.signing import canonical_json, check_pdf_seal, pdf_payload, report_hash, seal_pdf
from workbench.core.report.verify import verify_report_bytes


@pytest.fixture(autouse=True)
def data_dir(demo_review: DemoReview, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(demo_review.store_path.parent))


def model_of(demo: DemoReview, name: str = REVIEW) -> ReportModel:
    with demo.store() as store:
        return review_report(store, name)


def flip_one_character(text: str, marker: str) -> str:
    """`text` with the character after the first `marker` replaced by another one."""
    at = text.index(marker) + len(marker)
    return text[:at] + ("X" if text[at] != "X" else "Y") + text[at + 1 :]


def test_report_hash_binds_content_and_review_hash(demo_review: DemoReview) -> None:
    model = model_of(demo_review)
    assert model.signature is not None
    review_hash = model.signature.review_content_hash
    with demo_review.store() as store:
        state = store.state(REVIEW)
    assert review_hash == state.content_hash == state.signoffs[-1].content_hash
    assert model.report_sha256 == report_hash(model.content, review_hash)
    assert report_hash(model.content, "0" * 64) != model.report_sha256
    # The same content renders the same hash in every format.
    assert model.report_sha256 in render_report_markdown(model) and model.report_sha256 in render_json(model)


def test_markdown_intact_then_altered(demo_review: DemoReview) -> None:
    text = render_report_markdown(model_of(demo_review))
    result = verify_report_bytes(text.encode())
    assert result.intact and result.signed and result.signed_by == REVIEWER and result.role == ROLE
    assert result.message().startswith(f"intact, signed by {REVIEWER} ({ROLE}) on ")
    assert verify_report_bytes(text.replace("\n", "\r\n").encode()).intact  # a CRLF checkout still verifies
    altered = verify_report_bytes(flip_one_character(text, "## 2. Findings\n\n").encode())
    assert altered.intact is False and altered.message().startswith("ALTERED after sign-off")
    unsealed = "\n".join(text.rstrip("\n").splitlines()[:-1]) + "\n"
    assert verify_report_bytes(unsealed.encode()).intact is False
    assert verify_report_bytes(b"# just some notes\n").intact is None


def test_json_intact_reindented_then_altered(demo_review: DemoReview) -> None:
    text = render_json(model_of(demo_review))
    assert verify_report_bytes(text.encode()).intact
    document = json.loads(text)
    assert verify_report_bytes(json.dumps(document).encode()).intact  # whitespace is not content
    detail = json.dumps(document["content"]["findings"][0]["detail"], ensure_ascii=False)[1:-1]
    assert detail in text
    altered = verify_report_bytes(text.replace(detail, detail + ".", 1).encode())
    assert altered.intact is False and "does not match the report hash" in altered.message()
    document["signature"]["signed_by"] = "Mallory"
    forged = verify_report_bytes(json.dumps(document).encode())
    assert forged.intact is False and "signer" in forged.message()


def test_draft_verifies_as_draft(demo_review: DemoReview) -> None:
    model = model_of(demo_review, DRAFT_REVIEW)
    for text in (render_report_markdown(model), render_json(model)):
        result = verify_report_bytes(text.encode())
        assert result.intact and not result.signed
        assert result.message() == "intact, but an unsigned DRAFT (no sign-off applies to it)"


def test_pdf_seal_catches_any_byte_and_an_appended_update() -> None:
    pdf = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\nxref\n0 1\ntrailer\n<< >>\nstartxref\n9\n%%EOF\n"
    sealed = seal_pdf(pdf, b"payload")
    assert check_pdf_seal(sealed) is True and pdf_payload(sealed) == b"payload"
    assert sealed.endswith(b"startxref\n9\n%%EOF\n")  # readers still find the end where it was
    assert check_pdf_seal(pdf) is None
    at = sealed.index(b"<< >>")
    assert check_pdf_seal(sealed[:at] + b"<<>> " + sealed[at + 5 :]) is False
    assert check_pdf_seal(sealed + b"1 0 obj\n<< /A 1 >>\nendobj\nstartxref\n99\n%%EOF\n") is False


def test_canonical_json_is_the_review_store_hash_form() -> None:
    assert canonical_json({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'


def test_verify_report_command(demo_review: DemoReview, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "review.md"
    assert main(["report", "--review", REVIEW, "--format", "md", "-o", str(good)]) == 0
    assert main(["verify-report", str(good)]) == 0
    out = capsys.readouterr().out
    assert f"intact, signed by {REVIEWER} ({ROLE}) on " in out
    assert f"records this sign-off of review '{REVIEW}'" in out
    text = good.read_text(encoding="utf-8")
    bad = tmp_path / "altered.md"
    bad.write_text(flip_one_character(text, "| **Reviewer** | "), encoding="utf-8")
    assert main(["verify-report", str(bad)]) == 1
    assert "ALTERED after sign-off" in capsys.readouterr().out
    other = tmp_path / "notes.txt"
    other.write_text("hello\n", encoding="utf-8")
    assert main(["verify-report", str(other)]) == 2
    assert "cannot verify" in capsys.readouterr().out
