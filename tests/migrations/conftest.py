"""Helpers of the migrations tests: folders of .sql files built in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.core.migrations import MigrationConfig, MigrationReview, review_migrations
from workbench.core.model import Finding

FolderFactory = Callable[[dict[str, str]], Path]


@pytest.fixture
def make_folder(tmp_path: Path) -> FolderFactory:
    """``make_folder({"001_init.sql": "…", "down/001_init.sql": "…"})`` writes the files, returns the folder."""
    counter = iter(range(1000))

    def make(files: dict[str, str]) -> Path:
        root = tmp_path / f"migrations{next(counter)}"
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    return make


def static_review(folder: Path, **options: object) -> MigrationReview:
    """The file rules only (no server)."""
    return review_migrations(folder, MigrationConfig(replay=False, **options))  # type: ignore[arg-type]


def of(review: MigrationReview, check: str) -> list[Finding]:
    return [f for f in review.all_findings if f.check == check]


# A folder that triggers no migration rule: counters, IF NOT EXISTS everywhere, a rollback section where a
# file changes existing tables, indexes created with their tables, a constraint added NOT VALID then validated.
CLEAN = {
    "001_customers.sql": """
create table if not exists public.customers (
    id bigint generated always as identity primary key,
    email text not null unique
);
""",
    "002_orders.sql": """
create table if not exists public.orders (
    id bigint generated always as identity primary key,
    customer_id bigint not null references public.customers (id),
    total numeric(12, 2) not null default 0
);
create index if not exists orders_customer_id_idx on public.orders (customer_id);
""",
    "003_order_note.sql": """
alter table public.orders add column if not exists note text;
alter table public.orders drop constraint if exists orders_total_positive;
alter table public.orders add constraint orders_total_positive check (total >= 0) not valid;
alter table public.orders validate constraint orders_total_positive;

-- rollback
-- alter table public.orders drop constraint if exists orders_total_positive;
-- alter table public.orders drop column if exists note;
""",
    "004_touch.sql": """
create or replace function public.touch() returns trigger language plpgsql set search_path = '' as $$
begin
    new.note := coalesce(new.note, '');
    return new;
end $$;
""",
}
