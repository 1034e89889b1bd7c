-- Every role can do what the recipe promises (issue 11, item 7): the
-- positive side of the roles suite.  The DBA's recipe from README.md
-- ("Roles"), with regress_mx_ names, on one brand MX with master data
-- complete enough for the XML.  Each recipe role calls every function it
-- may execute and reads every table and view it may select, on its own
-- brand's rows, and each must succeed.  The list of what a role may do is
-- read from the catalog (has_function_privilege, has_table_privilege), so a
-- function newly granted, or newly executable by PUBLIC, without a call
-- below fails this suite.
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
SET client_min_messages = warning;

-- the brand, its master data, a schedule with a member to notify, three
-- buyers with one delivery each; a rerun makes three drafts, one confirmed,
-- a second (empty) rerun is disabled, and one more delivery is left to bill
INSERT INTO billing.brand (code, name, legal_name, registration_number, postal_code, prefecture, city,
                           address_line, peppol_scheme, peppol_id)
VALUES ('MX', 'Matrix', 'マトリクス株式会社', 'T3010401000009', '1000005', '東京都', '千代田区',
        '丸の内1-1-1', '0188', '3010401000009');
INSERT INTO billing.schedule (brand_id, code, name, cycle) SELECT id, 'MXEOM', 'month end', 'monthly:eom'
FROM billing.brand WHERE code = 'MX';
INSERT INTO billing.member (brand_id, code, name, email) SELECT id, 'mx-mem', 'Member', 'm@mx.example'
FROM billing.brand WHERE code = 'MX';
INSERT INTO billing.bank_account (brand_id, code, bank_name, account_number, account_holder)
SELECT id, 'MX-MAIN', 'Bank', '1234567', 'Matrix' FROM billing.brand WHERE code = 'MX';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id,
                           postal_code, prefecture, city, address_line, peppol_scheme, peppol_id)
SELECT b.id, 'MX' || g, 'Buyer ' || g, s.id, '2026-09-01 09:00', a.id,
       '9800811', '宮城県', '仙台市青葉区', '一番町1-1', '0188', '112000100000' || g
FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id
JOIN billing.bank_account a ON a.brand_id = b.id, generate_series(1, 3) AS g
WHERE b.code = 'MX';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-10', 1000, 0.10, code || '-1' FROM billing.buyer
WHERE brand_id = (SELECT id FROM billing.brand WHERE code = 'MX');
SELECT billing.rerun_invoice_run('MXEOM', notify => '{mx-mem}', as_of => '2026-11-02 10:00+09', brand => 'MX') AS run \gset
SELECT count(*) AS confirmed FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.code = 'MX1'));
SELECT min(i.id) AS confirmed FROM billing.invoice i WHERE i.run_id = :run AND i.status = 'confirmed' \gset
SELECT min(i.id) AS draft FROM billing.invoice i WHERE i.run_id = :run AND i.status = 'draft' \gset
-- (a rerun with nothing to bill makes no run: this one has a delivery)
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-12', 200, 0.10, code || '-0' FROM billing.buyer
WHERE code = 'MX2';
SELECT billing.rerun_invoice_run('MXEOM', as_of => '2026-11-02 11:00+09', brand => 'MX') AS disabled_run \gset
SELECT step FROM billing.disable_run(:disabled_run);
-- a delivery recorded after the runs: still to bill (and in the preview)
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-20', 500, 0.08, code || '-2' FROM billing.buyer
WHERE code = 'MX3';
-- a renamed buyer keeps the version its confirmed invoice printed
UPDATE billing.buyer SET name = 'Buyer One' WHERE code = 'MX1';
-- its confirmed invoice is mailed (queued: no mailer runs here)
UPDATE billing.buyer SET invoice_email = 'mx1@buyer.example' WHERE code = 'MX1';
SELECT buyer, email, outcome FROM billing.mail_invoices(:run);
-- the ids the calls below name (:run, :draft, ... in their text)
CREATE TEMP TABLE mx AS
SELECT :run::text AS run, :confirmed::text AS confirmed, :draft::text AS draft,
       :disabled_run::text AS disabled_run, (SELECT id FROM billing.schedule WHERE code = 'MXEOM')::text AS schedule;

-- The recipe (README.md, "Roles"), as the DBA runs it
CREATE ROLE regress_mx_reader NOLOGIN;
CREATE ROLE regress_mx_app NOLOGIN IN ROLE regress_mx_reader;
CREATE ROLE regress_mx_admin NOLOGIN IN ROLE regress_mx_reader;
GRANT USAGE ON SCHEMA billing TO regress_mx_reader;
GRANT SELECT ON billing.brand, billing.schedule, billing.bank_account, billing.member,
	billing.buyer, billing.document, billing.invoice, billing.invoice_series, billing.invoice_tax_line,
	billing.document_link, billing.invoice_run, billing.run_log, billing.notification,
	billing.uninvoiced_document, billing.invoice_list, billing.run_report, billing.document_status,
	billing.master_data_version, billing.health, billing.invoice_mail TO regress_mx_reader;
GRANT EXECUTE ON FUNCTION billing.preview_run, billing.invoice_xml, billing.run_xml,
	billing.invoices_xml, billing.invoice_pdf, billing.run_pdf, billing.assert_healthy,
	billing.dead_runs, billing_internal.health_cron TO regress_mx_reader;
GRANT INSERT, UPDATE, DELETE ON billing.buyer, billing.document TO regress_mx_app;
GRANT USAGE ON SEQUENCE billing.buyer_id_seq, billing.document_id_seq TO regress_mx_app;
GRANT EXECUTE ON FUNCTION billing.confirm_invoices, billing.quarantine_invoices,
	billing.reject_invoices, billing.cancel_invoices, billing.delete_drafts, billing.mail_invoices TO regress_mx_app;
GRANT INSERT, UPDATE, DELETE ON billing.schedule, billing.buyer, billing.bank_account, billing.member
	TO regress_mx_admin;
GRANT USAGE ON SEQUENCE billing.schedule_id_seq, billing.buyer_id_seq, billing.bank_account_id_seq,
	billing.member_id_seq TO regress_mx_admin;
GRANT EXECUTE ON FUNCTION billing.rerun_invoice_run, billing.cancel_run, billing.cancel_invoices,
	billing.set_run_description, billing.disable_run, billing.enable_run, billing.process_run TO regress_mx_admin;
CREATE ROLE regress_mx NOLOGIN;
SELECT billing.grant_brand('MX', 'regress_mx') AS granted;
CREATE ROLE regress_mx_app_login LOGIN IN ROLE regress_mx_app, regress_mx;
CREATE ROLE regress_mx_admin_login LOGIN IN ROLE regress_mx_admin, regress_mx;
CREATE ROLE regress_mx_reader_login LOGIN IN ROLE regress_mx_reader, regress_mx;

-- one call per function, on the brand's own rows.  Functions that take
-- `internal` (binary receive) are not callable from SQL, and trigger
-- functions fire from the writes; neither is listed.
CREATE TEMP TABLE call (fn regprocedure PRIMARY KEY, q text NOT NULL);
-- assert_healthy raises 55000 while the brand has problems: either outcome is a call that went through
CREATE FUNCTION pg_temp.try_assert_healthy() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM billing.assert_healthy();
	RETURN 'healthy';
EXCEPTION WHEN SQLSTATE '55000' THEN
	RETURN 'problems';
END
$$;
-- every insert calls next_id (the id columns' default) with nextval()'s
-- rights on the sequence: here one every role may use
CREATE TEMP SEQUENCE mx_ids;
GRANT USAGE ON SEQUENCE mx_ids TO PUBLIC;
INSERT INTO call VALUES
	('billing_internal.next_id(regclass)', $$SELECT billing_internal.next_id('pg_temp.mx_ids') > 0$$),
	-- the API of the recipe
	('billing.assert_healthy(text)', $$SELECT pg_temp.try_assert_healthy()$$),
	('billing.dead_runs()', $$SELECT count(*) FROM billing.dead_runs()$$),
	('billing_internal.health_cron()', $$SELECT count(*) FROM billing_internal.health_cron()$$),
	('billing.preview_run(text,timestamptz,text,date)', $$SELECT * FROM billing.preview_run('MXEOM', '2026-11-02 12:00+09', period => '2026-10-31')$$),
	('billing.invoice_xml(bigint)', $$SELECT billing.invoice_xml(:confirmed)$$),
	('billing.run_xml(bigint)', $$SELECT * FROM billing.run_xml(:run)$$),
	('billing.invoices_xml(bigint[])', $$SELECT * FROM billing.invoices_xml(VARIADIC ARRAY[:confirmed, :draft]::bigint[])$$),
	('billing.invoice_pdf(bigint)', $$SELECT length(billing.invoice_pdf(:confirmed))$$),
	('billing.run_pdf(bigint)', $$SELECT invoice_id, length(pdf) FROM billing.run_pdf(:run)$$),
	('billing.mail_invoices(bigint)', $$SELECT * FROM billing.mail_invoices(:run)$$),
	('billing.confirm_invoices(bigint[])', $$SELECT * FROM billing.confirm_invoices(VARIADIC ARRAY[:draft]::bigint[])$$),
	('billing.quarantine_invoices(text,bigint[])', $$SELECT * FROM billing.quarantine_invoices('check', VARIADIC ARRAY[:draft]::bigint[])$$),
	('billing.reject_invoices(text,bigint[])', $$SELECT * FROM billing.reject_invoices('wrong', VARIADIC ARRAY[:draft]::bigint[])$$),
	('billing.cancel_invoices(bigint[])', $$SELECT * FROM billing.cancel_invoices(VARIADIC ARRAY[:draft]::bigint[])$$),
	('billing.delete_drafts(bigint[])', $$SELECT billing.delete_drafts(VARIADIC ARRAY[:draft]::bigint[])$$),
	('billing.rerun_invoice_run(text,timestamptz,text,date,text[],boolean,boolean,boolean)', $$SELECT billing.rerun_invoice_run('MXEOM', notify => '{mx-mem}', as_of => '2026-11-02 12:00+09', period => '2026-10-15')$$),
	('billing.cancel_run(bigint,boolean)', $$SELECT * FROM billing.cancel_run(:disabled_run)$$),
	('billing.set_run_description(bigint,text)', $$SELECT * FROM billing.set_run_description(:run, 'October')$$),
	('billing.disable_run(bigint)', $$SELECT * FROM billing.disable_run(:run)$$),
	('billing.enable_run(bigint)', $$SELECT * FROM billing.enable_run(:disabled_run)$$),
	('billing.process_run(bigint)', $$SELECT * FROM billing.process_run(:run)$$),
	-- what every role may call: the caller, the calendar, the types
	('billing_internal.caller_brands()', $$SELECT billing_internal.caller_brands()$$),
	('billing_internal.visible_brands()', $$SELECT billing_internal.visible_brands()$$),
	('billing_internal.role_brands(oid)', $$SELECT billing_internal.role_brands(billing_internal.calling_role()::oid)$$),
	('billing_internal.pdf_mailed()', $$SELECT count(*) FROM billing_internal.pdf_mailed()$$),
	('billing_internal.calling_role()', $$SELECT billing_internal.calling_role()$$),
	('billing_internal.run_phases()', $$SELECT * FROM billing_internal.run_phases()$$),
	('billing_internal.uninvoiced_documents(bigint)', $$SELECT * FROM billing_internal.uninvoiced_documents(0)$$),
	('billing.fail_dead_runs()', $$SELECT billing.fail_dead_runs()$$),
	('billing.cutoff_on_or_after(billing.cycle,date)', $$SELECT billing.cutoff_on_or_after('monthly:eom', '2026-10-10')$$),
	('billing.cutoffs(billing.cycle,date,date)', $$SELECT * FROM billing.cutoffs('monthly:eom', '2026-01-01', '2026-12-31')$$),
	('billing.period_of(billing.cycle,date)', $$SELECT billing.period_of('monthly:eom', '2026-10-10')$$),
	('billing.last_closed_period(billing.cycle,date)', $$SELECT billing.last_closed_period('monthly:eom', '2026-11-02')$$),
	('billing.due_date(billing.due_rule,date,date)', $$SELECT billing.due_date('month+1:eom', '2026-10-31', '2026-10-31')$$),
	('billing.due_rule_fits(billing.cycle,billing.due_rule)', $$SELECT billing.due_rule_fits('monthly:eom', 'month+1:eom')$$),
	('billing_internal.require_due_rule_fits(billing.cycle,billing.due_rule)', $$SELECT billing_internal.require_due_rule_fits('monthly:eom', 'month+1:eom')$$),
	('billing_internal.check_document(text,numeric,numeric)', $$SELECT billing_internal.check_document('delivery_invoice', 1000, 0.10)$$),
	('billing_internal.check_finite(numeric,text,text)', $$SELECT billing_internal.check_finite(1000, 'amount', 'document')$$),
	('billing_internal.check_issue_delay(interval,text)', $$SELECT billing_internal.check_issue_delay('5 minutes', 'MXEOM')$$),
	('billing_internal.check_document_limits(text,date,numeric,numeric)', $$SELECT billing_internal.check_document_limits('MX-D1', '2026-10-10', 1000, 0.10)$$),
	('billing_internal.check_amount_limit(numeric,text,text)', $$SELECT billing_internal.check_amount_limit(1000, 'billing balance of buyer', 'MX1')$$),
	('billing_internal.check_length(text,integer,text)', $$SELECT billing_internal.check_length('MX1', 64, 'buyer code')$$),
	('billing_internal.check_time_zone(text)', $$SELECT billing_internal.check_time_zone('Asia/Tokyo')$$),
	('billing_internal.cycle_in(cstring)', $$SELECT billing_internal.cycle_in('weekly:mon')$$),
	('billing_internal.cycle_out(billing.cycle)', $$SELECT billing_internal.cycle_out('weekly:mon')$$),
	('billing_internal.cycle_send(billing.cycle)', $$SELECT billing_internal.cycle_send('weekly:mon')$$),
	('billing_internal.cycle_cmp(billing.cycle,billing.cycle)', $$SELECT billing_internal.cycle_cmp('daily', 'weekly:mon')$$),
	('billing_internal.cycle_eq(billing.cycle,billing.cycle)', $$SELECT billing_internal.cycle_eq('daily', 'weekly:mon')$$),
	('billing_internal.cycle_ne(billing.cycle,billing.cycle)', $$SELECT billing_internal.cycle_ne('daily', 'weekly:mon')$$),
	('billing_internal.cycle_lt(billing.cycle,billing.cycle)', $$SELECT billing_internal.cycle_lt('daily', 'weekly:mon')$$),
	('billing_internal.cycle_le(billing.cycle,billing.cycle)', $$SELECT billing_internal.cycle_le('daily', 'weekly:mon')$$),
	('billing_internal.cycle_gt(billing.cycle,billing.cycle)', $$SELECT billing_internal.cycle_gt('daily', 'weekly:mon')$$),
	('billing_internal.cycle_ge(billing.cycle,billing.cycle)', $$SELECT billing_internal.cycle_ge('daily', 'weekly:mon')$$),
	('billing_internal.cycle_hash(billing.cycle)', $$SELECT billing_internal.cycle_hash('weekly:mon')$$),
	('billing_internal.due_rule_in(cstring)', $$SELECT billing_internal.due_rule_in('net:30')$$),
	('billing_internal.due_rule_out(billing.due_rule)', $$SELECT billing_internal.due_rule_out('net:30')$$),
	('billing_internal.due_rule_send(billing.due_rule)', $$SELECT billing_internal.due_rule_send('net:30')$$),
	('billing_internal.due_rule_cmp(billing.due_rule,billing.due_rule)', $$SELECT billing_internal.due_rule_cmp('net:30', 'month+1:eom')$$),
	('billing_internal.due_rule_eq(billing.due_rule,billing.due_rule)', $$SELECT billing_internal.due_rule_eq('net:30', 'month+1:eom')$$),
	('billing_internal.due_rule_ne(billing.due_rule,billing.due_rule)', $$SELECT billing_internal.due_rule_ne('net:30', 'month+1:eom')$$),
	('billing_internal.due_rule_lt(billing.due_rule,billing.due_rule)', $$SELECT billing_internal.due_rule_lt('net:30', 'month+1:eom')$$),
	('billing_internal.due_rule_le(billing.due_rule,billing.due_rule)', $$SELECT billing_internal.due_rule_le('net:30', 'month+1:eom')$$),
	('billing_internal.due_rule_gt(billing.due_rule,billing.due_rule)', $$SELECT billing_internal.due_rule_gt('net:30', 'month+1:eom')$$),
	('billing_internal.due_rule_ge(billing.due_rule,billing.due_rule)', $$SELECT billing_internal.due_rule_ge('net:30', 'month+1:eom')$$),
	('billing_internal.due_rule_hash(billing.due_rule)', $$SELECT billing_internal.due_rule_hash('net:30')$$),
	-- the master data PINT JP needs (the health view calls them as the reader)
	('billing_internal.xml_missing_brand(text,text,text,text)', $$SELECT billing_internal.xml_missing_brand('KK', NULL, 'x', 'p')$$),
	('billing_internal.xml_missing_buyer(text,text,text)', $$SELECT billing_internal.xml_missing_buyer(NULL, NULL, 'B1')$$),
	('billing_internal.xml_missing_assignments(text[])', $$SELECT billing_internal.xml_missing_assignments('{brand.legal_name}')$$);

-- the roles of the recipe, as they log in
CREATE TEMP TABLE recipe_role (role text PRIMARY KEY);
INSERT INTO recipe_role VALUES ('regress_mx_reader_login'), ('regress_mx_app_login'), ('regress_mx_admin_login');

-- what each role may do, from the catalog: every SQL-callable function of
-- the extension it may execute, every table and view it may read
CREATE TEMP VIEW granted_function AS
SELECT r.role, p.oid::regprocedure AS fn
FROM recipe_role r CROSS JOIN pg_proc p
WHERE p.pronamespace IN ('billing'::regnamespace, 'billing_internal'::regnamespace)
  AND has_function_privilege(r.role, p.oid, 'EXECUTE')
  AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
  AND NOT 'internal'::regtype = ANY (p.proargtypes::oid[]::regtype[]);
CREATE TEMP VIEW granted_relation AS
SELECT r.role, c.oid::regclass AS rel
FROM recipe_role r CROSS JOIN pg_class c
WHERE c.relnamespace = 'billing'::regnamespace AND c.relkind IN ('r', 'v', 'p', 'm')
  AND has_table_privilege(r.role, c.oid, 'SELECT');

-- a function a role may execute that no call here exercises: none
SELECT g.role, g.fn AS not_exercised FROM granted_function g LEFT JOIN call c USING (fn)
WHERE c.fn IS NULL ORDER BY 1, 2;

-- positive(role, q): q as role, in a subtransaction rolled back after it
-- succeeds (so each call starts from the same rows): 'ok' with the rows
-- it returned, or the error it raised
CREATE FUNCTION pg_temp.positive(role text, q text, OUT state text, OUT message text, OUT n bigint)
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		PERFORM set_config('role', role, true);
		EXECUTE q;
		GET DIAGNOSTICS n = ROW_COUNT;
		RAISE SQLSTATE 'ZZ000';		-- undo it; the role goes back with it
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		IF state = 'ZZ000' THEN
			state := 'ok';
			message := NULL;
		END IF;
	END;
END
$$;

CREATE TEMP TABLE tried (role text, what text, state text, message text, n bigint);
DO $$
DECLARE
	g record;
	a record;
BEGIN
	FOR g IN SELECT gf.role, gf.fn::text AS what, c.q FROM granted_function gf JOIN call c USING (fn)
	         UNION ALL
	         SELECT gr.role, gr.rel::text, format('SELECT * FROM %s', gr.rel) FROM granted_relation gr
	         ORDER BY 1, 2
	LOOP
		a := pg_temp.positive(g.role, (SELECT replace(replace(replace(replace(replace(g.q,
		          ':disabled_run', x.disabled_run), ':run', x.run), ':confirmed', x.confirmed),
		          ':draft', x.draft), ':schedule', x.schedule) FROM mx x));
		INSERT INTO tried VALUES (g.role, g.what, a.state, a.message, a.n);
	END LOOP;
END
$$;

-- every path succeeded and showed the brand's rows (none came back empty)
SELECT role, what, state, message, n FROM tried WHERE state <> 'ok' OR n = 0 ORDER BY 1, 2;
SELECT role, count(*) FILTER (WHERE what LIKE '%(%') AS functions,
       count(*) FILTER (WHERE what NOT LIKE '%(%') AS tables_and_views,
       count(*) FILTER (WHERE state = 'ok' AND n > 0) AS succeeded
FROM tried GROUP BY role ORDER BY role;
SELECT count(*) || ' positive paths (role x function, table or view), ' ||
       count(*) FILTER (WHERE state = 'ok' AND n > 0) || ' succeeded' AS matrix FROM tried;

-- the reader's XML is its own brand's invoice
SET ROLE regress_mx_reader_login;
SELECT xpath('/i:Invoice/cbc:ID/text()', billing.invoice_xml(:confirmed),
             ARRAY[ARRAY['i', 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'],
                   ARRAY['cbc', 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2']])::text
       = format('{%s}', (SELECT invoice_number FROM billing.invoice WHERE id = :confirmed)) AS own_invoice_xml;
SELECT count(*) AS run_xml_rows FROM billing.run_xml(:run);
-- and its PDF
SELECT substr(billing.invoice_pdf(:confirmed), 1, 5) = '%PDF-'::bytea AS own_invoice_pdf;
SELECT count(*) AS run_pdf_rows FROM billing.run_pdf(:run);
RESET ROLE;

-- clean up
UPDATE billing.schedule SET enabled = false WHERE code = 'MXEOM';
SELECT billing.revoke_brand('MX', 'regress_mx') AS revoked;
DROP OWNED BY regress_mx_reader, regress_mx_app, regress_mx_admin;
DROP ROLE regress_mx_app_login, regress_mx_admin_login, regress_mx_reader_login, regress_mx,
	regress_mx_admin, regress_mx_app, regress_mx_reader;
