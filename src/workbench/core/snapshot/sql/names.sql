-- Names of operator classes and collations, to resolve the OID arrays of pg_index cheaply.
SELECT 'opclass' AS kind, oc.oid, oc.opcname AS name FROM pg_catalog.pg_opclass oc
UNION ALL
SELECT 'collation', co.oid, co.collname FROM pg_catalog.pg_collation co
