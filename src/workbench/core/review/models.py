"""The review store's tables (SQLAlchemy 2 ORM, typed).

Everything a reviewer does is appended, never rewritten: a decision, a checklist tick and a sign-off are new rows,
and the latest row wins. Two windows or processes writing at once therefore cannot lose each other's work, and
the history is kept for the report. `reviews.revision` counts every change of a review (incremented in the same
transaction as the change); a sign-off records the revision it signed, so any later change supersedes it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class SchemaVersionRow(Base):
    """One row per applied schema version; the highest is the store's version."""

    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(primary_key=True)
    applied_at: Mapped[str] = mapped_column(String(40))


class ReviewRow(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    profile_json: Mapped[str] = mapped_column(Text)  # the connection profile without any secret
    created_at: Mapped[str] = mapped_column(String(40))
    checklist_template: Mapped[str] = mapped_column(String(200))
    checklist_json: Mapped[str] = mapped_column(Text)  # the template's items, copied when the review was created
    revision: Mapped[int] = mapped_column(default=0)


class AuditRunRow(Base):
    __tablename__ = "audit_runs"
    __table_args__ = (Index("ix_audit_runs_review", "review_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    started_at: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[str] = mapped_column(String(40))
    database: Mapped[str] = mapped_column(String(200))
    server_version: Mapped[str] = mapped_column(String(100))
    snapshot_zlib: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed snapshot JSON document
    findings_json: Mapped[str] = mapped_column(Text)
    checks_run_json: Mapped[str] = mapped_column(Text)
    checks_skipped_json: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=0)


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_review_fingerprint", "review_id", "fingerprint", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    deferred_until: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[str] = mapped_column(String(40))
    verified_run_id: Mapped[int | None] = mapped_column(ForeignKey("audit_runs.id", ondelete="SET NULL"))
    source_review: Mapped[str | None] = mapped_column(String(200))  # set when imported from another review
    revision: Mapped[int] = mapped_column(default=0)


class ChecklistTemplateRow(Base):
    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    items_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[str] = mapped_column(String(40))


class ChecklistMarkRow(Base):
    """A manual tick (or untick) of one checklist item of a review."""

    __tablename__ = "checklist_marks"
    __table_args__ = (Index("ix_checklist_marks_review_item", "review_id", "item_key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(200))
    ticked: Mapped[bool]
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(default=0)


class SignOffRow(Base):
    __tablename__ = "signoffs"
    __table_args__ = (Index("ix_signoffs_review", "review_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int]  # the review revision that was signed
