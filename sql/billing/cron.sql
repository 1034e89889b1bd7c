-- sql/billing/cron.sql: the pg_cron job that issues drafts every night

-- billing.cron_setup registers (or re-registers) the pg_cron job that calls
-- issue_drafts.  pg_cron schedules are in UTC: '5 15 * * *' is 00:05 JST.
CREATE OR REPLACE FUNCTION billing.cron_setup("at" text DEFAULT '5 15 * * *') RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
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
	USING 'billing-issue-drafts', "at", 'SELECT pg_catalog.count(*) FROM billing.issue_drafts()';
	RETURN job;
END
$$;
COMMENT ON FUNCTION billing.cron_setup(text) IS
	'registers (or re-registers) the pg_cron job billing-issue-drafts that calls billing.issue_drafts(); the schedule is in UTC, default 5 15 * * * = 00:05 JST';
