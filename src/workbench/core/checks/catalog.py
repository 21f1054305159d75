"""Imports every check module so that their checks register themselves."""

from workbench.core.checks import rls  # noqa: F401
