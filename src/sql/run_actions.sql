-- src/sql/run_actions.sql: the run's own actions of the billing-run-details
-- seed: edit the description (the only field editable after creation),
-- disable / enable, and process (move the run to its next step)
--
-- A run's steps: queued → running → completed ("drafts issued") →
-- validated (process_run confirmed its drafts).  failed and cancelled end a
-- run.  "validated" is the completed status with validated_at set, so the
-- run driver's statuses stay as they are.

-- billing_internal.lock_run: the run, locked for an action, or an error naming it
-- (another brand's run is not there for the caller).  The brand is checked
-- before the lock: another brand's busy run is not waited for, which would
-- tell that it exists.
CREATE OR REPLACE FUNCTION billing_internal.lock_run(run_id bigint, action text) RETURNS billing.invoice_run
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
	visible bigint[] := billing_internal.caller_brands();
BEGIN
	SELECT * INTO r FROM billing.invoice_run i
	WHERE i.id = lock_run.run_id AND (visible IS NULL OR i.brand_id = ANY (visible));
	IF FOUND THEN
		SELECT * INTO r FROM billing.invoice_run i WHERE i.id = r.id FOR UPDATE;
	END IF;
	IF r.id IS NULL THEN
		RAISE EXCEPTION 'cannot % invoice run %: it does not exist', action, coalesce(run_id::text, 'NULL')
			USING ERRCODE = 'no_data_found', HINT = 'Runs are listed by SELECT * FROM billing.run_report.';
	END IF;
	RETURN r;
END
$$;
COMMENT ON FUNCTION billing_internal.lock_run(bigint, text) IS
	'locks an invoice run for one of its actions, or raises an error naming the missing run';
REVOKE ALL ON FUNCTION billing_internal.lock_run(bigint, text) FROM PUBLIC;

-- billing_internal.run_step: the step a run is at, in the seed's words.  Internal
-- (the run actions' errors); billing.run_report writes the same expression
-- out, as a view read with the caller's rights cannot call an internal
-- function (the run_steps suite checks that the two agree).
--
-- billing_internal.run_step(status, enabled, validated_at, invoices_issued,
-- open_drafts): the step with the run's invoices as they are now.  A run
-- that issued drafts and has none left open (every one confirmed, deleted,
-- rejected or cancelled, none draft or quarantined) is "settled": its step
-- follows its invoices, it is not stored.  billing.run_report writes the
-- same expression out.
CREATE OR REPLACE FUNCTION billing_internal.run_step(status text, enabled boolean, validated_at timestamptz,
                                            invoices_issued integer, open_drafts bigint)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
		WHEN status = 'completed' AND validated_at IS NOT NULL THEN 'validated'
		WHEN status = 'completed' AND invoices_issued > 0 AND coalesce(open_drafts, 0) = 0 THEN 'settled'
		WHEN status = 'completed' THEN 'drafts issued'
		ELSE status
	END || CASE WHEN NOT enabled THEN ' (disabled)' ELSE '' END;
COMMENT ON FUNCTION billing_internal.run_step(text, boolean, timestamptz, integer, bigint) IS
	'the step of a run from its invoices: queued, running, drafts issued, settled (no draft or quarantined invoice left), validated, failed or cancelled';
REVOKE ALL ON FUNCTION billing_internal.run_step(text, boolean, timestamptz, integer, bigint) FROM PUBLIC;

-- billing_internal.run_step(status, enabled, validated_at): 0.2's form, the step
-- without the invoices (never settled); the same expression, not a copy
CREATE OR REPLACE FUNCTION billing_internal.run_step(status text, enabled boolean, validated_at timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN billing_internal.run_step(status, enabled, validated_at, 0, NULL);
COMMENT ON FUNCTION billing_internal.run_step(text, boolean, timestamptz) IS
	'the step of a run: queued, running, drafts issued, validated, failed or cancelled, and whether it is disabled';
REVOKE ALL ON FUNCTION billing_internal.run_step(text, boolean, timestamptz) FROM PUBLIC;

-- The phase of a running run, for every session (src/progress.c): the run
-- driver's backend writes its run, phase and since when into a slot of
-- shared memory; the slot is cleared when its transaction ends.
CREATE OR REPLACE FUNCTION billing_internal.set_run_phase(run_id bigint, brand_id bigint, phase text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'billing_set_run_phase' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing_internal.set_run_phase(bigint, bigint, text) IS
	'internal: this backend''s run is now in phase (planning, aggregating, writing invoices, writing links, done); returns true';
REVOKE ALL ON FUNCTION billing_internal.set_run_phase(bigint, bigint, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION billing_internal.run_phases_all(OUT run_id bigint, OUT brand_id bigint, OUT phase text,
                                                  OUT phase_since timestamptz)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'billing_run_phases_all' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION billing_internal.run_phases_all() IS
	'internal: the phase of every run being driven now, all brands';
REVOKE ALL ON FUNCTION billing_internal.run_phases_all() FROM PUBLIC;

-- billing_internal.run_phases: the runs of the caller's brands being driven now,
-- their phase and since when (billing.run_report shows them for runs whose
-- row is committed; a rerun made and driven in one transaction is listed
-- here only).  Executable by every role: another brand's runs are not
-- listed (the slot holds the run's brand).
CREATE OR REPLACE FUNCTION billing_internal.run_phases(OUT run_id bigint, OUT brand_id bigint, OUT phase text,
                                              OUT phase_since timestamptz)
RETURNS SETOF record LANGUAGE sql VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
	SELECT p.run_id, p.brand_id, p.phase, p.phase_since
	FROM billing_internal.run_phases_all() p
	CROSS JOIN (SELECT billing_internal.caller_brands() AS visible) AS c
	WHERE c.visible IS NULL OR p.brand_id = ANY (c.visible)
$$;
COMMENT ON FUNCTION billing_internal.run_phases() IS
	'the runs of the caller''s brands being driven now: run id, phase (planning, aggregating, writing invoices, writing links, done) and since when';
GRANT EXECUTE ON FUNCTION billing_internal.run_phases() TO PUBLIC;

-- billing_internal.refuse_run_action: the error for an action the run's step does not allow
CREATE OR REPLACE FUNCTION billing_internal.refuse_run_action(r billing.invoice_run, action text, allowed text)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	-- the step in quotes ("drafts issued"), and disabled said as such
	RAISE EXCEPTION 'cannot % invoice run %: its step is "%"%', action, r.id,
		billing_internal.run_step(r.status, true, r.validated_at, r.invoice_count,
		                 (SELECT count(*) FROM billing.invoice i
		                  WHERE i.run_id = r.id AND i.status IN ('draft', 'quarantined'))),
		CASE WHEN r.enabled THEN '' ELSE ' and it is disabled' END
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      DETAIL = format('Only a run that is %s can be %s.', allowed,
		                      CASE action WHEN 'process' THEN 'processed' WHEN 'disable' THEN 'disabled'
		                                  WHEN 'enable' THEN 'enabled' WHEN 'cancel' THEN 'cancelled' ELSE action || 'ed' END),
		      HINT = 'See its step with SELECT * FROM billing.run_report WHERE run = ' || r.id || '.';
END
$$;
COMMENT ON FUNCTION billing_internal.refuse_run_action(billing.invoice_run, text, text) IS
	'raises the error for a run action its step does not allow, naming the run and its step';
REVOKE ALL ON FUNCTION billing_internal.refuse_run_action(billing.invoice_run, text, text) FROM PUBLIC;

-- billing_internal.run_summary: a run as the API's run actions and
-- issue_drafts return it (billing.run_summary; the rest is in
-- billing.run_report)
CREATE OR REPLACE FUNCTION billing_internal.run_summary(r billing.invoice_run) RETURNS billing.run_summary
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT ROW(r.id, br.code, s.code, r.period,
	           billing_internal.run_step(r.status, r.enabled, r.validated_at),
	           r.invoice_count, r.billed_total, r.error)::billing.run_summary
	FROM billing.brand br, billing.schedule s
	WHERE br.id = r.brand_id AND s.id = r.schedule_id;
END;
COMMENT ON FUNCTION billing_internal.run_summary(billing.invoice_run) IS
	'internal: a run as a row of billing.run_summary (codes instead of ids, its step)';
REVOKE ALL ON FUNCTION billing_internal.run_summary(billing.invoice_run) FROM PUBLIC;

-- billing.set_run_description: the only field of a run a user may edit
CREATE OR REPLACE FUNCTION billing.set_run_description(run_id bigint, description text)
RETURNS billing.run_summary LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
BEGIN
	IF description IS NULL OR btrim(description) = '' THEN
		RAISE EXCEPTION 'the description of invoice run % must not be empty', coalesce(run_id::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Say what the run is for, for example ''October close, late deliveries''.';
	END IF;
	r := billing_internal.lock_run(run_id, 'describe');
	UPDATE billing.invoice_run SET description = set_run_description.description
	WHERE id = r.id RETURNING * INTO r;
	RETURN billing_internal.run_summary(r);
END
$$;
COMMENT ON FUNCTION billing.set_run_description(bigint, text) IS
	'edits the description of a run, the only field editable after creation';
REVOKE ALL ON FUNCTION billing.set_run_description(bigint, text) FROM PUBLIC;

-- billing.disable_run: a disabled run is neither executed nor processed.
-- Queued runs (not yet executed) and runs whose drafts are issued but not
-- validated can be disabled; there is nothing to hold in the others.
CREATE OR REPLACE FUNCTION billing.disable_run(run_id bigint)
RETURNS billing.run_summary LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
BEGIN
	r := billing_internal.lock_run(run_id, 'disable');
	IF NOT r.enabled OR NOT (r.status = 'queued' OR (r.status = 'completed' AND r.validated_at IS NULL)) THEN
		PERFORM billing_internal.refuse_run_action(r, 'disable', 'queued or has its drafts issued, and is enabled');
	END IF;
	UPDATE billing.invoice_run SET enabled = false WHERE id = r.id RETURNING * INTO r;
	INSERT INTO billing.run_log (run_id, brand_id, level, message)
	VALUES (r.id, r.brand_id, 'info', format('run disabled by %s', session_user));
	RETURN billing_internal.run_summary(r);
END
$$;
COMMENT ON FUNCTION billing.disable_run(bigint) IS
	'disables a queued run or one with drafts issued: it is neither executed nor processed until enabled';
REVOKE ALL ON FUNCTION billing.disable_run(bigint) FROM PUBLIC;

-- billing.enable_run: the run can be executed and processed again
CREATE OR REPLACE FUNCTION billing.enable_run(run_id bigint)
RETURNS billing.run_summary LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
BEGIN
	r := billing_internal.lock_run(run_id, 'enable');
	IF r.enabled THEN
		PERFORM billing_internal.refuse_run_action(r, 'enable', 'disabled');
	END IF;
	UPDATE billing.invoice_run SET enabled = true WHERE id = r.id RETURNING * INTO r;
	INSERT INTO billing.run_log (run_id, brand_id, level, message)
	VALUES (r.id, r.brand_id, 'info', format('run enabled by %s', session_user));
	RETURN billing_internal.run_summary(r);
END
$$;
COMMENT ON FUNCTION billing.enable_run(bigint) IS 'enables a disabled run again';
REVOKE ALL ON FUNCTION billing.enable_run(bigint) FROM PUBLIC;

-- A disabled run is not picked up: whatever starts it (a background worker,
-- issue_drafts, process_run) moves it from queued to running, and that
-- change is refused here.
CREATE OR REPLACE FUNCTION billing_internal.refuse_disabled_run_start() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION 'invoice run % is disabled and cannot be executed', NEW.id
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      HINT = format('Enable it first: SELECT billing.enable_run(%s).', NEW.id);
END
$$;
COMMENT ON FUNCTION billing_internal.refuse_disabled_run_start() IS
	'trigger: a disabled run cannot move from queued to running';
REVOKE ALL ON FUNCTION billing_internal.refuse_disabled_run_start() FROM PUBLIC;
CREATE OR REPLACE TRIGGER invoice_run_refuse_disabled_start
	BEFORE UPDATE OF status ON billing.invoice_run
	FOR EACH ROW WHEN (OLD.status = 'queued' AND NEW.status = 'running' AND NOT NEW.enabled)
	EXECUTE FUNCTION billing_internal.refuse_disabled_run_start();
COMMENT ON TRIGGER invoice_run_refuse_disabled_start ON billing.invoice_run IS
	'a disabled run is not started, whoever picks it up';

-- billing_internal.refuse_disabled_schedule: reruns of a disabled schedule are refused
CREATE OR REPLACE FUNCTION billing_internal.refuse_disabled_schedule(schedule_id bigint) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s billing.schedule;
BEGIN
	SELECT * INTO s FROM billing.schedule WHERE id = schedule_id;
	IF FOUND AND NOT s.enabled THEN
		RAISE EXCEPTION 'billing schedule "%" is disabled: no rerun', s.code
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = format('Enable it first: UPDATE billing.schedule SET enabled = true WHERE code = %L.', s.code);
	END IF;
END
$$;
COMMENT ON FUNCTION billing_internal.refuse_disabled_schedule(bigint) IS
	'raises an error naming the schedule when it is disabled (reruns refuse disabled schedules)';
REVOKE ALL ON FUNCTION billing_internal.refuse_disabled_schedule(bigint) FROM PUBLIC;

-- billing.process_run moves a run to its next step:
--   queued → executed now (its drafts are issued, or it fails);
--   drafts issued → validated: every draft of the run (not quarantined,
--   rejected or cancelled) is confirmed with billing.confirm_invoices, which
--   adds it to its buyer's balance; all of them or, on any error, none.
--   A run with quarantined invoices is refused, naming them: each is first
--   released (confirmed) or rejected, then the run is processed again.
-- A disabled run is not processed; other steps have no next step.
CREATE OR REPLACE FUNCTION billing.process_run(run_id bigint)
RETURNS billing.run_summary LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r billing.invoice_run;
	drafts bigint[];
	held bigint[];
BEGIN
	r := billing_internal.lock_run(run_id, 'process');
	IF NOT r.enabled OR NOT (r.status = 'queued' OR (r.status = 'completed' AND r.validated_at IS NULL)) THEN
		PERFORM billing_internal.refuse_run_action(r, 'process', 'enabled, and queued or with its drafts issued');
	END IF;
	IF r.status = 'queued' THEN
		PERFORM billing_internal.run_invoice_run(r.id);
		SELECT * INTO r FROM billing.invoice_run WHERE id = r.id;
		RETURN billing_internal.run_summary(r);
	END IF;
	SELECT array_agg(i.id ORDER BY i.id) INTO held
	FROM billing.invoice i WHERE i.run_id = r.id AND i.status = 'quarantined';
	IF held IS NOT NULL THEN
		RAISE EXCEPTION 'cannot process invoice run %: % of its invoices %', r.id, cardinality(held),
			CASE WHEN cardinality(held) = 1 THEN 'is quarantined' ELSE 'are quarantined' END
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = format('Quarantined invoices: %s.', array_to_string(held, ', ')),
			      HINT = 'The application role (billing_app in the README''s recipe) releases each with '
			             'billing.confirm_invoices(id, ...) or refuses it with billing.reject_invoices(reason, id, ...); '
			             'then process the run again.';
	END IF;
	SELECT coalesce(array_agg(i.id ORDER BY i.id), '{}') INTO drafts
	FROM billing.invoice i WHERE i.run_id = r.id AND i.status = 'draft';
	IF cardinality(drafts) > 0 THEN
		PERFORM billing.confirm_invoices(VARIADIC drafts);
	END IF;
	-- the role that called, as requested_by records it (SET ROLE counts)
	UPDATE billing.invoice_run SET validated_at = now(), validated_by = billing_internal.calling_role()::text
	WHERE id = r.id RETURNING * INTO r;
	INSERT INTO billing.run_log (run_id, brand_id, level, message)
	VALUES (r.id, r.brand_id, 'info', format('run validated by %s: %s drafts confirmed', r.validated_by, cardinality(drafts)));
	RETURN billing_internal.run_summary(r);
END
$$;
COMMENT ON FUNCTION billing.process_run(bigint) IS
	'moves a run to its next step: executes a queued run; confirms every draft of a run with drafts issued (all or nothing), refusing while any is quarantined';
REVOKE ALL ON FUNCTION billing.process_run(bigint) FROM PUBLIC;
