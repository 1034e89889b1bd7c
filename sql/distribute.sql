-- billing.distribute() on plain PostgreSQL (issue 16): it refuses, with
-- SQLSTATE, detail and hint, and nothing changes.  What it would place on
-- Citus covers every table of the extension, and no trigger fires for both
-- TRUNCATE and row events (Citus passes no ENABLE/DISABLE of one to its
-- shards).  The Citus side is test/citus/run.sh.
\pset null '(null)'
\x on

-- the extension's objects before the call, to compare after
CREATE TEMP TABLE dist_before AS
SELECT c.oid::regclass::text AS rel, c.relkind, c.relrowsecurity,
       (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgenabled = 'O') AS triggers_on,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique) AS unique_keys
FROM pg_class c WHERE c.relnamespace IN ('billing'::regnamespace, 'billing_internal'::regnamespace);

SELECT * FROM err('SELECT * FROM billing.distribute()');
SELECT * FROM err('SELECT * FROM billing.distribute(8)');
SELECT * FROM err('SELECT * FROM billing.distribute(0)');
SELECT * FROM err('SELECT * FROM billing.distribute(NULL)');
-- its internal steps too (the bodies parse: plpgsql reads them whole)
SELECT * FROM err('SELECT billing_internal.citus_place(''billing.buyer'', 4)');
SELECT * FROM err('SELECT * FROM billing_internal.citus_place_all(4)');
SELECT * FROM err('SELECT * FROM billing_internal.citus_place_all(4, dry_run => true)');
SELECT * FROM err('SELECT * FROM billing_internal.citus_place_all(NULL)');
\x off

-- nothing changed
SELECT count(*) AS relations,
       count(*) FILTER (WHERE (b.rel, b.relkind, b.relrowsecurity, b.triggers_on, b.policies, b.unique_keys)
                        IS NOT DISTINCT FROM (a.rel, a.relkind, a.relrowsecurity, a.triggers_on, a.policies, a.unique_keys)) AS unchanged
FROM dist_before b
LEFT JOIN (SELECT c.oid::regclass::text AS rel, c.relkind, c.relrowsecurity,
                  (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgenabled = 'O') AS triggers_on,
                  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
                  (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique) AS unique_keys
           FROM pg_class c
           WHERE c.relnamespace IN ('billing'::regnamespace, 'billing_internal'::regnamespace)) a USING (rel);

-- only a superuser may call it; a recipe role is refused before anything
CREATE ROLE regress_dist_app NOLOGIN;
GRANT USAGE ON SCHEMA billing TO regress_dist_app;
SET ROLE regress_dist_app;
SELECT * FROM err('SELECT * FROM billing.distribute()');
SELECT * FROM err('SELECT * FROM billing_internal.citus_place(''billing.buyer'', 4)');
SELECT * FROM err('SELECT * FROM billing_internal.citus_missing()');
SELECT * FROM err('SELECT * FROM billing_internal.citus_place_all(4, dry_run => true)');
SELECT * FROM err('SELECT * FROM billing_internal.citus_keys()');
RESET ROLE;
DROP OWNED BY regress_dist_app;
DROP ROLE regress_dist_app;

-- the plan places every table of the extension, once, per-buyer tables by
-- buyer: a table added later without a place in it fails here (a
-- partition goes where its parent goes: Citus distributes it with it)
SELECT c.oid::regclass AS table_without_a_place
FROM pg_class c
WHERE c.relnamespace IN ('billing'::regnamespace, 'billing_internal'::regnamespace)
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND c.oid NOT IN (SELECT p.table_name FROM billing_internal.citus_plan() p);
SELECT placement, count(*), count(DISTINCT table_name) AS distinct_tables,
       string_agg(DISTINCT distribution_column::text, ',') AS columns
FROM billing_internal.citus_plan() GROUP BY placement ORDER BY placement;
-- every distributed table has its distribution column
SELECT p.table_name, p.distribution_column FROM billing_internal.citus_plan() p
WHERE p.placement = 'distributed'
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = p.table_name AND a.attname = p.distribution_column);

-- never one trigger for TRUNCATE and row events (bits: 4 INSERT, 8 DELETE,
-- 16 UPDATE, 32 TRUNCATE)
SELECT t.tgrelid::regclass, t.tgname FROM pg_trigger t
WHERE t.tgrelid IN (SELECT p.table_name FROM billing_internal.citus_plan() p)
  AND NOT t.tgisinternal AND (t.tgtype::integer & 32) <> 0 AND (t.tgtype::integer & 28) <> 0;
-- and TRUNCATE of a record table is still refused, by its own trigger
SELECT state, message FROM err('TRUNCATE billing.invoice_tax_line');
SELECT state, message FROM err('TRUNCATE billing.invoice_series');
SELECT t.tgrelid::regclass, t.tgname FROM pg_trigger t
WHERE t.tgname = 'records_truncate_guard' ORDER BY t.tgrelid::regclass::text;

-- what is missing before billing may be distributed (the refusal's detail)
SELECT guarantee FROM billing_internal.citus_missing();

-- the foreign keys citus_place_all drops and adds back: every one among the
-- plan's tables, and each of a kind Citus allows (to a reference table, or
-- colocated distributed -> distributed on the distribution column); a key
-- Citus would refuse (reference -> distributed, or not on the distribution
-- column) shows here as refused
SELECT k.table_name, k.key_name, k.referenced,
       CASE WHEN f.placement = 'reference' THEN r.placement || ' -> reference'
            WHEN r.placement = 'distributed' AND f.placement = 'distributed'
             AND EXISTS (SELECT 1 FROM pg_constraint c, unnest(c.conkey, c.confkey) AS u (a, b)
                         WHERE c.conrelid = k.table_name AND c.conname = k.key_name
                           AND u.a = (SELECT attnum FROM pg_attribute WHERE attrelid = k.table_name AND attname = r.distribution_column)
                           AND u.b = (SELECT attnum FROM pg_attribute WHERE attrelid = k.referenced AND attname = f.distribution_column))
            THEN 'distributed -> distributed, colocated on ' || r.distribution_column
            ELSE 'refused by Citus: ' || r.placement || ' -> ' || f.placement END AS kind
FROM billing_internal.citus_keys() k
JOIN billing_internal.citus_plan() r ON r.table_name = k.table_name
JOIN billing_internal.citus_plan() f ON f.table_name = k.referenced
ORDER BY r.step, k.key_name;
-- and no foreign key between a plan table and a table outside the plan
SELECT c.conrelid::regclass, c.conname, c.confrelid::regclass FROM pg_constraint c
WHERE c.contype = 'f'
  AND (c.conrelid IN (SELECT table_name FROM billing_internal.citus_plan())
       <> c.confrelid IN (SELECT table_name FROM billing_internal.citus_plan()));
