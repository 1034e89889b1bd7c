-- Roles and brand walls.  The DBA's recipe from README.md ("Roles"; in full, doc/security.md),
-- with regress_ names; two brands, WALLA and WALLB, each with an
-- administrator, an application and a reader.  Each role does what the
-- recipe promises and is refused everything else; then every role of each
-- brand tries every table, view and function with the other brand's ids
-- and codes, and each attempt must fail or show nothing, exactly as it
-- does for an id or code that does not exist.
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
-- run NOTICEs carry run ids, which depend on the suites before this one
SET client_min_messages = warning;

-- two brands with the same schedule code (EOM) and one code of their own
INSERT INTO brand (code, name) VALUES ('WALLA', 'Wall A KK'), ('WALLB', 'Wall B KK');
INSERT INTO schedule (brand_id, code, name, cycle)
SELECT b.id, v.code, v.code, 'monthly:eom'
FROM brand b, (VALUES ('EOM'), ('ONLY')) AS v(code) WHERE b.code IN ('WALLA', 'WALLB');
UPDATE schedule s SET code = 'ONLY-' || right(b.code, 1) FROM brand b
WHERE b.id = s.brand_id AND s.code = 'ONLY';
INSERT INTO bank_account (brand_id, code, bank_name, account_number, account_holder)
SELECT id, 'MAIN-' || right(code, 1), 'Bank', '1234567', name FROM brand WHERE code IN ('WALLA', 'WALLB');
INSERT INTO member (brand_id, code, name, email)
SELECT id, 'mem-' || lower(right(code, 1)), 'Member', 'm@' || lower(code) || '.example'
FROM brand WHERE code IN ('WALLA', 'WALLB');
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT b.id, right(b.code, 1) || g, 'Buyer ' || g, s.id, '2026-09-01 09:00'
FROM brand b JOIN schedule s ON s.brand_id = b.id AND s.code = 'EOM', generate_series(1, 3) AS g
WHERE b.code IN ('WALLA', 'WALLB');
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-10', 1000, 0.10, code || '-1' FROM buyer
WHERE brand_id IN (SELECT id FROM brand WHERE code IN ('WALLA', 'WALLB'));
SELECT rerun_invoice_run('EOM', notify => '{mem-a}', as_of => '2026-11-02 10:00+09', brand => 'WALLA') AS run_a \gset
SELECT rerun_invoice_run('EOM', notify => '{mem-b}', as_of => '2026-11-02 10:00+09', brand => 'WALLB') AS run_b \gset
-- each brand: X1's draft confirmed, X2's and X3's left as drafts
SELECT count(*) AS confirmed FROM confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM invoice i JOIN buyer b ON b.id = i.buyer_id JOIN brand br ON br.id = b.brand_id
	WHERE br.code IN ('WALLA', 'WALLB') AND b.code IN ('A1', 'B1')));

-- each brand's ids and codes as the setup made them (the walls test below
-- tries them on the other brand's roles), and stand-ins that do not exist
CREATE TEMP TABLE target AS
SELECT b.code AS brand, b.id::text AS bid,
       (SELECT min(i.id) FROM billing.invoice i WHERE i.brand_id = b.id AND i.status = 'draft')::text AS draft,
       (SELECT min(i.id) FROM billing.invoice i WHERE i.brand_id = b.id AND i.status = 'confirmed')::text AS confirmed,
       (SELECT min(r.id) FROM billing.invoice_run r WHERE r.brand_id = b.id)::text AS run,
       (SELECT min(u.id) FROM billing.buyer u WHERE u.brand_id = b.id)::text AS buyer,
       (SELECT min(d.id) FROM billing.document d WHERE d.brand_id = b.id)::text AS doc,
       (SELECT min(m.code) FROM billing.member m WHERE m.brand_id = b.id) AS member,
       (SELECT min(s.code) FROM billing.schedule s WHERE s.brand_id = b.id AND s.code LIKE 'ONLY-%') AS only_schedule,
       (SELECT min(s.id) FROM billing.schedule s WHERE s.brand_id = b.id)::text AS schedule
FROM billing.brand b WHERE b.code IN ('WALLA', 'WALLB');
CREATE TEMP TABLE fake AS
SELECT 'NOBRAND'::text AS brand, '999999991'::text AS bid, '999999992'::text AS draft, '999999993'::text AS confirmed,
       '999999994'::text AS run, '999999995'::text AS buyer, '999999996'::text AS doc, 'nobody'::text AS member,
       'NOSCHED'::text AS only_schedule, '999999997'::text AS schedule;

-- The recipe (README.md, "Roles"), as the DBA runs it
CREATE ROLE regress_billing_reader NOLOGIN;
CREATE ROLE regress_billing_app NOLOGIN IN ROLE regress_billing_reader;
CREATE ROLE regress_billing_admin NOLOGIN IN ROLE regress_billing_reader;
GRANT USAGE ON SCHEMA billing TO regress_billing_reader;
GRANT SELECT ON billing.brand, billing.schedule, billing.bank_account, billing.member,
	billing.buyer, billing.document, billing.invoice, billing.invoice_tax_line,
	billing.document_link, billing.invoice_run, billing.run_log, billing.notification,
	billing.uninvoiced_document, billing.invoice_list, billing.run_report, billing.document_status,
	billing.master_data_version TO regress_billing_reader;
GRANT EXECUTE ON FUNCTION billing.preview_run, billing.invoice_xml, billing.run_xml,
	billing.invoices_xml TO regress_billing_reader;
GRANT INSERT, UPDATE, DELETE ON billing.buyer, billing.document TO regress_billing_app;
GRANT USAGE ON SEQUENCE billing.buyer_id_seq, billing.document_id_seq TO regress_billing_app;
GRANT EXECUTE ON FUNCTION billing.confirm_invoices, billing.quarantine_invoices,
	billing.reject_invoices, billing.cancel_invoices, billing.delete_drafts TO regress_billing_app;
GRANT INSERT, UPDATE, DELETE ON billing.schedule, billing.buyer, billing.bank_account, billing.member
	TO regress_billing_admin;
GRANT USAGE ON SEQUENCE billing.schedule_id_seq, billing.buyer_id_seq, billing.bank_account_id_seq,
	billing.member_id_seq TO regress_billing_admin;
GRANT EXECUTE ON FUNCTION billing.rerun_invoice_run, billing.cancel_run, billing.cancel_invoices,
	billing.set_run_description, billing.disable_run, billing.enable_run, billing.process_run TO regress_billing_admin;
-- a role per brand, and the people and services of each brand
CREATE ROLE regress_walla NOLOGIN;
CREATE ROLE regress_wallb NOLOGIN;
SELECT billing.grant_brand('WALLA', 'regress_walla') AS granted;
SELECT billing.grant_brand('WALLB', 'regress_wallb') AS granted;
SELECT billing.grant_brand('WALLB', 'regress_wallb') AS granted_again;
CREATE ROLE regress_a_admin LOGIN IN ROLE regress_billing_admin, regress_walla;
CREATE ROLE regress_a_app LOGIN IN ROLE regress_billing_app, regress_walla;
CREATE ROLE regress_a_reader LOGIN IN ROLE regress_billing_reader, regress_walla;
CREATE ROLE regress_b_admin LOGIN IN ROLE regress_billing_admin, regress_wallb;
CREATE ROLE regress_b_app LOGIN IN ROLE regress_billing_app, regress_wallb;
CREATE ROLE regress_b_reader LOGIN IN ROLE regress_billing_reader, regress_wallb;

------------------------------------------------------------------------------
-- What the recipe promises
------------------------------------------------------------------------------

-- the application records buyers and documents and acts on its invoices
SET SESSION AUTHORIZATION regress_a_app;
INSERT INTO billing.buyer (brand_id, code, name, schedule_id)
SELECT b.id, 'A4', 'Buyer 4', s.id FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id AND s.code = 'EOM';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-11-05', 300, 0.10, 'A4-1' FROM billing.buyer WHERE code = 'A4';
UPDATE billing.document SET amount = 400 WHERE reference = 'A4-1';
UPDATE billing.buyer SET name = 'Buyer Four' WHERE code = 'A4';
SELECT i.id AS a2 FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.code = 'A2' \gset
SELECT i.id AS a3 FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.code = 'A3' \gset
SELECT status FROM billing.quarantine_invoices('check', VARIADIC ARRAY[:a2]::bigint[]);
-- a confirm moves the balance through the function, with no privilege on invoices
SELECT status, total FROM billing.confirm_invoices(VARIADIC ARRAY[:a2]::bigint[]);
SELECT status FROM billing.reject_invoices('wrong', VARIADIC ARRAY[:a3]::bigint[]);
SELECT status FROM billing.cancel_invoices(VARIADIC ARRAY[:a3]::bigint[]);
SELECT b.code, b.billing_balance, i.status FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id ORDER BY b.code, i.id;
RESET SESSION AUTHORIZATION;

-- the reader sees its brand, and only it
SET SESSION AUTHORIZATION regress_a_reader;
SELECT current_user, billing_internal.calling_role(), billing_internal.caller_brands() = ARRAY[(SELECT id FROM billing.brand WHERE code = 'WALLA')] AS own_brand;
SELECT code FROM billing.brand ORDER BY code;
SELECT code FROM billing.schedule ORDER BY code;
SELECT b.code, i.status, i.total FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id ORDER BY b.code;
SELECT count(*) AS tax_lines FROM billing.invoice_tax_line;
SELECT count(*) AS links FROM billing.document_link;
SELECT r.kind, r.status, r.invoice_count, r.requested_by FROM billing.invoice_run r;
SELECT count(*) AS log_lines FROM billing.run_log;
SELECT email FROM billing.notification;
SELECT count(*) AS uninvoiced FROM billing.uninvoiced_document;
SELECT grantee, (SELECT code FROM billing.brand b WHERE b.id = g.brand_id) AS brand FROM billing.brand_grant g;
SELECT buyer, documents, total FROM billing.preview_run('EOM', '2026-11-02 12:00+09');
RESET SESSION AUTHORIZATION;

-- the administrator keeps schedules, members, bank accounts, reruns and cancels
SET SESSION AUTHORIZATION regress_a_admin;
INSERT INTO billing.schedule (brand_id, code, name, cycle)
SELECT id, 'M20', 'the 20th', 'monthly:20' FROM billing.brand;
UPDATE billing.schedule SET description = 'month end' WHERE code = 'EOM';
INSERT INTO billing.member (brand_id, code, name, email) SELECT id, 'mem-a2', 'Member 2', 'm2@walla.example' FROM billing.brand;
INSERT INTO billing.bank_account (brand_id, code, bank_name, account_number, account_holder)
SELECT id, 'SUB', 'Bank', '7654321', 'Wall A KK' FROM billing.brand;
UPDATE billing.buyer SET default_bank_account_id = (SELECT id FROM billing.bank_account WHERE code = 'SUB') WHERE code = 'A4';
-- 'EOM' exists in both brands, but this role sees one: no "exists in 2 brands"
SELECT billing.rerun_invoice_run('EOM', notify => '{mem-a2}', as_of => '2026-11-06 10:00+09') AS rerun \gset
SELECT kind, status, invoice_count, document_count, requested_by FROM billing.invoice_run WHERE id = :rerun;
RESET SESSION AUTHORIZATION;
-- the application deletes the rerun's draft; the administrator cancels the run
SET SESSION AUTHORIZATION regress_a_app;
SELECT count(*) AS deleted FROM billing.delete_drafts(VARIADIC ARRAY(SELECT id FROM billing.invoice WHERE run_id = :rerun));
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_a_admin;
SELECT step FROM billing.cancel_run(:rerun);
SELECT email, subject FROM billing.notification WHERE run_id = :rerun;
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Everything else is refused
------------------------------------------------------------------------------

-- attempt(q): what a statement did, as a row: rows it returned or changed,
-- or the error it raised
CREATE FUNCTION public.attempt(q text, OUT n bigint, OUT state text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	GET DIAGNOSTICS n = ROW_COUNT;
	state := 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
	n := 0;
END
$$;

-- try(role, q): attempt q as role
CREATE FUNCTION pg_temp.try(role text, q text, OUT n bigint, OUT state text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('role', role, true);
	SELECT * INTO n, state, message FROM public.attempt(q);
	PERFORM set_config('role', 'none', true);
END
$$;

-- what no role of the recipe may do (each role of WALLA, on its own brand)
SELECT r AS role, t.n, a.state AS sqlstate, a.message
FROM unnest(ARRAY['regress_a_reader', 'regress_a_app', 'regress_a_admin']) AS r
CROSS JOIN unnest(ARRAY[
	format('SELECT billing_internal.finish_run(%s, false, %L, 0, 0, 0, 0, 0, 0)', :run_a, 'failed: forged'),
	format('SELECT billing_internal.run_invoice_run(%s)', :run_a),
	'SELECT billing_internal.issue_drafts_internal(now())',
	format('SELECT billing_internal.plan_rerun(%L, %L, now(), NULL, NULL)', 'EOM', '{}'),
	'SELECT billing_internal.plan_scheduled_runs(1, now())',
	format('SELECT billing_internal.start_run_worker(%s)', :run_a),
	format('SELECT billing_internal.lock_invoices(ARRAY[%s]::bigint[], ARRAY[%L], %L)', :a2, 'draft', 'x'),
	'SELECT * FROM billing_internal.preview_drafts(1, 1, ''2026-10-01'', ''2026-11-01'', now(), ''2026-10-31'', ''2026-10-31'')',
	'SELECT * FROM billing.issue_drafts()',
	'SELECT billing.cron_setup()',
	'SELECT billing.grant_brand(''WALLB'', current_user::regrole)',
	'SELECT billing.revoke_brand(''WALLA'', ''regress_walla'')',
	'INSERT INTO billing.brand_grant (grantee, brand_id) VALUES (current_user::regrole, 1)',
	'INSERT INTO billing.brand (code, name) VALUES (''MINE'', ''Mine'')',
	'UPDATE billing.invoice SET total = 0',
	'DELETE FROM billing.document_link',
	'UPDATE billing.invoice_run SET status = ''failed''',
	'SELECT * FROM billing.maintenance_log',
	'SET billing.maintenance = on',
	'SET billing.api_write = on'
	]) WITH ORDINALITY AS t(q, n)
CROSS JOIN LATERAL pg_temp.try(r, t.q) AS a
ORDER BY r, t.n;
-- and each role is refused what the recipe gives the others
SELECT v.r AS role, v.q AS query, a.state AS sqlstate, a.message
FROM (VALUES
	('regress_a_reader', 'SELECT billing.confirm_invoices(VARIADIC ARRAY[1]::bigint[])'),
	('regress_a_reader', 'INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) SELECT id, brand_id, ''payment'', ''2026-11-05'', 1, NULL, ''R-1'' FROM billing.buyer LIMIT 1'),
	('regress_a_reader', 'SELECT billing.rerun_invoice_run(''EOM'')'),
	('regress_a_app', 'SELECT billing.rerun_invoice_run(''EOM'')'),
	('regress_a_app', 'SELECT billing.cancel_run(1)'),
	('regress_a_app', 'UPDATE billing.schedule SET enabled = false'),
	('regress_a_app', 'INSERT INTO billing.member (brand_id, code, name, email) SELECT id, ''x'', ''x'', ''x@x.example'' FROM billing.brand'),
	('regress_a_admin', 'SELECT billing.confirm_invoices(VARIADIC ARRAY[1]::bigint[])'),
	('regress_a_admin', 'DELETE FROM billing.document'),
	('regress_a_app', 'UPDATE billing.buyer SET billing_balance = 0 WHERE code = ''A1''')) AS v(r, q)
CROSS JOIN LATERAL pg_temp.try(v.r, v.q) AS a;

------------------------------------------------------------------------------
-- Brands are walls: every role of each brand against the other's objects
------------------------------------------------------------------------------


-- the paths: :BRAND, :BID, :DRAFT, :CONFIRMED, :RUN, :BUYER, :DOC, :MEMBER,
-- :ONLY (a schedule code only the other brand has) and :SCHED (its id)
CREATE TEMP TABLE path (n serial, q text);
INSERT INTO path (q) VALUES
	-- every table and view
	('SELECT * FROM billing.brand WHERE id = :BID OR code = '':BRAND'''),
	('SELECT * FROM billing.schedule WHERE brand_id = :BID OR id = :SCHED OR code = '':ONLY'''),
	('SELECT * FROM billing.bank_account WHERE brand_id = :BID'),
	('SELECT * FROM billing.member WHERE brand_id = :BID OR code = '':MEMBER'''),
	('SELECT * FROM billing.buyer WHERE brand_id = :BID OR id = :BUYER'),
	('SELECT * FROM billing.document WHERE brand_id = :BID OR id = :DOC'),
	('SELECT * FROM billing.invoice WHERE brand_id = :BID OR id IN (:DRAFT, :CONFIRMED)'),
	('SELECT * FROM billing.invoice_tax_line WHERE invoice_id IN (:DRAFT, :CONFIRMED)'),
	('SELECT * FROM billing.document_link WHERE buyer_id = :BUYER OR invoice_id IN (:DRAFT, :CONFIRMED)'),
	('SELECT * FROM billing.invoice_run WHERE brand_id = :BID OR id = :RUN'),
	('SELECT * FROM billing.run_log WHERE run_id = :RUN'),
	('SELECT * FROM billing.notification WHERE run_id = :RUN'),
	('SELECT * FROM billing.uninvoiced_document WHERE brand_id = :BID'),
	('SELECT * FROM billing.brand_grant WHERE brand_id = :BID'),
	('SELECT * FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.brand_id = :BID'),
	('SELECT * FROM billing.invoice_list WHERE brand = '':BRAND'' OR invoice IN (:DRAFT, :CONFIRMED)'),
	('SELECT * FROM billing.run_report WHERE brand = '':BRAND'' OR run = :RUN'),
	('SELECT * FROM billing.document_status WHERE brand = '':BRAND'' OR document = :DOC'),
	('SELECT * FROM billing.master_data_version WHERE row_id IN (:BID, :BUYER)'),
	-- writes
	('UPDATE billing.buyer SET name = ''taken'' WHERE brand_id = :BID OR id = :BUYER'),
	('DELETE FROM billing.buyer WHERE id = :BUYER'),
	('UPDATE billing.document SET amount = 1 WHERE brand_id = :BID OR id = :DOC'),
	('DELETE FROM billing.document WHERE id = :DOC'),
	('UPDATE billing.schedule SET enabled = false WHERE brand_id = :BID OR id = :SCHED'),
	('DELETE FROM billing.member WHERE brand_id = :BID'),
	('UPDATE billing.bank_account SET account_number = ''0'' WHERE brand_id = :BID'),
	('INSERT INTO billing.buyer (brand_id, code, name) VALUES (:BID, ''X9'', ''taken'')'),
	('INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (:BUYER, :BID, ''payment'', ''2026-11-05'', 1, NULL, ''X-1'')'),
	('INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (:BID, ''X'', ''x'', ''daily'')'),
	('INSERT INTO billing.member (brand_id, code, name, email) VALUES (:BID, ''x'', ''x'', ''x@x.example'')'),
	('UPDATE billing.buyer SET brand_id = :BID WHERE code LIKE ''%4'''),
	('UPDATE billing.invoice SET status = ''cancelled'' WHERE brand_id = :BID OR id = :DRAFT'),
	('DELETE FROM billing.document_link WHERE buyer_id = :BUYER'),
	('UPDATE billing.invoice_run SET description = ''x'' WHERE id = :RUN'),
	-- functions
	('SELECT * FROM billing.confirm_invoices(VARIADIC ARRAY[:DRAFT]::bigint[])'),
	('SELECT * FROM billing.quarantine_invoices(''x'', VARIADIC ARRAY[:DRAFT]::bigint[])'),
	('SELECT * FROM billing.reject_invoices(''x'', VARIADIC ARRAY[:DRAFT]::bigint[])'),
	('SELECT * FROM billing.cancel_invoices(VARIADIC ARRAY[:DRAFT]::bigint[])'),
	('SELECT billing.delete_drafts(VARIADIC ARRAY[:DRAFT]::bigint[])'),
	('SELECT * FROM billing.cancel_invoices(VARIADIC ARRAY[:CONFIRMED]::bigint[])'),
	('SELECT * FROM billing.cancel_run(:RUN)'),
	('SELECT * FROM billing.cancel_run(:RUN, false)'),
	('SELECT billing.rerun_invoice_run('':ONLY'', as_of => ''2026-11-06 10:00+09'')'),
	('SELECT billing.rerun_invoice_run(''EOM'', as_of => ''2026-11-06 10:00+09'', brand => '':BRAND'')'),
	('SELECT billing.rerun_invoice_run('':ONLY'', background => true)'),
	('SELECT billing.rerun_invoice_run(''EOM'', notify => ''{:MEMBER}'', as_of => ''2026-11-06 10:00+09'')'),
	('SELECT billing.invoice_xml(:DRAFT)'),
	('SELECT billing.invoice_xml(:CONFIRMED)'),
	('SELECT * FROM billing.run_xml(:RUN)'),
	('SELECT * FROM billing.set_run_description(:RUN, ''taken'')'),
	('SELECT * FROM billing.disable_run(:RUN)'),
	('SELECT * FROM billing.enable_run(:RUN)'),
	('SELECT * FROM billing.process_run(:RUN)'),
	('SELECT * FROM billing.preview_run('':ONLY'', ''2026-11-06 10:00+09'')'),
	('SELECT * FROM billing.preview_run(''EOM'', ''2026-11-06 10:00+09'', '':BRAND'')'),
	('SELECT * FROM billing.issue_drafts(''2026-11-06 10:00+09'')'),
	('SELECT billing.grant_brand('':BRAND'', current_user::regrole)'),
	('SELECT billing.revoke_brand('':BRAND'', current_user::regrole)');

-- fill(q, t) puts a target's values in a path
CREATE FUNCTION pg_temp.fill(q text, t target) RETURNS text LANGUAGE sql AS $$
	SELECT replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(q,
		':BRAND', t.brand), ':BID', t.bid), ':DRAFT', t.draft), ':CONFIRMED', t.confirmed),
		':RUN', t.run), ':BUYER', t.buyer), ':DOC', t.doc), ':MEMBER', t.member),
		':ONLY', t.only_schedule), ':SCHED', t.schedule)
$$;
-- norm(m, t) names a target's codes in a message, and numbers as N, so
-- that the messages about the other brand and about the stand-ins compare
CREATE FUNCTION pg_temp.norm(m text, t target) RETURNS text LANGUAGE sql AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(coalesce(m, ''),
		'\m' || t.brand || '\M', '<brand>', 'g'), '\m' || t.member || '\M', '<member>', 'g'),
		'\m' || t.only_schedule || '\M', '<schedule>', 'g'), '\d+', 'N', 'g')
$$;

-- what the other brand holds, before
CREATE TEMP VIEW holdings AS
SELECT b.code AS brand,
       (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.schedule x WHERE x.brand_id = b.id)
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.member x WHERE x.brand_id = b.id)
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.bank_account x WHERE x.brand_id = b.id)
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.buyer x WHERE x.brand_id = b.id)
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.document x WHERE x.brand_id = b.id)
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.invoice x WHERE x.brand_id = b.id)
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.invoice_tax_line x
           WHERE x.buyer_id IN (SELECT id FROM billing.buyer WHERE brand_id = b.id))
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.document_link x
           WHERE x.buyer_id IN (SELECT id FROM billing.buyer WHERE brand_id = b.id))
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.invoice_run x WHERE x.brand_id = b.id)
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.run_log x
           WHERE x.run_id IN (SELECT id FROM billing.invoice_run WHERE brand_id = b.id))
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.notification x
           WHERE x.run_id IN (SELECT id FROM billing.invoice_run WHERE brand_id = b.id))
       || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM billing.brand_grant x WHERE x.brand_id = b.id)
       AS digest
FROM billing.brand b WHERE b.code IN ('WALLA', 'WALLB');
CREATE TEMP TABLE held_before AS SELECT * FROM holdings;

-- every path, by every role of each brand, against the other brand and
-- against the stand-ins: a leak is a path that showed or changed a row of
-- the other brand, or answered differently than for what does not exist
CREATE TEMP TABLE tried (role text, n int, state text, message text, rows bigint, leak boolean);
DO $$
DECLARE
	r record;
	p record;
	t target;
	f target := (SELECT x FROM fake x)::text::target;
	real record;
	stand_in record;
BEGIN
	FOR r IN SELECT * FROM (VALUES ('regress_a_reader', 'WALLB'), ('regress_a_app', 'WALLB'),
	                               ('regress_a_admin', 'WALLB'), ('regress_b_reader', 'WALLA'),
	                               ('regress_b_app', 'WALLA'), ('regress_b_admin', 'WALLA')) AS v(role, other)
	LOOP
		SELECT * INTO t FROM target WHERE brand = r.other;
		FOR p IN SELECT * FROM path ORDER BY n LOOP
			real := pg_temp.try(r.role, pg_temp.fill(p.q, t));
			stand_in := pg_temp.try(r.role, pg_temp.fill(p.q, f));
			INSERT INTO tried VALUES (r.role, p.n, real.state, real.message, real.n,
				real.n > 0 OR real.state IS DISTINCT FROM stand_in.state
				OR pg_temp.norm(real.message, t) IS DISTINCT FROM pg_temp.norm(stand_in.message, f));
		END LOOP;
	END LOOP;
END
$$;

SELECT count(*) || ' paths tried across brands, ' || count(*) FILTER (WHERE leak) || ' leaks' AS walls FROM tried;
-- any leak, in full
SELECT t.role, t.n, p.q, t.state, t.message, t.rows FROM tried t JOIN path p USING (n) WHERE t.leak ORDER BY 1, 2;
-- how the paths failed (the same way for WALLA's roles and WALLB's)
SELECT state, regexp_replace(message, '\d+', 'N', 'g') AS message, count(*) AS paths
FROM tried GROUP BY 1, 2 ORDER BY 1, 2;
-- the other brand's rows are as they were
SELECT h.brand, h.digest = b.digest AS unchanged FROM holdings h JOIN held_before b USING (brand) ORDER BY 1;

------------------------------------------------------------------------------
-- a revoked brand is gone at once; clean up
------------------------------------------------------------------------------
SELECT billing.revoke_brand('WALLA', 'regress_walla') AS revoked;
SET SESSION AUTHORIZATION regress_a_reader;
SELECT count(*) AS invoices_seen FROM billing.invoice;
SELECT * FROM err('SELECT billing.revoke_brand(''WALLA'', ''regress_walla'')');
RESET SESSION AUTHORIZATION;
SELECT billing.revoke_brand('WALLA', 'regress_walla') AS revoked_again;
SELECT billing.revoke_brand('WALLB', 'regress_wallb') AS revoked;
UPDATE schedule SET enabled = false WHERE brand_id IN (SELECT id FROM brand WHERE code IN ('WALLA', 'WALLB'));
DROP FUNCTION public.attempt(text);
DROP OWNED BY regress_billing_reader, regress_billing_app, regress_billing_admin;
DROP ROLE regress_a_admin, regress_a_app, regress_a_reader, regress_b_admin, regress_b_app, regress_b_reader,
	regress_walla, regress_wallb, regress_billing_admin, regress_billing_app, regress_billing_reader;
