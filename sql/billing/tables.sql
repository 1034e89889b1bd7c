-- sql/billing/tables.sql: the tables, their sequences and indexes (run once;
-- later versions change them in sql/updates/)

------------------------------------------------------------------------------
-- Tables.  Brands, schedules, bank accounts, members and runs are small (on
-- Citus: reference tables).  Buyers, documents, invoices, tax lines and
-- document links are per-buyer: keys lead with buyer_id and joins use it, so
-- the schema can be distributed by buyer.
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
		AND (peppol_scheme IS NULL OR (peppol_scheme ~ '^[0-9]{4}$' AND peppol_id ~ '^[^[:space:]]+$')))
);
ALTER SEQUENCE billing.brand_id_seq OWNED BY billing.brand.id;
SELECT pg_catalog.pg_extension_config_dump('billing.brand', '');
SELECT pg_catalog.pg_extension_config_dump('billing.brand_id_seq', '');
COMMENT ON TABLE billing.brand IS 'a brand environment: owns schedules, buyers, documents, invoices and runs';

CREATE SEQUENCE billing.schedule_id_seq;
CREATE TABLE billing.schedule (
	id bigint PRIMARY KEY DEFAULT nextval('billing.schedule_id_seq'),
	brand_id bigint NOT NULL REFERENCES billing.brand,
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
	brand_id bigint NOT NULL REFERENCES billing.brand,
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
	brand_id bigint NOT NULL REFERENCES billing.brand,
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
	CONSTRAINT buyer_schedule_fkey FOREIGN KEY (brand_id, schedule_id)
		REFERENCES billing.schedule (brand_id, id),
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
		AND (peppol_scheme IS NULL OR (peppol_scheme ~ '^[0-9]{4}$' AND peppol_id ~ '^[^[:space:]]+$')))
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
	-- item or slip text: the name of the document's line on the invoice XML
	description text,
	PRIMARY KEY (buyer_id, id),
	CONSTRAINT document_reference_key UNIQUE (brand_id, kind, reference),
	CONSTRAINT document_buyer_fkey FOREIGN KEY (buyer_id, brand_id) REFERENCES billing.buyer (id, brand_id),
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
	brand_id bigint NOT NULL REFERENCES billing.brand,
	schedule_id bigint NOT NULL REFERENCES billing.schedule,
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
	validated_by text
);
ALTER SEQUENCE billing.invoice_run_id_seq OWNED BY billing.invoice_run.id;
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_run', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_run_id_seq', '');
-- at most one non-failed scheduled run per schedule and period
CREATE UNIQUE INDEX invoice_run_scheduled_once ON billing.invoice_run (schedule_id, cutoff_date)
	WHERE kind = 'scheduled' AND status <> 'failed';
CREATE INDEX invoice_run_schedule_idx ON billing.invoice_run (schedule_id, cutoff_date);
COMMENT ON TABLE billing.invoice_run IS 'one run that makes draft invoices for a schedule and period';

CREATE SEQUENCE billing.run_log_id_seq;
CREATE TABLE billing.run_log (
	id bigint PRIMARY KEY DEFAULT nextval('billing.run_log_id_seq'),
	run_id bigint NOT NULL REFERENCES billing.invoice_run ON DELETE CASCADE,
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
	brand_id bigint NOT NULL REFERENCES billing.brand,
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
	run_id bigint NOT NULL REFERENCES billing.invoice_run ON DELETE CASCADE,
	member_id bigint NOT NULL REFERENCES billing.member,
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

-- The master data a confirmed invoice's XML was made from.  Brands, buyers
-- and bank accounts keep their current values; when a value that the
-- invoice XML prints changes, the row as it was goes here, valid until the
-- change, so billing.invoice_xml() of an invoice confirmed before the change
-- gives the XML it had when it was confirmed (see sql/billing/xml.sql).
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
SELECT pg_catalog.pg_extension_config_dump('billing.master_data_version', '');
SELECT pg_catalog.pg_extension_config_dump('billing.master_data_version_id_seq', '');
CREATE INDEX master_data_version_row_idx ON billing.master_data_version (table_name, row_id, valid_until);
COMMENT ON TABLE billing.master_data_version IS
	'earlier versions of the brand, buyer and bank account data that invoice XML prints, for confirmed invoices';
COMMENT ON COLUMN billing.master_data_version.id IS 'version id, in the order the versions were kept';
COMMENT ON COLUMN billing.master_data_version.table_name IS 'brand, buyer or bank_account';
COMMENT ON COLUMN billing.master_data_version.row_id IS 'the id of the brand, buyer or bank account';
COMMENT ON COLUMN billing.master_data_version.valid_until IS 'when this version was replaced (the changing transaction''s start)';
COMMENT ON COLUMN billing.master_data_version.data IS 'the whole row as it was until then';

-- qualified invoice master data (適格請求書の記載事項) and the run's own actions
COMMENT ON COLUMN billing.brand.legal_name IS 'the seller''s registered name on invoices (PINT IBT-027)';
COMMENT ON COLUMN billing.brand.registration_number IS
	'qualified-invoice issuer registration number (適格請求書発行事業者登録番号): T and 13 digits (IBT-031)';
COMMENT ON COLUMN billing.brand.postal_code IS 'postal code (郵便番号), IBT-038';
COMMENT ON COLUMN billing.brand.prefecture IS 'prefecture (都道府県), IBT-039';
COMMENT ON COLUMN billing.brand.city IS 'city, ward, town (市区町村), IBT-037';
COMMENT ON COLUMN billing.brand.address_line IS 'street address and building (番地・建物), IBT-035';
COMMENT ON COLUMN billing.brand.country IS 'ISO 3166-1 country code, JP by default (IBT-040)';
COMMENT ON COLUMN billing.brand.peppol_scheme IS 'Peppol endpoint scheme (EAS code, 0188 = Japan corporate number), IBT-034-1';
COMMENT ON COLUMN billing.brand.peppol_id IS 'Peppol endpoint identifier (IBT-034)';
COMMENT ON COLUMN billing.buyer.postal_code IS 'postal code (郵便番号), IBT-053';
COMMENT ON COLUMN billing.buyer.prefecture IS 'prefecture (都道府県), IBT-054';
COMMENT ON COLUMN billing.buyer.city IS 'city, ward, town (市区町村), IBT-052';
COMMENT ON COLUMN billing.buyer.address_line IS 'street address and building (番地・建物), IBT-050';
COMMENT ON COLUMN billing.buyer.country IS 'ISO 3166-1 country code, JP by default (IBT-055)';
COMMENT ON COLUMN billing.buyer.peppol_scheme IS 'Peppol endpoint scheme (EAS code), IBT-049-1';
COMMENT ON COLUMN billing.buyer.peppol_id IS 'Peppol endpoint identifier (IBT-049)';
COMMENT ON COLUMN billing.document.description IS
	'item or slip text: the invoice line''s item name (IBT-153); by default the kind and reference';
COMMENT ON COLUMN billing.invoice_run.enabled IS
	'false: disabled, the run is neither executed nor processed (billing.disable_run / enable_run)';
COMMENT ON COLUMN billing.invoice_run.validated_at IS
	'when billing.process_run validated the run''s drafts (confirmed them); NULL before';
COMMENT ON COLUMN billing.invoice_run.validated_by IS 'who validated the run''s drafts';
