"""`workbench verify-report FILE`: is this report what the workbench produced, and who signed it off?

Markdown and PDF files are checked against their seal (a SHA-256 over the file's bytes, see `signing`); a JSON file
(and the JSON a PDF carries) against its report hash, recomputed from the canonical content. The signature block
is then checked for consistency: a report that says "signed" must carry the sign-off whose content hash is the
review content hash it was hashed with.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.report.model import FORMAT_NAME
from workbench.core.report.signing import check_markdown_seal, check_pdf_seal, pdf_payload, report_hash

_MD_HASH = re.compile(r"^\*\*Report SHA-256:\*\* `([0-9a-f]{64})`", re.MULTILINE)
_MD_REVIEW_HASH = re.compile(r"^\*\*Review content hash:\*\* `([0-9a-f]{64})`", re.MULTILINE)
_MD_SIGNATURE = re.compile(r"^\*\*Signature:\*\* (.+?)\s*$", re.MULTILINE)
_MD_REVIEW = re.compile(r"^\| \*\*Review\*\* \| (.+?), run ", re.MULTILINE)
_SIGNED = re.compile(r"^Signed off by (.+) \((.+)\) on (\S+)$")


@dataclass(frozen=True, slots=True)
class Verification:
    kind: str  # md, json, pdf, unknown
    intact: bool | None  # None: not a workbench report, nothing to verify
    report_sha256: str | None = None
    review: str | None = None
    review_content_hash: str | None = None
    status: str | None = None  # signed, draft, superseded
    signed_by: str | None = None
    role: str | None = None
    signed_at: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def signed(self) -> bool:
        return self.status == "signed" and self.signed_by is not None

    def message(self) -> str:
        if self.intact is None:
            return "cannot verify: " + ("; ".join(self.problems) or "not a workbench report")
        who = f"{self.signed_by} ({self.role})" if self.role else f"{self.signed_by}"
        if self.intact:
            if self.signed:
                return f"intact, signed by {who} on {self.signed_at}"
            return "intact, but an unsigned DRAFT (no sign-off applies to it)"
        why = "; ".join(self.problems)
        if self.signed:
            return f"ALTERED after sign-off (signed by {who} on {self.signed_at}): {why}"
        return f"ALTERED (an unsigned draft): {why}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _check_document(doc: Any, kind: str) -> Verification:
    """Verify a report's JSON document (from a .json file or the payload of a PDF)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        return Verification(kind, None, problems=("not a workbench report (no format: workbench-report)",))
    content = doc.get("content")
    sig = doc.get("signature")
    if not isinstance(content, dict) or not isinstance(sig, dict):
        return Verification(kind, False, problems=("the content or the signature block is missing",))
    problems: list[str] = []
    review_hash = sig.get("review_content_hash")
    expected = sig.get("report_sha256")
    actual = report_hash(content, review_hash if isinstance(review_hash, str) else None)
    if actual != expected:
        problems.append(f"the content does not match the report hash (recorded {expected}, computed {actual})")
    signoff = _dict(content.get("signoff"))
    current = _dict(signoff.get("current")) or None
    status = sig.get("status")
    if status != signoff.get("status"):
        problems.append(f"the signature says {status!r} but the sign-off block says {signoff.get('status')!r}")
    if status == "signed":
        if current is None:
            problems.append("the report claims a sign-off but carries none")
        else:
            if current.get("content_hash") != review_hash:
                problems.append("the sign-off was given for other review content than this report's")
            if current.get("reviewer") != sig.get("signed_by") or current.get("signed_at") != sig.get("signed_at"):
                problems.append("the signer named in the signature is not the one in the sign-off block")
    title = _dict(content.get("title"))
    return Verification(
        kind=kind,
        intact=not problems,
        report_sha256=expected if isinstance(expected, str) else None,
        review=title.get("review"),
        review_content_hash=review_hash if isinstance(review_hash, str) else None,
        status=status if isinstance(status, str) else None,
        signed_by=sig.get("signed_by"),
        role=sig.get("role"),
        signed_at=sig.get("signed_at"),
        problems=tuple(problems),
    )


def _verify_markdown(text: str) -> Verification:
    sealed = check_markdown_seal(text)
    found = _MD_HASH.search(text)
    if sealed is None and found is None:
        return Verification("md", None, problems=("no workbench report hash or seal in this file",))
    sig_line = _MD_SIGNATURE.search(text)
    review = _MD_REVIEW.search(text)
    review_hash = _MD_REVIEW_HASH.search(text)
    line = sig_line.group(1) if sig_line else ""
    signed = _SIGNED.match(line)
    problems = []
    if sealed is None:
        problems.append("the seal line at the end of the file is missing")
    elif not sealed:
        problems.append("the text does not match its seal (it was edited after it was generated)")
    if found is None:
        problems.append("the report hash line is missing")
    return Verification(
        kind="md",
        intact=not problems,
        report_sha256=found.group(1) if found else None,
        review=review.group(1) if review else None,
        review_content_hash=review_hash.group(1) if review_hash else None,
        status="signed" if signed else "draft",
        signed_by=signed.group(1) if signed else None,
        role=signed.group(2) if signed else None,
        signed_at=signed.group(3) if signed else None,
        problems=tuple(problems),
    )


def _verify_pdf(data: bytes) -> Verification:
    sealed = check_pdf_seal(data)
    payload = pdf_payload(data)
    if sealed is None and payload is None:
        return Verification("pdf", None, problems=("no workbench seal or report in this PDF",))
    if payload is None:
        return Verification("pdf", False, problems=("the embedded report is missing",))
    try:
        doc = json.loads(zlib.decompress(payload).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError):
        return Verification("pdf", False, problems=("the embedded report cannot be read",))
    result = _check_document(doc, "pdf")
    problems = list(result.problems)
    if sealed is None:
        problems.insert(0, "the seal is missing (the file was rewritten by another program)")
    elif not sealed:
        problems.insert(0, "the file's bytes do not match its seal (it was edited after it was generated)")
    return Verification(
        kind="pdf",
        intact=result.intact is True and not problems,
        report_sha256=result.report_sha256,
        review=result.review,
        review_content_hash=result.review_content_hash,
        status=result.status,
        signed_by=result.signed_by,
        role=result.role,
        signed_at=result.signed_at,
        problems=tuple(problems),
    )


def verify_report_bytes(data: bytes) -> Verification:
    """Verify a report given as the bytes of its file (Markdown, JSON or PDF, told apart by content)."""
    if data.startswith(b"%PDF"):
        return _verify_pdf(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Verification("unknown", None, problems=("not a text file or a PDF",))
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            return Verification("json", False, problems=(f"the JSON cannot be read: {exc}",))
        return _check_document(doc, "json")
    return _verify_markdown(text)


def verify_report_file(path: Path) -> Verification:
    return verify_report_bytes(path.read_bytes())
