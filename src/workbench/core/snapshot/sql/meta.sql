-- Who and what we are looking at; stats_since falls back to the server start when never reset.
SELECT pg_catalog.current_database() AS database,
       pg_catalog.split_part(pg_catalog.current_setting('server_version'), ' ', 1) AS server_version,
       pg_catalog.current_setting('server_version_num')::int AS server_version_num,
       CURRENT_USER::text AS current_user,
       pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS collected_at,
       pg_catalog.to_char(COALESCE(d.stats_reset, pg_catalog.pg_postmaster_start_time()) AT TIME ZONE 'UTC',
                          'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS stats_since
FROM pg_catalog.pg_stat_database d
WHERE d.datname = pg_catalog.current_database()
