"""The report as PDF, rendered with Qt only: a QTextDocument (HTML from `document_html`) printed by QPdfWriter.

Pages are drawn one by one with QPainter so that every page gets the running header, the footer with the page
number and the report hash, and, on a draft, the DRAFT watermark. The document is laid out once for the PDF
writer's resolution; the preview paints the same pages onto images, so what is previewed is what is written.

The written file carries the report's JSON document (zlib-compressed, base64, as PDF comment lines) and a seal
over its bytes (`workbench.core.report.signing.seal_pdf`), and its XMP metadata names the report hash and the
sign-off, so `workbench verify-report` can check it without a PDF library. Works headless: a QApplication is
created on the offscreen platform when none exists (pyqtgraph's charts need one).
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
    QTextOption,
)

from workbench import __version__
from workbench.core.report.model import ReportModel
from workbench.core.report.report_json import report_document
from workbench.core.report.signing import canonical_json, seal_pdf
from workbench.core.report.wording import signature_line

PAGE_SIZES = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
RESOLUTION = 300  # dots per inch of the layout; text and rules are vectors in the PDF whatever this is
MARGINS_MM = (18.0, 20.0, 18.0, 18.0)  # left, top, right, bottom: the header and footer sit in the margins
CSS_DPI = 96.0  # QTextDocument sizes images in 96-dpi pixels and scales them to the paint device
SANS = "DejaVu Sans"
INK = QColor("#1d2330")
MUTED = QColor("#5b6473")
RULE = QColor("#9aa3b0")
DRAFT_RED = QColor(198, 40, 40)
XMP_NS = "urn:pg-review-workbench:report:1.0:"

_app: QGuiApplication | None = None  # the application this module created, kept alive for the process


def ensure_app() -> QGuiApplication:
    """The running Qt application, or a new QApplication on the offscreen platform (a command-line run)."""
    global _app
    existing = QGuiApplication.instance()
    if isinstance(existing, QGuiApplication):
        return existing
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    _app = QApplication(["workbench"])
    return _app


def _mm(value: float) -> float:
    return value / 25.4 * RESOLUTION


def _chart_images(model: ReportModel) -> list[tuple[str, QImage]]:
    from PySide6.QtWidgets import QApplication

    if not isinstance(QGuiApplication.instance(), QApplication) or not model.entries:
        return []  # pyqtgraph needs widgets; a GUI-only application gets the report without charts
    from workbench.ui.report import charts

    return [("chart:levels", charts.findings_by_level(model)), ("chart:categories", charts.findings_by_category(model))]


@dataclass(frozen=True, slots=True)
class RenderedPdf:
    data: bytes
    pages: int
    seconds: float


class ReportLayout:
    """The report laid out on pages of one size, ready to paint into a PDF or onto preview images."""

    def __init__(self, model: ReportModel, page_size: str = "a4", *, with_charts: bool = True) -> None:
        ensure_app()
        if page_size not in PAGE_SIZES:
            raise ValueError(f"unknown page size {page_size!r}; choose one of {', '.join(PAGE_SIZES)}")
        self.model = model
        self.page_size = page_size
        self.page_layout = QPageLayout(
            QPageSize(PAGE_SIZES[page_size]), QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)
        )
        full = self.page_layout.fullRectPixels(RESOLUTION)
        self.page_rect = QRectF(0, 0, full.width(), full.height())
        left, top, right, bottom = (_mm(m) for m in MARGINS_MM)
        self.body = QRectF(left, top, full.width() - left - right, full.height() - top - bottom)
        # A writer the document is laid out for (font metrics at RESOLUTION); write_pdf() paints on a fresh one.
        self._metrics_buffer = QBuffer()
        self._metrics_buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self._metrics_device = self._writer(self._metrics_buffer)
        self.document = self._document(with_charts)
        self.page_count = max(1, self.document.pageCount())

    def _writer(self, device: QIODevice) -> QPdfWriter:
        writer = QPdfWriter(device)
        writer.setResolution(RESOLUTION)
        writer.setPageLayout(self.page_layout)
        return writer

    def _document(self, with_charts: bool) -> QTextDocument:
        from workbench.ui.report.document_html import report_html

        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(self._metrics_device)
        font = QFont(SANS)
        font.setPointSizeF(9)
        doc.setDefaultFont(font)
        doc.setDocumentMargin(0)
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        doc.setDefaultTextOption(option)
        doc.setPageSize(QSizeF(self.body.width(), self.body.height()))
        charts: list[tuple[str, int, int]] = []
        if with_charts:
            images = _chart_images(self.model)
            css_width = self.body.width() * CSS_DPI / RESOLUTION
            for name, image in images:
                width = int(css_width * 0.48)
                height = int(width * image.height() / max(image.width(), 1))
                doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
                charts.append((name, width, height))
        doc.setHtml(report_html(self.model, charts))
        return doc

    # -- painting ------------------------------------------------------------------------------------------------
    def _font(self, points: float, *, bold: bool = False) -> QFont:
        font = QFont(SANS)
        font.setPointSizeF(points)
        font.setBold(bold)
        return font

    def paint_page(self, painter: QPainter, index: int) -> None:
        """Paint page `index` (0-based) in page coordinates at RESOLUTION (scale the painter for other sizes)."""
        body = self.body
        painter.save()
        painter.translate(body.left(), body.top() - index * body.height())
        self.document.drawContents(painter, QRectF(0, index * body.height(), body.width(), body.height()))
        painter.restore()
        if self.model.draft:
            self._watermark(painter)
        if index > 0:
            self._header(painter)
        self._footer(painter, index)

    def _header(self, painter: QPainter) -> None:
        body = self.body
        y = body.top() - _mm(5)
        painter.save()
        painter.setPen(QPen(RULE, _mm(0.2)))
        painter.drawLine(QPointF(body.left(), y + _mm(1.5)), QPointF(body.right(), y + _mm(1.5)))
        painter.setFont(self._font(7.5))
        painter.setPen(MUTED)
        text_rect = QRectF(body.left(), y - _mm(5), body.width(), _mm(5))
        painter.drawText(
            text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), self.model.title.title
        )
        if self.model.draft:
            painter.setFont(self._font(7.5, bold=True))
            painter.setPen(DRAFT_RED)
            right = "DRAFT: not signed off"
        else:
            right = signature_line(self.model)
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom), right)
        painter.restore()

    def _footer(self, painter: QPainter, index: int) -> None:
        body = self.body
        y = body.bottom() + _mm(5)
        painter.save()
        painter.setPen(QPen(RULE, _mm(0.2)))
        painter.drawLine(QPointF(body.left(), y), QPointF(body.right(), y))
        painter.setFont(self._font(7.5))
        painter.setPen(MUTED)
        rect = QRectF(body.left(), y + _mm(1), body.width(), _mm(5))
        digest = self.model.report_sha256
        left = f"Report SHA-256 {digest[:16]}…  ·  workbench {self.model.title.tool_version}"
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), left)
        painter.drawText(
            rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), f"Page {index + 1} of {self.page_count}"
        )
        painter.restore()

    def _watermark(self, painter: QPainter) -> None:
        page = self.page_rect
        painter.save()
        painter.translate(page.center())
        painter.rotate(-40)
        font = self._font(110, bold=True)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 110)
        painter.setFont(font)
        colour = QColor(DRAFT_RED)
        colour.setAlpha(26)
        painter.setPen(colour)
        size = page.width()
        painter.drawText(QRectF(-size, -size / 4, 2 * size, size / 2), int(Qt.AlignmentFlag.AlignCenter), "DRAFT")
        painter.restore()

    # -- output --------------------------------------------------------------------------------------------------
    def page_image(self, index: int, dpi: float = 96.0) -> QImage:
        """Page `index` as an image at `dpi` (for the preview)."""
        scale = dpi / RESOLUTION
        image = QImage(
            int(self.page_rect.width() * scale), int(self.page_rect.height() * scale), QImage.Format.Format_RGB32
        )
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.scale(scale, scale)
        self.paint_page(painter, index)
        painter.end()
        return image

    def write_pdf(self) -> bytes:
        """The sealed PDF file's bytes."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = self._writer(buffer)
        writer.setTitle(self.model.title.title)
        writer.setCreator(f"workbench {__version__}")
        signoff = self.model.signoff.current if self.model.signoff.signed else None
        writer.setAuthor(signoff.reviewer if signoff else (self.model.title.reviewer or "workbench"))
        writer.setDocumentXmpMetadata(QByteArray(xmp_metadata(self.model)))
        painter = QPainter()
        if not painter.begin(writer):
            raise OSError("Qt could not start writing the PDF")
        try:
            for index in range(self.page_count):
                if index:
                    writer.newPage()
                self.paint_page(painter, index)
        finally:
            painter.end()
        buffer.close()
        data = bytes(buffer.data().data())
        payload = zlib.compress(canonical_json(report_document(self.model)).encode("utf-8"), 9)
        return seal_pdf(data, payload)


def xmp_metadata(model: ReportModel) -> bytes:
    """XMP for the PDF: title, creator, and the report hash and sign-off in the workbench's own namespace."""
    sig = model.signature
    values = {
        "reportSha256": model.report_sha256,
        "reviewContentHash": (sig.review_content_hash if sig else None) or "",
        "signatureStatus": sig.status if sig else "draft",
        "signedBy": (sig.signed_by if sig else None) or "",
        "signedAt": (sig.signed_at if sig else None) or "",
        "review": model.title.review or "",
    }
    own = "".join(f"<wb:{k}>{xml_escape(v)}</wb:{k}>" for k, v in values.items())
    title = xml_escape(model.title.title)
    line = xml_escape(signature_line(model))
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        f'xmlns:wb="{XMP_NS}">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{line}</rdf:li></rdf:Alt></dc:description>'
        f"<pdf:Keywords>workbench-report sha256:{model.report_sha256}</pdf:Keywords>"
        f"<pdf:Producer>workbench {__version__} (Qt)</pdf:Producer>"
        f"<xmp:CreatorTool>workbench {__version__}</xmp:CreatorTool>"
        f"<xmp:CreateDate>{xml_escape(model.title.generated_at)}</xmp:CreateDate>"
        f"{own}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
    return text.encode("utf-8")


def render_pdf(model: ReportModel, output: Path | None = None, page_size: str = "a4") -> RenderedPdf:
    """Lay out and write the report; to `output` when given. Returns the bytes, the page count and the time."""
    started = time.perf_counter()
    layout = ReportLayout(model, page_size)
    data = layout.write_pdf()
    if output is not None:
        output.write_bytes(data)
    return RenderedPdf(data, layout.page_count, time.perf_counter() - started)
