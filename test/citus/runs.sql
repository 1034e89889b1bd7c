-- test/citus/runs.sql: the run on placed tables (issue 16, plan steps 8
-- and 9: the run and the readers over documents plannable on Citus).
-- run.sh runs it on a database whose tables it placed with setup.sql's and
-- actions_setup.sql's rows, and on one where billing stays local; the two
-- outputs must be the same (and expected/runs.out): the scheduled runs,
-- their drafts, tax lines and links, what is left unbilled, a late
-- document seen by the preview and billed by a rerun, a rerun with
-- nothing to do, billing.document_status, billing.health,
-- billing.run_report, and verify().
\set VERBOSITY terse
SET timezone = 'UTC';
-- what is still to bill, before the run
SELECT count(*) AS uninvoiced, sum(amount) FROM billing.uninvoiced_document;
SELECT * FROM billing.preview_run('M20', '2026-11-21 00:06+09', 'ACME');
SELECT * FROM billing.issue_drafts('2026-11-21 00:06+09');
-- the drafts, their tax lines and links, by buyer (ids: on placed tables
-- the workers number the invoices, each from its own range)
SELECT b.code, i.status, i.period, i.previous_billed, i.purchases, i.tax, i.total, i.document_count
FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id ORDER BY b.code, i.draft_key;
SELECT b.code, t.tax_rate, t.taxable_amount, t.tax FROM billing.invoice_tax_line t
JOIN billing.invoice i ON i.buyer_id = t.buyer_id AND i.id = t.invoice_id
JOIN billing.buyer b ON b.id = i.buyer_id ORDER BY 1, 2;
SELECT b.code, d.reference FROM billing.document_link l
JOIN billing.invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
JOIN billing.buyer b ON b.id = i.buyer_id
JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id ORDER BY 1, 2;
SELECT count(*) AS uninvoiced FROM billing.uninvoiced_document;
-- a document found late, for CA3's closed period: the preview shows it,
-- the rerun bills it, and nothing else
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', '2026-11-15', 777, 0.08, 'CA3-late' FROM billing.buyer b WHERE b.code = 'CA3';
SELECT reference, amount FROM billing.uninvoiced_document ORDER BY reference;
SELECT * FROM billing.preview_run('M20', '2026-11-22 09:00+09', 'ACME', period => '2026-11-20');
SELECT * FROM billing.rerun_invoice_run('M20', '2026-11-22 09:00+09', 'ACME', period => '2026-11-20');
SELECT b.code, i.status, i.purchases, i.tax, i.total, i.document_count
FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
WHERE i.run_id = (SELECT max(r.id) FROM billing.invoice_run r) ORDER BY b.code;
SELECT count(*) AS uninvoiced FROM billing.uninvoiced_document;
-- a rerun with nothing late makes nothing
SELECT * FROM billing.rerun_invoice_run('M20', '2026-11-22 10:00+09', 'ACME', period => '2026-11-20');
-- why each document is or is not billed, and the health check (both read
-- billing.uninvoiced_document; the late document is billed, nothing stranded)
SELECT buyer, reference, status, invoice IS NOT NULL AS on_invoice, will_bill FROM billing.document_status
ORDER BY buyer, reference;
SELECT severity, brand, "check", object FROM billing.health ORDER BY 1, 2, 3, 4;
-- the runs as billing.run_report shows them, and verify()
SELECT run, brand, schedule, kind, period, step, buyers, invoices_issued, documents, drafts, billed_total,
       tax_by_rate, xml_count
FROM billing.run_report ORDER BY run;
SELECT * FROM billing.verify();
