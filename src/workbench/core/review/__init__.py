"""The local review store: audit runs, decisions per finding fingerprint, checklist and sign-off.

The names are loaded on first use (PEP 562), so importing the package or `workbench.core.review.status` does
not import SQLAlchemy; `from workbench.core.review import ReviewStore` loads the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.review.checklist import DEFAULT_ITEMS, DEFAULT_TEMPLATE, ChecklistItemSpec
    from workbench.core.review.status import DecisionStatus
    from workbench.core.review.store import (
        DATA_DIR_ENV,
        MIGRATIONS,
        SCHEMA_VERSION,
        ChecklistState,
        Decision,
        FindingStatus,
        ReviewInfo,
        ReviewNotFound,
        ReviewState,
        ReviewStore,
        ReviewStoreError,
        RunComparison,
        RunInfo,
        SignOff,
        data_dir,
        default_store_path,
        evaluate_checklist,
        fixed_label,
    )

__all__ = [
    "DATA_DIR_ENV",
    "DEFAULT_ITEMS",
    "DEFAULT_TEMPLATE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ChecklistItemSpec",
    "ChecklistState",
    "Decision",
    "DecisionStatus",
    "FindingStatus",
    "ReviewInfo",
    "ReviewNotFound",
    "ReviewState",
    "ReviewStore",
    "ReviewStoreError",
    "RunComparison",
    "RunInfo",
    "SignOff",
    "data_dir",
    "default_store_path",
    "evaluate_checklist",
    "fixed_label",
]

# The submodule of each name not in the store.
_LIGHT = {
    "DEFAULT_ITEMS": "checklist",
    "DEFAULT_TEMPLATE": "checklist",
    "ChecklistItemSpec": "checklist",
    "DecisionStatus": "status",
}


def __getattr__(name: str) -> Any:
    """Import the submodule defining `name` on first access (the store, with SQLAlchemy, for most names)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LIGHT.get(name, 'store')}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
