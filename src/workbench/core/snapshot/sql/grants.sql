-- Every privilege on relations, sequences, columns, schemas and functions, defaults made explicit.
WITH scope AS (
    SELECT n.oid FROM pg_catalog.pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
)
SELECT 'class' AS kind, c.oid, 0 AS attnum, a.grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
FROM pg_catalog.pg_class c,
     LATERAL pg_catalog.aclexplode(COALESCE(c.relacl, pg_catalog.acldefault(
         CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relnamespace IN (SELECT oid FROM scope)
UNION ALL
SELECT 'column', at.attrelid, at.attnum, a.grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_attribute at
JOIN pg_catalog.pg_class c ON c.oid = at.attrelid,
     LATERAL pg_catalog.aclexplode(at.attacl) a
WHERE at.attacl IS NOT NULL AND at.attnum > 0 AND c.relnamespace IN (SELECT oid FROM scope)
UNION ALL
SELECT 'schema', n.oid, 0, a.grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_namespace n,
     LATERAL pg_catalog.aclexplode(COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
WHERE n.oid IN (SELECT oid FROM scope)
UNION ALL
SELECT 'function', p.oid, 0, a.grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_proc p,
     LATERAL pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
WHERE p.pronamespace IN (SELECT oid FROM scope)
