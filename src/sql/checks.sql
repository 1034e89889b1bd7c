-- src/sql/checks.sql: the functions that the tables' CHECK constraints
-- call.  Each returns true or raises an error that names the bad value and
-- says what to do, so a refused row explains itself.  The limits they apply
-- are listed in the README (Settings and limits).

-- billing_internal.check_time_zone: true for a named zone of pg_timezone_names, else
-- an error.  PostgreSQL itself also accepts abbreviations (JST) and POSIX
-- strings (XYZ-167, which reads as UTC+167 hours) in AT TIME ZONE; a brand's
-- midnight must not depend on either.
CREATE OR REPLACE FUNCTION billing_internal.check_time_zone(tz text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	spelled text;
BEGIN
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = tz) THEN
		RETURN true;
	END IF;
	SELECT z.name INTO spelled FROM pg_catalog.pg_timezone_names z
	WHERE lower(z.name) = lower(tz) ORDER BY z.name LIMIT 1;
	RAISE EXCEPTION 'unknown time zone "%" for a brand', left(tz, 100)
		USING ERRCODE = 'invalid_parameter_value',
		      DETAIL = 'A brand''s time zone must be a named zone of pg_timezone_names; abbreviations such as JST and POSIX strings such as XYZ-167 are refused.',
		      HINT = CASE WHEN spelled IS NOT NULL THEN format('Write it as "%s".', spelled)
		                  ELSE 'Use a name from pg_timezone_names, such as Asia/Tokyo or Europe/Paris.' END;
END
$$;
COMMENT ON FUNCTION billing_internal.check_time_zone(text) IS
	'CHECK of brand.time_zone: true for a named zone of pg_timezone_names, else an error naming it';
GRANT EXECUTE ON FUNCTION billing_internal.check_time_zone(text) TO PUBLIC;

-- billing_internal.check_issue_delay: a schedule's issue delay is a plain time from 0
-- up to 28 days: no month part (a month has no fixed length), and nothing
-- negative in any field.  '-1 mon +30 days 1 hour' compares as 1 hour, but
-- added to a date it goes back a month and forward 30 days: on a month-end
-- cut-off it would issue at 01:00 on the cut-off day itself, before that
-- day's deliveries.
CREATE OR REPLACE FUNCTION billing_internal.check_issue_delay(delay interval, schedule text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF delay IS NULL
	   OR (extract(year FROM delay) = 0 AND extract(month FROM delay) = 0
	       AND extract(day FROM delay) >= 0
	       AND delay - date_trunc('day', delay) >= interval '0'
	       AND delay < interval '28 days') THEN
		RETURN true;
	END IF;
	RAISE EXCEPTION 'issue delay "%" of billing schedule "%" is out of range', delay, schedule
		USING ERRCODE = 'check_violation',
		      DETAIL = 'Drafts are issued at local midnight after the cut-off plus the delay: a time from 0 up to 28 days, with no month part and nothing negative in any field.',
		      HINT = 'Use, for example, ''5 minutes'' (00:05, the default) or ''4 days 5 minutes'' (the 5th after a month-end cut-off).';
END
$$;
COMMENT ON FUNCTION billing_internal.check_issue_delay(interval, text) IS
	'CHECK of schedule.issue_delay: true for a time from 0 up to 28 days with no month part and no negative field, else an error naming the schedule';
GRANT EXECUTE ON FUNCTION billing_internal.check_issue_delay(interval, text) TO PUBLIC;

-- billing_internal.check_document: the per-kind rules of a document and finite
-- amounts and rates, or an error that names the bad value (C, so bulk
-- loads pay next to nothing for it)
CREATE OR REPLACE FUNCTION billing_internal.check_document(kind text, amount numeric, tax_rate numeric) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_check_document' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.check_document(text, numeric, numeric) IS
	'CHECK of a document: known kind, finite amount (not negative except for deliveries), a tax rate in [0, 1) except for payments, which have none';
GRANT EXECUTE ON FUNCTION billing_internal.check_document(text, numeric, numeric) TO PUBLIC;

-- billing_internal.check_finite: true, or an error when an amount is NaN or
-- +-Infinity (numeric accepts both), naming it as what "whose"
CREATE OR REPLACE FUNCTION billing_internal.check_finite(amount numeric, what text, whose text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_check_finite' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.check_finite(numeric, text, text) IS
	'CHECK of an amount or balance: true unless it is NaN or Infinity, else an error naming it';
GRANT EXECUTE ON FUNCTION billing_internal.check_finite(numeric, text, text) TO PUBLIC;

-- billing_internal.check_length: true, or an error when a text has more than
-- max_chars characters, naming the limit and quoting the value's start
CREATE OR REPLACE FUNCTION billing_internal.check_length(value text, max_chars integer, what text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_check_length' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.check_length(text, integer, text) IS
	'CHECK of a code, name or reference: true when it has at most max_chars characters, else an error naming the limit';
GRANT EXECUTE ON FUNCTION billing_internal.check_length(text, integer, text) TO PUBLIC;

-- billing_internal.check_document_limits: a document's date, amount and tax rate are
-- within what billing accepts (README, Limits on input): dated 2000-01-01
-- to 2199-12-31, |amount| < 10^15, a tax rate of at most 4 decimals; or an
-- error naming the document's reference and the value.  So no document
-- date falls off the calendar and no sum of amounts overflows numeric.
CREATE OR REPLACE FUNCTION billing_internal.check_document_limits(reference text, document_date date,
                                                         amount numeric, tax_rate numeric) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_check_document_limits' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.check_document_limits(text, date, numeric, numeric) IS
	'CHECK of a document: dated 2000-01-01 to 2199-12-31, |amount| < 10^15, tax rate of at most 4 decimals; else an error naming the reference';
GRANT EXECUTE ON FUNCTION billing_internal.check_document_limits(text, date, numeric, numeric) TO PUBLIC;

-- billing_internal.check_amount_limit: true, or an error when |amount| is 10^15 or
-- more, naming it as what "whose" (the same limit as document amounts)
CREATE OR REPLACE FUNCTION billing_internal.check_amount_limit(amount numeric, what text, whose text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_check_amount_limit' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.check_amount_limit(numeric, text, text) IS
	'CHECK of a balance: true when |amount| < 10^15, else an error naming it';
GRANT EXECUTE ON FUNCTION billing_internal.check_amount_limit(numeric, text, text) TO PUBLIC;
