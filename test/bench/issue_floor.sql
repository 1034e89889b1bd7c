-- test/bench/issue_floor.sql: the floor of a run (issue 14 item 3), timed
-- by issue.sh.  One statement on the bare tables of test/bench/issue.sql
-- (same columns, CHECK constraints and indexes as billing.document,
-- invoice, invoice_tax_line and document_link; no triggers, RLS or foreign
-- keys): the period's documents not yet linked, read once into one
-- aggregate per buyer and rate; the invoices (every column a run fills,
-- numbered by buyer), their tax lines (per-rate tax rounded down), and one
-- link row per document.  What it leaves out is what the extension does
-- beside that: the run row, its log and snapshot, locks, phases, the
-- balance-only and late-document rules, the due date per buyer.
-- psql variables: schedule (code), first_day, last_day.
BEGIN;

WITH eligible AS MATERIALIZED (
	SELECT d.buyer_id, d.id AS document_id, d.tax_rate,
	       CASE d.kind WHEN 'delivery_invoice' THEN d.amount WHEN 'payment' THEN 0 ELSE -d.amount END AS net,
	       CASE d.kind WHEN 'payment' THEN d.amount ELSE 0 END AS deposit
	FROM bench.floor_document d
	JOIN billing.buyer b ON b.id = d.buyer_id
	JOIN billing.schedule s ON s.id = b.schedule_id AND s.code = :'schedule'
	WHERE d.brand_id = s.brand_id
	  AND d.document_date >= :'first_day' AND d.document_date <= :'last_day'
	  AND (d.billable OR d.kind <> 'delivery_invoice') AND NOT d.never_invoice
	  AND NOT EXISTS (SELECT 1 FROM bench.floor_link l WHERE l.buyer_id = d.buyer_id AND l.document_id = d.id)
), per_rate AS MATERIALIZED (
	SELECT e.buyer_id, e.tax_rate, sum(e.net) AS net, sum(e.deposit) AS deposit, count(*) AS documents,
	       CASE WHEN e.tax_rate IS NULL THEN 0 ELSE trunc(sum(e.net) * e.tax_rate) END AS tax
	FROM eligible e GROUP BY e.buyer_id, e.tax_rate
), numbered AS MATERIALIZED (
	SELECT nextval('bench.floor_invoice_id_seq') AS invoice_id, g.*
	FROM (SELECT r.buyer_id, b.brand_id, b.schedule_id, b.billing_balance AS previous_billed,
	             sum(r.deposit) AS deposit, sum(r.net) AS purchases, sum(r.tax) AS tax,
	             sum(r.documents)::integer AS documents, b.default_due_rule, b.default_bank_account_id
	      FROM per_rate r JOIN billing.buyer b ON b.id = r.buyer_id
	      GROUP BY r.buyer_id, b.brand_id, b.schedule_id, b.billing_balance, b.default_due_rule,
	               b.default_bank_account_id) AS g
	ORDER BY g.buyer_id
), new_invoice AS (
	INSERT INTO bench.floor_invoice (buyer_id, id, brand_id, schedule_id, run_id, status, period,
	       cutoff_date, invoice_date, due_rule, due_date, bank_account_id, currency,
	       previous_billed, deposit, carried_over, purchases, tax, total, document_count)
	SELECT n.buyer_id, n.invoice_id, n.brand_id, n.schedule_id, 0, 'draft',
	       daterange(:'first_day', (:'last_day'::date + 1)), :'last_day', :'last_day', n.default_due_rule,
	       (:'last_day'::date + interval '1 month')::date, n.default_bank_account_id, 'JPY',
	       n.previous_billed, n.deposit, n.previous_billed - n.deposit, n.purchases, n.tax,
	       n.previous_billed - n.deposit + n.purchases + n.tax, n.documents
	FROM numbered n
), new_tax_line AS (
	INSERT INTO bench.floor_tax_line (buyer_id, invoice_id, tax_rate, taxable_amount, tax)
	SELECT r.buyer_id, n.invoice_id, r.tax_rate, r.net, r.tax
	FROM per_rate r JOIN numbered n ON n.buyer_id = r.buyer_id
	WHERE r.tax_rate IS NOT NULL
)
INSERT INTO bench.floor_link (buyer_id, document_id, invoice_id)
SELECT e.buyer_id, e.document_id, n.invoice_id
FROM eligible e JOIN numbered n ON n.buyer_id = e.buyer_id;

COMMIT;
