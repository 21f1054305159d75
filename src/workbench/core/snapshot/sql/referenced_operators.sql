SELECT o.oid, o.oprname AS name
FROM pg_catalog.pg_operator o
WHERE o.oid = ANY(%(oids)s::pg_catalog.oid[])
