-- Fuzzing the types' input and the calendar with seeded random input: every
-- outcome is a value or one of the documented errors (never another error,
-- never a crash), values round-trip through text, and every answer keeps
-- the calendar's invariants.  The seed makes the run repeatable.
SET search_path = public, billing;
SELECT setseed(0.20261122);

-- 20,000 strings glued from the tokens of the text forms and their near misses
CREATE TEMP TABLE fuzz_text AS
SELECT n, string_agg(tok[1 + floor(random() * array_length(tok, 1))::int], '') AS s
FROM (SELECT ARRAY['daily', 'weekly', 'monthly', 'yearly', 'net', 'month', 'eom', 'eoy',
                   ':', '+', '-', ' ', '0', '1', '7', '9', '12', '28', '30', '31', '60',
                   '363', '364', '366', '99999999999', '2147483648', 'mon', 'Sunday', 'FRI',
                   E'\t', 'x', 'é', '::', '', '-1', '+1', 'monthly:', 'month+1:', 'net:']) AS t(tok),
     generate_series(1, 20000) AS n,
     generate_series(1, 1 + (n % 5)) AS k
GROUP BY n;

CREATE TEMP TABLE fuzz_cycle AS
SELECT f.s, e.state, e.message FROM fuzz_text f, err(format('SELECT %L::billing.cycle', f.s)) AS e;
CREATE TEMP TABLE fuzz_rule AS
SELECT f.s, e.state, e.message FROM fuzz_text f, err(format('SELECT %L::billing.due_rule', f.s)) AS e;

-- only the documented outcomes
SELECT 'cycle' AS type, state, count(*) > 0 AS seen FROM fuzz_cycle GROUP BY state
UNION ALL
SELECT 'due_rule', state, count(*) > 0 FROM fuzz_rule GROUP BY state
ORDER BY 1, 2;
-- every error quotes the text it refused
SELECT count(*) AS errors_not_quoting_input
FROM (SELECT * FROM fuzz_cycle UNION ALL SELECT * FROM fuzz_rule) AS f
WHERE f.state <> 'no error' AND position(format('"%s"', f.s) IN f.message) = 0;
-- what was accepted prints canonically and reads back as itself
SELECT count(*) AS cycles_not_round_tripping
FROM fuzz_cycle WHERE state = 'no error'
  AND s::billing.cycle::text::billing.cycle <> s::billing.cycle;
SELECT count(*) AS rules_not_round_tripping
FROM fuzz_rule WHERE state = 'no error'
  AND s::billing.due_rule::text::billing.due_rule <> s::billing.due_rule;

-- every cycle and rule form against 20,000 dates drawn from PostgreSQL's
-- whole date range, weighted towards its two ends
CREATE TEMP TABLE fuzz_day AS
SELECT n, CASE n % 4
		WHEN 0 THEN '4714-11-24 BC'::date + floor(random() * 800)::int
		WHEN 1 THEN '5874897-12-31'::date - floor(random() * 800)::int
		ELSE '4714-11-24 BC'::date + floor(random() * ('5874897-12-31'::date - '4714-11-24 BC'::date))::int
	END AS d
FROM generate_series(1, 20000) AS n;
CREATE TEMP TABLE fuzz_calc AS
SELECT c.c, r.r, f.d,
       (err(format('SELECT billing.cutoff_on_or_after(%L, %L)', c.c, f.d))).state AS cut_state,
       (err(format('SELECT billing.period_of(%L, %L)', c.c, f.d))).state AS period_state,
       (err(format('SELECT billing.last_closed_period(%L, %L)', c.c, f.d))).state AS closed_state,
       (err(format('SELECT billing.due_date(%L, %L, %L)', r.r, f.d, f.d))).state AS due_state
FROM fuzz_day f
CROSS JOIN LATERAL (SELECT (ARRAY['daily', 'weekly:mon', 'weekly:sun', 'monthly:1', 'monthly:29',
                                  'monthly:eom', 'yearly:1', 'yearly:60', 'yearly:363', 'yearly:eoy'])
                           [1 + f.n % 10]::billing.cycle AS c) AS c
CROSS JOIN LATERAL (SELECT (ARRAY['net:0', 'net:365', 'month+0:eom', 'month+12:29', 'month+1:30'])
                           [1 + f.n % 5]::billing.due_rule AS r) AS r;

SELECT 'cutoff' AS fn, cut_state AS state, count(*) > 0 AS seen FROM fuzz_calc GROUP BY 2
UNION ALL SELECT 'period', period_state, count(*) > 0 FROM fuzz_calc GROUP BY 2
UNION ALL SELECT 'closed', closed_state, count(*) > 0 FROM fuzz_calc GROUP BY 2
UNION ALL SELECT 'due', due_state, count(*) > 0 FROM fuzz_calc GROUP BY 2
ORDER BY 1, 2;

-- the invariants, wherever an answer came back
SELECT count(*) FILTER (WHERE cut_state = 'no error' AND billing.cutoff_on_or_after(c, d) < d) AS cutoff_before_day,
       count(*) FILTER (WHERE period_state = 'no error' AND NOT billing.period_of(c, d) @> d) AS period_missing_day,
       count(*) FILTER (WHERE period_state = 'no error'
                          AND upper(billing.period_of(c, d)) - 1 <> billing.cutoff_on_or_after(c, d)) AS period_not_ending_at_cutoff,
       count(*) FILTER (WHERE closed_state = 'no error' AND upper(billing.last_closed_period(c, d)) > d) AS closed_not_before_day,
       count(*) FILTER (WHERE due_state = 'no error' AND billing.due_date(r, d, d) < d
                          AND r::text NOT LIKE 'month+0%') AS due_before_day
FROM fuzz_calc;
