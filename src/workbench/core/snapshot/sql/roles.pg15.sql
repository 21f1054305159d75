-- PostgreSQL <= 15: inheritance is a property of the member role, not of each membership.
SELECT r.oid, r.rolname AS name, r.rolsuper AS superuser, r.rolcanlogin AS login, r.rolbypassrls AS bypassrls,
       r.rolinherit AS inherit,
       COALESCE((SELECT pg_catalog.array_agg(g.rolname ORDER BY g.rolname)
                 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                 WHERE m.member = r.oid), '{}') AS member_of
FROM pg_catalog.pg_roles r
ORDER BY r.rolname
