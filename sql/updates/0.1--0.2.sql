-- sql/updates/0.1--0.2.sql: the changes to run-once objects (tables, types)
-- from 0.1 to 0.2.  sql/assemble.sh puts this in place of the tables in
-- billing--0.1--0.2.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

-- 0.2: brand grants (row level security) and the maintenance log
CREATE TABLE billing.brand_grant (
	grantee regrole NOT NULL,
	brand_id bigint NOT NULL,
	granted_by name NOT NULL DEFAULT session_user,
	granted_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT brand_grant_pkey PRIMARY KEY (grantee, brand_id)
);

CREATE TABLE billing.maintenance_log (
	logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	session_role name NOT NULL DEFAULT session_user,
	role_name name NOT NULL DEFAULT current_user,
	table_name text NOT NULL,
	operation text NOT NULL,
	query text NOT NULL
);
