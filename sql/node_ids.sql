-- Ids safe whichever node inserts (issue 16, sequences): every id column of
-- billing defaults to billing_internal.next_id, which is nextval() here and
-- (node group << 48) + nextval() on a Citus worker (src/ids.c).  The Citus
-- side, with real node groups and a document inserted through each node,
-- is test/citus/run.sh (ids).  This suite uses sequences of its own, so
-- the ids of the other suites do not move.
\pset null '(null)'

-- every column default of the extension's tables that takes a sequence
-- value, and what it calls: next_id everywhere, nextval() nowhere
SELECT d.adrelid::regclass AS table_name, a.attname AS column_name,
       pg_get_expr(d.adbin, d.adrelid) AS default_value
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
JOIN pg_class c ON c.oid = d.adrelid
WHERE c.relnamespace IN ('billing'::regnamespace, 'billing_internal'::regnamespace)
  AND (strpos(pg_get_expr(d.adbin, d.adrelid), 'nextval(') > 0
       OR strpos(pg_get_expr(d.adbin, d.adrelid), 'next_id(') > 0)
ORDER BY d.adrelid::regclass::text, a.attname;
-- and the run's drafts take it: the run names no id (Citus numbers them
-- where it evaluates the default, on the workers)
SELECT strpos(prosrc, 'next_id(''billing.invoice_id_seq'')') = 0 AS run_leaves_ids_to_the_default,
       strpos(prosrc, 'nextval(') = 0 AS run_calls_no_nextval
FROM pg_proc WHERE oid = 'billing_internal.make_drafts'::regproc;

-- without Citus: nextval() itself, value for value
CREATE SEQUENCE regress_ids_seq;
SELECT billing_internal.next_id('regress_ids_seq') AS first,
       billing_internal.next_id('regress_ids_seq') AS second,
       currval('regress_ids_seq') AS currval;
SELECT billing_internal.next_id(NULL) AS strict;

-- nextval()'s rights: a role without USAGE or UPDATE on the sequence is
-- refused as nextval() refuses it; with USAGE it gets the next value
CREATE ROLE regress_ids_role NOLOGIN;
SET ROLE regress_ids_role;
SELECT * FROM err('SELECT billing_internal.next_id(''regress_ids_seq'')');
RESET ROLE;
GRANT USAGE ON SEQUENCE regress_ids_seq TO regress_ids_role;
SET ROLE regress_ids_role;
SELECT billing_internal.next_id('regress_ids_seq') AS with_usage;
RESET ROLE;

-- a Citus worker, stood in for by Citus's catalog table pg_dist_local_group
-- (node group 3), in a transaction rolled back and a session of its own
-- (the group is cached per backend, as Citus invalidates it)
\c
BEGIN;
SET LOCAL allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_local_group (groupid integer NOT NULL);
INSERT INTO pg_catalog.pg_dist_local_group VALUES (3);
SELECT n >> 48 AS node_group, n & ((1::bigint << 48) - 1) AS sequence_value,
       n = (3::bigint << 48) + currval('regress_ids_seq') AS from_the_nodes_range
FROM billing_internal.next_id('regress_ids_seq') AS n;
-- a worker's range is 2^48 ids: past it, an error naming the sequence and group
SAVEPOINT s;
SELECT setval('regress_ids_seq', (1::bigint << 48) - 2) IS NOT NULL AS set;
SELECT billing_internal.next_id('regress_ids_seq') - (3::bigint << 48) AS last_of_the_range;
\set VERBOSITY default
SELECT * FROM err('SELECT billing_internal.next_id(''regress_ids_seq'')');
ROLLBACK TO SAVEPOINT s;
-- (a sequence is not rolled back: set it back by hand)
SELECT setval('regress_ids_seq', 10) IS NOT NULL AS set_back;
-- a column defaulting to it, as billing's id columns do, inserted on that node
CREATE TEMP TABLE regress_ids_rows (id bigint DEFAULT billing_internal.next_id('regress_ids_seq'), note text);
INSERT INTO regress_ids_rows (note) VALUES ('a'), ('b');
SELECT note, id >> 48 AS node_group, id & ((1::bigint << 48) - 1) AS sequence_value FROM regress_ids_rows ORDER BY id;
ROLLBACK;
\c
-- back on a plain node: nextval() again
SELECT n AS plain_again, n = currval('regress_ids_seq') AS is_currval
FROM billing_internal.next_id('regress_ids_seq') AS n;

DROP SEQUENCE regress_ids_seq;
DROP ROLE regress_ids_role;
