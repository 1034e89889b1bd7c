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

-- The background worker's own steps (src/worker.c), each committed at once
-- so that every session sees where the run is.

-- billing.queued_run_schedule: the schedule of a run that is still queued
-- (NULL when its request rolled back or it was cancelled)
CREATE OR REPLACE FUNCTION billing.queued_run_schedule(run_id bigint) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT r.schedule_id FROM billing.invoice_run r
	WHERE r.id = queued_run_schedule.run_id AND r.status = 'queued'
$$;
COMMENT ON FUNCTION billing.queued_run_schedule(bigint) IS
	'the schedule of a queued run, NULL if it is not queued (its background worker then has nothing to do)';

-- billing.run_waits logs that a queued run waits for its schedule's lock
CREATE OR REPLACE FUNCTION billing.run_waits(run_id bigint) RETURNS void
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
	INSERT INTO billing.run_log (run_id, level, message)
	VALUES (run_waits.run_id, 'info',
	        'queued behind another run of its schedule or a document change; waiting for the schedule''s lock')
$$;
COMMENT ON FUNCTION billing.run_waits(bigint) IS
	'logs that a queued background run waits for its schedule''s lock';

-- billing.run_starts marks a queued run running, with a log line naming its
-- worker; false when it is no longer queued (cancelled while it waited)
CREATE OR REPLACE FUNCTION billing.run_starts(run_id bigint, worker_pid integer) RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	UPDATE billing.invoice_run r SET status = 'running', started_at = now()
	WHERE r.id = run_starts.run_id AND r.status = 'queued';
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO billing.run_log (run_id, level, message)
	VALUES (run_starts.run_id, 'info', format('started by background worker pid %s', worker_pid));
	RETURN true;
END
$$;
COMMENT ON FUNCTION billing.run_starts(bigint, integer) IS
	'marks a queued background run running (committed at once, for watchers); false if it is no longer queued';

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
REVOKE ALL ON FUNCTION billing.try_lock_run(bigint), billing.fail_run(bigint, text),
	billing.queued_run_schedule(bigint), billing.run_waits(bigint), billing.run_starts(bigint, integer)
	FROM PUBLIC;
