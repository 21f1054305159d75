"""File > Export report…: choose the audit or a stored review, preview the PDF pages, save in any format.

The preview paints the very layout the PDF is written from (`ReportLayout`), so the pages look as they will print.
Building the layout takes a moment on a large review (charts, pagination): the dialog shows a busy cursor.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from workbench.core.checks.runner import AuditResult
from workbench.core.report.build import build_audit_report, review_report, sarif_baseline
from workbench.core.report.model import ReportModel
from workbench.core.report.report_json import render_json
from workbench.core.report.report_markdown import render_report_markdown
from workbench.core.report.sarif import render_sarif
from workbench.core.review import ReviewStore, ReviewStoreError
from workbench.ui.report.pdf import ReportLayout

FORMATS = {  # label: (extension, file dialog filter)
    "PDF": ("pdf", "PDF documents (*.pdf)"),
    "Markdown": ("md", "Markdown (*.md)"),
    "JSON": ("json", "JSON (*.json)"),
    "SARIF": ("sarif", "SARIF logs (*.sarif *.json)"),
}
PREVIEW_DPI = 80.0
AUDIT_SOURCE = "audit:"  # the data of the source combo's items
REVIEW_SOURCE = "review:"


class ReportDialog(QDialog):
    sig_saved = Signal(str)  # the path written

    def __init__(self, parent: QWidget | None, result: AuditResult | None, store_path: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.setObjectName("report_dialog")
        self.resize(860, 980)
        self.audit_result = result
        self.store_path = store_path
        self.model: ReportModel | None = None
        self.layout_: ReportLayout | None = None
        self.baseline: dict[str, str] = {}
        self.page_index = 0

        self.source = QComboBox()
        self.source.setObjectName("report_source")
        self.page_size = QComboBox()
        self.page_size.addItem("A4", "a4")
        self.page_size.addItem("Letter", "letter")
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.save_button = QPushButton("Save…")
        self.save_button.setObjectName("report_save")
        self.save_button.setDefault(True)
        self.close_button = QPushButton("Close")
        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = QLabel()
        self.status.setObjectName("report_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.page_view = QLabel()
        self.page_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.page_view)
        scroll.setWidgetResizable(True)
        scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll.setStyleSheet("QScrollArea { background: #7b818c; }")

        top = QHBoxLayout()
        top.addWidget(QLabel("Report of"))
        top.addWidget(self.source, 1)
        top.addWidget(QLabel("Page size"))
        top.addWidget(self.page_size)
        nav = QHBoxLayout()
        nav.addWidget(self.previous_button)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.next_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(QLabel("Format"))
        bottom.addWidget(self.format)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addLayout(nav)
        column.addWidget(scroll, 1)
        column.addLayout(bottom)

        self.previous_button.clicked.connect(lambda: self.show_page(self.page_index - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self.page_index + 1))
        QShortcut(
            QKeySequence(QKeySequence.StandardKey.MoveToPreviousPage), self, lambda: self.show_page(self.page_index - 1)
        )
        QShortcut(
            QKeySequence(QKeySequence.StandardKey.MoveToNextPage), self, lambda: self.show_page(self.page_index + 1)
        )
        self.save_button.clicked.connect(self._save_with_dialog)
        self.close_button.clicked.connect(self.reject)
        self._fill_sources()
        self.source.currentIndexChanged.connect(lambda _i: self.rebuild())
        self.page_size.currentIndexChanged.connect(lambda _i: self.rebuild())
        self.rebuild()

    # -- sources ---------------------------------------------------------------------------------------------------
    def _fill_sources(self) -> None:
        if self.audit_result is not None:
            self.source.addItem(f"Current audit of {self.audit_result.snapshot.database} (draft)", AUDIT_SOURCE)
        try:
            with ReviewStore(self.store_path) as store:
                reviews = store.reviews()
        except ReviewStoreError as exc:
            self.status.setText(f"The review store cannot be read: {exc}")
            reviews = ()
        for r in reviews:
            if r.runs:
                self.source.addItem(f"Review {r.name} ({r.database}, {r.signoff_status})", REVIEW_SOURCE + r.name)

    def select_review(self, name: str) -> bool:
        index = self.source.findData(REVIEW_SOURCE + name)
        if index >= 0:
            self.source.setCurrentIndex(index)
        return index >= 0

    def _build_model(self) -> ReportModel | None:
        data = self.source.currentData()
        if not isinstance(data, str) or not data:
            return None
        if data == AUDIT_SOURCE:
            self.baseline = {}
            return build_audit_report(self.audit_result) if self.audit_result is not None else None
        name = data.removeprefix(REVIEW_SOURCE)
        with ReviewStore(self.store_path) as store:
            model = review_report(store, name)
            self.baseline = sarif_baseline(store.state(name))
        return model

    def rebuild(self) -> None:
        """Build the report of the chosen source and lay it out for the chosen page size."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.model = self._build_model()
            size = str(self.page_size.currentData() or "a4")
            self.layout_ = ReportLayout(self.model, size) if self.model is not None else None
        except ReviewStoreError as exc:
            self.model, self.layout_ = None, None
            self.status.setText(str(exc))
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.save_button.setEnabled(self.model is not None)
        if self.model is None:
            self.page_view.setText("Run an audit, or store one in a review, to export a report.")
            self.page_label.setText("")
            self.previous_button.setEnabled(False)
            self.next_button.setEnabled(False)
            return
        state = "DRAFT (not signed off)" if self.model.draft else "signed off"
        self.status.setText(f"{state} · report SHA-256 {self.model.report_sha256[:16]}…")
        self.show_page(0)

    # -- preview ---------------------------------------------------------------------------------------------------
    @property
    def page_count(self) -> int:
        return self.layout_.page_count if self.layout_ is not None else 0

    def show_page(self, index: int) -> None:
        if self.layout_ is None:
            return
        index = max(0, min(index, self.layout_.page_count - 1))
        self.page_index = index
        ratio = self.devicePixelRatioF()
        image = self.layout_.page_image(index, PREVIEW_DPI * ratio)
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        self.page_view.setPixmap(pixmap)
        self.page_label.setText(f"Page {index + 1} of {self.layout_.page_count}")
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < self.layout_.page_count - 1)

    # -- saving ----------------------------------------------------------------------------------------------------
    def _save_with_dialog(self) -> None:
        if self.model is None:
            return
        label = self.format.currentText()
        extension, file_filter = FORMATS[label]
        suggested = f"{self.model.title.database}-review.{extension}"
        path, _ = QFileDialog.getSaveFileName(self, f"Save the report as {label}", suggested, file_filter)
        if path:
            self.save_to(Path(path), extension)

    def save_to(self, path: Path, fmt: str) -> bool:
        """Write the previewed report to `path` in `fmt` (pdf, md, json, sarif); False (and a message) on failure."""
        if self.model is None:
            return False
        try:
            if fmt == "pdf" and self.layout_ is not None:
                path.write_bytes(self.layout_.write_pdf())
            elif fmt == "md":
                path.write_text(render_report_markdown(self.model), encoding="utf-8")
            elif fmt == "json":
                path.write_text(render_json(self.model), encoding="utf-8")
            elif fmt == "sarif":
                path.write_text(render_sarif(self.model, baseline=self.baseline), encoding="utf-8")
            else:
                raise ValueError(f"unknown format {fmt!r}")
        except OSError as exc:
            self.status.setText(f"Could not write {path}: {exc.strerror or exc}")
            return False
        self.status.setText(f"Saved {path} · report SHA-256 {self.model.report_sha256}")
        self.sig_saved.emit(str(path))
        return True
