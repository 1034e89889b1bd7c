-- billing.cycle: every text form, its canonical output, and every error.
\set VERBOSITY default
SET search_path = public, billing;

-- canonical forms come back as they went in
SELECT c, c::billing.cycle AS canonical
FROM unnest(ARRAY['daily', 'weekly:mon', 'weekly:tue', 'weekly:wed', 'weekly:thu',
                  'weekly:fri', 'weekly:sat', 'weekly:sun', 'monthly:1',
                  'monthly:20', 'monthly:30', 'monthly:eom', 'yearly:1',
                  'yearly:60', 'yearly:363', 'yearly:eoy']) AS c;

-- accepted spellings: case, blanks around ':', long weekday names, ISO numbers,
-- monthly:31 is eom, yearly 364 and above are eoy, leading zeros
SELECT c, c::billing.cycle AS canonical
FROM unnest(ARRAY['DAILY', '  Daily  ', 'weekly : Monday', 'WEEKLY:FRIDAY',
                  'weekly:1', 'weekly:5', 'weekly:7', 'weekly:sunday',
                  'monthly:31', 'Monthly:EOM', 'monthly : 05', 'yearly:364',
                  'yearly:365', 'yearly:366', 'yearly:2147483647', 'YEARLY : EOY']) AS c;

-- binary send/receive round trip and the text casts
-- (binary COPY goes through cycle_send and cycle_recv; an int4 written in
-- binary and read as a cycle exercises the receive checks)
SELECT billing_internal.cycle_send('weekly:fri') AS weekly_fri,
       billing_internal.cycle_send('monthly:eom') AS monthly_eom,
       billing_internal.cycle_send('yearly:eoy') AS yearly_eoy;
CREATE TEMP TABLE cycle_copy (c billing.cycle);
INSERT INTO cycle_copy VALUES ('daily'), ('weekly:sun'), ('monthly:20'), ('yearly:eoy');
COPY cycle_copy TO '/tmp/billing_cycle_copy.bin' (FORMAT binary);
CREATE TEMP TABLE cycle_copy_back (c billing.cycle);
COPY cycle_copy_back FROM '/tmp/billing_cycle_copy.bin' (FORMAT binary);
SELECT c FROM cycle_copy_back;
COPY (SELECT 131077) TO '/tmp/billing_cycle_copy.bin' (FORMAT binary);   -- weekly:5
COPY cycle_copy_back FROM '/tmp/billing_cycle_copy.bin' (FORMAT binary);
COPY (SELECT 196640) TO '/tmp/billing_cycle_copy.bin' (FORMAT binary);   -- monthly:32
COPY cycle_copy_back FROM '/tmp/billing_cycle_copy.bin' (FORMAT binary);
COPY (SELECT 7) TO '/tmp/billing_cycle_copy.bin' (FORMAT binary);        -- no kind
COPY cycle_copy_back FROM '/tmp/billing_cycle_copy.bin' (FORMAT binary);
SELECT c FROM cycle_copy_back;
DROP TABLE cycle_copy, cycle_copy_back;
SELECT 'monthly:eom'::billing.cycle::text AS as_text,
       ('yearly:' || 60)::billing.cycle AS from_text;

-- equality and ordering (kind first, then cut-off)
SELECT 'monthly:31'::billing.cycle = 'monthly:eom' AS eom_equal,
       'weekly:1'::billing.cycle = 'weekly:mon' AS mon_equal,
       'monthly:20'::billing.cycle <> 'monthly:eom' AS differ,
       'daily'::billing.cycle < 'weekly:mon' AS daily_first,
       'monthly:30'::billing.cycle < 'monthly:eom' AS eom_last;
SELECT c FROM unnest(ARRAY['yearly:eoy', 'monthly:eom', 'daily', 'weekly:sun',
                           'monthly:1', 'weekly:mon', 'yearly:1']::billing.cycle[]) AS c
ORDER BY c;
CREATE TEMP TABLE cycles (c billing.cycle PRIMARY KEY);
INSERT INTO cycles VALUES ('monthly:20'), ('monthly:eom');
INSERT INTO cycles VALUES ('monthly:31');   -- same as eom: refused
SELECT c, count(*) FROM cycles GROUP BY c ORDER BY c;
DROP TABLE cycles;

-- errors: bad syntax is 22P02, numbers out of range are 22023
SELECT q AS query, e.state AS sqlstate, e.message, e.detail,
       e.hint LIKE 'Valid forms are daily%' AS hint_lists_forms
FROM unnest(ARRAY[
	$q$SELECT ''::billing.cycle$q$,
	$q$SELECT '   '::billing.cycle$q$,
	$q$SELECT 'hourly'::billing.cycle$q$,
	$q$SELECT 'daily:1'::billing.cycle$q$,
	$q$SELECT 'weekly'::billing.cycle$q$,
	$q$SELECT 'weekly:'::billing.cycle$q$,
	$q$SELECT 'weekly:funday'::billing.cycle$q$,
	$q$SELECT 'weekly:0'::billing.cycle$q$,
	$q$SELECT 'weekly:8'::billing.cycle$q$,
	$q$SELECT 'monthly:0'::billing.cycle$q$,
	$q$SELECT 'monthly:32'::billing.cycle$q$,
	$q$SELECT 'monthly:-1'::billing.cycle$q$,
	$q$SELECT 'monthly:99999999999999999999'::billing.cycle$q$,
	$q$SELECT 'monthly:20x'::billing.cycle$q$,
	$q$SELECT 'monthly:20 20'::billing.cycle$q$,
	$q$SELECT 'monthly:eoy'::billing.cycle$q$,
	$q$SELECT 'yearly:0'::billing.cycle$q$,
	$q$SELECT 'yearly:99999999999'::billing.cycle$q$,
	$q$SELECT 'yearly:eom'::billing.cycle$q$,
	$q$SELECT 'monthly20'::billing.cycle$q$,
	$q$SELECT E'monthly:2\u00a0'::billing.cycle$q$,
	$q$SELECT E'daily\x01'::billing.cycle$q$,
	$q$SELECT 'weekly:averyveryverylongweekdayname'::billing.cycle$q$]) WITH ORDINALITY AS t(q, n), err(q) AS e
ORDER BY n;
