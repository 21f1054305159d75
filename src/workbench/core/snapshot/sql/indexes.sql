-- pg_get_indexdef() opens the table (to name its columns) and looks up each column's default operator class:
-- a fifth of the whole collection on a large schema. The common index (plain columns with their type's default
-- operator class, collation and order; no expression, predicate, INCLUDE, storage parameter or partitioned
-- parent) is spelled here exactly as pg_get_indexdef() spells it; every other index is left to pg_get_indexdef().
-- (tests/db/test_index_definitions.py compares both on every kind of index.)
-- The key columns are listed first (MATERIALIZED: the planner misjudges their number and would otherwise look
-- the columns up one index at a time); toast indexes are never reported, so they are not spelled either.
WITH keys AS MATERIALIZED (
    SELECT x.indexrelid, x.indrelid, k.attnum, k.opclass, k.coll, k.option, k.i
    FROM pg_catalog.pg_index x
    JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
    CROSS JOIN LATERAL ROWS FROM (
        pg_catalog.unnest(x.indkey::int2[]), pg_catalog.unnest(x.indclass::pg_catalog.oid[]),
        pg_catalog.unnest(x.indcollation::pg_catalog.oid[]), pg_catalog.unnest(x.indoption::int2[])
    ) WITH ORDINALITY AS k(attnum, opclass, coll, option, i)
    WHERE ic.relkind = 'i' AND x.indnatts = x.indnkeyatts AND x.indexprs IS NULL AND x.indpred IS NULL
      AND ic.reloptions IS NULL
      AND ic.relnamespace NOT IN ('pg_catalog'::pg_catalog.regnamespace, 'pg_toast'::pg_catalog.regnamespace)
      AND NOT x.indnullsnotdistinct
), plain AS (
    SELECT k.indexrelid,
           pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.i) AS columns,
           pg_catalog.bool_and(k.option = 0 AND k.coll = a.attcollation
                               AND o.opcdefault AND o.opcintype = a.atttypid) AS plain
    FROM keys k
    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.indrelid AND a.attnum = k.attnum
    JOIN pg_catalog.pg_opclass o ON o.oid = k.opclass
    GROUP BY k.indexrelid
)
SELECT x.indexrelid AS oid, n.nspname AS schema, ic.relname AS name, x.indrelid AS table_oid,
       am.amname AS access_method, x.indisunique AS is_unique, x.indisprimary AS is_primary,
       x.indisexclusion AS is_exclusion, x.indisvalid AS is_valid, x.indisready AS is_ready,
       x.indisreplident AS is_replica_identity,
       (x.indkey::int2[])[0:x.indnkeyatts - 1] AS key_columns,
       (x.indkey::int2[])[x.indnkeyatts:] AS include_columns,
       pg_catalog.pg_get_expr(x.indexprs, x.indrelid) AS expressions,
       pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS predicate,
       x.indclass::pg_catalog.oid[] AS opclass_oids,
       x.indcollation::pg_catalog.oid[] AS collation_oids,
       CASE WHEN plain.plain THEN 'CREATE ' || CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
            || pg_catalog.quote_ident(ic.relname) || ' ON ' || pg_catalog.quote_ident(tn.nspname) || '.'
            || pg_catalog.quote_ident(tc.relname) || ' USING ' || pg_catalog.quote_ident(am.amname)
            || ' (' || plain.columns || ')'
            ELSE pg_catalog.pg_get_indexdef(x.indexrelid) END AS definition,
       con.conname AS "constraint",
       ic.relpages::int8 * pg_catalog.current_setting('block_size')::int8 AS size_bytes,
       pg_catalog.pg_stat_get_numscans(x.indexrelid) AS idx_scan,
       (x.indoption::int2[])[0:x.indnkeyatts - 1] AS key_options,
       x.indnullsnotdistinct AS nulls_not_distinct,
       x.indpred::text AS predicate_tree,
       (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = x.indexrelid AND ic.relispartition
        LIMIT 1) AS parent_oid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
JOIN pg_catalog.pg_class tc ON tc.oid = x.indrelid
JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN plain ON plain.indexrelid = x.indexrelid
LEFT JOIN pg_catalog.pg_constraint con  -- an index backs at most one of these
       ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, ic.relname
