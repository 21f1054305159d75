-- Relations each view or materialized view reads (through its rewrite rule).
SELECT DISTINCT r.ev_class AS view_oid, d.refobjid AS relation_oid
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> r.ev_class
  AND d.deptype = 'n'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
