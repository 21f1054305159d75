"""Markdown building blocks shared by the audit review and the review report: escaping, code spans, evidence."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from workbench.core.model import Category, Finding, Level

CATEGORY_TITLES = {
    Category.SECURITY: "Security",
    Category.PERFORMANCE: "Performance",
    Category.INTEGRITY: "Integrity",
    Category.RELIABILITY: "Reliability",
    Category.MAINTENANCE: "Maintenance",
    Category.MIGRATIONS: "Migrations",
}


def md_cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_code(text: object) -> str:
    """An inline code span that survives backticks in the text."""
    value = str(text)
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def fence_for(text: str) -> str:
    """A code fence longer than any run of backticks in `text`."""
    run, best = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        best = max(best, run)
    return "`" * max(3, best + 1)


def evidence_value(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    return [f"  - {key}: {md_code(evidence_value(value))}" for key, value in evidence.items()]


def area_status(findings: list[Finding]) -> tuple[str, str]:
    """(`3 error, 1 warn`, `ERROR`) for a group of findings; (`No findings`, `OK`) for none."""
    if not findings:
        return "No findings", "OK"
    worst = max(findings, key=lambda f: f.level.rank).level
    counts = Counter(f.level for f in findings)
    parts = [f"{counts[lv]} {lv.value}" for lv in Level if counts[lv]]
    return ", ".join(parts), worst.value.upper()


def human_bytes(size: int) -> str:
    """1536 -> "1.5 kB"; sizes below a kilobyte in bytes."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def human_rows(rows: int) -> str:
    return "unknown" if rows < 0 else f"{rows:,}"
