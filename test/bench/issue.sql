-- test/bench/issue.sql: data, comparators and helpers of the issue-drafts
-- benchmark (test/bench/issue.sh).  psql variable: buyers.
--
-- Brand BENCH (JPY, Asia/Tokyo, tax rounded down), schedule M_EOM
-- (monthly:eom), :buyers buyers with a non-zero balance, applied on
-- 2026-10-05: after September's issue moment (10-01 00:05 JST) and before
-- October's (11-01 00:05 JST), so an as_of of 2026-11-01 00:06+09 makes
-- exactly one run, for October.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
CREATE SCHEMA bench;

INSERT INTO billing.brand (code, name, time_zone, currency) VALUES ('BENCH', 'Bench KK', 'Asia/Tokyo', 'JPY');
INSERT INTO billing.schedule (brand_id, code, name, cycle)
SELECT id, 'M_EOM', 'month end', 'monthly:eom' FROM billing.brand WHERE code = 'BENCH';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at,
                           default_due_rule, billing_balance)
SELECT br.id, 'B' || lpad(g::text, 7, '0'), 'Buyer ' || g, s.id, '2026-10-05 09:00+09',
       'month+1:eom', (hashint8extended(g, 7) & 1048575) % 200000
FROM billing.brand br JOIN billing.schedule s ON s.brand_id = br.id,
     generate_series(1, :buyers) AS g
WHERE br.code = 'BENCH'
ORDER BY g;

-- bench.documents: n documents dated first_day .. the month's last day, in
-- date order (as they are written day by day), spread evenly over the
-- buyers (each buyer's documents scattered over the period).  80%
-- deliveries (half at 10%, half at 8%), 8% return notes, 4% credit notes,
-- 8% payments (no tax rate), random integer amounts.  Deterministic: the
-- same arguments give the same rows.
CREATE FUNCTION bench.documents(first_day date, n integer, salt integer)
RETURNS TABLE (buyer_id bigint, brand_id bigint, kind text, document_date date, amount numeric,
               tax_rate numeric, reference text)
LANGUAGE sql STABLE AS $$
	SELECT b0.first_buyer + g % b0.buyers, b0.brand_id,
	       CASE WHEN h < 80 THEN 'delivery_invoice' WHEN h < 88 THEN 'return_note'
	            WHEN h < 92 THEN 'credit_note' ELSE 'payment' END,
	       first_day + (g::bigint * b0.days / n)::integer,
	       (CASE WHEN h >= 92 THEN 1000 + (hashint8extended(g, salt * 10 + 2) & 1048575) % 100000
	             ELSE 100 + (hashint8extended(g, salt * 10 + 2) & 1048575) % 50000 END)::numeric,
	       CASE WHEN h >= 92 THEN NULL
	            WHEN (hashint8extended(g, salt * 10 + 3) & 1) = 0 THEN 0.10 ELSE 0.08 END,
	       to_char(first_day, 'YYYYMM') || '-' || g
	FROM (SELECT min(b.id) AS first_buyer, min(b.brand_id) AS brand_id, count(*) AS buyers,
	             ((first_day + interval '1 month')::date - first_day) AS days
	      FROM billing.buyer b JOIN billing.brand br ON br.id = b.brand_id
	      WHERE br.code = 'BENCH') AS b0,
	     generate_series(0, n - 1) AS g,
	     LATERAL (SELECT (hashint8extended(g, salt * 10 + 1) & 1048575) % 100 AS h) AS mix
$$;

-- bench.load_month: a month of documents into billing.document
CREATE FUNCTION bench.load_month(first_day date, n integer) RETURNS bigint
LANGUAGE sql AS $$
	WITH ins AS (
		INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
		SELECT * FROM bench.documents(first_day, n, extract(month FROM first_day)::integer)
		RETURNING 1)
	SELECT count(*) FROM ins
$$;

-- The user-style design: documents carry invoice_id, with the indexes a
-- user would have: the primary key, one on the date, and a partial index
-- over the uninvoiced ones (by buyer and date).  Same columns as
-- billing.document, so rows are as wide.  The PL/pgSQL loop gets its own
-- copy with the same indexes.
CREATE TABLE bench.plain_document (
	id bigint PRIMARY KEY,
	buyer_id bigint NOT NULL,
	brand_id bigint NOT NULL,
	kind text NOT NULL,
	document_date date NOT NULL,
	billable boolean NOT NULL DEFAULT true,
	amount numeric NOT NULL,
	tax_rate numeric,
	reference text NOT NULL,
	never_invoice boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	invoice_id bigint
);
CREATE INDEX plain_document_date_idx ON bench.plain_document (document_date);
CREATE INDEX plain_document_uninvoiced_idx ON bench.plain_document (buyer_id, document_date)
	WHERE invoice_id IS NULL;
CREATE TABLE bench.plain_invoice (
	id bigserial PRIMARY KEY,
	buyer_id bigint NOT NULL,
	period_start date NOT NULL,
	period_end date NOT NULL,
	previous_billed numeric NOT NULL,
	deposit numeric NOT NULL,
	carried_over numeric NOT NULL,
	purchases numeric NOT NULL,
	tax numeric NOT NULL,
	total numeric NOT NULL,
	document_count integer NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (buyer_id, period_start)
);
CREATE TABLE bench.plain_tax_line (
	invoice_id bigint NOT NULL,
	tax_rate numeric NOT NULL,
	taxable_amount numeric NOT NULL,
	tax numeric NOT NULL,
	PRIMARY KEY (invoice_id, tax_rate)
);
CREATE TABLE bench.loop_document (LIKE bench.plain_document INCLUDING ALL);
CREATE TABLE bench.loop_invoice (LIKE bench.plain_invoice INCLUDING ALL);
CREATE TABLE bench.loop_tax_line (LIKE bench.plain_tax_line INCLUDING ALL);

-- The floor (issue 14 item 3): bare tables of the same columns, CHECK
-- constraints and indexes as the extension's document, invoice, tax line
-- and link tables (LIKE ... INCLUDING ALL), without their triggers, row
-- level security and foreign keys, and without the run's bookkeeping (run
-- row, log, snapshot, phases, notifications).  test/bench/issue_floor.sql
-- writes into them what a run of the period writes: one aggregate over the
-- period, the invoices, their tax lines, one link per document.
CREATE TABLE bench.floor_document (LIKE billing.document INCLUDING ALL);
CREATE SEQUENCE bench.floor_invoice_id_seq;
CREATE TABLE bench.floor_invoice (LIKE billing.invoice INCLUDING ALL);
ALTER TABLE bench.floor_invoice ALTER COLUMN id SET DEFAULT nextval('bench.floor_invoice_id_seq');
CREATE TABLE bench.floor_tax_line (LIKE billing.invoice_tax_line INCLUDING ALL);
CREATE TABLE bench.floor_link (LIKE billing.document_link_0 INCLUDING ALL);
-- from 0.3 on, tax lines and links carry their invoice's brand: the floor
-- writes it too (the one brand of the benchmark, as the run writes its
-- run's), by default, so that issue_floor.sql fits 0.2 as well
SELECT format('ALTER TABLE %s ALTER COLUMN brand_id SET DEFAULT %s', a.attrelid::regclass, br.id)
FROM pg_attribute a CROSS JOIN billing.brand br
WHERE a.attrelid IN ('bench.floor_tax_line'::regclass, 'bench.floor_link'::regclass)
  AND a.attname = 'brand_id' AND NOT a.attisdropped \gexec

-- bench.copy_documents: the period's documents (as loaded into
-- billing.document, same ids) into the user-style tables (uninvoiced)
-- and the floor's
CREATE FUNCTION bench.copy_documents(first_day date, last_day date) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	TRUNCATE bench.plain_document, bench.plain_invoice, bench.plain_tax_line,
	         bench.loop_document, bench.loop_invoice, bench.loop_tax_line,
	         bench.floor_document, bench.floor_invoice, bench.floor_tax_line, bench.floor_link;
	INSERT INTO bench.plain_document (id, buyer_id, brand_id, kind, document_date, billable, amount,
	                                  tax_rate, reference, never_invoice, created_at)
	SELECT d.id, d.buyer_id, d.brand_id, d.kind, d.document_date, d.billable, d.amount,
	       d.tax_rate, d.reference, d.never_invoice, d.created_at
	FROM billing.document d
	WHERE d.document_date BETWEEN first_day AND last_day
	ORDER BY d.id;
	GET DIAGNOSTICS n = ROW_COUNT;
	INSERT INTO bench.loop_document SELECT * FROM bench.plain_document ORDER BY id;
	INSERT INTO bench.floor_document
	SELECT * FROM billing.document d
	WHERE d.document_date BETWEEN first_day AND last_day
	ORDER BY d.id;
	RETURN n;
END
$$;

-- bench.loop_issue: the same drafts row by row, as a naive implementation
-- would: for each buyer of the schedule, walk its uninvoiced documents of
-- the period one by one adding up per tax rate, insert the invoice and its
-- tax lines, then mark each document with an UPDATE of its own.  Bills the
-- first buyer_limit buyers by id; returns the number of invoices made.
CREATE FUNCTION bench.loop_issue(schedule_code text, first_day date, last_day date,
                                 buyer_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	b record;
	doc record;
	rates numeric[];
	nets numeric[];
	ids bigint[];
	pos integer;
	deposit numeric;
	purchases numeric;
	tax numeric;
	new_id bigint;
	doc_id bigint;
	made integer := 0;
BEGIN
	FOR b IN SELECT bu.id, bu.billing_balance
	         FROM billing.buyer bu JOIN billing.schedule s ON s.id = bu.schedule_id
	         WHERE s.code = loop_issue.schedule_code
	         ORDER BY bu.id LIMIT buyer_limit LOOP
		rates := '{}';
		nets := '{}';
		ids := '{}';
		deposit := 0;
		FOR doc IN SELECT d.id, d.kind, d.billable, d.never_invoice, d.amount, d.tax_rate
		           FROM bench.loop_document d
		           WHERE d.buyer_id = b.id AND d.invoice_id IS NULL
		             AND d.document_date BETWEEN first_day AND last_day LOOP
			CONTINUE WHEN doc.never_invoice OR (doc.kind = 'delivery_invoice' AND NOT doc.billable);
			ids := ids || doc.id;
			IF doc.kind = 'payment' THEN
				deposit := deposit + doc.amount;
				CONTINUE;
			END IF;
			pos := array_position(rates, doc.tax_rate);
			IF pos IS NULL THEN
				rates := rates || doc.tax_rate;
				nets := nets || 0::numeric;
				pos := cardinality(rates);
			END IF;
			nets[pos] := nets[pos] + CASE doc.kind WHEN 'delivery_invoice' THEN doc.amount ELSE -doc.amount END;
		END LOOP;
		CONTINUE WHEN cardinality(ids) = 0;
		purchases := 0;
		tax := 0;
		FOR i IN 1 .. cardinality(rates) LOOP
			purchases := purchases + nets[i];
			tax := tax + trunc(nets[i] * rates[i]);
		END LOOP;
		INSERT INTO bench.loop_invoice (buyer_id, period_start, period_end, previous_billed, deposit,
		                                carried_over, purchases, tax, total, document_count)
		VALUES (b.id, first_day, last_day, b.billing_balance, deposit, b.billing_balance - deposit,
		        purchases, tax, b.billing_balance - deposit + purchases + tax, cardinality(ids))
		RETURNING id INTO new_id;
		FOR i IN 1 .. cardinality(rates) LOOP
			INSERT INTO bench.loop_tax_line (invoice_id, tax_rate, taxable_amount, tax)
			VALUES (new_id, rates[i], nets[i], trunc(nets[i] * rates[i]));
		END LOOP;
		FOREACH doc_id IN ARRAY ids LOOP
			UPDATE bench.loop_document SET invoice_id = new_id WHERE id = doc_id;
		END LOOP;
		made := made + 1;
	END LOOP;
	RETURN made;
END
$$;

-- bench.prewarm: the tables and all their indexes into shared buffers (a
-- partitioned table's partitions, with theirs); returns the number of blocks
CREATE FUNCTION bench.prewarm(VARIADIC tables regclass[]) RETURNS bigint
LANGUAGE sql AS $$
	WITH leaf AS (
		SELECT p.relid FROM unnest(tables) AS t, pg_partition_tree(t) AS p WHERE p.isleaf
	)
	SELECT coalesce(sum(pg_prewarm(c.oid)), 0)::bigint
	FROM pg_class c
	WHERE c.oid IN (SELECT relid FROM leaf)
	   OR c.oid IN (SELECT i.indexrelid FROM pg_index i WHERE i.indrelid IN (SELECT relid FROM leaf))
$$;

-- bench.prewarm_run: what a run of the period reads or writes, and nothing
-- else: the buyers, the period's blocks of billing.document and its period
-- index, the links, invoices and tax lines with all their indexes.  (With
-- months of history, the whole of billing.document and its other indexes
-- would not fit in shared buffers with the rest, and the run does not use
-- them.)
CREATE FUNCTION bench.prewarm_run(first_day date, last_day date) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	lo bigint;
	hi bigint;
	n bigint;
BEGIN
	n := bench.prewarm('billing.buyer', 'billing.schedule', 'billing.brand', 'billing.invoice_run',
	                   'billing.document_link', 'billing.invoice', 'billing.invoice_tax_line',
	                   'billing.document_period_idx');
	SELECT min((d.ctid::text::point)[0])::bigint, max((d.ctid::text::point)[0])::bigint INTO lo, hi
	FROM billing.document d WHERE d.document_date BETWEEN first_day AND last_day;
	IF lo IS NOT NULL THEN
		n := n + pg_prewarm('billing.document', 'buffer', 'main', lo, hi);
	END IF;
	RETURN n;
END
$$;
