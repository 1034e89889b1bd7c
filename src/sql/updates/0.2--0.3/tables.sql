-- src/sql/updates/0.2--0.3/tables.sql: the changes to the tables from 0.2
-- to 0.3.  src/sql/assemble.sh puts this in place of src/sql/tables.sql in
-- billing--0.2--0.3.sql; functions, triggers, views, comments and grants are
-- re-created from src/sql/ after it.

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

------------------------------------------------------------------------------
-- Issue 11, declarative references and keys that never move (items 1, 2
-- and 4): the references between the extension's tables become foreign
-- keys (src/sql/tables.sql), and what kept them by hand goes: the C
-- reference and adoption triggers (src/references.c stays in the library
-- only for databases still at 0.2), the parent-side *_referenced triggers,
-- the delete refusal of an invoiced bank account, and the TRUNCATE
-- refusals that a foreign key makes by itself.  Keys never move: guards.sql.
------------------------------------------------------------------------------

-- with their triggers (CASCADE drops only the triggers that call them)
DROP FUNCTION billing.reference_check() CASCADE;
DROP FUNCTION billing.adoption_check() CASCADE;
DROP FUNCTION billing.brand_referenced() CASCADE;
DROP FUNCTION billing.schedule_referenced() CASCADE;
DROP FUNCTION billing.bank_account_referenced() CASCADE;
DROP FUNCTION billing.buyer_referenced() CASCADE;
DROP FUNCTION billing.member_referenced() CASCADE;
DROP FUNCTION billing.invoice_run_referenced() CASCADE;
DROP FUNCTION billing.refuse_truncate_referenced() CASCADE;
DROP FUNCTION billing.refuse_referenced(text, text, text);
DROP TRIGGER records_guard ON billing.buyer;
DROP TRIGGER bank_account_invoiced ON billing.bank_account;

-- the keys, added NOT VALID and validated below once no row breaks them
-- (same names, columns and actions as in tables.sql)
ALTER TABLE billing.schedule ADD CONSTRAINT schedule_brand_fkey FOREIGN KEY (brand_id)
	REFERENCES billing.brand (id) NOT VALID;
ALTER TABLE billing.bank_account ADD CONSTRAINT bank_account_brand_fkey FOREIGN KEY (brand_id)
	REFERENCES billing.brand (id) NOT VALID;
ALTER TABLE billing.buyer ADD CONSTRAINT buyer_brand_fkey FOREIGN KEY (brand_id)
	REFERENCES billing.brand (id) NOT VALID;
ALTER TABLE billing.buyer ADD CONSTRAINT buyer_schedule_fkey FOREIGN KEY (brand_id, schedule_id)
	REFERENCES billing.schedule (brand_id, id) NOT VALID;
ALTER TABLE billing.buyer ADD CONSTRAINT buyer_bank_account_fkey FOREIGN KEY (brand_id, default_bank_account_id)
	REFERENCES billing.bank_account (brand_id, id) NOT VALID;
CREATE INDEX buyer_bank_account_idx ON billing.buyer (default_bank_account_id);
ALTER TABLE billing.document ADD CONSTRAINT document_buyer_fkey FOREIGN KEY (buyer_id, brand_id)
	REFERENCES billing.buyer (id, brand_id) NOT VALID;
ALTER TABLE billing.invoice_run ADD CONSTRAINT invoice_run_schedule_fkey FOREIGN KEY (brand_id, schedule_id)
	REFERENCES billing.schedule (brand_id, id) NOT VALID;
ALTER TABLE billing.run_log ADD CONSTRAINT run_log_run_fkey FOREIGN KEY (run_id)
	REFERENCES billing.invoice_run (id) ON DELETE CASCADE NOT VALID;
-- (invoice -> buyer, invoice -> run and tax line -> invoice are left out:
-- see tables.sql)
ALTER TABLE billing.invoice ADD CONSTRAINT invoice_bank_account_fkey FOREIGN KEY (brand_id, bank_account_id)
	REFERENCES billing.bank_account (brand_id, id) NOT VALID;
CREATE INDEX invoice_bank_account_idx ON billing.invoice (bank_account_id);
-- (document_link has none: see tables.sql)
ALTER TABLE billing.member ADD CONSTRAINT member_brand_fkey FOREIGN KEY (brand_id)
	REFERENCES billing.brand (id) NOT VALID;
ALTER TABLE billing.notification ADD CONSTRAINT notification_run_fkey FOREIGN KEY (run_id)
	REFERENCES billing.invoice_run (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE billing.notification ADD CONSTRAINT notification_member_fkey FOREIGN KEY (member_id)
	REFERENCES billing.member (id) NOT VALID;
CREATE INDEX notification_member_idx ON billing.notification (member_id);
ALTER TABLE billing.brand_grant ADD CONSTRAINT brand_grant_brand_fkey FOREIGN KEY (brand_id)
	REFERENCES billing.brand (id) ON DELETE CASCADE NOT VALID;

-- 0.2's triggers let a row name a missing parent while the parent's table
-- was empty, and kept nothing for invoices, tax lines and links.  Rows that
-- the keys refuse stop the upgrade, listed (every key just added, read from
-- pg_constraint); the DBA corrects them on 0.2 and runs ALTER EXTENSION again.
DO $dangling$
DECLARE
	fk record;
	found text[];
	bad text[] := '{}';
BEGIN
	FOR fk IN
		SELECT c.conname, format('billing.%I', ch.relname) AS child, format('billing.%I', pt.relname) AS parent,
		       array_agg(a.attname::text ORDER BY k.n) AS child_columns,
		       array_agg(pa.attname::text ORDER BY k.n) AS parent_columns
		FROM pg_catalog.pg_constraint c
		CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, parent_attnum, n)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
		JOIN pg_catalog.pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_attnum
		JOIN pg_catalog.pg_class ch ON ch.oid = c.conrelid
		JOIN pg_catalog.pg_class pt ON pt.oid = c.confrelid
		WHERE c.contype = 'f' AND NOT c.convalidated AND c.connamespace = 'billing'::regnamespace
		GROUP BY c.conname, ch.relname, pt.relname
		ORDER BY c.conname
	LOOP
		EXECUTE format(
			'SELECT array_agg(format(%L, concat_ws(%L, %s))) FROM (SELECT * FROM %s t WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s) LIMIT 20) AS t',
			format('%s: %s (%s) = (%%s) is not in %s', fk.conname, fk.child,
			       array_to_string(fk.child_columns, ', '), fk.parent),
			', ',
			(SELECT string_agg(format('t.%I', col), ', ') FROM unnest(fk.child_columns) AS col),
			fk.child,
			(SELECT string_agg(format('t.%I IS NOT NULL', col), ' AND ') FROM unnest(fk.child_columns) AS col),
			fk.parent,
			(SELECT string_agg(format('p.%I = t.%I', pc, cc), ' AND ')
			 FROM unnest(fk.parent_columns, fk.child_columns) AS x(pc, cc)))
		INTO found;
		bad := bad || coalesce(found, '{}');
	END LOOP;
	IF cardinality(bad) > 0 THEN
		RAISE EXCEPTION 'cannot upgrade billing to 0.3: % rows refer to rows that do not exist', cardinality(bad)
			USING ERRCODE = 'foreign_key_violation',
			      DETAIL = array_to_string(bad[1:50], E'\n'),
			      HINT = 'Nothing was changed.  Correct or delete these rows on 0.2 (records under SET billing.maintenance = on, which is logged), then run ALTER EXTENSION billing UPDATE again.';
	END IF;
	FOR fk IN
		SELECT c.conname, format('billing.%I', ch.relname) AS child
		FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_class ch ON ch.oid = c.conrelid
		WHERE c.contype = 'f' AND NOT c.convalidated AND c.connamespace = 'billing'::regnamespace
	LOOP
		EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', fk.child, fk.conname);
	END LOOP;
END
$dangling$;

-- Issue 11, one brand cannot stop another (item 6): limits on input, so no
-- row of one brand can make the nightly issue_drafts fail (src/sql/
-- checks.sql, guards.sql, src/document.c).  Document dates from 2000-01-01
-- to 2199-12-31, amounts and balances below 10^15 in magnitude, tax rates of
-- at most 4 decimals, and schedule_applied_at from a year before its
-- schedule was created up to now.  As in 0.1 to 0.2, a 0.2 database holding
-- rows that break them is not upgraded: the upgrade stops before changing
-- anything and lists them.
------------------------------------------------------------------------------
DO $poison$
DECLARE
	bad text[];
BEGIN
	SELECT array_agg(what ORDER BY what) INTO bad FROM (
		SELECT format('buyer %s: schedule applied at %s, %s', b.code, b.schedule_applied_at,
		              CASE WHEN NOT isfinite(b.schedule_applied_at) THEN 'not a finite time'
		                   WHEN b.schedule_applied_at > clock_timestamp() + interval '5 minutes' THEN 'in the future'
		                   ELSE format('more than a year before schedule %s was created (%s)', s.code, s.created_at)
		              END) AS what
		FROM billing.buyer b JOIN billing.schedule s ON s.id = b.schedule_id
		WHERE NOT isfinite(b.schedule_applied_at)
		   OR b.schedule_applied_at > clock_timestamp() + interval '5 minutes'
		   OR b.schedule_applied_at < s.created_at - interval '1 year'
		UNION ALL
		SELECT format('buyer %s: billing balance %s is not below 10^15 in magnitude', b.code,
		              ltrim(to_char(b.billing_balance, '9.999999EEEE')))
		FROM billing.buyer b WHERE abs(b.billing_balance) >= 1e15
		UNION ALL
		SELECT format('document %s (%s %s): dated %s, not from 2000-01-01 to 2199-12-31', d.id, d.kind,
		              left(d.reference, 64), d.document_date)
		FROM billing.document d WHERE NOT (d.document_date BETWEEN '2000-01-01' AND '2199-12-31')
		UNION ALL
		SELECT format('document %s (%s %s): amount %s is not below 10^15 in magnitude', d.id, d.kind,
		              left(d.reference, 64), ltrim(to_char(d.amount, '9.999999EEEE')))
		FROM billing.document d WHERE abs(d.amount) >= 1e15
		UNION ALL
		SELECT format('document %s (%s %s): tax rate %s has more than 4 decimal places', d.id, d.kind,
		              left(d.reference, 64), left(d.tax_rate::text, 40))
		FROM billing.document d WHERE d.tax_rate <> round(d.tax_rate, 4)
	) AS rows_0_3_refuses;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'cannot upgrade billing to 0.3: % rows hold values that 0.3 refuses', cardinality(bad)
			USING ERRCODE = 'check_violation',
			      DETAIL = array_to_string(bad[1:50], E'\n'),
			      HINT = 'Nothing was changed.  Correct these rows on 0.2 (a linked document: delete its draft first; an application back-dated on purpose: set its schedule''s created_at back first), then run ALTER EXTENSION billing UPDATE again.  The limits are in the README.';
	END IF;
END
$poison$;

ALTER TABLE billing.buyer
	ADD CONSTRAINT buyer_billing_balance_limit CHECK (billing_internal.check_amount_limit(billing_balance, 'billing balance of buyer', code));
ALTER TABLE billing.document
	ADD CONSTRAINT document_within_limits CHECK (billing_internal.check_document_limits(reference, document_date, amount, tax_rate));

-- Issue 11, tenant locks: the guessable advisory keys are gone (runs lock
-- the schedule's row, bulk actions the buyers' rows, and a background
-- run's worker is known by its activity), so are the functions that gave
-- them out
DROP FUNCTION billing.schedule_lock_key(bigint);
DROP FUNCTION billing.try_lock_run(bigint);

-- Issue 11, surface (roles, bound bodies, settings, uninstall): no table or
-- type changes.  What changes is re-created by the sources that follow:
-- draft_rows, uninvoiced_documents, round_amount, invoice_date_for,
-- run_step and tax_category get SQL-standard bodies by
-- CREATE OR REPLACE (same signatures; from then on they depend on the
-- columns they read, so a later ALTER of such a column drops them first),
-- invoices_xml becomes SECURITY DEFINER (security.sql), the internal
-- helpers lose PUBLIC's EXECUTE (grants.sql), and the event trigger
-- billing_keep_invoices is made by uninstall.sql.

------------------------------------------------------------------------------
-- Issue 12, mailer: the delivery columns of the outbox (src/mailer.c) and
-- one mail per member per run.  0.2 had no mailer, so its unsent rows are
-- reports of old runs: they are kept unsent and not due (a DBA sends them on
-- purpose with billing.retry_notifications), rather than mailed in a burst
-- right after the upgrade.
------------------------------------------------------------------------------
DO $notified_once$
DECLARE
	bad text[];
BEGIN
	SELECT array_agg(format('notification %s: run %s, member %s (%s rows)', n.first_id, n.run_id, n.member_id, n.copies)
	                 ORDER BY n.first_id) INTO bad
	FROM (SELECT min(id) AS first_id, run_id, member_id, count(*) AS copies
	      FROM billing.notification GROUP BY run_id, member_id HAVING count(*) > 1) AS n;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'cannot upgrade billing to 0.3: % runs notify a member more than once', cardinality(bad)
			USING ERRCODE = 'unique_violation',
			      DETAIL = array_to_string(bad[1:50], E'\n'),
			      HINT = 'Nothing was changed.  0.3 sends one mail per member per run: delete the extra rows of each pair on 0.2 (as the extension''s owner), then run ALTER EXTENSION billing UPDATE again.';
	END IF;
END
$notified_once$;
ALTER TABLE billing.notification
	ADD COLUMN attempts integer NOT NULL DEFAULT 0 CONSTRAINT notification_attempts CHECK (attempts >= 0),
	ADD COLUMN next_attempt_at timestamptz DEFAULT clock_timestamp(),
	ADD COLUMN last_attempt_at timestamptz,
	ADD COLUMN last_error text;
UPDATE billing.notification SET next_attempt_at = NULL,
	last_error = CASE WHEN sent_at IS NULL
	                  THEN 'written by billing 0.2, which had no mailer: not sent (billing.retry_notifications sends it)' END;
ALTER TABLE billing.notification
	ADD CONSTRAINT notification_sent_is_final CHECK (sent_at IS NULL OR next_attempt_at IS NULL),
	ADD CONSTRAINT notification_run_member_key UNIQUE (run_id, member_id);
COMMENT ON COLUMN billing.notification.sent_at IS 'when the SMTP server accepted it; NULL: not sent (yet)';
COMMENT ON COLUMN billing.notification.attempts IS 'attempts to send it begun so far, including one cut short by a crash';
COMMENT ON COLUMN billing.notification.next_attempt_at IS 'when the mailer tries (again); NULL: sent, or given up (see last_error; billing.retry_notifications sends it again)';
COMMENT ON COLUMN billing.notification.last_attempt_at IS 'when the last attempt began';
COMMENT ON COLUMN billing.notification.last_error IS 'why the last attempt failed, or NULL';

------------------------------------------------------------------------------
-- == stranded: issue 12 item 2 (no document is ever stranded) and item 6's
-- empty rerun.  A schedule decides what its next scheduled run does with
-- uninvoiced documents of earlier closed periods (late_documents: rerun,
-- the 0.2 behaviour, or next_run); an invoice that carries such late
-- documents says from which date (late_since).  rerun_invoice_run and
-- preview_run take period => date (any closed period): their old
-- signatures are replaced, keeping the EXECUTE grants the DBA gave on them
-- (the README's recipe), and so are the internal functions behind them.
------------------------------------------------------------------------------
ALTER TABLE billing.schedule
	ADD COLUMN late_documents text NOT NULL DEFAULT 'rerun'
		CONSTRAINT schedule_late_documents_check CHECK (late_documents IN ('rerun', 'next_run'));
ALTER TABLE billing.invoice
	ADD COLUMN late_since date,
	ADD CONSTRAINT invoice_late_since_check CHECK (late_since < lower(period));

-- preview_run's rows get a type of their own (tables.sql): a parameter
-- named period and a result column named period cannot both be OUT-style
CREATE TYPE billing.preview_row AS (
	buyer text,
	buyer_name text,
	period daterange,
	invoice_date date,
	due_date date,
	documents integer,
	previous_billed numeric,
	deposit numeric,
	carried_over numeric,
	purchases numeric,
	tax numeric,
	total numeric,
	bank_account text
);
-- == api: one API (issue 13 item 1).  The actions return narrow rows
-- (tables.sql): an invoice action its invoices, a run action and
-- issue_drafts their runs.
CREATE TYPE billing.invoice_summary AS (
	invoice_id bigint,
	invoice_number text,
	buyer text,
	status text,
	total numeric,
	currency text
);
CREATE TYPE billing.run_summary AS (
	run_id bigint,
	brand text,
	schedule text,
	period daterange,
	step text,
	invoices integer,
	billed numeric,
	error text
);

-- The API functions whose signature or result changes in 0.3 (README,
-- "Changes in 0.3"): each old one goes, and its new signature is made here
-- with a placeholder body (the re-runnable sources replace it, keeping the
-- grants) and gets the EXECUTE grants the DBA gave the old one (the
-- README's recipe).
DO $keep_grants$
DECLARE
	f record;
	grantees oid[];
	grantable boolean[];
BEGIN
	FOR f IN SELECT * FROM (VALUES
		('billing.rerun_invoice_run(text, text[], boolean, timestamptz, text)',
		 $new$billing.rerun_invoice_run(schedule text, as_of timestamptz DEFAULT now(),
		      brand text DEFAULT NULL, period date DEFAULT NULL, notify text[] DEFAULT '{}',
		      background boolean DEFAULT false, simulate boolean DEFAULT false,
		      raise_on_failure boolean DEFAULT true)
		  RETURNS bigint LANGUAGE sql AS 'SELECT NULL::bigint'$new$),
		('billing.issue_drafts(timestamptz, boolean)',
		 $new$billing.issue_drafts(as_of timestamptz DEFAULT now(), simulate boolean DEFAULT false,
		      raise_on_failure boolean DEFAULT true)
		  RETURNS SETOF billing.run_summary LANGUAGE sql AS 'SELECT NULL::billing.run_summary WHERE false'$new$),
		('billing.preview_run(text, timestamptz, text)',
		 $new$billing.preview_run(schedule text, as_of timestamptz DEFAULT now(),
		      brand text DEFAULT NULL, period date DEFAULT NULL)
		  RETURNS SETOF billing.preview_row LANGUAGE sql AS 'SELECT NULL::billing.preview_row WHERE false'$new$),
		('billing.confirm_invoices(bigint[])',
		 $new$billing.confirm_invoices(VARIADIC invoice_ids bigint[])
		  RETURNS SETOF billing.invoice_summary LANGUAGE sql AS 'SELECT NULL::billing.invoice_summary WHERE false'$new$),
		('billing.delete_drafts(bigint[])',
		 $new$billing.delete_drafts(VARIADIC invoice_ids bigint[])
		  RETURNS SETOF billing.invoice_summary LANGUAGE sql AS 'SELECT NULL::billing.invoice_summary WHERE false'$new$),
		('billing.cancel_invoices(bigint[])',
		 $new$billing.cancel_invoices(VARIADIC invoice_ids bigint[])
		  RETURNS SETOF billing.invoice_summary LANGUAGE sql AS 'SELECT NULL::billing.invoice_summary WHERE false'$new$),
		('billing.quarantine_invoices(bigint[], text)',
		 $new$billing.quarantine_invoices(reason text, VARIADIC invoice_ids bigint[])
		  RETURNS SETOF billing.invoice_summary LANGUAGE sql AS 'SELECT NULL::billing.invoice_summary WHERE false'$new$),
		('billing.reject_invoices(bigint[], text)',
		 $new$billing.reject_invoices(reason text, VARIADIC invoice_ids bigint[])
		  RETURNS SETOF billing.invoice_summary LANGUAGE sql AS 'SELECT NULL::billing.invoice_summary WHERE false'$new$),
		('billing.cancel_run(bigint, boolean)',
		 $new$billing.cancel_run(run_id bigint, reopen boolean DEFAULT true)
		  RETURNS billing.run_summary LANGUAGE sql AS 'SELECT NULL::billing.run_summary'$new$),
		('billing.process_run(bigint)',
		 $new$billing.process_run(run_id bigint)
		  RETURNS billing.run_summary LANGUAGE sql AS 'SELECT NULL::billing.run_summary'$new$),
		('billing.enable_run(bigint)',
		 $new$billing.enable_run(run_id bigint)
		  RETURNS billing.run_summary LANGUAGE sql AS 'SELECT NULL::billing.run_summary'$new$),
		('billing.disable_run(bigint)',
		 $new$billing.disable_run(run_id bigint)
		  RETURNS billing.run_summary LANGUAGE sql AS 'SELECT NULL::billing.run_summary'$new$),
		('billing.set_run_description(bigint, text)',
		 $new$billing.set_run_description(run_id bigint, description text)
		  RETURNS billing.run_summary LANGUAGE sql AS 'SELECT NULL::billing.run_summary'$new$)
		) AS v(old, new)
	LOOP
		SELECT array_agg(a.grantee), array_agg(a.is_grantable) INTO grantees, grantable
		FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) AS a
		WHERE p.oid = f.old::regprocedure AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner;
		EXECUTE format('DROP FUNCTION %s', f.old);
		EXECUTE 'CREATE FUNCTION ' || f.new;
		FOR i IN 1 .. coalesce(cardinality(grantees), 0)
		LOOP
			EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s%s',
			               (SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
			                WHERE p.pronamespace = 'billing'::regnamespace
			                  AND p.proname = split_part(split_part(f.old, '(', 1), '.', 2)),
			               CASE WHEN grantees[i] = 0 THEN 'PUBLIC' ELSE grantees[i]::regrole::text END,
			               CASE WHEN grantable[i] THEN ' WITH GRANT OPTION' ELSE '' END);
		END LOOP;
	END LOOP;
END
$keep_grants$;
DROP FUNCTION billing_internal.rerun_target(text, timestamptz, text);
DROP FUNCTION billing_internal.plan_rerun(text, text[], timestamptz, text);
DROP FUNCTION billing_internal.draft_rows(bigint, bigint, date, date, timestamptz, date, date, bigint);

-- == cron: cron_setup takes the job's username and database (pg_cron wherever it lives)
DROP FUNCTION billing.cron_setup(text);

-- == numbers: invoice numbers per brand (issue 13 item 2).  Each brand has
-- its own series (prefix, yearly reset, digits on billing.brand; the
-- counters in billing.invoice_series), and confirm_invoices gives each
-- confirmed invoice the next number.  The invoices 0.2 confirmed are
-- numbered here, per brand and series year in the order they were
-- confirmed (confirmed_at, then id), and the counters start after them.
------------------------------------------------------------------------------
ALTER TABLE billing.brand
	ADD COLUMN invoice_number_prefix text CONSTRAINT brand_invoice_number_prefix
		CHECK (billing_internal.check_length(invoice_number_prefix, 32, 'invoice number prefix')
		       AND invoice_number_prefix ~ '^[^[:space:][:cntrl:]]+$'),
	ADD COLUMN invoice_number_yearly_reset boolean NOT NULL DEFAULT true,
	ADD COLUMN invoice_number_digits smallint NOT NULL DEFAULT 6 CONSTRAINT brand_invoice_number_digits
		CHECK (invoice_number_digits BETWEEN 1 AND 18);
ALTER TABLE billing.invoice ADD COLUMN invoice_number text;
CREATE TABLE billing.invoice_series (
	brand_id bigint NOT NULL,
	year integer NOT NULL CONSTRAINT invoice_series_year CHECK (year BETWEEN 0 AND 9999),
	last_number bigint NOT NULL CONSTRAINT invoice_series_last_number CHECK (last_number >= 0),
	PRIMARY KEY (brand_id, year),
	CONSTRAINT invoice_series_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id) ON DELETE CASCADE
);
-- the records guard refuses any write to an invoice outside the API: the
-- numbering is the update's own write, so it is let through here only
ALTER TABLE billing.invoice DISABLE TRIGGER records_guard, DISABLE TRIGGER records_guard_row;
WITH numbered AS (
	SELECT i.buyer_id, i.id, i.brand_id, br.code, br.invoice_number_prefix, br.invoice_number_digits,
	       CASE WHEN br.invoice_number_yearly_reset THEN extract(year FROM i.invoice_date)::integer ELSE 0 END AS year,
	       row_number() OVER (PARTITION BY i.brand_id,
	                                       CASE WHEN br.invoice_number_yearly_reset
	                                            THEN extract(year FROM i.invoice_date)::integer ELSE 0 END
	                          ORDER BY i.confirmed_at, i.id) AS counter
	FROM billing.invoice i JOIN billing.brand br ON br.id = i.brand_id
	WHERE i.status = 'confirmed'
), series AS (
	INSERT INTO billing.invoice_series (brand_id, year, last_number)
	SELECT n.brand_id, n.year, max(n.counter) FROM numbered n GROUP BY n.brand_id, n.year
)
UPDATE billing.invoice i
SET invoice_number = coalesce(n.invoice_number_prefix, n.code) || '-'
                     || CASE WHEN n.year > 0 THEN n.year::text || '-' ELSE '' END
                     || lpad(n.counter::text, greatest(n.invoice_number_digits, length(n.counter::text)), '0')
FROM numbered n
WHERE i.buyer_id = n.buyer_id AND i.id = n.id;
ALTER TABLE billing.invoice ENABLE TRIGGER records_guard, ENABLE TRIGGER records_guard_row;
ALTER TABLE billing.invoice
	ADD CONSTRAINT invoice_numbered CHECK ((status = 'confirmed') = (invoice_number IS NOT NULL));
-- the run writes its drafts, tax lines and links in three inserts; the
-- tax lines and links find their draft by this key (runs.sql, make_drafts)
ALTER TABLE billing.invoice ADD COLUMN draft_key bigint;
COMMENT ON COLUMN billing.invoice.draft_key IS 'which draft of its run it is: 0, the buyer''s; a document''s id with document grouping; NULL for a balance-only draft (and for drafts made before 0.3)';
-- the numbers given, keyed by brand and number (tables.sql), those of the
-- invoices numbered above
CREATE TABLE billing.issued_invoice_number (
	brand_id bigint NOT NULL,
	invoice_number text NOT NULL,
	buyer_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	CONSTRAINT issued_invoice_number_pkey PRIMARY KEY (brand_id, invoice_number),
	CONSTRAINT issued_invoice_number_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id) ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('billing.issued_invoice_number', '');
INSERT INTO billing.issued_invoice_number (brand_id, invoice_number, buyer_id, invoice_id)
SELECT i.brand_id, i.invoice_number, i.buyer_id, i.id FROM billing.invoice i WHERE i.invoice_number IS NOT NULL;
COMMENT ON TABLE billing.issued_invoice_number IS 'every invoice number given, once per brand: the key that keeps a brand''s numbers unique (written by confirm_invoices)';
COMMENT ON COLUMN billing.issued_invoice_number.brand_id IS 'the brand whose number it is';
COMMENT ON COLUMN billing.issued_invoice_number.invoice_number IS 'the number, as printed (billing.invoice.invoice_number)';
COMMENT ON COLUMN billing.issued_invoice_number.buyer_id IS 'the buyer of the invoice given it';
COMMENT ON COLUMN billing.issued_invoice_number.invoice_id IS 'the invoice given it';
-- invoice_list shows the number beside the id: a column in the middle is
-- a new view, so the view is made again in its new shape here (views.sql
-- then gives it its body), keeping the SELECT grants the DBA gave on it
DO $keep_list_grants$
DECLARE
	acl aclitem[] := (SELECT c.relacl FROM pg_catalog.pg_class c WHERE c.oid = 'billing.invoice_list'::regclass);
	g record;
BEGIN
	DROP VIEW billing.invoice_list;
	CREATE VIEW billing.invoice_list AS
	SELECT NULL::bigint AS invoice, NULL::text AS invoice_number, NULL::text AS brand, NULL::text AS buyer,
	       NULL::text AS buyer_name, NULL::text AS schedule, NULL::date AS cutoff_date, NULL::date AS invoice_date,
	       NULL::date AS due_date, NULL::text AS status, NULL::numeric AS previous_billed, NULL::numeric AS deposit,
	       NULL::numeric AS carried_over, NULL::numeric AS purchases, NULL::numeric AS tax, NULL::numeric AS total,
	       NULL::text AS bank_account, NULL::bigint AS run
	WHERE false;
	FOR g IN SELECT a.grantee, a.privilege_type, a.is_grantable
	         FROM pg_catalog.aclexplode(acl) AS a
	         WHERE a.grantee <> (SELECT c.relowner FROM pg_catalog.pg_class c
	                             WHERE c.oid = 'billing.invoice_list'::regclass)
	LOOP
		EXECUTE format('GRANT %s ON billing.invoice_list TO %s%s', g.privilege_type,
		               CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END,
		               CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
END
$keep_list_grants$;

-- == api: a buyer may be given its schedule by code (issue 13 item 3):
-- billing.buyer.schedule_code, kept equal to the schedule_id's code by
-- billing_internal.buyer_stamp_schedule and by the foreign key.
ALTER TABLE billing.buyer ADD COLUMN schedule_code text;
UPDATE billing.buyer b SET schedule_code = s.code FROM billing.schedule s WHERE s.id = b.schedule_id;
ALTER TABLE billing.buyer
	ADD CONSTRAINT buyer_schedule_code_fkey FOREIGN KEY (brand_id, schedule_code)
		REFERENCES billing.schedule (brand_id, code) ON UPDATE CASCADE,
	ADD CONSTRAINT buyer_schedule_code_given CHECK ((schedule_id IS NULL) = (schedule_code IS NULL));

-- == cconv: the C symbols of 0.3 carry a billing_ prefix (src/sql_api.h) ==
-- The type I/O functions are made once (types.sql, run once): point the
-- ones 0.2 made at the billing_ symbols, as a fresh install declares them.
-- (0.2's symbols stay in the library for databases not yet updated.)
CREATE OR REPLACE FUNCTION billing_internal.cycle_in(cstring) RETURNS billing.cycle
	AS 'MODULE_PATHNAME', 'billing_cycle_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION billing_internal.cycle_out(billing.cycle) RETURNS cstring
	AS 'MODULE_PATHNAME', 'billing_cycle_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION billing_internal.cycle_recv(internal) RETURNS billing.cycle
	AS 'MODULE_PATHNAME', 'billing_cycle_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION billing_internal.cycle_send(billing.cycle) RETURNS bytea
	AS 'MODULE_PATHNAME', 'billing_cycle_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION billing_internal.due_rule_in(cstring) RETURNS billing.due_rule
	AS 'MODULE_PATHNAME', 'billing_due_rule_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION billing_internal.due_rule_out(billing.due_rule) RETURNS cstring
	AS 'MODULE_PATHNAME', 'billing_due_rule_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION billing_internal.due_rule_recv(internal) RETURNS billing.due_rule
	AS 'MODULE_PATHNAME', 'billing_due_rule_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION billing_internal.due_rule_send(billing.due_rule) RETURNS bytea
	AS 'MODULE_PATHNAME', 'billing_due_rule_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- == comments: what tables.sql says of the objects above that 0.2 had not, or
-- said otherwise (the upgrade runs no run-once source; test/t/003_upgrade.pl
-- compares every comment with a fresh install's)
COMMENT ON COLUMN billing.brand.invoice_number_digits IS
	'digits the counter is padded to with zeros (default 6); a larger counter is printed in full';
COMMENT ON COLUMN billing.brand.invoice_number_prefix IS
	'what the brand''s invoice numbers begin with (before a hyphen), at most 32 characters without spaces; NULL (the default): the brand''s code, as in ACME-2026-000123';
COMMENT ON COLUMN billing.brand.invoice_number_yearly_reset IS
	'true (the default): the series restarts at 1 each year of the invoice date, printed after the prefix (ACME-2026-000001); false: one series for good (ACME-000001)';
COMMENT ON COLUMN billing.buyer.billing_balance IS
	'what the buyer owes: the opening balance plus purchases + tax - deposit of every confirmed invoice; the next draft''s 前回御請求額; finite, less than 10^15 in magnitude';
COMMENT ON COLUMN billing.buyer.opening_balance IS
	'the balance the buyer started with: billing_balance as given on INSERT unless given itself; billing.verify() checks billing_balance = opening_balance + the confirmed invoices';
COMMENT ON COLUMN billing.buyer.schedule_applied_at IS
	'when the schedule was applied (stamped on change): drafts start with the first period issued after it; from a year before the schedule was created up to now (5 minutes of clock skew allowed)';
COMMENT ON COLUMN billing.buyer.schedule_code IS
	'the code of the buyer''s billing schedule: give it or schedule_id on INSERT or UPDATE, the other is filled in';
COMMENT ON COLUMN billing.document.amount IS
	'amount excluding tax, positive except for delivery price adjustments (the kind gives the sign on the invoice); finite, less than 10^15 in magnitude (so no sum overflows), in the currency''s minor unit';
COMMENT ON COLUMN billing.document.document_date IS
	'the date that counts for the period: delivery date, return date, credit note issue date, or payment confirmed date; from 2000-01-01 to 2199-12-31';
COMMENT ON COLUMN billing.document.tax_rate IS
	'tax rate as a fraction (0.10, 0.08, 0) from 0 up to 1, at most 4 decimals; NULL for payments';
COMMENT ON COLUMN billing.invoice.invoice_number IS
	'the brand''s invoice number (請求書番号, the XML''s cbc:ID), given when it is confirmed and never changed or given again; NULL before';
COMMENT ON COLUMN billing.invoice.late_since IS
	'the date of its earliest late document of an earlier closed period (schedule late_documents = next_run), or NULL when every document is dated in its period';
COMMENT ON TABLE billing.invoice_series IS
	'the counter of each brand''s invoice number series: the last number given, per brand and year';
COMMENT ON COLUMN billing.invoice_series.brand_id IS
	'the brand of the series';
COMMENT ON COLUMN billing.invoice_series.last_number IS
	'the last number given in the series (the next confirmed invoice gets the one after it)';
COMMENT ON COLUMN billing.invoice_series.year IS
	'the invoice date''s year the series numbers; 0: the series of a brand that never restarts';
COMMENT ON TYPE billing.invoice_summary IS
	'a row of an invoice action (confirm_invoices, delete_drafts, ...): the invoice, its number, buyer code, status after the action, total';
COMMENT ON TYPE billing.preview_row IS
	'a row of billing.preview_run: a draft a rerun would make, in the Japanese closing-date layout';
COMMENT ON TYPE billing.run_summary IS
	'a row of issue_drafts or of a run action (cancel_run, process_run, ...): the run, its brand and schedule codes, period, step (billing.run_report''s), drafts made, amount billed, error';
COMMENT ON COLUMN billing.schedule.late_documents IS
	'uninvoiced documents of earlier closed periods: rerun (default) leaves them for rerun_invoice_run(..., period => date); next_run bills them with the next scheduled run, each on its own date';
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_series', '');

------------------------------------------------------------------------------
-- == pdf: the invoice on paper, mailed to buyers (issue 15 item 4).  Buyers
-- get an invoice e-mail address; billing.invoice_mail holds one row per
-- invoice mailed (pdf.sql: billing.mail_invoices, the message; the mailer
-- sends them).
------------------------------------------------------------------------------
ALTER TABLE billing.buyer ADD COLUMN invoice_email text CONSTRAINT buyer_invoice_email_format
	CHECK (billing_internal.check_length(invoice_email, 254, 'invoice e-mail address')
	       AND invoice_email ~ '^[^@[:space:][:cntrl:]<>(),;:"]+@[^@[:space:][:cntrl:]<>(),;:"]+$');
CREATE TABLE billing.invoice_mail (
	invoice_id bigint NOT NULL,
	buyer_id bigint NOT NULL,
	brand_id bigint NOT NULL,
	run_id bigint NOT NULL,
	email text NOT NULL,
	queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	queued_by text NOT NULL,
	sent_at timestamptz,
	attempts integer NOT NULL DEFAULT 0 CONSTRAINT invoice_mail_attempts CHECK (attempts >= 0),
	next_attempt_at timestamptz DEFAULT clock_timestamp(),
	last_attempt_at timestamptz,
	last_error text,
	CONSTRAINT invoice_mail_sent_is_final CHECK (sent_at IS NULL OR next_attempt_at IS NULL),
	-- led by the buyer, as every per-buyer table's (SPEC 5): the invoice's
	-- own key, so each invoice is mailed once
	CONSTRAINT invoice_mail_pkey PRIMARY KEY (buyer_id, invoice_id)
);
CREATE INDEX invoice_mail_unsent_idx ON billing.invoice_mail (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX invoice_mail_run_idx ON billing.invoice_mail (run_id);

-- comments of the pdf section's objects (tables.sql)
COMMENT ON COLUMN billing.buyer.invoice_email IS
	'the address the buyer''s invoices are mailed to (billing.mail_invoices: PDF and PINT JP XML); NULL: not mailed';
COMMENT ON TABLE billing.invoice_mail IS
	'an invoice mailed to its buyer with its PDF and XML: one row per invoice (billing.mail_invoices)';
COMMENT ON COLUMN billing.invoice_mail.attempts IS
	'attempts to send it so far';
COMMENT ON COLUMN billing.invoice_mail.brand_id IS
	'its brand (the brand wall)';
COMMENT ON COLUMN billing.invoice_mail.buyer_id IS
	'its buyer';
COMMENT ON COLUMN billing.invoice_mail.email IS
	'the buyer''s invoice e-mail address when the mail was queued';
COMMENT ON COLUMN billing.invoice_mail.invoice_id IS
	'the invoice mailed; each is mailed once';
COMMENT ON COLUMN billing.invoice_mail.last_attempt_at IS
	'when the mailer last tried';
COMMENT ON COLUMN billing.invoice_mail.last_error IS
	'why the last attempt failed; NULL once sent';
COMMENT ON COLUMN billing.invoice_mail.next_attempt_at IS
	'when the mailer tries next; NULL when sent or given up';
COMMENT ON COLUMN billing.invoice_mail.queued_at IS
	'when billing.mail_invoices queued it';
COMMENT ON COLUMN billing.invoice_mail.queued_by IS
	'the role that called billing.mail_invoices';
COMMENT ON COLUMN billing.invoice_mail.run_id IS
	'the run billing.mail_invoices was called for';
COMMENT ON COLUMN billing.invoice_mail.sent_at IS
	'when the SMTP server took it; NULL until then (billing.invoice_list.mailed_at)';
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_mail', '');

-- == latework: reruns read what changed since the last run of their period (issue 14)
-- What a rerun reads (issue 14): a rerun or preview of a period re-reads
-- only the buyers whose documents, links, invoices or buyer row changed
-- since the last run of that period read them, not the whole period.
-- Each run records the snapshot it read in (run_snapshot); every change
-- that can give a buyer a draft it did not get (a document written or
-- changed, a link deleted: delete_drafts, cancel_invoices, cancel_run
-- reopening; an invoice cancelled, rejected or deleted; a buyer written:
-- its balance, its schedule) writes the buyer and the writing transaction
-- here (statement triggers, src/sql/guards.sql).  A rerun takes the buyers
-- written by transactions that the last run's snapshot did not see, the
-- exact late-commit rule: a document numbered before a run but committed
-- after it began is in a transaction that snapshot did not see, whatever
-- its id.  A run writes no row here: the full run costs what it did.
CREATE TABLE billing_internal.rerun_hint (
	xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
	buyer_id bigint NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (xid, buyer_id)
);
COMMENT ON TABLE billing_internal.rerun_hint IS
	'buyers whose billing inputs a transaction changed, for reruns that read only what changed since the last run of a period';
COMMENT ON COLUMN billing_internal.rerun_hint.xid IS 'the writing transaction (pg_current_xact_id())';
COMMENT ON COLUMN billing_internal.rerun_hint.buyer_id IS 'the buyer whose documents, links, invoices or row it wrote';
COMMENT ON COLUMN billing_internal.rerun_hint.created_at IS 'when; rows older than two months are pruned by scheduled runs';

-- the snapshot each run read its documents in (a row per run that made
-- drafts; the rows of runs that made none are deleted with them)
CREATE TABLE billing_internal.run_snapshot (
	run_id bigint PRIMARY KEY,
	schedule_id bigint NOT NULL,
	cutoff_date date NOT NULL,
	applied_before timestamptz NOT NULL,
	snapshot pg_snapshot NOT NULL,
	system_identifier bigint NOT NULL
);
CREATE INDEX run_snapshot_period_idx ON billing_internal.run_snapshot (schedule_id, cutoff_date, run_id);
COMMENT ON TABLE billing_internal.run_snapshot IS
	'the snapshot a run read the period in: a later rerun of the period reads only buyers changed by transactions it did not see';
COMMENT ON COLUMN billing_internal.run_snapshot.run_id IS 'the run (billing.invoice_run)';
COMMENT ON COLUMN billing_internal.run_snapshot.schedule_id IS 'its schedule';
COMMENT ON COLUMN billing_internal.run_snapshot.cutoff_date IS 'its period''s cut-off';
COMMENT ON COLUMN billing_internal.run_snapshot.applied_before IS 'the buyers it billed: schedule applied before this';
COMMENT ON COLUMN billing_internal.run_snapshot.snapshot IS 'pg_current_snapshot() before it read the documents';
COMMENT ON COLUMN billing_internal.run_snapshot.system_identifier IS
	'the cluster it ran in (pg_control_system()): transaction ids of another cluster (a restore) say nothing';

-- how far rerun_hint was pruned: a run whose snapshot's xmin is not above
-- it may have lost hints, and a rerun after it reads the whole period
CREATE TABLE billing_internal.rerun_hint_horizon (
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	pruned_through xid8
);
INSERT INTO billing_internal.rerun_hint_horizon (only_row, pruned_through) VALUES (true, NULL);
COMMENT ON TABLE billing_internal.rerun_hint_horizon IS
	'one row: the largest transaction id of a pruned rerun_hint; older run snapshots are not used';
COMMENT ON COLUMN billing_internal.rerun_hint_horizon.only_row IS 'true: there is one row';
COMMENT ON COLUMN billing_internal.rerun_hint_horizon.pruned_through IS 'the largest xid pruned, NULL before any pruning';

-- == walls: run logs and notifications carry their run's brand, so that
-- their brand walls read no other table (Citus refuses a policy with a
-- subquery: issue 16, doc/citus.md).  The key (run_id, brand_id) to the
-- run says it is the run's own brand.
ALTER TABLE billing.invoice_run ADD CONSTRAINT invoice_run_brand_key UNIQUE (id, brand_id);
ALTER TABLE billing.run_log ADD COLUMN brand_id bigint;
ALTER TABLE billing.run_log DISABLE TRIGGER records_guard, DISABLE TRIGGER records_guard_row;
UPDATE billing.run_log g SET brand_id = r.brand_id FROM billing.invoice_run r WHERE r.id = g.run_id;
ALTER TABLE billing.run_log ENABLE TRIGGER records_guard, ENABLE TRIGGER records_guard_row;
ALTER TABLE billing.run_log ALTER COLUMN brand_id SET NOT NULL,
	DROP CONSTRAINT run_log_run_fkey,
	ADD CONSTRAINT run_log_run_fkey FOREIGN KEY (run_id, brand_id) REFERENCES billing.invoice_run (id, brand_id) ON DELETE CASCADE;
COMMENT ON COLUMN billing.run_log.brand_id IS 'the brand of the run (its brand wall reads no other table)';
ALTER TABLE billing.notification ADD COLUMN brand_id bigint;
UPDATE billing.notification n SET brand_id = r.brand_id FROM billing.invoice_run r WHERE r.id = n.run_id;
ALTER TABLE billing.notification ALTER COLUMN brand_id SET NOT NULL,
	DROP CONSTRAINT notification_run_fkey,
	ADD CONSTRAINT notification_run_fkey FOREIGN KEY (run_id, brand_id) REFERENCES billing.invoice_run (id, brand_id) ON DELETE CASCADE;
COMMENT ON COLUMN billing.notification.brand_id IS 'the brand of the run (its brand wall reads no other table)';

-- == walls for tax lines and links: they carry their invoice's brand, so
-- that their brand walls read no other table either (issue 16, plan step
-- 1).  No key (a run writes a million links; a foreign key checks each
-- row): billing.verify() reads it as a meant reference to the invoice.
-- Filled from the invoice, or from the buyer for a row whose invoice is
-- gone (verify() reports that row as before); a row with neither stops
-- the upgrade, named.
ALTER TABLE billing.invoice_tax_line ADD COLUMN brand_id bigint;
ALTER TABLE billing.document_link ADD COLUMN brand_id bigint;
ALTER TABLE billing.invoice_tax_line DISABLE TRIGGER records_guard, DISABLE TRIGGER records_guard_row;
ALTER TABLE billing.document_link DISABLE TRIGGER records_guard, DISABLE TRIGGER records_guard_row;
UPDATE billing.invoice_tax_line t
SET brand_id = coalesce((SELECT i.brand_id FROM billing.invoice i WHERE i.buyer_id = t.buyer_id AND i.id = t.invoice_id),
                        (SELECT b.brand_id FROM billing.buyer b WHERE b.id = t.buyer_id));
UPDATE billing.document_link l
SET brand_id = coalesce((SELECT i.brand_id FROM billing.invoice i WHERE i.buyer_id = l.buyer_id AND i.id = l.invoice_id),
                        (SELECT b.brand_id FROM billing.buyer b WHERE b.id = l.buyer_id));
ALTER TABLE billing.invoice_tax_line ENABLE TRIGGER records_guard, ENABLE TRIGGER records_guard_row;
ALTER TABLE billing.document_link ENABLE TRIGGER records_guard, ENABLE TRIGGER records_guard_row;
DO $brandless$
DECLARE
	bad text[];
BEGIN
	SELECT array_agg(r) INTO bad FROM (
		(SELECT format('tax line (buyer %s, invoice %s, rate %s)', t.buyer_id, t.invoice_id, t.tax_rate) AS r
		 FROM billing.invoice_tax_line t WHERE t.brand_id IS NULL ORDER BY 1 LIMIT 20)
		UNION ALL
		(SELECT format('link (buyer %s, document %s)', l.buyer_id, l.document_id)
		 FROM billing.document_link l WHERE l.brand_id IS NULL ORDER BY 1 LIMIT 20)) AS x;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'cannot upgrade billing to 0.3: % tax lines or links have neither an invoice nor a buyer', cardinality(bad)
			USING ERRCODE = 'foreign_key_violation',
			      DETAIL = array_to_string(bad, E'\n'),
			      HINT = 'Nothing was changed.  Delete these rows on 0.2 (under SET billing.maintenance = on, which is logged), then run ALTER EXTENSION billing UPDATE again.';
	END IF;
END
$brandless$;
ALTER TABLE billing.invoice_tax_line ALTER COLUMN brand_id SET NOT NULL;
ALTER TABLE billing.document_link ALTER COLUMN brand_id SET NOT NULL;
COMMENT ON COLUMN billing.invoice_tax_line.brand_id IS 'the invoice''s brand (its brand wall reads no other table)';
COMMENT ON COLUMN billing.document_link.brand_id IS 'the invoice''s brand (its brand wall reads no other table)';

-- == ids: every id column defaults to billing_internal.next_id (src/sql/ids.sql),
-- nextval() here, a range of its own on each Citus worker (issue 16 item 2,
-- sequences).  The sequences and their values stay as they are.
ALTER TABLE billing.brand ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.brand_id_seq');
ALTER TABLE billing.schedule ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.schedule_id_seq');
ALTER TABLE billing.bank_account ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.bank_account_id_seq');
ALTER TABLE billing.buyer ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.buyer_id_seq');
ALTER TABLE billing.document ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.document_id_seq');
ALTER TABLE billing.invoice_run ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.invoice_run_id_seq');
ALTER TABLE billing.run_log ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.run_log_id_seq');
ALTER TABLE billing.invoice ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.invoice_id_seq');
ALTER TABLE billing.member ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.member_id_seq');
ALTER TABLE billing.notification ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.notification_id_seq');
ALTER TABLE billing.master_data_version ALTER COLUMN id SET DEFAULT billing_internal.next_id('billing.master_data_version_id_seq');

-- == partitions: the links partitioned by document id, the tax lines by
-- invoice id (issue 14 item 2, tables.sql).  0.2's table becomes the first
-- partition, from MINVALUE to the block past its last row, and keeps its
-- rows, its key and (the links) its BRIN index, renamed as a partition's are
-- named; the parent has no index.  What was the table's moves to the new
-- parent: its grants (a DBA's GRANT of 0.2 still holds), comments, triggers
-- and brand wall (the rerunnable sources make them on the parent; the
-- partition's own statement guards: security.sql).  ATTACH reads the old
-- table once to check its bound.
ALTER TABLE billing.document_link RENAME TO document_link_0;
ALTER INDEX billing.document_link_pkey RENAME TO document_link_0_pkey;
ALTER INDEX billing.document_link_document_brin RENAME TO document_link_0_document_brin;
ALTER TABLE billing.invoice_tax_line RENAME TO invoice_tax_line_0;
ALTER INDEX billing.invoice_tax_line_pkey RENAME TO invoice_tax_line_0_pkey;
DO $partitions$
DECLARE
	t record;
	first_part regclass;
	obj record;
	bound bigint;
BEGIN
	FOR t IN
		SELECT * FROM (VALUES ('document_link', 'document_id', 20), ('invoice_tax_line', 'invoice_id', 17))
		AS v(parent, key_column, bits)
	LOOP
		first_part := format('billing.%I', t.parent || '_0')::regclass;
		FOR obj IN SELECT g.tgname FROM pg_catalog.pg_trigger g WHERE g.tgrelid = first_part AND NOT g.tgisinternal LOOP
			EXECUTE format('DROP TRIGGER %I ON %s', obj.tgname, first_part);
		END LOOP;
		FOR obj IN SELECT p.polname FROM pg_catalog.pg_policy p WHERE p.polrelid = first_part LOOP
			EXECUTE format('DROP POLICY %I ON %s', obj.polname, first_part);
		END LOOP;
		EXECUTE format('SELECT greatest(%s, ((pg_catalog.max(%I) >> %s) + 1) << %s) FROM %s',
		               1::bigint << t.bits, t.key_column, t.bits, t.bits, first_part) INTO bound;
		-- the same columns (names, types, NOT NULL), no key of its own
		EXECUTE format('CREATE TABLE billing.%I (LIKE %s) PARTITION BY RANGE (%I)', t.parent, first_part, t.key_column);
		-- the grants, to the parent; the partition keeps its owner's only
		FOR obj IN
			SELECT a.privilege_type,
			       CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(a.grantee::regrole::text) END AS grantee,
			       a.is_grantable
			FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) AS a
			WHERE c.oid = first_part AND a.grantee <> c.relowner
		LOOP
			EXECUTE format('GRANT %s ON billing.%I TO %s%s', obj.privilege_type, t.parent, obj.grantee,
			               CASE WHEN obj.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
			EXECUTE format('REVOKE %s ON %s FROM %s', obj.privilege_type, first_part, obj.grantee);
		END LOOP;
		EXECUTE format('ALTER TABLE billing.%I ATTACH PARTITION %s FOR VALUES FROM (MINVALUE) TO (%s)',
		               t.parent, first_part, bound);
		EXECUTE format('COMMENT ON TABLE %s IS NULL', first_part);
		FOR obj IN SELECT a.attname FROM pg_catalog.pg_attribute a
		           WHERE a.attrelid = first_part AND a.attnum > 0 AND NOT a.attisdropped LOOP
			EXECUTE format('COMMENT ON COLUMN %s.%I IS NULL', first_part, obj.attname);
		END LOOP;
	END LOOP;
END
$partitions$;
COMMENT ON TABLE billing.document_link IS 'the invoice each document is on; at most one';
COMMENT ON COLUMN billing.document_link.buyer_id IS 'the document''s buyer';
COMMENT ON COLUMN billing.document_link.document_id IS 'the document; the primary key lets it be on one invoice only';
COMMENT ON COLUMN billing.document_link.invoice_id IS 'the invoice it is on';
COMMENT ON COLUMN billing.document_link.brand_id IS 'the invoice''s brand (its brand wall reads no other table)';
COMMENT ON TABLE billing.invoice_tax_line IS 'per invoice and tax rate: taxable amount and tax, rounded once';
COMMENT ON COLUMN billing.invoice_tax_line.buyer_id IS 'the invoice''s buyer';
COMMENT ON COLUMN billing.invoice_tax_line.invoice_id IS 'the invoice';
COMMENT ON COLUMN billing.invoice_tax_line.tax_rate IS 'the tax rate (0.10 標準税率, 0.08 軽減税率)';
COMMENT ON COLUMN billing.invoice_tax_line.taxable_amount IS '税抜対象額: net purchases at this rate, excluding tax';
COMMENT ON COLUMN billing.invoice_tax_line.tax IS '消費税額 at this rate: rate × taxable_amount, rounded once by the brand''s mode';
COMMENT ON COLUMN billing.invoice_tax_line.brand_id IS 'the invoice''s brand (its brand wall reads no other table)';
