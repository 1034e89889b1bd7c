-- src/sql/runs.sql: invoice runs: planning, the run driver, previews, cancelling

-- A schedule's runs take turns on its row: a run locks it FOR NO KEY
-- UPDATE (src/run.c, waiting at most billing.lock_timeout), document_guard
-- FOR SHARE.  0.2's advisory key (billing.schedule_lock_key) is gone: any
-- login role could hold it.

-- billing_internal.round_amount: an amount rounded to the currency's scale by the
-- brand's mode: down (toward zero), half_up (half away from zero), up (away
-- from zero: the amount truncated, plus one unit of the scale in the
-- amount's direction when something was cut off).  Not STRICT, and a
-- SQL-standard body (bound at install, whatever the caller's search_path),
-- so that the planner inlines it into the run statement (NULL in gives
-- NULL out all the same).  Internal: not executable by PUBLIC.
CREATE OR REPLACE FUNCTION billing_internal.round_amount(amount numeric, scale integer, mode text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE mode
	WHEN 'down' THEN trunc(amount, scale)
	WHEN 'half_up' THEN round(amount, scale)
	WHEN 'up' THEN round(trunc(amount, scale)
	                     + sign(amount - trunc(amount, scale)) * power(10::numeric, (-scale)::numeric),
	                     scale)
END;
COMMENT ON FUNCTION billing_internal.round_amount(numeric, integer, text) IS
	'an amount rounded to scale decimals by mode: down (toward zero), half_up, up (away from zero); inlined into runs';
REVOKE ALL ON FUNCTION billing_internal.round_amount(numeric, integer, text) FROM PUBLIC;

-- billing_internal.invoice_date_for: the invoice date a schedule gives a period's
-- drafts, from its cut-off and the local date the run issues.  Inlinable
-- like round_amount; NULL when any argument is NULL.  Internal.
CREATE OR REPLACE FUNCTION billing_internal.invoice_date_for(mode text, cutoff date, issue_day date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN cutoff IS NULL OR issue_day IS NULL THEN NULL ELSE CASE mode
	WHEN 'cutoff' THEN cutoff
	WHEN 'first_of_month' THEN date_trunc('month', issue_day::timestamp)::date
	WHEN 'last_of_month' THEN (date_trunc('month', issue_day::timestamp) + '1 month - 1 day'::interval)::date
	WHEN 'issue_date' THEN issue_day
END END;
COMMENT ON FUNCTION billing_internal.invoice_date_for(text, date, date) IS
	'invoice date of a period''s drafts by the schedule''s invoice_date_mode, from the cut-off and the issue day';
REVOKE ALL ON FUNCTION billing_internal.invoice_date_for(text, date, date) FROM PUBLIC;

-- billing_internal.plan_scheduled_runs queues one scheduled run for every period of
-- the schedule whose issue moment (local midnight after the cut-off plus the
-- issue delay) has come by as_of and came after the schedule was first
-- applied to a buyer, and that has no scheduled run yet.  Called under the
-- schedule's lock by issue_drafts.  PL/pgSQL, and the buyers' first
-- application read by a statement of its own, so that no statement joins
-- the per-buyer table with the small ones through a correlated subquery.
--
-- There is no cap on how many periods one call plans: every closed period
-- since the first application gets its run (the catch-up of SPEC 4).  What
-- bounds them is the application itself: schedule_applied_at is at most a
-- year before the schedule was created (billing_internal.buyer_stamp_schedule), so a
-- daily schedule plans at most about 400 runs in one call, a monthly one 13.
-- A date out of range here (an application that got past that bound, as a
-- restore with --disable-triggers can bring in) is reported naming the
-- schedule and the buyer whose application it starts from.
CREATE OR REPLACE FUNCTION billing_internal.plan_scheduled_runs(schedule_id bigint, as_of timestamptz) RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	in_use_since timestamptz;
	first_buyer text;
BEGIN
	SELECT b.schedule_applied_at, b.code INTO in_use_since, first_buyer
	FROM billing.buyer b WHERE b.schedule_id = plan_scheduled_runs.schedule_id
	ORDER BY b.schedule_applied_at, b.code LIMIT 1;
	IF in_use_since IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	WITH s AS (
		SELECT s.id, s.brand_id, s.cycle, s.issue_delay, s.invoice_date_mode, br.time_zone
		FROM billing.schedule s JOIN billing.brand br ON br.id = s.brand_id
		WHERE s.id = plan_scheduled_runs.schedule_id AND s.enabled
	), due AS (
		SELECT s.*, c.cutoff,
		       ((c.cutoff + 1)::timestamp + s.issue_delay) AT TIME ZONE s.time_zone AS issue_at
		FROM s, billing.cutoffs(s.cycle,
		                        (in_use_since AT TIME ZONE s.time_zone)::date - 28,
		                        (plan_scheduled_runs.as_of AT TIME ZONE s.time_zone)::date) AS c(cutoff)
	), queued AS (
		INSERT INTO billing.invoice_run (brand_id, schedule_id, kind, period, cutoff_date,
		                                 issue_at, as_of, invoice_date, status, description)
		SELECT due.brand_id, due.id, 'scheduled', billing.period_of(due.cycle, due.cutoff),
		       due.cutoff, due.issue_at, plan_scheduled_runs.as_of,
		       billing_internal.invoice_date_for(due.invoice_date_mode, due.cutoff,
		                                (due.issue_at AT TIME ZONE due.time_zone)::date),
		       'queued', 'scheduled run for the period ending ' || due.cutoff
		FROM due
		LEFT JOIN billing.invoice_run r
		  ON r.schedule_id = due.id AND r.cutoff_date = due.cutoff
		 AND r.kind = 'scheduled' AND r.status <> 'failed'
		WHERE due.issue_at <= plan_scheduled_runs.as_of AND due.issue_at > in_use_since
		  AND r.id IS NULL
		RETURNING invoice_run.id, invoice_run.cutoff_date
	)
	SELECT q.id FROM queued q ORDER BY q.cutoff_date;
EXCEPTION WHEN datetime_field_overflow THEN
	RAISE EXCEPTION 'cannot plan the runs of billing schedule "%": %',
		(SELECT s.code FROM billing.schedule s WHERE s.id = plan_scheduled_runs.schedule_id), SQLERRM
		USING ERRCODE = SQLSTATE,
		      DETAIL = format('Its runs start from its earliest application: buyer "%s", applied at %s.',
		                      first_buyer, in_use_since),
		      HINT = 'Correct that buyer''s schedule_applied_at: from a year before the schedule was created up to now.';
END
$$;
COMMENT ON FUNCTION billing_internal.plan_scheduled_runs(bigint, timestamptz) IS
	'queues a scheduled run for each due period of the schedule that has none; called by issue_drafts under the schedule''s lock';
REVOKE ALL ON FUNCTION billing_internal.plan_scheduled_runs(bigint, timestamptz) FROM PUBLIC;

-- billing_internal.find_schedule: a schedule by code (and brand code, needed when the
-- code exists in several brands), or an error naming what was not found.
-- Only the caller's brands are searched: another brand's schedule, or the
-- brand itself, does not exist for it.
CREATE OR REPLACE FUNCTION billing_internal.find_schedule(code text, brand text) RETURNS billing.schedule
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	found_schedule billing.schedule;
	matches integer;
	visible bigint[] := billing_internal.caller_brands();
BEGIN
	IF code IS NULL OR code = '' THEN
		RAISE EXCEPTION 'billing schedule code must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Pass the code of a schedule: SELECT code, name FROM billing.schedule.';
	END IF;
	IF brand IS NOT NULL AND NOT EXISTS (SELECT 1 FROM billing.brand b WHERE b.code = brand
	                                     AND (visible IS NULL OR b.id = ANY (visible))) THEN
		RAISE EXCEPTION 'brand "%" does not exist', brand
			USING ERRCODE = 'undefined_object',
			      HINT = 'Brands are listed by SELECT code, name FROM billing.brand.';
	END IF;
	SELECT count(*) INTO matches
	FROM billing.schedule s JOIN billing.brand b ON b.id = s.brand_id
	WHERE s.code = find_schedule.code AND (brand IS NULL OR b.code = brand)
	  AND (visible IS NULL OR s.brand_id = ANY (visible));
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
	WHERE s.code = find_schedule.code AND (brand IS NULL OR b.code = brand)
	  AND (visible IS NULL OR s.brand_id = ANY (visible));
	RETURN found_schedule;
END
$$;
COMMENT ON FUNCTION billing_internal.find_schedule(text, text) IS
	'internal: a schedule by code (and brand) among the calling role''s brands, or an error naming what was not found';
REVOKE ALL ON FUNCTION billing_internal.find_schedule(text, text) FROM PUBLIC;

-- billing_internal.rerun_target: what a rerun of the schedule as of as_of covers:
-- the closed period that contains period_date, or, when that is NULL, the
-- most recent closed period (both by the local date in the brand's time
-- zone); its cut-off, and the invoice date the schedule gives it.  Also
-- validates the request, with errors that name what is wrong: a period
-- that has not closed yet as of as_of, or one whose issue moment came
-- before the schedule was in use (applied to its first buyer: the rule of
-- billing_internal.plan_scheduled_runs), is refused.
CREATE OR REPLACE FUNCTION billing_internal.rerun_target(schedule text, as_of timestamptz, brand text,
                                                period_date date,
                                                OUT schedule_id bigint, OUT brand_id bigint,
                                                OUT period daterange, OUT cutoff date,
                                                OUT invoice_date date)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s billing.schedule;
	zone text;
	local_day date;
	latest daterange;
	in_use_since timestamptz;
	first_buyer text;
	first_period daterange;
BEGIN
	IF as_of IS NULL OR NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite time, got %', coalesce(as_of::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave it out to mean now().';
	END IF;
	s := billing_internal.find_schedule(schedule, brand);
	SELECT b.time_zone INTO zone FROM billing.brand b WHERE b.id = s.brand_id;
	local_day := (as_of AT TIME ZONE zone)::date;
	latest := billing.last_closed_period(s.cycle, local_day);
	schedule_id := s.id;
	brand_id := s.brand_id;
	IF period_date IS NULL THEN
		period := latest;
	ELSE
		-- not closed yet, and no run has taken it (issue_drafts or a rerun
		-- with simulate => true may have: its late documents are rerun)
		IF NOT isfinite(period_date)
		   OR (period_date >= upper(latest)
		       AND NOT EXISTS (SELECT 1 FROM billing.invoice_run r
		                       WHERE r.schedule_id = s.id AND r.period @> period_date
		                         AND r.status <> 'cancelled')) THEN
			RAISE EXCEPTION 'the period of % of billing schedule "%" has not closed yet', period_date, s.code
				USING ERRCODE = 'invalid_parameter_value',
				      DETAIL = format('As of %s (local date %s in %s) the most recent closed period of the schedule is %s..%s.',
				                      as_of, local_day, zone, lower(latest), upper(latest) - 1),
				      HINT = format('Pass a date up to %s; the period of %s is billed by the scheduled run after its cut-off.',
				                    upper(latest) - 1, period_date);
		END IF;
		-- when the schedule came into use: its first buyer's application
		SELECT b.schedule_applied_at, b.code INTO in_use_since, first_buyer
		FROM billing.buyer b WHERE b.schedule_id = s.id
		ORDER BY b.schedule_applied_at, b.code LIMIT 1;
		IF in_use_since IS NULL THEN
			RAISE EXCEPTION 'billing schedule "%" is applied to no buyer, so it has no period to rerun', s.code
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Apply the schedule to its buyers first (UPDATE billing.buyer SET schedule_id = ...).';
		END IF;
		-- the first period whose issue moment came after that
		-- (c + 1 + issue_delay > the application, local: c >= this date)
		first_period := billing.period_of(s.cycle, ((in_use_since AT TIME ZONE zone) - s.issue_delay)::date);
		IF period_date < lower(first_period) THEN
			RAISE EXCEPTION '% is before billing schedule "%" came into use', period_date, s.code
				USING ERRCODE = 'invalid_parameter_value',
				      DETAIL = format('Its first buyer, "%s", was applied at %s: the first period it bills is %s..%s.',
				                      first_buyer, in_use_since, lower(first_period), upper(first_period) - 1),
				      HINT = format('Pass a date from %s on, or, if the schedule billed that buyer earlier, back-date its schedule_applied_at (at most a year before the schedule was created).',
				                    lower(first_period));
		END IF;
		period := billing.period_of(s.cycle, period_date);
	END IF;
	cutoff := upper(period) - 1;
	invoice_date := billing_internal.invoice_date_for(s.invoice_date_mode, cutoff, local_day);
END
$$;
COMMENT ON FUNCTION billing_internal.rerun_target(text, timestamptz, text, date) IS
	'internal: the period (the closed one containing period_date, else the latest), cut-off and invoice date a rerun covers; refuses a period not closed or before the schedule came into use';
REVOKE ALL ON FUNCTION billing_internal.rerun_target(text, timestamptz, text, date) FROM PUBLIC;

-- billing_internal.plan_rerun queues a rerun of the schedule's closed period that
-- contains period_date (NULL: the most recent one) as of as_of, for the
-- buyers who have the schedule applied then.
CREATE OR REPLACE FUNCTION billing_internal.plan_rerun(schedule text, notify text[], as_of timestamptz, brand text,
                                              period_date date)
RETURNS bigint LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	target record;
	unknown text[];
	run_id bigint;
BEGIN
	target := billing_internal.rerun_target(schedule, as_of, brand, period_date);
	PERFORM billing_internal.refuse_disabled_schedule(target.schedule_id);	-- src/sql/run_actions.sql
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
COMMENT ON FUNCTION billing_internal.plan_rerun(text, text[], timestamptz, text, date) IS
	'queues a rerun of the schedule''s closed period containing period_date (NULL: the latest) as of as_of, checking the members to notify; returns the run id';
REVOKE ALL ON FUNCTION billing_internal.plan_rerun(text, text[], timestamptz, text, date) FROM PUBLIC;

-- billing_internal.finish_run closes a run: its row, its log line, the outbox rows
-- for the members to notify, a pg_notify on channel billing_run, and a
-- NOTICE (or WARNING on failure) for whoever is watching in psql, if the
-- run is of one of the caller's brands (issue_drafts runs every brand's)
CREATE OR REPLACE FUNCTION billing_internal.finish_run(run_id bigint, ok boolean, error text, buyers integer,
                                   invoices integer, documents integer, purchases numeric,
                                   tax numeric, billed numeric)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
	s billing.schedule;
	currency text;
	message text;
	-- read here and passed to the UPDATE as a value: no volatile function
	-- inside an UPDATE of invoice_run (a reference table on Citus)
	finished timestamptz := clock_timestamp();
	ending text := CASE WHEN ok THEN 'completed' ELSE 'failed' END;
BEGIN
	-- A rerun that made no draft is no run (issue 12): called in the
	-- requester's session, its row goes again (nothing else of it was
	-- written) and a NOTICE and a server log line say "nothing to re-run";
	-- rerun_invoice_run then returns NULL.  A background rerun's row was
	-- seen queued and running by its requester and by watchers, and its
	-- members wait for a mail: it ends 'cancelled' (never processed or
	-- validated later) with that line in its log, and its mail says so.
	IF ok AND coalesce(invoices, 0) = 0 THEN
		SELECT * INTO r FROM billing.invoice_run WHERE id = finish_run.run_id;
		IF r.kind = 'rerun' THEN
			SELECT * INTO s FROM billing.schedule WHERE id = r.schedule_id;
			message := format('nothing to re-run for schedule "%s" period %s..%s: no uninvoiced document and no balance to bill',
			                  s.code, lower(r.period), upper(r.period) - 1);
			IF NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(pg_backend_pid()) AS a
			               WHERE a.backend_type = 'billing invoice run') THEN
				DELETE FROM billing.invoice_run AS run WHERE run.id = finish_run.run_id;
				DELETE FROM billing_internal.run_snapshot AS rs WHERE rs.run_id = finish_run.run_id;
				RAISE LOG 'billing: %', message;
				IF coalesce(r.brand_id = ANY (billing_internal.caller_brands()), true) THEN
					RAISE NOTICE '%', message USING HINT = 'No run was made; billing.document_status tells what will bill each uninvoiced document.';
				END IF;
				RETURN;
			END IF;
			ending := 'cancelled';
		END IF;
	END IF;
	UPDATE billing.invoice_run AS run
	SET status = ending,
	    finished_at = finished, buyer_count = buyers, invoice_count = invoices,
	    document_count = documents, purchases_total = purchases, tax_total = tax,
	    billed_total = billed, error = finish_run.error
	WHERE run.id = finish_run.run_id
	RETURNING * INTO r;
	SELECT * INTO s FROM billing.schedule WHERE id = r.schedule_id;
	SELECT b.currency INTO currency FROM billing.brand b WHERE b.id = r.brand_id;
	IF ending = 'cancelled' THEN
		message := format('background rerun %s: %s; closed as cancelled, no run was needed', r.id, message);
	ELSIF ok THEN
		message := format('%s %s of schedule "%s" for %s..%s: buyers %s, drafts %s, documents %s, purchases %s, tax %s, total %s %s',
		                  CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, r.id, s.code, lower(r.period), upper(r.period) - 1, buyers, invoices,
		                  documents, purchases, tax, billed, currency);
	ELSE
		message := format('%s %s of schedule "%s" for %s..%s failed, nothing was issued: %s',
		                  CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, r.id, s.code, lower(r.period), upper(r.period) - 1, error);
	END IF;
	INSERT INTO billing.run_log (run_id, brand_id, level, message)
	VALUES (r.id, r.brand_id, CASE WHEN ok THEN 'info' ELSE 'error' END, message);
	-- the mail (billing_internal.run_mail, mail.sql), sent by the mailer
	INSERT INTO billing.notification (run_id, brand_id, member_id, email, subject, body)
	SELECT r.id, r.brand_id, m.id, m.email, mail.subject, mail.body
	FROM billing.member m, billing_internal.run_mail(r.id) AS mail
	WHERE m.brand_id = r.brand_id
	  AND (m.code = ANY (r.notify) OR (r.kind = 'scheduled' AND m.notify_scheduled_runs));
	-- LISTEN needs no privilege, so the payload says nothing of the brand:
	-- only the run id; a listener reads the run through row level security
	PERFORM pg_notify('billing_run', json_build_object('run_id', r.id)::text);
	IF NOT coalesce(r.brand_id = ANY (billing_internal.caller_brands()), true) THEN
		RETURN;		-- another brand's run: not named to the caller
	END IF;
	IF ok THEN
		RAISE NOTICE '%', message;
	ELSE
		RAISE WARNING '%', message;
	END IF;
END
$$;
COMMENT ON FUNCTION billing_internal.finish_run(bigint, boolean, text, integer, integer, integer, numeric, numeric, numeric) IS
	'closes a run as completed or failed: its row, log line, notifications to members, NOTIFY billing_run and a NOTICE';
REVOKE ALL ON FUNCTION billing_internal.finish_run(bigint, boolean, text, integer, integer, integer, numeric, numeric, numeric) FROM PUBLIC;

-- billing_internal.fail_scheduled_run records that a schedule failed in issue_drafts
-- as its failed scheduled run: the run that failed (run_id), or, when the
-- schedule's planning failed before any run was made, a new run for its
-- most recent closed period as of as_of.  The error (which names the
-- schedule's own objects only) goes into the run row, its log and its
-- notifications (billing_internal.finish_run), and billing.run_report shows it.
-- A failed scheduled run does not hold its period: the next issue_drafts
-- plans it again.  Returns the run id.  Called by the run driver, after the
-- schedule's work was rolled back.
CREATE OR REPLACE FUNCTION billing_internal.fail_scheduled_run(schedule_id bigint, run_id bigint,
                                                      as_of timestamptz, error text)
RETURNS bigint LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	failed_run bigint := run_id;
	-- passed to the INSERT as a value (see finish_run)
	started timestamptz := clock_timestamp();
BEGIN
	IF failed_run IS NULL THEN
		INSERT INTO billing.invoice_run (brand_id, schedule_id, kind, period, cutoff_date, issue_at,
		                                 as_of, invoice_date, status, started_at, description)
		SELECT s.brand_id, s.id, 'scheduled', p.period, p.cutoff,
		       ((p.cutoff + 1)::timestamp + s.issue_delay) AT TIME ZONE br.time_zone,
		       fail_scheduled_run.as_of,
		       billing_internal.invoice_date_for(s.invoice_date_mode, p.cutoff,
		                                (fail_scheduled_run.as_of AT TIME ZONE br.time_zone)::date),
		       'queued', started, 'scheduled run for the period ending ' || p.cutoff || ': planning failed'
		FROM billing.schedule s JOIN billing.brand br ON br.id = s.brand_id
		CROSS JOIN LATERAL (SELECT billing.last_closed_period(s.cycle,
		                               (fail_scheduled_run.as_of AT TIME ZONE br.time_zone)::date) AS period) AS lp
		CROSS JOIN LATERAL (SELECT lp.period, upper(lp.period) - 1 AS cutoff) AS p
		WHERE s.id = fail_scheduled_run.schedule_id
		RETURNING id INTO failed_run;
	END IF;
	BEGIN
		PERFORM billing_internal.finish_run(failed_run, false, error, NULL, NULL, NULL, NULL, NULL, NULL);
	EXCEPTION WHEN OTHERS THEN
		-- finishing failed too (a site's trigger on the outbox, say): the
		-- run row alone still records the failure, with both errors
		UPDATE billing.invoice_run AS r
		SET status = 'failed', finished_at = started,
		    error = format('%s; and finishing the run failed: %s', fail_scheduled_run.error, SQLERRM)
		WHERE r.id = failed_run;
	END;
	RETURN failed_run;
END
$$;
COMMENT ON FUNCTION billing_internal.fail_scheduled_run(bigint, bigint, timestamptz, text) IS
	'internal: records a schedule''s failure in issue_drafts as its failed scheduled run (a new one when planning failed); returns the run id';
REVOKE ALL ON FUNCTION billing_internal.fail_scheduled_run(bigint, bigint, timestamptz, text) FROM PUBLIC;

-- billing_internal.issue_drafts_internal: the run driver of issue_drafts (src/run.c)
CREATE OR REPLACE FUNCTION billing_internal.issue_drafts_internal(as_of timestamptz) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'billing_issue_drafts_internal' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.issue_drafts_internal(timestamptz) IS
	'makes every due scheduled run, schedule by schedule under its lock, each schedule isolated from the others, failures recorded; returns the run ids';
REVOKE ALL ON FUNCTION billing_internal.issue_drafts_internal(timestamptz) FROM PUBLIC;
-- billing_internal.issue_schedule_internal: the run driver of one
-- schedule, what each worker of a parallel issue (billing.parallel_runs)
-- executes in a transaction of its own (src/run.c, src/committed.c)
CREATE OR REPLACE FUNCTION billing_internal.issue_schedule_internal(as_of timestamptz, schedule_id bigint) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'billing_issue_schedule_internal' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.issue_schedule_internal(timestamptz, bigint) IS
	'makes the due scheduled runs of one schedule under its lock, failures recorded; returns the run ids (a worker of a parallel issue_drafts)';
REVOKE ALL ON FUNCTION billing_internal.issue_schedule_internal(timestamptz, bigint) FROM PUBLIC;
CREATE OR REPLACE FUNCTION billing_internal.issue_drafts_run(as_of timestamptz, raise_on_failure boolean) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'billing_issue_drafts_run' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.issue_drafts_run(timestamptz, boolean) IS
	'internal: issue_drafts'' driver; with raise_on_failure, a pass that meets an error is rolled back and done again, committed, by a background worker (src/run.c, src/committed.c)';
REVOKE ALL ON FUNCTION billing_internal.issue_drafts_run(timestamptz, boolean) FROM PUBLIC;
-- (a background worker calls it too; it writes records: billing.api_write)
CREATE OR REPLACE FUNCTION billing_internal.run_invoice_run(run_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_run_invoice_run' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
	SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION billing_internal.run_invoice_run(bigint) IS
	'executes one queued invoice run under its schedule''s lock; true when it completed';
REVOKE ALL ON FUNCTION billing_internal.run_invoice_run(bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION billing_internal.start_run_worker(run_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'billing_start_run_worker' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.start_run_worker(bigint) IS
	'starts a background worker that executes a queued run once this transaction commits';
REVOKE ALL ON FUNCTION billing_internal.start_run_worker(bigint) FROM PUBLIC;

-- billing_internal.record_failed_run writes a failed run as a session saw it (a row
-- of invoice_run as jsonb, same id) and closes it by finish_run: its log
-- line, its mails.  What the background worker of commit_failed_run
-- executes, in a transaction of its own, after the session rolled its own
-- copy back; returns the id.
CREATE OR REPLACE FUNCTION billing_internal.record_failed_run(run jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run := jsonb_populate_record(NULL::billing.invoice_run, run);
BEGIN
	INSERT INTO billing.invoice_run (id, brand_id, schedule_id, kind, period, cutoff_date, issue_at,
	                                 as_of, invoice_date, status, requested_by, notify, description,
	                                 queued_at, started_at)
	VALUES (r.id, r.brand_id, r.schedule_id, r.kind, r.period, r.cutoff_date, r.issue_at,
	        r.as_of, r.invoice_date, 'running', r.requested_by, r.notify, r.description,
	        r.queued_at, r.started_at);
	PERFORM billing_internal.finish_run(r.id, false, r.error, NULL, NULL, NULL, NULL, NULL, NULL);
	RETURN r.id;
END
$$;
COMMENT ON FUNCTION billing_internal.record_failed_run(jsonb) IS
	'internal: writes a failed run (an invoice_run row as jsonb) with its log line and mails; returns its id';
REVOKE ALL ON FUNCTION billing_internal.record_failed_run(jsonb) FROM PUBLIC;
CREATE OR REPLACE FUNCTION billing_internal.commit_failed_run(run text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'billing_commit_failed_run' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.commit_failed_run(text) IS
	'internal: billing_internal.record_failed_run in a background worker''s transaction of its own; returns the run id';
REVOKE ALL ON FUNCTION billing_internal.commit_failed_run(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION billing_internal.raise_error(sqlstate text, message text, detail text, hint text) RETURNS void
	AS 'MODULE_PATHNAME', 'billing_raise_error' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.raise_error(text, text, text, text) IS
	'internal: raises an error (SQLSTATE, message, detail, hint) without the CONTEXT lines of the internal functions it is raised from';
REVOKE ALL ON FUNCTION billing_internal.raise_error(text, text, text, text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION billing_internal.server_log(message text) RETURNS void
	AS 'MODULE_PATHNAME', 'billing_server_log' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.server_log(text) IS
	'internal: writes a LOG line to the server log only, never to the client (it may name every brand''s runs)';
REVOKE ALL ON FUNCTION billing_internal.server_log(text) FROM PUBLIC;

-- billing_internal.raise_failed_runs raises SQLSTATE P0001 when any of the runs
-- failed, naming each (schedule, brand, period, run id) with its error in
-- DETAIL; quiet when none did.  Brand walls: a role hears of its own
-- brands' runs; a role that sees every brand (superuser, BYPASSRLS), or a
-- session with billing.report_every_brand on (set by a superuser for the
-- operator's tick role, the README's billing_cron), of all.  A role of no
-- brand without that setting hears of none (a revoked role learns nothing).
CREATE OR REPLACE FUNCTION billing_internal.raise_failed_runs(run_ids bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	visible bigint[] := billing_internal.caller_brands();
	failed integer;
	made integer;
	named text;
	errors text;
	one bigint;
BEGIN
	SELECT count(*) FILTER (WHERE r.status = 'failed'), count(*),
	       string_agg(format('schedule "%s" (brand %s), period %s..%s, %s %s',
	                         s.code, br.code, to_char(lower(r.period), 'YYYY-MM-DD'),
	                         to_char(upper(r.period) - 1, 'YYYY-MM-DD'),
	                         CASE r.kind WHEN 'rerun' THEN 'rerun' ELSE 'scheduled run' END, r.id),
	                  '; ' ORDER BY r.id)
	         FILTER (WHERE r.status = 'failed'),
	       string_agg(format('run %s: %s', r.id, r.error), E'\n' ORDER BY r.id) FILTER (WHERE r.status = 'failed'),
	       min(r.id) FILTER (WHERE r.status = 'failed')
	INTO failed, made, named, errors, one
	FROM billing.invoice_run r
	JOIN billing.schedule s ON s.id = r.schedule_id JOIN billing.brand br ON br.id = r.brand_id
	WHERE r.id = ANY (run_ids)
	  AND (visible IS NULL OR r.brand_id = ANY (visible)
	       OR coalesce(current_setting('billing.report_every_brand', true), 'off')::boolean);
	-- raised without the internal functions' CONTEXT lines (billing_internal.raise_error)
	IF failed = 0 THEN
		RETURN;
	ELSIF made = 1 THEN
		PERFORM billing_internal.raise_error('P0001', 'a run failed: ' || named,
			substr(errors, length('run ' || one || ': ') + 1),
			format('It is committed as failed: SELECT * FROM billing.run_report WHERE run = %s.  With raise_on_failure => false the call returns the failed run instead of raising.', one));
	END IF;
	PERFORM billing_internal.raise_error('P0001', format('%s of %s runs failed: %s', failed, made, named), errors, 'The failed runs and the runs that succeeded are committed, made again in a transaction of their own after the first failure (a NOTICE above about another run id was rolled back): SELECT * FROM billing.run_report WHERE step = ''failed''.  The next issue_drafts tries a failed scheduled run''s period again.');
END
$$;
COMMENT ON FUNCTION billing_internal.raise_failed_runs(bigint[]) IS
	'internal: raises P0001 naming each failed run among run_ids that the caller may see; quiet when none failed';
REVOKE ALL ON FUNCTION billing_internal.raise_failed_runs(bigint[]) FROM PUBLIC;

-- billing.issue_drafts: every due scheduled run of every enabled schedule.
-- Idempotent, and catches up on periods missed while nothing called it.
-- An as_of in the future would issue periods that have not closed yet (and
-- mark them done for good), so it is refused unless the caller says this is
-- a simulation (simulate => true: tests, demonstrations, a copy of the data).
-- One schedule cannot stop another: an error in a schedule's planning or
-- run fails that schedule alone, as a failed run (its error in
-- billing.run_report), and the other schedules are billed all the same.
-- A failure is an error (raise_on_failure, the default): the call raises
-- P0001 naming each failed schedule and period, and the failed runs and
-- the others' drafts are committed all the same, by a background worker
-- of their own (billing_internal.issue_drafts_run; README, "When a run fails").
-- With raise_on_failure => false the failed runs are rows of the result,
-- in the caller's transaction, as in 0.2.
CREATE OR REPLACE FUNCTION billing.issue_drafts(as_of timestamptz DEFAULT now(),
                                                simulate boolean DEFAULT false,
                                                raise_on_failure boolean DEFAULT true)
RETURNS SETOF billing.run_summary LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	run_ids bigint[];
	issued billing.invoice_run;
BEGIN
	IF as_of IS NULL OR NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite time, got %', coalesce(as_of::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave it out to mean now().';
	END IF;
	IF as_of > clock_timestamp() AND NOT coalesce(simulate, false) THEN
		RAISE EXCEPTION 'as_of % is in the future', as_of
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = 'Drafts are issued only for periods whose issue moment has passed; a later as_of would issue periods that have not closed.',
			      HINT = 'Leave as_of out to mean now(), or pass simulate => true to issue as of a future moment on purpose.';
	END IF;
	-- fail_dead_runs first, then every due run (src/run.c)
	run_ids := billing_internal.issue_drafts_run(as_of, coalesce(raise_on_failure, true));
	-- the tick also (re)starts the mailer for mail still due (mail.sql)
	PERFORM billing_internal.wake_mailer();
	-- what the call did, in the server log beside pg_cron's own lines (its
	-- job_run_details keep only a command tag on success): every brand's
	-- runs, when there were any
	IF cardinality(run_ids) > 0 THEN
		PERFORM billing_internal.server_log((
			WITH made AS (
				SELECT r.id, r.schedule_id, r.status, r.invoice_count, r.billed_total, s.code, br.currency
				FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
				JOIN billing.brand br ON br.id = r.brand_id
				WHERE r.id = ANY (run_ids)
			), totals AS (
				SELECT string_agg(format('%s %s', t.billed, t.currency), ' + ' ORDER BY t.currency) AS billed
				FROM (SELECT m.currency, sum(m.billed_total) AS billed FROM made m
				      WHERE m.status = 'completed' GROUP BY m.currency) AS t
			)
			SELECT format('billing: issue_drafts as of %s made %s runs of %s schedules: %s drafts, billed %s; %s failed%s',
			              as_of, count(*), count(DISTINCT m.schedule_id), coalesce(sum(m.invoice_count), 0),
			              coalesce(min(t.billed), 'nothing'), count(*) FILTER (WHERE m.status = 'failed'),
			              coalesce(': ' || string_agg(format('run %s of schedule %s', m.id, m.code), ', ' ORDER BY m.id)
			                                  FILTER (WHERE m.status = 'failed'), ''))
			FROM made m, totals t));
	END IF;
	IF coalesce(raise_on_failure, true) THEN
		PERFORM billing_internal.raise_failed_runs(run_ids);
	END IF;
	-- the runs of every brand are issued; the caller is shown its own
	-- (each row summed up here: on Citus a run row passed whole to a
	-- function inside the query would be a row of a shard's type)
	FOR issued IN SELECT r.* FROM billing.invoice_run r, billing_internal.caller_brands() AS v(visible)
	              WHERE r.id = ANY (run_ids) AND (v.visible IS NULL OR r.brand_id = ANY (v.visible)) ORDER BY r.id LOOP
		RETURN NEXT billing_internal.run_summary(issued);
	END LOOP;
END
$$;
COMMENT ON FUNCTION billing.issue_drafts(timestamptz, boolean, boolean) IS
	'makes the draft invoices of every period whose issue moment has come by as_of (not in the future unless simulate); idempotent, catches up; raises P0001 naming failed runs (committed) unless raise_on_failure => false';
REVOKE ALL ON FUNCTION billing.issue_drafts(timestamptz, boolean, boolean) FROM PUBLIC;

-- billing.rerun_invoice_run: re-aggregates the uninvoiced documents of a
-- closed period of the schedule into new drafts (never into existing
-- ones): the period that contains period => date, any closed period since
-- the schedule came into use, or by default the most recent closed one as
-- of as_of.  Returns the run id; with background => true a background
-- worker does the run after this transaction commits.  A rerun that finds
-- nothing to bill makes no run: it returns NULL with the NOTICE "nothing
-- to re-run for schedule X period Y" (and that line in the server log); a
-- background one ends cancelled with that line (billing_internal.finish_run).
-- A rerun that fails raises P0001 naming it (raise_on_failure, the
-- default); its failed run is committed all the same, with the same id,
-- by a background worker (billing_internal.commit_failed_run).  With
-- raise_on_failure => false it returns the failed run's id, as 0.2 did.
CREATE OR REPLACE FUNCTION billing.rerun_invoice_run(schedule text, as_of timestamptz DEFAULT now(),
                                                     brand text DEFAULT NULL, period date DEFAULT NULL,
                                                     notify text[] DEFAULT '{}',
                                                     background boolean DEFAULT false,
                                                     simulate boolean DEFAULT false,
                                                     raise_on_failure boolean DEFAULT true)
RETURNS bigint LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	run_id bigint;
	failed_run jsonb;
BEGIN
	-- as issue_drafts: a period is billed once it has closed, not before
	IF as_of > clock_timestamp() AND NOT coalesce(simulate, false) THEN
		RAISE EXCEPTION 'as_of % is in the future', as_of
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = 'A rerun bills a period that has closed; as of a later moment it would bill one that has not.',
			      HINT = 'Leave as_of out to mean now() (period => a date picks an earlier closed period), or pass simulate => true to rerun as of a future moment on purpose (a test database).';
	END IF;
	PERFORM billing.fail_dead_runs();
	IF coalesce(background, false) THEN
		run_id := billing_internal.plan_rerun(schedule, notify, as_of, brand, period);
		PERFORM billing_internal.start_run_worker(run_id);
		RETURN run_id;
	END IF;
	BEGIN
		run_id := billing_internal.plan_rerun(schedule, notify, as_of, brand, period);
		IF NOT billing_internal.run_invoice_run(run_id) AND coalesce(raise_on_failure, true) THEN
			SELECT to_jsonb(r) INTO failed_run FROM billing.invoice_run r WHERE r.id = run_id;
			-- rolls this block back (the run as this transaction wrote it)
			RAISE EXCEPTION 'rerun % failed', run_id USING ERRCODE = 'BL001';
		END IF;
	EXCEPTION WHEN SQLSTATE 'BL001' THEN
		IF failed_run IS NULL THEN
			RAISE;		-- not ours (a site's trigger raising BL001)
		END IF;
		-- the same run, committed on its own, then the error
		PERFORM billing_internal.commit_failed_run(failed_run::text);
		PERFORM billing_internal.raise_failed_runs(ARRAY[run_id]);
	END;
	IF NOT EXISTS (SELECT 1 FROM billing.invoice_run r WHERE r.id = run_id) THEN
		RETURN NULL;	-- nothing to re-run: finish_run took the empty run back
	END IF;
	RETURN run_id;
END
$$;
COMMENT ON FUNCTION billing.rerun_invoice_run(text, timestamptz, text, date, text[], boolean, boolean, boolean) IS
	're-aggregates uninvoiced documents of a closed period (period => a date in it; default the most recent) into new drafts; as_of not in the future unless simulate; NULL when there is nothing to re-run; raises P0001 when the run fails (committed as failed) unless raise_on_failure => false';
REVOKE ALL ON FUNCTION billing.rerun_invoice_run(text, timestamptz, text, date, text[], boolean, boolean, boolean) FROM PUBLIC;

-- billing_internal.on_citus: true when billing's documents are a Citus
-- table (billing.distribute() placed them).  Reruns there read their
-- periods whole: the rerun hints' transaction ids are each worker's own
-- (billing_internal.note_rerun_hint notes nothing then).  Read
-- through EXECUTE, as pg_dist_partition exists only with Citus.
CREATE OR REPLACE FUNCTION billing_internal.on_citus() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	placed boolean;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition d WHERE d.logicalrelid = $1)'
		INTO placed USING 'billing.document'::regclass;
	RETURN placed;
END
$$;
COMMENT ON FUNCTION billing_internal.on_citus() IS
	'true when billing''s documents are a Citus table (placed by billing.distribute()): reruns then read their periods whole';
REVOKE ALL ON FUNCTION billing_internal.on_citus() FROM PUBLIC;

-- billing_internal.rerun_buyers: the buyers a rerun or preview of a period
-- must read, or NULL to read them all.  The last run of the schedule and
-- period (cut-off) whose snapshot was kept (billing_internal.run_snapshot,
-- written by billing_internal.make_drafts) read every buyer; since then, a
-- buyer can have come to need a draft only by a change noted in
-- billing_internal.rerun_hint by a transaction that snapshot did not see
-- (committed after it, or still running then: a document numbered before
-- the run and committed after it began is one), or by this transaction
-- (which the snapshot sees as its own), or by being applied to the
-- schedule between that run's applied_before and this one's.  NULL when
-- there is no such run, when it ran in another cluster (transaction ids
-- of a restored dump say nothing here), when hints it needs were pruned,
-- or when more than 10,000 buyers changed (reading the period whole is
-- then as fast).  One statement: a pruning that commits meanwhile is seen
-- whole or not at all.  Not called when billing is on Citus
-- (billing_internal.on_citus): no hint is noted on a shard, and a SQL
-- function over distributed tables with parameters is not Citus's to plan;
-- a rerun there reads its period whole.  Internal.
CREATE OR REPLACE FUNCTION billing_internal.rerun_buyers(schedule_id bigint, cutoff date, applied_before timestamptz)
RETURNS bigint[] LANGUAGE sql STABLE PARALLEL UNSAFE
BEGIN ATOMIC
	WITH last_run AS MATERIALIZED (
		SELECT rs.snapshot, rs.applied_before
		FROM billing_internal.run_snapshot rs
		WHERE rs.schedule_id = rerun_buyers.schedule_id AND rs.cutoff_date = rerun_buyers.cutoff
		  AND EXISTS (SELECT 1 FROM billing.invoice_run r
		              WHERE r.id = rs.run_id AND r.schedule_id = rs.schedule_id
		                AND r.cutoff_date = rs.cutoff_date AND r.status IN ('completed', 'cancelled'))
		  AND rs.system_identifier = (SELECT c.system_identifier FROM pg_control_system() AS c)
		  AND pg_snapshot_xmin(rs.snapshot) > coalesce((SELECT h.pruned_through
		                                                FROM billing_internal.rerun_hint_horizon h),
		                                               '0'::xid8)
		  AND pg_snapshot_xmax(rs.snapshot) <= pg_snapshot_xmax(pg_current_snapshot())
		ORDER BY rs.run_id DESC
		LIMIT 1
	), changed AS MATERIALIZED (
		SELECT h.buyer_id FROM billing_internal.rerun_hint h
		WHERE h.xid >= (SELECT pg_snapshot_xmin(l.snapshot) FROM last_run l)
		  AND (NOT pg_visible_in_snapshot(h.xid, (SELECT l.snapshot FROM last_run l))
		       OR h.xid = pg_current_xact_id_if_assigned())
		UNION
		SELECT b.id FROM billing.buyer b
		WHERE b.schedule_id = rerun_buyers.schedule_id
		  AND b.schedule_applied_at >= (SELECT l.applied_before FROM last_run l)
		  AND b.schedule_applied_at < rerun_buyers.applied_before
	)
	SELECT CASE WHEN (SELECT count(*) FROM changed) <= 10000
	            THEN ARRAY(SELECT c.buyer_id FROM changed c ORDER BY c.buyer_id) END
	FROM last_run;
END;
COMMENT ON FUNCTION billing_internal.rerun_buyers(bigint, date, timestamptz) IS
	'the buyers a rerun or preview of the period must read: changed since the last run of the period read it; NULL: read every buyer';
REVOKE ALL ON FUNCTION billing_internal.rerun_buyers(bigint, date, timestamptz) FROM PUBLIC;

-- The drafts a run of one period of a schedule makes, in three parts, each
-- a SQL-standard body (parsed and bound when the extension is installed:
-- no name or operator of them resolves through the caller's search_path)
-- that the planner inlines into its caller's statement (LANGUAGE sql,
-- STABLE, neither STRICT nor SET), so that each of the run's three inserts
-- is one plain INSERT ... SELECT grouped by buyer (billing_internal.make_drafts)
-- and the rule of each part is written once:
--   run_documents  the period's eligible documents, one row each, signed;
--   run_tax_rows   their sums and the tax per draft and rate;
--   run_drafts     the drafts: amounts per draft in the Japanese layout.
-- billing_internal.draft_rows returns the three as rows of one set, for the
-- preview and for a person reading the run (EXPLAIN SELECT * FROM
-- billing_internal.draft_rows(...)).
--
-- Written for a distributed planner (README, Citus; doc/citus.md): the
-- per-buyer tables are joined on buyer_id, the schedule's and brand's
-- settings are uncorrelated scalar subqueries over the small tables (one
-- row each), no CTE is referenced twice and no subquery is correlated, so
-- each insert runs shard by shard.  Internal: executable by their owner
-- only (the run and the preview call them as the owner).

-- billing_internal.run_documents: the documents a draft of the period takes.
-- Which: billing_internal.uninvoiced_documents (the eligibility rule), those
-- of the brand dated in [first_day, day_after_cutoff), of buyers whose
-- schedule was applied before applied_before; with late_from (a scheduled
-- run of a next_run schedule) also those dated from late_from up to
-- first_day, each buyer's from the first period whose run took it (its
-- late_date).  Signed: returns and credit notes subtract (net), payments
-- are deposits.  group_key: 0, or the document with document grouping.
-- first_document_id: no document of the period has a smaller id (see
-- billing_internal.uninvoiced_documents); 0 looks at every link.
-- only_buyers: the buyers to read (billing_internal.rerun_buyers: a rerun
-- reads those changed since the last run of its period); NULL reads all,
-- and is folded away, so a full run's plan is what it was.
CREATE OR REPLACE FUNCTION billing_internal.run_documents(brand_id bigint, schedule_id bigint, first_day date,
                                                 day_after_cutoff date, applied_before timestamptz,
                                                 first_document_id bigint, late_from date, only_buyers bigint[])
RETURNS TABLE (buyer_id bigint, document_id bigint, tax_rate numeric, net numeric, deposit numeric,
               group_key bigint, late_date date)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT d.buyer_id, d.id, d.tax_rate,
	       CASE d.kind WHEN 'delivery_invoice' THEN d.amount WHEN 'payment' THEN 0 ELSE -d.amount END,
	       CASE d.kind WHEN 'payment' THEN d.amount ELSE 0 END,
	       CASE WHEN (SELECT s.grouping FROM billing.schedule s WHERE s.id = run_documents.schedule_id) = 'document'
	            THEN d.id ELSE 0 END,
	       CASE WHEN d.document_date < run_documents.first_day THEN d.document_date END
	FROM billing_internal.uninvoiced_documents(run_documents.first_document_id) AS d
	JOIN billing.buyer b ON b.id = d.buyer_id
	WHERE d.brand_id = run_documents.brand_id
	  AND d.document_date >= least(run_documents.first_day, coalesce(run_documents.late_from, run_documents.first_day))
	  AND d.document_date < run_documents.day_after_cutoff
	  -- a late document (from late_from on): only from the first period
	  -- whose scheduled run took its buyer (the issue moment after the
	  -- buyer's schedule_applied_at, as in billing_internal.plan_scheduled_runs)
	  AND (d.document_date >= run_documents.first_day
	       OR d.document_date >= lower(billing.period_of(
	              (SELECT s.cycle FROM billing.schedule s WHERE s.id = run_documents.schedule_id),
	              ((b.schedule_applied_at AT TIME ZONE (SELECT br.time_zone FROM billing.brand br
	                                                    WHERE br.id = run_documents.brand_id))
	               - (SELECT s.issue_delay FROM billing.schedule s WHERE s.id = run_documents.schedule_id))::date)))
	  AND b.brand_id = run_documents.brand_id AND b.schedule_id = run_documents.schedule_id
	  AND b.schedule_applied_at < run_documents.applied_before
	  AND (run_documents.only_buyers IS NULL OR d.buyer_id = ANY (run_documents.only_buyers))
	  AND (run_documents.only_buyers IS NULL OR b.id = ANY (run_documents.only_buyers));
END;
COMMENT ON FUNCTION billing_internal.run_documents(bigint, bigint, date, date, timestamptz, bigint, date, bigint[]) IS
	'the documents a run of the period takes, one row each, signed (net, deposit), with the draft they go on (group_key) and, for a late one, its date';
REVOKE ALL ON FUNCTION billing_internal.run_documents(bigint, bigint, date, date, timestamptz, bigint, date, bigint[]) FROM PUBLIC;

-- billing_internal.run_tax_rows: per draft (buyer_id, group_key) and rate,
-- the documents' sums and the tax, rounded once per draft and rate (late
-- documents included) by the brand's scale and mode; late_since, the
-- earliest late document's date
CREATE OR REPLACE FUNCTION billing_internal.run_tax_rows(brand_id bigint, schedule_id bigint, first_day date,
                                                day_after_cutoff date, applied_before timestamptz,
                                                first_document_id bigint, late_from date, only_buyers bigint[])
RETURNS TABLE (buyer_id bigint, group_key bigint, tax_rate numeric, net numeric, deposit numeric,
               documents bigint, late_since date, tax numeric)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT e.buyer_id, e.group_key, e.tax_rate, sum(e.net), sum(e.deposit), count(*), min(e.late_date),
	       CASE WHEN e.tax_rate IS NULL THEN 0
	            ELSE billing_internal.round_amount(sum(e.net) * e.tax_rate,
	                     (SELECT br.currency_scale FROM billing.brand br WHERE br.id = run_tax_rows.brand_id),
	                     (SELECT br.tax_rounding FROM billing.brand br WHERE br.id = run_tax_rows.brand_id)) END
	FROM billing_internal.run_documents(run_tax_rows.brand_id, run_tax_rows.schedule_id, run_tax_rows.first_day,
	                                    run_tax_rows.day_after_cutoff, run_tax_rows.applied_before,
	                                    run_tax_rows.first_document_id, run_tax_rows.late_from,
	                                    run_tax_rows.only_buyers) AS e
	GROUP BY e.buyer_id, e.group_key, e.tax_rate;
END;
COMMENT ON FUNCTION billing_internal.run_tax_rows(bigint, bigint, date, date, timestamptz, bigint, date, bigint[]) IS
	'per draft and rate of a run of the period: the documents'' net and deposit sums, their count, the earliest late date, and the tax rounded once';
REVOKE ALL ON FUNCTION billing_internal.run_tax_rows(bigint, bigint, date, date, timestamptz, bigint, date, bigint[]) FROM PUBLIC;

-- billing_internal.run_drafts: the drafts, one row each: a buyer's for its
-- documents (one per document with document grouping), or for a non-zero
-- balance when it has no other live invoice with this cut-off or a later
-- one (group_key NULL).  previous_billed is 0 when a later live invoice
-- already carries the balance (a rerun of an older period) and on a
-- document-grouped draft.  The amounts in the Japanese layout, the invoice
-- total formula written here and only here:
--   繰越金額 carried_over = 前回御請求額 previous_billed - 御入金額 deposit,
--   今回御請求額 total = carried_over + 今回御買上額 purchases + 消費税額 tax.
CREATE OR REPLACE FUNCTION billing_internal.run_drafts(brand_id bigint, schedule_id bigint, first_day date,
                                              day_after_cutoff date, applied_before timestamptz,
                                              cutoff date, invoice_date date, first_document_id bigint,
                                              late_from date, only_buyers bigint[])
RETURNS TABLE (buyer_id bigint, group_key bigint, previous_billed numeric, deposit numeric,
               carried_over numeric, purchases numeric, tax numeric, total numeric, documents integer,
               due_rule billing.due_rule, due_date date, bank_account_id bigint, late_since date)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT d.buyer_id, d.group_key, d.previous_billed, d.deposit, a.carried_over, d.purchases, d.tax,
	       a.carried_over + d.purchases + d.tax, d.documents, d.due_rule,
	       billing.due_date(d.due_rule, run_drafts.cutoff, run_drafts.invoice_date), d.bank_account_id,
	       d.late_since
	FROM (SELECT b.id AS buyer_id, g.group_key,
	             CASE WHEN g.group_key IS NOT NULL
	                       AND (SELECT s.grouping FROM billing.schedule s WHERE s.id = run_drafts.schedule_id) = 'document'
	                  THEN 0
	                  -- a later live invoice carries the balance: not restated
	                  WHEN live.later THEN 0
	                  ELSE b.billing_balance END AS previous_billed,
	             coalesce(g.deposit, 0) AS deposit, coalesce(g.purchases, 0) AS purchases,
	             coalesce(g.tax, 0) AS tax, coalesce(g.documents, 0)::integer AS documents, g.late_since,
	             CASE WHEN (SELECT s.override_due_rule FROM billing.schedule s WHERE s.id = run_drafts.schedule_id)
	                  THEN (SELECT s.due_rule FROM billing.schedule s WHERE s.id = run_drafts.schedule_id)
	                  ELSE b.default_due_rule END AS due_rule,
	             b.default_bank_account_id AS bank_account_id
	      FROM billing.buyer b
	      -- the buyer's live invoices of this period or a later one: a rerun
	      -- of an older period (period => date) neither makes a balance-only
	      -- draft nor restates the balance that a later invoice carries
	      LEFT JOIN (SELECT i.buyer_id, bool_or(i.cutoff_date > run_drafts.cutoff) AS later
	                 FROM billing.invoice i
	                 WHERE i.cutoff_date >= run_drafts.cutoff
	                   AND i.status IN ('draft', 'confirmed', 'quarantined')
	                   AND (run_drafts.only_buyers IS NULL OR i.buyer_id = ANY (run_drafts.only_buyers))
	                 GROUP BY i.buyer_id) AS live
	        ON live.buyer_id = b.id
	      -- the documents' sums per draft
	      LEFT JOIN (SELECT t.buyer_id, t.group_key, sum(t.net) AS purchases, sum(t.tax) AS tax,
	                        sum(t.deposit) AS deposit, sum(t.documents) AS documents, min(t.late_since) AS late_since
	                 FROM billing_internal.run_tax_rows(run_drafts.brand_id, run_drafts.schedule_id,
	                                                    run_drafts.first_day, run_drafts.day_after_cutoff,
	                                                    run_drafts.applied_before, run_drafts.first_document_id,
	                                                    run_drafts.late_from, run_drafts.only_buyers) AS t
	                 GROUP BY t.buyer_id, t.group_key) AS g
	        ON g.buyer_id = b.id
	      WHERE b.brand_id = run_drafts.brand_id AND b.schedule_id = run_drafts.schedule_id
	        AND b.schedule_applied_at < run_drafts.applied_before
	        AND (run_drafts.only_buyers IS NULL OR b.id = ANY (run_drafts.only_buyers))
	        -- a draft for documents, or a balance-only one
	        AND (g.buyer_id IS NOT NULL OR (b.billing_balance <> 0 AND live.buyer_id IS NULL))) AS d
	CROSS JOIN LATERAL (SELECT d.previous_billed - d.deposit AS carried_over) AS a;
END;
COMMENT ON FUNCTION billing_internal.run_drafts(bigint, bigint, date, date, timestamptz, date, date, bigint, date, bigint[]) IS
	'the drafts a run of the period makes, one row each, amounts in the Japanese layout: carried_over = previous_billed - deposit, total = carried_over + purchases + tax';
REVOKE ALL ON FUNCTION billing_internal.run_drafts(bigint, bigint, date, date, timestamptz, date, date, bigint, date, bigint[]) FROM PUBLIC;

-- billing_internal.draft_rows: the drafts, tax lines and links a run of the
-- period makes, as one set of rows, writing nothing: row_kind 'invoice' (a
-- draft: billing_internal.run_drafts), 'tax_line' (a draft's taxable amount
-- and tax at one rate: run_tax_rows) and 'link' (a document the draft
-- (buyer_id, group_key) takes: run_documents).  The preview
-- (billing_internal.preview_drafts) reads its 'invoice' rows, so a preview is
-- what the run that follows it makes; EXPLAIN SELECT * FROM
-- billing_internal.draft_rows(...) shows what a run reads.
CREATE OR REPLACE FUNCTION billing_internal.draft_rows(brand_id bigint, schedule_id bigint, first_day date,
                                              day_after_cutoff date, applied_before timestamptz,
                                              cutoff date, invoice_date date,
                                              first_document_id bigint DEFAULT 0,
                                              late_from date DEFAULT NULL,
                                              only_buyers bigint[] DEFAULT NULL)
RETURNS TABLE (row_kind text, buyer_id bigint, group_key bigint, document_id bigint,
               tax_rate numeric, taxable_amount numeric, previous_billed numeric, deposit numeric,
               carried_over numeric, purchases numeric, tax numeric, total numeric,
               documents integer, due_rule billing.due_rule, due_date date, bank_account_id bigint,
               late_since date)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT 'invoice', d.buyer_id, d.group_key, NULL::bigint, NULL::numeric, NULL::numeric,
	       d.previous_billed, d.deposit, d.carried_over, d.purchases, d.tax, d.total, d.documents,
	       d.due_rule, d.due_date, d.bank_account_id, d.late_since
	FROM billing_internal.run_drafts(draft_rows.brand_id, draft_rows.schedule_id, draft_rows.first_day,
	                                 draft_rows.day_after_cutoff, draft_rows.applied_before, draft_rows.cutoff,
	                                 draft_rows.invoice_date, draft_rows.first_document_id, draft_rows.late_from,
	                                 draft_rows.only_buyers) AS d
	UNION ALL
	SELECT 'tax_line', t.buyer_id, t.group_key, NULL, t.tax_rate, t.net, NULL, NULL, NULL, NULL,
	       t.tax, NULL, NULL, NULL, NULL, NULL, NULL
	FROM billing_internal.run_tax_rows(draft_rows.brand_id, draft_rows.schedule_id, draft_rows.first_day,
	                                   draft_rows.day_after_cutoff, draft_rows.applied_before,
	                                   draft_rows.first_document_id, draft_rows.late_from,
	                                   draft_rows.only_buyers) AS t
	WHERE t.tax_rate IS NOT NULL
	UNION ALL
	SELECT 'link', e.buyer_id, e.group_key, e.document_id, NULL, NULL, NULL, NULL, NULL, NULL,
	       NULL, NULL, NULL, NULL, NULL, NULL, NULL
	FROM billing_internal.run_documents(draft_rows.brand_id, draft_rows.schedule_id, draft_rows.first_day,
	                                    draft_rows.day_after_cutoff, draft_rows.applied_before,
	                                    draft_rows.first_document_id, draft_rows.late_from,
	                                    draft_rows.only_buyers) AS e;
END;
COMMENT ON FUNCTION billing_internal.draft_rows(bigint, bigint, date, date, timestamptz, date, date, bigint, date, bigint[]) IS
	'the drafts, tax lines and links a run of the period (and, from late_from, the late documents of earlier closed periods) would make, computed and returned, writing nothing; amounts in the Japanese layout: carried_over = previous_billed - deposit, total = carried_over + purchases + tax';
REVOKE ALL ON FUNCTION billing_internal.draft_rows(bigint, bigint, date, date, timestamptz, date, date, bigint, date, bigint[]) FROM PUBLIC;

-- The partitioned records (tables.sql): the links, by document id in
-- blocks of 2^20, and the tax lines, by invoice id in blocks of 2^17 (about
-- the documents and the invoices of one month of the benchmark), the first
-- partition of each from MINVALUE, then one partition a block.  A run makes
-- sure, before its statement, that the blocks it will write into have
-- theirs (make_drafts): the blocks of its documents and of the ids the
-- sequences give next.  They are made by add_partitions, called in a
-- background worker's transaction of its own (commit_partitions): ATTACH
-- PARTITION takes SHARE UPDATE EXCLUSIVE on the parent, which held to the
-- end of a long run would queue the other schedules' runs behind it.
-- Neither table has a foreign key (tables.sql), so attaching an empty
-- partition locks nothing else.  Only the blocks that ids are in are made:
-- the ids of another node's range (billing_internal.next_id on a Citus
-- worker) or an id given by hand far past the sequence get a partition of
-- their own block, not every block in between.

-- partition_block_bits(parent): the size of a block of parent's partitions,
-- as a power of two
-- (src/partitions.c, which missing_blocks and partitions_reach use too)
CREATE OR REPLACE FUNCTION billing_internal.partition_block_bits(parent regclass) RETURNS integer
	AS 'MODULE_PATHNAME', 'billing_partition_block_bits' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.partition_block_bits(regclass) IS
	'internal: a block of the partitions of billing.document_link (document ids) or billing.invoice_tax_line (invoice ids) holds 2^this ids';
REVOKE ALL ON FUNCTION billing_internal.partition_block_bits(regclass) FROM PUBLIC;

-- partition_ranges(parent): each partition's ids, [lower, upper) (lower
-- NULL: from MINVALUE)
CREATE OR REPLACE FUNCTION billing_internal.partition_ranges(parent regclass, OUT part regclass, OUT lower bigint,
                                                             OUT upper bigint)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT c.oid::regclass,
	       substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \(''(-?[0-9]+)''\)')::bigint,
	       substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''(-?[0-9]+)''\)')::bigint
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = parent
$$;
COMMENT ON FUNCTION billing_internal.partition_ranges(regclass) IS
	'internal: the ids of each partition of a partitioned billing table, [lower, upper); lower NULL from MINVALUE';
REVOKE ALL ON FUNCTION billing_internal.partition_ranges(regclass) FROM PUBLIC;

-- partitions_reach(parent): the id up to which the partitions hold every
-- block, from MINVALUE on without a gap (only ids from it on need looking
-- at); missing_blocks(parent, blocks): those of the blocks that no partition
-- of parent holds yet, each once, in order, refused when they are more than
-- 1024 (54000), before any is made.  Both read the partition descriptor of
-- the relation cache (src/partitions.c).
CREATE OR REPLACE FUNCTION billing_internal.partitions_reach(parent regclass) RETURNS bigint
	AS 'MODULE_PATHNAME', 'billing_partitions_reach' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.partitions_reach(regclass) IS
	'internal: the id up to which the partitions of a partitioned billing table hold every block, from MINVALUE on';
REVOKE ALL ON FUNCTION billing_internal.partitions_reach(regclass) FROM PUBLIC;
CREATE OR REPLACE FUNCTION billing_internal.missing_blocks(parent regclass, blocks bigint[]) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'billing_missing_blocks' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION billing_internal.missing_blocks(regclass, bigint[]) IS
	'internal: the blocks (of those given) that no partition of a partitioned billing table holds; refuses more than 1024';
REVOKE ALL ON FUNCTION billing_internal.missing_blocks(regclass, bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION billing_internal.add_partitions(parent regclass, blocks bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	bits integer := billing_internal.partition_block_bits(parent);
	name text := (SELECT c.relname FROM pg_class c WHERE c.oid = parent);
	block bigint;
	made integer := 0;
	part text;
BEGIN
	-- one maker at a time: the second waits here, then finds them made
	EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
	-- on Citus the new partition becomes a shard-distributed table as it is
	-- attached, with the parent's triggers (the guards): Citus's permission
	-- for triggers on distributed tables, for this transaction (its own, in
	-- a background worker: commit_partitions), as billing.distribute()
	-- takes it
	IF billing_internal.on_citus() THEN
		PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
	END IF;
	FOREACH block IN ARRAY billing_internal.missing_blocks(parent, blocks) LOOP
		part := name || '_' || block;
		-- the key and index of the first partition (tables.sql), made on
		-- the empty table before it is attached
		IF parent = 'billing.document_link'::regclass THEN
			EXECUTE format('CREATE TABLE billing.%I (LIKE billing.document_link, PRIMARY KEY (buyer_id, document_id))', part);
			EXECUTE format('CREATE INDEX %I ON billing.%I USING brin (document_id) WITH (autosummarize = on)',
			               part || '_document_brin', part);
		ELSE
			EXECUTE format('CREATE TABLE billing.%I (LIKE billing.invoice_tax_line, PRIMARY KEY (buyer_id, invoice_id, tax_rate))', part);
		END IF;
		EXECUTE format('ALTER TABLE %s ATTACH PARTITION billing.%I FOR VALUES FROM (%s) TO (%s)',
		               parent, part, block << bits, (block + 1) << bits);
		PERFORM billing_internal.guard_partition(format('billing.%I', part)::regclass);
		made := made + 1;
	END LOOP;
	RETURN made;
END
$$;
COMMENT ON FUNCTION billing_internal.add_partitions(regclass, bigint[]) IS
	'internal: makes the partitions of a partitioned billing table for the blocks given that have none; returns how many it made';
REVOKE ALL ON FUNCTION billing_internal.add_partitions(regclass, bigint[]) FROM PUBLIC;
CREATE OR REPLACE FUNCTION billing_internal.commit_partitions(parent regclass, blocks bigint[]) RETURNS void
	AS 'MODULE_PATHNAME', 'billing_commit_partitions' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.commit_partitions(regclass, bigint[]) IS
	'internal: billing_internal.add_partitions in a background worker''s transaction of its own, for those of the blocks no partition holds (none: nothing is done)';
REVOKE ALL ON FUNCTION billing_internal.commit_partitions(regclass, bigint[]) FROM PUBLIC;

-- billing_internal.analyze_stale: a table a run reads that was never
-- analyzed (a bulk load just before the night's run), or that has more
-- than doubled since it was, is analyzed, when the caller may (owner or
-- superuser).  The run's plan shape does not depend on statistics
-- (make_drafts' SET clauses), but sort-or-hash choices and hash sizes do.
-- Tables under 1 MB plan well without.  Called by make_drafts, and by
-- each worker of a parallel issue in a transaction of its own first (an
-- ANALYZE in a long run's transaction would keep another worker's waiting).
CREATE OR REPLACE FUNCTION billing_internal.analyze_stale() RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	stale regclass;
BEGIN
	FOR stale IN
		SELECT c.oid::regclass FROM pg_class c
		WHERE (c.oid IN ('billing.buyer'::regclass, 'billing.document'::regclass)
		       OR c.oid IN (SELECT p.relid FROM pg_partition_tree('billing.document_link') p WHERE p.isleaf))
		  AND pg_relation_size(c.oid) > 1048576
		  AND (c.reltuples < 0
		       OR pg_relation_size(c.oid) > 2 * c.relpages::bigint * current_setting('block_size')::bigint)
		  AND pg_has_role(c.relowner, 'USAGE')
		ORDER BY c.oid
	LOOP
		EXECUTE format('ANALYZE %s', stale);
	END LOOP;
END
$$;
COMMENT ON FUNCTION billing_internal.analyze_stale() IS
	'internal: analyzes the tables a run reads (buyer, document, the partitions of document_link) never analyzed or doubled since, when the caller owns them';
REVOKE ALL ON FUNCTION billing_internal.analyze_stale() FROM PUBLIC;

-- billing_internal.make_drafts: the writing part of a run.  Writes the drafts
-- (billing_internal.run_drafts), their tax lines (run_tax_rows) and the links
-- of their documents (run_documents) in three inserts, and returns the run's
-- counts and totals.  Called by the run
-- driver (src/run.c) under the schedule's lock, inside a subtransaction,
-- with billing.run_work_mem as work_mem.  first_document_id is read here
-- by a statement of its own after the lock was granted, so a document
-- committed while the run waited is seen.  Tables never analyzed (or grown
-- to more than twice their analyzed size) are analyzed first.
--
-- The planner settings are part of the statement: hash joins are the
-- right shape at every size (CTE scans carry no statistics, and a table
-- loaded but never analyzed shows a few rows), so
-- nested loops and merge joins are off (the only nested loops left are
-- over the one-row cfg CTE, costed as disabled), JIT is off (those costs
-- would trigger it, and compiling took longer than the small runs of the
-- regression tests), and each run is planned for its own values.
-- Hash aggregation is off too: the sums per buyer and rate are sorted and
-- grouped whatever the estimate.  With months of history the period's
-- documents are estimated at a tenth of their number (the planner takes
-- the id bound and the dates as independent), and a hash aggregate sized
-- for that spilled in 21 batches (test/bench/issue.sh, issue 14 item 2).
-- (The links are written in the order they come, not sorted by their key:
-- sorted, each month's inserts left half-filled leaf pages behind, the key
-- grew 11% larger over five months and the history run was no faster.)
CREATE OR REPLACE FUNCTION billing_internal.make_drafts(run_id bigint, brand_id bigint, schedule_id bigint,
                                               first_day date, day_after_cutoff date,
                                               applied_before timestamptz, cutoff date,
                                               invoice_date date,
                                               OUT buyers integer, OUT invoices integer,
                                               OUT documents integer, OUT purchases numeric,
                                               OUT tax numeric, OUT billed numeric)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET enable_mergejoin = off
SET enable_nestloop = off
SET enable_hashagg = off
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
	first_document_id bigint;
	last_document_id bigint;
	link_blocks bigint[];
	link_bits integer := billing_internal.partition_block_bits('billing.document_link');
	tax_line_bits integer := billing_internal.partition_block_bits('billing.invoice_tax_line');
	first_invoice_id bigint;
	last_invoice_id bigint;
	currency text;
	late_from date;
	run_kind text;
	only_buyers bigint[];
	young xid8;
	on_citus boolean := billing_internal.on_citus();
	linked bigint;
	tax_line_blocks bigint[];
BEGIN
	-- Statistics first (billing_internal.analyze_stale)
	PERFORM billing_internal.analyze_stale();

	-- The snapshot the run reads in, kept for the next rerun of the
	-- period (billing_internal.rerun_buyers): taken before anything is
	-- read, so what commits from now on is read again by that rerun.
	INSERT INTO billing_internal.run_snapshot AS rs (run_id, schedule_id, cutoff_date, applied_before,
	                                                 snapshot, system_identifier)
	SELECT make_drafts.run_id, make_drafts.schedule_id, make_drafts.cutoff, make_drafts.applied_before,
	       pg_current_snapshot(), c.system_identifier
	FROM pg_control_system() AS c
	ON CONFLICT ON CONSTRAINT run_snapshot_pkey DO UPDATE
	SET schedule_id = excluded.schedule_id, cutoff_date = excluded.cutoff_date,
	    applied_before = excluded.applied_before, snapshot = excluded.snapshot,
	    system_identifier = excluded.system_identifier;
	SELECT r.kind INTO run_kind FROM billing.invoice_run r WHERE r.id = make_drafts.run_id;

	IF run_kind = 'rerun' THEN
		-- a rerun reads the buyers changed since the period's last run,
		-- each from its own rows (the primary keys), when there was one
		-- (on Citus, always the whole period: billing_internal.rerun_buyers)
		IF NOT on_citus THEN
			only_buyers := billing_internal.rerun_buyers(make_drafts.schedule_id, make_drafts.cutoff,
			                                             make_drafts.applied_before);
		END IF;
	ELSIF NOT on_citus THEN
		-- a scheduled run prunes the rerun hints older than two months
		-- (by transaction id, up to the oldest younger one: an index
		-- range); a rerun whose period's last run is older reads it whole
		-- (on Citus no hint is noted, and a FOR UPDATE over the shards is
		-- refused)
		SELECT h.xid INTO young FROM billing_internal.rerun_hint h
		WHERE h.created_at >= now() - interval '2 months' ORDER BY h.xid LIMIT 1;
		-- (SKIP LOCKED: a run of another schedule in parallel may be
		-- pruning the same hints; it does not wait for that run's commit)
		WITH gone AS (
			DELETE FROM billing_internal.rerun_hint h
			WHERE h.ctid = ANY (ARRAY(
			        SELECT o.ctid FROM billing_internal.rerun_hint o
			        WHERE (young IS NULL OR o.xid < young) AND o.created_at < now() - interval '2 months'
			        FOR UPDATE SKIP LOCKED))
			RETURNING h.xid
		)
		UPDATE billing_internal.rerun_hint_horizon hz
		SET pruned_through = greatest(hz.pruned_through, (SELECT max(g.xid) FROM gone g))
		WHERE EXISTS (SELECT 1 FROM gone);
	END IF;
	IF only_buyers IS NOT NULL THEN
		PERFORM billing_internal.set_run_phase(make_drafts.run_id, make_drafts.brand_id, 'aggregating');
		IF cardinality(only_buyers) = 0 THEN
			buyers := 0; invoices := 0; documents := 0; purchases := 0; tax := 0; billed := 0;
			RETURN;
		END IF;
		-- a few buyers: read by their keys, nested loops are right
		PERFORM set_config('enable_nestloop', 'on', true);
		first_document_id := 0;
	END IF;

	-- A scheduled run of a schedule with late_documents = next_run also
	-- bills the uninvoiced documents of earlier closed periods, from the
	-- first period its earliest buyer was billed in (draft_rows narrows
	-- that per buyer); a rerun bills its own period only.
	IF run_kind = 'scheduled' THEN
	SELECT lower(billing.period_of(s.cycle, ((min(b.schedule_applied_at) AT TIME ZONE br.time_zone)
	                                         - s.issue_delay)::date))
	INTO late_from
	FROM billing.invoice_run r
	JOIN billing.schedule s ON s.id = r.schedule_id
	JOIN billing.brand br ON br.id = s.brand_id
	JOIN billing.buyer b ON b.schedule_id = s.id
	WHERE r.id = make_drafts.run_id AND r.kind = 'scheduled' AND s.late_documents = 'next_run'
	GROUP BY s.cycle, s.issue_delay, br.time_zone;
	IF late_from >= make_drafts.first_day THEN
		late_from := NULL;
	END IF;
	END IF;

	IF only_buyers IS NULL THEN
		SELECT coalesce(min(d.id), 0), max(d.id) INTO first_document_id, last_document_id
		FROM billing.document d
		WHERE d.brand_id = make_drafts.brand_id
		  AND d.document_date >= coalesce(late_from, make_drafts.first_day)
		  AND d.document_date < make_drafts.day_after_cutoff;
		IF (last_document_id >> link_bits) - (first_document_id >> link_bits) < 1024 THEN
			link_blocks := ARRAY(SELECT generate_series(first_document_id >> link_bits, last_document_id >> link_bits));
		ELSE
			-- ids of far ranges (another node's, or given by hand): the
			-- blocks they are in, not every one in between
			link_blocks := ARRAY(SELECT DISTINCT d.id >> link_bits FROM billing.document d
			                     WHERE d.brand_id = make_drafts.brand_id
			                       AND d.document_date >= coalesce(late_from, make_drafts.first_day)
			                       AND d.document_date < make_drafts.day_after_cutoff
			                       AND d.id >= billing_internal.partitions_reach('billing.document_link'));
		END IF;
	ELSE
		-- a rerun's few buyers: those of their documents past the blocks
		-- held without a gap, by the primary key
		link_blocks := ARRAY(SELECT DISTINCT d.id >> link_bits FROM billing.document d
		                     WHERE d.buyer_id = ANY (only_buyers)
		                       AND d.id >= billing_internal.partitions_reach('billing.document_link'));
	END IF;
	-- the links' partitions for this run's documents and for the ids the
	-- sequence gives next (a document committed before the statement below
	-- starts), made in a transaction of their own when some are missing
	SELECT s.last_value INTO last_document_id FROM billing.document_id_seq s;
	PERFORM billing_internal.commit_partitions('billing.document_link',
		link_blocks || ARRAY(SELECT generate_series(last_document_id >> link_bits,
		                                            (last_document_id + (1::bigint << (link_bits - 2))) >> link_bits)));
	-- and the tax lines': the invoice ids from the sequence's next on, for
	-- four times the buyers there are (this run's drafts and those of runs
	-- of other schedules numbered meanwhile; the statistics, just refreshed
	-- when they were stale, count at least half of them; a table too small
	-- to be analyzed is counted)
	SELECT s.last_value,
	       s.last_value + 64 + 4 * CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
	                                    ELSE (SELECT count(*) FROM billing.buyer) END
	INTO first_invoice_id, last_invoice_id
	FROM billing.invoice_id_seq s, pg_class c WHERE c.oid = 'billing.buyer'::regclass;
	PERFORM billing_internal.commit_partitions('billing.invoice_tax_line',
		ARRAY(SELECT generate_series(first_invoice_id >> tax_line_bits, last_invoice_id >> tax_line_bits)));
	SELECT br.currency INTO currency FROM billing.brand br WHERE br.id = make_drafts.brand_id;

	-- the phase other sessions see in billing.run_report (billing_internal.set_run_phase);
	-- in each write below it is a sub-select, so an InitPlan evaluated once
	-- when that write starts, not a call per row (1.3 million calls were
	-- 0.25 to 0.45 s of a full-size run, test/bench/issue.sh)
	PERFORM billing_internal.set_run_phase(make_drafts.run_id, make_drafts.brand_id, 'aggregating');
	-- Three inserts, each one INSERT ... SELECT grouped by buyer, which on
	-- Citus runs shard by shard (doc/citus.md): the drafts, then their tax
	-- lines and their documents' links, which find their draft by (buyer,
	-- run, draft_key).  Invoice ids come from the column's default, in the
	-- order the drafts come (by buyer, then document): no ordered nextval.
	-- Each insert reads the period's documents again; they are the same
	-- three times, for the run holds its schedule's row and a document of
	-- its buyers can be neither changed nor deleted nor moved away
	-- meanwhile (document_guard, buyer_wait_for_run), but one inserted
	-- meanwhile (inserts take no lock a run holds) would be linked to a
	-- draft that did not count it.  So the links must be the drafts'
	-- documents, counted: when they are more, the three are undone and
	-- made again (a document committed between them is then in all
	-- three), up to three times.
	FOR attempt IN 1..3 LOOP
		BEGIN
			INSERT INTO billing.invoice (buyer_id, brand_id, schedule_id, run_id, status, period,
			       cutoff_date, invoice_date, due_rule, due_date, bank_account_id, currency,
			       previous_billed, deposit, carried_over, purchases, tax, total, document_count,
			       late_since, draft_key)
			SELECT r.buyer_id, make_drafts.brand_id, make_drafts.schedule_id,
			       make_drafts.run_id, 'draft', daterange(make_drafts.first_day, make_drafts.day_after_cutoff),
			       make_drafts.cutoff, make_drafts.invoice_date, r.due_rule, r.due_date,
			       r.bank_account_id, currency, r.previous_billed, r.deposit, r.carried_over,
			       r.purchases, r.tax, r.total, r.documents, r.late_since, r.group_key
			FROM billing_internal.run_drafts(make_drafts.brand_id, make_drafts.schedule_id,
			                                 make_drafts.first_day, make_drafts.day_after_cutoff,
			                                 make_drafts.applied_before, make_drafts.cutoff,
			                                 make_drafts.invoice_date, first_document_id, late_from,
			                                 only_buyers) AS r
			WHERE (SELECT billing_internal.set_run_phase(make_drafts.run_id, make_drafts.brand_id, 'writing invoices'));
			-- the run's counts and totals, and the blocks of the ids the
			-- drafts took that the tax lines' partitions made ahead may not
			-- hold (on Citus those of the workers' ranges, where Citus
			-- numbers them), in one pass over the run's drafts
			SELECT count(DISTINCT i.buyer_id)::integer, count(*)::integer,
			       coalesce(sum(i.document_count), 0)::integer, coalesce(sum(i.purchases), 0),
			       coalesce(sum(i.tax), 0), coalesce(sum(i.total), 0),
			       coalesce(array_agg(DISTINCT i.id >> tax_line_bits)
			                    FILTER (WHERE i.id >= (SELECT billing_internal.partitions_reach('billing.invoice_tax_line'))),
			                '{}')
			INTO buyers, invoices, documents, purchases, tax, billed, tax_line_blocks
			FROM billing.invoice i WHERE i.run_id = make_drafts.run_id;
			PERFORM billing_internal.commit_partitions('billing.invoice_tax_line', tax_line_blocks);
			INSERT INTO billing.invoice_tax_line (buyer_id, invoice_id, tax_rate, taxable_amount, tax, brand_id)
			SELECT t.buyer_id, i.id, t.tax_rate, t.net, t.tax, make_drafts.brand_id
			FROM billing_internal.run_tax_rows(make_drafts.brand_id, make_drafts.schedule_id,
			                                   make_drafts.first_day, make_drafts.day_after_cutoff,
			                                   make_drafts.applied_before, first_document_id, late_from,
			                                   only_buyers) AS t
			JOIN billing.invoice i ON i.buyer_id = t.buyer_id AND i.run_id = make_drafts.run_id
			                      AND i.draft_key = t.group_key
			WHERE t.tax_rate IS NOT NULL
			  AND (SELECT billing_internal.set_run_phase(make_drafts.run_id, make_drafts.brand_id, 'writing invoices'));
			INSERT INTO billing.document_link (buyer_id, document_id, invoice_id, brand_id)
			SELECT e.buyer_id, e.document_id, i.id, make_drafts.brand_id
			FROM billing_internal.run_documents(make_drafts.brand_id, make_drafts.schedule_id,
			                                    make_drafts.first_day, make_drafts.day_after_cutoff,
			                                    make_drafts.applied_before, first_document_id, late_from,
			                                    only_buyers) AS e
			JOIN billing.invoice i ON i.buyer_id = e.buyer_id AND i.run_id = make_drafts.run_id
			                      AND i.draft_key = e.group_key
			WHERE (SELECT billing_internal.set_run_phase(make_drafts.run_id, make_drafts.brand_id, 'writing links'));
			GET DIAGNOSTICS linked = ROW_COUNT;
			IF linked <> documents THEN
				RAISE EXCEPTION 'invoice run %: % documents linked to drafts that counted %', make_drafts.run_id, linked, documents
					USING ERRCODE = 'serialization_failure',
					      DETAIL = 'Documents of the period were committed while the run wrote its drafts.',
					      HINT = 'Run it again: the documents are then in its drafts.';
			END IF;
			EXIT;
		EXCEPTION WHEN serialization_failure THEN
			IF attempt = 3 THEN
				RAISE;
			END IF;
		END;
	END LOOP;
END
$$;
COMMENT ON FUNCTION billing_internal.make_drafts(bigint, bigint, bigint, date, date, timestamptz, date, date) IS
	'writes the drafts, tax lines and links of one run (billing_internal.draft_rows) and returns its counts and totals; called by the run driver';
REVOKE ALL ON FUNCTION billing_internal.make_drafts(bigint, bigint, bigint, date, date, timestamptz, date, date) FROM PUBLIC;

-- billing_internal.preview_drafts: the drafts a run of that period would make now,
-- one row per draft (by buyer, then document with document grouping),
-- writing nothing: billing_internal.run_drafts, the run's own drafts, planned
-- as a run is.
CREATE OR REPLACE FUNCTION billing_internal.preview_drafts(brand_id bigint, schedule_id bigint, first_day date,
                                                  day_after_cutoff date, applied_before timestamptz,
                                                  cutoff date, invoice_date date)
RETURNS TABLE (buyer_id bigint, group_key bigint, previous_billed numeric, deposit numeric,
               carried_over numeric, purchases numeric, tax numeric, total numeric,
               documents integer, due_rule billing.due_rule, due_date date, bank_account_id bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET enable_mergejoin = off
SET enable_nestloop = off
SET enable_hashagg = off
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
	first_document_id bigint := 0;
	only_buyers bigint[];
BEGIN
	IF num_nulls(brand_id, schedule_id, first_day, day_after_cutoff, applied_before, cutoff,
	             invoice_date) > 0 THEN
		RAISE EXCEPTION 'preview_drafts arguments must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'billing.preview_run(schedule) fills them in from a schedule.';
	END IF;
	-- what a rerun would read: the buyers changed since the period's last run
	IF NOT billing_internal.on_citus() THEN
		only_buyers := billing_internal.rerun_buyers(preview_drafts.schedule_id, preview_drafts.cutoff,
		                                             preview_drafts.applied_before);
	END IF;
	IF cardinality(only_buyers) = 0 THEN
		RETURN;
	ELSIF only_buyers IS NOT NULL THEN
		PERFORM set_config('enable_nestloop', 'on', true);
	ELSE
		SELECT coalesce(min(d.id), 0) INTO first_document_id
		FROM billing.document d
		WHERE d.brand_id = preview_drafts.brand_id AND d.document_date >= preview_drafts.first_day
		  AND d.document_date < preview_drafts.day_after_cutoff;
	END IF;
	RETURN QUERY
	SELECT r.buyer_id, r.group_key, r.previous_billed, r.deposit, r.carried_over, r.purchases,
	       r.tax, r.total, r.documents, r.due_rule, r.due_date, r.bank_account_id
	FROM billing_internal.run_drafts(preview_drafts.brand_id, preview_drafts.schedule_id,
	                                 preview_drafts.first_day, preview_drafts.day_after_cutoff,
	                                 preview_drafts.applied_before, preview_drafts.cutoff,
	                                 preview_drafts.invoice_date, first_document_id, NULL, only_buyers) AS r
	ORDER BY r.buyer_id, r.group_key;
END
$$;
COMMENT ON FUNCTION billing_internal.preview_drafts(bigint, bigint, date, date, timestamptz, date, date) IS
	'the drafts a run of the period would make now, one row per draft, writing nothing';
REVOKE ALL ON FUNCTION billing_internal.preview_drafts(bigint, bigint, date, date, timestamptz, date, date) FROM PUBLIC;

-- billing.preview_run: the pre-invoicing report.  What a rerun of the
-- schedule (with the same period => date) would issue now, per buyer (per document with document
-- grouping), computed by the same statement as a run, writing no drafts.
-- VOLATILE only because, like every run function, it first marks runs whose
-- background worker is gone as failed (billing.fail_dead_runs).
CREATE OR REPLACE FUNCTION billing.preview_run(schedule text, as_of timestamptz DEFAULT now(),
                                    brand text DEFAULT NULL, period date DEFAULT NULL)
RETURNS SETOF billing.preview_row
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	target record;
BEGIN
	PERFORM billing.fail_dead_runs();
	target := billing_internal.rerun_target(schedule, as_of, brand, preview_run.period);
	RETURN QUERY
	SELECT b.code, b.name, target.period, target.invoice_date, d.due_date, d.documents,
	       d.previous_billed, d.deposit, d.carried_over, d.purchases, d.tax, d.total, ba.code
	FROM billing_internal.preview_drafts(target.brand_id, target.schedule_id, lower(target.period),
	                            upper(target.period), as_of, target.cutoff, target.invoice_date) AS d
	JOIN billing.buyer b ON b.id = d.buyer_id
	LEFT JOIN billing.bank_account ba ON ba.id = d.bank_account_id
	ORDER BY b.code, d.group_key;
END
$$;
COMMENT ON FUNCTION billing.preview_run(text, timestamptz, text, date) IS
	'pre-invoicing report: what a rerun (of the period containing period => date, default the latest closed) would issue now, per buyer, writing nothing';
REVOKE ALL ON FUNCTION billing.preview_run(text, timestamptz, text, date) FROM PUBLIC;

-- billing.cancel_run cancels a run's unconfirmed invoices.  reopen frees
-- their documents for a later run; otherwise the documents are closed for
-- good (never_invoice) and stay linked to the cancelled invoices.  A queued
-- run (a background rerun waiting for its turn) is cancelled before it
-- starts; a running one cannot be.
CREATE OR REPLACE FUNCTION billing.cancel_run(run_id bigint, reopen boolean DEFAULT true)
RETURNS billing.run_summary LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
	cancelled integer;
	confirmed bigint[];
	visible bigint[] := billing_internal.caller_brands();
BEGIN
	PERFORM billing.fail_dead_runs();
	-- the brand first, without a lock: another brand's run is not waited
	-- for (a wait would tell that it exists and is busy)
	SELECT * INTO r FROM billing.invoice_run i
	WHERE i.id = cancel_run.run_id AND (visible IS NULL OR i.brand_id = ANY (visible));
	IF FOUND THEN
		SELECT * INTO r FROM billing.invoice_run i WHERE i.id = r.id FOR UPDATE;
	END IF;
	IF r.id IS NULL THEN
		RAISE EXCEPTION 'invoice run % does not exist', coalesce(run_id::text, 'NULL')
			USING ERRCODE = 'no_data_found', HINT = 'Runs are listed by SELECT * FROM billing.invoice_run.';
	END IF;
	IF r.status = 'running' THEN
		RAISE EXCEPTION 'invoice run % is running and cannot be cancelled yet', run_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Wait for it to finish, or stop its worker with pg_terminate_backend(pid) (backend_type ''billing invoice run'' in pg_stat_activity): the run is then failed and can be cancelled.';
	END IF;
	IF r.status = 'queued' THEN
		-- its worker, if alive, finds it no longer queued and exits
		UPDATE billing.invoice_run SET status = 'cancelled', finished_at = now()
		WHERE id = run_id RETURNING * INTO r;
		INSERT INTO billing.run_log (run_id, brand_id, level, message)
		VALUES (run_id, r.brand_id, 'info', 'run cancelled before it started: nothing was issued');
		RETURN billing_internal.run_summary(r);
	END IF;
	IF r.status = 'cancelled' THEN
		RAISE EXCEPTION 'invoice run % is already cancelled', run_id
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	-- a validated run's drafts were all confirmed: nothing of it is left to
	-- cancel, and a credit note, not a cancelled run, corrects a confirmed invoice
	IF r.validated_at IS NOT NULL THEN
		PERFORM billing_internal.refuse_run_action(r, 'cancel', 'queued, failed, or completed and not yet validated');
	END IF;
	-- nor one with an invoice confirmed one by one: a cancelled run would
	-- say nothing of it stands
	SELECT array_agg(i.id ORDER BY i.id) INTO confirmed
	FROM billing.invoice i WHERE i.run_id = r.id AND i.status = 'confirmed';
	IF confirmed IS NOT NULL THEN
		RAISE EXCEPTION 'cannot cancel invoice run %: % of its invoices % confirmed', r.id, cardinality(confirmed),
			CASE WHEN cardinality(confirmed) = 1 THEN 'is' ELSE 'are' END
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = format('Confirmed invoices: %s.', array_to_string(confirmed, ', ')),
			      HINT = 'A confirmed invoice is corrected with a credit note; cancel the run''s other invoices with billing.cancel_invoices(id, ...).';
	END IF;
	-- the bulk actions' buyer locks (see billing_internal.lock_invoices); the
	-- statements below re-check the status
	PERFORM billing_internal.lock_buyers(ARRAY(
		SELECT DISTINCT i.buyer_id FROM billing.invoice i
		WHERE i.run_id = cancel_run.run_id AND i.status IN ('draft', 'quarantined', 'rejected')), 'cancel');
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
	INSERT INTO billing.run_log (run_id, brand_id, level, message)
	VALUES (run_id, r.brand_id, 'info', format('run cancelled: %s unconfirmed invoices cancelled, documents %s',
	                               cancelled, CASE WHEN coalesce(reopen, true)
	                                               THEN 'reopened for a later run'
	                                               ELSE 'closed: never to be invoiced' END));
	RETURN billing_internal.run_summary(r);
END
$$;
COMMENT ON FUNCTION billing.cancel_run(bigint, boolean) IS
	'cancels a run''s unconfirmed invoices; reopen frees their documents, otherwise they are never to be invoiced';
REVOKE ALL ON FUNCTION billing.cancel_run(bigint, boolean) FROM PUBLIC;
