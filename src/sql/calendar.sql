-- src/sql/calendar.sql: the due-rule fit and the calendar functions (C)

-- The seed's Monthly rules: month+0 is refused for a cut-off on or after the
-- 28th, and month+0:D is refused for D earlier than the cut-off day.
CREATE OR REPLACE FUNCTION billing.due_rule_fits(billing.cycle, billing.due_rule) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_due_rule_fits' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.due_rule_fits(billing.cycle, billing.due_rule) IS
	'whether a payment due rule fits a billing cycle (the seed''s Monthly rules)';

-- The same test for CHECK constraints: true, or an error naming the rule broken.
CREATE OR REPLACE FUNCTION billing_internal.require_due_rule_fits(billing.cycle, billing.due_rule) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_due_rule_require_fit' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.require_due_rule_fits(billing.cycle, billing.due_rule) IS
	'CHECK of a schedule''s due rule: true when it fits the cycle, else an error naming the seed''s rule it breaks';
GRANT EXECUTE ON FUNCTION billing_internal.require_due_rule_fits(billing.cycle, billing.due_rule) TO PUBLIC;

------------------------------------------------------------------------------
-- Calendar functions
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION billing.cutoff_on_or_after(billing.cycle, date) RETURNS date
	AS 'MODULE_PATHNAME', 'billing_cutoff_on_or_after' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.cutoff_on_or_after(billing.cycle, date) IS
	'the first cut-off date on or after the date';

CREATE OR REPLACE FUNCTION billing.period_of(billing.cycle, date) RETURNS daterange
	AS 'MODULE_PATHNAME', 'billing_period_of' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.period_of(billing.cycle, date) IS
	'the billing period (previous cut-off, cut-off] that contains the date, as [previous cut-off + 1, cut-off + 1)';

CREATE OR REPLACE FUNCTION billing.last_closed_period(billing.cycle, date) RETURNS daterange
	AS 'MODULE_PATHNAME', 'billing_last_closed_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.last_closed_period(billing.cycle, date) IS
	'the latest billing period whose cut-off is before the date';

CREATE OR REPLACE FUNCTION billing.cutoffs(billing.cycle, "from" date, "to" date) RETURNS SETOF date
	AS 'MODULE_PATHNAME', 'billing_cutoffs' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION billing.cutoffs(billing.cycle, date, date) IS
	'every cut-off date in [from, to], ascending';

CREATE OR REPLACE FUNCTION billing.due_date(billing.due_rule, cutoff date, invoice_date date) RETURNS date
	AS 'MODULE_PATHNAME', 'billing_due_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing.due_date(billing.due_rule, date, date) IS
	'the payment due date of an invoice under a due rule';
