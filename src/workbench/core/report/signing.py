"""Canonical serialisation, content hashes and the seals that make a report verifiable.

One canonical form serves everything that is hashed: JSON with sorted keys, no insignificant whitespace and UTF-8
text (``canonical_json``). The review store hashes what a sign-off vouches for with it (the review's *content
hash*), and a report hashes its own content together with that review hash (the *report hash*):

    report_sha256 = SHA-256("workbench-report/1\\n" + review_content_hash (or "-") + "\\n" + canonical_json(content))

The report hash is the same whichever format the report is rendered in. Each rendered file also carries a *seal*
over its exact bytes, so that a one-character change anywhere is caught, in formats where the visible text is not
the canonical content:

- Markdown: the last line is ``<!-- workbench-report-seal sha256=HEX -->``, HEX being the SHA-256 of the text
  before that line (line endings normalised to LF, so a checkout with CRLF still verifies).
- PDF: a comment line ``%workbench-report-seal sha256=HEX`` just before the final ``startxref``, HEX being the
  SHA-256 of the file with that line removed (the report's JSON rides along in comment lines above it). PDF readers
  ignore comments and no object moves; an editor saving the file either rewrites it (the seal is gone) or appends
  an incremental update after ``%%EOF`` (the seal no longer closes the file): both read as altered.
- JSON: the canonical form of ``content`` is hashed directly, so re-indenting the file does not matter, but any
  change of a value does.

This is tamper *evidence*, not a cryptographic signature: anyone can recompute a SHA-256. What it proves is that
the file is byte for byte what the workbench produced from a review whose content hash is printed in it, and that
hash can be checked against the sign-off in the review store.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

REPORT_HASH_PREFIX = "workbench-report/1"
MD_SEAL = re.compile(r"<!-- workbench-report-seal sha256=([0-9a-f]{64}) -->")
PDF_SEAL = re.compile(rb"%workbench-report-seal sha256=([0-9a-f]{64})\r?\n")
PDF_PAYLOAD_PREFIX = b"%workbench-report-payload "
_END = re.compile(rb"startxref\s+\d+\s+%%EOF\s*")


def canonical_json(value: Any) -> str:
    """The one canonical text of a JSON-able value: sorted keys, no spaces, UTF-8 characters kept as they are."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def content_hash(value: Any) -> str:
    """SHA-256 of the canonical JSON of `value` (the review store's content hash)."""
    return sha256_hex(canonical_json(value))


def report_hash(content: Any, review_content_hash: str | None) -> str:
    """The report hash: its canonical content bound to the content hash of the review it came from."""
    return sha256_hex(f"{REPORT_HASH_PREFIX}\n{review_content_hash or '-'}\n{canonical_json(content)}")


def jsonable(value: Any) -> Any:
    """`value` as a reader of the JSON file will see it (tuples become lists, odd values strings)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


# --- Markdown seal -------------------------------------------------------------------------------------------------


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def seal_markdown(text: str) -> str:
    """`text` followed by its seal line."""
    body = _lf(text).rstrip("\n") + "\n\n"  # a blank line: the comment is a block of its own, not in a paragraph
    return f"{body}<!-- workbench-report-seal sha256={sha256_hex(body)} -->\n"


def check_markdown_seal(text: str) -> bool | None:
    """True when the seal matches, False when it does not, None when there is no seal."""
    body = _lf(text).rstrip("\n")
    head, _, last = body.rpartition("\n")
    match = MD_SEAL.fullmatch(last.strip())
    if match is None:
        return None
    return sha256_hex(head + "\n") == match.group(1)


# --- PDF seal ------------------------------------------------------------------------------------------------------


def _payload_lines(payload: bytes, width: int = 120) -> bytes:
    import base64

    encoded = base64.b64encode(payload)
    return b"".join(PDF_PAYLOAD_PREFIX + encoded[i : i + width] + b"\n" for i in range(0, len(encoded), width))


def _startxref(data: bytes) -> int:
    """Where the final ``startxref … %%EOF`` of a PDF begins (ValueError when the file does not end with one)."""
    at = data.rfind(b"startxref")
    if at < 0 or _END.fullmatch(data[at:]) is None:
        raise ValueError("not a complete PDF file (it does not end with startxref and %%EOF)")
    return at


def seal_pdf(data: bytes, payload: bytes | None = None) -> bytes:
    """The PDF `data` with `payload` (as comment lines) and the seal inserted before its final ``startxref``.

    Comments there change no object offset, and readers, which look for ``%%EOF`` and the offset right above it,
    still find the file's end where it was."""
    at = _startxref(data)
    head, tail = data[:at], data[at:]
    if not head.endswith(b"\n"):
        head += b"\n"
    head += _payload_lines(payload) if payload else b""
    digest = sha256_hex(head + tail)
    return head + f"%workbench-report-seal sha256={digest}\n".encode("ascii") + tail


def check_pdf_seal(data: bytes) -> bool | None:
    """True when the seal closes the file and matches its bytes, False when not, None when there is no seal."""
    matches = list(PDF_SEAL.finditer(data))
    if not matches:
        return None
    match = matches[-1]
    rest = data[match.end() :]
    if _END.fullmatch(rest) is None:  # something follows the sealed end (an incremental update appended)
        return False
    return sha256_hex(data[: match.start()] + rest) == match.group(1).decode("ascii")


def pdf_payload(data: bytes) -> bytes | None:
    """The payload stored by `seal_pdf`, or None."""
    import base64
    import binascii

    tail = data[max(data.rfind(b"trailer"), 0) :]  # the payload sits between the trailer and startxref
    size = len(PDF_PAYLOAD_PREFIX)
    parts = [line[size:].strip() for line in tail.splitlines() if line.startswith(PDF_PAYLOAD_PREFIX)]
    if not parts:
        return None
    try:
        return base64.b64decode(b"".join(parts), validate=True)
    except (binascii.Error, ValueError):
        return None
