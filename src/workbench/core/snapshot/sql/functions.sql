SELECT p.oid, n.nspname AS schema, p.proname AS name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
       p.prokind::text AS kind, l.lanname AS language, p.prosecdef AS security_definer,
       p.provolatile::text AS volatility, pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       COALESCE(p.proconfig, '{}') AS config,
       (SELECT e.extname FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
          AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e' LIMIT 1) AS extension,
       pg_catalog.format_type(p.prorettype, NULL) AS result_type,
       CASE WHEN p.prokind IN ('f', 'p') AND l.lanname NOT IN ('c', 'internal')
            THEN pg_catalog.pg_get_functiondef(p.oid) END AS definition
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, p.proname, 4
