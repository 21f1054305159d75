SELECT x.indexrelid AS oid, n.nspname AS schema, ic.relname AS name, x.indrelid AS table_oid,
       am.amname AS access_method, x.indisunique AS is_unique, x.indisprimary AS is_primary,
       x.indisexclusion AS is_exclusion, x.indisvalid AS is_valid, x.indisready AS is_ready,
       x.indisreplident AS is_replica_identity,
       (x.indkey::int2[])[0:x.indnkeyatts - 1] AS key_columns,
       (x.indkey::int2[])[x.indnkeyatts:] AS include_columns,
       pg_catalog.pg_get_expr(x.indexprs, x.indrelid) AS expressions,
       pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS predicate,
       (SELECT pg_catalog.array_agg(oc.opcname ORDER BY k.i)
        FROM pg_catalog.generate_subscripts(x.indclass, 1) k(i)
        JOIN pg_catalog.pg_opclass oc ON oc.oid = x.indclass[k.i]) AS opclasses,
       (SELECT pg_catalog.array_agg(COALESCE(co.collname, '') ORDER BY k.i)
        FROM pg_catalog.generate_subscripts(x.indcollation, 1) k(i)
        LEFT JOIN pg_catalog.pg_collation co ON co.oid = x.indcollation[k.i]) AS collations,
       pg_catalog.pg_get_indexdef(x.indexrelid) AS definition,
       (SELECT con.conname FROM pg_catalog.pg_constraint con
        WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')
        LIMIT 1) AS "constraint",
       ic.relpages::int8 * pg_catalog.current_setting('block_size')::int8 AS size_bytes,
       COALESCE(s.idx_scan, 0) AS idx_scan,
       (x.indoption::int2[])[0:x.indnkeyatts - 1] AS key_options,
       -- indnullsnotdistinct exists from PG15 on; read through jsonb so one query serves every version.
       COALESCE((pg_catalog.to_jsonb(x) ->> 'indnullsnotdistinct')::bool, false) AS nulls_not_distinct,
       x.indpred::text AS predicate_tree,
       (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = x.indexrelid AND ic.relispartition
        LIMIT 1) AS parent_oid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
LEFT JOIN pg_catalog.pg_stat_all_indexes s ON s.indexrelid = x.indexrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, ic.relname
