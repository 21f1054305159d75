"""Integrity checks: each with schemas that must trigger it and healthy ones that must not."""

from __future__ import annotations

import dataclasses
from importlib import resources
from typing import Any

import psycopg
import pytest

from tests.checks.conftest import AuditSql, keys, snapshot_of
from workbench.core.checks import REGISTRY, AuditConfig, AuditResult
from workbench.core.connections import open_session
from workbench.core.embedded import load_sql
from workbench.core.model import Finding
from workbench.core.snapshot import probe_library
from workbench.core.snapshot.probes import run_probes


def only(result: AuditResult, check_id: str) -> list[Finding]:
    return [f for f in result.findings if f.check == check_id]


def one(result: AuditResult, check_id: str) -> Finding:
    [finding] = only(result, check_id)
    return finding


def execute_each(dsn: str, script: str | None) -> list[list[tuple[Any, ...]]]:
    """Run a remediation script statement by statement in autocommit; returns each statement's rows."""
    assert script
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    results = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in body.split(";\n"):
            if statement.strip().rstrip(";"):
                cur = conn.execute(statement.strip().rstrip(";").encode())
                results.append(cur.fetchall() if cur.description else [])
    return results


def query(dsn: str, text: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(text.encode()).fetchall()


# --------------------------------------------------------------------------------------------------
# missing_foreign_key
# --------------------------------------------------------------------------------------------------

MISSING_FK = """
create table public.customers (id bigint primary key, name text);
create table public.categories (id int primary key);
create table public.orders (id bigint primary key, customer_id bigint, note text);
create table public.products (id int primary key, category_id int);
create schema billing;
create table public.accounts (id uuid primary key);
create table billing.invoices (id bigint primary key, account_id uuid);
insert into public.customers values (1, 'a');
insert into public.orders values (10, 1, null), (11, null, null);
"""


def test_missing_foreign_key_flags_id_columns_of_the_parent_key_type(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, MISSING_FK, "missing_foreign_key")
    assert keys(result, "missing_foreign_key") == {
        "public.orders.customer_id",
        "public.products.category_id",  # category -> categories (y -> ies)
        "billing.invoices.account_id",  # no `accounts` in billing: found in another user schema
    }
    found = {f.key: f for f in result.findings}
    orders = found["public.orders.customer_id"]
    assert orders.level == "warn"
    assert orders.evidence["referenced_table"] == "public.customers"
    assert orders.evidence["referenced_column"] == "id"
    assert orders.evidence["referenced_type"] == orders.evidence["column_type"] == "bigint"
    assert found["billing.invoices.account_id"].evidence["referenced_table"] == "public.accounts"
    script = orders.remediation_sql
    assert script is not None
    assert (
        'ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_customer_id_fkey" FOREIGN KEY ("customer_id") '
        'REFERENCES "public"."customers" ("id") NOT VALID;' in script
    )
    assert script.rstrip().endswith('ALTER TABLE "public"."orders" VALIDATE CONSTRAINT "orders_customer_id_fkey";')
    assert script.index("NOT VALID") < script.index("orphan_rows") < script.index("VALIDATE CONSTRAINT")
    # The script runs as is (no orphans here), and the finding goes away.
    outputs = execute_each(fresh_db, script)
    assert outputs[1] == [(0,)]  # the orphan count
    for finding in found.values():
        if finding is not orders:
            execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "missing_foreign_key"), "missing_foreign_key") == set()


def test_missing_foreign_key_counts_orphans_before_validating(fresh_db: str, audit_sql: AuditSql) -> None:
    script = MISSING_FK + "insert into public.orders values (12, 999, 'dangling');"
    finding = next(f for f in audit_sql(fresh_db, script, "missing_foreign_key").findings if "orders" in f.key)
    assert finding.remediation_sql is not None
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        execute_each(fresh_db, finding.remediation_sql)
    assert query(
        fresh_db,
        "select count(*) from public.orders c where c.customer_id is not null and not exists "
        "(select from public.customers p where p.id = c.customer_id)",
    ) == [(1,)]


def test_missing_foreign_key_ignores_declared_mistyped_polymorphic_and_ambiguous_columns(
    fresh_db: str, audit_sql: AuditSql
) -> None:
    script = """
    create table public.users (id bigint primary key);
    create table public.posts (id bigint primary key, user_id bigint references public.users);
    create table public.likes (id bigint primary key, user_id int);                -- int vs bigint key
    create table public.comments (id bigint primary key, entity_type text, entity_id bigint,
                                  post_id bigint);
    create table public.teams (code int primary key);
    create table public.members (id bigint primary key, team_id text);             -- text vs int key
    create schema a; create schema b;
    create table a.projects (id uuid primary key);
    create table b.projects (id uuid primary key);
    create table public.tickets (id bigint primary key, project_id uuid);          -- two candidates
    create table public.gadgets (gadget_id bigint primary key);                    -- its own key
    create table public.payments (id bigint primary key, stripe_customer_id text); -- no such table
    create table public.pairs (a bigint, b bigint, primary key (a, b));
    create table public.pair_links (id bigint primary key, pair_id bigint);       -- composite key
    create table public.entities (id bigint primary key);
    alter table public.comments add foreign key (post_id) references public.posts;
    """
    assert keys(audit_sql(fresh_db, script, "missing_foreign_key"), "missing_foreign_key") == set()


def test_missing_foreign_key_prefers_the_same_schema(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create schema app; create schema legacy;
    create table app.widgets (id uuid primary key);
    create table legacy.widgets (id bigint primary key);
    create table app.parts (id bigint primary key, widget_id bigint);   -- app.widgets is uuid: no finding
    create table legacy.parts (id bigint primary key, widget_id bigint);
    """
    result = audit_sql(fresh_db, script, "missing_foreign_key")
    assert keys(result, "missing_foreign_key") == {"legacy.parts.widget_id"}


# --------------------------------------------------------------------------------------------------
# fk_delete_rule_review
# --------------------------------------------------------------------------------------------------

DELETE_RULES = """
create table public.organizations (id uuid primary key);
create table public.projects (id bigint primary key,
    organization_id uuid not null references public.organizations on delete cascade);
create table public.members (id bigint primary key,
    organization_id uuid not null references public.organizations on delete cascade);
create table public.invoices (id bigint primary key,
    organization_id uuid not null references public.organizations on delete cascade);
create table public.webhooks (id bigint primary key, organization_id uuid not null,
    constraint webhooks_org_fkey foreign key (organization_id) references public.organizations
        on update cascade deferrable initially deferred);
create table public.notes (id bigint primary key, organization_id uuid
    references public.organizations on delete set null);
"""


def test_fk_delete_rule_review_flags_the_blocking_key_among_cascading_siblings(
    fresh_db: str, audit_sql: AuditSql
) -> None:
    result = audit_sql(fresh_db, DELETE_RULES, "fk_delete_rule_review")
    finding = one(result, "fk_delete_rule_review")
    assert finding.key == "public.webhooks:webhooks_org_fkey"
    assert finding.level == "info"
    assert finding.evidence["on_delete"] == "NO ACTION"
    assert finding.evidence["references"] == "public.organizations"
    assert finding.evidence["parent_role"] == "tenant table (referenced through organization_id)"
    assert finding.evidence["cascading_siblings"] == [
        "public.invoices:invoices_organization_id_fkey",
        "public.members:members_organization_id_fkey",
        "public.projects:projects_organization_id_fkey",
    ]
    assert finding.evidence["other_siblings"] == ["public.notes:notes_organization_id_fkey (SET NULL)"]
    execute_each(fresh_db, finding.remediation_sql)
    [(definition,)] = query(
        fresh_db, "select pg_get_constraintdef(oid) from pg_constraint where conname = 'webhooks_org_fkey'"
    )
    assert definition.startswith("FOREIGN KEY (organization_id) REFERENCES ")
    assert definition.endswith("(id) ON UPDATE CASCADE ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED")
    assert keys(audit_sql(fresh_db, "", "fk_delete_rule_review"), "fk_delete_rule_review") == set()


def test_fk_delete_rule_review_owner_table_by_fan_in(fresh_db: str, audit_sql: AuditSql) -> None:
    children = "\n".join(
        f"create table public.t{i} (id int primary key, owner bigint references public.people "
        f"on delete {'restrict' if i == 0 else 'cascade'});"
        for i in range(5)
    )
    script = "create table public.people (id bigint primary key);\n" + children
    result = audit_sql(fresh_db, script, "fk_delete_rule_review")
    finding = one(result, "fk_delete_rule_review")
    assert finding.key == "public.t0:t0_owner_fkey"
    assert finding.evidence["on_delete"] == "RESTRICT"
    assert finding.evidence["parent_role"] == "owner table (referenced by 5 tables)"
    # Below the fan-in threshold (and without a tenant column) the parent is no owner table.
    config = AuditConfig(thresholds={"fk_delete_rule_review.min_referencing_tables": 6})
    assert keys(audit_sql(fresh_db, "", "fk_delete_rule_review", config=config), "fk_delete_rule_review") == set()


def test_fk_delete_rule_review_needs_a_cascading_majority(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.organizations (id uuid primary key);
    create table public.a (id int primary key, organization_id uuid references public.organizations on delete cascade);
    create table public.b (id int primary key, organization_id uuid references public.organizations on delete cascade);
    create table public.c (id int primary key, organization_id uuid references public.organizations);
    create table public.d (id int primary key, organization_id uuid references public.organizations);
    create table public.countries (code text primary key);
    create table public.e (id int primary key, country text references public.countries on delete cascade);
    create table public.f (id int primary key, country text references public.countries on delete cascade);
    create table public.g (id int primary key, country text references public.countries);
    create table public.folders (id int primary key, parent int references public.folders,
                                 organization_id uuid references public.organizations on delete cascade);
    """
    result = audit_sql(fresh_db, script, "fk_delete_rule_review")
    # organizations: 3 cascading (a, b, folders) against 2 blocking (c, d). countries is neither a tenant nor
    # an owner table, and the self-reference of folders is never a sibling.
    assert keys(result, "fk_delete_rule_review") == {
        "public.c:c_organization_id_fkey",
        "public.d:d_organization_id_fkey",
    }
    # 2 cascading against 2 blocking: no convention to deviate from.
    load_sql(fresh_db, "alter table public.folders drop column organization_id;")
    assert keys(audit_sql(fresh_db, "", "fk_delete_rule_review"), "fk_delete_rule_review") == set()


# --------------------------------------------------------------------------------------------------
# cascade_delete_fanout
# --------------------------------------------------------------------------------------------------

CASCADE_CHAIN = """
create table public.orgs (id int primary key);
create table public.projects (id int primary key, org int references public.orgs on delete cascade);
create table public.tasks (id int primary key, project int references public.projects on delete cascade);
create table public.comments (id int primary key, task int references public.tasks on delete cascade);
create table public.files (id int primary key, task int references public.tasks on delete cascade);
create table public.labels (id int primary key, org int references public.orgs on delete cascade);
insert into public.orgs values (1);
insert into public.projects values (1, 1);
insert into public.tasks select g, 1 from generate_series(1, 50) g;
insert into public.comments select g, 1 + g % 50 from generate_series(1, 200) g;
analyze;
"""


def test_cascade_delete_fanout_reports_the_root_with_its_chains(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, CASCADE_CHAIN, "cascade_delete_fanout")
    finding = one(result, "cascade_delete_fanout")
    assert finding.key == "public.orgs"
    assert finding.level == "warn"
    assert finding.evidence["depth"] == 3
    assert finding.evidence["chains"] == [
        ["public.orgs", "public.projects", "public.tasks", "public.comments"],
        ["public.orgs", "public.projects", "public.tasks", "public.files"],
    ]
    assert finding.evidence["tables_reached"] == [
        "public.comments",
        "public.files",
        "public.labels",
        "public.projects",
        "public.tasks",
    ]
    assert finding.evidence["rows_in_reached_tables_estimate"] == 251
    assert finding.object.kind == "table"


def test_cascade_delete_fanout_ignores_shallow_or_broken_chains(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.a (id int primary key);
    create table public.b (id int primary key, a int references public.a on delete cascade);
    create table public.c (id int primary key, b int references public.b on delete cascade);
    create table public.d (id int primary key, c int references public.c on delete set null);
    create table public.e (id int primary key, d int references public.d on delete cascade);
    create table public.x (id int primary key, y int);
    create table public.y (id int primary key, x int references public.x on delete cascade);
    alter table public.x add foreign key (y) references public.y on delete cascade;
    create table public.n (id int primary key, parent int references public.n on delete cascade);
    """
    assert keys(audit_sql(fresh_db, script, "cascade_delete_fanout"), "cascade_delete_fanout") == set()
    config = AuditConfig(thresholds={"cascade_delete_fanout.min_depth": 2})
    result = audit_sql(fresh_db, "", "cascade_delete_fanout", config=config)
    assert keys(result, "cascade_delete_fanout") == {"public.a"}


# --------------------------------------------------------------------------------------------------
# nullable_status_column
# --------------------------------------------------------------------------------------------------

STATUS = """
create table public.jobs (id int primary key, status text default 'pending', job_type text, kind int,
                          org_id uuid, payment_status text, state jsonb, billing_state text,
                          done_status text not null, tags_type text[]);
insert into public.jobs (id, status, job_type, kind, org_id, payment_status, done_status)
values (1, 'pending', 'email', 1, gen_random_uuid(), 'paid', 'x');
"""


def test_nullable_status_column_flags_status_like_and_tenant_columns(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, STATUS, "nullable_status_column")
    assert keys(result, "nullable_status_column") == {
        "public.jobs.status",
        "public.jobs.job_type",
        "public.jobs.kind",
        "public.jobs.org_id",
        "public.jobs.payment_status",
    }
    found = {f.key: f for f in result.findings}
    status = found["public.jobs.status"]
    assert status.level == "warn"
    assert status.evidence["not_null"] is False
    assert status.evidence["default"] == "'pending'::text"
    assert found["public.jobs.org_id"].evidence["matched"] == "tenant column"
    script = status.remediation_sql
    assert script is not None and "ACCESS EXCLUSIVE" in script and "NOT VALID" in script
    assert 'SELECT count(*) AS null_rows FROM "public"."jobs" WHERE "status" IS NULL;' in script
    assert script.rstrip().endswith('ALTER TABLE "public"."jobs" ALTER COLUMN "status" SET NOT NULL;')
    for finding in found.values():
        execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "nullable_status_column"), "nullable_status_column") == set()


def test_nullable_status_column_big_table_uses_the_not_valid_check(fresh_db: str, audit_sql: AuditSql) -> None:
    config = AuditConfig(thresholds={"nullable_status_column.big_table_rows": 0})
    script = """
    create table public.orders (id int primary key, status text);
    insert into public.orders values (1, 'x');
    analyze;
    """
    finding = one(audit_sql(fresh_db, script, "nullable_status_column", config=config), "nullable_status_column")
    sql_text = finding.remediation_sql
    assert sql_text is not None
    statements = [line for line in sql_text.splitlines() if not line.startswith("--")]
    assert statements == [
        'SELECT count(*) AS null_rows FROM "public"."orders" WHERE "status" IS NULL;',
        'ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_status_not_null" CHECK ("status" IS NOT NULL) NOT VALID;',
        'ALTER TABLE "public"."orders" VALIDATE CONSTRAINT "orders_status_not_null";',
        'ALTER TABLE "public"."orders" ALTER COLUMN "status" SET NOT NULL;',
        'ALTER TABLE "public"."orders" DROP CONSTRAINT "orders_status_not_null";',
    ]
    execute_each(fresh_db, sql_text)
    assert keys(audit_sql(fresh_db, "", "nullable_status_column", config=config), "nullable_status_column") == set()


def test_nullable_status_column_ignores_required_and_checked_columns(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.tickets (id int primary key, status text not null, type text not null,
                                 organization_id uuid not null, state jsonb, address_state text,
                                 "Status" text check ("Status" is not null), status_note text);
    create table public.parts (id int, state text not null, at date) partition by range (at);
    create table public.parts_1 partition of public.parts for values from ('2020-01-01') to ('2021-01-01');
    """
    assert keys(audit_sql(fresh_db, script, "nullable_status_column"), "nullable_status_column") == set()
    config = AuditConfig(thresholds={"nullable_status_column.patterns": ["*_state"]})
    result = audit_sql(fresh_db, "", "nullable_status_column", config=config)
    assert keys(result, "nullable_status_column") == {"public.tickets.address_state"}


# --------------------------------------------------------------------------------------------------
# not_valid_constraint
# --------------------------------------------------------------------------------------------------

NOT_VALID = """
create table public.customers (id int primary key);
create table public.payments (id int primary key, amount numeric, customer int);
insert into public.customers values (1);
insert into public.payments values (1, 10, 1), (2, -5, 1), (3, 7, 2);
alter table public.payments add constraint payments_amount_positive check (amount > 0) not valid;
alter table public.payments add constraint payments_customer_fkey foreign key (customer)
    references public.customers not valid;
alter table public.payments add constraint payments_id_positive check (id > 0);
"""


def test_not_valid_constraint_flags_unvalidated_check_and_foreign_key(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, NOT_VALID, "not_valid_constraint")
    assert keys(result, "not_valid_constraint") == {
        "public.payments:payments_amount_positive",
        "public.payments:payments_customer_fkey",
    }
    found = {f.key: f for f in result.findings}
    check_finding = found["public.payments:payments_amount_positive"]
    assert check_finding.level == "warn"
    assert check_finding.evidence["constraint_type"] == "CHECK"
    assert check_finding.evidence["definition"] == "CHECK ((amount > (0)::numeric)) NOT VALID"
    fk = found["public.payments:payments_customer_fkey"]
    assert fk.evidence["references"] == "public.customers"
    # The violation queries find exactly the planted bad rows; VALIDATE fails until they are fixed.
    with pytest.raises(psycopg.errors.CheckViolation):
        execute_each(fresh_db, check_finding.remediation_sql)
    assert execute_each(fresh_db, check_finding.remediation_sql.split("\nALTER")[0]) == [[(1,)]]  # type: ignore[union-attr]
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        execute_each(fresh_db, fk.remediation_sql)
    load_sql(fresh_db, "update public.payments set amount = 5 where id = 2; update public.payments set customer = 1;")
    for finding in found.values():
        outputs = execute_each(fresh_db, finding.remediation_sql)
        assert outputs[0] == [(0,)]
    assert keys(audit_sql(fresh_db, "", "not_valid_constraint"), "not_valid_constraint") == set()


# --------------------------------------------------------------------------------------------------
# fk_type_mismatch
# --------------------------------------------------------------------------------------------------


def test_fk_type_mismatch(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.tasks (id bigint primary key, code varchar(40) unique);
    create table public.time_entries (id int primary key, task_id int references public.tasks);
    create table public.task_codes (id int primary key, code varchar(20) references public.tasks (code));
    create table public.ok (id int primary key, task_id bigint references public.tasks);
    insert into public.tasks values (1, 'T-1');
    insert into public.time_entries values (1, 1);
    """
    result = audit_sql(fresh_db, script, "fk_type_mismatch")
    assert keys(result, "fk_type_mismatch") == {
        "public.time_entries:time_entries_task_id_fkey",
        "public.task_codes:task_codes_code_fkey",
    }
    found = {f.key: f for f in result.findings}
    mismatch = found["public.time_entries:time_entries_task_id_fkey"]
    assert mismatch.level == "warn"
    assert mismatch.evidence["columns"] == [
        {"column": "task_id", "type": "integer", "referenced_column": "id", "referenced_type": "bigint"}
    ]
    assert mismatch.remediation_sql is not None
    assert mismatch.remediation_sql.endswith('ALTER TABLE "public"."time_entries" ALTER COLUMN "task_id" TYPE bigint;')
    typmod = found["public.task_codes:task_codes_code_fkey"]
    assert typmod.level == "info"
    assert typmod.evidence["type_modifier_only"] is True
    for finding in found.values():
        execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "fk_type_mismatch"), "fk_type_mismatch") == set()


# --------------------------------------------------------------------------------------------------
# nullable_unique
# --------------------------------------------------------------------------------------------------

NULLABLE_UNIQUE = """
create table public.customers (id int primary key, organization_id int not null, email text,
    constraint customers_org_email_key unique (organization_id, email));
create table public.slots (id int primary key, room int not null, starts_at timestamptz);
create unique index slots_room_starts_at_idx on public.slots (room, starts_at);
create table public.fine (id int primary key, a int not null, b int not null, c text, d text,
    unique (a, b));
create unique index fine_c_idx on public.fine (c);
create unique index fine_a_c_idx on public.fine (a, c) where c is not null;
insert into public.customers values (1, 1, null), (2, 1, null), (3, 1, 'a@x');
"""


def test_nullable_unique_flags_multi_column_keys_with_nullable_columns(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, NULLABLE_UNIQUE, "nullable_unique")
    assert keys(result, "nullable_unique") == {
        "public.customers:customers_org_email_key",
        "public.slots_room_starts_at_idx",
    }
    found = {f.key: f for f in result.findings}
    con = found["public.customers:customers_org_email_key"]
    assert con.level == "info"
    assert con.evidence["nullable_columns"] == ["email"]
    assert con.evidence["nulls_not_distinct_available"] is True
    assert con.object.kind == "constraint"
    assert found["public.slots_room_starts_at_idx"].object.kind == "index"
    assert found["public.slots_room_starts_at_idx"].evidence["remediation_transactional"] is False
    assert "remediation_transactional" not in con.evidence
    # The duplicates query shows the two NULL-email customers of organization 1; NULLS NOT DISTINCT then fails.
    assert con.remediation_sql is not None
    with pytest.raises(psycopg.errors.UniqueViolation):
        execute_each(fresh_db, con.remediation_sql)
    assert execute_each(fresh_db, con.remediation_sql.split("\n-- Rebuilds")[0]) == [[(1, None, 2)]]
    load_sql(fresh_db, "delete from public.customers where id = 2;")
    for finding in found.values():
        execute_each(fresh_db, finding.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "nullable_unique"), "nullable_unique") == set()
    [(definition,)] = query(fresh_db, "select pg_get_indexdef('public.slots_room_starts_at_idx'::regclass)")
    assert definition.endswith("(room, starts_at) NULLS NOT DISTINCT")


def test_nullable_unique_single_column_is_opt_in(fresh_db: str, audit_sql: AuditSql) -> None:
    script = "create table public.products (id int primary key, sku text unique);"
    assert keys(audit_sql(fresh_db, script, "nullable_unique"), "nullable_unique") == set()
    config = AuditConfig(thresholds={"nullable_unique.single_column": True})
    assert keys(audit_sql(fresh_db, "", "nullable_unique", config=config), "nullable_unique") == {
        "public.products:products_sku_key"
    }


def test_nullable_unique_before_pg15_offers_a_partial_unique_index(fresh_db: str, audit_sql: AuditSql) -> None:
    """On PostgreSQL < 15 (simulated on the snapshot) the fix is a partial unique index, valid on any version."""
    load_sql(fresh_db, NULLABLE_UNIQUE + "delete from public.customers where id = 2;")
    snapshot = dataclasses.replace(snapshot_of(fresh_db), server_version_num=140010)
    findings = list(REGISTRY["nullable_unique"].run(snapshot, AuditConfig()))
    con = next(f for f in findings if f.key == "public.customers:customers_org_email_key")
    assert con.evidence["nulls_not_distinct_available"] is False
    assert con.remediation_sql is not None
    assert con.remediation_sql.rstrip().endswith(
        'CREATE UNIQUE INDEX CONCURRENTLY "customers_organization_id_email_null_key" ON "public"."customers" '
        '("organization_id") WHERE "email" IS NULL;'
    )
    execute_each(fresh_db, con.remediation_sql)
    with psycopg.connect(fresh_db, autocommit=True) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("insert into public.customers values (4, 1, null)")


def test_nullable_unique_respects_nulls_not_distinct(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create table public.t (id int primary key, a int not null, b int,
                           constraint t_a_b_key unique nulls not distinct (a, b));
    create unique index t_b_a_idx on public.t (b, a) nulls not distinct;
    """
    assert keys(audit_sql(fresh_db, script, "nullable_unique"), "nullable_unique") == set()


# --------------------------------------------------------------------------------------------------
# numeric_precision_risk and the numeric_samples probe
# --------------------------------------------------------------------------------------------------

NUMERIC = """
create table public.invoice_lines (id int primary key, unit_price numeric(7, 2), amount numeric(12, 2),
                                   ratio numeric(4, 4), free numeric, empty numeric(5, 0),
                                   rounded numeric(3, -2));
insert into public.invoice_lines values (1, 97500.00, 97500.00, 0.9999, 1e20, null, 90000),
                                        (2, -12.5, -99.00, 0.1, 1, null, 100);
"""


def test_numeric_precision_risk_flags_columns_near_their_precision(fresh_db: str, audit_sql: AuditSql) -> None:
    result = audit_sql(fresh_db, NUMERIC, "numeric_precision_risk")
    assert keys(result, "numeric_precision_risk") == {"public.invoice_lines.unit_price", "public.invoice_lines.rounded"}
    found = {f.key: f for f in result.findings}
    finding = found["public.invoice_lines.unit_price"]
    assert finding.level == "info"
    assert finding.evidence["max_abs"] == "97500.00"
    assert finding.evidence["integer_digits_used"] == finding.evidence["integer_digits_allowed"] == 5
    assert finding.evidence["largest_allowed"] == "99999.99"
    assert finding.evidence["method"] == "full scan"
    assert finding.evidence["note"] == "maximum of a full scan"
    assert found["public.invoice_lines.rounded"].evidence["largest_allowed"] == "99900"
    assert finding.remediation_sql is not None
    assert finding.remediation_sql.endswith(
        'ALTER TABLE "public"."invoice_lines" ALTER COLUMN "unit_price" TYPE numeric(10,2);'
    )
    probe = result.snapshot.probe("numeric_samples")
    assert probe is not None and probe.skipped is None
    assert {r["column"] for r in probe.rows} == {"unit_price", "amount", "ratio", "empty", "rounded"}
    assert next(r for r in probe.rows if r["column"] == "empty")["max_abs"] is None
    for f in found.values():
        execute_each(fresh_db, f.remediation_sql)
    assert keys(audit_sql(fresh_db, "", "numeric_precision_risk"), "numeric_precision_risk") == set()


BIG_NUMERIC = """
create table public.ledger (id int primary key, amount numeric(7, 2), fee numeric(9, 2), filler text);
insert into public.ledger select g, 90000 + g % 1000, 1, repeat('x', 100) from generate_series(1, 60000) g;
"""


def test_numeric_samples_probe_samples_big_tables_and_respects_its_bounds(
    fresh_db: str, audit_sql: AuditSql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_library, "NUMERIC_FULL_SCAN_MAX_PAGES", 100)
    monkeypatch.setattr(probe_library, "NUMERIC_SAMPLE_PAGES", 50)
    monkeypatch.setattr(probe_library, "NUMERIC_MAX_COLUMNS", 1)
    result = audit_sql(fresh_db, BIG_NUMERIC, "numeric_precision_risk")
    probe = result.snapshot.probe("numeric_samples")
    assert probe is not None
    amount, fee = sorted(probe.rows, key=lambda r: r["column"])
    assert amount["table_pages"] > 500
    assert amount["method"] == "sample" and amount["sampled"] is True
    assert 0 < amount["sample_percent"] < 10
    assert abs(amount["sample_percent"] - 100 * 50 / amount["table_pages"]) < 0.01
    assert fee["max_abs"] is None and fee["error"] == "not read: the probe reads at most 1 columns"
    finding = one(result, "numeric_precision_risk")
    assert finding.key == "public.ledger.amount"
    assert finding.evidence["method"] == "sample"
    assert "sample" in finding.evidence["note"] and "may be larger" in finding.evidence["note"]
    assert "(from a sample)" in finding.detail


def test_numeric_samples_probe_times_out_per_table_and_restores_the_session(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_sql(fresh_db, BIG_NUMERIC)
    monkeypatch.setattr(probe_library, "NUMERIC_QUERY_TIMEOUT_MS", 1)
    with open_session(fresh_db) as session:
        results = run_probes(session, session.conn.info.server_version, set())
        [settings] = session.conn.execute(
            "select current_setting('statement_timeout'), current_setting('row_security')"
        ).fetchall()
    [probe] = [r for r in results if r.name == "numeric_samples"]
    assert probe.skipped is None
    assert {r["error"] for r in probe.rows} == {"not read: the query took longer than 1 ms"}
    assert settings == ("30s", "on")


# --------------------------------------------------------------------------------------------------
# The demo database: every planted integrity defect is found, and nothing else
# --------------------------------------------------------------------------------------------------

INTEGRITY_CHECKS = (
    "missing_foreign_key",
    "fk_delete_rule_review",
    "cascade_delete_fanout",
    "nullable_status_column",
    "not_valid_constraint",
    "fk_type_mismatch",
    "nullable_unique",
    "numeric_precision_risk",
)


def test_demo_schema_planted_integrity_defects(supabase_db: str, audit_sql: AuditSql) -> None:
    demo = (resources.files("workbench") / "resources" / "demo" / "schema.sql").read_text(encoding="utf-8")
    result = audit_sql(supabase_db, demo, *INTEGRITY_CHECKS)
    assert result.checks_skipped == ()
    assert {(f.check, f.key) for f in result.findings} == {
        ("missing_foreign_key", "public.notifications.task_id"),
        ("fk_delete_rule_review", "public.webhooks:webhooks_organization_id_fkey"),
        ("cascade_delete_fanout", "public.organizations"),
        ("nullable_status_column", "public.subscriptions.status"),
        ("not_valid_constraint", "public.payments:payments_amount_positive"),
        ("fk_type_mismatch", "public.time_entries:time_entries_task_id_fkey"),
        ("nullable_unique", "public.customers:customers_organization_id_email_key"),
        ("numeric_precision_risk", "public.invoice_lines.unit_price"),
    }


def test_hostile_names_stay_quoted_in_remediation(fresh_db: str, audit_sql: AuditSql) -> None:
    script = """
    create schema "we;ird";
    create table "we;ird"."Order's" ("id" bigint primary key);
    create table "we;ird"."it""ems" (id int primary key, "Order's_id" bigint, "status" text,
                                     amount numeric(5, 2));
    insert into "we;ird"."Order's" values (1);
    insert into "we;ird"."it""ems" values (1, 1, 'new', 999.5);
    """
    checks = ("missing_foreign_key", "nullable_status_column", "numeric_precision_risk")
    result = audit_sql(fresh_db, script, *checks)
    assert {f.key for f in result.findings} == {
        "we;ird.it\"ems.Order's_id",
        'we;ird.it"ems.status',
        'we;ird.it"ems.amount',
    }
    for finding in result.findings:
        execute_each(fresh_db, finding.remediation_sql)
    assert audit_sql(fresh_db, "", *checks).findings == ()
