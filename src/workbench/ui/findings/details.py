"""The details pane: why a finding matters, its evidence, the object's definition and the remediation SQL."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QSplitter, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from workbench.core.checks.registry import CheckSpec
from workbench.core.model import Category, Finding, Level, Snapshot
from workbench.ui.findings.definitions import object_definition
from workbench.ui.sql_view import SqlView
from workbench.ui.theme import CATEGORY_LABELS, LEVEL_COLOURS, LEVEL_LABELS, is_dark

EMPTY_TEXT = "Select a finding to see why it matters, its evidence, and the SQL to fix it."


def _esc(value: object) -> str:
    return html.escape(str(value))


_ACRONYMS = {
    "rls": "RLS",
    "sql": "SQL",
    "id": "ID",
    "oid": "OID",
    "ssl": "SSL",
    "xid": "XID",
    "fk": "FK",
    "pk": "PK",
    "ddl": "DDL",
    "api": "API",
    "jwt": "JWT",
    "tps": "TPS",
    "mb": "MB",
    "gb": "GB",
}


def _humanize(key: str) -> str:
    """`rls_enabled` -> "RLS enabled"."""
    words = [_ACRONYMS.get(w.lower(), w) for w in key.replace("_", " ").split()]
    if words and words[0] == words[0].lower():
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def _value_html(value: Any) -> str:
    if value is None:
        return "<span style='color:#8a93a3'>—</span>"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, list | tuple):
        if not value:
            return "<span style='color:#8a93a3'>none</span>"
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return ", ".join(f"<code>{_esc(v)}</code>" for v in value)
        return "<br>".join(_value_html(v) for v in value)
    if isinstance(value, dict):
        if not value:
            return "<span style='color:#8a93a3'>none</span>"
        return "<br>".join(f"<b>{_esc(k)}</b>: {_value_html(v)}" for k, v in value.items())
    text = str(value)
    if "\n" in text or len(text) > 120:
        return f"<pre style='margin:0'>{_esc(text)}</pre>"
    return _esc(text)


def evidence_table(evidence: dict[str, Any]) -> str:
    """The evidence dict as an HTML table: one row per fact."""
    if not evidence:
        return "<p style='color:#8a93a3'>No evidence recorded for this finding.</p>"
    rows = "".join(
        f"<tr><td class='k'>{_esc(_humanize(k))}</td><td class='v'>{_value_html(v)}</td></tr>"
        for k, v in evidence.items()
    )
    return f"<table class='evidence' cellspacing='0' cellpadding='5' width='100%'>{rows}</table>"


def level_badge(level: Level) -> str:
    return (
        f"<span style='background:{LEVEL_COLOURS[level]}; color:white; font-weight:600;'>"
        f"&nbsp;{LEVEL_LABELS[level].upper()}&nbsp;</span>"
    )


class DetailsPane(QWidget):
    """Shows one finding, one check (its findings together) or a category summary."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("details")
        self.snapshot: Snapshot | None = None
        self._shown: tuple[Callable[..., None], tuple[object, ...]] | None = None  # to redraw after a theme change
        self.title = QLabel()
        self.title.setProperty("role", "heading")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.subtitle.setTextFormat(Qt.TextFormat.RichText)
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body = QTextBrowser()
        self.body.setOpenExternalLinks(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.remediation = SqlView("Review before running: the workbench never runs it by itself.")
        self.definition = SqlView("As it is now, reconstructed from the catalog snapshot.")
        self.sql_tabs = QTabWidget()
        self.sql_tabs.setDocumentMode(True)
        self.sql_tabs.addTab(self.remediation, "Remediation SQL")
        self.sql_tabs.addTab(self.definition, "Current definition")

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(4)
        top_layout.addWidget(self.title)
        top_layout.addWidget(self.subtitle)
        top_layout.addWidget(self.body, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("details_splitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.sql_tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.splitter)
        self.show_nothing()

    # -- content -----------------------------------------------------------------------------------------------
    def set_snapshot(self, snapshot: Snapshot | None) -> None:
        self.snapshot = snapshot

    def _css(self) -> str:
        border = "#3a3f4a" if is_dark() else "#e1e4ea"
        key_bg = "#232730" if is_dark() else "#f4f6f9"
        return (
            "<style>"
            f"table.evidence {{ border-collapse: collapse; border: 1px solid {border}; }}"
            f"table.evidence td {{ border-bottom: 1px solid {border}; vertical-align: top; }}"
            f"td.k {{ background: {key_bg}; font-weight: 600; white-space: nowrap; }}"
            "h4 { margin-top: 14px; margin-bottom: 4px; }"
            "p { margin-top: 2px; margin-bottom: 6px; }"
            "</style>"
        )

    def refresh(self) -> None:
        """Draw the current content again (after a palette change)."""
        if self._shown is not None:
            method, args = self._shown
            method(*args)

    def show_nothing(self, message: str = EMPTY_TEXT) -> None:
        self._shown = (self.show_nothing, (message,))
        self.title.setText("Details")
        self.subtitle.setText("")
        self.body.setHtml(f"{self._css()}<p style='color:#8a93a3'>{_esc(message)}</p>")
        self.remediation.set_sql(None, placeholder="No finding selected.")
        self.definition.set_sql(None, placeholder="No finding selected.")

    def show_finding(self, finding: Finding, spec: CheckSpec | None) -> None:
        self._shown = (self.show_finding, (finding, spec))
        obj = finding.object
        self.title.setText(finding.title)
        category = CATEGORY_LABELS.get(finding.category.value, finding.category.value)
        self.subtitle.setText(
            f"{level_badge(finding.level)}&nbsp; {_esc(category)} · {_esc(obj.kind.replace('_', ' '))} "
            f"<code><b>{_esc(finding.key)}</b></code>"
        )
        parts = [self._css(), f"<p>{_esc(finding.detail)}</p>"]
        if spec is not None:
            parts.append(f"<h4>Why it matters</h4><p>{_esc(spec.rationale)}</p>")
            parts.append(f"<h4>How to fix</h4><p>{_esc(spec.remediation)}</p>")
        parts.append("<h4>Evidence</h4>" + evidence_table(finding.evidence))
        parts.append(
            f"<p style='color:#8a93a3; margin-top:10px'>Check <code>{_esc(finding.check)}</code> · "
            f"fingerprint <code>{_esc(finding.fingerprint)}</code></p>"
        )
        self.body.setHtml("".join(parts))
        self.remediation.set_sql(
            finding.remediation_sql,
            placeholder="This finding has no automatic fix: follow “How to fix” above.",
        )
        definition = object_definition(self.snapshot, obj)
        placeholder = (
            "The definition is available once the audit has finished."
            if self.snapshot is None
            else f"The snapshot holds no definition for this {obj.kind.replace('_', ' ')}."
        )
        self.definition.set_sql(definition, placeholder=placeholder)

    def show_check(self, spec: CheckSpec | None, findings: tuple[Finding, ...]) -> None:
        self._shown = (self.show_check, (spec, findings))
        first = findings[0] if findings else None
        title = spec.title if spec else (first.title if first else "Check")
        self.title.setText(title)
        levels = Counter(f.level for f in findings)
        level = spec.level if spec else (first.level if first else Level.INFO)
        category = spec.category.value if spec else (first.category.value if first else "")
        self.subtitle.setText(
            f"{level_badge(level)}&nbsp; {_esc(CATEGORY_LABELS.get(category, category))} · "
            f"<code>{_esc(spec.id if spec else first.check if first else '')}</code> · "
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
            + (
                " ("
                + ", ".join(
                    f"{n} {LEVEL_LABELS[lv].lower()}" for lv, n in sorted(levels.items(), key=lambda i: -i[0].rank)
                )
                + ")"
                if len(levels) > 1
                else ""
            )
        )
        parts = [self._css()]
        if spec is not None:
            parts.append(f"<p>{_esc(spec.description)}</p>")
            parts.append(f"<h4>Why it matters</h4><p>{_esc(spec.rationale)}</p>")
            parts.append(f"<h4>How to fix</h4><p>{_esc(spec.remediation)}</p>")
        if findings:
            items = "".join(f"<li><code>{_esc(f.key)}</code> — {_esc(f.detail)}</li>" for f in findings[:50])
            more = f"<li>… and {len(findings) - 50} more</li>" if len(findings) > 50 else ""
            parts.append(f"<h4>Objects</h4><ul>{items}{more}</ul>")
        self.body.setHtml("".join(parts))
        self.remediation.set_sql(combined_sql(findings), placeholder="None of these findings has an automatic fix.")
        self.definition.set_sql(None, placeholder="Select one object to see its definition.")

    def show_category(self, category: Category, findings: tuple[Finding, ...]) -> None:
        self._shown = (self.show_category, (category, findings))
        label = CATEGORY_LABELS.get(category.value, category.value)
        self.title.setText(label)
        by_level = Counter(f.level for f in findings)
        self.subtitle.setText(" &nbsp; ".join(f"{level_badge(lv)} {by_level[lv]}" for lv in Level if by_level.get(lv)))
        by_check = Counter(f.title for f in findings)
        rows = "".join(
            f"<tr><td class='k'>{_esc(t)}</td><td class='v'>{n:,}</td></tr>" for t, n in by_check.most_common()
        )
        self.body.setHtml(
            f"{self._css()}<p>{len(findings):,} finding{'s' if len(findings) != 1 else ''} in {_esc(label.lower())}."
            f"</p><table class='evidence' cellspacing='0' cellpadding='5' width='100%'>{rows}</table>"
        )
        self.remediation.set_sql(combined_sql(findings), placeholder="No automatic fixes in this category.")
        self.definition.set_sql(None, placeholder="Select one object to see its definition.")

    def show_remediation(self) -> None:
        self.sql_tabs.setCurrentWidget(self.remediation)


def combined_sql(findings: tuple[Finding, ...]) -> str | None:
    """The remediation statements of several findings as one script, each introduced by its object."""
    chunks = [f"-- {f.check}: {f.key}\n{f.remediation_sql.strip()}" for f in findings if f.remediation_sql]
    return "\n\n".join(chunks) if chunks else None


def evidence_json(finding: Finding) -> str:
    return json.dumps(finding.evidence, indent=2, ensure_ascii=False, default=str)
