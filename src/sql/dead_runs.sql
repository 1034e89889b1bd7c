-- src/sql/dead_runs.sql: runs never hang.  A background run's worker
-- names its run in its activity (pg_stat_activity.query 'billing: invoice
-- run N ...', backend type 'billing invoice run') for as long as it lives,
-- from before the request commits (src/worker.c).  Only a background worker
-- of this library has that backend type and only its code sets that
-- activity, so no session can make a run look alive or dead (0.2 tested an
-- advisory lock that any session could hold).  A run that is committed
-- 'queued' or 'running' while no worker names it has no worker: it was
-- killed, terminated, or the server restarted.  Every run function calls
-- billing.fail_dead_runs() first, and pg_cron calls issue_drafts, so such a
-- run is marked failed at the latest at the next of those calls.

-- billing_internal.live_run_workers: the background workers of runs now, with the
-- run each one names (src/worker.c reads the backends' status afresh on
-- each call).
CREATE OR REPLACE FUNCTION billing_internal.live_run_workers(OUT run_id bigint, OUT pid integer) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'billing_live_run_workers' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION billing_internal.live_run_workers() IS
	'internal: the background workers of invoice runs now (backend type billing invoice run) and the run each names';
REVOKE ALL ON FUNCTION billing_internal.live_run_workers() FROM PUBLIC;

-- billing_internal.fail_run marks a run that is still queued or running failed, with
-- the reason in its row, its log, the notifications and pg_notify (as every
-- failed run: billing_internal.finish_run).  False when the run had ended meanwhile.
CREATE OR REPLACE FUNCTION billing_internal.fail_run(run_id bigint, reason text) RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM 1 FROM billing.invoice_run r
	WHERE r.id = fail_run.run_id AND r.status IN ('queued', 'running')
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM billing_internal.finish_run(run_id, false, reason, NULL, NULL, NULL, NULL, NULL, NULL);
	RETURN true;
END
$$;
COMMENT ON FUNCTION billing_internal.fail_run(bigint, text) IS
	'marks a queued or running run failed with the reason (row, log line, notifications); false if it had ended';
REVOKE ALL ON FUNCTION billing_internal.fail_run(bigint, text) FROM PUBLIC;

-- billing.fail_dead_runs marks failed every queued or running run of the
-- caller's brands that no live worker names (billing.dead_runs), and
-- returns how many.  The runs are read first (the statement's snapshot)
-- and the workers after (a fresh look at the backends): a run committed
-- queued had its worker named before
-- the commit, so it cannot be missed between the two; a run that ended
-- meanwhile is left alone by fail_run.  Internal: the run functions call
-- it as the owner.  In a read-only transaction (a standby) it does
-- nothing: the next writer's call will.
CREATE OR REPLACE FUNCTION billing.fail_dead_runs() RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET billing.api_write = on SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	run record;
	failed integer := 0;
BEGIN
	IF current_setting('transaction_read_only')::boolean THEN
		RETURN 0;
	END IF;
	-- billing.dead_runs (health.sql) is the one definition of a dead run
	FOR run IN SELECT d.run_id, d.status FROM billing.dead_runs() d
	LOOP
		-- no worker names the run: none has it, nor will one again
		IF billing_internal.fail_run(run.run_id, CASE run.status
		       WHEN 'queued' THEN 'its background worker was gone before the run started'
		                          || ' (killed, terminated, or the server restarted)'
		       ELSE 'its background worker was gone while the run made its drafts'
		            || ' (killed, terminated, or the server restarted); its work was rolled back'
		       END) THEN
			failed := failed + 1;
		END IF;
	END LOOP;
	RETURN failed;
END
$$;
COMMENT ON FUNCTION billing.fail_dead_runs() IS
	'marks failed every queued or running run of the caller''s brands whose background worker is gone (billing.dead_runs); every run function calls it first; returns how many';
REVOKE ALL ON FUNCTION billing.fail_dead_runs() FROM PUBLIC;

