-- Cross-check the C calendar against an independent reference written with
-- PostgreSQL's own date arithmetic (date_trunc, intervals, isodow), over
-- every day of 1899..1901, 1995..2030, 2098..2102 and 3 BC..3 AD for cycles covering every
-- edge class.  Each query counts disagreements; all must be 0.
CREATE SCHEMA calref;

-- calref.cutoff: the first cut-off on or after d, the slow obvious way
CREATE FUNCTION calref.cutoff(c text, d date) RETURNS date LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE split_part(c, ':', 1)
	WHEN 'daily' THEN d
	WHEN 'weekly' THEN d + (split_part(c, ':', 2)::int - extract(isodow FROM d)::int + 7) % 7
	WHEN 'monthly' THEN (
		SELECT min(x) FROM (
			SELECT CASE WHEN split_part(c, ':', 2) = 'eom' THEN last_day
			            ELSE least(first_day + split_part(c, ':', 2)::int - 1, last_day) END AS x
			FROM (SELECT m::date AS first_day, (m + interval '1 month - 1 day')::date AS last_day
			      FROM generate_series(date_trunc('month', d::timestamp),
			                           date_trunc('month', d::timestamp) + interval '1 month',
			                           interval '1 month') AS m) AS months) AS cut
		WHERE x >= d)
	WHEN 'yearly' THEN (
		SELECT min(x) FROM (
			SELECT CASE WHEN split_part(c, ':', 2) = 'eoy' THEN (y + interval '1 year - 1 day')::date
			            ELSE y::date + split_part(c, ':', 2)::int - 1 END AS x
			FROM generate_series(date_trunc('year', d::timestamp),
			                     date_trunc('year', d::timestamp) + interval '1 year',
			                     interval '1 year') AS y) AS cut
		WHERE x >= d)
	END
$$;

-- calref.due: a due date from its definition
CREATE FUNCTION calref.due(r text, cutoff date, invoice date) RETURNS date LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN r LIKE 'net:%' THEN invoice + split_part(r, ':', 2)::int
	ELSE (SELECT CASE WHEN split_part(r, ':', 2) = 'eom' THEN last_day
	                  ELSE least(first_day + split_part(r, ':', 2)::int - 1, last_day) END
	      FROM (SELECT m::date AS first_day, (m + interval '1 month - 1 day')::date AS last_day
	            FROM (SELECT date_trunc('month', cutoff::timestamp)
	                         + make_interval(months => split_part(split_part(r, ':', 1), '+', 2)::int) AS m) AS s) AS t)
	END
$$;

CREATE TEMP TABLE xcycle AS
SELECT c::text AS c, c::billing.cycle AS cyc FROM unnest(ARRAY[
	'daily', 'weekly:1', 'weekly:3', 'weekly:7', 'monthly:1', 'monthly:15',
	'monthly:28', 'monthly:29', 'monthly:30', 'monthly:eom', 'yearly:1',
	'yearly:59', 'yearly:60', 'yearly:61', 'yearly:363', 'yearly:eoy']) AS c;
CREATE TEMP TABLE xday AS
SELECT d::date AS d
FROM (VALUES ('1899-01-01'::date, '1901-12-31'::date), ('1995-01-01', '2030-12-31'),
             ('2098-01-01', '2102-12-31'), ('0003-01-01 BC', '0003-12-31')) AS span(lo, hi),
     generate_series(lo, hi, '1 day') AS d;
CREATE TEMP TABLE xcalc AS
SELECT c, cyc, d, calref.cutoff(c, d) AS ref_cut FROM xcycle, xday;
CREATE INDEX ON xcalc (c, d);

SELECT count(*) AS checked,
       count(*) FILTER (WHERE billing.cutoff_on_or_after(cyc, d) <> ref_cut) AS cutoff_mismatches
FROM xcalc;

-- period_of(c, d) = [lo, hi) is right when hi - 1 is d's cut-off, lo - 1 is
-- a cut-off, and no cut-off lies in [lo, hi - 1)
SELECT count(*) FILTER (WHERE upper(p) - 1 <> x.ref_cut
                           OR calref.cutoff(x.c, lower(p) - 1) <> lower(p) - 1
                           OR calref.cutoff(x.c, lower(p)) <> upper(p) - 1) AS period_mismatches
FROM xcalc AS x, billing.period_of(x.cyc, x.d) AS p;

-- last_closed_period(c, d) = [lo, hi): hi - 1 < d is a cut-off with none in
-- (hi - 1, d), and [lo, hi) is the period of hi - 1
SELECT count(*) FILTER (WHERE upper(p) - 1 >= x.d
                           OR calref.cutoff(x.c, upper(p) - 1) <> upper(p) - 1
                           OR calref.cutoff(x.c, upper(p)) < x.d
                           OR p <> billing.period_of(x.cyc, upper(p) - 1)) AS closed_mismatches
FROM xcalc AS x, billing.last_closed_period(x.cyc, x.d) AS p;

-- cutoffs(c, from, to) lists exactly the distinct reference cut-offs <= to
SELECT count(*) FILTER (WHERE got IS DISTINCT FROM want) AS cutoffs_mismatches
FROM (SELECT c,
             (SELECT array_agg(x ORDER BY x) FROM billing.cutoffs(cyc, '1990-01-01', '2030-12-31') AS x) AS got,
             (SELECT array_agg(DISTINCT ref_cut ORDER BY ref_cut) FROM xcalc AS y
              WHERE y.c = xcycle.c AND y.d BETWEEN '1990-01-01' AND '2030-12-31'
                AND y.ref_cut <= '2030-12-31') AS want
      FROM xcycle) AS s;

-- due dates for every rule over four years of cut-offs
SELECT count(*) AS checked,
       count(*) FILTER (WHERE billing.due_date(r::billing.due_rule, d, d + 3) <> calref.due(r, d, d + 3)) AS due_mismatches
FROM unnest(ARRAY['net:0', 'net:30', 'net:365', 'month+0:15', 'month+0:eom',
                  'month+1:10', 'month+1:29', 'month+1:30', 'month+1:eom',
                  'month+2:10', 'month+12:29', 'month+12:eom']) AS r,
     (SELECT g::date FROM generate_series('2098-01-01'::date, '2101-12-31', '1 day') AS g) AS g(d);

DROP SCHEMA calref CASCADE;
