-- Records only the API can change.  Every write to invoices, tax lines,
-- links, runs and run logs that does not come from the billing functions is
-- refused, for a superuser too (this suite runs as one), each with SQLSTATE
-- 42501, the record named and a hint; the rows stay as they were.  The
-- maintenance switch lets a superuser write, and logs each statement.
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
-- run NOTICEs carry run ids, which depend on the suites before this one
SET client_min_messages = warning;

INSERT INTO brand (code, name) VALUES ('REC', 'Records KK');
INSERT INTO schedule (brand_id, code, name, cycle)
SELECT id, 'R-EOM', 'month end', 'monthly:eom' FROM brand WHERE code = 'REC';
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT br.id, v.code, v.code, s.id, '2026-09-01 09:00'
FROM brand br JOIN schedule s ON s.brand_id = br.id, (VALUES ('R1'), ('R2')) AS v(code)
WHERE br.code = 'REC';
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2026-10-10', v.amount, v.rate, b.code || '-' || v.n
FROM buyer b, (VALUES (1, 1000, 0.10), (2, 500, 0.08)) AS v(n, amount, rate)
WHERE b.code IN ('R1', 'R2');
SELECT rerun_invoice_run('R-EOM', as_of => '2026-11-02 10:00+09') AS run \gset

-- R1's draft is confirmed (balance 1000 + 100 + 500 + 40 = 1640), R2's stays a draft
CREATE TEMP VIEW tax_lines AS SELECT * FROM invoice_tax_line;
CREATE TEMP VIEW links AS SELECT * FROM document_link;
CREATE TEMP VIEW rec AS
SELECT b.code AS buyer, i.status, i.purchases, i.tax, i.total, b.billing_balance,
       (SELECT count(*) FROM tax_lines t WHERE t.buyer_id = i.buyer_id AND t.invoice_id = i.id) AS tax_lines,
       (SELECT count(*) FROM links l WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id) AS links
FROM invoice i JOIN buyer b ON b.id = i.buyer_id
WHERE b.code IN ('R1', 'R2');
SELECT i.id AS r1 FROM invoice i JOIN buyer b ON b.id = i.buyer_id WHERE b.code = 'R1' \gset
SELECT i.id AS r2 FROM invoice i JOIN buyer b ON b.id = i.buyer_id WHERE b.code = 'R2' \gset
SELECT status FROM confirm_invoices(VARIADIC ARRAY[:r1]::bigint[]) AS c;
SELECT * FROM rec ORDER BY buyer;
CREATE TEMP TABLE before AS SELECT * FROM rec;

-- ids depend on the suites before this one: messages show them by name
SELECT min(l.document_id) AS d1 FROM document_link l WHERE l.invoice_id = :r1 \gset
SELECT min(l.document_id) AS d2 FROM document_link l WHERE l.invoice_id = :r2 \gset
SELECT min(id) AS log1 FROM run_log WHERE run_id = :run \gset
CREATE TEMP TABLE ids AS SELECT :r1::text AS r1, :r2::text AS r2, :d1::text AS d1, :d2::text AS d2,
                                 :run::text AS run, :log1::text AS log1;
CREATE FUNCTION pg_temp.named(m text) RETURNS text LANGUAGE sql AS $$
	SELECT replace(replace(replace(replace(replace(replace(m,
		'invoice ' || r1, 'invoice <R1>'), 'invoice ' || r2, 'invoice <R2>'),
		'document ' || d1, 'document <R1-1>'), 'document ' || d2, 'document <R2-1>'),
		'run ' || run, 'run <run>'), 'log line ' || log1, 'log line <log>')
	FROM ids
$$;

-- every path of the issue, and more, as a superuser
SELECT n, e.state AS sqlstate, pg_temp.named(e.message) AS message, e.hint
FROM unnest(ARRAY[
	-- draft amounts
	format($q$UPDATE billing.invoice SET purchases = purchases + 100, tax = tax + 10, total = total + 110 WHERE status = 'draft' AND id = %s$q$, :r2),
	-- a confirmed invoice's amounts
	format($q$UPDATE billing.invoice SET total = total - 1000, purchases = purchases - 1000 WHERE id = %s$q$, :r1),
	-- a tax line
	format($q$UPDATE billing.invoice_tax_line SET tax = tax + 1 WHERE invoice_id = %s AND tax_rate = 0.10$q$, :r2),
	-- a link moved to another invoice
	format($q$UPDATE billing.document_link SET invoice_id = %s WHERE invoice_id = %s$q$, :r2, :r1),
	-- a confirmed invoice back to draft (then delete_drafts and a rerun would bill it twice)
	format($q$UPDATE billing.invoice SET status = 'draft' WHERE id = %s$q$, :r1),
	-- a draft confirmed without its balance
	format($q$UPDATE billing.invoice SET status = 'confirmed' WHERE id = %s$q$, :r2),
	-- plain deletes
	format($q$DELETE FROM billing.invoice WHERE id = %s$q$, :r1),
	format($q$DELETE FROM billing.invoice WHERE id = %s$q$, :r2),
	format($q$DELETE FROM billing.document_link WHERE invoice_id = %s$q$, :r1),
	format($q$DELETE FROM billing.invoice_tax_line WHERE invoice_id = %s AND tax_rate = 0.08$q$, :r2),
	-- forged rows
	format($q$INSERT INTO billing.document_link SELECT buyer_id, document_id + 1000, invoice_id FROM billing.document_link WHERE invoice_id = %s$q$, :r2),
	format($q$INSERT INTO billing.invoice SELECT * FROM billing.invoice WHERE id = %s$q$, :r2),
	format($q$COPY billing.run_log (run_id, level, message) FROM PROGRAM 'echo %s	info	forged'$q$, :run),
	-- truncates
	$q$TRUNCATE billing.document_link$q$,
	$q$TRUNCATE billing.invoice, billing.invoice_tax_line, billing.document_link$q$,
	$q$TRUNCATE billing.document$q$,
	$q$TRUNCATE billing.schedule CASCADE$q$,
	-- runs and their logs
	format($q$UPDATE billing.invoice_run SET status = 'failed', error = 'forged' WHERE id = %s$q$, :run),
	format($q$DELETE FROM billing.run_log WHERE run_id = %s$q$, :run),
	format($q$UPDATE billing.run_log SET message = 'forged' WHERE run_id = %s$q$, :run),
	-- a balance out of step with the confirmed invoices
	$q$UPDATE billing.buyer SET billing_balance = 0 WHERE code = 'R1'$q$,
	-- the switch the functions use, from a session
	$q$SET billing.api_write = on$q$,
	$q$SELECT set_config('billing.api_write', 'on', true)$q$,
	-- under the name of a Citus node's connection, which on Citus may pass
	-- the API's setting on to a shard (src/guard.c): no Citus here
	$q$DO $$ BEGIN SET LOCAL application_name = 'citus_internal gpid=1'; SET LOCAL billing.api_write = on; END $$$q$,
	format($q$DO $$ BEGIN PERFORM set_config('billing.api_write', 'on', true); UPDATE billing.invoice SET tax = 0 WHERE id = %s; END $$$q$, :r2)
	]) WITH ORDINALITY AS t(q, n), err(q) AS e
ORDER BY n;

-- nothing moved
SELECT (SELECT string_agg(r::text, ' ' ORDER BY r.buyer) FROM rec r)
     = (SELECT string_agg(b::text, ' ' ORDER BY b.buyer) FROM before b) AS unchanged;
SELECT count(*) AS run_logs FROM run_log WHERE run_id = :run;
SELECT status, error FROM invoice_run WHERE id = :run;

-- the double billing the issue showed cannot happen: R1's invoice stays
-- confirmed, delete_drafts refuses it, and a rerun finds nothing to bill
SELECT state, pg_temp.named(message) AS message, detail, hint FROM err(format('SELECT billing.delete_drafts(%s)', :r1));
-- nothing to re-run: no run is made (NULL, and no row)
SELECT rerun_invoice_run('R-EOM', as_of => '2026-11-02 11:00+09') IS NULL AS nothing_to_rerun;
SELECT count(*) AS runs FROM invoice_run r JOIN schedule s ON s.id = r.schedule_id
WHERE s.code = 'R-EOM' AND r.kind = 'rerun';
SELECT * FROM rec ORDER BY buyer;

-- the API still does all it did: R2's draft deleted with its tax line and
-- links (functions set billing.api_write for their own call only), with
-- parallel plans forced: a parallel worker takes the setting from its leader
SET force_parallel_mode = on;
SELECT count(*) AS deleted FROM delete_drafts(VARIADIC ARRAY[:r2]::bigint[]);
RESET force_parallel_mode;
SELECT * FROM rec ORDER BY buyer;
SELECT current_setting('billing.api_write') AS api_write_after_call;

-- the maintenance switch: a superuser's repair, each statement logged (the
-- log holds every suite's repairs: this suite's are those from now on)
SELECT coalesce(max(logged_at), '-infinity') AS log_before FROM maintenance_log \gset
SET billing.maintenance = on;
UPDATE billing.invoice SET due_date = '2026-12-31' WHERE id = :r1;
UPDATE billing.run_log SET message = message || ' (annotated)' WHERE run_id = :run;
RESET billing.maintenance;
SELECT due_date FROM invoice WHERE id = :r1;
SELECT session_role, role_name, table_name, operation, regexp_replace(query, '= \d+', '= N') AS query
FROM maintenance_log WHERE logged_at > :'log_before' ORDER BY logged_at;
-- and the log itself is append-only
SELECT * FROM err('DELETE FROM billing.maintenance_log');
SELECT * FROM err('TRUNCATE billing.maintenance_log');
SELECT count(*) AS maintenance_log_rows FROM maintenance_log WHERE logged_at > :'log_before';

-- the next suites do not bill this brand
UPDATE schedule SET enabled = false WHERE code = 'R-EOM';
