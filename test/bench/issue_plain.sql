-- test/bench/issue_plain.sql: the same drafts by plain hand-written SQL, the
-- design most users would write: documents carry invoice_id (partial index
-- over the uninvoiced ones); one INSERT ... SELECT ... GROUP BY makes the
-- invoices (per-rate tax rounded down, deposits, previous balance from the
-- buyer) and their tax lines, then one UPDATE marks the documents.
-- psql variables: schedule (code), first_day, last_day.  Timed by issue.sh.
BEGIN;

WITH per_rate AS (
	SELECT d.buyer_id, d.tax_rate,
	       sum(CASE d.kind WHEN 'delivery_invoice' THEN d.amount WHEN 'payment' THEN 0
	                       ELSE -d.amount END) AS net,
	       sum(CASE d.kind WHEN 'payment' THEN d.amount ELSE 0 END) AS deposit,
	       count(*) AS documents
	FROM bench.plain_document d
	WHERE d.invoice_id IS NULL
	  AND d.document_date BETWEEN :'first_day' AND :'last_day'
	  AND (d.billable OR d.kind <> 'delivery_invoice') AND NOT d.never_invoice
	GROUP BY d.buyer_id, d.tax_rate
), new_invoice AS (
	INSERT INTO bench.plain_invoice (buyer_id, period_start, period_end, previous_billed, deposit,
	                                 carried_over, purchases, tax, total, document_count)
	SELECT r.buyer_id, :'first_day', :'last_day', b.billing_balance, sum(r.deposit),
	       b.billing_balance - sum(r.deposit), sum(r.net), sum(trunc(r.net * coalesce(r.tax_rate, 0))),
	       b.billing_balance - sum(r.deposit) + sum(r.net) + sum(trunc(r.net * coalesce(r.tax_rate, 0))),
	       sum(r.documents)
	FROM per_rate r
	JOIN billing.buyer b ON b.id = r.buyer_id
	JOIN billing.schedule s ON s.id = b.schedule_id AND s.code = :'schedule'
	GROUP BY r.buyer_id, b.billing_balance
	RETURNING id, buyer_id
)
INSERT INTO bench.plain_tax_line (invoice_id, tax_rate, taxable_amount, tax)
SELECT i.id, r.tax_rate, r.net, trunc(r.net * r.tax_rate)
FROM per_rate r JOIN new_invoice i ON i.buyer_id = r.buyer_id
WHERE r.tax_rate IS NOT NULL;

UPDATE bench.plain_document d SET invoice_id = i.id
FROM bench.plain_invoice i
WHERE i.buyer_id = d.buyer_id AND i.period_start = :'first_day'
  AND d.invoice_id IS NULL
  AND d.document_date BETWEEN :'first_day' AND :'last_day'
  AND (d.billable OR d.kind <> 'delivery_invoice') AND NOT d.never_invoice;

COMMIT;
