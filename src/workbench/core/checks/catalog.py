"""Imports every check module so that their checks register themselves."""

from workbench.core.checks import (
    data_exposure,  # noqa: F401
    grants,  # noqa: F401
    indexes,  # noqa: F401
    integrity,  # noqa: F401
    maintenance,  # noqa: F401
    operations,  # noqa: F401
    policies,  # noqa: F401
    rls,  # noqa: F401
    security,  # noqa: F401
)
