-- sql/billing/checks.sql: the functions that the tables' CHECK constraints call

-- billing.check_time_zone: true for a time zone PostgreSQL knows, else an error
CREATE OR REPLACE FUNCTION billing.check_time_zone(tz text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM now() AT TIME ZONE tz;
	RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
	RAISE EXCEPTION 'unknown time zone "%" for a brand', tz
		USING ERRCODE = 'invalid_parameter_value',
		      HINT = 'Use a name from pg_timezone_names, such as Asia/Tokyo or Europe/Paris.';
END
$$;

-- billing.check_document: the per-kind rules of a document, or an error that
-- names the bad value (C, so bulk loads pay next to nothing for it)
CREATE OR REPLACE FUNCTION billing.check_document(kind text, amount numeric, tax_rate numeric) RETURNS boolean
	AS 'MODULE_PATHNAME', 'check_document' LANGUAGE C IMMUTABLE PARALLEL SAFE;
