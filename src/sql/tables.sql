-- src/sql/tables.sql: the tables, their sequences and indexes (run once;
-- later versions change them in src/sql/updates/)

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
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.brand_id_seq'),
	code text NOT NULL UNIQUE CHECK (code <> ''),
	name text NOT NULL,
	time_zone text NOT NULL DEFAULT 'Asia/Tokyo' CHECK (billing_internal.check_time_zone(time_zone)),
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
	CONSTRAINT brand_text_lengths CHECK (billing_internal.check_length(code, 64, 'brand code')
	                                     AND billing_internal.check_length(name, 200, 'brand name')),
	-- the brand's invoice number series (billing.invoice_series), as in
	-- ACME-2026-000123: prefix (NULL: the brand's code), the year of the
	-- invoice date when the series restarts yearly, the zero-padded counter
	invoice_number_prefix text CONSTRAINT brand_invoice_number_prefix
		CHECK (billing_internal.check_length(invoice_number_prefix, 32, 'invoice number prefix')
		       AND invoice_number_prefix ~ '^[^[:space:][:cntrl:]]+$'),
	invoice_number_yearly_reset boolean NOT NULL DEFAULT true,
	invoice_number_digits smallint NOT NULL DEFAULT 6 CONSTRAINT brand_invoice_number_digits
		CHECK (invoice_number_digits BETWEEN 1 AND 18)
);
ALTER SEQUENCE billing.brand_id_seq OWNED BY billing.brand.id;
SELECT pg_catalog.pg_extension_config_dump('billing.brand', '');
SELECT pg_catalog.pg_extension_config_dump('billing.brand_id_seq', '');
COMMENT ON TABLE billing.brand IS 'a brand environment: owns schedules, buyers, documents, invoices and runs';
COMMENT ON COLUMN billing.brand.id IS 'brand id';
COMMENT ON COLUMN billing.brand.code IS 'the brand''s code, unique; at most 64 characters';
COMMENT ON COLUMN billing.brand.name IS 'the brand''s name; at most 200 characters';
COMMENT ON COLUMN billing.brand.time_zone IS 'named zone of pg_timezone_names (default Asia/Tokyo) whose midnight starts the day after a cut-off';
COMMENT ON COLUMN billing.brand.currency IS 'ISO 4217 currency code of every amount of the brand (default JPY)';
COMMENT ON COLUMN billing.brand.currency_scale IS 'digits after the decimal point of the currency''s minor unit: JPY 0, EUR 2; document amounts must fit it';
COMMENT ON COLUMN billing.brand.tax_rounding IS 'how tax is rounded, once per rate per invoice: down (toward zero, the default), half_up, up';
COMMENT ON COLUMN billing.brand.created_at IS 'when the brand was created';
COMMENT ON COLUMN billing.brand.invoice_number_prefix IS 'what the brand''s invoice numbers begin with (before a hyphen), at most 32 characters without spaces; NULL (the default): the brand''s code, as in ACME-2026-000123';
COMMENT ON COLUMN billing.brand.invoice_number_yearly_reset IS 'true (the default): the series restarts at 1 each year of the invoice date, printed after the prefix (ACME-2026-000001); false: one series for good (ACME-000001)';
COMMENT ON COLUMN billing.brand.invoice_number_digits IS 'digits the counter is padded to with zeros (default 6); a larger counter is printed in full';

CREATE SEQUENCE billing.schedule_id_seq;
CREATE TABLE billing.schedule (
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.schedule_id_seq'),
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
	CONSTRAINT schedule_due_rule_fits CHECK (due_rule IS NULL OR billing_internal.require_due_rule_fits(cycle, due_rule)),
	-- a plain time from 0 up to 28 days: no month part, nothing negative
	CONSTRAINT schedule_issue_delay_check CHECK (billing_internal.check_issue_delay(issue_delay, code)),
	CONSTRAINT schedule_text_lengths CHECK (billing_internal.check_length(code, 64, 'schedule code')
	                                        AND billing_internal.check_length(name, 200, 'schedule name')
	                                        AND billing_internal.check_length(description, 1000, 'schedule description'))
);
ALTER SEQUENCE billing.schedule_id_seq OWNED BY billing.schedule.id;
SELECT pg_catalog.pg_extension_config_dump('billing.schedule', '');
SELECT pg_catalog.pg_extension_config_dump('billing.schedule_id_seq', '');
COMMENT ON TABLE billing.schedule IS 'billing schedule: recurrence and cut-off, due rule, invoice date and issue timing';
COMMENT ON COLUMN billing.schedule.id IS 'schedule id';
COMMENT ON COLUMN billing.schedule.brand_id IS 'the brand the schedule belongs to';
COMMENT ON COLUMN billing.schedule.code IS 'the schedule''s code, unique in its brand (M20, EOM); runs and reruns name it; at most 64 characters';
COMMENT ON COLUMN billing.schedule.name IS 'the schedule''s name (20日締め翌月末払い); at most 200 characters';
COMMENT ON COLUMN billing.schedule.description IS 'free text; at most 1000 characters';
COMMENT ON COLUMN billing.schedule.cycle IS 'recurrence and cut-off: daily, weekly:fri, monthly:20, monthly:eom, yearly:60 ...';
COMMENT ON COLUMN billing.schedule.override_due_rule IS 'true: the schedule''s due_rule applies to all its buyers; false: each buyer''s default due rule';
COMMENT ON COLUMN billing.schedule.due_rule IS 'the payment due rule when override_due_rule is on (month+1:eom = 翌月末), else NULL';
COMMENT ON COLUMN billing.schedule.invoice_date_mode IS 'the invoice date: cutoff (the cut-off date, default), first_of_month or last_of_month of the issue date''s month, issue_date';
COMMENT ON COLUMN billing.schedule.issue_delay IS 'time after local midnight following the cut-off when drafts are issued: 0 up to 28 days, no month part (default 5 minutes = 00:05; 4 days 5 minutes = the 5th)';
COMMENT ON COLUMN billing.schedule.grouping IS 'buyer: one collective invoice per buyer and period (default); document: one invoice per billable document';
COMMENT ON COLUMN billing.schedule.enabled IS 'false: issue_drafts makes no scheduled runs for it';
COMMENT ON COLUMN billing.schedule.created_at IS 'when the schedule was created';
COMMENT ON COLUMN billing.schedule.late_documents IS 'uninvoiced documents of earlier closed periods: rerun (default) leaves them for rerun_invoice_run(..., period => date); next_run bills them with the next scheduled run, each on its own date';

CREATE SEQUENCE billing.bank_account_id_seq;
CREATE TABLE billing.bank_account (
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.bank_account_id_seq'),
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
	CONSTRAINT bank_account_text_lengths CHECK (billing_internal.check_length(code, 64, 'bank account code')
	                                            AND billing_internal.check_length(bank_name, 200, 'bank name')
	                                            AND billing_internal.check_length(branch_name, 200, 'branch name')
	                                            AND billing_internal.check_length(account_number, 64, 'account number')
	                                            AND billing_internal.check_length(account_holder, 200, 'account holder')
	                                            AND billing_internal.check_length(iban, 64, 'IBAN'))
);
ALTER SEQUENCE billing.bank_account_id_seq OWNED BY billing.bank_account.id;
SELECT pg_catalog.pg_extension_config_dump('billing.bank_account', '');
SELECT pg_catalog.pg_extension_config_dump('billing.bank_account_id_seq', '');
COMMENT ON TABLE billing.bank_account IS 'the maker''s bank accounts that buyers pay into';
COMMENT ON COLUMN billing.bank_account.id IS 'bank account id';
COMMENT ON COLUMN billing.bank_account.brand_id IS 'the brand the account belongs to';
COMMENT ON COLUMN billing.bank_account.code IS 'the account''s code, unique in its brand; at most 64 characters';
COMMENT ON COLUMN billing.bank_account.bank_name IS 'name of the bank (振込先銀行); at most 200 characters';
COMMENT ON COLUMN billing.bank_account.branch_name IS 'name of the branch (支店); at most 200 characters';
COMMENT ON COLUMN billing.bank_account.account_type IS 'ordinary (普通, default), current (当座) or savings';
COMMENT ON COLUMN billing.bank_account.account_number IS 'the account number (口座番号); at most 64 characters';
COMMENT ON COLUMN billing.bank_account.account_holder IS 'the account holder''s name as the bank writes it (口座名義); at most 200 characters';
COMMENT ON COLUMN billing.bank_account.iban IS 'IBAN, for accounts outside Japan; at most 64 characters';

CREATE SEQUENCE billing.buyer_id_seq;
CREATE TABLE billing.buyer (
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.buyer_id_seq'),
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
	CONSTRAINT buyer_text_lengths CHECK (billing_internal.check_length(code, 64, 'buyer code')
	                                     AND billing_internal.check_length(name, 200, 'buyer name')),
	CONSTRAINT buyer_billing_balance_finite CHECK (billing_internal.check_finite(billing_balance, 'billing balance of buyer', code)),
	-- |balance| < 10^15, as document amounts: no sum can overflow
	CONSTRAINT buyer_billing_balance_limit CHECK (billing_internal.check_amount_limit(billing_balance, 'billing balance of buyer', code)),
	-- the balance the buyer started with (set from billing_balance on INSERT
	-- unless given); billing.verify() checks balance = opening + confirmed
	opening_balance numeric NOT NULL,
	-- the schedule's code: a buyer may be given its schedule by either
	-- (billing_internal.buyer_stamp_schedule fills in the other); follows a
	-- renamed schedule
	schedule_code text,
	CONSTRAINT buyer_schedule_code_fkey FOREIGN KEY (brand_id, schedule_code)
		REFERENCES billing.schedule (brand_id, code) ON UPDATE CASCADE,
	CONSTRAINT buyer_schedule_code_given CHECK ((schedule_id IS NULL) = (schedule_code IS NULL)),
	-- where the buyer's invoices are mailed (billing.mail_invoices)
	invoice_email text CONSTRAINT buyer_invoice_email_format
		CHECK (billing_internal.check_length(invoice_email, 254, 'invoice e-mail address')
		       AND invoice_email ~ '^[^@[:space:][:cntrl:]<>(),;:"]+@[^@[:space:][:cntrl:]<>(),;:"]+$')
);
ALTER SEQUENCE billing.buyer_id_seq OWNED BY billing.buyer.id;
SELECT pg_catalog.pg_extension_config_dump('billing.buyer', '');
SELECT pg_catalog.pg_extension_config_dump('billing.buyer_id_seq', '');
CREATE INDEX buyer_schedule_idx ON billing.buyer (schedule_id, schedule_applied_at);
-- the buyers of a bank account, for its foreign key when the account is deleted
CREATE INDEX buyer_bank_account_idx ON billing.buyer (default_bank_account_id);
COMMENT ON TABLE billing.buyer IS 'a buyer of a brand, with its applied billing schedule and billing balance';
COMMENT ON COLUMN billing.buyer.schedule_code IS
	'the code of the buyer''s billing schedule: give it or schedule_id on INSERT or UPDATE, the other is filled in';
COMMENT ON COLUMN billing.buyer.id IS 'buyer id; per-buyer tables are keyed and joined on it';
COMMENT ON COLUMN billing.buyer.brand_id IS 'the brand the buyer belongs to';
COMMENT ON COLUMN billing.buyer.code IS 'the buyer''s code, unique in its brand; at most 64 characters';
COMMENT ON COLUMN billing.buyer.name IS 'the buyer''s name; at most 200 characters';
COMMENT ON COLUMN billing.buyer.schedule_id IS 'the billing schedule applied to the buyer, or NULL (not billed by runs)';
COMMENT ON COLUMN billing.buyer.schedule_applied_at IS 'when the schedule was applied (stamped on change): drafts start with the first period issued after it; from a year before the schedule was created up to now (5 minutes of clock skew allowed)';
COMMENT ON COLUMN billing.buyer.default_due_rule IS 'the buyer''s payment due rule, used unless the schedule overrides it; NULL: no due date';
COMMENT ON COLUMN billing.buyer.default_bank_account_id IS 'the maker''s bank account printed on the buyer''s invoices, or NULL';
COMMENT ON COLUMN billing.buyer.billing_balance IS 'what the buyer owes: the opening balance plus purchases + tax - deposit of every confirmed invoice; the next draft''s 前回御請求額; finite, less than 10^15 in magnitude';
COMMENT ON COLUMN billing.buyer.opening_balance IS 'the balance the buyer started with: billing_balance as given on INSERT unless given itself; billing.verify() checks billing_balance = opening_balance + the confirmed invoices';
COMMENT ON COLUMN billing.buyer.invoice_email IS 'the address the buyer''s invoices are mailed to (billing.mail_invoices: PDF and PINT JP XML); NULL: not mailed';

CREATE SEQUENCE billing.document_id_seq;
CREATE TABLE billing.document (
	buyer_id bigint NOT NULL,
	id bigint NOT NULL DEFAULT billing_internal.next_id('billing.document_id_seq'),
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
	CONSTRAINT document_rules CHECK (billing_internal.check_document(kind, amount, tax_rate)),
	CONSTRAINT document_text_lengths CHECK (billing_internal.check_length(reference, 200, 'document reference')),
	-- dated 2000-01-01 .. 2199-12-31, |amount| < 10^15, tax rate of at most 4 decimals
	CONSTRAINT document_within_limits CHECK (billing_internal.check_document_limits(reference, document_date, amount, tax_rate))
);
ALTER SEQUENCE billing.document_id_seq OWNED BY billing.document.id;
SELECT pg_catalog.pg_extension_config_dump('billing.document', '');
SELECT pg_catalog.pg_extension_config_dump('billing.document_id_seq', '');
-- the period's documents; the id lets a run find their smallest id from the index alone
CREATE INDEX document_period_idx ON billing.document (brand_id, document_date) INCLUDE (id);
COMMENT ON TABLE billing.document IS 'every billable source document: delivery invoices, return notes, credit notes, payments';
COMMENT ON COLUMN billing.document.buyer_id IS 'the buyer the document bills';
COMMENT ON COLUMN billing.document.id IS 'document id, in the order documents are written';
COMMENT ON COLUMN billing.document.brand_id IS 'the buyer''s brand';
COMMENT ON COLUMN billing.document.kind IS 'delivery_invoice (adds), return_note and credit_note (subtract), payment (御入金, subtracts from the balance)';
COMMENT ON COLUMN billing.document.document_date IS 'the date that counts for the period: delivery date, return date, credit note issue date, or payment confirmed date; from 2000-01-01 to 2199-12-31';
COMMENT ON COLUMN billing.document.billable IS 'false: a delivery invoice that is never aggregated';
COMMENT ON COLUMN billing.document.amount IS 'amount excluding tax, positive except for delivery price adjustments (the kind gives the sign on the invoice); finite, less than 10^15 in magnitude (so no sum overflows), in the currency''s minor unit';
COMMENT ON COLUMN billing.document.tax_rate IS 'tax rate as a fraction (0.10, 0.08, 0) from 0 up to 1, at most 4 decimals; NULL for payments';
COMMENT ON COLUMN billing.document.reference IS 'the application''s own reference, unique per brand and kind; at most 200 characters';
COMMENT ON COLUMN billing.document.never_invoice IS 'true: closed for good by a cancelled run (cancel_run with reopen => false)';
COMMENT ON COLUMN billing.document.created_at IS 'when the document was recorded';

CREATE SEQUENCE billing.invoice_run_id_seq;
CREATE TABLE billing.invoice_run (
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.invoice_run_id_seq'),
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
	CONSTRAINT invoice_run_schedule_fkey FOREIGN KEY (brand_id, schedule_id) REFERENCES billing.schedule (brand_id, id),
	-- for the run logs and notifications, which carry their run's brand
	CONSTRAINT invoice_run_brand_key UNIQUE (id, brand_id)
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
COMMENT ON COLUMN billing.invoice_run.id IS 'run id';
COMMENT ON COLUMN billing.invoice_run.brand_id IS 'the brand of the schedule';
COMMENT ON COLUMN billing.invoice_run.schedule_id IS 'the schedule the run bills';
COMMENT ON COLUMN billing.invoice_run.kind IS 'scheduled (made by issue_drafts, one per schedule and period) or rerun (rerun_invoice_run)';
COMMENT ON COLUMN billing.invoice_run.period IS 'the period billed, [first day, cut-off + 1)';
COMMENT ON COLUMN billing.invoice_run.cutoff_date IS 'the period''s cut-off (締め日)';
COMMENT ON COLUMN billing.invoice_run.issue_at IS 'scheduled runs: the period''s issue moment; reruns: the as-of time';
COMMENT ON COLUMN billing.invoice_run.as_of IS 'the as_of the run was asked for';
COMMENT ON COLUMN billing.invoice_run.invoice_date IS 'the invoice date of the run''s drafts';
COMMENT ON COLUMN billing.invoice_run.status IS 'queued, running, completed, failed (nothing issued; see error) or cancelled';
COMMENT ON COLUMN billing.invoice_run.requested_by IS 'the role that asked for the run';
COMMENT ON COLUMN billing.invoice_run.notify IS 'codes of the members told when the run ends';
COMMENT ON COLUMN billing.invoice_run.description IS 'what the run is, for people';
COMMENT ON COLUMN billing.invoice_run.queued_at IS 'when the run was asked for';
COMMENT ON COLUMN billing.invoice_run.started_at IS 'when the run started working';
COMMENT ON COLUMN billing.invoice_run.finished_at IS 'when the run completed or failed';
COMMENT ON COLUMN billing.invoice_run.buyer_count IS 'buyers who got a draft';
COMMENT ON COLUMN billing.invoice_run.invoice_count IS 'drafts made';
COMMENT ON COLUMN billing.invoice_run.document_count IS 'documents linked to the drafts';
COMMENT ON COLUMN billing.invoice_run.purchases_total IS '今回御買上額 of all the run''s drafts';
COMMENT ON COLUMN billing.invoice_run.tax_total IS '消費税額 of all the run''s drafts';
COMMENT ON COLUMN billing.invoice_run.billed_total IS '今回御請求額 of all the run''s drafts';
COMMENT ON COLUMN billing.invoice_run.error IS 'why the run failed, or NULL';

CREATE SEQUENCE billing.run_log_id_seq;
CREATE TABLE billing.run_log (
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.run_log_id_seq'),
	run_id bigint NOT NULL,
	logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	level text NOT NULL CHECK (level IN ('info', 'warning', 'error')),
	message text NOT NULL,
	brand_id bigint NOT NULL,
	-- a run's log goes with it, and has its brand (for the brand wall,
	-- which reads no other table: src/sql/security.sql)
	CONSTRAINT run_log_run_fkey FOREIGN KEY (run_id, brand_id) REFERENCES billing.invoice_run (id, brand_id) ON DELETE CASCADE
);
ALTER SEQUENCE billing.run_log_id_seq OWNED BY billing.run_log.id;
SELECT pg_catalog.pg_extension_config_dump('billing.run_log', '');
SELECT pg_catalog.pg_extension_config_dump('billing.run_log_id_seq', '');
CREATE INDEX run_log_run_idx ON billing.run_log (run_id, id);
COMMENT ON TABLE billing.run_log IS 'the execution report of each run';
COMMENT ON COLUMN billing.run_log.id IS 'log line id, in order';
COMMENT ON COLUMN billing.run_log.run_id IS 'the run reported on';
COMMENT ON COLUMN billing.run_log.logged_at IS 'when the line was written';
COMMENT ON COLUMN billing.run_log.level IS 'info, warning or error';
COMMENT ON COLUMN billing.run_log.message IS 'what happened';
COMMENT ON COLUMN billing.run_log.brand_id IS 'the brand of the run (its brand wall reads no other table)';

CREATE SEQUENCE billing.invoice_id_seq;
CREATE TABLE billing.invoice (
	buyer_id bigint NOT NULL,
	id bigint NOT NULL DEFAULT billing_internal.next_id('billing.invoice_id_seq'),
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
	CONSTRAINT invoice_reason CHECK (status NOT IN ('rejected') OR status_reason IS NOT NULL),
	-- the brand's invoice number (請求書番号), given when it is confirmed
	-- (confirm_invoices, billing.invoice_series) and kept for good: a
	-- confirmed invoice has one, no other invoice has one; no two of a
	-- brand the same (billing.issued_invoice_number's key)
	invoice_number text,
	CONSTRAINT invoice_numbered CHECK ((status = 'confirmed') = (invoice_number IS NOT NULL)),
	-- which draft of its run it is: 0 (the buyer's), or its document with
	-- document grouping; NULL for a balance-only draft and for those
	-- written before 0.3.  How the run's tax lines and links find it.
	draft_key bigint
);
ALTER SEQUENCE billing.invoice_id_seq OWNED BY billing.invoice.id;
SELECT pg_catalog.pg_extension_config_dump('billing.invoice', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_id_seq', '');
-- lookups by invoice id alone (bulk actions); ids are unique by their sequence
CREATE INDEX invoice_id_idx ON billing.invoice (id);
CREATE INDEX invoice_run_idx ON billing.invoice (run_id);
-- the invoices of a bank account, for its foreign key when the account is deleted
CREATE INDEX invoice_bank_account_idx ON billing.invoice (bank_account_id);
COMMENT ON TABLE billing.invoice IS 'draft and billing invoices in the Japanese closing-date layout';
COMMENT ON COLUMN billing.invoice.buyer_id IS 'the buyer billed';
COMMENT ON COLUMN billing.invoice.id IS 'invoice id, unique; the bulk actions take arrays of them';
COMMENT ON COLUMN billing.invoice.brand_id IS 'the buyer''s brand';
COMMENT ON COLUMN billing.invoice.schedule_id IS 'the schedule of the run that made it';
COMMENT ON COLUMN billing.invoice.run_id IS 'the run that made it';
COMMENT ON COLUMN billing.invoice.status IS 'draft, confirmed (a billing invoice, in the balance), quarantined (set aside), rejected (with a reason) or cancelled';
COMMENT ON COLUMN billing.invoice.status_reason IS 'why it was quarantined or rejected';
COMMENT ON COLUMN billing.invoice.period IS 'the period billed, [first day, cut-off + 1)';
COMMENT ON COLUMN billing.invoice.cutoff_date IS 'the period''s cut-off (締め日)';
COMMENT ON COLUMN billing.invoice.invoice_date IS 'the invoice date (請求日)';
COMMENT ON COLUMN billing.invoice.due_rule IS 'the due rule that gave due_date: the schedule''s when it overrides, else the buyer''s';
COMMENT ON COLUMN billing.invoice.due_date IS 'the payment due date (お支払期限), or NULL where no due rule applies';
COMMENT ON COLUMN billing.invoice.bank_account_id IS 'the maker''s bank account to pay into (the buyer''s default), or NULL';
COMMENT ON COLUMN billing.invoice.currency IS 'currency of every amount of the invoice';
COMMENT ON COLUMN billing.invoice.previous_billed IS '前回御請求額: the buyer''s billing balance when the draft was made';
COMMENT ON COLUMN billing.invoice.deposit IS '御入金額: payments of the period';
COMMENT ON COLUMN billing.invoice.carried_over IS '繰越金額: previous_billed - deposit';
COMMENT ON COLUMN billing.invoice.purchases IS '今回御買上額: deliveries - returns - credit notes of the period, excluding tax';
COMMENT ON COLUMN billing.invoice.tax IS '消費税額: the sum over tax rates of the tax rounded once per rate (invoice_tax_line)';
COMMENT ON COLUMN billing.invoice.total IS '今回御請求額: carried_over + purchases + tax';
COMMENT ON COLUMN billing.invoice.document_count IS 'documents on the invoice (document_link)';
COMMENT ON COLUMN billing.invoice.created_at IS 'when the draft was made';
COMMENT ON COLUMN billing.invoice.confirmed_at IS 'when it was confirmed, or NULL';
COMMENT ON COLUMN billing.invoice.late_since IS 'the date of its earliest late document of an earlier closed period (schedule late_documents = next_run), or NULL when every document is dated in its period';
COMMENT ON COLUMN billing.invoice.invoice_number IS 'the brand''s invoice number (請求書番号, the XML''s cbc:ID), given when it is confirmed and never changed or given again; NULL before';
COMMENT ON COLUMN billing.invoice.draft_key IS 'which draft of its run it is: 0, the buyer''s; a document''s id with document grouping; NULL for a balance-only draft (and for drafts made before 0.3)';

-- The counters of the brands' invoice number series: one row per brand and
-- year of the invoice date (0: a brand whose series never restarts), made
-- by the first confirmation in it.  Only confirm_invoices moves
-- last_number, in the confirming transaction, holding the row FOR UPDATE:
-- confirmers of one series take turns, and a confirmation that rolls back
-- gives its numbers back, so a series has no gaps (a sequence would have
-- them).  A deleted brand's rows go with it.
CREATE TABLE billing.invoice_series (
	brand_id bigint NOT NULL,
	year integer NOT NULL CONSTRAINT invoice_series_year CHECK (year BETWEEN 0 AND 9999),
	last_number bigint NOT NULL CONSTRAINT invoice_series_last_number CHECK (last_number >= 0),
	PRIMARY KEY (brand_id, year),
	CONSTRAINT invoice_series_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id) ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_series', '');
COMMENT ON TABLE billing.invoice_series IS 'the counter of each brand''s invoice number series: the last number given, per brand and year';
COMMENT ON COLUMN billing.invoice_series.brand_id IS 'the brand of the series';
COMMENT ON COLUMN billing.invoice_series.year IS 'the invoice date''s year the series numbers; 0: the series of a brand that never restarts';
COMMENT ON COLUMN billing.invoice_series.last_number IS 'the last number given in the series (the next confirmed invoice gets the one after it)';

-- The invoice numbers given, one row each, keyed by the brand and the
-- number: what keeps two invoices of a brand from one number.  Not a
-- unique key on the invoices: they are per-buyer rows (distributed by buyer
-- on Citus, where a unique key must hold the buyer), and a brand's numbers
-- cross its buyers.  Written by confirm_invoices in the statement that
-- numbers the invoices (a number given twice fails the confirmation);
-- kept for good, as a confirmed invoice is.  billing.verify() holds it
-- against the invoices.  On Citus distributed by the number (doc/citus.md).
CREATE TABLE billing.issued_invoice_number (
	brand_id bigint NOT NULL,
	invoice_number text NOT NULL,
	buyer_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	CONSTRAINT issued_invoice_number_pkey PRIMARY KEY (brand_id, invoice_number),
	CONSTRAINT issued_invoice_number_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id) ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('billing.issued_invoice_number', '');
COMMENT ON TABLE billing.issued_invoice_number IS 'every invoice number given, once per brand: the key that keeps a brand''s numbers unique (written by confirm_invoices)';
COMMENT ON COLUMN billing.issued_invoice_number.brand_id IS 'the brand whose number it is';
COMMENT ON COLUMN billing.issued_invoice_number.invoice_number IS 'the number, as printed (billing.invoice.invoice_number)';
COMMENT ON COLUMN billing.issued_invoice_number.buyer_id IS 'the buyer of the invoice given it';
COMMENT ON COLUMN billing.issued_invoice_number.invoice_id IS 'the invoice given it';

-- Tax per invoice and rate, rounded once per rate (Japan's qualified invoice rule).
-- Partitioned by invoice id in blocks of 2^17 ids, for the reason the links
-- are (below): a run's tax lines land under every buyer's earlier ones,
-- and in one key over years they touch every leaf page (7,942 full-page
-- images in a run beside five months of history).  The key
-- (buyer_id, invoice_id, tax_rate) is each partition's, as the links' is.
CREATE TABLE billing.invoice_tax_line (
	buyer_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	tax_rate numeric NOT NULL,
	taxable_amount numeric NOT NULL,
	tax numeric NOT NULL,
	-- the invoice's brand, for the brand wall, which reads no other table
	-- (src/sql/security.sql); no key: billing.verify() checks it
	brand_id bigint NOT NULL
) PARTITION BY RANGE (invoice_id);
CREATE TABLE billing.invoice_tax_line_0 PARTITION OF billing.invoice_tax_line
	(PRIMARY KEY (buyer_id, invoice_id, tax_rate)) FOR VALUES FROM (MINVALUE) TO (131072);
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_tax_line_0', '');
COMMENT ON TABLE billing.invoice_tax_line IS 'per invoice and tax rate: taxable amount and tax, rounded once';
COMMENT ON COLUMN billing.invoice_tax_line.buyer_id IS 'the invoice''s buyer';
COMMENT ON COLUMN billing.invoice_tax_line.invoice_id IS 'the invoice';
COMMENT ON COLUMN billing.invoice_tax_line.tax_rate IS 'the tax rate (0.10 標準税率, 0.08 軽減税率)';
COMMENT ON COLUMN billing.invoice_tax_line.taxable_amount IS '税抜対象額: net purchases at this rate, excluding tax';
COMMENT ON COLUMN billing.invoice_tax_line.tax IS '消費税額 at this rate: rate × taxable_amount, rounded once by the brand''s mode';
COMMENT ON COLUMN billing.invoice_tax_line.brand_id IS 'the invoice''s brand (its brand wall reads no other table)';

-- Which invoice each document is on.  The primary key is the guarantee that
-- no bug and no race bills a document twice.  No foreign keys: a link is
-- written only by a run, from the document and the invoice it just read and
-- made, and its two keys cost the run 2 to 3 times its time without them
-- (each check locks the document row it names; README "Design notes").
-- What they would say is kept otherwise: a linked document cannot be
-- deleted or change its key (document_guard, key_never_moves), an invoice
-- goes only through delete_drafts, which deletes its links first, and
-- billing.verify() checks both references.
--
-- Partitioned by document id, in blocks of 2^20 ids (the first from
-- MINVALUE), so that a run writes its links beside few earlier ones: in
-- one key over years of links, each run's inserts touch every leaf page,
-- and after a checkpoint each first touch writes the whole page to the WAL
-- (a run beside five earlier months took 1.2 to 1.4 times as long;
-- test/bench/README.md).  The next blocks are made before a run writes
-- into them, in a transaction of their own
-- (billing_internal.add_partitions).  Each partition has the primary
-- key (buyer_id, document_id) of its own, and a document id is in one
-- partition only, so the key is unique over all of them.  It is declared
-- on each partition, not on the parent, because pg_dump cannot restore a
-- partition made at run time of an extension's parent that has an index
-- (ATTACH makes the partition's index, then the dump's own ADD CONSTRAINT
-- fails).
CREATE TABLE billing.document_link (
	buyer_id bigint NOT NULL,
	document_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	-- the invoice's brand, for the brand wall, which reads no other table
	-- (src/sql/security.sql); no key: billing.verify() checks it
	brand_id bigint NOT NULL
) PARTITION BY RANGE (document_id);
CREATE TABLE billing.document_link_0 PARTITION OF billing.document_link (PRIMARY KEY (buyer_id, document_id))
	FOR VALUES FROM (MINVALUE) TO (1048576);
SELECT pg_catalog.pg_extension_config_dump('billing.document_link_0', '');
-- Links are written run by run, so their document ids grow along the table:
-- a BRIN index lets a run look only at links to recent documents, at almost
-- no cost to write (see first_document_id in src/run.c).
CREATE INDEX document_link_0_document_brin ON billing.document_link_0
	USING brin (document_id) WITH (autosummarize = on);
COMMENT ON TABLE billing.document_link IS 'the invoice each document is on; at most one';
COMMENT ON COLUMN billing.document_link.buyer_id IS 'the document''s buyer';
COMMENT ON COLUMN billing.document_link.document_id IS 'the document; the primary key lets it be on one invoice only';
COMMENT ON COLUMN billing.document_link.invoice_id IS 'the invoice it is on';
COMMENT ON COLUMN billing.document_link.brand_id IS 'the invoice''s brand (its brand wall reads no other table)';

CREATE SEQUENCE billing.member_id_seq;
CREATE TABLE billing.member (
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.member_id_seq'),
	brand_id bigint NOT NULL,
	code text NOT NULL CHECK (code <> ''),
	name text NOT NULL,
	email text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
	-- told about every scheduled run of the brand, not only reruns they ask for
	notify_scheduled_runs boolean NOT NULL DEFAULT false,
	CONSTRAINT member_code_key UNIQUE (brand_id, code),
	CONSTRAINT member_brand_fkey FOREIGN KEY (brand_id) REFERENCES billing.brand (id),
	CONSTRAINT member_text_lengths CHECK (billing_internal.check_length(code, 64, 'member code')
	                                      AND billing_internal.check_length(name, 200, 'member name')
	                                      AND billing_internal.check_length(email, 254, 'member e-mail'))
);
ALTER SEQUENCE billing.member_id_seq OWNED BY billing.member.id;
SELECT pg_catalog.pg_extension_config_dump('billing.member', '');
SELECT pg_catalog.pg_extension_config_dump('billing.member_id_seq', '');
COMMENT ON TABLE billing.member IS 'people of a brand who are told when runs end (notification)';
COMMENT ON COLUMN billing.member.id IS 'member id';
COMMENT ON COLUMN billing.member.brand_id IS 'the brand the member belongs to';
COMMENT ON COLUMN billing.member.code IS 'the member''s code, unique in its brand; reruns name members to notify by it; at most 64 characters';
COMMENT ON COLUMN billing.member.name IS 'the member''s name; at most 200 characters';
COMMENT ON COLUMN billing.member.email IS 'where notifications go; at most 254 characters';
COMMENT ON COLUMN billing.member.notify_scheduled_runs IS 'true: told about every scheduled run of the brand, not only the reruns that name the member';

CREATE SEQUENCE billing.notification_id_seq;
CREATE TABLE billing.notification (
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.notification_id_seq'),
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
	brand_id bigint NOT NULL,
	CONSTRAINT notification_sent_is_final CHECK (sent_at IS NULL OR next_attempt_at IS NULL),
	-- one mail per member per run
	CONSTRAINT notification_run_member_key UNIQUE (run_id, member_id),
	-- a run's notifications go with it and carry its brand (for the brand
	-- wall); a member told is kept
	CONSTRAINT notification_run_fkey FOREIGN KEY (run_id, brand_id) REFERENCES billing.invoice_run (id, brand_id) ON DELETE CASCADE,
	CONSTRAINT notification_member_fkey FOREIGN KEY (member_id) REFERENCES billing.member (id)
);
ALTER SEQUENCE billing.notification_id_seq OWNED BY billing.notification.id;
SELECT pg_catalog.pg_extension_config_dump('billing.notification', '');
SELECT pg_catalog.pg_extension_config_dump('billing.notification_id_seq', '');
CREATE INDEX notification_unsent_idx ON billing.notification (id) WHERE sent_at IS NULL;
-- for the foreign keys when a member is deleted (a run's rows are found by
-- notification_run_member_key)
CREATE INDEX notification_member_idx ON billing.notification (member_id);
COMMENT ON TABLE billing.notification IS 'outbox: one row per member to tell when a run ends';
COMMENT ON COLUMN billing.notification.id IS 'notification id, in order';
COMMENT ON COLUMN billing.notification.run_id IS 'the run that ended';
COMMENT ON COLUMN billing.notification.member_id IS 'the member to tell';
COMMENT ON COLUMN billing.notification.email IS 'the member''s address when the row was written';
COMMENT ON COLUMN billing.notification.subject IS 'subject line';
COMMENT ON COLUMN billing.notification.body IS 'the run''s report line';
COMMENT ON COLUMN billing.notification.created_at IS 'when the run ended';
COMMENT ON COLUMN billing.notification.sent_at IS 'when the SMTP server accepted it; NULL: not sent (yet)';
COMMENT ON COLUMN billing.notification.attempts IS 'attempts to send it begun so far, including one cut short by a crash';
COMMENT ON COLUMN billing.notification.next_attempt_at IS 'when the mailer tries (again); NULL: sent, or given up (see last_error; billing.retry_notifications sends it again)';
COMMENT ON COLUMN billing.notification.last_attempt_at IS 'when the last attempt began';
COMMENT ON COLUMN billing.notification.last_error IS 'why the last attempt failed, or NULL';
COMMENT ON COLUMN billing.notification.brand_id IS 'the brand of the run (its brand wall reads no other table)';


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
SELECT pg_catalog.pg_extension_config_dump('billing.brand_grant', '');
COMMENT ON TABLE billing.brand_grant IS 'which roles (and their members) see which brands: written by grant_brand and revoke_brand';
COMMENT ON COLUMN billing.brand_grant.grantee IS 'the role given the brand; its members have it too (pg_has_role USAGE)';
COMMENT ON COLUMN billing.brand_grant.brand_id IS 'the brand the role sees';
COMMENT ON COLUMN billing.brand_grant.granted_by IS 'the role that called grant_brand';
COMMENT ON COLUMN billing.brand_grant.granted_at IS 'when the brand was granted';

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
SELECT pg_catalog.pg_extension_config_dump('billing.maintenance_log', '');
COMMENT ON TABLE billing.maintenance_log IS 'every statement that wrote billing records by hand under billing.maintenance';
COMMENT ON COLUMN billing.maintenance_log.logged_at IS 'when the statement wrote';
COMMENT ON COLUMN billing.maintenance_log.session_role IS 'the role that logged in (session_user)';
COMMENT ON COLUMN billing.maintenance_log.role_name IS 'the role the statement ran as (current_user)';
COMMENT ON COLUMN billing.maintenance_log.table_name IS 'the billing table written';
COMMENT ON COLUMN billing.maintenance_log.operation IS 'INSERT, UPDATE, DELETE or TRUNCATE';
COMMENT ON COLUMN billing.maintenance_log.query IS 'the statement as the client sent it';


-- The master data a confirmed invoice's XML was made from.  Brands, buyers
-- and bank accounts keep their current values; when a value that the
-- invoice XML prints changes, the row as it was goes here, valid until the
-- change, so billing.invoice_xml() of an invoice confirmed before the change
-- gives the XML it had when it was confirmed (see src/sql/xml.sql).
CREATE SEQUENCE billing.master_data_version_id_seq;
CREATE TABLE billing.master_data_version (
	id bigint PRIMARY KEY DEFAULT billing_internal.next_id('billing.master_data_version_id_seq'),
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
COMMENT ON TYPE billing.preview_row IS
	'a row of billing.preview_run: a draft a rerun would make, in the Japanese closing-date layout';

-- the narrow results of the API's actions (about 8 columns, readable in
-- psql; the details are in billing.invoice_list and billing.run_report)
CREATE TYPE billing.invoice_summary AS (
	invoice_id bigint,
	invoice_number text,
	buyer text,
	status text,
	total numeric,
	currency text
);
COMMENT ON TYPE billing.invoice_summary IS
	'a row of an invoice action (confirm_invoices, delete_drafts, ...): the invoice, its number, buyer code, status after the action, total';
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
COMMENT ON TYPE billing.run_summary IS
	'a row of issue_drafts or of a run action (cancel_run, process_run, ...): the run, its brand and schedule codes, period, step (billing.run_report''s), drafts made, amount billed, error';

-- The invoices mailed to their buyers (billing.mail_invoices, pdf.sql): one
-- row per invoice, so that each is mailed once.  The mailer (src/mailer.c)
-- sends each row as billing_internal.pdf_mail_message makes it, with the PDF and the
-- PINT JP XML attached, and keeps its attempts as for a notification.  No
-- foreign keys, as for the invoice's own: rows are written only by
-- mail_invoices, for invoices it just read, and invoices are never deleted
-- once confirmed.
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
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_mail', '');
CREATE INDEX invoice_mail_unsent_idx ON billing.invoice_mail (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX invoice_mail_run_idx ON billing.invoice_mail (run_id);
COMMENT ON TABLE billing.invoice_mail IS 'an invoice mailed to its buyer with its PDF and XML: one row per invoice (billing.mail_invoices)';
COMMENT ON COLUMN billing.invoice_mail.invoice_id IS 'the invoice mailed; each is mailed once';
COMMENT ON COLUMN billing.invoice_mail.buyer_id IS 'its buyer';
COMMENT ON COLUMN billing.invoice_mail.brand_id IS 'its brand (the brand wall)';
COMMENT ON COLUMN billing.invoice_mail.run_id IS 'the run billing.mail_invoices was called for';
COMMENT ON COLUMN billing.invoice_mail.email IS 'the buyer''s invoice e-mail address when the mail was queued';
COMMENT ON COLUMN billing.invoice_mail.queued_at IS 'when billing.mail_invoices queued it';
COMMENT ON COLUMN billing.invoice_mail.queued_by IS 'the role that called billing.mail_invoices';
COMMENT ON COLUMN billing.invoice_mail.sent_at IS 'when the SMTP server took it; NULL until then (billing.invoice_list.mailed_at)';
COMMENT ON COLUMN billing.invoice_mail.attempts IS 'attempts to send it so far';
COMMENT ON COLUMN billing.invoice_mail.next_attempt_at IS 'when the mailer tries next; NULL when sent or given up';
COMMENT ON COLUMN billing.invoice_mail.last_attempt_at IS 'when the mailer last tried';
COMMENT ON COLUMN billing.invoice_mail.last_error IS 'why the last attempt failed; NULL once sent';

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
