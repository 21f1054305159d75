"""Audit configuration: what counts as exposed, thresholds, and what the reviewer chose to ignore."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SYSTEM_SCHEMAS = frozenset(
    {
        "pg_catalog",
        "information_schema",
        "auth",
        "storage",
        "extensions",
        "graphql",
        "graphql_public",
        "realtime",
        "vault",
        "net",
        "cron",
        "supabase_functions",
        "supabase_migrations",
        "pgbouncer",
        "pgmq",
        "_realtime",
        "_analytics",
        "pgsodium",
        "pgsodium_masks",
        "pgtle",
        "repack",
        "tiger",
        "topology",
        "_timescaledb_cache",
        "_timescaledb_catalog",
        "_timescaledb_config",
        "_timescaledb_internal",
    }
)

DEFAULT_SENSITIVE_COLUMNS = (
    "password",
    "passwd",
    "password_hash",
    "hashed_password",
    "secret",
    "secret_key",
    "api_key",
    "apikey",
    "api_secret",
    "access_token",
    "refresh_token",
    "token",
    "auth_token",
    "jwt",
    "private_key",
    "client_secret",
    "ssn",
    "social_security_number",
    "credit_card",
    "credit_card_number",
    "card_number",
    "cvv",
    "cvc",
    "iban",
    "bank_account",
    "account_number",
    "routing_number",
    "passport_number",
    "passport",
    "drivers_license",
    "driver_license_number",
    "tax_id",
    "national_id",
    "date_of_birth",
    "dob",
    "birth_date",
    "pin",
    "security_answer",
    "otp_secret",
    "totp_secret",
    "mfa_secret",
    "recovery_codes",
    "mac_address",
    "ip_address",
    "pwd",
    "passphrase",
    # Glob patterns, matched against the lower-cased name with '-' read as '_': the suffix forms, so that
    # `stripe_secret` matches while `token_count` or `password_updated_at` do not.
    "*_password",
    "*_passwd",
    "*_password_hash",
    "*_secret",
    "*_secret_key",
    "*_token",
    "*_api_key",
    "*_apikey",
    "*_private_key",
    "*_ssn",
)


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Settings of one audit. Defaults suit a Supabase project; every field is overridable by workbench.toml."""

    exposed_schemas: tuple[str, ...] = ("public",)
    api_roles: tuple[str, ...] = ()  # extra API roles beyond anon/authenticated (or PUBLIC off Supabase)
    sensitive_columns: tuple[str, ...] = DEFAULT_SENSITIVE_COLUMNS
    tenant_columns: tuple[str, ...] = (
        "tenant_id",
        "organization_id",
        "org_id",
        "account_id",
        "workspace_id",
        "site_id",
    )
    internal_table_patterns: tuple[str, ...] = (
        "*_settings",
        "*_config",
        "*_secrets",
        "*_tokens",
        "system_*",
        "internal_*",
        "*_internal",
    )
    # "*_log" rather than "*log": the latter also matches catalog, blog and backlog.
    log_table_patterns: tuple[str, ...] = (
        "log",
        "logs",
        "*_log",
        "*_logs",
        "*_events",
        "*eventlog",
        "*audit*",
        "*_history",
    )
    min_stats_age_days: float = 7.0
    thresholds: dict[str, Any] = field(default_factory=dict)
    disabled_checks: tuple[str, ...] = ()
    only_checks: tuple[str, ...] = ()
    ignored: dict[str, str] = field(default_factory=dict)  # fingerprint -> reason

    def threshold(self, name: str, default: Any) -> Any:
        return self.thresholds.get(name, default)
