-- sql/billing/dead_runs.sql: runs never hang.  A background run's worker
-- holds the run's advisory lock (the run lock) for as long as it lives,
-- from before the request commits (src/worker.c).  So a run that is
-- committed 'queued' or 'running' while its run lock is free has no worker:
-- it was killed, terminated, or the server restarted.  Every run function
-- calls billing.fail_dead_runs() first, and pg_cron calls issue_drafts, so
-- such a run is marked failed at the latest at the next of those calls.

CREATE OR REPLACE FUNCTION billing.try_lock_run(run_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'try_lock_run' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION billing.try_lock_run(bigint) IS
	'takes a run''s lock until the end of the transaction if free: true when no live background worker has the run';

-- billing.fail_run marks a run that is still queued or running failed, with
-- the reason in its row, its log, the notifications and pg_notify (as every
-- failed run: billing.finish_run).  False when the run had ended meanwhile.
CREATE OR REPLACE FUNCTION billing.fail_run(run_id bigint, reason text) RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM 1 FROM billing.invoice_run r
	WHERE r.id = fail_run.run_id AND r.status IN ('queued', 'running')
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM billing.finish_run(run_id, false, reason, NULL, NULL, NULL, NULL, NULL, NULL);
	RETURN true;
END
$$;
COMMENT ON FUNCTION billing.fail_run(bigint, text) IS
	'marks a queued or running run failed with the reason (row, log line, notifications); false if it had ended';

-- billing.fail_dead_runs marks failed every queued or running run that no
-- live worker holds, and returns how many.  In a read-only transaction (a
-- standby) it does nothing: the next writer's call will.
CREATE OR REPLACE FUNCTION billing.fail_dead_runs() RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	run record;
	failed integer := 0;
BEGIN
	IF current_setting('transaction_read_only')::boolean THEN
		RETURN 0;
	END IF;
	FOR run IN SELECT r.id, r.status FROM billing.invoice_run r
	           WHERE r.status IN ('queued', 'running') ORDER BY r.id
	LOOP
		-- the lock is free: no worker has the run, nor will one again
		IF billing.try_lock_run(run.id)
		   AND billing.fail_run(run.id, CASE run.status
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
	'marks failed every queued or running run whose background worker is gone; called first by every run function';

-- fail_run could fail a live run: only the extension's own code calls it.
-- fail_dead_runs stays callable by whoever may call a run function (it runs
-- as the extension owner): it can only fail runs that no worker has.
REVOKE ALL ON FUNCTION billing.try_lock_run(bigint), billing.fail_run(bigint, text) FROM PUBLIC;
