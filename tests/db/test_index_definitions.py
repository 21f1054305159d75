"""Index definitions as the reviewer reads them (and as rollback scripts recreate them) are the server's own.

The snapshot spells plain indexes itself instead of calling pg_get_indexdef() (which opens every table); this
checks that the spelling is exactly pg_get_indexdef()'s for every kind of index, hostile names included.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from workbench.core.connections import open_session
from workbench.core.snapshot import collect_snapshot

SCHEMA = '''
CREATE SCHEMA "Odd ""schema"";";
CREATE TYPE public.mood AS ENUM ('sad', 'happy');
CREATE DOMAIN public.short_text AS text;
CREATE TABLE "Odd ""schema"";"."Tablé; DROP" (
  id bigint PRIMARY KEY,
  "select" int,
  "Mixed Case" text COLLATE "C",
  plain text,
  v varchar(20),
  tags text[],
  doc jsonb,
  m public.mood,
  s public.short_text,
  during tstzrange,
  UNIQUE ("select", plain)
);
CREATE INDEX "ix ""quoted""" ON "Odd ""schema"";"."Tablé; DROP" ("Mixed Case");
CREATE INDEX plain_desc ON "Odd ""schema"";"."Tablé; DROP" (plain DESC NULLS LAST);
CREATE INDEX plain_coll ON "Odd ""schema"";"."Tablé; DROP" (plain COLLATE "C");
CREATE INDEX plain_ops ON "Odd ""schema"";"."Tablé; DROP" (plain text_pattern_ops);
CREATE INDEX varchar_ix ON "Odd ""schema"";"."Tablé; DROP" (v);
CREATE INDEX enum_ix ON "Odd ""schema"";"."Tablé; DROP" (m);
CREATE INDEX domain_ix ON "Odd ""schema"";"."Tablé; DROP" (s);
CREATE INDEX multi ON "Odd ""schema"";"."Tablé; DROP" ("select", id, plain);
CREATE INDEX expr ON "Odd ""schema"";"."Tablé; DROP" (lower(plain));
CREATE INDEX partial ON "Odd ""schema"";"."Tablé; DROP" (id) WHERE "select" > 0;
CREATE INDEX incl ON "Odd ""schema"";"."Tablé; DROP" (id) INCLUDE (plain);
CREATE INDEX with_opts ON "Odd ""schema"";"."Tablé; DROP" (id) WITH (fillfactor = 70);
CREATE INDEX gin_ix ON "Odd ""schema"";"."Tablé; DROP" USING gin (tags);
CREATE INDEX gin_path ON "Odd ""schema"";"."Tablé; DROP" USING gin (doc jsonb_path_ops);
CREATE INDEX hash_ix ON "Odd ""schema"";"."Tablé; DROP" USING hash (plain);
CREATE INDEX brin_ix ON "Odd ""schema"";"."Tablé; DROP" USING brin (id);
CREATE INDEX gist_ix ON "Odd ""schema"";"."Tablé; DROP" USING gist (during);
CREATE UNIQUE INDEX uniq ON "Odd ""schema"";"."Tablé; DROP" (v);
CREATE TABLE public.parted (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE public.parted_2026 PARTITION OF public.parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX parted_at ON public.parted (at);
CREATE INDEX "user" ON public.parted_2026 (id);
'''


def test_every_index_definition_is_the_servers_own(fresh_db: str, load_sql: Callable[[str, str], None]) -> None:
    load_sql(fresh_db, SCHEMA)
    with open_session(fresh_db) as session:
        snapshot = collect_snapshot(session)
    with psycopg.connect(fresh_db) as conn:
        expected = dict(
            conn.execute(
                "SELECT c.oid, pg_get_indexdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('i', 'I') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND n.nspname !~ '^pg_toast'"
            ).fetchall()
        )
    got = {ix.oid: ix.definition for ix in snapshot.indexes}
    assert len(got) == 23
    assert got == expected
