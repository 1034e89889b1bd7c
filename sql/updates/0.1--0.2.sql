-- sql/updates/0.1--0.2.sql: the changes to run-once objects (tables, types)
-- from 0.1 to 0.2.  sql/assemble.sh puts this in place of the tables in
-- billing--0.1--0.2.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

------------------------------------------------------------------------------
-- Inputs that cannot poison (issue 7, item 7): finite amounts and balances,
-- named time zones, plain issue delays, length limits (sql/billing/checks.sql).
-- 0.1 accepted rows that 0.2 refuses.  Rather than keep them under NOT VALID
-- constraints (a catalog unlike a fresh install's, and poisoned amounts
-- still spreading), the upgrade stops before changing anything and lists
-- them; the DBA corrects them on 0.1 and runs ALTER EXTENSION again.
------------------------------------------------------------------------------
DO $poison$
DECLARE
	bad text[];
BEGIN
	SELECT array_agg(what ORDER BY what) INTO bad FROM (
		SELECT format('brand %s: time zone "%s" is not in pg_timezone_names', b.code, b.time_zone) AS what
		FROM billing.brand b
		WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = b.time_zone)
		UNION ALL
		SELECT format('brand %s: code or name too long', left(b.code, 64)) FROM billing.brand b
		WHERE char_length(b.code) > 64 OR char_length(b.name) > 200
		UNION ALL
		SELECT format('schedule %s: issue delay "%s" has a month part or a negative field, or is 28 days or more',
		              s.code, s.issue_delay)
		FROM billing.schedule s
		WHERE NOT (extract(year FROM s.issue_delay) = 0 AND extract(month FROM s.issue_delay) = 0
		           AND extract(day FROM s.issue_delay) >= 0
		           AND s.issue_delay - date_trunc('day', s.issue_delay) >= interval '0'
		           AND s.issue_delay < interval '28 days')
		UNION ALL
		SELECT format('schedule %s: code, name or description too long', left(s.code, 64)) FROM billing.schedule s
		WHERE char_length(s.code) > 64 OR char_length(s.name) > 200 OR char_length(s.description) > 1000
		UNION ALL
		SELECT format('bank account %s: a field is too long', left(a.code, 64)) FROM billing.bank_account a
		WHERE char_length(a.code) > 64 OR char_length(a.bank_name) > 200 OR char_length(a.branch_name) > 200
		   OR char_length(a.account_number) > 64 OR char_length(a.account_holder) > 200 OR char_length(a.iban) > 64
		UNION ALL
		SELECT format('buyer %s: code or name too long', left(b.code, 64)) FROM billing.buyer b
		WHERE char_length(b.code) > 64 OR char_length(b.name) > 200
		UNION ALL
		SELECT format('buyer %s: billing balance is %s', b.code, b.billing_balance) FROM billing.buyer b
		WHERE NOT (b.billing_balance > '-Infinity' AND b.billing_balance < 'Infinity')
		UNION ALL
		SELECT format('document %s (%s %s): amount %s, tax rate %s', d.id, d.kind, left(d.reference, 64),
		              d.amount, d.tax_rate)
		FROM billing.document d
		WHERE NOT (d.amount > '-Infinity' AND d.amount < 'Infinity')
		   OR NOT (d.tax_rate > '-Infinity' AND d.tax_rate < 'Infinity')
		UNION ALL
		SELECT format('document %s: reference of %s characters', d.id, char_length(d.reference))
		FROM billing.document d WHERE char_length(d.reference) > 200
		UNION ALL
		SELECT format('member %s: code, name or e-mail too long', left(m.code, 64)) FROM billing.member m
		WHERE char_length(m.code) > 64 OR char_length(m.name) > 200 OR char_length(m.email) > 254
	) AS rows_0_2_refuses;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'cannot upgrade billing to 0.2: % rows hold values that 0.2 refuses', cardinality(bad)
			USING ERRCODE = 'check_violation',
			      DETAIL = array_to_string(bad[1:50], E'\n'),
			      HINT = 'Nothing was changed.  Correct these rows on 0.1 (a linked document: delete its draft first; a balance: set it from the buyer''s confirmed invoices), then run ALTER EXTENSION billing UPDATE again.  The limits are in the README.';
	END IF;
END
$poison$;

ALTER TABLE billing.brand
	ADD CONSTRAINT brand_text_lengths CHECK (billing.check_length(code, 64, 'brand code')
	                                         AND billing.check_length(name, 200, 'brand name'));
ALTER TABLE billing.schedule
	DROP CONSTRAINT schedule_issue_delay_check,
	ADD CONSTRAINT schedule_issue_delay_check CHECK (billing.check_issue_delay(issue_delay, code)),
	ADD CONSTRAINT schedule_text_lengths CHECK (billing.check_length(code, 64, 'schedule code')
	                                            AND billing.check_length(name, 200, 'schedule name')
	                                            AND billing.check_length(description, 1000, 'schedule description'));
ALTER TABLE billing.bank_account
	ADD CONSTRAINT bank_account_text_lengths CHECK (billing.check_length(code, 64, 'bank account code')
	                                                AND billing.check_length(bank_name, 200, 'bank name')
	                                                AND billing.check_length(branch_name, 200, 'branch name')
	                                                AND billing.check_length(account_number, 64, 'account number')
	                                                AND billing.check_length(account_holder, 200, 'account holder')
	                                                AND billing.check_length(iban, 64, 'IBAN'));
ALTER TABLE billing.buyer
	ADD CONSTRAINT buyer_text_lengths CHECK (billing.check_length(code, 64, 'buyer code')
	                                         AND billing.check_length(name, 200, 'buyer name')),
	ADD CONSTRAINT buyer_billing_balance_finite CHECK (billing.check_finite(billing_balance, 'billing balance of buyer', code));
ALTER TABLE billing.document
	ADD CONSTRAINT document_text_lengths CHECK (billing.check_length(reference, 200, 'document reference'));
ALTER TABLE billing.member
	ADD CONSTRAINT member_text_lengths CHECK (billing.check_length(code, 64, 'member code')
	                                          AND billing.check_length(name, 200, 'member name')
	                                          AND billing.check_length(email, 254, 'member e-mail'));

-- issue_drafts gained simulate (sql/billing/runs.sql): a new signature
DROP FUNCTION IF EXISTS billing.issue_drafts(timestamptz);

-- the runs not over yet: billing.fail_dead_runs reads only these
CREATE INDEX invoice_run_live_idx ON billing.invoice_run (id) WHERE status IN ('queued', 'running');

-- The references between the tables are kept by triggers (references.sql)
-- instead of foreign keys, so that pg_restore -j can load the tables in any
-- order.
ALTER TABLE billing.schedule DROP CONSTRAINT schedule_brand_id_fkey;
ALTER TABLE billing.bank_account DROP CONSTRAINT bank_account_brand_id_fkey;
ALTER TABLE billing.buyer DROP CONSTRAINT buyer_brand_id_fkey,
	DROP CONSTRAINT buyer_schedule_fkey, DROP CONSTRAINT buyer_bank_account_fkey;
ALTER TABLE billing.document DROP CONSTRAINT document_buyer_fkey;
ALTER TABLE billing.invoice_run DROP CONSTRAINT invoice_run_brand_id_fkey,
	DROP CONSTRAINT invoice_run_schedule_id_fkey;
ALTER TABLE billing.run_log DROP CONSTRAINT run_log_run_id_fkey;
ALTER TABLE billing.member DROP CONSTRAINT member_brand_id_fkey;
ALTER TABLE billing.notification DROP CONSTRAINT notification_run_id_fkey,
	DROP CONSTRAINT notification_member_id_fkey;

-- billing.preview_drafts is SQL since 0.2 and returns more columns (the
-- group, carried_over, total, due date): the C function of 0.1 goes first.
DROP FUNCTION IF EXISTS billing.preview_drafts(bigint, bigint, date, date, timestamptz, date, date);

-- 0.2: brand grants (row level security) and the maintenance log
CREATE TABLE billing.brand_grant (
	grantee regrole NOT NULL,
	brand_id bigint NOT NULL,
	granted_by name NOT NULL DEFAULT session_user,
	granted_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT brand_grant_pkey PRIMARY KEY (grantee, brand_id)
);

CREATE TABLE billing.maintenance_log (
	logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	session_role name NOT NULL DEFAULT session_user,
	role_name name NOT NULL DEFAULT current_user,
	table_name text NOT NULL,
	operation text NOT NULL,
	query text NOT NULL
);

-- issue 8: the master data a qualified invoice needs, the run's own actions
-- (disable/enable, process), and earlier master data for confirmed invoices'
-- XML.  The same columns and constraints as in sql/billing/tables.sql.
ALTER TABLE billing.brand
	ADD COLUMN legal_name text,
	ADD COLUMN registration_number text CONSTRAINT brand_registration_number_format
		CHECK (registration_number ~ '^T[0-9]{13}$'),
	ADD COLUMN postal_code text,
	ADD COLUMN prefecture text,
	ADD COLUMN city text,
	ADD COLUMN address_line text,
	ADD COLUMN country text NOT NULL DEFAULT 'JP' CONSTRAINT brand_country_format CHECK (country ~ '^[A-Z]{2}$'),
	ADD COLUMN peppol_scheme text,
	ADD COLUMN peppol_id text,
	ADD CONSTRAINT brand_peppol_endpoint CHECK ((peppol_scheme IS NULL) = (peppol_id IS NULL)
		AND (peppol_scheme IS NULL OR (peppol_scheme ~ '^[0-9]{4}$' AND peppol_id ~ '^[^[:space:]]+$')));
ALTER TABLE billing.buyer
	ADD COLUMN postal_code text,
	ADD COLUMN prefecture text,
	ADD COLUMN city text,
	ADD COLUMN address_line text,
	ADD COLUMN country text NOT NULL DEFAULT 'JP' CONSTRAINT buyer_country_format CHECK (country ~ '^[A-Z]{2}$'),
	ADD COLUMN peppol_scheme text,
	ADD COLUMN peppol_id text,
	ADD CONSTRAINT buyer_peppol_endpoint CHECK ((peppol_scheme IS NULL) = (peppol_id IS NULL)
		AND (peppol_scheme IS NULL OR (peppol_scheme ~ '^[0-9]{4}$' AND peppol_id ~ '^[^[:space:]]+$')));
ALTER TABLE billing.document ADD COLUMN description text;
ALTER TABLE billing.invoice_run
	ADD COLUMN enabled boolean NOT NULL DEFAULT true,
	ADD COLUMN validated_at timestamptz,
	ADD COLUMN validated_by text;

CREATE SEQUENCE billing.master_data_version_id_seq;
CREATE TABLE billing.master_data_version (
	id bigint PRIMARY KEY DEFAULT nextval('billing.master_data_version_id_seq'),
	table_name text NOT NULL CONSTRAINT master_data_version_table
		CHECK (table_name IN ('brand', 'buyer', 'bank_account')),
	row_id bigint NOT NULL,
	valid_until timestamptz NOT NULL,
	data jsonb NOT NULL
);
ALTER SEQUENCE billing.master_data_version_id_seq OWNED BY billing.master_data_version.id;
CREATE INDEX master_data_version_row_idx ON billing.master_data_version (table_name, row_id, valid_until);
