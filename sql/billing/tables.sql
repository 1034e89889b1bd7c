-- sql/billing/tables.sql: the tables, their sequences and indexes (run once;
-- later versions change them in sql/updates/)

------------------------------------------------------------------------------
-- Tables.  Brands, schedules, bank accounts, members and runs are small (on
-- Citus: reference tables).  Buyers, documents, invoices, tax lines and
-- document links are per-buyer: keys lead with buyer_id and joins use it, so
-- the schema can be distributed by buyer.  No foreign keys: the references
-- between these tables are kept by triggers (references.sql), because
-- pg_restore -j loads an extension's tables in any order.
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
	created_at timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE billing.brand_id_seq OWNED BY billing.brand.id;
SELECT pg_catalog.pg_extension_config_dump('billing.brand', '');
SELECT pg_catalog.pg_extension_config_dump('billing.brand_id_seq', '');
COMMENT ON TABLE billing.brand IS 'a brand environment: owns schedules, buyers, documents, invoices and runs';

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
	issue_delay interval NOT NULL DEFAULT '5 minutes'
		CHECK (issue_delay >= '0' AND issue_delay < '28 days'),
	-- buyer: one collective invoice per buyer and period; document: one per document
	grouping text NOT NULL DEFAULT 'buyer' CHECK (grouping IN ('buyer', 'document')),
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT schedule_code_key UNIQUE (brand_id, code),
	CONSTRAINT schedule_brand_id_key UNIQUE (brand_id, id),
	CONSTRAINT schedule_due_rule_needs_override CHECK (override_due_rule = (due_rule IS NOT NULL)),
	CONSTRAINT schedule_due_rule_fits CHECK (due_rule IS NULL OR billing.require_due_rule_fits(cycle, due_rule))
);
ALTER SEQUENCE billing.schedule_id_seq OWNED BY billing.schedule.id;
SELECT pg_catalog.pg_extension_config_dump('billing.schedule', '');
SELECT pg_catalog.pg_extension_config_dump('billing.schedule_id_seq', '');
COMMENT ON TABLE billing.schedule IS 'billing schedule: recurrence and cut-off, due rule, invoice date and issue timing';

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
	CONSTRAINT bank_account_brand_id_key UNIQUE (brand_id, id)
);
ALTER SEQUENCE billing.bank_account_id_seq OWNED BY billing.bank_account.id;
SELECT pg_catalog.pg_extension_config_dump('billing.bank_account', '');
SELECT pg_catalog.pg_extension_config_dump('billing.bank_account_id_seq', '');
COMMENT ON TABLE billing.bank_account IS 'the maker''s bank accounts that buyers pay into';

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
	CONSTRAINT buyer_schedule_applied CHECK ((schedule_id IS NULL) = (schedule_applied_at IS NULL))
);
ALTER SEQUENCE billing.buyer_id_seq OWNED BY billing.buyer.id;
SELECT pg_catalog.pg_extension_config_dump('billing.buyer', '');
SELECT pg_catalog.pg_extension_config_dump('billing.buyer_id_seq', '');
CREATE INDEX buyer_schedule_idx ON billing.buyer (schedule_id, schedule_applied_at);
COMMENT ON TABLE billing.buyer IS 'a buyer of a brand, with its applied billing schedule and billing balance';

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
	PRIMARY KEY (buyer_id, id),
	CONSTRAINT document_reference_key UNIQUE (brand_id, kind, reference),
	CONSTRAINT document_rules CHECK (billing.check_document(kind, amount, tax_rate))
);
ALTER SEQUENCE billing.document_id_seq OWNED BY billing.document.id;
SELECT pg_catalog.pg_extension_config_dump('billing.document', '');
SELECT pg_catalog.pg_extension_config_dump('billing.document_id_seq', '');
-- the period's documents; the id lets a run find their smallest id from the index alone
CREATE INDEX document_period_idx ON billing.document (brand_id, document_date) INCLUDE (id);
COMMENT ON TABLE billing.document IS 'every billable source document: delivery invoices, return notes, credit notes, payments';

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
	error text
);
ALTER SEQUENCE billing.invoice_run_id_seq OWNED BY billing.invoice_run.id;
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_run', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_run_id_seq', '');
-- at most one non-failed scheduled run per schedule and period
CREATE UNIQUE INDEX invoice_run_scheduled_once ON billing.invoice_run (schedule_id, cutoff_date)
	WHERE kind = 'scheduled' AND status <> 'failed';
CREATE INDEX invoice_run_schedule_idx ON billing.invoice_run (schedule_id, cutoff_date);
-- the runs not over yet: billing.fail_dead_runs reads only these
CREATE INDEX invoice_run_live_idx ON billing.invoice_run (id) WHERE status IN ('queued', 'running');
COMMENT ON INDEX billing.invoice_run_live_idx IS 'runs not over yet, for billing.fail_dead_runs';
COMMENT ON TABLE billing.invoice_run IS 'one run that makes draft invoices for a schedule and period';

CREATE SEQUENCE billing.run_log_id_seq;
CREATE TABLE billing.run_log (
	id bigint PRIMARY KEY DEFAULT nextval('billing.run_log_id_seq'),
	run_id bigint NOT NULL,
	logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	level text NOT NULL CHECK (level IN ('info', 'warning', 'error')),
	message text NOT NULL
);
ALTER SEQUENCE billing.run_log_id_seq OWNED BY billing.run_log.id;
SELECT pg_catalog.pg_extension_config_dump('billing.run_log', '');
SELECT pg_catalog.pg_extension_config_dump('billing.run_log_id_seq', '');
CREATE INDEX run_log_run_idx ON billing.run_log (run_id, id);
COMMENT ON TABLE billing.run_log IS 'the execution report of each run';

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
	PRIMARY KEY (buyer_id, id),
	CONSTRAINT invoice_amounts_add_up CHECK (carried_over = previous_billed - deposit
	                                         AND total = carried_over + purchases + tax),
	CONSTRAINT invoice_reason CHECK (status NOT IN ('rejected') OR status_reason IS NOT NULL)
);
ALTER SEQUENCE billing.invoice_id_seq OWNED BY billing.invoice.id;
SELECT pg_catalog.pg_extension_config_dump('billing.invoice', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_id_seq', '');
-- lookups by invoice id alone (bulk actions); ids are unique by their sequence
CREATE INDEX invoice_id_idx ON billing.invoice (id);
CREATE INDEX invoice_run_idx ON billing.invoice (run_id);
COMMENT ON TABLE billing.invoice IS 'draft and billing invoices in the Japanese closing-date layout';

-- Tax per invoice and rate, rounded once per rate (Japan's qualified invoice rule)
CREATE TABLE billing.invoice_tax_line (
	buyer_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	tax_rate numeric NOT NULL,
	taxable_amount numeric NOT NULL,
	tax numeric NOT NULL,
	PRIMARY KEY (buyer_id, invoice_id, tax_rate)
);
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_tax_line', '');
COMMENT ON TABLE billing.invoice_tax_line IS 'per invoice and tax rate: taxable amount and tax, rounded once';

-- Which invoice each document is on.  The primary key is the guarantee that
-- no bug and no race bills a document twice.  The links to document and
-- invoice are kept by the run and by delete_drafts, and guarded by triggers,
-- rather than by foreign keys: a foreign key check per link would double the
-- cost of issuing a million documents.
CREATE TABLE billing.document_link (
	buyer_id bigint NOT NULL,
	document_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	PRIMARY KEY (buyer_id, document_id)
);
SELECT pg_catalog.pg_extension_config_dump('billing.document_link', '');
-- Links are written run by run, so their document ids grow along the table:
-- a BRIN index lets a run look only at links to recent documents, at almost
-- no cost to write (see first_document_id in src/run.c).
CREATE INDEX document_link_document_brin ON billing.document_link
	USING brin (document_id) WITH (autosummarize = on);
COMMENT ON TABLE billing.document_link IS 'the invoice each document is on; at most one';

CREATE SEQUENCE billing.member_id_seq;
CREATE TABLE billing.member (
	id bigint PRIMARY KEY DEFAULT nextval('billing.member_id_seq'),
	brand_id bigint NOT NULL,
	code text NOT NULL CHECK (code <> ''),
	name text NOT NULL,
	email text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
	-- told about every scheduled run of the brand, not only reruns they ask for
	notify_scheduled_runs boolean NOT NULL DEFAULT false,
	CONSTRAINT member_code_key UNIQUE (brand_id, code)
);
ALTER SEQUENCE billing.member_id_seq OWNED BY billing.member.id;
SELECT pg_catalog.pg_extension_config_dump('billing.member', '');
SELECT pg_catalog.pg_extension_config_dump('billing.member_id_seq', '');

CREATE SEQUENCE billing.notification_id_seq;
CREATE TABLE billing.notification (
	id bigint PRIMARY KEY DEFAULT nextval('billing.notification_id_seq'),
	run_id bigint NOT NULL,
	member_id bigint NOT NULL,
	email text NOT NULL,
	subject text NOT NULL,
	body text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	sent_at timestamptz
);
ALTER SEQUENCE billing.notification_id_seq OWNED BY billing.notification.id;
SELECT pg_catalog.pg_extension_config_dump('billing.notification', '');
SELECT pg_catalog.pg_extension_config_dump('billing.notification_id_seq', '');
CREATE INDEX notification_unsent_idx ON billing.notification (id) WHERE sent_at IS NULL;
COMMENT ON TABLE billing.notification IS 'outbox: one row per member to tell when a run ends';
