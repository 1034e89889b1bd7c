-- sql/billing/runs.sql: invoice runs: planning, the run driver, previews, cancelling

-- billing.round_amount: an amount rounded to the currency's scale by the
-- brand's mode: down (toward zero), half_up (half away from zero), up (away
-- from zero)
CREATE OR REPLACE FUNCTION billing.round_amount(amount numeric, scale integer, mode text) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE mode
		WHEN 'down' THEN trunc(amount, scale)
		WHEN 'half_up' THEN round(amount, scale)
		WHEN 'up' THEN round(trunc(amount, scale)
		                     + sign(amount - trunc(amount, scale)) * power(10::numeric, -scale), scale)
	END
$$;

-- billing.invoice_date_for: the invoice date a schedule gives a period's
-- drafts, from its cut-off and the local date the run issues
CREATE OR REPLACE FUNCTION billing.invoice_date_for(mode text, cutoff date, issue_day date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE mode
		WHEN 'cutoff' THEN cutoff
		WHEN 'first_of_month' THEN date_trunc('month', issue_day)::date
		WHEN 'last_of_month' THEN (date_trunc('month', issue_day) + interval '1 month - 1 day')::date
		WHEN 'issue_date' THEN issue_day
	END
$$;

-- billing.plan_scheduled_runs queues one scheduled run for every period of
-- the schedule whose issue moment (local midnight after the cut-off plus the
-- issue delay) has come by as_of and came after the schedule was first
-- applied to a buyer, and that has no scheduled run yet.  Called under the
-- schedule's lock by issue_drafts.
CREATE OR REPLACE FUNCTION billing.plan_scheduled_runs(schedule_id bigint, as_of timestamptz) RETURNS SETOF bigint
LANGUAGE sql VOLATILE STRICT SET search_path = pg_catalog, pg_temp AS $$
	WITH s AS (
		SELECT s.id, s.brand_id, s.cycle, s.issue_delay, s.invoice_date_mode, br.time_zone,
		       (SELECT min(b.schedule_applied_at) FROM billing.buyer b
		        WHERE b.schedule_id = s.id) AS in_use_since
		FROM billing.schedule s JOIN billing.brand br ON br.id = s.brand_id
		WHERE s.id = plan_scheduled_runs.schedule_id AND s.enabled
	), due AS (
		SELECT s.*, c.cutoff,
		       ((c.cutoff + 1)::timestamp + s.issue_delay) AT TIME ZONE s.time_zone AS issue_at
		FROM s, billing.cutoffs(s.cycle,
		                        (s.in_use_since AT TIME ZONE s.time_zone)::date - 28,
		                        (as_of AT TIME ZONE s.time_zone)::date) AS c(cutoff)
		WHERE s.in_use_since IS NOT NULL
	), queued AS (
		INSERT INTO billing.invoice_run (brand_id, schedule_id, kind, period, cutoff_date,
		                                 issue_at, as_of, invoice_date, status, description)
		SELECT due.brand_id, due.id, 'scheduled', billing.period_of(due.cycle, due.cutoff),
		       due.cutoff, due.issue_at, as_of,
		       billing.invoice_date_for(due.invoice_date_mode, due.cutoff,
		                                (due.issue_at AT TIME ZONE due.time_zone)::date),
		       'queued', 'scheduled run for the period ending ' || due.cutoff
		FROM due
		WHERE due.issue_at <= as_of AND due.issue_at > due.in_use_since
		  AND NOT EXISTS (SELECT 1 FROM billing.invoice_run r
		                  WHERE r.schedule_id = due.id AND r.cutoff_date = due.cutoff
		                    AND r.kind = 'scheduled' AND r.status <> 'failed')
		RETURNING id, cutoff_date
	)
	SELECT id FROM queued ORDER BY cutoff_date
$$;

-- billing.find_schedule: a schedule by code (and brand code, needed when the
-- code exists in several brands), or an error naming what was not found
CREATE OR REPLACE FUNCTION billing.find_schedule(code text, brand text) RETURNS billing.schedule
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	found_schedule billing.schedule;
	matches integer;
BEGIN
	IF code IS NULL OR code = '' THEN
		RAISE EXCEPTION 'billing schedule code must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Pass the code of a schedule: SELECT code, name FROM billing.schedule.';
	END IF;
	IF brand IS NOT NULL AND NOT EXISTS (SELECT 1 FROM billing.brand b WHERE b.code = brand) THEN
		RAISE EXCEPTION 'brand "%" does not exist', brand
			USING ERRCODE = 'undefined_object',
			      HINT = 'Brands are listed by SELECT code, name FROM billing.brand.';
	END IF;
	SELECT count(*) INTO matches
	FROM billing.schedule s JOIN billing.brand b ON b.id = s.brand_id
	WHERE s.code = find_schedule.code AND (brand IS NULL OR b.code = brand);
	IF matches = 0 THEN
		RAISE EXCEPTION 'billing schedule "%" does not exist%', code,
			CASE WHEN brand IS NULL THEN '' ELSE format(' in brand "%s"', brand) END
			USING ERRCODE = 'undefined_object',
			      HINT = 'Schedules are listed by SELECT code, name FROM billing.schedule.';
	ELSIF matches > 1 THEN
		RAISE EXCEPTION 'billing schedule code "%" exists in % brands', code, matches
			USING ERRCODE = 'ambiguous_parameter',
			      HINT = 'Name the brand too, for example brand => ''ACME''.';
	END IF;
	SELECT s.* INTO found_schedule
	FROM billing.schedule s JOIN billing.brand b ON b.id = s.brand_id
	WHERE s.code = find_schedule.code AND (brand IS NULL OR b.code = brand);
	RETURN found_schedule;
END
$$;

-- billing.rerun_target: what a rerun of the schedule as of as_of covers:
-- the most recent closed period (by the local date in the brand's time
-- zone), its cut-off, and the invoice date the schedule gives it.  Also
-- validates the request, with errors that name what is wrong.
CREATE OR REPLACE FUNCTION billing.rerun_target(schedule text, as_of timestamptz, brand text,
                                     OUT schedule_id bigint, OUT brand_id bigint,
                                     OUT period daterange, OUT cutoff date, OUT invoice_date date)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s billing.schedule;
	local_day date;
BEGIN
	IF as_of IS NULL OR NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite time, got %', coalesce(as_of::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave it out to mean now().';
	END IF;
	s := billing.find_schedule(schedule, brand);
	SELECT (as_of AT TIME ZONE b.time_zone)::date INTO local_day
	FROM billing.brand b WHERE b.id = s.brand_id;
	schedule_id := s.id;
	brand_id := s.brand_id;
	period := billing.last_closed_period(s.cycle, local_day);
	cutoff := upper(period) - 1;
	invoice_date := billing.invoice_date_for(s.invoice_date_mode, cutoff, local_day);
END
$$;

-- billing.plan_rerun queues a rerun of the schedule's most recent closed
-- period as of as_of, for the buyers who have the schedule applied then.
CREATE OR REPLACE FUNCTION billing.plan_rerun(schedule text, notify text[], as_of timestamptz, brand text)
RETURNS bigint LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	target record;
	unknown text[];
	run_id bigint;
BEGIN
	target := billing.rerun_target(schedule, as_of, brand);
	PERFORM billing.refuse_disabled_schedule(target.schedule_id);	-- sql/billing/run_actions.sql
	notify := coalesce(notify, '{}');
	SELECT array_agg(format('"%s"', n) ORDER BY n) INTO unknown
	FROM unnest(notify) AS n
	WHERE NOT EXISTS (SELECT 1 FROM billing.member m WHERE m.brand_id = target.brand_id AND m.code = n);
	IF unknown IS NOT NULL THEN
		RAISE EXCEPTION 'unknown member % to notify', array_to_string(unknown, ', ')
			USING ERRCODE = 'undefined_object',
			      DETAIL = 'Members are named by their code in the brand of the schedule.',
			      HINT = 'Members of the brand are listed by SELECT code, email FROM billing.member.';
	END IF;
	INSERT INTO billing.invoice_run (brand_id, schedule_id, kind, period, cutoff_date, issue_at,
	                                 as_of, invoice_date, status, notify, description)
	VALUES (target.brand_id, target.schedule_id, 'rerun', target.period, target.cutoff, as_of, as_of,
	        target.invoice_date, 'queued', notify, 'rerun of the period ending ' || target.cutoff)
	RETURNING id INTO run_id;
	RETURN run_id;
END
$$;

-- billing.finish_run closes a run: its row, its log line, the outbox rows
-- for the members to notify, a pg_notify on channel billing_run, and a
-- NOTICE (or WARNING on failure) for whoever is watching in psql
CREATE OR REPLACE FUNCTION billing.finish_run(run_id bigint, ok boolean, error text, buyers integer,
                                   invoices integer, documents integer, purchases numeric,
                                   tax numeric, billed numeric)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
	s billing.schedule;
	currency text;
	message text;
BEGIN
	UPDATE billing.invoice_run AS run
	SET status = CASE WHEN ok THEN 'completed' ELSE 'failed' END,
	    finished_at = clock_timestamp(), buyer_count = buyers, invoice_count = invoices,
	    document_count = documents, purchases_total = purchases, tax_total = tax,
	    billed_total = billed, error = finish_run.error
	WHERE run.id = finish_run.run_id
	RETURNING * INTO r;
	SELECT * INTO s FROM billing.schedule WHERE id = r.schedule_id;
	SELECT b.currency INTO currency FROM billing.brand b WHERE b.id = r.brand_id;
	IF ok THEN
		message := format('%s %s of schedule "%s" for %s..%s: %s buyers, %s drafts, %s documents, purchases %s, tax %s, total %s %s',
		                  CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, r.id, s.code, lower(r.period), upper(r.period) - 1, buyers, invoices,
		                  documents, purchases, tax, billed, currency);
	ELSE
		message := format('%s %s of schedule "%s" for %s..%s failed, nothing was issued: %s',
		                  CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, r.id, s.code, lower(r.period), upper(r.period) - 1, error);
	END IF;
	INSERT INTO billing.run_log (run_id, level, message)
	VALUES (r.id, CASE WHEN ok THEN 'info' ELSE 'error' END, message);
	INSERT INTO billing.notification (run_id, member_id, email, subject, body)
	SELECT r.id, m.id, m.email,
	       format('[billing] %s of schedule %s %s',
	              CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, s.code, r.status),
	       message
	FROM billing.member m
	WHERE m.brand_id = r.brand_id
	  AND (m.code = ANY (r.notify) OR (r.kind = 'scheduled' AND m.notify_scheduled_runs));
	PERFORM pg_notify('billing_run', json_build_object(
		'run_id', r.id, 'schedule', s.code, 'kind', r.kind, 'status', r.status,
		'period_start', lower(r.period), 'cutoff', r.cutoff_date, 'buyers', buyers,
		'invoices', invoices, 'documents', documents, 'total', billed,
		-- a NOTIFY payload must stay under 8000 bytes
		'error', left(error, 1000))::text);
	IF ok THEN
		RAISE NOTICE '%', message;
	ELSE
		RAISE WARNING '%', message;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION billing.issue_drafts_internal(as_of timestamptz) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'issue_drafts_internal' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
CREATE OR REPLACE FUNCTION billing.run_invoice_run(run_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'run_invoice_run' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing.run_invoice_run(bigint) IS
	'executes one queued invoice run under its schedule''s lock; true when it completed';

CREATE OR REPLACE FUNCTION billing.start_run_worker(run_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'start_run_worker' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing.start_run_worker(bigint) IS
	'starts a background worker that executes a queued run once this transaction commits';

-- billing.issue_drafts: every due scheduled run of every enabled schedule.
-- Idempotent, and catches up on periods missed while nothing called it.
CREATE OR REPLACE FUNCTION billing.issue_drafts(as_of timestamptz DEFAULT now())
RETURNS SETOF billing.invoice_run LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	run_ids bigint[];
BEGIN
	IF as_of IS NULL OR NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite time, got %', coalesce(as_of::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave it out to mean now().';
	END IF;
	run_ids := billing.issue_drafts_internal(as_of);
	RETURN QUERY SELECT r.* FROM billing.invoice_run r WHERE r.id = ANY (run_ids) ORDER BY r.id;
END
$$;
COMMENT ON FUNCTION billing.issue_drafts(timestamptz) IS
	'makes the draft invoices of every period whose issue moment has come; idempotent, catches up';

-- billing.rerun_invoice_run: re-aggregates the uninvoiced documents of the
-- schedule's most recent closed period into new drafts (never into existing
-- ones).  Returns the run id; with background => true a background worker
-- does the run after this transaction commits.
CREATE OR REPLACE FUNCTION billing.rerun_invoice_run(schedule text, notify text[] DEFAULT '{}',
                                          background boolean DEFAULT false,
                                          as_of timestamptz DEFAULT now(), brand text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	run_id bigint;
BEGIN
	run_id := billing.plan_rerun(schedule, notify, as_of, brand);
	IF coalesce(background, false) THEN
		PERFORM billing.start_run_worker(run_id);
	ELSE
		PERFORM billing.run_invoice_run(run_id);
	END IF;
	RETURN run_id;
END
$$;
COMMENT ON FUNCTION billing.rerun_invoice_run(text, text[], boolean, timestamptz, text) IS
	're-aggregates uninvoiced documents of the most recent closed period into new drafts';

CREATE OR REPLACE FUNCTION billing.preview_drafts(brand_id bigint, schedule_id bigint, first_day date,
                                       day_after_cutoff date, applied_before timestamptz,
                                       cutoff date, invoice_date date)
RETURNS TABLE (buyer_id bigint, previous_billed numeric, deposit numeric, purchases numeric,
               tax numeric, documents integer, due_rule billing.due_rule, bank_account_id bigint)
	AS 'MODULE_PATHNAME', 'preview_drafts' LANGUAGE C STABLE PARALLEL UNSAFE;

-- billing.preview_run: the pre-invoicing report.  What a rerun of the
-- schedule would issue now, per buyer (per document with document
-- grouping), computed by the same statement as a run, writing nothing.
CREATE OR REPLACE FUNCTION billing.preview_run(schedule text, as_of timestamptz DEFAULT now(),
                                    brand text DEFAULT NULL)
RETURNS TABLE (buyer text, buyer_name text, period daterange, invoice_date date, due_date date,
               documents integer, previous_billed numeric, deposit numeric, carried_over numeric,
               purchases numeric, tax numeric, total numeric, bank_account text)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	target record;
BEGIN
	target := billing.rerun_target(schedule, as_of, brand);
	RETURN QUERY
	SELECT b.code, b.name, target.period, target.invoice_date,
	       billing.due_date(d.due_rule, target.cutoff, target.invoice_date), d.documents,
	       d.previous_billed, d.deposit, d.previous_billed - d.deposit, d.purchases, d.tax,
	       d.previous_billed - d.deposit + d.purchases + d.tax, ba.code
	FROM billing.preview_drafts(target.brand_id, target.schedule_id, lower(target.period),
	                            upper(target.period), as_of, target.cutoff, target.invoice_date) AS d
	JOIN billing.buyer b ON b.id = d.buyer_id
	LEFT JOIN billing.bank_account ba ON ba.id = d.bank_account_id
	ORDER BY b.code;
END
$$;
COMMENT ON FUNCTION billing.preview_run(text, timestamptz, text) IS
	'pre-invoicing report: what a rerun would issue now, per buyer, writing nothing';

-- billing.cancel_run cancels a run's unconfirmed invoices.  reopen frees
-- their documents for a later run; otherwise the documents are closed for
-- good (never_invoice) and stay linked to the cancelled invoices.
CREATE OR REPLACE FUNCTION billing.cancel_run(run_id bigint, reopen boolean DEFAULT true)
RETURNS billing.invoice_run LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
	cancelled integer;
BEGIN
	SELECT * INTO r FROM billing.invoice_run WHERE id = run_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'invoice run % does not exist', coalesce(run_id::text, 'NULL')
			USING ERRCODE = 'no_data_found', HINT = 'Runs are listed by SELECT * FROM billing.invoice_run.';
	END IF;
	IF r.status IN ('queued', 'running') THEN
		RAISE EXCEPTION 'invoice run % is % and cannot be cancelled yet', run_id, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Wait for it to finish.';
	END IF;
	IF r.status = 'cancelled' THEN
		RAISE EXCEPTION 'invoice run % is already cancelled', run_id
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	PERFORM 1 FROM billing.invoice i
	WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected')
	ORDER BY i.id FOR UPDATE;
	IF coalesce(reopen, true) THEN
		DELETE FROM billing.document_link l USING billing.invoice i
		WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected')
		  AND l.buyer_id = i.buyer_id AND l.invoice_id = i.id;
	ELSE
		UPDATE billing.document d SET never_invoice = true
		FROM billing.document_link l JOIN billing.invoice i
		  ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
		WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected')
		  AND d.buyer_id = l.buyer_id AND d.id = l.document_id;
	END IF;
	UPDATE billing.invoice i SET status = 'cancelled'
	WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected');
	GET DIAGNOSTICS cancelled = ROW_COUNT;
	UPDATE billing.invoice_run SET status = 'cancelled' WHERE id = run_id RETURNING * INTO r;
	INSERT INTO billing.run_log (run_id, level, message)
	VALUES (run_id, 'info', format('run cancelled: %s unconfirmed invoices cancelled, documents %s',
	                               cancelled, CASE WHEN coalesce(reopen, true)
	                                               THEN 'reopened for a later run'
	                                               ELSE 'closed: never to be invoiced' END));
	RETURN r;
END
$$;
