-- test/citus/readers_confirmed.sql: after the run, before the placement:
-- CA1's invoice confirmed, then CA1 moved (a master data version kept:
-- on Citus its trigger cannot write it yet, plan step 4)
SELECT invoice_number FROM billing.confirm_invoices(VARIADIC (SELECT array_agg(i.id) FROM billing.invoice i
	JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.code = 'CA1'));
UPDATE billing.buyer SET address_line = '移転先 ' || code WHERE code = 'CA1';
