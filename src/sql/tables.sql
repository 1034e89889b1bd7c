-- src/sql/tables.sql: the tables, their sequences and indexes (run once: the
-- Makefile's SQL_RUN_ONCE; later versions change them in src/sql/updates/, and
-- their comments are in tables_comments.sql)

------------------------------------------------------------------------------
-- Tables.  Brands, schedules, bank accounts, members and runs are small (on
-- Citus: reference tables).  Buyers, documents, invoices, tax lines and
-- document links are per-buyer: keys lead with buyer_id and joins use it, so
-- the schema can be distributed by buyer.  Foreign keys go from per-buyer
-- tables to each other with buyer_id in the key, or to the small tables,
-- never from a small table to a per-buyer one; where a row and its parent
-- must be of the same brand, brand_id is part of the key.  pg_restore -j
-- cannot load an extension's tables in the order of these keys: the README
-- (Backup and restore) gives the three-step parallel restore.
------------------------------------------------------------------------------

CREATE SEQUENCE billing.brand_id_seq;
CREATE TABLE billing.brand (
	id bigint PRIMARY KEY DEFAULT nextval('billing.brand_id_seq'),
	code text NOT NULL UNIQUE CHECK (code <> ''),
	name text NOT NULL,
	time_zone text NOT NULL DEFAULT 'Asia/Tokyo' CHECK (billing.check_time_zone(time_zone)),
	currency text NOT NULL DEFAULT 'JPY' CHECK (currency ~ '^[A-Z]{3}$'),
	-- digits after the decimal point of the currency's minor unit (JPY 0, EUR 2)
	currency_scale smallint NOT NULL DEFAULT 0 CHECK (currency_scale BETWEEN 0 AND 4),
	-- down = toward zero (the default), half_up = half away from zero, up = away from zero
	tax_rounding text NOT NULL DEFAULT 'down' CHECK (tax_rounding IN ('down', 'half_up', 'up')),
	created_at timestamptz NOT NULL DEFAULT now(),
	-- what a qualified invoice (適格請求書) names: optional until XML is asked for
	legal_name text,
	registration_number text CONSTRAINT brand_registration_number_format
		CHECK (registration_number ~ '^T[0-9]{13}$'),
	postal_code text,
	prefecture text,
	city text,
	address_line text,
	country text NOT NULL DEFAULT 'JP' CONSTRAINT brand_country_format CHECK (country ~ '^[A-Z]{2}$'),
	peppol_scheme text,
	peppol_id text,
	CONSTRAINT brand_peppol_endpoint CHECK ((peppol_scheme IS NULL) = (peppol_id IS NULL)
		AND (peppol_scheme IS NULL OR (peppol_scheme ~ '^[0-9]{4}$' AND peppol_id ~ '^[^[:space:]]+$'))),
	CONSTRAINT brand_text_lengths CHECK (billing.check_length(code, 64, 'brand code')
	                                     AND billing.check_length(name, 200, 'brand name'))
);
ALTER SEQUENCE billing.brand_id_seq OWNED BY billing.brand.id;

CREATE SEQUENCE billing.schedule_id_seq;
CREATE TABLE billing.schedule (
	id bigint PRIMARY KEY DEFAULT nextval('billing.schedule_id_seq'),
	brand_id bigint NOT NULL,
	code text NOT NULL CHECK (code <> ''),
	name text NOT NULL CHECK (name <> ''),
	description text,
	cycle billing.cycle NOT NULL,
	override_due_rule boolean NOT NULL DEFAULT false,
	due_rule billing.due_rule,
	-- cutoff: dated on the cut-off; first_of_month / last_of_month of the
	-- issue date's month; issue_date: dated on the day the run issues
	invoice_date_mode text NOT NULL DEFAULT 'cutoff'
		CHECK (invoice_date_mode IN ('cutoff', 'first_of_month', 'last_of_month', 'issue_date')),
	-- after local midnight following the cut-off: 00:05 by default;
	-- '4 days 5 minutes' is the seed's "delayed to the 5th"
	issue_delay interval NOT NULL DEFAULT '5 minutes',
	-- buyer: one collective invoice per buyer and period; document: one per document
	grouping text NOT NULL DEFAULT 'buyer' CHECK (grouping IN ('buyer', 'document')),
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	-- what the next scheduled run does with uninvoiced documents of earlier
	-- closed periods (late slips, documents freed by delete_drafts or
	-- cancel_invoices): rerun leaves them for billing.rerun_invoice_run(...,
	-- period => ...) (the seed's behaviour); next_run bills them with the
	-- next period, each keeping its own date
	late_documents text NOT NULL DEFAULT 'rerun'
		CONSTRAINT schedule_late_documents_check CHECK (late_documents IN ('rerun', 'next_run')),
	CONSTRAINT schedule_code_key UNIQUE (brand_id, code),
	CONSTRAINT schedule_brand_id_key UNIQUE (brand_id, id),
	CONSTRAINT schedule_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id),
	CONSTRAINT schedule_due_rule_needs_override CHECK (override_due_rule = (due_rule IS NOT NULL)),
	CONSTRAINT schedule_due_rule_fits CHECK (due_rule IS NULL OR billing.require_due_rule_fits(cycle, due_rule)),
	-- a plain time from 0 up to 28 days: no month part, nothing negative
	CONSTRAINT schedule_issue_delay_check CHECK (billing.check_issue_delay(issue_delay, code)),
	CONSTRAINT schedule_text_lengths CHECK (billing.check_length(code, 64, 'schedule code')
	                                        AND billing.check_length(name, 200, 'schedule name')
	                                        AND billing.check_length(description, 1000, 'schedule description'))
);
ALTER SEQUENCE billing.schedule_id_seq OWNED BY billing.schedule.id;

CREATE SEQUENCE billing.bank_account_id_seq;
CREATE TABLE billing.bank_account (
	id bigint PRIMARY KEY DEFAULT nextval('billing.bank_account_id_seq'),
	brand_id bigint NOT NULL,
	code text NOT NULL CHECK (code <> ''),
	bank_name text NOT NULL,
	branch_name text,
	account_type text NOT NULL DEFAULT 'ordinary' CHECK (account_type IN ('ordinary', 'current', 'savings')),
	account_number text NOT NULL,
	account_holder text NOT NULL,
	iban text,
	CONSTRAINT bank_account_code_key UNIQUE (brand_id, code),
	CONSTRAINT bank_account_brand_id_key UNIQUE (brand_id, id),
	CONSTRAINT bank_account_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id),
	CONSTRAINT bank_account_text_lengths CHECK (billing.check_length(code, 64, 'bank account code')
	                                            AND billing.check_length(bank_name, 200, 'bank name')
	                                            AND billing.check_length(branch_name, 200, 'branch name')
	                                            AND billing.check_length(account_number, 64, 'account number')
	                                            AND billing.check_length(account_holder, 200, 'account holder')
	                                            AND billing.check_length(iban, 64, 'IBAN'))
);
ALTER SEQUENCE billing.bank_account_id_seq OWNED BY billing.bank_account.id;

CREATE SEQUENCE billing.buyer_id_seq;
CREATE TABLE billing.buyer (
	id bigint PRIMARY KEY DEFAULT nextval('billing.buyer_id_seq'),
	brand_id bigint NOT NULL,
	code text NOT NULL CHECK (code <> ''),
	name text NOT NULL,
	schedule_id bigint,
	-- set to now() whenever the schedule changes (or given on insert)
	schedule_applied_at timestamptz,
	default_due_rule billing.due_rule,
	default_bank_account_id bigint,
	billing_balance numeric NOT NULL DEFAULT 0,
	CONSTRAINT buyer_code_key UNIQUE (brand_id, code),
	CONSTRAINT buyer_brand_id_key UNIQUE (id, brand_id),
	CONSTRAINT buyer_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id),
	-- the schedule and the default bank account are of the buyer's brand
	CONSTRAINT buyer_schedule_fkey FOREIGN KEY (brand_id, schedule_id) REFERENCES billing.schedule (brand_id, id),
	CONSTRAINT buyer_bank_account_fkey FOREIGN KEY (brand_id, default_bank_account_id)
		REFERENCES billing.bank_account (brand_id, id),
	CONSTRAINT buyer_schedule_applied CHECK ((schedule_id IS NULL) = (schedule_applied_at IS NULL)),
	-- the buyer's address and Peppol endpoint, for the invoice XML
	postal_code text,
	prefecture text,
	city text,
	address_line text,
	country text NOT NULL DEFAULT 'JP' CONSTRAINT buyer_country_format CHECK (country ~ '^[A-Z]{2}$'),
	peppol_scheme text,
	peppol_id text,
	CONSTRAINT buyer_peppol_endpoint CHECK ((peppol_scheme IS NULL) = (peppol_id IS NULL)
		AND (peppol_scheme IS NULL OR (peppol_scheme ~ '^[0-9]{4}$' AND peppol_id ~ '^[^[:space:]]+$'))),
	CONSTRAINT buyer_text_lengths CHECK (billing.check_length(code, 64, 'buyer code')
	                                     AND billing.check_length(name, 200, 'buyer name')),
	CONSTRAINT buyer_billing_balance_finite CHECK (billing.check_finite(billing_balance, 'billing balance of buyer', code)),
	-- |balance| < 10^15, as document amounts: no sum can overflow
	CONSTRAINT buyer_billing_balance_limit CHECK (billing.check_amount_limit(billing_balance, 'billing balance of buyer', code)),
	-- the balance the buyer started with (set from billing_balance on INSERT
	-- unless given); billing.verify() checks balance = opening + confirmed
	opening_balance numeric NOT NULL
);
ALTER SEQUENCE billing.buyer_id_seq OWNED BY billing.buyer.id;
CREATE INDEX buyer_schedule_idx ON billing.buyer (schedule_id, schedule_applied_at);
-- the buyers of a bank account, for its foreign key when the account is deleted
CREATE INDEX buyer_bank_account_idx ON billing.buyer (default_bank_account_id);

CREATE SEQUENCE billing.document_id_seq;
CREATE TABLE billing.document (
	buyer_id bigint NOT NULL,
	id bigint NOT NULL DEFAULT nextval('billing.document_id_seq'),
	brand_id bigint NOT NULL,
	-- delivery_invoice (delivery date), return_note (document date),
	-- credit_note (issue date), payment (confirmed date)
	kind text NOT NULL,
	document_date date NOT NULL,
	-- a non-billable delivery invoice is never aggregated
	billable boolean NOT NULL DEFAULT true,
	-- excluding tax; the kind decides the sign on the invoice
	amount numeric NOT NULL,
	-- 0.10, 0.08 ...; NULL for payments
	tax_rate numeric,
	-- the application's own reference
	reference text NOT NULL CHECK (reference <> ''),
	-- set when a cancelled run closes its documents for good
	never_invoice boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	-- item or slip text: the name of the document's line on the invoice XML
	description text,
	PRIMARY KEY (buyer_id, id),
	CONSTRAINT document_reference_key UNIQUE (brand_id, kind, reference),
	CONSTRAINT document_buyer_fkey FOREIGN KEY (buyer_id, brand_id) REFERENCES billing.buyer (id, brand_id),
	CONSTRAINT document_rules CHECK (billing.check_document(kind, amount, tax_rate)),
	CONSTRAINT document_text_lengths CHECK (billing.check_length(reference, 200, 'document reference')),
	-- dated 2000-01-01 .. 2199-12-31, |amount| < 10^15, tax rate of at most 4 decimals
	CONSTRAINT document_within_limits CHECK (billing.check_document_limits(reference, document_date, amount, tax_rate))
);
ALTER SEQUENCE billing.document_id_seq OWNED BY billing.document.id;
-- the period's documents; the id lets a run find their smallest id from the index alone
CREATE INDEX document_period_idx ON billing.document (brand_id, document_date) INCLUDE (id);

CREATE SEQUENCE billing.invoice_run_id_seq;
CREATE TABLE billing.invoice_run (
	id bigint PRIMARY KEY DEFAULT nextval('billing.invoice_run_id_seq'),
	brand_id bigint NOT NULL,
	schedule_id bigint NOT NULL,
	kind text NOT NULL CHECK (kind IN ('scheduled', 'rerun')),
	period daterange NOT NULL,
	cutoff_date date NOT NULL,
	-- scheduled runs: the period's issue moment; reruns: the as-of time
	issue_at timestamptz NOT NULL,
	as_of timestamptz NOT NULL,
	invoice_date date NOT NULL,
	status text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
	requested_by text NOT NULL DEFAULT current_user,
	notify text[] NOT NULL DEFAULT '{}',
	description text,
	queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	started_at timestamptz,
	finished_at timestamptz,
	buyer_count integer,
	invoice_count integer,
	document_count integer,
	purchases_total numeric,
	tax_total numeric,
	billed_total numeric,
	error text,
	-- the run's own actions (billing-run-details seed): a disabled run is not
	-- executed or processed; process_run stamps when its drafts were validated
	enabled boolean NOT NULL DEFAULT true,
	validated_at timestamptz,
	validated_by text,
	CONSTRAINT invoice_run_schedule_fkey FOREIGN KEY (brand_id, schedule_id) REFERENCES billing.schedule (brand_id, id)
);
ALTER SEQUENCE billing.invoice_run_id_seq OWNED BY billing.invoice_run.id;
-- at most one non-failed scheduled run per schedule and period
CREATE UNIQUE INDEX invoice_run_scheduled_once ON billing.invoice_run (schedule_id, cutoff_date)
	WHERE kind = 'scheduled' AND status <> 'failed';
CREATE INDEX invoice_run_schedule_idx ON billing.invoice_run (schedule_id, cutoff_date);
-- the runs not over yet: billing.fail_dead_runs reads only these
CREATE INDEX invoice_run_live_idx ON billing.invoice_run (id) WHERE status IN ('queued', 'running');

CREATE SEQUENCE billing.run_log_id_seq;
CREATE TABLE billing.run_log (
	id bigint PRIMARY KEY DEFAULT nextval('billing.run_log_id_seq'),
	run_id bigint NOT NULL,
	logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	level text NOT NULL CHECK (level IN ('info', 'warning', 'error')),
	message text NOT NULL,
	-- a run's log goes with it
	CONSTRAINT run_log_run_fkey FOREIGN KEY (run_id) REFERENCES billing.invoice_run (id) ON DELETE CASCADE
);
ALTER SEQUENCE billing.run_log_id_seq OWNED BY billing.run_log.id;
CREATE INDEX run_log_run_idx ON billing.run_log (run_id, id);

CREATE SEQUENCE billing.invoice_id_seq;
CREATE TABLE billing.invoice (
	buyer_id bigint NOT NULL,
	id bigint NOT NULL DEFAULT nextval('billing.invoice_id_seq'),
	brand_id bigint NOT NULL,
	schedule_id bigint,
	run_id bigint,
	status text NOT NULL DEFAULT 'draft'
		CHECK (status IN ('draft', 'confirmed', 'quarantined', 'rejected', 'cancelled')),
	status_reason text,
	period daterange NOT NULL,
	cutoff_date date NOT NULL,
	invoice_date date NOT NULL,
	due_rule billing.due_rule,
	due_date date,
	bank_account_id bigint,
	currency text NOT NULL,
	previous_billed numeric NOT NULL,	-- 前回御請求額
	deposit numeric NOT NULL,			-- 御入金額
	carried_over numeric NOT NULL,		-- 繰越金額
	purchases numeric NOT NULL,			-- 今回御買上額
	tax numeric NOT NULL,				-- 消費税額
	total numeric NOT NULL,				-- 今回御請求額
	document_count integer NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	confirmed_at timestamptz,
	-- a scheduled run of a next_run schedule also bills late documents of
	-- earlier closed periods: the earliest of their dates, else NULL
	late_since date,
	PRIMARY KEY (buyer_id, id),
	-- The payee: the buyer's bank account of the invoice's brand.  The
	-- invoice's other references (buyer, run) are left out, and so is the
	-- tax line's to its invoice: invoices and tax lines are written only by
	-- runs, from the rows the run just read and made, and each of those keys
	-- measured above 10% of issue_drafts (backend CPU, 20,000 buyers and
	-- 200,000 documents, median of three: every key 5.44 s; without
	-- invoice -> buyer 4.75 s, without invoice -> run 4.49 s, without tax
	-- line -> invoice 3.84 s, without this one 5.35 s).  What they would say
	-- is kept otherwise: keys never move (key_never_moves), a buyer or run
	-- with invoices is not deleted (refuse_delete_when_invoiced, guards.sql),
	-- invoices and tax lines are deleted only by delete_drafts, and
	-- billing.verify() checks the references.
	CONSTRAINT invoice_bank_account_fkey FOREIGN KEY (brand_id, bank_account_id)
		REFERENCES billing.bank_account (brand_id, id),
	CONSTRAINT invoice_amounts_add_up CHECK (carried_over = previous_billed - deposit
	                                         AND total = carried_over + purchases + tax),
	CONSTRAINT invoice_late_since_check CHECK (late_since < lower(period)),
	CONSTRAINT invoice_reason CHECK (status NOT IN ('rejected') OR status_reason IS NOT NULL)
);
ALTER SEQUENCE billing.invoice_id_seq OWNED BY billing.invoice.id;
-- lookups by invoice id alone (bulk actions); ids are unique by their sequence
CREATE INDEX invoice_id_idx ON billing.invoice (id);
CREATE INDEX invoice_run_idx ON billing.invoice (run_id);
-- the invoices of a bank account, for its foreign key when the account is deleted
CREATE INDEX invoice_bank_account_idx ON billing.invoice (bank_account_id);

-- Tax per invoice and rate, rounded once per rate (Japan's qualified invoice rule)
CREATE TABLE billing.invoice_tax_line (
	buyer_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	tax_rate numeric NOT NULL,
	taxable_amount numeric NOT NULL,
	tax numeric NOT NULL,
	PRIMARY KEY (buyer_id, invoice_id, tax_rate)
);

-- Which invoice each document is on.  The primary key is the guarantee that
-- no bug and no race bills a document twice.  No foreign keys: a link is
-- written only by a run, from the document and the invoice it just read and
-- made, and its two keys cost the run 2 to 3 times its time without them
-- (each check locks the document row it names; README "Design notes").
-- What they would say is kept otherwise: a linked document cannot be
-- deleted or change its key (document_guard, key_never_moves), an invoice
-- goes only through delete_drafts, which deletes its links first, and
-- billing.verify() checks both references.
CREATE TABLE billing.document_link (
	buyer_id bigint NOT NULL,
	document_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	PRIMARY KEY (buyer_id, document_id)
);
-- Links are written run by run, so their document ids grow along the table:
-- a BRIN index lets a run look only at links to recent documents, at almost
-- no cost to write (see first_document_id in src/run.c).
CREATE INDEX document_link_document_brin ON billing.document_link
	USING brin (document_id) WITH (autosummarize = on);

CREATE SEQUENCE billing.member_id_seq;
CREATE TABLE billing.member (
	id bigint PRIMARY KEY DEFAULT nextval('billing.member_id_seq'),
	brand_id bigint NOT NULL,
	code text NOT NULL CHECK (code <> ''),
	name text NOT NULL,
	email text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
	-- told about every scheduled run of the brand, not only reruns they ask for
	notify_scheduled_runs boolean NOT NULL DEFAULT false,
	CONSTRAINT member_code_key UNIQUE (brand_id, code),
	CONSTRAINT member_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id),
	CONSTRAINT member_text_lengths CHECK (billing.check_length(code, 64, 'member code')
	                                      AND billing.check_length(name, 200, 'member name')
	                                      AND billing.check_length(email, 254, 'member e-mail'))
);
ALTER SEQUENCE billing.member_id_seq OWNED BY billing.member.id;

CREATE SEQUENCE billing.notification_id_seq;
CREATE TABLE billing.notification (
	id bigint PRIMARY KEY DEFAULT nextval('billing.notification_id_seq'),
	run_id bigint NOT NULL,
	member_id bigint NOT NULL,
	email text NOT NULL,
	subject text NOT NULL,
	body text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	sent_at timestamptz,
	-- delivery by the mailer (src/mailer.c): each attempt is counted, and
	-- its failure written beforehand, in a transaction committed before the
	-- mail is handed to the SMTP server; a sent row has no next attempt
	attempts integer NOT NULL DEFAULT 0 CONSTRAINT notification_attempts CHECK (attempts >= 0),
	next_attempt_at timestamptz DEFAULT clock_timestamp(),
	last_attempt_at timestamptz,
	last_error text,
	CONSTRAINT notification_sent_is_final CHECK (sent_at IS NULL OR next_attempt_at IS NULL),
	-- one mail per member per run
	CONSTRAINT notification_run_member_key UNIQUE (run_id, member_id),
	-- a run's notifications go with it; a member told is kept
	CONSTRAINT notification_run_fkey FOREIGN KEY (run_id) REFERENCES billing.invoice_run (id) ON DELETE CASCADE,
	CONSTRAINT notification_member_fkey FOREIGN KEY (member_id) REFERENCES billing.member (id)
);
ALTER SEQUENCE billing.notification_id_seq OWNED BY billing.notification.id;
CREATE INDEX notification_unsent_idx ON billing.notification (id) WHERE sent_at IS NULL;
-- for the foreign keys when a member is deleted (a run's rows are found by
-- notification_run_member_key)
CREATE INDEX notification_member_idx ON billing.notification (member_id);

-- Which roles see which brands: one row per grant, written only by
-- billing.grant_brand and billing.revoke_brand.  A role (or a member of it)
-- sees a brand's rows, and the billing functions act on them, only with a
-- grant here; there is no setting a session could change instead.  A
-- deleted brand's grants go with it, so that no grant waits for a new
-- brand given the same id.
CREATE TABLE billing.brand_grant (
	grantee regrole NOT NULL,
	brand_id bigint NOT NULL,
	granted_by name NOT NULL DEFAULT session_user,
	granted_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT brand_grant_pkey PRIMARY KEY (grantee, brand_id),
	CONSTRAINT brand_grant_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id) ON DELETE CASCADE
);

-- Every statement that wrote billing records under SET billing.maintenance
-- = on (a superuser's repair or a restore), written by the guard trigger.
-- No id from a sequence: a restore logs its own writes before it restores
-- the log, and ids would collide; rows are ordered by logged_at.
CREATE TABLE billing.maintenance_log (
	logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	session_role name NOT NULL DEFAULT session_user,
	role_name name NOT NULL DEFAULT current_user,
	table_name text NOT NULL,
	operation text NOT NULL,
	query text NOT NULL
);

-- The master data a confirmed invoice's XML was made from.  Brands, buyers
-- and bank accounts keep their current values; when a value that the
-- invoice XML prints changes, the row as it was goes here, valid until the
-- change, so billing.invoice_xml() of an invoice confirmed before the change
-- gives the XML it had when it was confirmed (see src/sql/xml.sql).
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

-- qualified invoice master data (適格請求書の記載事項) and the run's own actions

-- billing.preview_run's rows (a type of their own, so that the function
-- can take period => date and still return a column named period)
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
