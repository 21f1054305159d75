SELECT s.relid, s.seq_scan, s.seq_tup_read, COALESCE(s.idx_scan, 0) AS idx_scan, s.n_live_tup, s.n_dead_tup,
       s.n_mod_since_analyze,
       pg_catalog.to_char(s.last_vacuum AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_vacuum,
       pg_catalog.to_char(s.last_autovacuum AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_autovacuum,
       pg_catalog.to_char(s.last_analyze AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_analyze,
       pg_catalog.to_char(s.last_autoanalyze AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_autoanalyze
FROM pg_catalog.pg_stat_all_tables s
WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema') AND s.schemaname !~ '^pg_(toast|temp_)'
