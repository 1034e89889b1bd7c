-- What a rerun reads (issue 14): a rerun or preview of a period reads only
-- the buyers changed since the period's last run (billing_internal.rerun_buyers;
-- NULL: the whole period), and still bills exactly what a run reading the
-- whole period would.  Shown here: each kind of change makes the next rerun
-- read its buyer and no other; a buyer applied between two runs' as_of is
-- read though nothing of it changed; a transaction's own changes are read by
-- its own next rerun; and the cases where the period is read whole (no run
-- yet, a snapshot of another cluster, hints pruned).
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
SET client_min_messages = warning;

INSERT INTO brand (code, name) VALUES ('RRD', 'Rerun Reads KK');
INSERT INTO schedule (brand_id, code, name, cycle)
SELECT id, 'RM', 'month end', 'monthly:eom' FROM brand WHERE code = 'RRD';
INSERT INTO buyer (brand_id, code, name, schedule_code, schedule_applied_at, billing_balance)
SELECT br.id, v.code, v.code, 'RM', v.applied::timestamptz, v.balance
FROM brand br, (VALUES ('RD1', '2026-09-01 09:00', 0), ('RD2', '2026-09-01 09:00', 3000),
                       ('RD3', '2026-09-01 09:00', 0),
                       -- applied after the first rerun's as_of (11-05), before the later ones'
                       ('RD4', '2026-11-06 09:00', 0)) AS v(code, applied, balance)
WHERE br.code = 'RRD';
INSERT INTO document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', v.d::date, v.amount, 0.10, v.ref
FROM buyer b JOIN (VALUES ('RD1', '2026-10-03', 1000, 'RR-1'), ('RD2', '2026-10-04', 2000, 'RR-2'),
                          ('RD4', '2026-10-05', 4000, 'RR-4')) AS v(buyer, d, amount, ref)
  ON v.buyer = b.code AND b.brand_id = (SELECT id FROM brand WHERE code = 'RRD');

-- the buyers the next rerun of October reads, as of a time
CREATE FUNCTION pg_temp.reads(as_of timestamptz) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN r.ids IS NULL THEN 'everyone'
	            ELSE coalesce((SELECT string_agg(b.code, ' ' ORDER BY b.code)
	                           FROM billing.buyer b JOIN billing.brand br ON br.id = b.brand_id
	                           WHERE b.id = ANY (r.ids) AND br.code = 'RRD'), 'no one') END
	FROM (SELECT billing_internal.rerun_buyers(s.id, '2026-10-31', as_of) AS ids
	      FROM billing.schedule s JOIN billing.brand br ON br.id = s.brand_id WHERE s.code = 'RM' AND br.code = 'RRD') AS r
$$;
CREATE FUNCTION pg_temp.rerun(as_of timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	run bigint := billing.rerun_invoice_run('RM', as_of => as_of, brand => 'RRD', period => '2026-10-15');
BEGIN
	RETURN coalesce((SELECT string_agg(format('%s %s docs %s', b.code, i.document_count, i.total), ', ' ORDER BY b.code)
	                 FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
	                 WHERE i.run_id = run), 'nothing to re-run');
END
$$;

-- no run of October yet: the whole period
SELECT pg_temp.reads('2026-11-05 10:00+09') AS reads;
-- the scheduled runs (September: nothing; October: RD1 and RD2), which read
-- the whole period and keep their snapshots
SELECT schedule, period, invoices FROM issue_drafts('2026-11-01 00:06+09') WHERE brand = 'RRD' ORDER BY period;
-- nothing changed: no one is read, nothing is made
SELECT pg_temp.reads('2026-11-05 11:00+09') AS reads;
SELECT pg_temp.rerun('2026-11-05 11:00+09') AS rerun;
-- RD4 was applied after the first rerun's as_of: read from 11-06 09:00 on,
-- though nothing of it changed since
SELECT pg_temp.reads('2026-11-07 10:00+09') AS reads;
SELECT pg_temp.rerun('2026-11-07 10:00+09') AS rerun;

-- a late document: its buyer only
INSERT INTO document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT id, 'delivery_invoice', '2026-10-20', 500, 0.10, 'RR-3' FROM buyer WHERE code = 'RD3' AND brand_id = (SELECT id FROM brand WHERE code = 'RRD');
SELECT pg_temp.reads('2026-11-07 11:00+09') AS reads;
SELECT buyer, documents, total FROM preview_run('RM', as_of => '2026-11-07 11:00+09', brand => 'RRD', period => '2026-10-15');
SELECT pg_temp.rerun('2026-11-07 11:00+09') AS rerun;

-- a balance that becomes non-zero (a balance-only draft): RD3's, set by a
-- repair under the maintenance switch; a balance that only changes its
-- amount (RD2's) gives no reason to read RD2
SET billing.maintenance = on;
UPDATE buyer SET billing_balance = billing_balance + 700, opening_balance = opening_balance + 700
WHERE code IN ('RD1', 'RD2') AND brand_id = (SELECT id FROM brand WHERE code = 'RRD');
RESET billing.maintenance;
SELECT pg_temp.reads('2026-11-07 12:00+09') AS reads;
-- (RD1 has October's draft, a live invoice: no balance-only draft)
SELECT pg_temp.rerun('2026-11-07 12:00+09') AS rerun;

-- a draft deleted: its buyer is read and billed again
SELECT buyer, status FROM delete_drafts(VARIADIC ARRAY(
	SELECT i.id FROM invoice i JOIN buyer b ON b.id = i.buyer_id
	WHERE b.code = 'RD2' AND i.status = 'draft' AND b.brand_id = (SELECT id FROM brand WHERE code = 'RRD')));
SELECT pg_temp.reads('2026-11-07 13:00+09') AS reads;
SELECT pg_temp.rerun('2026-11-07 13:00+09') AS rerun;

-- a transaction's own changes are read by its own next rerun (its
-- snapshot sees them as its own, though they come after it)
BEGIN;
INSERT INTO document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT id, 'delivery_invoice', '2026-10-21', 100, 0.10, 'RR-5' FROM buyer WHERE code = 'RD1' AND brand_id = (SELECT id FROM brand WHERE code = 'RRD');
SELECT pg_temp.rerun('2026-11-07 14:00+09') AS rerun;
INSERT INTO document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT id, 'delivery_invoice', '2026-10-22', 200, 0.10, 'RR-6' FROM buyer WHERE code = 'RD4' AND brand_id = (SELECT id FROM brand WHERE code = 'RRD');
SELECT pg_temp.reads('2026-11-07 14:00+09') ~ 'RD4' AS reads_r4;
SELECT pg_temp.rerun('2026-11-07 14:00+09') AS rerun;
COMMIT;
SELECT pg_temp.rerun('2026-11-07 15:00+09') AS rerun;

-- every October document is on exactly one live invoice
SELECT d.reference, count(l.*) AS links
FROM document d JOIN buyer b ON b.id = d.buyer_id
LEFT JOIN document_link l ON l.buyer_id = d.buyer_id AND l.document_id = d.id
WHERE d.brand_id = (SELECT id FROM brand WHERE code = 'RRD')
GROUP BY d.reference ORDER BY d.reference;

-- the period read whole: a run snapshot of another cluster (a restore)
WITH moved AS (
	UPDATE billing_internal.run_snapshot SET system_identifier = system_identifier + 1
	WHERE schedule_id = (SELECT s.id FROM schedule s JOIN brand br ON br.id = s.brand_id WHERE s.code = 'RM' AND br.code = 'RRD') RETURNING 1)
SELECT count(*) > 0 AS moved FROM moved;
SELECT pg_temp.reads('2026-11-07 16:00+09') AS reads;
SELECT pg_temp.rerun('2026-11-07 16:00+09') AS rerun;
UPDATE billing_internal.run_snapshot SET system_identifier = (SELECT system_identifier FROM pg_control_system())
WHERE schedule_id = (SELECT s.id FROM schedule s JOIN brand br ON br.id = s.brand_id WHERE s.code = 'RM' AND br.code = 'RRD');
SELECT pg_temp.reads('2026-11-07 16:00+09') <> 'everyone' AS snapshot_used;

-- ... or hints pruned that its last run may need: scheduled runs prune
-- hints older than two months and record how far; a run snapshot older
-- than that is not used.  Two months later (every hint aged):
UPDATE billing_internal.rerun_hint SET created_at = created_at - interval '3 months';
SELECT schedule, period, invoices FROM issue_drafts('2026-12-01 00:06+09') WHERE brand = 'RRD' ORDER BY period;
SELECT count(*) AS old_hints FROM billing_internal.rerun_hint WHERE created_at < now() - interval '2 months';
SELECT pruned_through IS NOT NULL AS pruned FROM billing_internal.rerun_hint_horizon;
SELECT pg_temp.reads('2026-12-01 10:00+09') AS reads;
-- a late document: the rerun reads the whole period, bills it, and is the
-- next rerun's start
INSERT INTO document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT id, 'delivery_invoice', '2026-10-23', 300, 0.10, 'RR-7' FROM buyer WHERE code = 'RD3' AND brand_id = (SELECT id FROM brand WHERE code = 'RRD');
SELECT pg_temp.rerun('2026-12-01 10:00+09') AS rerun;
SELECT pg_temp.reads('2026-12-01 11:00+09') AS reads;

-- the tables are the owner's: no role reads or writes them
SELECT c.relname, c.relacl FROM pg_class c
WHERE c.relnamespace = 'billing_internal'::regnamespace AND c.relkind = 'r' ORDER BY 1;
RESET client_min_messages;
