"""Read `workbench.toml`: unknown keys and bad values are reported, never silently ignored."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from workbench.core.checks.config import AuditConfig

_LISTS = (
    "exposed_schemas",
    "api_roles",
    "sensitive_columns",
    "tenant_columns",
    "internal_table_patterns",
    "log_table_patterns",
    "disabled_checks",
    "only_checks",
)


class ConfigError(Exception):
    """The configuration file is not valid; the message names the file, the key and what is expected."""


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def config_from_mapping(data: dict[str, Any], source: str = "configuration") -> AuditConfig:
    """Validate a parsed TOML document and build the AuditConfig it describes."""
    from workbench.core.checks.registry import all_checks

    known_checks = {c.spec.id for c in all_checks()}
    known_categories = {c.spec.category.value for c in all_checks()}
    allowed = {*_LISTS, "min_stats_age_days", "thresholds", "ignore"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; known keys are {', '.join(sorted(allowed))}.")
    values: dict[str, Any] = {}
    for key in _LISTS:
        if key in data:
            value = data[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: {key} must be a list of strings.")
            values[key] = tuple(value)
    for key in ("disabled_checks", "only_checks"):
        for name in values.get(key, ()):
            if name not in known_checks and not (key == "only_checks" and name in known_categories):
                raise ConfigError(f"{source}: {key} names {name!r}, which is not a check id.")
    if "min_stats_age_days" in data:
        age = data["min_stats_age_days"]
        if isinstance(age, bool) or not isinstance(age, int | float) or age < 0:
            raise ConfigError(f"{source}: min_stats_age_days must be a number of days >= 0.")
        values["min_stats_age_days"] = float(age)
    thresholds = data.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise ConfigError(f"{source}: [thresholds] must be a table, e.g. [thresholds.table_bloat].")
    flat = _flatten(thresholds)
    for name, value in flat.items():
        if name.split(".")[0] not in known_checks:
            raise ConfigError(f"{source}: threshold {name!r} does not belong to a known check.")
        if isinstance(value, bool) or not isinstance(value, int | float | str | list):
            raise ConfigError(f"{source}: threshold {name!r} has an unsupported value {value!r}.")
    values["thresholds"] = flat
    ignore = data.get("ignore", {})
    if not isinstance(ignore, dict) or not all(isinstance(v, str) and v.strip() for v in ignore.values()):
        raise ConfigError(f'{source}: [ignore] maps fingerprints to a reason, e.g. "check:key" = "why".')
    values["ignored"] = dict(ignore)
    return AuditConfig(**values)


def load_config(path: Path) -> AuditConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"The configuration file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the configuration file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return config_from_mapping(data, str(path))
