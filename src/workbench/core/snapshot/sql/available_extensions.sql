SELECT a.name FROM pg_catalog.pg_available_extensions a ORDER BY a.name
