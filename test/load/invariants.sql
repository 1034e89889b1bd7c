-- test/load/invariants.sql: what must hold after the load, one row per
-- invariant: what it says, how many rows it checked, how many broke it.
-- Checked independently of the extension's own code: sums over the linked
-- documents, tax rounded here (the load's brand rounds down).
WITH link AS (
	SELECT l.buyer_id, l.document_id, l.invoice_id, d.buyer_id AS doc_buyer, d.kind, d.amount,
	       d.tax_rate, d.document_date, i.id AS inv_id, i.status, i.period
	FROM billing.document_link l
	LEFT JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
	LEFT JOIN billing.invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
), per_document AS (
	SELECT buyer_id, document_id, count(*) FILTER (WHERE status IS DISTINCT FROM 'cancelled') AS live
	FROM link GROUP BY buyer_id, document_id
), docs AS (
	SELECT buyer_id, invoice_id,
	       sum(CASE kind WHEN 'delivery_invoice' THEN amount WHEN 'payment' THEN 0 ELSE -amount END) AS purchases,
	       sum(CASE kind WHEN 'payment' THEN amount ELSE 0 END) AS deposit, count(*) AS documents
	FROM link GROUP BY buyer_id, invoice_id
), doc_rates AS (
	SELECT buyer_id, invoice_id, tax_rate,
	       sum(CASE kind WHEN 'delivery_invoice' THEN amount ELSE -amount END) AS taxable
	FROM link WHERE kind <> 'payment' GROUP BY buyer_id, invoice_id, tax_rate
), lines AS (
	SELECT buyer_id, invoice_id, sum(taxable_amount) AS taxable, sum(tax) AS tax
	FROM billing.invoice_tax_line GROUP BY buyer_id, invoice_id
), scale AS (
	SELECT b.currency_scale FROM billing.brand b WHERE b.code = 'LOAD' AND b.tax_rounding = 'down'
), confirmed AS (
	SELECT buyer_id, sum(purchases + tax - deposit) AS change
	FROM billing.invoice WHERE status = 'confirmed' GROUP BY buyer_id
)
SELECT 'no document on two live invoices' AS invariant, count(*) AS checked,
       count(*) FILTER (WHERE live > 1) AS broken
FROM per_document
UNION ALL
SELECT 'every link joins an existing document to an invoice of its buyer and period', count(*),
       count(*) FILTER (WHERE doc_buyer IS NULL OR inv_id IS NULL OR NOT (document_date <@ period))
FROM link
UNION ALL
SELECT 'invoice amounts equal their documents and tax lines', count(*),
       count(*) FILTER (WHERE i.purchases <> coalesce(d.purchases, 0) OR i.deposit <> coalesce(d.deposit, 0)
                           OR i.document_count <> coalesce(d.documents, 0)
                           OR i.purchases <> coalesce(t.taxable, 0) OR i.tax <> coalesce(t.tax, 0)
                           OR i.carried_over <> i.previous_billed - i.deposit
                           OR i.total <> i.carried_over + i.purchases + i.tax)
FROM billing.invoice i
LEFT JOIN docs d ON d.buyer_id = i.buyer_id AND d.invoice_id = i.id
LEFT JOIN lines t ON t.buyer_id = i.buyer_id AND t.invoice_id = i.id
WHERE i.status <> 'cancelled'
UNION ALL
SELECT 'tax lines equal their documents, rounded once per rate', count(*),
       count(*) FILTER (WHERE t.taxable_amount IS DISTINCT FROM r.taxable
                           OR t.tax IS DISTINCT FROM trunc(r.taxable * r.tax_rate, (SELECT currency_scale FROM scale)))
FROM billing.invoice_tax_line t
FULL JOIN doc_rates r ON r.buyer_id = t.buyer_id AND r.invoice_id = t.invoice_id AND r.tax_rate = t.tax_rate
UNION ALL
SELECT 'every balance equals its opening balance plus its confirmed invoices', count(*),
       count(*) FILTER (WHERE b.billing_balance <> o.billing_balance + coalesce(c.change, 0))
FROM billing.buyer b
JOIN load.opening o ON o.buyer_id = b.id
LEFT JOIN confirmed c ON c.buyer_id = b.id
UNION ALL
SELECT 'no run left queued or running', count(*), count(*) FILTER (WHERE status IN ('queued', 'running'))
FROM billing.invoice_run;
