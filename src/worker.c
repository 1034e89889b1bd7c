/*-------------------------------------------------------------------------
 * worker.c
 *	  Background reruns: rerun_invoice_run(..., background => true) queues
 *	  the run and starts a dynamic background worker for it.  The worker
 *	  waits for the requesting transaction to end (the run row is invisible
 *	  until then, and gone if it rolled back), then executes the run through
 *	  billing.run_invoice_run, so a background run is the same run as a
 *	  foreground one.  Progress and outcome are in the run row and its log.
 *-------------------------------------------------------------------------
 */
#include "billing.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(start_run_worker);
PGDLLEXPORT void billing_run_worker_main(Datum main_arg);

/* what the worker needs besides the run id, carried in bgw_extra */
typedef struct RunWorkerArgs
{
	Oid			database_oid;
	Oid			role_oid;
	TransactionId requester_xid;
} RunWorkerArgs;

StaticAssertDecl(sizeof(RunWorkerArgs) <= BGW_EXTRALEN, "RunWorkerArgs must fit in bgw_extra");

Datum
start_run_worker(PG_FUNCTION_ARGS)
{
	int64		run_id = PG_GETARG_INT64(0);
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	RunWorkerArgs args;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "billing");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "billing_run_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "billing invoice run %lld", (long long) run_id);
	snprintf(worker.bgw_type, BGW_MAXLEN, "billing invoice run");
	worker.bgw_main_arg = Int64GetDatum(run_id);
	worker.bgw_notify_pid = MyProcPid;

	args.database_oid = MyDatabaseId;
	args.role_oid = GetUserId();
	/* the run row was inserted by this transaction, so it has an xid */
	args.requester_xid = GetTopTransactionId();
	memcpy(worker.bgw_extra, &args, sizeof(args));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker for invoice run %lld",
						(long long) run_id),
				 errhint("Raise max_worker_processes, or call rerun_invoice_run with background => false.")));
	PG_RETURN_VOID();
}

/* billing_run_worker_main is the background worker's entry point */
void
billing_run_worker_main(Datum main_arg)
{
	int64		run_id = DatumGetInt64(main_arg);
	RunWorkerArgs args;
	char		activity[64];
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run_id)};
	int			rc;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.database_oid, args.role_oid, 0);

	/*
	 * The connection applied the role's and the database's settings; the
	 * run must not resolve a name through their search_path, which any role
	 * with CREATE on a schema there could fill with look-alikes.
	 */
	SetConfigOption("search_path", BILLING_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);

	/* wait until the transaction that queued the run has committed or not */
	StartTransactionCommand();
	XactLockTableWait(args.requester_xid, NULL, NULL, XLTW_None);
	CommitTransactionCommand();

	snprintf(activity, sizeof(activity), "billing: invoice run %lld", (long long) run_id);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);

	rc = SPI_execute_with_args("SELECT 1 FROM billing.invoice_run WHERE id = $1 AND status = 'queued'",
							   1, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "billing: finding queued run %lld failed", (long long) run_id);
	/* no row: the requester rolled back, so there is nothing to do */
	if (SPI_processed == 1)
	{
		rc = SPI_execute_with_args("SELECT billing.run_invoice_run($1)",
								   1, types, values, NULL, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "billing: invoice run %lld failed to execute", (long long) run_id);
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
