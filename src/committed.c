/*-------------------------------------------------------------------------
 * committed.c
 *	  Work committed in a transaction of its own, so that a failed run is
 *	  both an error for its caller and a record that stays (issue 12).
 *
 *	  A function cannot commit part of its caller's transaction and then
 *	  raise: the error rolls everything back.  So the part that must stay
 *	  is done by a dynamic background worker, in its own transaction, while
 *	  the caller waits for it to exit:
 *	   - issue_drafts after an error in its first pass: the worker makes
 *	     every due run again, failures recorded, and commits
 *	     (billing_commit_issue);
 *	   - a foreground rerun that failed: the worker writes the failed run,
 *	     as the caller's session saw it, with the same id
 *	     (billing_internal.commit_failed_run);
 *	   - issue_drafts with billing.parallel_runs > 1: a worker for each due
 *	     schedule (type 'billing parallel run'), several at once, each
 *	     committing its schedule's runs (billing_parallel_issue);
 *	   - a run whose documents or invoices have ids past the partitions of
 *	     the links or the tax lines: the worker makes the next ones and
 *	     commits at once, so that the run's long transaction holds no lock
 *	     on their parent that the runs of other schedules would queue on
 *	     (billing_internal.commit_partitions).
 *	  The caller then raises (billing_internal.raise_failed_runs).  Caller and worker
 *	  share a small dynamic shared memory segment: what to do, and the
 *	  result.  The worker logs in as the caller's login role and acts as
 *	  the caller did inside the SECURITY DEFINER function (the calling role
 *	  as billing_internal.calling_role() sees it, the owner as current_user), and
 *	  every lock it waits for is bounded by billing.lock_timeout, so it
 *	  never waits for ever on a lock its waiting caller holds.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "committed.h"
#include "partitions.h"
#include "run.h"
#include "search_path.h"
#include "spi_util.h"
#include "worker.h"

PGDLLEXPORT void billing_commit_worker_main(Datum main_arg);

typedef enum CommittedTask
{
	TASK_ISSUE,					/* fail_dead_runs, then issue_drafts_internal(as_of) */
	TASK_FAILED_RUN,			/* record_failed_run(input) */
	TASK_ISSUE_SCHEDULE,		/* fail_dead_runs, then issue_schedule_internal(as_of, schedule_id) */
	TASK_FAIL_SCHEDULE,			/* fail_scheduled_run(schedule_id, NULL, as_of, input) */
	TASK_PARTITIONS				/* add_partitions(relid, input::bigint[]) */
} CommittedTask;

/* the most run ids one issue can hand back (a catch-up of every schedule) */
#define MAX_COMMITTED_RUNS 65536

/* the caller's settings the worker takes (CommittedWork.settings) */
#define NCALLER_SETTINGS 5
static const char *const caller_settings[NCALLER_SETTINGS] = {
	"TimeZone", "DateStyle", "IntervalStyle", "billing.run_lock_wait", "billing.run_work_mem"
};

/* the shared segment: filled by the caller, then by the worker */
typedef struct CommittedWork
{
	/* the caller's */
	CommittedTask task;
	Oid			database_oid;
	Oid			login_oid;
	Oid			outer_oid;		/* billing_internal.calling_role() of the caller */
	Oid			current_oid;	/* current_user: the definer's owner */
	int			lock_timeout_ms;
	TimestampTz as_of;
	int64		schedule_id;	/* TASK_ISSUE_SCHEDULE, TASK_FAIL_SCHEDULE */
	Oid			relid;			/* TASK_PARTITIONS: the partitioned table */
	/* the caller's settings that shape the runs (waits, memory) and their errors' dates */
	char		settings[NCALLER_SETTINGS][64];
	/* the worker's */
	bool		done;
	bool		failed;
	int64		run_id;
	int			nruns;
	char		error[1024];
	int64		runs[MAX_COMMITTED_RUNS];
	/* the input (TASK_FAILED_RUN: the run as jsonb text), NUL-terminated */
	char		input[FLEXIBLE_ARRAY_MEMBER];
} CommittedWork;

/*
 * commit_in_worker starts the worker for work, waits for it to exit, and
 * raises when it did not finish its work; the caller reads the result.
 */
static void
commit_in_worker(CommittedWork *work, dsm_segment *segment, const char *what)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;

	billing_dynamic_worker(&worker, "billing_commit_worker_main", "billing committed work");
	snprintf(worker.bgw_name, BGW_MAXLEN, "billing committed work for pid %d", MyProcPid);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(segment));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("cannot commit %s on its own: no background worker slot is free", what),
				 errdetail("A failed run is recorded, the runs that succeeded are kept, and new partitions of the links are made, by a background worker of its own; all %d slots are in use.",
						   max_worker_processes),
				 errhint("Nothing was committed; raise max_worker_processes, or call again with raise_on_failure => false.")));
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while committing %s", what)));
	pg_read_barrier();
	if (!work->done)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the background worker committing %s stopped before it finished", what),
				 errhint("See the server log: it could not log in as role \"%s\", or was terminated.",
						 GetUserNameFromId(work->login_oid, true))));
	if (work->failed)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not commit %s on its own: %s", what, work->error),
				 errhint("Nothing of it was committed; see the server log.")));
}

/* new_work makes the shared segment for a task, the caller's part filled */
static CommittedWork *
new_work(CommittedTask task, const char *input, int lock_timeout_ms, dsm_segment **segment)
{
	Size		input_len = input ? strlen(input) : 0;
	CommittedWork *work;

	*segment = dsm_create(offsetof(CommittedWork, input) + input_len + 1, 0);
	work = dsm_segment_address(*segment);
	memset(work, 0, offsetof(CommittedWork, input));
	work->task = task;
	work->database_oid = MyDatabaseId;
	work->login_oid = GetAuthenticatedUserId();
	work->outer_oid = GetOuterUserId();
	work->current_oid = GetUserId();
	work->lock_timeout_ms = lock_timeout_ms;
	for (int i = 0; i < (int) lengthof(caller_settings); i++)
		strlcpy(work->settings[i], GetConfigOption(caller_settings[i], false, false),
				sizeof(work->settings[i]));
	if (input)
		memcpy(work->input, input, input_len);
	work->input[input_len] = '\0';
	return work;
}

/*
 * billing_commit_issue(as_of, lock_timeout_ms) makes every due run as of
 * as_of in a worker's transaction and returns the ids of the runs it made,
 * committed, failed ones included.
 */
ArrayType *
billing_commit_issue(TimestampTz as_of, int lock_timeout_ms)
{
	dsm_segment *segment;
	CommittedWork *work = new_work(TASK_ISSUE, NULL, lock_timeout_ms, &segment);
	Datum	   *ids;
	ArrayType  *result;

	work->as_of = as_of;
	commit_in_worker(work, segment, "the runs of issue_drafts");
	ids = palloc(sizeof(Datum) * Max(work->nruns, 1));
	for (int i = 0; i < work->nruns; i++)
		ids[i] = Int64GetDatum(work->runs[i]);
	result = construct_array(ids, work->nruns, INT8OID, sizeof(int64),
							 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	dsm_detach(segment);
	return result;
}

/*
 * Parallel issue (billing.parallel_runs > 1): each due schedule's runs are
 * made by a worker of their own, in a transaction of its own, as the
 * committed second pass makes them all; at most parallel_runs workers at
 * once, and at most billing.max_workers_per_brand of them on the
 * schedules of one brand.  The caller hands out the schedules in their
 * order as workers end and waits for all.
 */
typedef struct ParallelJob
{
	int64		schedule_id;
	int64		brand_id;
	int			state;			/* JOB_PENDING, JOB_RUNNING, JOB_ENDED */
	dsm_segment *segment;		/* while it runs */
	CommittedWork *work;
	BackgroundWorkerHandle *handle;
	/* what it did, copied out of its segment when it ended */
	bool		done;
	bool		failed;
	char	   *error;
	int			nruns;
	int64	   *runs;
} ParallelJob;

#define JOB_PENDING 0
#define JOB_RUNNING 1
#define JOB_ENDED 2

/* start_job registers the worker of a job; false when no slot is free */
static bool
start_job(ParallelJob *job, TimestampTz as_of, int lock_timeout_ms)
{
	BackgroundWorker worker;

	if (job->segment == NULL)
	{
		job->work = new_work(TASK_ISSUE_SCHEDULE, NULL, lock_timeout_ms, &job->segment);
		job->work->as_of = as_of;
		job->work->schedule_id = job->schedule_id;
		/* the segment lives until this call ends, not this query */
		dsm_pin_mapping(job->segment);
	}
	billing_dynamic_worker(&worker, "billing_commit_worker_main", "billing parallel run");
	snprintf(worker.bgw_name, BGW_MAXLEN, "billing parallel run of schedule %lld for pid %d",
			 (long long) job->schedule_id, MyProcPid);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(job->segment));
	if (!RegisterDynamicBackgroundWorker(&worker, &job->handle))
		return false;
	job->state = JOB_RUNNING;
	return true;
}

/* end_job copies what an ended job's worker did and frees its segment */
static void
end_job(ParallelJob *job)
{
	CommittedWork *work = job->work;

	pg_read_barrier();
	job->done = work->done;
	job->failed = work->failed;
	job->error = pstrdup(work->error);
	job->nruns = work->nruns;
	job->runs = palloc(sizeof(int64) * Max(work->nruns, 1));
	memcpy(job->runs, work->runs, sizeof(int64) * work->nruns);
	dsm_detach(job->segment);
	job->segment = NULL;
	job->work = NULL;
	job->state = JOB_ENDED;
}

/* stop_jobs terminates the running workers and waits until they are gone */
static void
stop_jobs(ParallelJob *jobs, int njobs)
{
	HOLD_INTERRUPTS();
	for (int i = 0; i < njobs; i++)
		if (jobs[i].state == JOB_RUNNING)
			TerminateBackgroundWorker(jobs[i].handle);
	for (int i = 0; i < njobs; i++)
		if (jobs[i].state == JOB_RUNNING)
		{
			(void) WaitForBackgroundWorkerShutdown(jobs[i].handle);
			jobs[i].state = JOB_ENDED;
		}
	RESUME_INTERRUPTS();
}

/* runs_committed: whether the runs a worker listed exist (it committed them) */
static bool
runs_committed(ParallelJob *work)
{
	Datum	   *ids = palloc(sizeof(Datum) * Max(work->nruns, 1));
	Oid			types[1] = {INT8ARRAYOID};
	Datum		args[1];
	bool		isnull;
	int64		found;

	if (work->nruns == 0)
		return false;
	for (int i = 0; i < work->nruns; i++)
		ids[i] = Int64GetDatum(work->runs[i]);
	args[0] = PointerGetDatum(construct_array(ids, work->nruns, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	SPI_connect();
	(void) billing_spi_exec("SELECT count(*) FROM billing.invoice_run r WHERE r.id = ANY ($1)",
							1, types, args, NULL, false, 1, SPI_OK_SELECT, "finding the runs of a parallel worker");
	found = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return found == work->nruns;
}

/*
 * billing_parallel_issue(as_of, schedules, brands, n, max_parallel,
 * per_brand, lock_timeout_ms) makes the due runs of the n schedules, each
 * schedule's in a worker's transaction of its own, and returns the ids of
 * the runs made, committed, failed ones included.  A schedule whose worker
 * stopped before it committed (terminated, or it could not log in) gets a
 * failed run saying so, committed: nothing of its work was.  Returns NULL,
 * having done nothing, when not even the first worker could be started
 * (the caller then issues serially).  No free slot later, while none of
 * this call's workers runs: an error, the schedules already done committed.
 * A cancel of the caller terminates the workers (their work is rolled
 * back) and is re-thrown.
 */
ArrayType *
billing_parallel_issue(TimestampTz as_of, const int64 *schedules, const int64 *brands, int n,
					   int max_parallel, int per_brand, int lock_timeout_ms)
{
	ParallelJob *jobs = palloc0(sizeof(ParallelJob) * n);
	int			running = 0;
	int			ended = 0;
	bool		started_any = false;
	bool		fallback = false;
	Datum	   *ids;
	int			nids = 0;
	int			maxids = 16;

	for (int i = 0; i < n; i++)
	{
		jobs[i].schedule_id = schedules[i];
		jobs[i].brand_id = brands[i];
	}
	PG_TRY();
	{
		while (ended < n)
		{
			bool		no_slot = false;

			/* start what the bounds allow, in the schedules' order */
			for (int i = 0; i < n && running < max_parallel && !no_slot; i++)
			{
				int			of_brand = 0;

				if (jobs[i].state != JOB_PENDING)
					continue;
				for (int j = 0; j < n; j++)
					if (jobs[j].state == JOB_RUNNING && jobs[j].brand_id == jobs[i].brand_id)
						of_brand++;
				if (of_brand >= per_brand)
					continue;
				if (!start_job(&jobs[i], as_of, lock_timeout_ms))
				{
					no_slot = true;
					break;
				}
				started_any = true;
				running++;
			}
			if (no_slot && running == 0)
			{
				if (!started_any)
				{
					fallback = true;
					break;
				}
				ereport(ERROR,
						(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
						 errmsg("issue_drafts could not start a background worker for %d of its %d schedules: all %d slots are in use",
								n - ended, n, max_worker_processes),
						 errdetail("The runs of the other schedules are committed (billing.run_report); the rest were not started."),
						 errhint("Call issue_drafts again (it catches up), raise max_worker_processes, or SET billing.parallel_runs = 1.")));
			}

			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 100L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			for (int i = 0; i < n; i++)
			{
				pid_t		pid;

				if (jobs[i].state != JOB_RUNNING)
					continue;
				if (GetBackgroundWorkerPid(jobs[i].handle, &pid) == BGWH_STOPPED)
				{
					end_job(&jobs[i]);
					running--;
					ended++;
				}
			}
		}
	}
	PG_CATCH();
	{
		stop_jobs(jobs, n);
		for (int i = 0; i < n; i++)
			if (jobs[i].segment)
				dsm_detach(jobs[i].segment);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (fallback)
	{
		for (int i = 0; i < n; i++)
			if (jobs[i].segment)
				dsm_detach(jobs[i].segment);
		ereport(LOG_SERVER_ONLY,
				(errmsg("billing: issue_drafts as of %s issues its schedules one after another: no background worker slot is free for billing.parallel_runs",
						timestamptz_to_str(as_of))));
		return NULL;
	}

	ids = palloc(sizeof(Datum) * maxids);
	for (int i = 0; i < n; i++)
	{
		ParallelJob *work = &jobs[i];
		int			nrun = 0;
		int64		failed_run = 0;

		if (work->done && !work->failed)
			nrun = work->nruns;
		else if (!work->done && runs_committed(work))
			nrun = work->nruns; /* stopped after its commit */
		else
		{
			/* nothing of it was committed: its failed run says why */
			const char *why = work->done ? work->error
				: "the background worker stopped before it committed (terminated, or it could not log in; see the server log)";
			char	   *reason = psprintf("the schedule's parallel run did not finish: %s; nothing of it was committed", why);
			dsm_segment *segment;
			CommittedWork *fail = new_work(TASK_FAIL_SCHEDULE, reason, lock_timeout_ms, &segment);

			fail->as_of = as_of;
			fail->schedule_id = jobs[i].schedule_id;
			commit_in_worker(fail, segment, "the failed run of a parallel issue");
			failed_run = fail->run_id;
			dsm_detach(segment);
		}
		for (int j = 0; j < nrun + (failed_run != 0); j++)
		{
			if (nids == maxids)
			{
				maxids *= 2;
				ids = repalloc(ids, sizeof(Datum) * maxids);
			}
			ids[nids++] = Int64GetDatum(j < nrun ? work->runs[j] : failed_run);
		}
	}
	return construct_array(ids, nids, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * billing_commit_failed_run(run jsonb as text): writes the failed
 * run (a row of billing.invoice_run as jsonb, as this session saw it
 * before rolling it back) with its log line and mails, in a worker's
 * transaction; returns its id.
 */
PG_FUNCTION_INFO_V1(billing_commit_failed_run);

Datum
billing_commit_failed_run(PG_FUNCTION_ARGS)
{
	char	   *run = text_to_cstring(PG_GETARG_TEXT_PP(0));
	dsm_segment *segment;
	CommittedWork *work = new_work(TASK_FAILED_RUN, run, billing_lock_timeout_ms(), &segment);
	int64		run_id;

	commit_in_worker(work, segment, "the failed run");
	run_id = work->run_id;
	dsm_detach(segment);
	PG_RETURN_INT64(run_id);
}

/*
 * billing_commit_partitions(parent regclass, blocks bigint[]): makes the
 * partitions of parent (billing.document_link, billing.invoice_tax_line)
 * for those of these blocks of ids that none holds, in a worker's
 * transaction, then takes the catalog's news, so that this transaction's
 * next statement writes into them even if it locked the parent before.
 * When every block has its partition (nearly every run) no worker starts;
 * too many missing at once are refused here, in the caller (54000).
 */
PG_FUNCTION_INFO_V1(billing_commit_partitions);

Datum
billing_commit_partitions(PG_FUNCTION_ARGS)
{
	Datum		missing = DirectFunctionCall2(billing_missing_blocks, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1));
	char	   *blocks;
	dsm_segment *segment;
	CommittedWork *work;

	if (ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(missing)), ARR_DIMS(DatumGetArrayTypeP(missing))) == 0)
		PG_RETURN_VOID();
	/* (array_out caches in flinfo: called through a lookup, not directly) */
	blocks = OidOutputFunctionCall(F_ARRAY_OUT, missing);
	work = new_work(TASK_PARTITIONS, blocks, billing_lock_timeout_ms(), &segment);

	work->relid = PG_GETARG_OID(0);
	commit_in_worker(work, segment, psprintf("the partitions of %s", get_rel_name(work->relid)));
	dsm_detach(segment);
	AcceptInvalidationMessages();
	PG_RETURN_VOID();
}

/* keep_run_ids: the run ids issue_drafts_internal returned, into the segment */
static void
keep_run_ids(CommittedWork *work, Datum result)
{
	Datum	   *elems;
	int			n;

	deconstruct_array(DatumGetArrayTypeP(result), INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, NULL, &n);
	if (n > MAX_COMMITTED_RUNS)
		elog(ERROR, "billing: issue_drafts made %d runs, more than %d", n, MAX_COMMITTED_RUNS);
	for (int i = 0; i < n; i++)
		work->runs[i] = DatumGetInt64(elems[i]);
	work->nruns = n;
}

/* keep_run_id: the id record_failed_run returned, into the segment */
static void
keep_run_id(CommittedWork *work, Datum result)
{
	work->run_id = DatumGetInt64(result);
}

/*
 * worker_statement runs one statement (of one row, one column) with nargs
 * parameters in a transaction of its own; keep, when given, takes its
 * result into the segment before the transaction commits
 */
static void
worker_statement(CommittedWork *work, const char *sql, int nargs, Oid *argtypes, Datum *args,
				 void (*keep) (CommittedWork *work, Datum result))
{
	int			api_write_level;
	const char *what = psprintf("\"%s\"", sql);

	api_write_level = billing_worker_xact_begin();
	pgstat_report_activity(STATE_RUNNING, sql);
	(void) billing_spi_exec(sql, nargs, argtypes, args, NULL, false, 0,
							SPI_OK_SELECT, what);
	billing_spi_require_rows(1, what);
	if (keep)
	{
		bool		isnull;

		keep(work, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	billing_worker_xact_end(api_write_level);
}

void
billing_commit_worker_main(Datum main_arg)
{
	dsm_segment *segment;
	CommittedWork *work;

	/*
	 * SIGTERM as in a backend: a cancel-like interrupt at the next check, not
	 * bgworker_die's FATAL from the handler (a PANIC inside a critical section)
	 */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "billing committed work");
	segment = dsm_attach(DatumGetUInt32(main_arg));
	if (segment == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("billing committed work: its caller is gone")));
	dsm_pin_mapping(segment);
	work = dsm_segment_address(segment);

	BackgroundWorkerInitializeConnectionByOid(work->database_oid, work->login_oid, 0);
	/* the caller's calling role, then its current user (the definer) */
	StartTransactionCommand();
	if (work->outer_oid != work->login_oid)
	{
		HeapTuple	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(work->outer_oid));
		bool		super;

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for role %u", work->outer_oid);
		super = ((Form_pg_authid) GETSTRUCT(tuple))->rolsuper;
		ReleaseSysCache(tuple);
		SetCurrentRoleId(work->outer_oid, super);
	}
	CommitTransactionCommand();
	SetUserIdAndSecContext(work->current_oid, SECURITY_LOCAL_USERID_CHANGE);
	SetConfigOption("search_path", BILLING_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
	for (int i = 0; i < (int) lengthof(caller_settings); i++)
		SetConfigOption(caller_settings[i], work->settings[i], PGC_USERSET, PGC_S_SESSION);
	/* the role's or database's defaults must not make the worker's transactions other than its caller's */
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_deferrable", "off", PGC_SUSET, PGC_S_OVERRIDE);
	/* every wait bounded: the caller waiting for this worker may hold a lock */
	SetConfigOption("lock_timeout", psprintf("%d", work->lock_timeout_ms > 0 ? work->lock_timeout_ms : 10000),
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("billing.lock_timeout", psprintf("%d", work->lock_timeout_ms > 0 ? work->lock_timeout_ms : 10000),
					PGC_SUSET, PGC_S_OVERRIDE);

	PG_TRY();
	{
		Oid			types[4] = {TIMESTAMPTZOID, INT8OID, TEXTOID, OIDOID};
		Datum		args[4] = {TimestampTzGetDatum(work->as_of), Int64GetDatum(work->schedule_id),
		CStringGetTextDatum(work->input), ObjectIdGetDatum(work->relid)};

		switch (work->task)
		{
			case TASK_ISSUE:
				worker_statement(work, "SELECT billing.fail_dead_runs()", 0, NULL, NULL, NULL);
				worker_statement(work, "SELECT billing_internal.issue_drafts_internal($1)",
								 1, types, args, keep_run_ids);
				break;
			case TASK_ISSUE_SCHEDULE:
				/* each in a transaction of its own: no lock kept from one to the next */
				worker_statement(work, "SELECT billing.fail_dead_runs()", 0, NULL, NULL, NULL);
				worker_statement(work, "SELECT billing_internal.analyze_stale()", 0, NULL, NULL, NULL);
				worker_statement(work, "SELECT billing_internal.issue_schedule_internal($1, $2)",
								 2, types, args, keep_run_ids);
				break;
			case TASK_FAIL_SCHEDULE:
				worker_statement(work, "SELECT billing_internal.fail_scheduled_run(schedule_id => $2, run_id => NULL,"
								 " as_of => $1, error => $3)",
								 3, types, args, keep_run_id);
				break;
			case TASK_FAILED_RUN:
				worker_statement(work, "SELECT billing_internal.record_failed_run($3::jsonb)",
								 3, types, args, keep_run_id);
				break;
			case TASK_PARTITIONS:
				worker_statement(work, "SELECT billing_internal.add_partitions($4::regclass, $3::bigint[])",
								 4, types, args, NULL);
				break;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(TopMemoryContext);
		EmitErrorReport();
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		RESUME_INTERRUPTS();
		strlcpy(work->error, edata->message, sizeof(work->error));
		work->failed = true;
	}
	PG_END_TRY();
	pg_write_barrier();
	work->done = true;
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
