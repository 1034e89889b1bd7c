-- sql/billing--0.1.sql: install script of the billing extension, version 0.1

\echo Use "CREATE EXTENSION billing" to load this file. \quit

------------------------------------------------------------------------------
-- Types: billing.cycle and billing.due_rule (C, fixed-size, pass-by-value)
------------------------------------------------------------------------------

CREATE TYPE billing.cycle;

CREATE FUNCTION billing.cycle_in(cstring) RETURNS billing.cycle
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.cycle_out(billing.cycle) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.cycle_recv(internal) RETURNS billing.cycle
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.cycle_send(billing.cycle) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE billing.cycle (
	INPUT = billing.cycle_in,
	OUTPUT = billing.cycle_out,
	RECEIVE = billing.cycle_recv,
	SEND = billing.cycle_send,
	INTERNALLENGTH = 4,
	PASSEDBYVALUE,
	ALIGNMENT = int4,
	STORAGE = plain
);
COMMENT ON TYPE billing.cycle IS
	'recurrence and cut-off of a billing schedule: daily, weekly:mon..sun, monthly:1..30, monthly:eom, yearly:1..363, yearly:eoy';

CREATE TYPE billing.due_rule;

CREATE FUNCTION billing.due_rule_in(cstring) RETURNS billing.due_rule
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.due_rule_out(billing.due_rule) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.due_rule_recv(internal) RETURNS billing.due_rule
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION billing.due_rule_send(billing.due_rule) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE billing.due_rule (
	INPUT = billing.due_rule_in,
	OUTPUT = billing.due_rule_out,
	RECEIVE = billing.due_rule_recv,
	SEND = billing.due_rule_send,
	INTERNALLENGTH = 4,
	PASSEDBYVALUE,
	ALIGNMENT = int4,
	STORAGE = plain
);
COMMENT ON TYPE billing.due_rule IS
	'payment due rule: net:N (days after the invoice date), month+N:D or month+N:eom (day of the month N months after the cut-off)';

CREATE CAST (billing.cycle AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS billing.cycle) WITH INOUT;
CREATE CAST (billing.due_rule AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS billing.due_rule) WITH INOUT;

-- Comparison.  Both types are an int32 whose order is the order we want
-- (kind, then parameter), so PostgreSQL's own int4 routines serve them.
CREATE FUNCTION billing.cycle_eq(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_ne(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_lt(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_le(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_gt(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_ge(billing.cycle, billing.cycle) RETURNS boolean
	AS 'int4ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_cmp(billing.cycle, billing.cycle) RETURNS integer
	AS 'btint4cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.cycle_hash(billing.cycle) RETURNS integer
	AS 'hashint4' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR billing.= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_eq, COMMUTATOR = OPERATOR(billing.=),
	NEGATOR = OPERATOR(billing.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR billing.<> (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_ne, COMMUTATOR = OPERATOR(billing.<>),
	NEGATOR = OPERATOR(billing.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR billing.< (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_lt, COMMUTATOR = OPERATOR(billing.>),
	NEGATOR = OPERATOR(billing.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR billing.<= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_le, COMMUTATOR = OPERATOR(billing.>=),
	NEGATOR = OPERATOR(billing.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR billing.> (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_gt, COMMUTATOR = OPERATOR(billing.<),
	NEGATOR = OPERATOR(billing.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR billing.>= (LEFTARG = billing.cycle, RIGHTARG = billing.cycle,
	FUNCTION = billing.cycle_ge, COMMUTATOR = OPERATOR(billing.<=),
	NEGATOR = OPERATOR(billing.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS billing.cycle_ops DEFAULT FOR TYPE billing.cycle USING btree AS
	OPERATOR 1 billing.<, OPERATOR 2 billing.<=, OPERATOR 3 billing.=,
	OPERATOR 4 billing.>=, OPERATOR 5 billing.>,
	FUNCTION 1 billing.cycle_cmp(billing.cycle, billing.cycle);
CREATE OPERATOR CLASS billing.cycle_hash_ops DEFAULT FOR TYPE billing.cycle USING hash AS
	OPERATOR 1 billing.=,
	FUNCTION 1 billing.cycle_hash(billing.cycle);

CREATE FUNCTION billing.due_rule_eq(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_ne(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_lt(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_le(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_gt(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_ge(billing.due_rule, billing.due_rule) RETURNS boolean
	AS 'int4ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_cmp(billing.due_rule, billing.due_rule) RETURNS integer
	AS 'btint4cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION billing.due_rule_hash(billing.due_rule) RETURNS integer
	AS 'hashint4' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR billing.= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_eq, COMMUTATOR = OPERATOR(billing.=),
	NEGATOR = OPERATOR(billing.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR billing.<> (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_ne, COMMUTATOR = OPERATOR(billing.<>),
	NEGATOR = OPERATOR(billing.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR billing.< (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_lt, COMMUTATOR = OPERATOR(billing.>),
	NEGATOR = OPERATOR(billing.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR billing.<= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_le, COMMUTATOR = OPERATOR(billing.>=),
	NEGATOR = OPERATOR(billing.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR billing.> (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_gt, COMMUTATOR = OPERATOR(billing.<),
	NEGATOR = OPERATOR(billing.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR billing.>= (LEFTARG = billing.due_rule, RIGHTARG = billing.due_rule,
	FUNCTION = billing.due_rule_ge, COMMUTATOR = OPERATOR(billing.<=),
	NEGATOR = OPERATOR(billing.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS billing.due_rule_ops DEFAULT FOR TYPE billing.due_rule USING btree AS
	OPERATOR 1 billing.<, OPERATOR 2 billing.<=, OPERATOR 3 billing.=,
	OPERATOR 4 billing.>=, OPERATOR 5 billing.>,
	FUNCTION 1 billing.due_rule_cmp(billing.due_rule, billing.due_rule);
CREATE OPERATOR CLASS billing.due_rule_hash_ops DEFAULT FOR TYPE billing.due_rule USING hash AS
	OPERATOR 1 billing.=,
	FUNCTION 1 billing.due_rule_hash(billing.due_rule);

-- The seed's Monthly rules: month+0 is refused for a cut-off on or after the
-- 28th, and month+0:D is refused for D earlier than the cut-off day.
CREATE FUNCTION billing.due_rule_fits(billing.cycle, billing.due_rule) RETURNS boolean
	AS 'MODULE_PATHNAME', 'due_rule_fits' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.due_rule_fits(billing.cycle, billing.due_rule) IS
	'whether a payment due rule fits a billing cycle (the seed''s Monthly rules)';

-- The same test for CHECK constraints: true, or an error naming the rule broken.
CREATE FUNCTION billing.require_due_rule_fits(billing.cycle, billing.due_rule) RETURNS boolean
	AS 'MODULE_PATHNAME', 'due_rule_require_fit' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

------------------------------------------------------------------------------
-- Calendar functions
------------------------------------------------------------------------------

CREATE FUNCTION billing.cutoff_on_or_after(billing.cycle, date) RETURNS date
	AS 'MODULE_PATHNAME', 'cutoff_on_or_after' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.cutoff_on_or_after(billing.cycle, date) IS
	'the first cut-off date on or after the date';

CREATE FUNCTION billing.period_of(billing.cycle, date) RETURNS daterange
	AS 'MODULE_PATHNAME', 'period_of' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.period_of(billing.cycle, date) IS
	'the billing period (previous cut-off, cut-off] that contains the date, as [previous cut-off + 1, cut-off + 1)';

CREATE FUNCTION billing.last_closed_period(billing.cycle, date) RETURNS daterange
	AS 'MODULE_PATHNAME', 'last_closed_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.last_closed_period(billing.cycle, date) IS
	'the latest billing period whose cut-off is before the date';

CREATE FUNCTION billing.cutoffs(billing.cycle, "from" date, "to" date) RETURNS SETOF date
	AS 'MODULE_PATHNAME', 'cutoffs' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION billing.cutoffs(billing.cycle, date, date) IS
	'every cut-off date in [from, to], ascending';

CREATE FUNCTION billing.due_date(billing.due_rule, cutoff date, invoice_date date) RETURNS date
	AS 'MODULE_PATHNAME', 'due_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.due_date(billing.due_rule, date, date) IS
	'the payment due date of an invoice under a due rule';

------------------------------------------------------------------------------
-- Tables.  Brands, schedules, bank accounts, members and runs are small (on
-- Citus: reference tables).  Buyers, documents, invoices, tax lines and
-- document links are per-buyer: keys lead with buyer_id and joins use it, so
-- the schema can be distributed by buyer.
------------------------------------------------------------------------------

-- billing.check_time_zone: true for a time zone PostgreSQL knows, else an error
CREATE FUNCTION billing.check_time_zone(tz text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS $$
BEGIN
	PERFORM now() AT TIME ZONE tz;
	RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
	RAISE EXCEPTION 'unknown time zone "%" for a brand', tz
		USING ERRCODE = 'invalid_parameter_value',
		      HINT = 'Use a name from pg_timezone_names, such as Asia/Tokyo or Europe/Paris.';
END
$$;

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
COMMENT ON TABLE billing.schedule IS 'billing schedule: recurrence and cut-off, due rule, invoice date and issue timing';

-- The schedule's rules, checked before the constraints so that each refusal
-- says what is wrong in a clerk's words (the constraints stay as a backstop).
CREATE FUNCTION billing.schedule_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM billing.schedule s
	           WHERE s.brand_id = NEW.brand_id AND s.code = NEW.code AND s.id <> NEW.id) THEN
		RAISE EXCEPTION 'billing schedule code "%" already exists in this brand', NEW.code
			USING ERRCODE = 'unique_violation',
			      HINT = 'Schedule codes identify a schedule within its brand; choose another code.';
	END IF;
	IF NEW.issue_delay < interval '0' OR NEW.issue_delay >= interval '28 days' THEN
		RAISE EXCEPTION 'issue delay "%" of billing schedule "%" is out of range', NEW.issue_delay, NEW.code
			USING ERRCODE = 'check_violation',
			      DETAIL = 'Drafts are issued at local midnight after the cut-off plus the delay, from 0 up to 28 days.',
			      HINT = 'Use, for example, ''5 minutes'' (00:05, the default) or ''4 days 5 minutes'' (the 5th after a month-end cut-off).';
	END IF;
	IF NEW.override_due_rule AND NEW.due_rule IS NULL THEN
		RAISE EXCEPTION 'billing schedule "%" overrides the payment due rule but has no due rule', NEW.code
			USING ERRCODE = 'check_violation',
			      HINT = 'Set due_rule (for example month+1:eom or net:30), or set override_due_rule to false.';
	END IF;
	IF NOT NEW.override_due_rule AND NEW.due_rule IS NOT NULL THEN
		RAISE EXCEPTION 'billing schedule "%" has due rule "%" but does not override the buyers'' due rules',
			NEW.code, NEW.due_rule
			USING ERRCODE = 'check_violation',
			      HINT = 'Set override_due_rule to true to use the schedule''s due rule, or leave due_rule empty to use each buyer''s.';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER schedule_check BEFORE INSERT OR UPDATE ON billing.schedule
	FOR EACH ROW EXECUTE FUNCTION billing.schedule_check();

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
	CONSTRAINT buyer_schedule_applied CHECK ((schedule_id IS NULL) = (schedule_applied_at IS NULL))
);
ALTER SEQUENCE billing.buyer_id_seq OWNED BY billing.buyer.id;
CREATE INDEX buyer_schedule_idx ON billing.buyer (schedule_id, schedule_applied_at);
COMMENT ON TABLE billing.buyer IS 'a buyer of a brand, with its applied billing schedule and billing balance';

-- Applying a schedule stamps when: drafts start with the first period whose
-- issue moment comes after it (the seed's "at the point when application to
-- the Buyer is completed").
CREATE FUNCTION billing.buyer_stamp_schedule() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF NEW.schedule_id IS NULL THEN
		NEW.schedule_applied_at := NULL;
	ELSIF TG_OP = 'INSERT' THEN
		NEW.schedule_applied_at := coalesce(NEW.schedule_applied_at, now());
	ELSIF NEW.schedule_id IS DISTINCT FROM OLD.schedule_id
	      AND NEW.schedule_applied_at IS NOT DISTINCT FROM OLD.schedule_applied_at THEN
		NEW.schedule_applied_at := now();
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER buyer_stamp_schedule BEFORE INSERT OR UPDATE OF schedule_id, schedule_applied_at
	ON billing.buyer FOR EACH ROW EXECUTE FUNCTION billing.buyer_stamp_schedule();

-- billing.check_document: the per-kind rules of a document, or an error that
-- names the bad value (C, so bulk loads pay next to nothing for it)
CREATE FUNCTION billing.check_document(kind text, amount numeric, tax_rate numeric) RETURNS boolean
	AS 'MODULE_PATHNAME', 'check_document' LANGUAGE C IMMUTABLE PARALLEL SAFE;

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
	CONSTRAINT document_buyer_fkey FOREIGN KEY (buyer_id, brand_id) REFERENCES billing.buyer (id, brand_id),
	CONSTRAINT document_rules CHECK (billing.check_document(kind, amount, tax_rate))
);
ALTER SEQUENCE billing.document_id_seq OWNED BY billing.document.id;
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
	error text
);
ALTER SEQUENCE billing.invoice_run_id_seq OWNED BY billing.invoice_run.id;
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
-- lookups by invoice id alone (bulk actions); ids are unique by their sequence
CREATE INDEX invoice_id_idx ON billing.invoice (id);
CREATE INDEX invoice_run_idx ON billing.invoice (run_id);
COMMENT ON TABLE billing.invoice IS 'draft and billing invoices in the Japanese closing-date layout';

-- Invoices are made only by runs, from rows that exist, so they carry no
-- foreign keys: five checks per invoice cost more than a second per hundred
-- thousand drafts.  Instead, what an invoice points at cannot be deleted
-- while the invoice exists (brands and schedules are held by the runs'
-- foreign keys).
CREATE FUNCTION billing.refuse_delete_when_invoiced() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	invoice bigint;
BEGIN
	EXECUTE format('SELECT i.id FROM billing.invoice i WHERE i.%I = $1 LIMIT 1', TG_ARGV[0])
	INTO invoice USING OLD.id;
	IF invoice IS NOT NULL THEN
		RAISE EXCEPTION 'cannot delete % %: invoice % refers to it', TG_TABLE_NAME, OLD.id, invoice
			USING ERRCODE = 'foreign_key_violation',
			      HINT = 'Invoices are kept for the record; cancel them instead of deleting what they refer to.';
	END IF;
	RETURN OLD;
END
$$;
CREATE TRIGGER buyer_invoiced BEFORE DELETE ON billing.buyer
	FOR EACH ROW EXECUTE FUNCTION billing.refuse_delete_when_invoiced('buyer_id');
CREATE TRIGGER bank_account_invoiced BEFORE DELETE ON billing.bank_account
	FOR EACH ROW EXECUTE FUNCTION billing.refuse_delete_when_invoiced('bank_account_id');
CREATE TRIGGER invoice_run_invoiced BEFORE DELETE ON billing.invoice_run
	FOR EACH ROW EXECUTE FUNCTION billing.refuse_delete_when_invoiced('run_id');

-- Tax per invoice and rate, rounded once per rate (Japan's qualified invoice rule)
CREATE TABLE billing.invoice_tax_line (
	buyer_id bigint NOT NULL,
	invoice_id bigint NOT NULL,
	tax_rate numeric NOT NULL,
	taxable_amount numeric NOT NULL,
	tax numeric NOT NULL,
	PRIMARY KEY (buyer_id, invoice_id, tax_rate)
);
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
CREATE INDEX notification_unsent_idx ON billing.notification (id) WHERE sent_at IS NULL;
COMMENT ON TABLE billing.notification IS 'outbox: one row per member to tell when a run ends';

------------------------------------------------------------------------------
-- Guards
------------------------------------------------------------------------------

-- A document on an invoice is frozen: to correct it, delete the draft first
-- (the seed's rule that a draft's amounts are never edited in place).  The
-- guard takes the buyer's schedule lock in shared mode, so it waits for a
-- run that may be linking the document and then sees that run's links.
CREATE FUNCTION billing.document_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	schedule bigint;
	invoice bigint;
BEGIN
	IF TG_OP = 'UPDATE' AND (NEW.buyer_id, NEW.brand_id, NEW.kind, NEW.document_date,
	                         NEW.billable, NEW.amount, NEW.tax_rate)
	     IS NOT DISTINCT FROM (OLD.buyer_id, OLD.brand_id, OLD.kind, OLD.document_date,
	                           OLD.billable, OLD.amount, OLD.tax_rate) THEN
		RETURN NEW;
	END IF;
	SELECT b.schedule_id INTO schedule FROM billing.buyer b WHERE b.id = OLD.buyer_id;
	IF schedule IS NOT NULL THEN
		PERFORM pg_advisory_xact_lock_shared(1651076204, (schedule % 2147483647)::integer);
	END IF;
	SELECT l.invoice_id INTO invoice FROM billing.document_link l
	WHERE l.buyer_id = OLD.buyer_id AND l.document_id = OLD.id;
	IF FOUND THEN
		RAISE EXCEPTION '% "%" is on invoice % and cannot be %', OLD.kind, OLD.reference, invoice,
			CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'changed' END
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Delete the draft invoice first with billing.delete_drafts(), then correct the document.';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER document_guard BEFORE UPDATE OR DELETE ON billing.document
	FOR EACH ROW EXECUTE FUNCTION billing.document_guard();

-- An amount must fit its brand's currency (no sen in yen, no tenth of a
-- cent in euros).  Checked once per statement over the new rows, so a bulk
-- load of a million documents pays one join, not a lookup per row.
CREATE FUNCTION billing.document_currency_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	bad record;
BEGIN
	SELECT d.reference, d.kind, d.amount, b.currency, b.currency_scale INTO bad
	FROM new_documents d JOIN billing.brand b ON b.id = d.brand_id
	WHERE d.amount <> round(d.amount, b.currency_scale)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION '% "%" has amount %, finer than % allows', bad.kind, bad.reference, bad.amount, bad.currency
			USING ERRCODE = 'check_violation',
			      DETAIL = format('%s amounts have %s decimal places.', bad.currency, bad.currency_scale),
			      HINT = 'Round the amount to the currency''s minor unit before recording it.';
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER document_currency_on_insert AFTER INSERT ON billing.document
	REFERENCING NEW TABLE AS new_documents
	FOR EACH STATEMENT EXECUTE FUNCTION billing.document_currency_check();
CREATE TRIGGER document_currency_on_update AFTER UPDATE ON billing.document
	REFERENCING NEW TABLE AS new_documents
	FOR EACH STATEMENT EXECUTE FUNCTION billing.document_currency_check();

------------------------------------------------------------------------------
-- Invoice runs
------------------------------------------------------------------------------

-- billing.round_amount: an amount rounded to the currency's scale by the
-- brand's mode: down (toward zero), half_up (half away from zero), up (away
-- from zero)
CREATE FUNCTION billing.round_amount(amount numeric, scale integer, mode text) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE mode
		WHEN 'down' THEN trunc(amount, scale)
		WHEN 'half_up' THEN round(amount, scale)
		WHEN 'up' THEN round(trunc(amount, scale)
		                     + sign(amount - trunc(amount, scale)) * power(10::numeric, -scale), scale)
	END
$$;

-- billing.invoice_date_for: the invoice date a schedule gives a period's
-- drafts, from its cut-off and the local date the run issues
CREATE FUNCTION billing.invoice_date_for(mode text, cutoff date, issue_day date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE mode
		WHEN 'cutoff' THEN cutoff
		WHEN 'first_of_month' THEN date_trunc('month', issue_day)::date
		WHEN 'last_of_month' THEN (date_trunc('month', issue_day) + interval '1 month - 1 day')::date
		WHEN 'issue_date' THEN issue_day
	END
$$;

-- billing.plan_scheduled_runs queues one scheduled run for every period of
-- the schedule whose issue moment (local midnight after the cut-off plus the
-- issue delay) has come by as_of and came after the schedule was first
-- applied to a buyer, and that has no scheduled run yet.  Called under the
-- schedule's lock by issue_drafts.
CREATE FUNCTION billing.plan_scheduled_runs(schedule_id bigint, as_of timestamptz) RETURNS SETOF bigint
LANGUAGE sql VOLATILE STRICT SET search_path = pg_catalog AS $$
	WITH s AS (
		SELECT s.id, s.brand_id, s.cycle, s.issue_delay, s.invoice_date_mode, br.time_zone,
		       (SELECT min(b.schedule_applied_at) FROM billing.buyer b
		        WHERE b.schedule_id = s.id) AS in_use_since
		FROM billing.schedule s JOIN billing.brand br ON br.id = s.brand_id
		WHERE s.id = plan_scheduled_runs.schedule_id AND s.enabled
	), due AS (
		SELECT s.*, c.cutoff,
		       ((c.cutoff + 1)::timestamp + s.issue_delay) AT TIME ZONE s.time_zone AS issue_at
		FROM s, billing.cutoffs(s.cycle,
		                        (s.in_use_since AT TIME ZONE s.time_zone)::date - 28,
		                        (as_of AT TIME ZONE s.time_zone)::date) AS c(cutoff)
		WHERE s.in_use_since IS NOT NULL
	), queued AS (
		INSERT INTO billing.invoice_run (brand_id, schedule_id, kind, period, cutoff_date,
		                                 issue_at, as_of, invoice_date, status, description)
		SELECT due.brand_id, due.id, 'scheduled', billing.period_of(due.cycle, due.cutoff),
		       due.cutoff, due.issue_at, as_of,
		       billing.invoice_date_for(due.invoice_date_mode, due.cutoff,
		                                (due.issue_at AT TIME ZONE due.time_zone)::date),
		       'queued', 'scheduled run for the period ending ' || due.cutoff
		FROM due
		WHERE due.issue_at <= as_of AND due.issue_at > due.in_use_since
		  AND NOT EXISTS (SELECT 1 FROM billing.invoice_run r
		                  WHERE r.schedule_id = due.id AND r.cutoff_date = due.cutoff
		                    AND r.kind = 'scheduled' AND r.status <> 'failed')
		RETURNING id, cutoff_date
	)
	SELECT id FROM queued ORDER BY cutoff_date
$$;

-- billing.find_schedule: a schedule by code (and brand code, needed when the
-- code exists in several brands), or an error naming what was not found
CREATE FUNCTION billing.find_schedule(code text, brand text) RETURNS billing.schedule
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	found_schedule billing.schedule;
	matches integer;
BEGIN
	IF code IS NULL OR code = '' THEN
		RAISE EXCEPTION 'billing schedule code must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Pass the code of a schedule: SELECT code, name FROM billing.schedule.';
	END IF;
	IF brand IS NOT NULL AND NOT EXISTS (SELECT 1 FROM billing.brand b WHERE b.code = brand) THEN
		RAISE EXCEPTION 'brand "%" does not exist', brand
			USING ERRCODE = 'undefined_object',
			      HINT = 'Brands are listed by SELECT code, name FROM billing.brand.';
	END IF;
	SELECT count(*) INTO matches
	FROM billing.schedule s JOIN billing.brand b ON b.id = s.brand_id
	WHERE s.code = find_schedule.code AND (brand IS NULL OR b.code = brand);
	IF matches = 0 THEN
		RAISE EXCEPTION 'billing schedule "%" does not exist%', code,
			CASE WHEN brand IS NULL THEN '' ELSE format(' in brand "%s"', brand) END
			USING ERRCODE = 'undefined_object',
			      HINT = 'Schedules are listed by SELECT code, name FROM billing.schedule.';
	ELSIF matches > 1 THEN
		RAISE EXCEPTION 'billing schedule code "%" exists in % brands', code, matches
			USING ERRCODE = 'ambiguous_parameter',
			      HINT = 'Name the brand too, for example brand => ''ACME''.';
	END IF;
	SELECT s.* INTO found_schedule
	FROM billing.schedule s JOIN billing.brand b ON b.id = s.brand_id
	WHERE s.code = find_schedule.code AND (brand IS NULL OR b.code = brand);
	RETURN found_schedule;
END
$$;

-- billing.rerun_target: what a rerun of the schedule as of as_of covers:
-- the most recent closed period (by the local date in the brand's time
-- zone), its cut-off, and the invoice date the schedule gives it.  Also
-- validates the request, with errors that name what is wrong.
CREATE FUNCTION billing.rerun_target(schedule text, as_of timestamptz, brand text,
                                     OUT schedule_id bigint, OUT brand_id bigint,
                                     OUT period daterange, OUT cutoff date, OUT invoice_date date)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	s billing.schedule;
	local_day date;
BEGIN
	IF as_of IS NULL OR NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite time, got %', coalesce(as_of::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave it out to mean now().';
	END IF;
	s := billing.find_schedule(schedule, brand);
	SELECT (as_of AT TIME ZONE b.time_zone)::date INTO local_day
	FROM billing.brand b WHERE b.id = s.brand_id;
	schedule_id := s.id;
	brand_id := s.brand_id;
	period := billing.last_closed_period(s.cycle, local_day);
	cutoff := upper(period) - 1;
	invoice_date := billing.invoice_date_for(s.invoice_date_mode, cutoff, local_day);
END
$$;

-- billing.plan_rerun queues a rerun of the schedule's most recent closed
-- period as of as_of, for the buyers who have the schedule applied then.
CREATE FUNCTION billing.plan_rerun(schedule text, notify text[], as_of timestamptz, brand text)
RETURNS bigint LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	target record;
	unknown text[];
	run_id bigint;
BEGIN
	target := billing.rerun_target(schedule, as_of, brand);
	notify := coalesce(notify, '{}');
	SELECT array_agg(format('"%s"', n) ORDER BY n) INTO unknown
	FROM unnest(notify) AS n
	WHERE NOT EXISTS (SELECT 1 FROM billing.member m WHERE m.brand_id = target.brand_id AND m.code = n);
	IF unknown IS NOT NULL THEN
		RAISE EXCEPTION 'unknown member % to notify', array_to_string(unknown, ', ')
			USING ERRCODE = 'undefined_object',
			      DETAIL = 'Members are named by their code in the brand of the schedule.',
			      HINT = 'Members of the brand are listed by SELECT code, email FROM billing.member.';
	END IF;
	INSERT INTO billing.invoice_run (brand_id, schedule_id, kind, period, cutoff_date, issue_at,
	                                 as_of, invoice_date, status, notify, description)
	VALUES (target.brand_id, target.schedule_id, 'rerun', target.period, target.cutoff, as_of, as_of,
	        target.invoice_date, 'queued', notify, 'rerun of the period ending ' || target.cutoff)
	RETURNING id INTO run_id;
	RETURN run_id;
END
$$;

-- billing.finish_run closes a run: its row, its log line, the outbox rows
-- for the members to notify, a pg_notify on channel billing_run, and a
-- NOTICE (or WARNING on failure) for whoever is watching in psql
CREATE FUNCTION billing.finish_run(run_id bigint, ok boolean, error text, buyers integer,
                                   invoices integer, documents integer, purchases numeric,
                                   tax numeric, billed numeric)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	r billing.invoice_run;
	s billing.schedule;
	currency text;
	message text;
BEGIN
	UPDATE billing.invoice_run AS run
	SET status = CASE WHEN ok THEN 'completed' ELSE 'failed' END,
	    finished_at = clock_timestamp(), buyer_count = buyers, invoice_count = invoices,
	    document_count = documents, purchases_total = purchases, tax_total = tax,
	    billed_total = billed, error = finish_run.error
	WHERE run.id = finish_run.run_id
	RETURNING * INTO r;
	SELECT * INTO s FROM billing.schedule WHERE id = r.schedule_id;
	SELECT b.currency INTO currency FROM billing.brand b WHERE b.id = r.brand_id;
	IF ok THEN
		message := format('%s %s of schedule "%s" for %s..%s: %s buyers, %s drafts, %s documents, purchases %s, tax %s, total %s %s',
		                  CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, r.id, s.code, lower(r.period), upper(r.period) - 1, buyers, invoices,
		                  documents, purchases, tax, billed, currency);
	ELSE
		message := format('%s %s of schedule "%s" for %s..%s failed, nothing was issued: %s',
		                  CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, r.id, s.code, lower(r.period), upper(r.period) - 1, error);
	END IF;
	INSERT INTO billing.run_log (run_id, level, message)
	VALUES (r.id, CASE WHEN ok THEN 'info' ELSE 'error' END, message);
	INSERT INTO billing.notification (run_id, member_id, email, subject, body)
	SELECT r.id, m.id, m.email,
	       format('[billing] %s of schedule %s %s',
	              CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, s.code, r.status),
	       message
	FROM billing.member m
	WHERE m.brand_id = r.brand_id
	  AND (m.code = ANY (r.notify) OR (r.kind = 'scheduled' AND m.notify_scheduled_runs));
	PERFORM pg_notify('billing_run', json_build_object(
		'run_id', r.id, 'schedule', s.code, 'kind', r.kind, 'status', r.status,
		'period_start', lower(r.period), 'cutoff', r.cutoff_date, 'buyers', buyers,
		'invoices', invoices, 'documents', documents, 'total', billed,
		-- a NOTIFY payload must stay under 8000 bytes
		'error', left(error, 1000))::text);
	IF ok THEN
		RAISE NOTICE '%', message;
	ELSE
		RAISE WARNING '%', message;
	END IF;
END
$$;

CREATE FUNCTION billing.issue_drafts_internal(as_of timestamptz) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'issue_drafts_internal' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
CREATE FUNCTION billing.run_invoice_run(run_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'run_invoice_run' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing.run_invoice_run(bigint) IS
	'executes one queued invoice run under its schedule''s lock; true when it completed';

CREATE FUNCTION billing.start_run_worker(run_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'start_run_worker' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing.start_run_worker(bigint) IS
	'starts a background worker that executes a queued run once this transaction commits';

-- billing.issue_drafts: every due scheduled run of every enabled schedule.
-- Idempotent, and catches up on periods missed while nothing called it.
CREATE FUNCTION billing.issue_drafts(as_of timestamptz DEFAULT now())
RETURNS SETOF billing.invoice_run LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog AS $$
DECLARE
	run_ids bigint[];
BEGIN
	IF as_of IS NULL OR NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite time, got %', coalesce(as_of::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave it out to mean now().';
	END IF;
	run_ids := billing.issue_drafts_internal(as_of);
	RETURN QUERY SELECT r.* FROM billing.invoice_run r WHERE r.id = ANY (run_ids) ORDER BY r.id;
END
$$;
COMMENT ON FUNCTION billing.issue_drafts(timestamptz) IS
	'makes the draft invoices of every period whose issue moment has come; idempotent, catches up';

-- billing.rerun_invoice_run: re-aggregates the uninvoiced documents of the
-- schedule's most recent closed period into new drafts (never into existing
-- ones).  Returns the run id; with background => true a background worker
-- does the run after this transaction commits.
CREATE FUNCTION billing.rerun_invoice_run(schedule text, notify text[] DEFAULT '{}',
                                          background boolean DEFAULT false,
                                          as_of timestamptz DEFAULT now(), brand text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog AS $$
DECLARE
	run_id bigint;
BEGIN
	run_id := billing.plan_rerun(schedule, notify, as_of, brand);
	IF coalesce(background, false) THEN
		PERFORM billing.start_run_worker(run_id);
	ELSE
		PERFORM billing.run_invoice_run(run_id);
	END IF;
	RETURN run_id;
END
$$;
COMMENT ON FUNCTION billing.rerun_invoice_run(text, text[], boolean, timestamptz, text) IS
	're-aggregates uninvoiced documents of the most recent closed period into new drafts';

CREATE FUNCTION billing.preview_drafts(brand_id bigint, schedule_id bigint, first_day date,
                                       day_after_cutoff date, applied_before timestamptz,
                                       cutoff date, invoice_date date)
RETURNS TABLE (buyer_id bigint, previous_billed numeric, deposit numeric, purchases numeric,
               tax numeric, documents integer, due_rule billing.due_rule, bank_account_id bigint)
	AS 'MODULE_PATHNAME', 'preview_drafts' LANGUAGE C STABLE PARALLEL UNSAFE;

-- billing.preview_run: the pre-invoicing report.  What a rerun of the
-- schedule would issue now, per buyer (per document with document
-- grouping), computed by the same statement as a run, writing nothing.
CREATE FUNCTION billing.preview_run(schedule text, as_of timestamptz DEFAULT now(),
                                    brand text DEFAULT NULL)
RETURNS TABLE (buyer text, buyer_name text, period daterange, invoice_date date, due_date date,
               documents integer, previous_billed numeric, deposit numeric, carried_over numeric,
               purchases numeric, tax numeric, total numeric, bank_account text)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE SET search_path = pg_catalog AS $$
DECLARE
	target record;
BEGIN
	target := billing.rerun_target(schedule, as_of, brand);
	RETURN QUERY
	SELECT b.code, b.name, target.period, target.invoice_date,
	       billing.due_date(d.due_rule, target.cutoff, target.invoice_date), d.documents,
	       d.previous_billed, d.deposit, d.previous_billed - d.deposit, d.purchases, d.tax,
	       d.previous_billed - d.deposit + d.purchases + d.tax, ba.code
	FROM billing.preview_drafts(target.brand_id, target.schedule_id, lower(target.period),
	                            upper(target.period), as_of, target.cutoff, target.invoice_date) AS d
	JOIN billing.buyer b ON b.id = d.buyer_id
	LEFT JOIN billing.bank_account ba ON ba.id = d.bank_account_id
	ORDER BY b.code;
END
$$;
COMMENT ON FUNCTION billing.preview_run(text, timestamptz, text) IS
	'pre-invoicing report: what a rerun would issue now, per buyer, writing nothing';

-- billing.cancel_run cancels a run's unconfirmed invoices.  reopen frees
-- their documents for a later run; otherwise the documents are closed for
-- good (never_invoice) and stay linked to the cancelled invoices.
CREATE FUNCTION billing.cancel_run(run_id bigint, reopen boolean DEFAULT true)
RETURNS billing.invoice_run LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog AS $$
DECLARE
	r billing.invoice_run;
	cancelled integer;
BEGIN
	SELECT * INTO r FROM billing.invoice_run WHERE id = run_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'invoice run % does not exist', coalesce(run_id::text, 'NULL')
			USING ERRCODE = 'no_data_found', HINT = 'Runs are listed by SELECT * FROM billing.invoice_run.';
	END IF;
	IF r.status IN ('queued', 'running') THEN
		RAISE EXCEPTION 'invoice run % is % and cannot be cancelled yet', run_id, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Wait for it to finish.';
	END IF;
	IF r.status = 'cancelled' THEN
		RAISE EXCEPTION 'invoice run % is already cancelled', run_id
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	PERFORM 1 FROM billing.invoice i
	WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected')
	ORDER BY i.id FOR UPDATE;
	IF coalesce(reopen, true) THEN
		DELETE FROM billing.document_link l USING billing.invoice i
		WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected')
		  AND l.buyer_id = i.buyer_id AND l.invoice_id = i.id;
	ELSE
		UPDATE billing.document d SET never_invoice = true
		FROM billing.document_link l JOIN billing.invoice i
		  ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
		WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected')
		  AND d.buyer_id = l.buyer_id AND d.id = l.document_id;
	END IF;
	UPDATE billing.invoice i SET status = 'cancelled'
	WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected');
	GET DIAGNOSTICS cancelled = ROW_COUNT;
	UPDATE billing.invoice_run SET status = 'cancelled' WHERE id = run_id RETURNING * INTO r;
	INSERT INTO billing.run_log (run_id, level, message)
	VALUES (run_id, 'info', format('run cancelled: %s unconfirmed invoices cancelled, documents %s',
	                               cancelled, CASE WHEN coalesce(reopen, true)
	                                               THEN 'reopened for a later run'
	                                               ELSE 'closed: never to be invoiced' END));
	RETURN r;
END
$$;

------------------------------------------------------------------------------
-- Bulk actions on invoices: all or nothing, refusing what the status forbids
------------------------------------------------------------------------------

-- billing.lock_invoices locks the selected invoices (in id order, so two
-- bulk actions cannot deadlock) and refuses the whole selection when one is
-- missing or in a status the action does not allow
CREATE FUNCTION billing.lock_invoices(invoice_ids bigint[], allowed text[], action text)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	missing bigint[];
	bad record;
BEGIN
	IF invoice_ids IS NULL OR array_position(invoice_ids, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'cannot % invoices: the selection contains NULL', action
			USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass an array of invoice ids.';
	END IF;
	PERFORM 1 FROM billing.invoice i WHERE i.id = ANY (invoice_ids) ORDER BY i.id FOR UPDATE;
	SELECT array_agg(DISTINCT x ORDER BY x) INTO missing
	FROM unnest(invoice_ids) AS x
	WHERE NOT EXISTS (SELECT 1 FROM billing.invoice i WHERE i.id = x);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'cannot % invoices: invoice % does not exist', action,
			array_to_string(missing, ', ')
			USING ERRCODE = 'no_data_found', HINT = 'Nothing was changed; remove the missing ids and try again.';
	END IF;
	SELECT i.id, i.status INTO bad FROM billing.invoice i
	WHERE i.id = ANY (invoice_ids) AND i.status <> ALL (allowed) ORDER BY i.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'cannot % invoice %: it is %', action, bad.id, bad.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = format('Only %s invoices can be %s.', array_to_string(allowed, ' or '),
			                      CASE action WHEN 'delete' THEN 'deleted' ELSE action || 'ed' END),
			      HINT = 'Nothing was changed; leave that invoice out of the selection.';
	END IF;
END
$$;

-- billing.confirm_invoices turns drafts (or quarantined invoices) into
-- billing invoices and adds purchases + tax - deposit to each buyer's
-- balance, in the same transaction
CREATE FUNCTION billing.confirm_invoices(invoice_ids bigint[]) RETURNS SETOF billing.invoice
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog AS $$
BEGIN
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined'], 'confirm');
	PERFORM 1 FROM billing.buyer b
	WHERE b.id IN (SELECT i.buyer_id FROM billing.invoice i WHERE i.id = ANY (invoice_ids))
	ORDER BY b.id FOR UPDATE;
	RETURN QUERY
	WITH confirmed AS (
		UPDATE billing.invoice i SET status = 'confirmed', status_reason = NULL, confirmed_at = now()
		WHERE i.id = ANY (invoice_ids)
		RETURNING i.*
	), balance AS (
		UPDATE billing.buyer b SET billing_balance = b.billing_balance + c.change
		FROM (SELECT buyer_id, sum(purchases + tax - deposit) AS change
		      FROM confirmed GROUP BY buyer_id) AS c
		WHERE b.id = c.buyer_id
	)
	SELECT * FROM confirmed ORDER BY id;
END
$$;

-- billing.delete_drafts deletes drafts with their tax lines and links; their
-- documents become eligible again.  Returns how many were deleted.
CREATE FUNCTION billing.delete_drafts(invoice_ids bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog AS $$
DECLARE
	deleted integer;
BEGIN
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft'], 'delete');
	DELETE FROM billing.document_link l USING billing.invoice i
	WHERE i.id = ANY (invoice_ids) AND l.buyer_id = i.buyer_id AND l.invoice_id = i.id;
	DELETE FROM billing.invoice_tax_line t USING billing.invoice i
	WHERE i.id = ANY (invoice_ids) AND t.buyer_id = i.buyer_id AND t.invoice_id = i.id;
	DELETE FROM billing.invoice i WHERE i.id = ANY (invoice_ids);
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted;
END
$$;

-- billing.quarantine_invoices sets drafts aside for checking
CREATE FUNCTION billing.quarantine_invoices(invoice_ids bigint[], reason text) RETURNS SETOF billing.invoice
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog AS $$
BEGIN
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft'], 'quarantine');
	RETURN QUERY UPDATE billing.invoice i SET status = 'quarantined', status_reason = reason
	WHERE i.id = ANY (invoice_ids) RETURNING i.*;
END
$$;

-- billing.reject_invoices refuses drafts or quarantined invoices, with a reason
CREATE FUNCTION billing.reject_invoices(invoice_ids bigint[], reason text) RETURNS SETOF billing.invoice
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog AS $$
BEGIN
	IF reason IS NULL OR btrim(reason) = '' THEN
		RAISE EXCEPTION 'rejecting invoices needs a reason'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Say why, for the record: reject_invoices(ids, ''wrong prices'').';
	END IF;
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined'], 'reject');
	RETURN QUERY UPDATE billing.invoice i SET status = 'rejected', status_reason = reason
	WHERE i.id = ANY (invoice_ids) RETURNING i.*;
END
$$;

-- billing.cancel_invoices cancels unconfirmed invoices and frees their
-- documents for a later run; a confirmed invoice is corrected by a credit
-- note instead
CREATE FUNCTION billing.cancel_invoices(invoice_ids bigint[]) RETURNS SETOF billing.invoice
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog AS $$
BEGIN
	PERFORM billing.lock_invoices(invoice_ids, ARRAY['draft', 'quarantined', 'rejected'], 'cancel');
	DELETE FROM billing.document_link l USING billing.invoice i
	WHERE i.id = ANY (invoice_ids) AND l.buyer_id = i.buyer_id AND l.invoice_id = i.id;
	RETURN QUERY UPDATE billing.invoice i SET status = 'cancelled'
	WHERE i.id = ANY (invoice_ids) RETURNING i.*;
END
$$;

------------------------------------------------------------------------------
-- pg_cron
------------------------------------------------------------------------------

-- billing.cron_setup registers (or re-registers) the pg_cron job that calls
-- issue_drafts.  pg_cron schedules are in UTC: '5 15 * * *' is 00:05 JST.
CREATE FUNCTION billing.cron_setup("at" text DEFAULT '5 15 * * *') RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	job bigint;
BEGIN
	IF to_regprocedure('cron.schedule(text,text,text)') IS NULL THEN
		RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
			USING ERRCODE = 'undefined_object',
			      HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, restart, and CREATE EXTENSION pg_cron.';
	END IF;
	IF "at" IS NULL OR btrim("at") = '' THEN
		RAISE EXCEPTION 'cron schedule must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Use a cron expression in UTC, such as ''5 15 * * *'' for 00:05 JST.';
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
	USING 'billing-issue-drafts', "at", 'SELECT count(*) FROM billing.issue_drafts()';
	RETURN job;
END
$$;

------------------------------------------------------------------------------
-- pg_dump keeps every user row
------------------------------------------------------------------------------
SELECT pg_catalog.pg_extension_config_dump('billing.brand', '');
SELECT pg_catalog.pg_extension_config_dump('billing.schedule', '');
SELECT pg_catalog.pg_extension_config_dump('billing.bank_account', '');
SELECT pg_catalog.pg_extension_config_dump('billing.buyer', '');
SELECT pg_catalog.pg_extension_config_dump('billing.document', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_run', '');
SELECT pg_catalog.pg_extension_config_dump('billing.run_log', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_tax_line', '');
SELECT pg_catalog.pg_extension_config_dump('billing.document_link', '');
SELECT pg_catalog.pg_extension_config_dump('billing.member', '');
SELECT pg_catalog.pg_extension_config_dump('billing.notification', '');
SELECT pg_catalog.pg_extension_config_dump('billing.brand_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.schedule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.bank_account_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.buyer_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.document_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.run_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.member_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.notification_id_seq', '');

REVOKE ALL ON FUNCTION billing.issue_drafts_internal(timestamptz), billing.run_invoice_run(bigint),
	billing.plan_scheduled_runs(bigint, timestamptz), billing.plan_rerun(text, text[], timestamptz, text),
	billing.finish_run(bigint, boolean, text, integer, integer, integer, numeric, numeric, numeric),
	billing.start_run_worker(bigint), billing.cron_setup(text),
	billing.preview_drafts(bigint, bigint, date, date, timestamptz, date, date)
	FROM PUBLIC;
