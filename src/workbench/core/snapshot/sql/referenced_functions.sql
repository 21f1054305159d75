SELECT p.oid, n.nspname || '.' || p.proname AS name
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid = ANY(%(oids)s::pg_catalog.oid[])
