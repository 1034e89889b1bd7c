-- src/sql/cron.sql: the pg_cron job that issues drafts

-- billing.cron_setup registers (or re-registers) the pg_cron job
-- billing-issue-drafts that calls issue_drafts in database "database" as
-- "username".  One job serves every brand's time zone: it ticks every five
-- minutes (pg_cron schedules are UTC) and issue_drafts is idempotent, so
-- each brand's 00:05 local issue moment is met within one tick.
-- pg_cron functions cannot be called across databases: called where pg_cron
-- is not installed, it raises and its HINT is the exact
-- cron.schedule_in_database call to run in the cron database.
CREATE OR REPLACE FUNCTION billing.cron_setup("at" text DEFAULT '*/5 * * * *',
		username text DEFAULT NULL, database text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	job bigint;
	cron_db text := pg_catalog.current_setting('cron.database_name', true);
	db text := coalesce(database, pg_catalog.current_database());
	who text := coalesce(username, CURRENT_USER);
	cmd constant text := 'SELECT pg_catalog.count(*) FROM billing.issue_drafts()';
BEGIN
	IF "at" IS NULL OR btrim("at") = '' THEN
		RAISE EXCEPTION 'cron schedule must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Use a cron expression in UTC, such as ''*/5 * * * *'' (a tick every five minutes serves every brand''s time zone).';
	END IF;
	IF to_regprocedure('cron.schedule_in_database(text,text,text,text,text,boolean)') IS NULL THEN
		IF cron_db IS NOT NULL AND cron_db <> pg_catalog.current_database() THEN
			RAISE EXCEPTION 'pg_cron lives in database "%", not in "%"', cron_db, pg_catalog.current_database()
				USING ERRCODE = 'undefined_object',
				      DETAIL = 'pg_cron''s functions cannot be called from another database.',
				      HINT = pg_catalog.format('Run in database %s: SELECT cron.schedule_in_database(%L, %L, %L, %L, %L);',
				                               pg_catalog.quote_ident(cron_db), 'billing-issue-drafts', "at", cmd, db, who);
		END IF;
		RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
			USING ERRCODE = 'undefined_object',
			      HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, restart, and CREATE EXTENSION pg_cron.';
	END IF;
	EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4, $5)' INTO job
	USING 'billing-issue-drafts', "at", cmd, db, who;
	RETURN job;
END
$$;
COMMENT ON FUNCTION billing.cron_setup(text, text, text) IS
	'registers (or re-registers) the pg_cron job billing-issue-drafts that calls billing.issue_drafts() in database (default this one) as username (default the caller); the schedule is in UTC, default */5 * * * *; where pg_cron is not installed the error''s hint is the cron.schedule_in_database call to run in the cron database';
REVOKE ALL ON FUNCTION billing.cron_setup(text, text, text) FROM PUBLIC;
