-- sql/updates/0.2--0.3.sql: the changes to run-once objects (tables, types)
-- from 0.2 to 0.3.  sql/assemble.sh puts this in place of the tables in
-- billing--0.2--0.3.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

------------------------------------------------------------------------------
-- Issue 11, verify: the opening balance billing.verify() checks each
-- balance against.  0.2 kept no opening balance; it is what the balance was
-- before the buyer's confirmed invoices (the only writes 0.2 let move it).
------------------------------------------------------------------------------
ALTER TABLE billing.buyer ADD COLUMN opening_balance numeric;
UPDATE billing.buyer b SET opening_balance = b.billing_balance - coalesce(
	(SELECT sum(i.purchases + i.tax - i.deposit) FROM billing.invoice i
	 WHERE i.buyer_id = b.id AND i.status = 'confirmed'), 0);
ALTER TABLE billing.buyer ALTER COLUMN opening_balance SET NOT NULL;
