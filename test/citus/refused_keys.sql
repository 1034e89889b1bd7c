-- test/citus/refused_keys.sql: pg_temp.refused_unique_keys(), the unique
-- keys of the per-buyer tables that lack the distribution column (Citus
-- refuses them; plan step 2, keys per brand, replaces them).  Read by
-- run.sh ahead of the SQL of the probe and of the suites that place
-- billing's tables for real on throwaway databases (place_for_real).  A session's own function: not for Citus to
-- propagate.
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION pg_temp.refused_unique_keys(OUT table_name regclass, OUT conname name)
RETURNS SETOF record LANGUAGE sql AS $$
	SELECT DISTINCT c.table_name, con.conname
	FROM billing_internal.citus_plan() c
	JOIN pg_attribute a ON a.attrelid = c.table_name AND a.attname = c.distribution_column
	JOIN pg_index i ON i.indrelid = c.table_name AND i.indisunique AND NOT (a.attnum = ANY (i.indkey::int2[]))
	JOIN pg_constraint con ON con.conrelid = c.table_name AND con.conindid = i.indexrelid
	WHERE c.placement = 'distributed' ORDER BY 1, 2
$$;
-- pg_temp.drop_refused_unique_keys(): drops them (on a throwaway database)
CREATE FUNCTION pg_temp.drop_refused_unique_keys() RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
	FOR r IN SELECT * FROM pg_temp.refused_unique_keys() LOOP
		EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.table_name, r.conname);
	END LOOP;
END
$$;
RESET citus.enable_ddl_propagation;
