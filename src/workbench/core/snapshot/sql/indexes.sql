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
       pg_catalog.pg_get_indexdef(x.indexrelid) AS definition,
       (SELECT con.conname FROM pg_catalog.pg_constraint con
        WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')
        LIMIT 1) AS "constraint",
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
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, ic.relname
