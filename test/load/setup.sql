-- test/load/setup.sql: the load test's data and its client functions
-- (test/load/run.sh).  One brand in Tokyo, four schedules (two daily, one
-- with document grouping; a weekly one; a month-end one), 400 buyers, a
-- third of them with an opening balance.  Time runs on a simulated clock,
-- one simulated day per real second, so that every second closes periods
-- and issue_drafts, called every second, has scheduled runs to make (with
-- simulate => true: its as_of is ahead of the real clock on purpose).
SET client_min_messages = warning;
CREATE EXTENSION billing;
CREATE SCHEMA load;

-- the simulated clock: base + (real time since started_at) * speed
CREATE TABLE load.clock (started_at timestamptz NOT NULL, base timestamptz NOT NULL, speed integer NOT NULL);
INSERT INTO load.clock
VALUES (clock_timestamp(), date_trunc('day', now() AT TIME ZONE 'Asia/Tokyo') AT TIME ZONE 'Asia/Tokyo' + interval '12 hours', 86400);
CREATE FUNCTION load.sim_now() RETURNS timestamptz LANGUAGE sql STABLE
AS $$ SELECT c.base + (clock_timestamp() - c.started_at) * c.speed FROM load.clock c $$;

INSERT INTO billing.brand (code, name) VALUES ('LOAD', 'Load KK');
INSERT INTO billing.bank_account (brand_id, code, bank_name, account_number, account_holder)
VALUES (1, 'MAIN', 'Load Bank', '1234567', 'Load KK');
INSERT INTO billing.member (brand_id, code, name, email) VALUES (1, 'ops', 'Ops', 'ops@load.example');
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule, invoice_date_mode, grouping) VALUES
	(1, 'D1', 'daily', 'daily', false, NULL, 'cutoff', 'buyer'),
	(1, 'D2', 'daily per document', 'daily', true, 'net:30', 'issue_date', 'document'),
	(1, 'W', 'Fridays', 'weekly:fri', true, 'month+1:eom', 'cutoff', 'buyer'),
	(1, 'M', 'month end', 'monthly:eom', false, NULL, 'last_of_month', 'buyer');

-- buyers 1..400, applied a simulated day before the clock starts
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_due_rule,
                           default_bank_account_id, billing_balance)
SELECT 1, 'L' || lpad(i::text, 3, '0'), 'Load buyer ' || i, 1 + i % 4,
       (SELECT base FROM load.clock) - interval '1 day',
       CASE WHEN i % 2 = 0 THEN 'month+1:10'::billing.due_rule END,
       CASE WHEN i % 5 <> 0 THEN 1 END,
       CASE WHEN i % 3 = 0 THEN 1000 * (i % 17 + 1) ELSE 0 END
FROM generate_series(1, 400) AS i;
-- what every balance started from (invariant: balance = opening + confirmed)
CREATE TABLE load.opening AS SELECT id AS buyer_id, billing_balance FROM billing.buyer;

-- what went wrong for the clients, by action and SQLSTATE: under
-- contention a draft may be confirmed or deleted by another client first
CREATE TABLE load.error (action text, state text, message text, at timestamptz DEFAULT clock_timestamp());
CREATE SEQUENCE load.reference;

-- insert_document: a document of buyer b dated today or yesterday
-- (simulated), of a kind drawn from k (1..10: 7 deliveries in 10)
CREATE FUNCTION load.insert_document(b integer, k integer, amount integer, back integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	kind text := CASE WHEN k <= 7 THEN 'delivery_invoice' WHEN k = 8 THEN 'return_note'
	                  WHEN k = 9 THEN 'credit_note' ELSE 'payment' END;
BEGIN
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	VALUES (b, 1, kind, (load.sim_now() AT TIME ZONE 'Asia/Tokyo')::date - back, amount,
	        CASE WHEN kind = 'payment' THEN NULL WHEN amount % 2 = 0 THEN 0.10 ELSE 0.08 END,
	        'L' || nextval('load.reference'));
EXCEPTION WHEN OTHERS THEN
	INSERT INTO load.error (action, state, message) VALUES ('insert', SQLSTATE, SQLERRM);
END
$$;

-- confirm: the buyer's oldest draft
CREATE FUNCTION load.confirm(b integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(
		SELECT i.id FROM billing.invoice i WHERE i.buyer_id = b AND i.status = 'draft' ORDER BY i.id LIMIT 1));
EXCEPTION WHEN OTHERS THEN
	INSERT INTO load.error (action, state, message) VALUES ('confirm', SQLSTATE, SQLERRM);
END
$$;

-- delete: the buyer's newest draft; its documents go to a later run
CREATE FUNCTION load.delete_draft(b integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM billing.delete_drafts(VARIADIC ARRAY(
		SELECT i.id FROM billing.invoice i WHERE i.buyer_id = b AND i.status = 'draft' ORDER BY i.id DESC LIMIT 1));
EXCEPTION WHEN OTHERS THEN
	INSERT INTO load.error (action, state, message) VALUES ('delete', SQLSTATE, SQLERRM);
END
$$;

-- rerun: schedule s (1..4) as of the simulated now, here or in a worker
CREATE FUNCTION load.rerun(s integer, background boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM billing.rerun_invoice_run((ARRAY['D1', 'D2', 'W', 'M'])[s], background => background,
	                                  as_of => load.sim_now(), brand => 'LOAD', simulate => true);
EXCEPTION WHEN OTHERS THEN
	INSERT INTO load.error (action, state, message)
	VALUES (CASE WHEN background THEN 'background rerun' ELSE 'rerun' END, SQLSTATE, SQLERRM);
END
$$;

-- issue: every period closed by the simulated now
CREATE FUNCTION load.issue() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM count(*) FROM billing.issue_drafts(load.sim_now(), simulate => true);
EXCEPTION WHEN OTHERS THEN
	INSERT INTO load.error (action, state, message) VALUES ('issue', SQLSTATE, SQLERRM);
END
$$;
