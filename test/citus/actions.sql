-- test/citus/actions.sql: the bulk actions on invoices (issue 16, plan
-- step 9), run by run.sh on a database whose tables it placed with a run's
-- drafts in them, and on one where billing stays local: the two outputs
-- must be the same (and expected/actions.out).  Invoices are named by their
-- buyer's code: ids are the nodes' business.  A selection is passed as
-- VARIADIC (SELECT array_agg(id) ...): Citus plans that subquery on its
-- own, where it would push "FROM billing.confirm_invoices(VARIADIC
-- ARRAY(SELECT id FROM billing.invoice ...))" whole to every shard (and
-- refuse it there: doc/citus.md).
\set VERBOSITY terse
SET client_min_messages = error;
CREATE TEMP VIEW drafts AS
SELECT b.code AS buyer, i.id, i.status, i.invoice_number, i.total
FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id;
RESET client_min_messages;
SELECT buyer, status, total FROM drafts ORDER BY buyer;
-- confirm three buyers' drafts at once (numbered in id order), one of them
-- twice in the selection
SELECT s.buyer, s.status, s.invoice_number, s.total
FROM billing.confirm_invoices(VARIADIC (SELECT array_agg(id ORDER BY id) || array_agg(id) FILTER (WHERE buyer = 'CA2')
                                        FROM drafts WHERE buyer IN ('CA1', 'CA2', 'CA3'))) AS s
ORDER BY s.buyer;
-- refused, nothing changed: a missing invoice, an invoice in a wrong status
SELECT count(*) FROM billing.confirm_invoices(-1);
SELECT count(*) FROM billing.delete_drafts(VARIADIC (SELECT array_agg(id ORDER BY id) FROM drafts WHERE buyer IN ('CA1', 'CA4')));
-- quarantine, reject, delete, cancel (a rejected one; confirmed ones are refused)
SELECT s.buyer, s.status FROM billing.quarantine_invoices('checking the prices', VARIADIC (SELECT array_agg(id ORDER BY id) FROM drafts WHERE buyer = 'CA4')) AS s;
SELECT s.buyer, s.status FROM billing.reject_invoices('wrong prices', VARIADIC (SELECT array_agg(id ORDER BY id) FROM drafts WHERE buyer = 'CA4')) AS s;
SELECT s.buyer, s.status FROM billing.delete_drafts(VARIADIC (SELECT array_agg(id ORDER BY id) FROM drafts WHERE buyer IN ('CA5', 'CB1'))) AS s ORDER BY s.buyer;
SELECT s.buyer, s.status FROM billing.cancel_invoices(VARIADIC (SELECT array_agg(id ORDER BY id) FROM drafts WHERE buyer IN ('CA1', 'CA3'))) AS s ORDER BY s.buyer;
SELECT s.buyer, s.status FROM billing.cancel_invoices(VARIADIC (SELECT array_agg(id ORDER BY id) FROM drafts WHERE buyer = 'CA4')) AS s;
-- where it all ended: invoices, links left, balances, verify()
SELECT buyer, status, invoice_number, total FROM drafts ORDER BY buyer, id;
SELECT b.code AS buyer, count(l.document_id) AS links, b.billing_balance
FROM billing.buyer b LEFT JOIN billing.document_link l ON l.buyer_id = b.id
GROUP BY b.code, b.billing_balance ORDER BY b.code;
SELECT count(*) AS violations FROM billing.verify();
