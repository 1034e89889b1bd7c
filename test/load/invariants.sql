-- test/load/invariants.sql: what must hold after the load, one row per
-- invariant: what it says, how many rows it checked, how many broke it.
-- The invariants are billing.verify()'s (one row per violation); the rows
-- checked are counted here.  Two are the load's own: every opening balance
-- is the one the load gave its buyer, and no run is left queued or running
-- at all once the load has stopped.
WITH violation AS MATERIALIZED (
	SELECT v.invariant FROM billing.verify() AS v
), counted (invariant, pattern, checked) AS (VALUES
	('every reference exists (foreign keys and meant references)', '(foreign key|reference) %',
	 (SELECT count(*) FROM billing.document_link) + (SELECT count(*) FROM billing.invoice)
	 + (SELECT count(*) FROM billing.invoice_tax_line) + (SELECT count(*) FROM billing.document)),
	('no document is on two live invoices', NULL, (SELECT count(*) FROM billing.document_link)),
	('a linked document is dated in its invoice''s period', NULL, (SELECT count(*) FROM billing.document_link)),
	('an invoice''s amounts equal its documents and tax lines', NULL,
	 (SELECT count(*) FROM billing.invoice WHERE status <> 'cancelled')),
	('a tax line equals its documents, rounded once per rate', NULL, (SELECT count(*) FROM billing.invoice_tax_line)),
	('a balance equals its opening balance plus its confirmed invoices', NULL, (SELECT count(*) FROM billing.buyer)),
	('a queued or running run has a live worker', NULL, (SELECT count(*) FROM billing.invoice_run))
)
SELECT c.invariant, c.checked,
       (SELECT count(*) FROM violation v
        WHERE CASE WHEN c.pattern IS NULL THEN v.invariant = c.invariant
                   ELSE v.invariant SIMILAR TO c.pattern END)
FROM counted c
UNION ALL
-- a violation of an invariant this list does not name yet
SELECT 'any other invariant of billing.verify()', 0,
       (SELECT count(*) FROM violation v
        WHERE NOT v.invariant SIMILAR TO '(foreign key|reference) %'
          AND v.invariant NOT IN (SELECT c.invariant FROM counted c))
UNION ALL
SELECT 'every opening balance is the one the load gave', count(*),
       count(*) FILTER (WHERE b.opening_balance <> o.billing_balance)
FROM billing.buyer b JOIN load.opening o ON o.buyer_id = b.id
UNION ALL
SELECT 'no run left queued or running', count(*), count(*) FILTER (WHERE status IN ('queued', 'running'))
FROM billing.invoice_run;
