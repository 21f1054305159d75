"""The status of a decision on a finding: a light module (no SQLAlchemy), so parsers can list the values."""

from __future__ import annotations

from enum import StrEnum


class DecisionStatus(StrEnum):
    OPEN = "open"
    FIXED = "fixed"
    ACCEPTED_RISK = "accepted_risk"
    DEFERRED = "deferred"
    FALSE_POSITIVE = "false_positive"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")
