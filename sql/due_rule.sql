-- billing.due_rule: text forms, canonical output, errors, and due_rule_fits.
\set VERBOSITY default
SET search_path = public, billing;

SELECT r, r::billing.due_rule AS canonical
FROM unnest(ARRAY['net:0', 'net:30', 'net:365', 'month+0:20', 'month+1:eom',
                  'month+2:10', 'month+12:30', 'month+0:eom']) AS r;

-- accepted spellings: case, blanks, :31 is eom, leading zeros
SELECT r, r::billing.due_rule AS canonical
FROM unnest(ARRAY['NET:30', ' net : 7 ', 'Month+1:EOM', 'month + 1 : 31',
                  'month+01:05', 'MONTH+2:10']) AS r;

-- the seed's examples: 翌月末, 翌々月10日, NET30
SELECT 'month+1:eom'::billing.due_rule AS "翌月末",
       'month+2:10'::billing.due_rule AS "翌々月10日",
       'net:30'::billing.due_rule AS "NET30";

SELECT billing_internal.due_rule_send('net:30') AS net_30,
       billing_internal.due_rule_send('month+1:eom') AS month_1_eom;
CREATE TEMP TABLE rule_copy (r billing.due_rule);
INSERT INTO rule_copy VALUES ('net:30'), ('month+1:eom'), ('month+2:10');
COPY rule_copy TO '/tmp/billing_rule_copy.bin' (FORMAT binary);
CREATE TEMP TABLE rule_copy_back (r billing.due_rule);
COPY rule_copy_back FROM '/tmp/billing_rule_copy.bin' (FORMAT binary);
SELECT r FROM rule_copy_back;
COPY (SELECT 16777582) TO '/tmp/billing_rule_copy.bin' (FORMAT binary);  -- net:366
COPY rule_copy_back FROM '/tmp/billing_rule_copy.bin' (FORMAT binary);
DROP TABLE rule_copy, rule_copy_back;

SELECT 'month+1:31'::billing.due_rule = 'month+1:eom' AS eom_equal,
       'net:30'::billing.due_rule < 'month+0:1' AS net_first,
       'month+1:eom'::billing.due_rule > 'month+1:30' AS eom_last,
       'net:30'::text::billing.due_rule AS from_text;

-- Which rules fit which cycles (the seed's Monthly rules).  Expected by hand:
-- month+0 is refused for cut-offs 28..eom; month+0:D with D before the
-- cut-off day is refused; everything else fits.
SELECT c, r, billing.due_rule_fits(c::billing.cycle, r::billing.due_rule) AS fits
FROM unnest(ARRAY['monthly:20', 'monthly:27', 'monthly:28', 'monthly:eom',
                  'weekly:fri', 'yearly:eoy', 'daily']) AS c,
     unnest(ARRAY['month+0:10', 'month+0:20', 'month+0:27', 'month+0:eom',
                  'month+1:10', 'month+1:eom', 'net:30']) AS r
ORDER BY c, r;

-- the CHECK-constraint form: true, or an error naming the rule broken
SELECT c, r, e.state AS sqlstate, e.message, e.detail, e.hint
FROM (VALUES ('monthly:20', 'month+0:25'), ('monthly:20', 'month+0:10'),
             ('monthly:eom', 'month+0:eom'), ('monthly:28', 'month+0:30')) AS v(c, r),
     err(format('SELECT billing_internal.require_due_rule_fits(%L, %L)', c, r)) AS e;

-- errors: bad syntax is 22P02, numbers out of range are 22023
SELECT q AS query, e.state AS sqlstate, e.message, e.detail,
       e.hint LIKE 'Valid forms are net:N%' AS hint_lists_forms
FROM unnest(ARRAY[
	$q$SELECT ''::billing.due_rule$q$,
	$q$SELECT 'net'::billing.due_rule$q$,
	$q$SELECT 'net:'::billing.due_rule$q$,
	$q$SELECT 'net:366'::billing.due_rule$q$,
	$q$SELECT 'net:-1'::billing.due_rule$q$,
	$q$SELECT 'net:30days'::billing.due_rule$q$,
	$q$SELECT 'net:4294967296'::billing.due_rule$q$,
	$q$SELECT 'month:10'::billing.due_rule$q$,
	$q$SELECT 'month+1'::billing.due_rule$q$,
	$q$SELECT 'month+13:10'::billing.due_rule$q$,
	$q$SELECT 'month+1:0'::billing.due_rule$q$,
	$q$SELECT 'month+1:32'::billing.due_rule$q$,
	$q$SELECT 'month+1:eoy'::billing.due_rule$q$,
	$q$SELECT 'month-1:10'::billing.due_rule$q$,
	$q$SELECT 'month+99999999999:10'::billing.due_rule$q$,
	$q$SELECT 'eom'::billing.due_rule$q$,
	$q$SELECT E'net:30\t;'::billing.due_rule$q$]) WITH ORDINALITY AS t(q, n), err(q) AS e
ORDER BY n;
