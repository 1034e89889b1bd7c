-- src/sql/schema.sql: the schema of what is not the API.  The schema
-- billing holds the API: its types, tables and views, and the functions a
-- DBA, an application or pg_cron calls (\df billing.* lists them).  The
-- functions those are made of (the run's statement, locks, guards and
-- triggers, checks, type support) live in billing_internal, on no one's
-- search_path; no role but the owner has USAGE on it, and each of its
-- functions is executable only by whom grants.sql says.
CREATE SCHEMA billing_internal;
COMMENT ON SCHEMA billing_internal IS
	'internal functions of the billing extension (the API is the schema billing); not for direct use';
