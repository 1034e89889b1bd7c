-- test/bench/calendar.sql: the calendar benchmark (run by calendar.sh)
\set ON_ERROR_STOP on
\pset tuples_only on
\pset format unaligned
SET max_parallel_workers_per_gather = 0;
SET jit = off;

SET client_min_messages = warning;
DROP TABLE IF EXISTS bench.calendar_rows;
CREATE TABLE bench.calendar_rows AS
SELECT (ARRAY['monthly:20', 'monthly:eom', 'weekly:fri', 'yearly:60', 'daily'])[1 + g % 5]::billing.cycle AS c,
       (ARRAY['net:30', 'month+1:eom', 'month+2:10'])[1 + g % 3]::billing.due_rule AS r,
       '2020-01-01'::date + ((g::bigint * 7919) % 3653)::int AS d
FROM generate_series(1, 1000000) AS g;
VACUUM ANALYZE bench.calendar_rows;
CREATE TEMP TABLE timing (name text, rows bigint, ms numeric);

-- the PL/pgSQL versions must agree with the C functions for the comparison to be fair
SELECT 'disagreements ' || count(*) FILTER (WHERE billing.period_of(c, d) <> bench.period_of(c::text, d)
                                             OR billing.due_date(r, d, d) <> bench.due_date(r::text, d, d))
       || ' of ' || count(*) || ' sampled rows'
FROM bench.calendar_rows TABLESAMPLE SYSTEM (5) REPEATABLE (1);

INSERT INTO timing SELECT 'date_trunc_month', 1000000,
	bench.best_ms($$SELECT count(x) FROM (SELECT date_trunc('month', d) AS x FROM bench.calendar_rows) s$$);
INSERT INTO timing SELECT 'period_of', 1000000,
	bench.best_ms($$SELECT count(x) FROM (SELECT billing.period_of(c, d) AS x FROM bench.calendar_rows) s$$);
INSERT INTO timing SELECT 'due_date', 1000000,
	bench.best_ms($$SELECT count(x) FROM (SELECT billing.due_date(r, d, d) AS x FROM bench.calendar_rows) s$$);
-- PL/pgSQL on a tenth of the rows, scaled to a million
INSERT INTO timing SELECT 'plpgsql_period_of', 1000000, 10 *
	bench.best_ms($$SELECT count(x) FROM (SELECT bench.period_of(c::text, d) AS x FROM bench.calendar_rows LIMIT 100000) s$$, 1);
INSERT INTO timing SELECT 'plpgsql_due_date', 1000000, 10 *
	bench.best_ms($$SELECT count(x) FROM (SELECT bench.due_date(r::text, d, d) AS x FROM bench.calendar_rows LIMIT 100000) s$$, 1);

SELECT format('%-18s %s rows %10s ms%s', name, rows, ms,
	CASE name
		WHEN 'period_of' THEN format('  ratio/date_trunc=%s', round(ms / (SELECT ms FROM timing WHERE name = 'date_trunc_month'), 2))
		WHEN 'due_date' THEN format('  ratio/date_trunc=%s', round(ms / (SELECT ms FROM timing WHERE name = 'date_trunc_month'), 2))
		WHEN 'plpgsql_period_of' THEN format('  (100000 rows x 10)  period_of is %sx faster', round(ms / (SELECT ms FROM timing WHERE name = 'period_of'), 1))
		WHEN 'plpgsql_due_date' THEN format('  (100000 rows x 10)  due_date is %sx faster', round(ms / (SELECT ms FROM timing WHERE name = 'due_date'), 1))
		ELSE '' END)
FROM timing;
SELECT format('ratio period_of/date_trunc=%s due_date/date_trunc=%s plpgsql/period_of=%s plpgsql/due_date=%s',
	round(p.ms / t.ms, 2), round(u.ms / t.ms, 2), round(pp.ms / p.ms, 1), round(pu.ms / u.ms, 1))
FROM timing t, timing p, timing u, timing pp, timing pu
WHERE t.name = 'date_trunc_month' AND p.name = 'period_of' AND u.name = 'due_date'
  AND pp.name = 'plpgsql_period_of' AND pu.name = 'plpgsql_due_date';
