-- test/bench/issue_setup.sql: data and comparators for the issue benchmark.
-- psql variables: buyers, docs (documents per monthly period).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS bench;

INSERT INTO billing.brand (code, name) VALUES ('BENCH', 'Bench KK');
INSERT INTO billing.schedule (brand_id, code, name, cycle)
SELECT id, 'M_EOM', 'month end', 'monthly:eom' FROM billing.brand WHERE code = 'BENCH';
-- applied after September's issue moment: only October is due on 11-01
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT br.id, 'B' || g, 'Buyer ' || g, s.id, '2026-10-05 09:00+09'
FROM billing.brand br JOIN billing.schedule s ON s.brand_id = br.id, generate_series(1, :buyers) AS g
WHERE br.code = 'BENCH';

-- bench.month_documents: a month of documents for every buyer: 80%
-- deliveries (10% and 8% tax), 8% returns, 4% credit notes, 8% payments
CREATE FUNCTION bench.month_documents(first_day date, n integer, buyers integer, tag text)
RETURNS TABLE (buyer_id bigint, brand_id bigint, kind text, document_date date, amount numeric,
               tax_rate numeric, reference text)
LANGUAGE sql AS $$
	SELECT b0.first_buyer + g % buyers, b0.brand_id,
	       CASE WHEN h < 8 THEN 'payment' WHEN h < 12 THEN 'credit_note'
	            WHEN h < 20 THEN 'return_note' ELSE 'delivery_invoice' END,
	       first_day + (g % 28),
	       (100 + (g::bigint * 7919) % 90000)::numeric,
	       CASE WHEN h < 8 THEN NULL WHEN h % 2 = 0 THEN 0.10 ELSE 0.08 END,
	       tag || '-' || g
	FROM (SELECT min(b.id) AS first_buyer, min(b.brand_id) AS brand_id FROM billing.buyer b) AS b0,
	     generate_series(0, n - 1) AS g,
	     -- a scrambled 0..99 per document, so each buyer gets a mix of kinds and rates
	     LATERAL (SELECT ((g::bigint * 2654435761) % 1000003) % 100 AS h) AS mix
$$;

INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT * FROM bench.month_documents('2026-10-01', :docs, :buyers, 'OCT');

-- the user-style tables: documents carry invoice_id, with a partial index
-- over the uninvoiced ones (the design most users would write)
CREATE TABLE bench.plain_document (
	id bigint PRIMARY KEY, buyer_id bigint NOT NULL, kind text NOT NULL, document_date date NOT NULL,
	billable boolean NOT NULL, amount numeric NOT NULL, tax_rate numeric, invoice_id bigint);
CREATE INDEX ON bench.plain_document (document_date);
CREATE INDEX ON bench.plain_document (buyer_id);
CREATE INDEX plain_document_uninvoiced ON bench.plain_document (document_date) WHERE invoice_id IS NULL;
CREATE TABLE bench.plain_invoice (
	id bigserial PRIMARY KEY, buyer_id bigint NOT NULL, period_start date, period_end date,
	previous_billed numeric, deposit numeric, purchases numeric, tax numeric, total numeric, documents integer);
CREATE TABLE bench.plain_tax_line (invoice_id bigint, tax_rate numeric, taxable_amount numeric, tax numeric,
	PRIMARY KEY (invoice_id, tax_rate));
INSERT INTO bench.plain_document
SELECT id, buyer_id, kind, document_date, billable, amount, tax_rate, NULL FROM billing.document;
CREATE TABLE bench.loop_document (LIKE bench.plain_document INCLUDING ALL);
CREATE TABLE bench.loop_invoice (LIKE bench.plain_invoice INCLUDING ALL);
CREATE TABLE bench.loop_tax_line (LIKE bench.plain_tax_line INCLUDING ALL);
INSERT INTO bench.loop_document SELECT * FROM bench.plain_document;

-- bench.plain_issue: the drafts by hand, set-based: INSERT ... SELECT ...
-- GROUP BY, the tax lines, then UPDATE document SET invoice_id
CREATE FUNCTION bench.plain_issue(first_day date, last_day date) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	CREATE TEMP TABLE per_rate ON COMMIT DROP AS
	SELECT d.buyer_id, d.tax_rate,
	       sum(CASE d.kind WHEN 'delivery_invoice' THEN d.amount WHEN 'payment' THEN 0 ELSE -d.amount END) AS net,
	       sum(CASE WHEN d.kind = 'payment' THEN d.amount ELSE 0 END) AS deposit,
	       count(*) AS documents
	FROM bench.plain_document d
	WHERE d.invoice_id IS NULL AND d.document_date BETWEEN first_day AND last_day
	  AND (d.billable OR d.kind <> 'delivery_invoice')
	GROUP BY d.buyer_id, d.tax_rate;
	INSERT INTO bench.plain_invoice (buyer_id, period_start, period_end, previous_billed, deposit,
	                                 purchases, tax, total, documents)
	SELECT r.buyer_id, first_day, last_day, b.billing_balance, sum(r.deposit), sum(r.net),
	       sum(trunc(r.net * coalesce(r.tax_rate, 0))),
	       b.billing_balance - sum(r.deposit) + sum(r.net) + sum(trunc(r.net * coalesce(r.tax_rate, 0))),
	       sum(r.documents)
	FROM per_rate r JOIN billing.buyer b ON b.id = r.buyer_id
	GROUP BY r.buyer_id, b.billing_balance;
	INSERT INTO bench.plain_tax_line
	SELECT i.id, r.tax_rate, r.net, trunc(r.net * r.tax_rate)
	FROM per_rate r JOIN bench.plain_invoice i ON i.buyer_id = r.buyer_id AND i.period_start = first_day
	WHERE r.tax_rate IS NOT NULL;
	UPDATE bench.plain_document d SET invoice_id = i.id
	FROM bench.plain_invoice i
	WHERE i.buyer_id = d.buyer_id AND i.period_start = first_day
	  AND d.invoice_id IS NULL AND d.document_date BETWEEN first_day AND last_day
	  AND (d.billable OR d.kind <> 'delivery_invoice');
END
$$;

-- bench.loop_issue: the drafts row by row, the naive way: for each buyer,
-- walk its documents, add up, insert the invoice, then mark each document
CREATE FUNCTION bench.loop_issue(first_day date, last_day date, buyer_limit integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	b record;
	doc record;
	rates numeric[];
	nets numeric[];
	pos integer;
	deposit numeric;
	documents integer;
	tax numeric;
	purchases numeric;
	new_id bigint;
BEGIN
	FOR b IN SELECT id, billing_balance FROM billing.buyer ORDER BY id LIMIT buyer_limit LOOP
		rates := '{}'; nets := '{}'; deposit := 0; documents := 0;
		FOR doc IN SELECT * FROM bench.loop_document d
		           WHERE d.buyer_id = b.id AND d.invoice_id IS NULL
		             AND d.document_date BETWEEN first_day AND last_day LOOP
			CONTINUE WHEN doc.kind = 'delivery_invoice' AND NOT doc.billable;
			documents := documents + 1;
			IF doc.kind = 'payment' THEN
				deposit := deposit + doc.amount;
				CONTINUE;
			END IF;
			pos := array_position(rates, doc.tax_rate);
			IF pos IS NULL THEN
				rates := rates || doc.tax_rate;
				nets := nets || 0::numeric;
				pos := array_length(rates, 1);
			END IF;
			nets[pos] := nets[pos] + CASE doc.kind WHEN 'delivery_invoice' THEN doc.amount ELSE -doc.amount END;
		END LOOP;
		CONTINUE WHEN documents = 0;
		tax := 0; purchases := 0;
		FOR i IN 1 .. coalesce(array_length(rates, 1), 0) LOOP
			tax := tax + trunc(nets[i] * rates[i]);
			purchases := purchases + nets[i];
		END LOOP;
		INSERT INTO bench.loop_invoice (buyer_id, period_start, period_end, previous_billed, deposit,
		                                purchases, tax, total, documents)
		VALUES (b.id, first_day, last_day, b.billing_balance, deposit, purchases, tax,
		        b.billing_balance - deposit + purchases + tax, documents)
		RETURNING id INTO new_id;
		FOR i IN 1 .. coalesce(array_length(rates, 1), 0) LOOP
			INSERT INTO bench.loop_tax_line VALUES (new_id, rates[i], nets[i], trunc(nets[i] * rates[i]));
		END LOOP;
		FOR doc IN SELECT d.id FROM bench.loop_document d
		           WHERE d.buyer_id = b.id AND d.invoice_id IS NULL
		             AND d.document_date BETWEEN first_day AND last_day
		             AND (d.billable OR d.kind <> 'delivery_invoice') LOOP
			UPDATE bench.loop_document SET invoice_id = new_id WHERE id = doc.id;
		END LOOP;
	END LOOP;
END
$$;
VACUUM ANALYZE;
