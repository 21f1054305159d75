-- Reading a sequence's last value locks the sequence until the end of the top transaction; the collector
-- runs this after the catalog transaction, in chunks, each chunk a transaction of its own.
SELECT o AS oid,
       CASE WHEN pg_catalog.has_sequence_privilege(o, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(o)
       END AS last_value
FROM pg_catalog.unnest(%(oids)s::pg_catalog.oid[]) AS o
