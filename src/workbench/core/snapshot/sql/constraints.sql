SELECT con.oid, n.nspname AS schema, con.conrelid AS table_oid, con.conname AS name, con.contype::text AS type,
       COALESCE(con.conkey, '{}') AS columns, NULLIF(con.confrelid, 0) AS ref_table_oid,
       COALESCE(con.confkey, '{}') AS ref_columns,
       NULLIF(con.confdeltype::text, ' ') AS on_delete, NULLIF(con.confupdtype::text, ' ') AS on_update,
       con.convalidated AS validated, con.condeferrable AS deferrable,
       COALESCE((SELECT x.indnullsnotdistinct FROM pg_catalog.pg_index x WHERE x.indexrelid = con.conindid),
                false) AS nulls_not_distinct,
       NULLIF(con.conindid, 0) AS index_oid,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition,
       NULLIF(con.conparentid, 0) AS parent_oid
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_namespace n ON n.oid = con.connamespace
WHERE con.conrelid <> 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, con.conrelid, con.conname
