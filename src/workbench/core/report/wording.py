"""Sentences every format of the report shares (banner, signature line, verification hint)."""

from __future__ import annotations

from workbench.core.report.model import ReportModel

VERIFY_HINT = "Verify this file with: workbench verify-report FILE"


def signature_line(model: ReportModel) -> str:
    """ "Signed off by Ann Lee (Lead DBA) on 2026-11-22T10:00:00+00:00" or why it is a draft."""
    block = model.signoff
    if block.signed and block.current is not None:
        c = block.current
        return f"Signed off by {c.reviewer} ({c.role}) on {c.signed_at}"
    if block.status == "superseded" and block.history:
        last = block.history[-1]
        return (
            f"DRAFT: the sign-off by {last.reviewer} on {last.signed_at} is superseded by later changes; "
            "a new sign-off is needed"
        )
    if model.title.review is None:
        return "DRAFT: an audit outside a review is never signed off"
    return "DRAFT: not signed off"


def draft_banner(model: ReportModel) -> str | None:
    """The warning shown at the top of an unsigned report, else None."""
    if not model.draft:
        return None
    block = model.signoff
    if block.status == "superseded" and block.history:
        last = block.history[-1]
        return (
            f"DRAFT. This review was signed off by {last.reviewer} on {last.signed_at[:10]} but has changed since; "
            "the sign-off no longer applies."
        )
    if model.title.review is None:
        return (
            "DRAFT. This report is a single audit, not a review: no decision, checklist tick or sign-off applies. "
            "Store the audit in a review (workbench audit --review NAME) to sign it off."
        )
    return "DRAFT. This review has not been signed off: findings and decisions may still change."
