-- last_value is read separately (sequence_values.sql): reading it locks the sequence.
SELECT c.oid, n.nspname AS schema, c.relname AS name, pg_catalog.format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart AS start_value, s.seqmin AS min_value, s.seqmax AS max_value, s.seqincrement AS increment,
       s.seqcycle AS cycle, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       d.refobjid AS owned_by_table, d.refobjsubid AS owned_by_column,
       -- (table OID, attnum) of every column default that calls this sequence (serial or hand-written).
       ARRAY(SELECT ARRAY[ad.adrelid::pg_catalog.int8, ad.adnum::pg_catalog.int8]
             FROM pg_catalog.pg_depend dd
             JOIN pg_catalog.pg_attrdef ad ON ad.oid = dd.objid
             WHERE dd.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
               AND dd.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dd.refobjid = c.oid
             ORDER BY ad.adrelid, ad.adnum) AS default_of
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, c.relname
