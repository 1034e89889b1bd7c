-- Functions that bind at creation (issue 11, item 8).  A LANGUAGE sql
-- function with a string body and no SET search_path is parsed where it is
-- inlined, under the caller's search_path: a DBA who called
-- billing_internal.draft_rows ran a tenant's planted public.<>(numeric, integer).
-- Every such function now has a SQL-standard body (RETURN or BEGIN ATOMIC,
-- parsed at install), the run statement still inlines them, and the
-- internal ones are not executable by PUBLIC.
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
SET client_min_messages = warning;

-- the extension's functions
CREATE TEMP VIEW own_function AS
SELECT p.oid, p.oid::regprocedure AS fn, l.lanname, p.prosrc, p.prosqlbody, p.proconfig, p.proacl, p.prorettype
FROM pg_proc p
JOIN pg_language l ON l.oid = p.prolang
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
WHERE e.extname = 'billing';

-- every LANGUAGE sql function has SET search_path or a SQL-standard body: none without
SELECT fn AS sql_function_bound_at_call FROM own_function
WHERE lanname = 'sql' AND prosqlbody IS NULL
  AND NOT EXISTS (SELECT FROM unnest(proconfig) AS c WHERE c LIKE 'search_path=%')
ORDER BY fn::text;
SELECT count(*) > 0 AS has_sql_standard_bodies FROM own_function WHERE prosqlbody IS NOT NULL;
-- no body spells OPERATOR(pg_catalog.x) any more
SELECT fn AS spells_operator FROM own_function WHERE prosrc LIKE '%OPERATOR(pg_catalog.%' ORDER BY fn::text;
-- the internal functions PUBLIC may execute: only what the types, CHECKs,
-- policies and views evaluate as the querying role (src/sql/grants.sql)
SELECT fn AS internal_public_executes FROM own_function
WHERE fn::text LIKE 'billing\_internal.%'
  AND EXISTS (SELECT FROM aclexplode(coalesce(proacl, acldefault('f', 10))) AS a
              WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
  AND prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
ORDER BY fn::text;
-- and no trigger function
SELECT fn AS trigger_public_executes FROM own_function
WHERE prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
  AND EXISTS (SELECT FROM aclexplode(coalesce(proacl, acldefault('f', 10))) AS a
              WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
ORDER BY fn::text;

-- a story: one buyer with a balance and one delivery
INSERT INTO billing.brand (code, name) VALUES ('BND', 'Bound KK');
INSERT INTO billing.schedule (brand_id, code, name, cycle) SELECT id, 'BEOM', 'BEOM', 'monthly:eom'
FROM billing.brand WHERE code = 'BND';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, billing_balance)
SELECT b.id, 'BN1', 'Buyer 1', s.id, '2026-09-01', 300
FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id WHERE b.code = 'BND';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-10', 1000, 0.08, 'BN1-1' FROM billing.buyer WHERE code = 'BN1';
SELECT b.id AS brand, s.id AS schedule FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id
WHERE b.code = 'BND' \gset

-- look-alikes a tenant with CREATE on a schema plants, and a DBA's path
-- that reaches them: <>(numeric, integer) is an exact match for draft_rows'
-- balance test, =(numeric, numeric) and =(text, text) for tax_category's
-- and run_step's, placed before pg_catalog
CREATE SCHEMA bound_lookalike;
CREATE TABLE bound_lookalike.calls (name text);
CREATE FUNCTION bound_lookalike.ne(a numeric, b integer) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN INSERT INTO bound_lookalike.calls VALUES ('<>(numeric, integer)'); RETURN a <> b; END $$;
CREATE OPERATOR bound_lookalike.<> (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = bound_lookalike.ne);
CREATE FUNCTION bound_lookalike.eq(a numeric, b numeric) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN INSERT INTO bound_lookalike.calls VALUES ('=(numeric)'); RETURN a = b; END $$;
CREATE OPERATOR bound_lookalike.= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = bound_lookalike.eq);
CREATE FUNCTION bound_lookalike.teq(a text, b text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$ BEGIN INSERT INTO bound_lookalike.calls VALUES ('=(text)'); RETURN a = b; END $$;
CREATE OPERATOR bound_lookalike.= (LEFTARG = text, RIGHTARG = text, FUNCTION = bound_lookalike.teq);

SET search_path = bound_lookalike, pg_catalog, billing;
SELECT row_kind, previous_billed, purchases, tax, total
FROM billing_internal.draft_rows(:brand, :schedule, '2026-10-01', '2026-11-01', now(), '2026-10-31', '2026-10-31')
ORDER BY 1;
SELECT billing_internal.tax_category(0.08) AS reduced, billing_internal.tax_category(0.10) AS standard;
SELECT billing_internal.run_step('completed', true, NULL) AS step;
SELECT billing_internal.round_amount(10.5, 0, 'up') AS up;
RESET search_path;
-- none of them was called
SELECT name AS lookalike_called FROM bound_lookalike.calls;
DROP SCHEMA bound_lookalike CASCADE;

-- the planner still inlines draft_rows and uninvoiced_documents into the
-- run's reading statement: no function scan in its plan
CREATE FUNCTION pg_temp.plan_has(q text, pattern text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		IF line ~ pattern THEN
			RETURN true;
		END IF;
	END LOOP;
	RETURN false;
END
$$;
SELECT pg_temp.plan_has(format('SELECT * FROM billing_internal.draft_rows(%s, %s, %L, %L, now(), %L, %L)',
                               :brand, :schedule, '2026-10-01', '2026-11-01', '2026-10-31', '2026-10-31'),
                        'Function Scan') AS draft_rows_function_scan,
       pg_temp.plan_has(format('SELECT * FROM billing_internal.draft_rows(%s, %s, %L, %L, now(), %L, %L)',
                               :brand, :schedule, '2026-10-01', '2026-11-01', '2026-10-31', '2026-10-31'),
                        'billing\.document d') AS reads_documents;

-- run_report writes run_step's expression out: the two agree on every run.
-- The suite's own runs, one in each step a run can be in after a call:
-- drafts issued, settled (its drafts confirmed) and cancelled
SELECT billing.rerun_invoice_run('BEOM', as_of => '2026-11-05 12:00+09', brand => 'BND') IS NOT NULL AS settled_run;
SELECT count(*) AS confirmed FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i WHERE i.brand_id = :brand AND i.status = 'draft'));
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT id, 'delivery_invoice', '2026-11-10', 2000, 0.08, 'BN1-2' FROM billing.buyer WHERE code = 'BN1';
SELECT billing.rerun_invoice_run('BEOM', as_of => '2026-12-05 12:00+09', brand => 'BND') IS NOT NULL AS drafts_run;
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT id, 'delivery_invoice', '2026-12-10', 3000, 0.08, 'BN1-3' FROM billing.buyer WHERE code = 'BN1';
SELECT billing.rerun_invoice_run('BEOM', as_of => '2027-01-05 12:00+09', brand => 'BND', simulate => true) AS cancelled_run \gset
SELECT count(*) > 0 AS cancelled FROM billing.cancel_run(:cancelled_run);
CREATE TEMP VIEW bound_steps AS
SELECT rr.step, billing_internal.run_step(r.status, r.enabled, r.validated_at, r.invoice_count,
                                         rr.drafts + rr.quarantined) AS run_step
FROM billing.run_report rr JOIN billing.invoice_run r ON r.id = rr.run WHERE r.brand_id = :brand;
SELECT step, count(*) AS runs, count(*) FILTER (WHERE step IS DISTINCT FROM run_step) AS disagree
FROM bound_steps GROUP BY step ORDER BY step;

-- clean up
UPDATE billing.schedule SET enabled = false WHERE code = 'BEOM';
