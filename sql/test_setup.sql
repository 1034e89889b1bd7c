-- Shared by the regression suites that follow (they run in one database,
-- in the order of REGRESS in the Makefile).

-- err(q) runs q and reports the error it raised as a row: SQLSTATE,
-- message, detail and hint (psql's verbose mode would also print C source
-- lines, which change with every edit)
CREATE FUNCTION public.err(q text, OUT state text, OUT message text,
                           OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	state := 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
