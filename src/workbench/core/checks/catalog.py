"""Imports every check module so that their checks register themselves."""

from workbench.core.checks import data_exposure  # noqa: F401
from workbench.core.checks import indexes  # noqa: F401
from workbench.core.checks import rls  # noqa: F401
from workbench.core.checks import security  # noqa: F401
