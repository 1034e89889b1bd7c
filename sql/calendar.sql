-- Calendar functions on real schedules and on every calendar edge.
-- Each row carries the answer worked out by hand (a calendar on the desk:
-- 2026-11-22 is a Sunday, 2027-01-01 a Friday, 4714-11-24 BC a Monday) and
-- whether the function agrees.
\set VERBOSITY default
SET search_path = public, billing;
SET datestyle = ISO, YMD;


CREATE TEMP TABLE cutoff_case (c billing.cycle, d date, expected date);
INSERT INTO cutoff_case VALUES
	-- the 20th
	('monthly:20', '2026-11-20', '2026-11-20'),
	('monthly:20', '2026-11-21', '2026-12-20'),
	('monthly:20', '2026-12-25', '2027-01-20'),
	-- day 30 and 29 in February, leap or not
	('monthly:30', '2026-02-01', '2026-02-28'),
	('monthly:30', '2024-02-10', '2024-02-29'),
	('monthly:30', '2026-02-28', '2026-02-28'),
	('monthly:30', '2026-03-01', '2026-03-30'),
	('monthly:29', '2025-02-01', '2025-02-28'),
	('monthly:29', '2024-02-01', '2024-02-29'),
	('monthly:29', '2024-03-01', '2024-03-29'),
	-- end of month: 1900 and 2100 are not leap years, 2000 is
	('monthly:eom', '1900-02-01', '1900-02-28'),
	('monthly:eom', '2000-02-01', '2000-02-29'),
	('monthly:eom', '2100-02-15', '2100-02-28'),
	('monthly:eom', '2026-04-30', '2026-04-30'),
	('monthly:eom', '2026-05-01', '2026-05-31'),
	('monthly:eom', '2026-12-31', '2026-12-31'),
	('monthly:1', '2026-12-02', '2027-01-01'),
	-- Fridays, and weeks across the year end
	('weekly:fri', '2026-11-22', '2026-11-27'),
	('weekly:fri', '2026-11-27', '2026-11-27'),
	('weekly:fri', '2026-12-26', '2027-01-01'),
	('weekly:sun', '2026-11-22', '2026-11-22'),
	('weekly:mon', '2026-12-29', '2027-01-04'),
	('weekly:sat', '2026-11-22', '2026-11-28'),
	('daily', '2026-11-22', '2026-11-22'),
	('daily', '2024-02-29', '2024-02-29'),
	-- day 60 is Feb 29 in a leap year and Mar 1 otherwise
	('yearly:60', '2024-01-15', '2024-02-29'),
	('yearly:60', '2026-01-15', '2026-03-01'),
	('yearly:60', '2024-03-01', '2025-03-01'),
	('yearly:60', '2023-03-02', '2024-02-29'),
	('yearly:59', '2024-01-01', '2024-02-28'),
	('yearly:61', '2024-01-01', '2024-03-01'),
	('yearly:61', '2026-01-01', '2026-03-02'),
	('yearly:363', '2026-01-01', '2026-12-29'),
	('yearly:363', '2024-01-01', '2024-12-28'),
	('yearly:eoy', '2026-05-01', '2026-12-31'),
	('yearly:eoy', '2026-12-31', '2026-12-31'),
	('yearly:eoy', '2024-12-31', '2024-12-31'),
	('yearly:1', '2026-01-02', '2027-01-01'),
	('yearly:1', '2026-01-01', '2026-01-01'),
	-- the ends of PostgreSQL's date range
	('weekly:mon', '4714-11-24 BC', '4714-11-24 BC'),
	('weekly:sun', '4714-11-24 BC', '4714-11-30 BC'),
	('monthly:20', '4714-11-24 BC', '4714-12-20 BC'),
	('yearly:60', '4714-11-24 BC', '4713-02-29 BC'),
	('monthly:eom', '0001-01-15 BC', '0001-01-31 BC'),
	('yearly:60', '0001-01-01 BC', '0001-02-29 BC'),
	('monthly:eom', '5874897-12-25', '5874897-12-31'),
	('yearly:eoy', '5874897-06-01', '5874897-12-31'),
	('daily', '5874897-12-31', '5874897-12-31');
SELECT c, d, billing.cutoff_on_or_after(c, d) AS cutoff, expected,
       billing.cutoff_on_or_after(c, d) = expected AS ok
FROM cutoff_case;

CREATE TEMP TABLE period_case (c billing.cycle, d date, expected daterange);
INSERT INTO period_case VALUES
	('monthly:20', '2026-11-05', '[2026-10-21,2026-11-21)'),
	('monthly:20', '2026-11-20', '[2026-10-21,2026-11-21)'),
	('monthly:20', '2026-11-21', '[2026-11-21,2026-12-21)'),
	('monthly:eom', '2024-02-10', '[2024-02-01,2024-03-01)'),
	('monthly:eom', '2026-03-31', '[2026-03-01,2026-04-01)'),
	('monthly:eom', '2026-12-15', '[2026-12-01,2027-01-01)'),
	('monthly:30', '2026-02-15', '[2026-01-31,2026-03-01)'),
	('monthly:30', '2026-03-01', '[2026-03-01,2026-03-31)'),
	('weekly:fri', '2026-11-22', '[2026-11-21,2026-11-28)'),
	('weekly:wed', '2026-12-31', '[2026-12-31,2027-01-07)'),
	('daily', '2026-11-22', '[2026-11-22,2026-11-23)'),
	('yearly:60', '2025-06-01', '[2025-03-02,2026-03-02)'),
	('yearly:60', '2024-02-29', '[2023-03-02,2024-03-01)'),
	('yearly:eoy', '2026-07-01', '[2026-01-01,2027-01-01)'),
	('monthly:eom', '4714-12-10 BC', '[4714-12-01 BC,4713-01-01 BC)'),
	('monthly:eom', '5874897-11-15', '[5874897-11-01,5874897-12-01)');
SELECT c, d, billing.period_of(c, d) AS period, billing.period_of(c, d) = expected AS ok
FROM period_case;

CREATE TEMP TABLE closed_case (c billing.cycle, d date, expected daterange);
INSERT INTO closed_case VALUES
	('monthly:20', '2026-11-22', '[2026-10-21,2026-11-21)'),
	('monthly:20', '2026-11-21', '[2026-10-21,2026-11-21)'),
	('monthly:20', '2026-11-20', '[2026-09-21,2026-10-21)'),
	('monthly:eom', '2026-03-01', '[2026-02-01,2026-03-01)'),
	('monthly:eom', '2024-03-01', '[2024-02-01,2024-03-01)'),
	('weekly:fri', '2026-11-22', '[2026-11-14,2026-11-21)'),
	('weekly:fri', '2027-01-02', '[2026-12-26,2027-01-02)'),
	('daily', '2026-11-22', '[2026-11-21,2026-11-22)'),
	('yearly:eoy', '2027-01-01', '[2026-01-01,2027-01-01)'),
	('yearly:60', '2024-03-01', '[2023-03-02,2024-03-01)'),
	('daily', '4714-11-26 BC', '[4714-11-25 BC,4714-11-26 BC)');
SELECT c, d, billing.last_closed_period(c, d) AS period,
       billing.last_closed_period(c, d) = expected AS ok
FROM closed_case;

SELECT billing.cutoffs('monthly:eom', '2024-01-15', '2024-06-30');
SELECT billing.cutoffs('monthly:30', '2025-01-01', '2025-04-30');
SELECT billing.cutoffs('weekly:fri', '2026-12-20', '2027-01-10');
SELECT billing.cutoffs('yearly:60', '2023-01-01', '2026-12-31');
SELECT count(*) AS none FROM billing.cutoffs('daily', '2026-02-01', '2026-01-01');
SELECT count(*) AS days_in_2024 FROM billing.cutoffs('daily', '2024-01-01', '2024-12-31');
SELECT count(*) AS years, min(d), max(d)
FROM billing.cutoffs('yearly:eoy', '1899-01-01', '2101-12-31') AS d;
SELECT billing.cutoffs('daily', '5874897-12-29', '5874897-12-31');
SELECT billing.cutoffs('monthly:20', '5874897-10-01', '5874897-12-31');
SELECT billing.cutoffs('weekly:mon', '4714-11-24 BC', '4714-12-10 BC');

CREATE TEMP TABLE due_case (r billing.due_rule, cutoff date, invoice date, expected date);
INSERT INTO due_case VALUES
	('net:30', '2026-11-20', '2026-11-20', '2026-12-20'),
	('net:30', '2026-11-20', '2026-12-01', '2026-12-31'),
	('net:0', '2026-11-20', '2026-11-21', '2026-11-21'),
	('net:365', '2024-01-01', '2024-01-01', '2024-12-31'),
	('month+1:eom', '2026-01-31', '2026-01-31', '2026-02-28'),
	('month+1:eom', '2024-01-31', '2024-01-31', '2024-02-29'),
	('month+2:10', '2026-11-20', '2026-11-20', '2027-01-10'),
	('month+0:eom', '2026-11-20', '2026-11-20', '2026-11-30'),
	('month+1:30', '2026-01-20', '2026-01-20', '2026-02-28'),
	('month+12:eom', '2099-02-28', '2099-02-28', '2100-02-28'),
	('month+12:29', '1999-02-10', '1999-02-10', '2000-02-29'),
	('month+1:10', '2026-12-31', '2027-01-01', '2027-01-10');
SELECT r, cutoff, invoice, billing.due_date(r, cutoff, invoice) AS due, expected,
       billing.due_date(r, cutoff, invoice) = expected AS ok
FROM due_case;

-- NULL in, NULL out
SELECT billing.cutoff_on_or_after('daily', NULL) IS NULL AS null_date,
       billing.period_of(NULL, '2026-01-01') IS NULL AS null_cycle,
       billing.due_date('net:30', '2026-01-01', NULL) IS NULL AS null_invoice_date;

-- the functions are immutable, strict and parallel safe
SELECT proname, provolatile, proisstrict, proparallel
FROM pg_proc WHERE pronamespace = 'billing'::regnamespace
  AND proname IN ('cutoff_on_or_after', 'period_of', 'last_closed_period',
                  'cutoffs', 'due_date', 'due_rule_fits')
ORDER BY proname;

-- out of range and infinite dates: a clear error, never a wrong date
SELECT q AS query, e.state AS sqlstate, e.message, e.detail, e.hint
FROM unnest(ARRAY[
	$q$SELECT billing.cutoff_on_or_after('monthly:20', '5874897-12-25')$q$,
	$q$SELECT billing.cutoff_on_or_after('yearly:1', '5874897-06-01')$q$,
	$q$SELECT billing.cutoff_on_or_after('yearly:300', '5874897-12-01')$q$,
	$q$SELECT billing.cutoff_on_or_after('weekly:sun', '5874897-12-31')$q$,
	$q$SELECT billing.period_of('daily', '5874897-12-31')$q$,
	$q$SELECT billing.period_of('monthly:20', '4714-11-24 BC')$q$,
	$q$SELECT billing.last_closed_period('daily', '4714-11-24 BC')$q$,
	$q$SELECT billing.last_closed_period('monthly:eom', '4714-12-15 BC')$q$,
	$q$SELECT billing.due_date('month+12:eom', '5874897-01-15', '5874897-01-15')$q$,
	$q$SELECT billing.due_date('net:365', '5874897-12-31', '5874897-12-31')$q$,
	$q$SELECT billing.cutoff_on_or_after('daily', 'infinity')$q$,
	$q$SELECT billing.period_of('monthly:eom', '-infinity')$q$,
	$q$SELECT billing.last_closed_period('weekly:fri', 'infinity')$q$,
	$q$SELECT billing.cutoffs('daily', '2026-01-01', 'infinity')$q$,
	$q$SELECT billing.cutoffs('daily', '-infinity', '2026-01-01')$q$,
	$q$SELECT billing.due_date('net:30', 'infinity', '2026-01-01')$q$]) WITH ORDINALITY AS t(q, n), err(q) AS e
ORDER BY n;
