-- The pg_stat_get_* functions behind pg_stat_all_tables, called only for the relations we read.
SELECT c.oid AS relid,
       pg_catalog.pg_stat_get_numscans(c.oid) AS seq_scan,
       pg_catalog.pg_stat_get_tuples_returned(c.oid) AS seq_tup_read,
       (SELECT pg_catalog.sum(pg_catalog.pg_stat_get_numscans(x.indexrelid))::int8
        FROM pg_catalog.pg_index x WHERE x.indrelid = c.oid) AS idx_scan,
       pg_catalog.pg_stat_get_live_tuples(c.oid) AS n_live_tup,
       pg_catalog.pg_stat_get_dead_tuples(c.oid) AS n_dead_tup,
       pg_catalog.pg_stat_get_mod_since_analyze(c.oid) AS n_mod_since_analyze,
       pg_catalog.to_char(pg_catalog.pg_stat_get_last_vacuum_time(c.oid) AT TIME ZONE 'UTC',
                          'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_vacuum,
       pg_catalog.to_char(pg_catalog.pg_stat_get_last_autovacuum_time(c.oid) AT TIME ZONE 'UTC',
                          'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_autovacuum,
       pg_catalog.to_char(pg_catalog.pg_stat_get_last_analyze_time(c.oid) AT TIME ZONE 'UTC',
                          'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_analyze,
       pg_catalog.to_char(pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid) AT TIME ZONE 'UTC',
                          'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_autoanalyze,
       -- Without an ANALYZE time (never analyzed, or a statistics reset erased it): do column statistics
       -- exist? (pg_stats, filtered by our column privileges). NULL when an ANALYZE time is known.
       CASE WHEN pg_catalog.pg_stat_get_last_analyze_time(c.oid) IS NULL
             AND pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid) IS NULL
            THEN EXISTS (SELECT 1 FROM pg_catalog.pg_stats s
                         WHERE s.schemaname = n.nspname AND s.tablename = c.relname) END AS has_column_stats
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
