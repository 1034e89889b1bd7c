-- test/citus/refused_keys.sql: pg_temp.refused_unique_keys(), the unique
-- keys of the per-buyer tables that lack the distribution column (Citus
-- refuses them; plan step 2, keys per brand, replaces them).  Read by
-- run.sh ahead of the probe's and the ids suite's SQL, which drop them on
-- their throwaway databases.  A session's own function: not for Citus to
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
RESET citus.enable_ddl_propagation;
