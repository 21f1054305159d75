SELECT s.name, s.setting FROM pg_catalog.pg_settings s
WHERE s.name IN ('max_connections', 'superuser_reserved_connections', 'autovacuum', 'autovacuum_freeze_max_age',
                 'autovacuum_vacuum_scale_factor', 'autovacuum_analyze_scale_factor', 'block_size',
                 'shared_preload_libraries', 'track_counts', 'statement_timeout', 'idle_in_transaction_session_timeout',
                 'lock_timeout', 'log_min_duration_statement', 'max_locks_per_transaction', 'wal_level', 'ssl',
                 'password_encryption', 'row_security', 'default_transaction_read_only', 'server_encoding',
                 'TimeZone', 'work_mem', 'maintenance_work_mem', 'shared_buffers', 'effective_cache_size',
                 'max_wal_size', 'checkpoint_timeout', 'random_page_cost', 'pgrst.db_schemas', 'cron.database_name')
ORDER BY s.name
