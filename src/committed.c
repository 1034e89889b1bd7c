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
 *	     (billing_internal.commit_failed_run).
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
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "committed.h"
#include "run.h"
#include "search_path.h"
#include "spi_util.h"
#include "worker.h"

PGDLLEXPORT void billing_commit_worker_main(Datum main_arg);

typedef enum CommittedTask
{
	TASK_ISSUE,					/* fail_dead_runs, then issue_drafts_internal(as_of) */
	TASK_FAILED_RUN				/* record_failed_run(input) */
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
				 errdetail("A failed run is recorded, and the runs that succeeded are kept, by a background worker of its own; all %d slots are in use.",
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
 * worker_statement runs one statement (of one row, one column) in a
 * transaction of its own; keep, when given, takes its result into the
 * segment before the transaction commits
 */
static void
worker_statement(CommittedWork *work, const char *sql, Oid argtype, Datum arg,
				 void (*keep) (CommittedWork *work, Datum result))
{
	int			api_write_level;
	const char *what = psprintf("\"%s\"", sql);

	api_write_level = billing_worker_xact_begin();
	pgstat_report_activity(STATE_RUNNING, sql);
	(void) billing_spi_exec(sql, argtype == InvalidOid ? 0 : 1, &argtype, &arg, NULL, false, 0,
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
		if (work->task == TASK_ISSUE)
		{
			worker_statement(work, "SELECT billing.fail_dead_runs()", InvalidOid, (Datum) 0, NULL);
			worker_statement(work, "SELECT billing_internal.issue_drafts_internal($1)",
							 TIMESTAMPTZOID, TimestampTzGetDatum(work->as_of), keep_run_ids);
		}
		else
			worker_statement(work, "SELECT billing_internal.record_failed_run($1::jsonb)",
							 TEXTOID, CStringGetTextDatum(work->input), keep_run_id);
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
