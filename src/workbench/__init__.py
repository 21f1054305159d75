"""PostgreSQL review workbench: audit, compare, remediate and sign off a database."""

__version__ = "0.1.0"
