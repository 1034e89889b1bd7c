/*-------------------------------------------------------------------------
 * run.c
 *	  The invoice run driver: issue_drafts (every due period of every
 *	  enabled schedule) and rerun_invoice_run (the last closed period of one
 *	  schedule).  The drafts themselves are SQL a DBA can read
 *	  (billing.make_drafts and billing.draft_rows in sql/billing/runs.sql);
 *	  C keeps what C is for: the schedule's lock, the subtransaction that
 *	  leaves a failed run 'failed' with its error and nothing else, the
 *	  run's memory bound, and the background worker (worker.c).
 *
 *	  Runs of one schedule are serialized by a transaction-level advisory
 *	  lock on the schedule; documents are guarded by the same lock (see the
 *	  document_guard trigger), so a document deleted or changed while a run
 *	  links it either waits for the run or is not seen by it.
 *-------------------------------------------------------------------------
 */
#include "billing.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(issue_drafts_internal);
PG_FUNCTION_INFO_V1(run_invoice_run);

/* billing.run_lock_wait: wait for another run of the schedule, or refuse */
static bool run_lock_wait = true;

/*
 * billing.run_work_mem: work_mem for the run statement.  Its hash
 * aggregates over numeric sums grow large; a modest fixed budget keeps a
 * run's memory bounded whatever the session's work_mem, and measured faster
 * than a large one (test/bench/issue.sh).
 */
static int	run_work_mem = 16 * 1024;	/* kB */

/*
 * billing.max_run_work_mem: the most billing.run_work_mem may be, set by a
 * superuser only.  run_work_mem is anyone's to lower; a value above this is
 * refused when set and, set some other way, clamped when used.
 */
static int	max_run_work_mem = 1024 * 1024;	/* kB */

/* check_run_work_mem refuses a run_work_mem above billing.max_run_work_mem */
static bool
check_run_work_mem(int *newval, void **extra, GucSource source)
{
	/* the server's own configuration is the superuser's */
	if (*newval <= max_run_work_mem || source <= PGC_S_ARGV)
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("billing.run_work_mem cannot be %d kB: billing.max_run_work_mem is %d kB",
					 *newval, max_run_work_mem);
	GUC_check_errhint("A superuser can raise billing.max_run_work_mem first.");
	return false;
}

/* spi_check fails loudly on an SPI error code (a bug, not user input) */
static void
spi_check(int rc, int expected, const char *what)
{
	if (rc != expected)
		elog(ERROR, "billing: %s failed: %s", what, SPI_result_code_string(rc));
}

/*
 * row_column is the value of the named column of row `row` of
 * SPI_tuptable, and result_column that of its first row: the statements'
 * results are read by column name, not position.
 */
static Datum
row_column(uint64 row, const char *name, bool *isnull)
{
	int			fnumber = SPI_fnumber(SPI_tuptable->tupdesc, name);

	if (fnumber <= 0)
		elog(ERROR, "billing: result has no column \"%s\"", name);
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, fnumber, isnull);
}

static Datum
result_column(const char *name, bool *isnull)
{
	return row_column(0, name, isnull);
}

/*
 * schedule_lock_key_of sets the advisory lock class and key of a schedule's
 * run lock: billing.schedule_lock_key's, the one document_guard takes
 * shared.  Needs a transaction and an SPI connection.
 */
static void
schedule_lock_key_of(int64 schedule_id, Datum *lock_class, Datum *lock_key)
{
	bool		isnull;

	if (billing_sql_is_v01())
	{
		int32		c,
					k;

		billing_v01_lock_key(schedule_id, &c, &k);
		*lock_class = Int32GetDatum(c);
		*lock_key = Int32GetDatum(k);
	}
	else
	{
		Oid			types[1] = {INT8OID};
		Datum		args[1] = {Int64GetDatum(schedule_id)};
		int			rc;

		rc = SPI_execute_with_args("SELECT k.lock_class, k.lock_key"
								   " FROM billing.schedule_lock_key(schedule_id => $1) AS k",
								   1, types, args, NULL, true, 1);
		spi_check(rc, SPI_OK_SELECT, "computing the schedule's lock key");
		if (SPI_processed != 1)
			elog(ERROR, "billing: no lock key for schedule %lld", (long long) schedule_id);
		*lock_class = result_column("lock_class", &isnull);
		*lock_key = result_column("lock_key", &isnull);
	}
}

/* lock_schedule takes the schedule's run lock, waiting or not */
static void
lock_schedule(int64 schedule_id, const char *schedule_code)
{
	Datum		lock_class;
	Datum		lock_key;

	schedule_lock_key_of(schedule_id, &lock_class, &lock_key);
	if (run_lock_wait)
	{
		DirectFunctionCall2(pg_advisory_xact_lock_int4, lock_class, lock_key);
		return;
	}
	if (!DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4, lock_class, lock_key)))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("another invoice run of billing schedule \"%s\" is in progress",
						schedule_code),
				 errhint("Wait for it to finish, or SET billing.run_lock_wait = on to queue behind it.")));
}

/*
 * billing_lock_schedule_for_session takes the schedule's run lock for the
 * session, waiting or not (returns whether it got it): a background worker
 * holds it from before its run goes 'running' until it exits, and its
 * run's own transaction-level lock_schedule is then granted at once.  The
 * key is looked up in a transaction of its own when none is open.
 */
bool
billing_lock_schedule_for_session(int64 schedule_id, bool wait)
{
	Datum		lock_class;
	Datum		lock_key;
	bool		own_transaction = !IsTransactionState();

	if (own_transaction)
		StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	schedule_lock_key_of(schedule_id, &lock_class, &lock_key);
	PopActiveSnapshot();
	SPI_finish();
	if (own_transaction)
		CommitTransactionCommand();

	if (wait)
	{
		DirectFunctionCall2(pg_advisory_lock_int4, lock_class, lock_key);
		return true;
	}
	return DatumGetBool(DirectFunctionCall2(pg_try_advisory_lock_int4, lock_class, lock_key));
}

/* refuse_snapshot_isolation: a run must see what committed while it waited */
static void
refuse_snapshot_isolation(void)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("invoice runs need READ COMMITTED isolation"),
				 errdetail("A run waits for other runs of its schedule and must then see the documents they linked."),
				 errhint("Run it in a READ COMMITTED transaction (the default).")));
}

/* the columns billing.make_drafts returns, in the order finish_run takes them */
static const char *const run_result_columns[] = {
	"buyers", "invoices", "documents", "purchases", "tax", "billed"
};

#define RUN_NRESULTS ((int) lengthof(run_result_columns))

/*
 * execute_run does one queued run: marks it running, makes its drafts with
 * billing.make_drafts in a subtransaction, and finishes it as completed or
 * failed.  Returns true when the run completed.  The caller holds the
 * schedule's lock.  A background worker has already marked its run
 * 'running' (committed, for watchers).
 */
static bool
execute_run(int64 run_id)
{
	/* make_drafts(run_id, brand_id, ...): named arguments, in this order */
	static const char *const make_drafts_sql =
		"SELECT * FROM billing.make_drafts(run_id => $1, brand_id => $2, schedule_id => $3,"
		" first_day => $4, day_after_cutoff => $5, applied_before => $6, cutoff => $7,"
		" invoice_date => $8)";
	static const char *const run_columns[] = {
		NULL, "brand_id", "schedule_id", "first_day", "day_after_cutoff",
		"applied_before", "cutoff", "invoice_date"
	};
	Oid			argtypes[8] = {INT8OID, INT8OID, INT8OID, DATEOID, DATEOID,
	TIMESTAMPTZOID, DATEOID, DATEOID};
	Datum		args[8];

	/* set inside PG_TRY, read after it */
	volatile Datum counts[RUN_NRESULTS];
	volatile bool ok = false;
	char	   *volatile error_text = NULL;
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			rc;
	bool		isnull;
	bool		sql_is_v01 = billing_sql_is_v01();

	{
		/* the start time is a parameter: no volatile function in the UPDATE */
		Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
		Datum		startargs[2] = {Int64GetDatum(run_id),
		TimestampTzGetDatum(GetCurrentTimestamp())};

		rc = SPI_execute_with_args(
								   "UPDATE billing.invoice_run SET status = 'running', started_at = coalesce(started_at, $2)"
								   " WHERE id = $1 AND status IN ('queued', 'running')"
								   " RETURNING brand_id, schedule_id, lower(period) AS first_day,"
								   "           upper(period) AS day_after_cutoff,"
								   "           CASE kind WHEN 'scheduled' THEN issue_at ELSE as_of END"
								   "             AS applied_before,"
								   "           cutoff_date AS cutoff, invoice_date",
								   2, types, startargs, NULL, false, 1);
		spi_check(rc, SPI_OK_UPDATE_RETURNING, "starting the run");
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("invoice run %lld is not queued", (long long) run_id)));
		args[0] = Int64GetDatum(run_id);
		for (int i = 1; i < (int) lengthof(args); i++)
			args[i] = result_column(run_columns[i], &isnull);
		/* the datums are pass-by-value (int8, date, timestamptz) */
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		/* undone by AtEOXact_GUC below, or by the subtransaction's abort */
		int			guc_level = NewGUCNestLevel();

		/*
		 * The run's memory bound: its hash aggregates over numeric sums grow
		 * large, and a modest fixed work_mem keeps them bounded whatever the
		 * session's.  The plan's other settings are make_drafts' own.
		 */
		(void) set_config_option("work_mem", psprintf("%d", Min(run_work_mem, max_run_work_mem)),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		if (sql_is_v01)
			billing_v01_make_drafts(args);
		else
		{
			rc = SPI_execute_with_args(make_drafts_sql, lengthof(args), argtypes, args,
									   NULL, false, 0);
			spi_check(rc, SPI_OK_SELECT, "making the drafts");
		}
		AtEOXact_GUC(true, guc_level);
		for (int i = 0; i < RUN_NRESULTS; i++)
		{
			int			fnumber = SPI_fnumber(SPI_tuptable->tupdesc, run_result_columns[i]);
			Form_pg_attribute att;
			Datum		v;

			if (fnumber <= 0)
				elog(ERROR, "billing: make_drafts returned no column \"%s\"", run_result_columns[i]);
			att = TupleDescAttr(SPI_tuptable->tupdesc, fnumber - 1);
			v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, fnumber, &isnull);
			/* copy out of the subtransaction's memory */
			MemoryContextSwitchTo(oldcontext);
			counts[i] = isnull ? (Datum) 0 : datumCopy(v, att->attbyval, att->attlen);
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		/* a cancel or shutdown must not be swallowed as a failed run */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		error_text = edata->message;
	}
	PG_END_TRY();

	{
		Oid			types[3 + RUN_NRESULTS] = {INT8OID, BOOLOID, TEXTOID, INT4OID, INT4OID, INT4OID,
		NUMERICOID, NUMERICOID, NUMERICOID};
		Datum		fargs[3 + RUN_NRESULTS];
		char		nulls[3 + RUN_NRESULTS];

		memset(nulls, ok ? ' ' : 'n', sizeof(nulls));
		fargs[0] = Int64GetDatum(run_id);
		nulls[0] = ' ';
		fargs[1] = BoolGetDatum(ok);
		nulls[1] = ' ';
		fargs[2] = ok ? (Datum) 0 : CStringGetTextDatum(error_text);
		nulls[2] = ok ? 'n' : ' ';
		for (int i = 0; i < RUN_NRESULTS; i++)
			fargs[3 + i] = ok ? counts[i] : (Datum) 0;
		rc = SPI_execute_with_args("SELECT billing.finish_run(run_id => $1, ok => $2, error => $3,"
								   " buyers => $4, invoices => $5, documents => $6,"
								   " purchases => $7, tax => $8, billed => $9)",
								   lengthof(fargs), types, fargs, nulls, false, 0);
		spi_check(rc, SPI_OK_SELECT, "finishing the run");
	}
	return ok;
}

/*
 * issue_drafts_internal(as_of) makes every due scheduled run: for each
 * enabled schedule in use, under its lock, plan_scheduled_runs queues one
 * run per due period without one, and each is executed in turn.  Returns
 * the ids of the runs it made.
 */
Datum
issue_drafts_internal(PG_FUNCTION_ARGS)
{
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(0);
	MemoryContext callcontext = CurrentMemoryContext;
	int64	   *schedule_ids;
	char	  **schedule_codes;
	int			nschedules;
	Datum	   *run_ids = NULL;
	int			nruns = 0;
	int			rc;
	int			search_path_level;

	refuse_snapshot_isolation();
	SPI_connect();
	search_path_level = billing_pin_search_path();

	/* the schedules in use: no subquery correlated with the small table */
	rc = SPI_execute("SELECT s.id AS schedule_id, s.code AS schedule_code FROM billing.schedule s"
					 " WHERE s.enabled"
					 "   AND s.id IN (SELECT b.schedule_id FROM billing.buyer b"
					 "                WHERE b.schedule_id IS NOT NULL)"
					 " ORDER BY s.id", true, 0);
	spi_check(rc, SPI_OK_SELECT, "listing schedules");
	nschedules = (int) SPI_processed;
	schedule_ids = MemoryContextAlloc(callcontext, sizeof(int64) * Max(nschedules, 1));
	schedule_codes = MemoryContextAlloc(callcontext, sizeof(char *) * Max(nschedules, 1));
	for (int i = 0; i < nschedules; i++)
	{
		bool		isnull;
		Datum		code = row_column(i, "schedule_code", &isnull);

		schedule_ids[i] = DatumGetInt64(row_column(i, "schedule_id", &isnull));
		schedule_codes[i] = MemoryContextStrdup(callcontext, TextDatumGetCString(code));
	}

	for (int i = 0; i < nschedules; i++)
	{
		Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
		Datum		args[2] = {Int64GetDatum(schedule_ids[i]), TimestampTzGetDatum(as_of)};
		int			nqueued;
		int64	   *queued;

		CHECK_FOR_INTERRUPTS();
		lock_schedule(schedule_ids[i], schedule_codes[i]);
		/* planned after the lock, so a run made meanwhile is seen */
		rc = SPI_execute_with_args("SELECT run_id FROM billing.plan_scheduled_runs(schedule_id => $1, as_of => $2) AS run_id",
								   2, types, args, NULL, false, 0);
		spi_check(rc, SPI_OK_SELECT, "planning scheduled runs");
		nqueued = (int) SPI_processed;
		queued = palloc(sizeof(int64) * Max(nqueued, 1));
		for (int j = 0; j < nqueued; j++)
		{
			bool		isnull;

			queued[j] = DatumGetInt64(row_column(j, "run_id", &isnull));
		}
		for (int j = 0; j < nqueued; j++)
		{
			execute_run(queued[j]);
			run_ids = run_ids == NULL ?
				MemoryContextAlloc(callcontext, sizeof(Datum) * 16) :
				(nruns % 16 == 0 ? repalloc(run_ids, sizeof(Datum) * (nruns + 16)) : run_ids);
			run_ids[nruns++] = Int64GetDatum(queued[j]);
		}
	}

	billing_unpin_search_path(search_path_level);
	SPI_finish();
	PG_RETURN_ARRAYTYPE_P(construct_array(run_ids, nruns, INT8OID, sizeof(int64),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * run_invoice_run(run_id) executes one queued run (a rerun) under its
 * schedule's lock; returns whether it completed.
 */
Datum
run_invoice_run(PG_FUNCTION_ARGS)
{
	int64		run_id = PG_GETARG_INT64(0);
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(run_id)};
	int64		schedule_id;
	char	   *schedule_code;
	bool		isnull;
	bool		ok;
	int			rc;
	int			search_path_level;

	refuse_snapshot_isolation();
	SPI_connect();
	search_path_level = billing_pin_search_path();
	rc = SPI_execute_with_args("SELECT r.schedule_id, s.code AS schedule_code FROM billing.invoice_run r"
							   " JOIN billing.schedule s ON s.id = r.schedule_id WHERE r.id = $1",
							   1, types, args, NULL, true, 1);
	spi_check(rc, SPI_OK_SELECT, "finding the run");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("invoice run %lld does not exist", (long long) run_id)));
	schedule_id = DatumGetInt64(result_column("schedule_id", &isnull));
	schedule_code = TextDatumGetCString(result_column("schedule_code", &isnull));

	lock_schedule(schedule_id, schedule_code);
	ok = execute_run(run_id);
	billing_unpin_search_path(search_path_level);
	SPI_finish();
	PG_RETURN_BOOL(ok);
}

/* billing_define_run_gucs registers the run driver's settings */
void
billing_define_run_gucs(void)
{
	DefineCustomBoolVariable("billing.run_lock_wait",
							 "Whether an invoice run waits for another run of the same schedule.",
							 "When off, a run refuses at once with SQLSTATE 55P03 instead of queueing.",
							 &run_lock_wait,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	/* before run_work_mem, whose check hook reads it */
	DefineCustomIntVariable("billing.max_run_work_mem",
							"Largest billing.run_work_mem a session may set.",
							NULL,
							&max_run_work_mem,
							1024 * 1024, 64, MAX_KILOBYTES,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("billing.run_work_mem",
							"work_mem of the statement that makes a run's drafts.",
							"Bounds a run's memory whatever the session's work_mem; at most billing.max_run_work_mem.",
							&run_work_mem,
							16 * 1024, 64, MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							check_run_work_mem, NULL, NULL);
}
