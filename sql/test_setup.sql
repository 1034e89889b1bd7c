-- The one setup shared by the regression suites (they run in one database;
-- each passes alone after this one, in any order: doc/HACKING.md).

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
