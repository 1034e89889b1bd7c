-- The links partitioned by document id, and the tax lines by invoice id
-- (issue 14 item 2, tables.sql):
-- blocks of 2^20 ids, made before a run writes into them, each with the
-- key (buyer_id, document_id) and the guards of its parent.  Shown here:
-- the layout of a fresh install; a rerun whose documents reach past the
-- first block makes the next ones, in a transaction of its own, and links
-- into them; a made partition is guarded as the parent is, against the
-- superuser and a role given it by a GRANT; a link stays one per document
-- whatever partition it is in; a document with an id far past the
-- sequence gets a partition of its own block, not every block in between;
-- more than 1024 new blocks at once are refused before any is made.  At the end the partitions made here are taken
-- away again and the sequence set back, for the suites that follow.
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
SET client_min_messages = warning;

-- errm(q): err(q), its numbers masked (ids depend on the suites run before)
CREATE FUNCTION pg_temp.errm(q text) RETURNS TABLE (state text, message text, detail text)
LANGUAGE sql AS $$
	SELECT e.state, regexp_replace(e.message, '[0-9]+', 'N', 'g'), regexp_replace(e.detail, '[0-9]+', 'N', 'g')
	FROM err(q) e
$$;
-- the partitions and their keys (and this brand's links in each): the
-- parent has none of its own
CREATE FUNCTION pg_temp.partitions() RETURNS TABLE (partition regclass, bound text, links bigint, key text)
LANGUAGE sql AS $$
	SELECT c.oid::regclass, pg_get_expr(c.relpartbound, c.oid),
	       (SELECT count(*) FROM billing.document_link l JOIN billing.brand b ON b.id = l.brand_id
	        WHERE l.tableoid = c.oid AND b.code = 'LPT'),
	       (SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'billing.document_link'::regclass ORDER BY c.oid
$$;
SELECT * FROM pg_temp.partitions();
SELECT count(*) AS parent_indexes FROM pg_index WHERE indrelid = 'billing.document_link'::regclass;
SELECT part, lower, upper FROM billing_internal.partition_ranges('billing.document_link') ORDER BY upper;
CREATE TEMP TABLE seq_before AS SELECT last_value FROM billing.document_id_seq;
CREATE TEMP TABLE invoice_seq_before AS SELECT last_value FROM billing.invoice_id_seq;

INSERT INTO brand (code, name) VALUES ('LPT', 'Link Partitions KK');
INSERT INTO schedule (brand_id, code, name, cycle)
SELECT id, 'LM', 'month end', 'monthly:eom' FROM brand WHERE code = 'LPT';
INSERT INTO buyer (brand_id, code, name, schedule_code, schedule_applied_at)
SELECT br.id, v.code, v.code, 'LM', '2026-09-01 09:00+09'
FROM brand br, (VALUES ('LP1'), ('LP2')) AS v(code) WHERE br.code = 'LPT';
-- October's documents: two below the first block's end, two past it
SELECT setval('billing.document_id_seq', 1048574);
INSERT INTO document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', '2026-10-10', 1000 * g, 0.10, b.code || '-' || g
FROM buyer b, generate_series(1, 2) AS g
WHERE b.brand_id = (SELECT id FROM brand WHERE code = 'LPT') ORDER BY b.code, g;
SELECT d.reference, d.id >= 1048576 AS past_the_first_block FROM document d
WHERE d.reference LIKE 'LP_-_' ORDER BY d.id;

-- October's run makes the next block (its documents' and a quarter block
-- past the sequence), and links each document into the one of its id; a
-- rerun for a late document links into it too
SELECT schedule, period, invoices FROM billing.issue_drafts('2026-11-01 00:06+09') WHERE brand = 'LPT' ORDER BY period;
INSERT INTO document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', '2026-10-12', 700, 0.10, 'LP-LATE'
FROM buyer b WHERE b.code = 'LP2' AND b.brand_id = (SELECT id FROM brand WHERE code = 'LPT');
SELECT billing.rerun_invoice_run('LM', brand => 'LPT', period => '2026-10-15', as_of => '2026-11-05 10:00+09') AS rerun
\gset
SELECT r.kind, r.invoice_count, r.document_count FROM billing.invoice_run r WHERE r.id = :rerun;
SELECT * FROM pg_temp.partitions();
SELECT part, lower, upper FROM billing_internal.partition_ranges('billing.document_link') ORDER BY upper;
SELECT d.reference, l.tableoid::regclass AS partition FROM document_link l JOIN document d ON d.id = l.document_id
WHERE d.reference LIKE 'LP%' ORDER BY d.id;
-- made at run time: not a member of the extension, owned by its owner, and
-- with the statement guards of its parent and the clones of its row guards
SELECT c.relname, EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e') AS member,
       pg_get_userbyid(c.relowner) = (SELECT pg_get_userbyid(e.extowner) FROM pg_extension e WHERE e.extname = 'billing')
         AS owned_by_the_extensions_owner,
       c.relrowsecurity AS row_security,
       (SELECT string_agg(t.tgname || CASE WHEN t.tgparentid <> 0 THEN ' (clone)' ELSE '' END, ', ' ORDER BY t.tgname)
        FROM pg_trigger t WHERE t.tgrelid = c.oid) AS triggers
FROM pg_class c WHERE c.oid IN ('billing.document_link_0'::regclass, 'billing.document_link_1'::regclass)
ORDER BY c.relname;

-- a write by hand into a partition, as the superuser: refused as one into
-- the parent is
SELECT * FROM pg_temp.errm($$INSERT INTO billing.document_link_1 (buyer_id, document_id, invoice_id, brand_id)
	SELECT buyer_id, document_id + 5, invoice_id, brand_id FROM billing.document_link_1 LIMIT 1$$);
SELECT * FROM pg_temp.errm('DELETE FROM billing.document_link_1');
SELECT * FROM pg_temp.errm('TRUNCATE billing.document_link_1');
SELECT * FROM pg_temp.errm('UPDATE billing.document_link_1 SET document_id = document_id + 1');
-- under the maintenance switch a second link of a linked document is
-- refused by the partition's key, whichever way it is written
BEGIN;
SET LOCAL billing.maintenance = on;
SELECT * FROM pg_temp.errm($$INSERT INTO billing.document_link SELECT * FROM billing.document_link_1 WHERE brand_id = (SELECT id FROM billing.brand WHERE code = 'LPT') LIMIT 1$$);
SELECT * FROM pg_temp.errm($$INSERT INTO billing.document_link_1 SELECT * FROM billing.document_link_1 WHERE brand_id = (SELECT id FROM billing.brand WHERE code = 'LPT') LIMIT 1$$);
ROLLBACK;
-- a role given the partition by a GRANT reads none of it (row security with
-- no policy); through the parent, its brand wall
CREATE ROLE regress_lp_reader;
GRANT USAGE ON SCHEMA billing TO regress_lp_reader;
GRANT SELECT ON billing.document_link, billing.document_link_1 TO regress_lp_reader;
SELECT billing.grant_brand('LPT', 'regress_lp_reader');
SET ROLE regress_lp_reader;
SELECT count(*) AS partition_rows FROM billing.document_link_1;
SELECT count(*) AS parent_rows, count(*) FILTER (WHERE brand_id <> (SELECT id FROM billing.brand WHERE code = 'LPT')) AS other_brands
FROM billing.document_link;
RESET ROLE;
SELECT billing.revoke_brand('LPT', 'regress_lp_reader');
DROP OWNED BY regress_lp_reader;
DROP ROLE regress_lp_reader;

-- a document far past the sequence (an id given by hand, or a Citus
-- worker's range): a partition for its block alone
INSERT INTO document (id, buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT 1099511627776, b.id, 'delivery_invoice', '2026-10-11', 500, 0.10, 'LP-FAR'
FROM buyer b WHERE b.code = 'LP1' AND b.brand_id = (SELECT id FROM brand WHERE code = 'LPT');
SELECT billing.rerun_invoice_run('LM', brand => 'LPT', period => '2026-10-15', as_of => '2026-11-06 10:00+09') AS rerun
\gset
SELECT r.kind, r.status, r.invoice_count, r.document_count FROM billing.invoice_run r WHERE r.id = :rerun;
SELECT * FROM pg_temp.partitions();
SELECT d.reference, l.tableoid::regclass AS partition FROM document_link l JOIN document d ON d.id = l.document_id
WHERE d.reference = 'LP-FAR';
-- more than 1024 blocks without a partition at once: refused, none made
SELECT * FROM err($$SELECT billing_internal.add_partitions('billing.document_link', ARRAY(SELECT (1 << 30) + 2 * g FROM generate_series(1, 1025) AS g))$$);
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'billing.document_link'::regclass;
-- a block already held is not made again, and a block below the first
-- partition's end is the first partition's
SELECT billing_internal.missing_blocks('billing.document_link', ARRAY[-3, 0, 1, 1, 2, 1048576, 1048577]::bigint[]) AS missing;
-- the partitions hold every block up to 2097152 without a gap (the far
-- block is past a gap)
SELECT billing_internal.partitions_reach('billing.document_link') AS reach;

-- the tax lines, by invoice id in blocks of 2^17: a run makes theirs from
-- the sequence's next invoice id on; a partition made for them is guarded
-- as the links' are
SELECT setval('billing.invoice_id_seq', 131071);
INSERT INTO document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', '2026-10-13', 300, 0.08, 'LP-TAX'
FROM buyer b WHERE b.code = 'LP2' AND b.brand_id = (SELECT id FROM brand WHERE code = 'LPT');
SELECT billing.rerun_invoice_run('LM', brand => 'LPT', period => '2026-10-15', as_of => '2026-11-07 10:00+09') AS rerun
\gset
SELECT p.part, p.lower, p.upper, (SELECT count(*) FROM billing.invoice_tax_line t WHERE t.tableoid = p.part
        AND t.brand_id = (SELECT id FROM billing.brand WHERE code = 'LPT')) AS tax_lines
FROM billing_internal.partition_ranges('billing.invoice_tax_line') p ORDER BY p.upper;
SELECT t.tableoid::regclass AS partition, t.tax_rate, t.taxable_amount, t.tax
FROM billing.invoice_tax_line t JOIN billing.invoice i ON i.buyer_id = t.buyer_id AND i.id = t.invoice_id
WHERE i.run_id = :rerun;
SELECT * FROM pg_temp.errm('TRUNCATE billing.invoice_tax_line_1');
SELECT * FROM pg_temp.errm('DELETE FROM billing.invoice_tax_line_1');
SELECT * FROM pg_temp.errm($$INSERT INTO billing.invoice_tax_line_1 SELECT * FROM billing.invoice_tax_line_1$$);
SELECT * FROM err($$SELECT billing_internal.guard_partition('billing.invoice')$$);

-- the rest as it was: the drafts deleted (their links with them), the
-- partitions made here taken away, the sequence set back
SELECT count(*) AS deleted FROM billing.delete_drafts(VARIADIC (SELECT array_agg(i.id) FROM billing.invoice i
	WHERE i.brand_id = (SELECT id FROM brand WHERE code = 'LPT')));
SELECT count(*) AS links_left FROM billing.document_link WHERE document_id >= 1048576;
ALTER TABLE billing.document_link DETACH PARTITION billing.document_link_1;
ALTER TABLE billing.document_link DETACH PARTITION billing.document_link_1048576;
DROP TABLE billing.document_link_1, billing.document_link_1048576;
SELECT count(*) AS tax_lines_left FROM billing.invoice_tax_line WHERE invoice_id >= 131072;
ALTER TABLE billing.invoice_tax_line DETACH PARTITION billing.invoice_tax_line_1;
DROP TABLE billing.invoice_tax_line_1;
SELECT setval('billing.invoice_id_seq', last_value) > 0 AS set_back FROM invoice_seq_before;
DELETE FROM document WHERE reference = 'LP-FAR';
SELECT setval('billing.document_id_seq', last_value) > 0 AS set_back FROM seq_before;
SELECT * FROM pg_temp.partitions();
