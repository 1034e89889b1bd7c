/*-------------------------------------------------------------------------
 * worker.c
 *	  Background reruns: rerun_invoice_run(..., background => true) queues
 *	  the run and starts a dynamic background worker for it, which executes
 *	  it through billing.run_invoice_run, so a background run is the same
 *	  run as a foreground one.
 *
 *	  A background run is watched through its row: each change of state is
 *	  committed as it happens ('queued' while it waits for the requester to
 *	  commit and for its schedule's lock, 'running' while it makes its
 *	  drafts, then 'completed' or 'failed'), with a log line for each.
 *
 *	  A run never hangs.  The worker says which run it has in its activity
 *	  (pg_stat_activity.query 'billing: invoice run N ...', backend type
 *	  'billing invoice run') from before the requester's transaction may
 *	  commit: the requester waits until it does.  Only a background worker
 *	  registered by this library has that backend type, and only this file
 *	  sets its activity, so no session can pose as a run's worker (0.2 used
 *	  an advisory lock on the run id, which any session could hold or
 *	  take).  A worker that is terminated or cancelled fails its run itself
 *	  before it exits.  So a run that other sessions see 'queued' or
 *	  'running' with no worker naming it has no live worker (it was killed,
 *	  terminated, or the server restarted), and billing.fail_dead_runs()
 *	  marks it failed; every run function calls it first.  A worker that
 *	  cannot be started (no free slot, a role that cannot log in, a worker
 *	  that exits before it takes its run) fails the run in the requester's
 *	  transaction.  A brand has at most billing.max_workers_per_brand
 *	  background runs at a time, so that no brand takes every slot.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/postmaster.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "guard.h"
#include "run.h"
#include "search_path.h"
#include "spi_util.h"
#include "sql_api.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(billing_start_run_worker);
PG_FUNCTION_INFO_V1(start_run_worker);
PG_FUNCTION_INFO_V1(try_lock_run);
PGDLLEXPORT void billing_run_worker_main(Datum main_arg);

/*
 * advisory lock class of 0.2's run locks: 'brun'.  Taken only while the
 * database's SQL is older than 0.3, whose fail_dead_runs tests it.
 */
#define RUN_LOCK_CLASS 0x6272756E

#define RunLockClass()		Int32GetDatum(RUN_LOCK_CLASS)
#define RunLockKey(run_id)	Int32GetDatum((int32) ((run_id) % PG_INT32_MAX))

/* what the worker needs besides the run id, carried in bgw_extra */
typedef struct RunWorkerArgs
{
	Oid			database_oid;
	/* the role that logged in to the requesting session */
	Oid			login_oid;
	/* the role the request was made as (SET ROLE, SECURITY DEFINER) */
	Oid			role_oid;
	TransactionId requester_xid;
	/* the version of the extension's SQL that asked for the run */
	BillingSqlApi api;
} RunWorkerArgs;

StaticAssertDecl(sizeof(RunWorkerArgs) <= BGW_EXTRALEN, "RunWorkerArgs must fit in bgw_extra");

/* billing.max_workers_per_brand: background runs a brand may have at once */
static int	max_workers_per_brand = 2;

/* the start of the activity a run's worker reports (report_activity) */
#define RUN_ACTIVITY_FORMAT "billing: invoice run %lld "

/*
 * live_workers lists the background workers of runs as they are now (not
 * this transaction's snapshot of the backends): the pid of each process
 * whose backend type is 'billing invoice run' and the run its activity
 * names (RUN_ACTIVITY_FORMAT).  Returns how many; *run_ids and *pids are
 * palloc'd.
 */
static int
live_workers(int64 **run_ids, int **pids)
{
	static const char prefix[] = "billing: invoice run ";
	int			n;
	int			found = 0;

	pgstat_clear_snapshot();
	n = pgstat_fetch_stat_numbackends();
	*run_ids = palloc(sizeof(int64) * Max(n, 1));
	*pids = palloc(sizeof(int) * Max(n, 1));
	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *be;
		const char *type;
		char	   *end;
		long long	run_id;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_backendType != B_BG_WORKER || be->st_activity_raw == NULL ||
			strncmp(be->st_activity_raw, prefix, sizeof(prefix) - 1) != 0)
			continue;
		type = GetBackgroundWorkerTypeByPid(be->st_procpid);
		if (type == NULL || strcmp(type, "billing invoice run") != 0)
			continue;
		errno = 0;
		run_id = strtoll(be->st_activity_raw + sizeof(prefix) - 1, &end, 10);
		if (errno != 0 || *end != ' ' || run_id <= 0)
			continue;
		(*run_ids)[found] = (int64) run_id;
		(*pids)[found] = be->st_procpid;
		found++;
	}
	return found;
}

/* worker_names_run tells whether the background worker pid has run_id now */
static bool
worker_names_run(pid_t pid, int64 run_id)
{
	int64	   *run_ids;
	int		   *pids;
	int			n = live_workers(&run_ids, &pids);

	for (int i = 0; i < n; i++)
		if (pids[i] == pid && run_ids[i] == run_id)
			return true;
	return false;
}

/*
 * billing_live_run_workers() returns the background workers of runs now, with the
 * run each names (live_workers): how billing.fail_dead_runs tells a live
 * run from a dead one.
 */
PG_FUNCTION_INFO_V1(billing_live_run_workers);

Datum
billing_live_run_workers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64	   *run_ids;
	int		   *pids;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	n = live_workers(&run_ids, &pids);
	for (int i = 0; i < n; i++)
	{
		Datum		values[2] = {Int64GetDatum(run_ids[i]), Int32GetDatum(pids[i])};
		bool		nulls[2] = {false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * refuse_over_brand_cap refuses a background run when its brand already
 * has billing.max_workers_per_brand live ones.  The brand's row is locked
 * (FOR NO KEY UPDATE, until the request commits: no tenant role can update
 * or lock brand rows) so that two requests of a brand count in turn; each
 * request commits only once its worker names its run, so the count sees
 * it.  The error names only the run's brand, which is the caller's.
 */
static void
refuse_over_brand_cap(int64 run_id)
{
	Oid			types[2] = {INT8OID, INT8ARRAYOID};
	Datum		args[2] = {Int64GetDatum(run_id), (Datum) 0};
	char	   *brand;
	int64		live;
	int64	   *run_ids;
	int		   *pids;
	int			nworkers;
	Datum	   *elems;
	bool		isnull;
	int			level;

	SPI_connect();
	level = billing_pin_search_path();
	(void) billing_spi_exec("SELECT br.code FROM billing.brand br JOIN billing.invoice_run r ON r.brand_id = br.id"
							" WHERE r.id = $1", 1, types, args, NULL, true, 1,
							SPI_OK_SELECT, "reading the run's brand");
	if (SPI_processed != 1)
		elog(ERROR, "billing: invoice run %lld has no brand", (long long) run_id);
	brand = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (!billing_lock_rows("SELECT br.id FROM billing.brand br"
						   " WHERE br.id = (SELECT r.brand_id FROM billing.invoice_run r WHERE r.id = $1)"
						   " FOR NO KEY UPDATE OF br", INT8OID, args[0], false))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("another background invoice run of brand \"%s\" is being requested: waited longer than billing.lock_timeout",
						brand),
				 errhint("Commit or roll back the other request, or call rerun_invoice_run with background => false.")));
	/* the workers as they are now, after the lock */
	nworkers = live_workers(&run_ids, &pids);
	elems = palloc(sizeof(Datum) * Max(nworkers, 1));
	for (int i = 0; i < nworkers; i++)
		elems[i] = Int64GetDatum(run_ids[i]);
	args[1] = PointerGetDatum(construct_array(elems, nworkers, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	(void) billing_spi_exec("SELECT count(*) FROM billing.invoice_run r"
							" WHERE r.id = ANY ($2)"
							"   AND r.brand_id = (SELECT r1.brand_id FROM billing.invoice_run r1 WHERE r1.id = $1)"
							"   AND r.status IN ('queued', 'running')",
							2, types, args, NULL, false, 1,
							SPI_OK_SELECT, psprintf("counting the background runs of brand \"%s\"", brand));
	billing_spi_require_rows(1, "counting the background runs");
	live = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (live >= max_workers_per_brand)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("brand \"%s\" already has %lld background invoice runs, as many as billing.max_workers_per_brand (%d) allows",
						brand, (long long) live, max_workers_per_brand),
				 errhint("Wait for one of them to end (SELECT * FROM billing.run_report), or call rerun_invoice_run with background => false.")));
	billing_unpin_search_path(level);
	SPI_finish();
}

/*
 * fail_unstarted_run marks the run failed in the requester's transaction
 * (its row, a log line, the notifications and a WARNING, by finish_run):
 * the run row is committed with the request, showing why it did not run.
 */
static void
fail_unstarted_run(int64 run_id, const char *reason, BillingSqlApi api)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2] = {Int64GetDatum(run_id), CStringGetTextDatum(reason)};
	int			level;

	SPI_connect();
	level = billing_pin_search_path();
	(void) billing_spi_exec(billing_api_sql(api, "SELECT billing_internal.finish_run($1, false, $2, NULL, NULL, NULL, NULL, NULL, NULL)"),
							2, types, args, NULL, false, 0,
							SPI_OK_SELECT, psprintf("failing invoice run %lld", (long long) run_id));
	billing_unpin_search_path(level);
	SPI_finish();
}

/*
 * start_worker_of_run(run_id, api) starts the background worker of a
 * queued run and returns once the worker names the run in its activity,
 * so that the run is never seen queued without a live worker or a
 * recorded failure.  A brand over its cap of background runs is refused
 * with an error; a run that cannot get a worker is marked failed here,
 * with the reason.
 */
static void
start_worker_of_run(int64 run_id, BillingSqlApi api)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	RunWorkerArgs args;
	HeapTuple	tuple;
	bool		can_login;
	pid_t		pid;

	args.database_oid = MyDatabaseId;
	args.login_oid = GetAuthenticatedUserId();
	args.role_oid = GetUserId();
	/* the run row was inserted by this transaction, so it has an xid */
	args.requester_xid = GetTopTransactionId();
	args.api = api;

	/*
	 * The worker logs in as the role that logged in here and then acts as
	 * the role the request was made as, as this session does: a group role
	 * taken with SET ROLE needs no LOGIN.  A login role that has lost its
	 * LOGIN since this session began cannot start a worker.
	 */
	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(args.login_oid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for role %u", args.login_oid);
	can_login = ((Form_pg_authid) GETSTRUCT(tuple))->rolcanlogin;
	ReleaseSysCache(tuple);
	refuse_over_brand_cap(run_id);
	if (!can_login)
	{
		fail_unstarted_run(run_id,
						   psprintf("no background worker can run it: role \"%s\" is not permitted to log in "
									"(call rerun_invoice_run with background => false)",
									GetUserNameFromId(args.login_oid, false)), api);
		return;
	}

	billing_dynamic_worker(&worker, "billing_run_worker_main", "billing invoice run");
	snprintf(worker.bgw_name, BGW_MAXLEN, "billing invoice run %lld", (long long) run_id);
	worker.bgw_main_arg = Int64GetDatum(run_id);
	memcpy(worker.bgw_extra, &args, sizeof(args));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		fail_unstarted_run(run_id,
						   psprintf("no background worker could be started: all %d worker slots are in use "
									"(raise max_worker_processes, or call rerun_invoice_run with background => false)",
									max_worker_processes), api);
		return;
	}

	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while starting the worker of invoice run %lld",
						(long long) run_id)));

	/* wait until the worker names its run, or is gone */
	while (status == BGWH_STARTED && !worker_names_run(pid, run_id))
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		status = GetBackgroundWorkerPid(handle, &pid);
	}
	if (status != BGWH_STARTED)
		fail_unstarted_run(run_id,
						   "its background worker exited before it took the run "
						   "(see the server log: it could not connect, or was terminated)", api);
}

/* billing_start_run_worker(run_id): start_worker_of_run, for this version's SQL */
Datum
billing_start_run_worker(PG_FUNCTION_ARGS)
{
	start_worker_of_run(PG_GETARG_INT64(0), BILLING_SQL_0_3);
	PG_RETURN_VOID();
}

/* start_run_worker: the same, for the released 0.1/0.2 scripts (frozen) */
Datum
start_run_worker(PG_FUNCTION_ARGS)
{
	start_worker_of_run(PG_GETARG_INT64(0), billing_released_sql_api());
	PG_RETURN_VOID();
}

/*
 * try_lock_run(run_id) takes 0.2's advisory run lock of a run until the
 * end of the transaction if nobody holds it.  Only the SQL of 0.2 calls
 * it (its fail_dead_runs), until ALTER EXTENSION UPDATE; 0.3 has no
 * billing.try_lock_run.  A symbol of the released 0.2 script only.
 */
Datum
try_lock_run(PG_FUNCTION_ARGS)
{
	int64		run_id = PG_GETARG_INT64(0);

	return DirectFunctionCall2(pg_try_advisory_xact_lock_int4, RunLockClass(), RunLockKey(run_id));
}

/*
 * billing_dynamic_worker fills in a dynamic background worker of this
 * library that connects to a database, is never restarted and tells this
 * backend when it starts and stops; its name is its type until set.
 */
void
billing_dynamic_worker(BackgroundWorker *worker, const char *function, const char *type)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker->bgw_library_name, BGW_MAXLEN, "billing");
	snprintf(worker->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker->bgw_name, BGW_MAXLEN, "%s", type);
	snprintf(worker->bgw_type, BGW_MAXLEN, "%s", type);
	worker->bgw_notify_pid = MyProcPid;
}

/*
 * billing_worker_xact_begin starts a background worker's transaction of
 * its own for SPI statements of the extension's code, which may write the
 * records (billing.api_write, see guard.c); returns what
 * billing_worker_xact_end takes to commit it.
 */
int
billing_worker_xact_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	return billing_allow_api_write();
}

void
billing_worker_xact_end(int api_write_level)
{
	billing_end_api_write(api_write_level);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * run_sql executes one statement about the run in a transaction of its own.
 * The statements use only what version 0.1 has too (invoice_run, run_log,
 * finish_run), or are chosen by the caller's SQL version (the run log's
 * brand_id, 0.3): a database not yet updated runs with this library.
 * The worker is the extension's own code: its statements may write the run
 * row and its log (billing.api_write, see guard.c).
 */
static uint64
run_sql(const char *sql, int64 run_id, const char *text_arg, int64 *result)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	uint64		processed;
	int			api_write_level;

	values[0] = Int64GetDatum(run_id);
	if (text_arg)
		values[1] = CStringGetTextDatum(text_arg);
	else
		nulls[1] = 'n';

	api_write_level = billing_worker_xact_begin();
	(void) billing_spi_exec(sql, 2, types, values, nulls, false, 0, BILLING_SPI_OK_ANY,
							psprintf("statement of invoice run %lld", (long long) run_id));
	processed = SPI_processed;
	if (result && processed > 0 && SPI_tuptable != NULL)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		Oid			type = SPI_gettypeid(SPI_tuptable->tupdesc, 1);

		/* results are bigint ids or booleans (as 0 or 1) */
		if (isnull)
			*result = 0;
		else if (type == INT8OID)
			*result = DatumGetInt64(d);
		else if (type == BOOLOID)
			*result = DatumGetBool(d) ? 1 : 0;
		else
			elog(ERROR, "billing: unexpected result type %u of a run statement", type);
	}
	billing_worker_xact_end(api_write_level);
	return processed;
}

/* report_activity sets what pg_stat_activity.query shows for the worker */
static void
report_activity(int64 run_id, const char *what)
{
	char		activity[128];

	snprintf(activity, sizeof(activity), RUN_ACTIVITY_FORMAT "%s", (long long) run_id, what);
	pgstat_report_activity(STATE_RUNNING, activity);
}

/*
 * SIGTERM (pg_terminate_backend, a fast shutdown) stops the worker the way
 * a cancel does, at the next interrupt check, so that it can record that
 * its run failed before it exits; the run lock covers a worker that dies
 * before it could.
 */
static volatile sig_atomic_t got_sigterm = false;

static void
handle_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	if (!proc_exit_inprogress)
	{
		InterruptPending = true;
		QueryCancelPending = true;
	}
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * start_under_lock takes the schedule's lock (waiting at most
 * billing.lock_timeout, or not at all) and, under it, marks the run
 * running, in one transaction of its own that commits the start for
 * watchers.  Returns -1 when another holds the lock and !wait, 0 when the run
 * is no longer queued (cancelled while it waited), 1 when it started.
 * The run itself takes the lock again (run_invoice_run); a run or a
 * document change that comes between the two is waited for, bounded too.
 */
static int
start_under_lock(int64 run_id, int64 schedule_id, bool wait, BillingSqlApi api)
{
	Oid			types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	int			result = -1;
	int			api_write_level;

	api_write_level = billing_worker_xact_begin();
	if (billing_lock_schedule(schedule_id, wait, api))
	{
		/* the start time is a parameter: no volatile function in the UPDATE */
		values[0] = Int64GetDatum(run_id);
		values[1] = CStringGetTextDatum(psprintf("started by background worker pid %d", MyProcPid));
		values[2] = TimestampTzGetDatum(GetCurrentTimestamp());
		/* 0.3's run log carries the run's brand; 0.1 and 0.2's has none */
		(void) billing_spi_exec(api >= BILLING_SQL_0_3 ?
								"WITH started AS ("
								"  UPDATE billing.invoice_run r SET status = 'running', started_at = $3"
								"  WHERE r.id = $1 AND r.status = 'queued' RETURNING r.id, r.brand_id)"
								" INSERT INTO billing.run_log (run_id, brand_id, level, message)"
								" SELECT started.id, started.brand_id, 'info', $2 FROM started" :
								"WITH started AS ("
								"  UPDATE billing.invoice_run r SET status = 'running', started_at = $3"
								"  WHERE r.id = $1 AND r.status = 'queued' RETURNING r.id)"
								" INSERT INTO billing.run_log (run_id, level, message)"
								" SELECT started.id, 'info', $2 FROM started",
								3, types, values, NULL, false, 0,
								SPI_OK_INSERT, psprintf("starting invoice run %lld", (long long) run_id));
		result = SPI_processed == 1 ? 1 : 0;
	}
	billing_worker_xact_end(api_write_level);
	return result;
}

/*
 * do_run waits for the request to commit and for the schedule's lock (the
 * run queued), marks the run running, and executes it.
 */
static void
do_run(int64 run_id, TransactionId requester_xid, BillingSqlApi api)
{
	int64		schedule_id = 0;
	int			started;

	/* wait until the transaction that queued the run has committed or not */
	report_activity(run_id, "waiting for its request to commit");
	StartTransactionCommand();
	XactLockTableWait(requester_xid, NULL, NULL, XLTW_None);
	CommitTransactionCommand();

	/* no queued row: the requester rolled back, or it was cancelled */
	run_sql("SELECT r.schedule_id FROM billing.invoice_run r WHERE r.id = $1 AND r.status = 'queued'",
			run_id, NULL, &schedule_id);
	if (schedule_id == 0)
		return;

	/*
	 * Start under the schedule's lock; while another run or a document
	 * change holds it, say so (committed) and wait, at most
	 * billing.lock_timeout: cancel_run can cancel the run until it starts.
	 */
	started = start_under_lock(run_id, schedule_id, false, api);
	if (started < 0)
	{
		run_sql(api >= BILLING_SQL_0_3 ?
				"INSERT INTO billing.run_log (run_id, brand_id, level, message)"
				" SELECT r.id, r.brand_id, 'info', 'queued behind another run of its schedule or a document change;"
				" waiting for the schedule''s lock' FROM billing.invoice_run r WHERE r.id = $1" :
				"INSERT INTO billing.run_log (run_id, level, message)"
				" VALUES ($1, 'info', 'queued behind another run of its schedule or a document change;"
				" waiting for the schedule''s lock')",
				run_id, NULL, NULL);
		report_activity(run_id, "waiting for its schedule's lock");
		started = start_under_lock(run_id, schedule_id, true, api);
	}
	if (started != 1)
		return;					/* cancelled while it waited */

	report_activity(run_id, "making its drafts");
	run_sql(billing_api_sql(api, "SELECT billing_internal.run_invoice_run($1)"), run_id, NULL, NULL);
}

/*
 * take_v02_run_lock: for a run asked for by SQL older than 0.3, whose
 * fail_dead_runs tells a live worker by 0.2's advisory run lock, the
 * worker holds that lock for as long as it lives, as 0.2's did.
 */
static void
take_v02_run_lock(int64 run_id, BillingSqlApi api)
{
	if (api >= BILLING_SQL_0_3)
		return;
	StartTransactionCommand();
	(void) DirectFunctionCall2(pg_advisory_lock_int4, RunLockClass(), RunLockKey(run_id));
	CommitTransactionCommand();
}

/* billing_run_worker_main is the background worker's entry point */
void
billing_run_worker_main(Datum main_arg)
{
	int64		run_id = DatumGetInt64(main_arg);
	RunWorkerArgs args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, handle_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.database_oid, args.login_oid, 0);
	/* act as the requester did; SET ROLE is refused from here on */
	if (args.role_oid != args.login_oid)
		SetUserIdAndSecContext(args.role_oid, SECURITY_LOCAL_USERID_CHANGE);

	/*
	 * The connection applied the role's and the database's settings; the
	 * run must not resolve a name through their search_path, which any role
	 * with CREATE on a schema there could fill with look-alikes.
	 */
	SetConfigOption("search_path", BILLING_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
	/* the activity is how others know the run is alive: never off here */
	SetConfigOption("track_activities", "on", PGC_SUSET, PGC_S_OVERRIDE);

	take_v02_run_lock(run_id, args.api);
	/* from here until this process exits, its activity names the run */
	report_activity(run_id, "waiting for its request to commit");

	PG_TRY();
	{
		do_run(run_id, args.requester_xid, args.api);
	}
	PG_CATCH();
	{
		/*
		 * An error that the run itself could not record (a terminate or a
		 * cancel): its transaction is rolled back, so nothing was issued.
		 * Say so in the run, if it is still queued or running.
		 */
		ErrorData  *edata;
		char	   *reason;

		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(TopMemoryContext);
		EmitErrorReport();
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		QueryCancelPending = false;
		RESUME_INTERRUPTS();
		if (got_sigterm)
			reason = "its background worker was terminated (pg_terminate_backend, SIGTERM or a shutdown)"
				"; its work was rolled back";
		else
			reason = psprintf("its background worker stopped: %s; its work was rolled back", edata->message);
		run_sql(billing_api_sql(args.api,
								"WITH live AS MATERIALIZED (SELECT r.id FROM billing.invoice_run r"
								"  WHERE r.id = $1 AND r.status IN ('queued', 'running') FOR UPDATE)"
								" SELECT billing_internal.finish_run(live.id, false, $2, NULL, NULL, NULL, NULL, NULL, NULL) FROM live"),
				run_id, reason, NULL);
	}
	PG_END_TRY();

	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

/* billing_max_workers_per_brand: billing.max_workers_per_brand, for committed.c */
int
billing_max_workers_per_brand(void)
{
	return max_workers_per_brand;
}

/* billing_define_worker_gucs registers the background runs' settings */
void
billing_define_worker_gucs(void)
{
	DefineCustomIntVariable("billing.max_workers_per_brand",
							"Background invoice runs one brand may have at once.",
							"A background rerun of a brand that has this many is refused, so that no brand takes every worker slot.",
							&max_workers_per_brand,
							2, 1, MAX_BACKENDS,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
}
