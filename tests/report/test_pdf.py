"""The PDF: a valid file with the expected pages and text (read back with pypdf), A4 and Letter, headers, page
numbers, the draft watermark, the sealed embedded report, and headless rendering from the command line."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from tests.report.conftest import DRAFT_REVIEW, REVIEW, REVIEWER, DemoReview

from workbench.cli.main import main
from workbench.core.report.build import review_report
from workbench.core.report.model import ReportModel
from workbench.core.report.verify import verify_report_bytes

A4_POINTS = (595, 842)
LETTER_POINTS = (612, 792)


def model_of(demo: DemoReview, name: str) -> ReportModel:
    with demo.store() as store:
        return review_report(store, name)


class Rendered:
    def __init__(self, model: ReportModel, page_size: str) -> None:
        from workbench.ui.report.pdf import render_pdf

        started = time.perf_counter()
        self.model = model
        self.result = render_pdf(model, page_size=page_size)
        self.seconds = time.perf_counter() - started
        self.reader = PdfReader(io.BytesIO(self.result.data))
        # NFKC: Qt sets "fi", "ff" as ligature glyphs, which extract as U+FB01, U+FB00.
        self.pages = [" ".join(unicodedata.normalize("NFKC", p.extract_text()).split()) for p in self.reader.pages]


@pytest.fixture(scope="module")
def signed_a4(demo_review: DemoReview) -> Iterator[Rendered]:
    yield Rendered(model_of(demo_review, REVIEW), "a4")


@pytest.fixture(scope="module")
def draft_letter(demo_review: DemoReview) -> Iterator[Rendered]:
    yield Rendered(model_of(demo_review, DRAFT_REVIEW), "letter")


def test_pages_sizes_and_numbers(signed_a4: Rendered, draft_letter: Rendered) -> None:
    for rendered, size in ((signed_a4, A4_POINTS), (draft_letter, LETTER_POINTS)):
        count = len(rendered.reader.pages)
        assert count == rendered.result.pages > 10
        for i, page in enumerate(rendered.reader.pages):
            box = page.mediabox
            assert (round(float(box.width)), round(float(box.height))) == size
            assert f"Page {i + 1} of {count}" in rendered.pages[i]
        assert rendered.seconds < 60


def test_sections_in_order_with_running_header(signed_a4: Rendered) -> None:
    text = signed_a4.pages
    model = signed_a4.model
    assert text[0].startswith(f"Database review: {model.title.database}")
    assert "1. Executive summary" in text[0] and "Findings by level" in text[0]
    headings = [
        "2. Findings",
        "3. Remediation plan",
        "4. Decisions log",
        "5. What was not checked",
        "6. Checklist",
        "7. Sign-off",
        "Appendix A. Inventory",
        "Signature",
    ]
    first_page = []
    for heading in headings:
        first_page.append(next(i for i, page in enumerate(text) if heading in page))
    assert first_page == sorted(first_page)
    for page in text[1:]:
        assert f"{model.title.title} Signed off by {REVIEWER}" in page  # the running header
    joined = " ".join(text)
    for entry in model.entries[:5]:
        assert entry.finding.fingerprint in joined.replace(" ", "") or entry.finding.key in joined


def test_tables_repeat_their_header_on_each_page(signed_a4: Rendered) -> None:
    text = signed_a4.pages
    count = len(signed_a4.model.inventory.indexes)
    first = next(i for i, page in enumerate(text) if f"Indexes ({count})" in page)
    last = next(i for i, page in enumerate(text) if "Functions (" in page)
    assert last > first  # the index inventory runs over several pages …
    for page in text[first : last + 1]:
        assert "Index Definition Size Scans Notes" in page  # … and each of them shows the table's header row


def test_last_page_and_metadata_carry_the_hash(signed_a4: Rendered) -> None:
    digest = signed_a4.model.report_sha256
    assert digest in signed_a4.pages[-1].replace(" ", "")
    assert signed_a4.reader.metadata is not None and signed_a4.reader.metadata.title == signed_a4.model.title.title
    xmp = signed_a4.reader.xmp_metadata
    assert xmp is not None
    raw = signed_a4.reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert f"<wb:reportSha256>{digest}</wb:reportSha256>" in raw and f"<wb:signedBy>{REVIEWER}</wb:signedBy>" in raw


def test_draft_is_watermarked_and_signed_is_not(signed_a4: Rendered, draft_letter: Rendered) -> None:
    assert all(re.search(r"\bDRAFT\b", page) for page in draft_letter.pages)
    assert not any(re.search(r"\bDRAFT\b", page) for page in signed_a4.pages)


def test_pdf_verifies_and_a_changed_byte_does_not(signed_a4: Rendered) -> None:
    data = signed_a4.result.data
    result = verify_report_bytes(data)
    assert result.intact and result.signed_by == REVIEWER
    at = data.index(b"/Title") + 8
    altered = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
    assert verify_report_bytes(altered).intact is False


def test_report_and_audit_pdf_from_the_command_line(
    demo_review: DemoReview, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(demo_review.store_path.parent))
    out = tmp_path / "review.pdf"
    assert main(["report", "--review", REVIEW, "--format", "pdf", "--page-size", "letter", "-o", str(out)]) == 0
    assert re.search(r"Wrote .*review\.pdf: \d+ pages \(LETTER\)", capsys.readouterr().err)
    assert verify_report_bytes(out.read_bytes()).intact
    assert main(["report", "--review", REVIEW, "--format", "pdf"]) == 2
    assert "needs a file" in capsys.readouterr().err
    snapshot = tmp_path / "snap.json"
    audit_pdf = tmp_path / "audit.pdf"
    argv = [
        "audit",
        "--dsn",
        demo_review.dsn,
        "--save-snapshot",
        str(snapshot),
        "--format",
        "pdf",
        "-o",
        str(audit_pdf),
    ]
    assert main(argv) == 1  # error-level findings: the audit's exit status, as with the other formats
    reader = PdfReader(audit_pdf)
    assert "DRAFT" in reader.pages[0].extract_text() and verify_report_bytes(audit_pdf.read_bytes()).intact


def test_pdf_renders_headless_in_a_fresh_process_and_other_commands_load_no_qt(tmp_path: Path) -> None:
    """A command-line process with no Qt application: render_pdf creates one on the offscreen platform."""
    code = (
        "import sys\n"
        "from workbench.cli.main import main\n"
        "main(['checks', '--format', 'json'])\n"
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt loaded by checks'\n"
        "from workbench.core.checks import run_checks\n"
        "from workbench.core.model import Snapshot\n"
        "from workbench.core.report.build import build_audit_report\n"
        "from workbench.ui.report.pdf import render_pdf\n"
        "snap = Snapshot('empty', '16.0', 160000, 'me', '2026-01-01T00:00:00Z', None)\n"
        "from pathlib import Path\n"
        f"out = render_pdf(build_audit_report(run_checks(snap)), Path({str(tmp_path / 'x.pdf')!r}))\n"
        "print(out.pages)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip().splitlines()[-1]) >= 2
    assert verify_report_bytes((tmp_path / "x.pdf").read_bytes()).intact
