"""Connections: profiles, secrets and the read-only audit session."""

from workbench.core.connections.session import (
    AuditSession,
    Cancelled,
    ConnectionFailed,
    SessionOptions,
    explain_connection_error,
    make_conninfo,
    open_session,
)

__all__ = [
    "AuditSession",
    "Cancelled",
    "ConnectionFailed",
    "SessionOptions",
    "explain_connection_error",
    "make_conninfo",
    "open_session",
]
