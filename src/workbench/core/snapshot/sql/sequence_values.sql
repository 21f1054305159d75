-- Reading a sequence's last value opens it and takes a lock held until the transaction ends; the collector
-- runs this in chunks, each in a savepoint it rolls back, which releases those locks.
SELECT o AS oid,
       CASE WHEN pg_catalog.has_sequence_privilege(o, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(o)
       END AS last_value
FROM pg_catalog.unnest(%(oids)s::pg_catalog.oid[]) AS o
