SELECT e.extname AS name, n.nspname AS schema, e.extversion AS installed_version,
       a.default_version, e.extrelocatable AS relocatable
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
LEFT JOIN pg_catalog.pg_available_extensions a ON a.name = e.extname
ORDER BY e.extname
