-- No statement of ours resolves a name through someone else's search_path.
-- Look-alike functions and operators are planted in public and in a user
-- schema; the path of the database, the role and the session puts them
-- before pg_catalog.  Issuing, previewing, rerunning (in the foreground and
-- in a background worker, which starts with the role's and the database's
-- settings), cancelling and every bulk action must call none of them.
-- Runs last: it changes the database's and the role's settings, and puts
-- them back at the end.
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
-- run ids depend on the suites before this one: the runs' NOTICEs are not shown
SET client_min_messages = warning;
-- and only this story's schedule issues (the earlier suites' schedules are
-- put back as they were at the end)
CREATE TEMP TABLE enabled_before AS SELECT id FROM billing.schedule WHERE enabled;
UPDATE billing.schedule SET enabled = false WHERE enabled;

CREATE SCHEMA lookalike;
CREATE TABLE public.lookalike_calls (name text);
GRANT INSERT ON public.lookalike_calls TO PUBLIC;

-- called(name) records a call of a look-alike
CREATE FUNCTION public.called(name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog AS $$ INSERT INTO public.lookalike_calls VALUES (name) $$;

DO $do$
DECLARE
	sch text;
BEGIN
	FOREACH sch IN ARRAY ARRAY['public', 'lookalike'] LOOP
		EXECUTE format($f$
			CREATE FUNCTION %1$I.lower(r daterange) RETURNS date LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.lower'); RETURN pg_catalog.lower(r); END $$;
			CREATE FUNCTION %1$I.upper(r daterange) RETURNS date LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.upper'); RETURN pg_catalog.upper(r); END $$;
			CREATE FUNCTION %1$I.nextval(s text) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.nextval'); RETURN pg_catalog.nextval(s::regclass); END $$;
			CREATE FUNCTION %1$I.now() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.now'); RETURN pg_catalog.now(); END $$;
			CREATE FUNCTION %1$I.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.clock_timestamp'); RETURN pg_catalog.clock_timestamp(); END $$;
			CREATE FUNCTION %1$I.isfinite(t timestamptz) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.isfinite'); RETURN pg_catalog.isfinite(t); END $$;
			CREATE FUNCTION %1$I.round(n numeric, s integer) RETURNS numeric LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.round'); RETURN pg_catalog.round(n, s); END $$;
			CREATE FUNCTION %1$I.trunc(n numeric, s integer) RETURNS numeric LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.trunc'); RETURN pg_catalog.trunc(n, s); END $$;
			CREATE FUNCTION %1$I.pg_notify(c text, p text) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.pg_notify'); PERFORM pg_catalog.pg_notify(c, p); END $$;
			CREATE FUNCTION %1$I.numeric_ne(a numeric, b numeric) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.<>(numeric)'); RETURN pg_catalog.numeric_ne(a, b); END $$;
			CREATE OPERATOR %1$I.<> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = %1$I.numeric_ne);
			CREATE FUNCTION %1$I.text_eq(a text, b text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.=(text)'); RETURN pg_catalog.texteq(a, b); END $$;
			CREATE OPERATOR %1$I.= (LEFTARG = text, RIGHTARG = text, FUNCTION = %1$I.text_eq);
			CREATE FUNCTION %1$I.int8_eq(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.=(bigint)'); RETURN pg_catalog.int8eq(a, b); END $$;
			CREATE OPERATOR %1$I.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = %1$I.int8_eq);
			CREATE FUNCTION %1$I.date_ge(a date, b date) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.>=(date)'); RETURN pg_catalog.date_ge(a, b); END $$;
			CREATE OPERATOR %1$I.>= (LEFTARG = date, RIGHTARG = date, FUNCTION = %1$I.date_ge);
			CREATE FUNCTION %1$I.numeric_add(a numeric, b numeric) RETURNS numeric LANGUAGE plpgsql SET search_path = pg_catalog
			AS $$ BEGIN PERFORM public.called('%1$s.+(numeric)'); RETURN pg_catalog.numeric_add(a, b); END $$;
			CREATE OPERATOR %1$I.+ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = %1$I.numeric_add);
		$f$, sch);
	END LOOP;
END
$do$;

-- the story: one brand, a month-end schedule, two buyers, October deliveries
INSERT INTO billing.brand (code, name) VALUES ('LKA', 'Look-alike KK');
INSERT INTO billing.member (brand_id, code, name, email)
SELECT id, 'mori', 'Mori', 'mori@lookalike.example' FROM billing.brand WHERE code = 'LKA';
INSERT INTO billing.schedule (brand_id, code, name, cycle)
SELECT id, 'LK-EOM', 'month end', 'monthly:eom' FROM billing.brand WHERE code = 'LKA';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, billing_balance)
SELECT br.id, v.code, v.code, s.id, '2026-10-01 09:00', v.balance
FROM billing.brand br JOIN billing.schedule s ON s.brand_id = br.id,
     (VALUES ('LK1', 0), ('LK2', 5000), ('LK3', 0), ('LK4', 0)) AS v(code, balance)
WHERE br.code = 'LKA';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2026-10-10', 1000, 0.10, b.code || '-oct'
FROM billing.buyer b WHERE b.code LIKE 'LK_';

-- the hostile paths: the database's, the role's (in any database) and the
-- session's.  The session's is set only around the calls of the API (\set
-- H), so that this script's own statements call no look-alike.
ALTER DATABASE :"DBNAME" SET search_path = public, lookalike, pg_catalog;
ALTER ROLE CURRENT_USER SET search_path = lookalike, public, pg_catalog;
\set H 'SET search_path = public, lookalike, pg_catalog;'
\set S 'SET search_path = pg_catalog;'

-- the look-alikes work: an unqualified call on the path reaches them
:H SELECT lower(daterange('2026-10-01', '2026-11-01')) AS first_day; :S
SELECT name FROM public.lookalike_calls;
TRUNCATE public.lookalike_calls;

:H SELECT count(*) AS scheduled_runs FROM billing.issue_drafts('2026-11-02 00:00+09', simulate => true); :S
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2026-10-20', 2000, 0.08, b.code || '-late'
FROM billing.buyer b WHERE b.code IN ('LK1', 'LK3');
:H SELECT buyer, documents, total FROM billing.preview_run('LK-EOM', '2026-11-03 10:00+09'); :S
:H SELECT billing.rerun_invoice_run('LK-EOM', as_of => '2026-11-03 10:00+09') IS NOT NULL AS reran; :S
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2026-10-25', 3000, 0.10, b.code || '-later'
FROM billing.buyer b WHERE b.code = 'LK4';
:H SELECT billing.rerun_invoice_run('LK-EOM', notify => '{mori}', background => true, as_of => '2026-11-04 10:00+09')
	AS background_run
\gset
:S
SET regress.wait_run = :'background_run';
DO $$
BEGIN
	FOR i IN 1 .. 300 LOOP
		EXIT WHEN (SELECT status FROM billing.invoice_run
		           WHERE id = current_setting('regress.wait_run')::bigint) IN ('completed', 'failed');
		PERFORM pg_sleep(0.1);
	END LOOP;
END $$;
SELECT status, invoice_count, document_count, billed_total FROM billing.invoice_run WHERE id = :background_run;

-- every bulk action and cancel_run, on the path
SELECT min(i.id) FILTER (WHERE b.code = 'LK1') AS lk1, min(i.id) FILTER (WHERE b.code = 'LK2') AS lk2,
       min(i.id) FILTER (WHERE b.code = 'LK3') AS lk3
FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
WHERE b.brand_id = (SELECT id FROM billing.brand WHERE code = 'LKA')
\gset
:H SELECT count(*) AS confirmed FROM billing.confirm_invoices(VARIADIC ARRAY[:lk1]::bigint[]); :S
:H SELECT count(*) AS quarantined FROM billing.quarantine_invoices('check', VARIADIC ARRAY[:lk2]::bigint[]); :S
:H SELECT count(*) AS rejected FROM billing.reject_invoices('wrong', VARIADIC ARRAY[:lk2]::bigint[]); :S
:H SELECT count(*) AS cancelled FROM billing.cancel_invoices(VARIADIC ARRAY[:lk2]::bigint[]); :S
:H SELECT count(*) AS deleted FROM billing.delete_drafts(VARIADIC ARRAY[:lk3]::bigint[]); :S
:H SELECT step FROM billing.cancel_run(:background_run); :S

-- none of the look-alikes was called, by the session or by the worker
SELECT count(*) AS lookalike_calls FROM public.lookalike_calls;
SELECT name, count(*) FROM public.lookalike_calls GROUP BY name ORDER BY name;

ALTER DATABASE :"DBNAME" RESET search_path;
ALTER ROLE CURRENT_USER RESET search_path;
UPDATE billing.schedule SET enabled = true WHERE id IN (SELECT id FROM enabled_before);
