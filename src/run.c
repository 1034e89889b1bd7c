/*-------------------------------------------------------------------------
 * run.c
 *	  The invoice run driver: issue_drafts (every due period of every
 *	  enabled schedule) and rerun_invoice_run (the last closed period of one
 *	  schedule).  The drafts themselves are SQL a DBA can read
 *	  (billing.make_drafts and billing.draft_rows in src/sql/runs.sql);
 *	  C keeps what C is for: the schedule's lock, the subtransaction that
 *	  leaves a failed run 'failed' with its error and nothing else, the
 *	  run's memory bound, and the background worker (worker.c).
 *
 *	  Runs of one schedule are serialized by a row lock on the schedule
 *	  (FOR NO KEY UPDATE, waited for at most billing.lock_timeout); the
 *	  document_guard trigger takes the same row FOR SHARE, so a document
 *	  deleted or changed while a run links it either waits for the run or
 *	  is not seen by it.  Only the brand's own writers can lock its rows.
 *
 *	  One schedule cannot stop another: issue_drafts plans each schedule's
 *	  runs, and makes each run, in a subtransaction of its own, so an error
 *	  there (a bad row of one brand, a lock it cannot get) becomes that
 *	  schedule's failed run and the other schedules are billed in the same
 *	  call.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/utility.h"
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

#include "committed.h"
#include "guard.h"
#include "worker.h"
#include "progress.h"
#include "run.h"
#include "run_v01.h"
#include "search_path.h"
#include "spi_util.h"
#include "sql_api.h"


/*
 * billing.report_every_brand: a session told of every brand's failed runs
 * (billing.raise_failed_runs) although its role sees only some brands or
 * none: the operator's tick role (README, billing_cron), set by a superuser
 */
static bool report_every_brand = false;

/*
 * billing.parallel_runs: how many schedules issue_drafts issues at once,
 * each by a background worker in a transaction of its own (committed.c);
 * 1, the default, issues them one after another in the caller's.
 */
static int	parallel_runs = 1;

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

/*
 * billing.lock_timeout: how long a run waits for its schedule's lock, and
 * a bulk action for its buyers' locks, before it gives up with SQLSTATE
 * 55P03 (0: no limit).  The locks are row locks that only the brand's own
 * writers can take, so a wait this long means one of them keeps a
 * transaction open; the run of that schedule fails, not the night.
 */
static int	lock_timeout_ms = 10000;
static int	health_draft_age_s = 7 * 24 * 3600;	/* read by billing.health through current_setting */

/*
 * lock_rows runs a statement that locks rows ($1 of type argtype): a
 * SELECT ... FOR ..., or on Citus an UPDATE (expect: its SPI result code),
 * each lock wait bounded by timeout_ms.  Returns false when a wait timed
 * out (the statement is undone, nothing is locked by it), true otherwise;
 * any other error is raised.  In a subtransaction, so that the caller can
 * say which schedule or selection timed out.  generic: the statement
 * planned without the parameter's value (billing_spi_exec_generic: an
 * array of a million ids, planned for its value, took 350 MB of planner
 * memory), where nothing picks the rows' shards by the value.  Needs an
 * SPI connection.
 */
static bool
lock_rows(const char *sql, Oid argtype, Datum arg, bool generic, int expect, int timeout_ms)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool locked = false;
	bool		citus = billing_citus_here();
	char	   *caller_lock_timeout = citus ? pstrdup(GetConfigOption("lock_timeout", false, false)) : NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		int			guc_level = NewGUCNestLevel();

		(void) set_config_option("lock_timeout", psprintf("%d", timeout_ms),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		/*
		 * On Citus a row of a distributed table is locked on the worker
		 * that holds it: the bound goes there too, and the caller's own
		 * value back once the rows are locked (a timeout takes it back
		 * with the subtransaction).
		 */
		if (citus)
			billing_set_on_shards("lock_timeout", psprintf("%d", timeout_ms));
		if (generic)
			(void) billing_spi_exec_generic(sql, 1, &argtype, &arg, NULL, false, 0,
											expect, "locking rows");
		else
			(void) billing_spi_exec(sql, 1, &argtype, &arg, NULL, false, 0,
									expect, "locking rows");
		if (citus)
			billing_set_on_shards("lock_timeout", caller_lock_timeout);
		AtEOXact_GUC(true, guc_level);
		/* the row locks stay with the transaction */
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		locked = true;
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
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return locked;
}

/*
 * billing_lock_rows: lock_rows of a SELECT ... FOR ..., waiting at most
 * billing.lock_timeout
 */
bool
billing_lock_rows(const char *sql, Oid argtype, Datum arg, bool generic)
{
	return lock_rows(sql, argtype, arg, generic, SPI_OK_SELECT, lock_timeout_ms);
}

/*
 * schedule_label names a schedule in a message: its code when the calling
 * role may see its brand, otherwise nothing of it (issue_drafts runs the
 * schedules of every brand, whoever calls it).
 */
static char *
schedule_label(int64 schedule_id, BillingSqlApi api)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(schedule_id)};
	bool		isnull;

	(void) billing_spi_exec(billing_api_sql(api, "SELECT pg_catalog.format('billing schedule \"%s\"', s.code)"
											" FROM billing.schedule s, billing_internal.caller_brands() AS v(visible)"
											" WHERE s.id = $1 AND (v.visible IS NULL OR s.brand_id = ANY (v.visible))"),
							1, types, args, NULL, true, 1,
							SPI_OK_SELECT, "naming the schedule");
	if (SPI_processed != 1)
		return pstrdup("a billing schedule of a brand the calling role has no grant for");
	return TextDatumGetCString(billing_spi_column(0, "format", &isnull));
}

/*
 * placed_on_citus: billing's tables are Citus tables here (placed by
 * billing.distribute(): billing_internal.on_citus).  Needs an SPI
 * connection.
 */
static bool
placed_on_citus(void)
{
	bool		isnull;
	Datum		placed;

	if (!billing_citus_here())
		return false;
	(void) billing_spi_exec("SELECT billing_internal.on_citus()", 0, NULL, NULL, NULL, true, 1,
							SPI_OK_SELECT, "reading where billing is placed");
	placed = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(placed);
}

/*
 * declare_writes_commutative: Citus may let this session's writes of
 * reference tables overlap other sessions' (citus.all_modifications_
 * commutative), from a GUC nest level of its own, which it returns: the
 * caller closes it (AtEOXact_GUC) when those writes are done, or an error
 * closes it with the (sub)transaction
 */
static int
declare_writes_commutative(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("citus.all_modifications_commutative", "on",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/*
 * billing_lock_schedule takes the schedule's run lock: its row, FOR NO KEY
 * UPDATE, until the end of the transaction.  document_guard takes the row
 * FOR SHARE, so a document change and a run exclude each other while
 * document changes do not; foreign keys (FOR KEY SHARE) do not conflict
 * with either.  Row locks need UPDATE rights and pass row level security,
 * so no reader, and no role of another brand, can hold this lock (the
 * advisory keys of 0.2 were a namespace every login role shared).
 *
 * Placed on Citus (billing.distribute()), the schedule is a reference
 * table with a copy (placement) on every node, and Citus would take a
 * SELECT ... FOR NO KEY UPDATE on the coordinator's copy only, under a
 * lock on the whole table (every schedule's runs in turn), while a
 * document's guard runs on the worker that holds the document.  So the
 * run locks the row of this node's copy directly, then updates the row to
 * itself: Citus writes it on every copy, in this transaction, which takes
 * the same row lock (FOR NO KEY UPDATE) on each node; document_guard on a
 * shard takes the row FOR SHARE on its own node's copy, so the two meet on
 * every node where a document can be.
 * The write is declared commutative (citus.all_modifications_commutative,
 * for this statement only): it changes nothing, and it is keyed by the
 * schedule's id, so Citus need not serialize it with other schedules'
 * runs; two runs of one schedule still meet on the row.
 *
 * wait: wait at most billing.lock_timeout, then raise 55P03 naming the
 * schedule (or at once when billing.run_lock_wait is off); !wait: return
 * false at once when the lock is taken (SKIP LOCKED; on Citus a wait of
 * 1 ms).  api: the version of the extension's SQL that called
 * (sql_api.h).  Needs an SPI connection.
 */
bool
billing_lock_schedule(int64 schedule_id, bool wait, BillingSqlApi api)
{
	static const char *const lock_sql =
		"SELECT s.id FROM billing.schedule s WHERE s.id = $1 FOR NO KEY UPDATE";
	static const char *const placed_lock_sql =
		"UPDATE billing.schedule s SET name = s.name WHERE s.id = $1";
	bool		locked;

	if (api >= BILLING_SQL_0_3 && placed_on_citus())
	{
		int			level;
		int			timeout = (!wait || !run_lock_wait) ? 1 : lock_timeout_ms;
		bool		isnull;
		Datum		copy;

		/*
		 * First the row of this node's own copy, outside Citus: Citus
		 * writes the copies in parallel, so two runs of one schedule that
		 * went straight to the UPDATE could each take a different copy
		 * first and deadlock (Citus suite parallel); taken here first, the
		 * second waits for the first on one row.
		 */
		(void) billing_spi_exec("SELECT billing_internal.local_copy('billing.schedule')", 0, NULL, NULL, NULL,
								true, 1, SPI_OK_SELECT, "locking the schedule");
		copy = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		locked = isnull ||
			lock_rows(psprintf("SELECT s.id FROM %s s WHERE s.id = $1 FOR NO KEY UPDATE",
							   TextDatumGetCString(copy)),
					  INT8OID, Int64GetDatum(schedule_id), false, SPI_OK_SELECT, timeout);
		level = declare_writes_commutative();
		locked = locked &&
			lock_rows(placed_lock_sql, INT8OID, Int64GetDatum(schedule_id), false, SPI_OK_UPDATE, timeout);
		AtEOXact_GUC(true, level);
	}
	else if (!wait || !run_lock_wait)
	{
		Oid			types[1] = {INT8OID};
		Datum		args[1] = {Int64GetDatum(schedule_id)};

		(void) billing_spi_exec("SELECT s.id FROM billing.schedule s WHERE s.id = $1"
								" FOR NO KEY UPDATE SKIP LOCKED", 1, types, args, NULL, false, 0,
								SPI_OK_SELECT, "locking the schedule");
		locked = SPI_processed > 0;
	}
	else
		locked = billing_lock_rows(lock_sql, INT8OID, Int64GetDatum(schedule_id), false);
	if (!locked && !wait)
		return false;
	if (!locked && !run_lock_wait)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("another invoice run of %s is in progress", schedule_label(schedule_id, api)),
				 errhint("Wait for it to finish, or SET billing.run_lock_wait = on to queue behind it.")));
	if (!locked)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("%s stayed locked longer than billing.lock_timeout (%d ms): its invoice run did not start",
						schedule_label(schedule_id, api), lock_timeout_ms),
				 errdetail("Another run of the schedule, a change of a document of one of its buyers, or a transaction that locked the schedule's row holds it."),
				 errhint("Try the run again later (issue_drafts catches up), or raise billing.lock_timeout; pg_locks shows who holds the row.")));

	/*
	 * Called by the SQL of 0.1 or 0.2 (until ALTER EXTENSION UPDATE): also
	 * the advisory key 'bill' + schedule id that their document_guard takes
	 */
	if (api < BILLING_SQL_0_3)
	{
		int32		c,
					k;

		billing_v01_lock_key(schedule_id, &c, &k);
		DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(c), Int32GetDatum(k));
	}
	return true;
}

/*
 * lock_schedule takes the schedule's run lock for a run, bounded.  Its
 * messages name the schedule only to a caller of its brand
 * (schedule_label), so the code is not used.
 */
static void
lock_schedule(int64 schedule_id, const char *schedule_code, BillingSqlApi api)
{
	(void) schedule_code;
	(void) billing_lock_schedule(schedule_id, true, api);
}

/*
 * billing_lock_buyers(buyer_ids, action) takes the locks of a bulk action on
 * invoices (billing.lock_invoices, cancel_run): the rows of their buyers,
 * FOR NO KEY UPDATE in id order, so that two actions on the same buyer
 * take turns and, taking their buyers in the same order, cannot deadlock;
 * a confirm's balance updates never wait on another action's.  Documents
 * and invoices that refer to a buyer (FOR KEY SHARE) do not wait for it.
 * Each wait is bounded by billing.lock_timeout.
 *
 * On Citus the buyers are locked shard by shard, one statement a shard,
 * in shard id order and id order within it: Citus runs a FOR UPDATE only
 * on one shard at a time ("could not run distributed query with
 * FOR UPDATE/SHARE commands").  Every action takes them in that order
 * there, so they still cannot deadlock.
 */
PG_FUNCTION_INFO_V1(billing_lock_buyers);

static void
refuse_locked_buyers(const char *action)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("cannot %s invoices: their buyers stayed locked longer than billing.lock_timeout (%d ms)",
					action, lock_timeout_ms),
			 errdetail("Another action on invoices of the same buyers, or a transaction that changed one of those buyers, holds them."),
			 errhint("Nothing was changed; try again once it has finished, or raise billing.lock_timeout.")));
}

Datum
billing_lock_buyers(PG_FUNCTION_ARGS)
{
	ArrayType  *buyer_ids = PG_GETARG_ARRAYTYPE_P(0);
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			search_path_level;
	bool		isnull;

	if (ArrayGetNItems(ARR_NDIM(buyer_ids), ARR_DIMS(buyer_ids)) == 0)
		PG_RETURN_VOID();
	SPI_connect();
	search_path_level = billing_pin_search_path();
	if (placed_on_citus())
	{
		Oid			argtype = INT8ARRAYOID;
		Datum		arg = PointerGetDatum(buyer_ids);
		uint64		nshards;
		Datum	   *shard_buyers;

		/* the buyers of each shard, in id order; the shards in id order */
		(void) billing_spi_exec("SELECT array_agg(u.id ORDER BY u.id)"
								" FROM (SELECT DISTINCT x AS id FROM unnest($1) AS x) AS u"
								" GROUP BY get_shard_id_for_distribution_column('billing.buyer', u.id)"
								" ORDER BY get_shard_id_for_distribution_column('billing.buyer', u.id)",
								1, &argtype, &arg, NULL, true, 0, SPI_OK_SELECT, "locking rows");
		nshards = SPI_processed;
		shard_buyers = palloc(sizeof(Datum) * Max(nshards, 1));
		for (uint64 i = 0; i < nshards; i++)
			shard_buyers[i] = datumCopy(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull),
										false, -1);
		for (uint64 i = 0; i < nshards; i++)
			/* (planned for its ids: Citus picks the shard by them) */
			if (!billing_lock_rows("SELECT count(*) FROM (SELECT b.id FROM billing.buyer b WHERE b.id = ANY ($1)"
								   " ORDER BY b.id FOR NO KEY UPDATE OF b) AS locked",
								   INT8ARRAYOID, shard_buyers[i], false))
				refuse_locked_buyers(action);
	}
	/*
	 * counted, not returned: SPI would keep every locked row in memory
	 * (14.0 MB against 8.6 MB for 20,000 buyers; a bulk confirm at scale 10 locks 1,000,000)
	 */
	else if (!billing_lock_rows("SELECT count(*) FROM (SELECT b.id FROM billing.buyer b WHERE b.id = ANY ($1)"
								" ORDER BY b.id FOR NO KEY UPDATE OF b) AS locked",
								INT8ARRAYOID, PointerGetDatum(buyer_ids), true))
		refuse_locked_buyers(action);
	billing_unpin_search_path(search_path_level);
	SPI_finish();
	PG_RETURN_VOID();
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
 * 'running' (committed, for watchers).  propagate: an error of the run is
 * re-thrown once its subtransaction is rolled back, instead of recorded
 * (the first pass of issue_drafts_run, which then starts again in a
 * transaction of its own).  api: the version of the extension's SQL that
 * called; 0.1's has no billing.make_drafts (run_v01.c).
 */
static bool
execute_run(int64 run_id, bool propagate, BillingSqlApi api)
{
	/* make_drafts(run_id, brand_id, ...): named arguments, in this order */
	static const char *const make_drafts_sql =
		"SELECT * FROM billing_internal.make_drafts(run_id => $1, brand_id => $2, schedule_id => $3,"
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
	bool		isnull;
	volatile int commutative_level = 0;

	/*
	 * Placed on Citus, the run's writes of reference tables (its own run
	 * row, its snapshot, its log line and mails, all keyed by the run's id,
	 * under the schedule's lock) are declared commutative: Citus otherwise
	 * serializes every UPDATE of a reference table with every other
	 * session's write of it until commit, and runs of different schedules
	 * would queue behind each other's whole transaction.  Until the run is
	 * finished; an error takes it back with the (sub)transaction.
	 */
	if (api >= BILLING_SQL_0_3 && placed_on_citus())
		commutative_level = declare_writes_commutative();

	{
		/* the start time is a parameter: no volatile function in the UPDATE */
		Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
		Datum		startargs[2] = {Int64GetDatum(run_id),
		TimestampTzGetDatum(GetCurrentTimestamp())};

		(void) billing_spi_exec(
								"UPDATE billing.invoice_run SET status = 'running', started_at = coalesce(started_at, $2)"
								" WHERE id = $1 AND status IN ('queued', 'running')"
								" RETURNING brand_id, schedule_id, lower(period) AS first_day,"
								"           upper(period) AS day_after_cutoff,"
								"           CASE kind WHEN 'scheduled' THEN issue_at ELSE as_of END"
								"             AS applied_before,"
								"           cutoff_date AS cutoff, invoice_date",
								2, types, startargs, NULL, false, 1,
								SPI_OK_UPDATE_RETURNING, "starting the run");
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("invoice run %lld is not queued", (long long) run_id)));
		args[0] = Int64GetDatum(run_id);
		for (int i = 1; i < (int) lengthof(args); i++)
			args[i] = billing_spi_column(0, run_columns[i], &isnull);
		/* the datums are pass-by-value (int8, date, timestamptz) */
	}
	billing_progress_set_phase(run_id, DatumGetInt64(args[1]), RUN_PHASE_PLANNING);

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
		if (api == BILLING_SQL_0_1)
			billing_v01_make_drafts(args);
		else
		{
			(void) billing_spi_exec(billing_api_sql(api, make_drafts_sql), lengthof(args), argtypes, args,
									NULL, false, 0,
									SPI_OK_SELECT, "making the drafts");
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
		if (propagate || edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
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
		(void) billing_spi_exec(billing_api_sql(api, "SELECT billing_internal.finish_run(run_id => $1, ok => $2, error => $3,"
												" buyers => $4, invoices => $5, documents => $6,"
												" purchases => $7, tax => $8, billed => $9)"),
								lengthof(fargs), types, fargs, nulls, false, 0,
								SPI_OK_SELECT, "finishing the run");
	}
	billing_progress_set_phase(run_id, DatumGetInt64(args[1]), RUN_PHASE_DONE);
	if (commutative_level != 0)
		AtEOXact_GUC(true, commutative_level);
	return ok;
}

/*
 * run_isolated calls step(arg) in a subtransaction of its own.  Returns
 * NULL when it succeeded (the subtransaction is kept), or its error, copied
 * into the caller's memory context, when it failed (the subtransaction and
 * everything it did are rolled back).  A cancel or shutdown is re-thrown:
 * it stops the whole call, not one schedule.
 */
typedef void (*isolated_step) (void *arg);

static ErrorData *
run_isolated(isolated_step step, void *arg)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile error = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		step(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
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
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		error = edata;
	}
	PG_END_TRY();
	return error;
}

/* error_text is what a failed run records of an error: message and detail */
static char *
error_text(ErrorData *error)
{
	if (error->detail == NULL)
		return pstrdup(error->message);
	return psprintf("%s (%s)", error->message, error->detail);
}

/* one schedule's planning step: its lock, then its due runs */
typedef struct SchedulePlan
{
	int64		schedule_id;
	const char *schedule_code;
	TimestampTz as_of;
	MemoryContext resultcontext;	/* where queued[] is kept */
	int			nqueued;
	int64	   *queued;
	BillingSqlApi api;
} SchedulePlan;

static void
plan_schedule(void *arg)
{
	SchedulePlan *plan = (SchedulePlan *) arg;
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2] = {Int64GetDatum(plan->schedule_id), TimestampTzGetDatum(plan->as_of)};

	lock_schedule(plan->schedule_id, plan->schedule_code, plan->api);
	/* planned after the lock, so a run made meanwhile is seen */
	(void) billing_spi_exec(billing_api_sql(plan->api, "SELECT run_id FROM billing_internal.plan_scheduled_runs(schedule_id => $1, as_of => $2) AS run_id"),
							2, types, args, NULL, false, 0,
							SPI_OK_SELECT, "planning scheduled runs");
	plan->nqueued = (int) SPI_processed;
	plan->queued = MemoryContextAlloc(plan->resultcontext, sizeof(int64) * Max(plan->nqueued, 1));
	for (int j = 0; j < plan->nqueued; j++)
	{
		bool		isnull;

		plan->queued[j] = DatumGetInt64(billing_spi_column(j, "run_id", &isnull));
	}
}

/* one run's step: execute_run (a run that fails inside records itself) */
typedef struct QueuedRun
{
	int64		run_id;
	bool		propagate;
	BillingSqlApi api;
} QueuedRun;

static void
execute_queued_run(void *arg)
{
	QueuedRun  *run = (QueuedRun *) arg;

	execute_run(run->run_id, run->propagate, run->api);
}

/* what record_failure records, and the run id it gives back */
typedef struct ScheduleFailure
{
	int64		schedule_id;
	int64		run_id;			/* 0: planning failed, a run row is made */
	TimestampTz as_of;
	const char *error;
} ScheduleFailure;

static void
record_failure(void *arg)
{
	ScheduleFailure *failure = (ScheduleFailure *) arg;
	Oid			types[4] = {INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID};
	Datum		args[4] = {Int64GetDatum(failure->schedule_id), Int64GetDatum(failure->run_id),
	TimestampTzGetDatum(failure->as_of), CStringGetTextDatum(failure->error)};
	char		nulls[4] = {' ', failure->run_id == 0 ? 'n' : ' ', ' ', ' '};
	bool		isnull;

	/* 0.3's: before, there is none, and the failure is a WARNING */
	(void) billing_spi_exec("SELECT billing_internal.fail_scheduled_run(schedule_id => $1, run_id => $2,"
							" as_of => $3, error => $4) AS run_id",
							4, types, args, nulls, false, 1,
							SPI_OK_SELECT, "recording a failed run");
	failure->run_id = DatumGetInt64(billing_spi_column(0, "run_id", &isnull));
}

/*
 * schedule_failed records a schedule's failure as its failed run (the
 * planned run, or a new one for the period when planning failed) and
 * returns the run id, or 0 when even that failed: then a WARNING, and a
 * planned run left queued is failed by the next billing.fail_dead_runs.
 * (So it is too in a database whose extension SQL is older than 0.3, with
 * no fail_scheduled_run yet, between installing this library and ALTER
 * EXTENSION billing UPDATE: the other schedules are billed all the same.)
 */
static int64
schedule_failed(int64 schedule_id, const char *schedule_code, int64 run_id,
				TimestampTz as_of, ErrorData *error)
{
	ScheduleFailure failure = {schedule_id, run_id, as_of, error_text(error)};
	ErrorData  *again = run_isolated(record_failure, &failure);

	if (again == NULL)
		return failure.run_id;
	ereport(WARNING,
			(errcode(again->sqlerrcode),
			 errmsg("could not record the failure of billing schedule \"%s\": %s",
					schedule_code, again->message),
			 errdetail("The schedule failed with: %s", failure.error)));
	return 0;
}

/*
 * issue_all(as_of, propagate) makes every due scheduled run: for each
 * enabled schedule in use, under its lock, plan_scheduled_runs queues one
 * run per due period without one, and each is executed in turn.  Each
 * schedule's planning and each run is a subtransaction: an error fails
 * that schedule (its run row says why) and the next schedule goes on; with
 * propagate, the first such error is re-thrown instead.  only_schedule:
 * that schedule alone (a parallel issue's worker), 0 for all.  Returns the
 * ids of the runs it made, failed ones included.
 */
/* set when issue_all(propagate) re-throws a schedule's error (not the call's) */
static bool schedule_error_propagated = false;

/* propagate_schedule_error re-throws a schedule's error, marked as one */
static pg_attribute_noreturn() void
propagate_schedule_error(ErrorData *error)
{
	schedule_error_propagated = true;
	ReThrowError(error);
}

static ArrayType *
issue_all(TimestampTz as_of, bool propagate, BillingSqlApi api, int64 only_schedule)
{
	Oid			list_types[1] = {INT8OID};
	Datum		list_args[1] = {Int64GetDatum(only_schedule)};
	MemoryContext callcontext = CurrentMemoryContext;
	int64	   *schedule_ids;
	char	  **schedule_codes;
	int			nschedules;
	Datum	   *run_ids;
	int			nruns = 0;
	int			maxruns = 16;
	int			search_path_level;

	SPI_connect();
	search_path_level = billing_pin_search_path();

	/* the schedules in use: no subquery correlated with the small table */
	(void) billing_spi_exec("SELECT s.id AS schedule_id, s.code AS schedule_code FROM billing.schedule s"
							" WHERE s.enabled"
							"   AND s.id IN (SELECT b.schedule_id FROM billing.buyer b"
							"                WHERE b.schedule_id IS NOT NULL)"
							"   AND ($1 = 0 OR s.id = $1)"
							" ORDER BY s.id",
							1, list_types, list_args, NULL, true, 0, SPI_OK_SELECT, "listing schedules");
	nschedules = (int) SPI_processed;
	schedule_ids = MemoryContextAlloc(callcontext, sizeof(int64) * Max(nschedules, 1));
	schedule_codes = MemoryContextAlloc(callcontext, sizeof(char *) * Max(nschedules, 1));
	for (int i = 0; i < nschedules; i++)
	{
		bool		isnull;
		Datum		code = billing_spi_column(i, "schedule_code", &isnull);

		schedule_ids[i] = DatumGetInt64(billing_spi_column(i, "schedule_id", &isnull));
		schedule_codes[i] = MemoryContextStrdup(callcontext, TextDatumGetCString(code));
	}
	run_ids = MemoryContextAlloc(callcontext, sizeof(Datum) * maxruns);

	for (int i = 0; i < nschedules; i++)
	{
		SchedulePlan plan = {schedule_ids[i], schedule_codes[i], as_of, callcontext, 0, NULL, api};
		ErrorData  *error;
		int64		failed_run[1];	/* the queue of a schedule whose planning failed */

		CHECK_FOR_INTERRUPTS();
		error = run_isolated(plan_schedule, &plan);
		if (error != NULL && propagate)
			propagate_schedule_error(error);
		if (error != NULL)
		{
			/* nothing was planned: the schedule's failed run is a new row */
			failed_run[0] = schedule_failed(schedule_ids[i], schedule_codes[i], 0, as_of, error);
			if (failed_run[0] == 0)
				continue;
			plan.queued = failed_run;
			plan.nqueued = lengthof(failed_run);
		}
		for (int j = 0; j < plan.nqueued; j++)
		{
			if (error == NULL)
			{
				/* the run's own failures are recorded by execute_run */
				QueuedRun	run = {plan.queued[j], propagate, api};
				ErrorData  *run_error = run_isolated(execute_queued_run, &run);

				if (run_error != NULL && propagate)
					propagate_schedule_error(run_error);
				if (run_error != NULL)
					(void) schedule_failed(schedule_ids[i], schedule_codes[i], plan.queued[j],
										   as_of, run_error);
			}
			if (nruns == maxruns)
			{
				maxruns *= 2;
				run_ids = repalloc(run_ids, sizeof(Datum) * maxruns);
			}
			run_ids[nruns++] = Int64GetDatum(plan.queued[j]);
		}
	}

	billing_unpin_search_path(search_path_level);
	SPI_finish();
	return construct_array(run_ids, nruns, INT8OID, sizeof(int64),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * billing_issue_drafts_internal(as_of): issue_all, every failure recorded
 * as its schedule's failed run in this transaction.  What the committed
 * second pass of issue_drafts_run executes in its background worker.
 */
PG_FUNCTION_INFO_V1(billing_issue_drafts_internal);

Datum
billing_issue_drafts_internal(PG_FUNCTION_ARGS)
{
	refuse_snapshot_isolation();
	PG_RETURN_ARRAYTYPE_P(issue_all(PG_GETARG_TIMESTAMPTZ(0), false, BILLING_SQL_0_3, 0));
}

/*
 * billing_issue_schedule_internal(as_of, schedule_id): issue_all of one
 * schedule, its failures recorded: what a worker of a parallel issue
 * executes, in a transaction of its own, for each schedule it is given.
 */
PG_FUNCTION_INFO_V1(billing_issue_schedule_internal);

Datum
billing_issue_schedule_internal(PG_FUNCTION_ARGS)
{
	int64		schedule_id = PG_GETARG_INT64(1);

	refuse_snapshot_isolation();
	if (schedule_id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schedule id must be positive, got %lld", (long long) schedule_id),
				 errhint("Pass the id of a billing schedule.")));
	PG_RETURN_ARRAYTYPE_P(issue_all(PG_GETARG_TIMESTAMPTZ(0), false, BILLING_SQL_0_3, schedule_id));
}

/*
 * issue_drafts_internal: the same, for the released 0.1/0.2 scripts
 * (frozen; their issue_drafts calls it), which share the symbol
 */
PG_FUNCTION_INFO_V1(issue_drafts_internal);

Datum
issue_drafts_internal(PG_FUNCTION_ARGS)
{
	refuse_snapshot_isolation();
	PG_RETURN_ARRAYTYPE_P(issue_all(PG_GETARG_TIMESTAMPTZ(0), false, billing_released_sql_api(), 0));
}

/* fail_dead_runs calls billing.fail_dead_runs() (dead_runs.sql) */
static void
fail_dead_runs(void)
{
	int			level;

	SPI_connect();
	level = billing_pin_search_path();
	(void) billing_spi_exec("SELECT billing.fail_dead_runs()", 0, NULL, NULL, NULL, false, 0,
							SPI_OK_SELECT, "failing dead runs");
	billing_unpin_search_path(level);
	SPI_finish();
}

/*
 * billing_issue_drafts_run(as_of, raise_on_failure): what billing.issue_drafts
 * does, and how a failed run is both committed and an error (issue 12).
 *
 * Without raise_on_failure: billing.fail_dead_runs, then issue_all in
 * this transaction, each failure recorded (0.2's meaning).
 *
 * With it, the first pass is the same work in a subtransaction, in this
 * transaction, so that a night without failure is one transaction that
 * sees what its caller wrote and waits where others see it (pg_locks).
 * At the first error the pass is rolled back, whole, and the work is done
 * again by a background worker in a transaction of its own
 * (billing_commit_issue, committed.c), which records each failure and
 * commits every schedule's runs; the caller (billing.issue_drafts) then
 * raises, naming the failed ones, and whatever becomes of this transaction
 * the healthy schedules' drafts and the failed runs stay committed.
 * Returns the ids of the runs made (by the worker, after a failure).
 */
PG_FUNCTION_INFO_V1(billing_issue_drafts_run);

/* the first pass: fail_dead_runs and issue_all, the first error re-thrown */
typedef struct FirstPass
{
	TimestampTz as_of;
	ArrayType  *result;
} FirstPass;

static void
first_pass(void *arg)
{
	FirstPass  *pass = (FirstPass *) arg;

	fail_dead_runs();
	pass->result = issue_all(pass->as_of, true, BILLING_SQL_0_3, 0);
}

/*
 * parallel_issue: with billing.parallel_runs > 1, the schedules in use
 * handed to parallel workers (billing_parallel_issue), each schedule's
 * runs committed by its worker; NULL when the call is to issue serially
 * instead: fewer than two schedules in use, or no worker slot free.
 */
static ArrayType *
parallel_issue(TimestampTz as_of)
{
	MemoryContext callcontext = CurrentMemoryContext;
	int64	   *schedules;
	int64	   *brands;
	int			n;
	int			search_path_level;

	SPI_connect();
	search_path_level = billing_pin_search_path();
	(void) billing_spi_exec("SELECT s.id AS schedule_id, s.brand_id FROM billing.schedule s"
							" WHERE s.enabled"
							"   AND s.id IN (SELECT b.schedule_id FROM billing.buyer b"
							"                WHERE b.schedule_id IS NOT NULL)"
							" ORDER BY s.id",
							0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT, "listing schedules");
	n = (int) SPI_processed;
	schedules = MemoryContextAlloc(callcontext, sizeof(int64) * Max(n, 1));
	brands = MemoryContextAlloc(callcontext, sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		schedules[i] = DatumGetInt64(billing_spi_column(i, "schedule_id", &isnull));
		brands[i] = DatumGetInt64(billing_spi_column(i, "brand_id", &isnull));
	}
	billing_unpin_search_path(search_path_level);
	SPI_finish();
	if (n < 2)
		return NULL;
	return billing_parallel_issue(as_of, schedules, brands, n, parallel_runs,
								  billing_max_workers_per_brand(), lock_timeout_ms);
}

Datum
billing_issue_drafts_run(PG_FUNCTION_ARGS)
{
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(0);
	bool		raise_on_failure = PG_GETARG_BOOL(1);
	FirstPass	pass = {as_of, NULL};
	ErrorData  *first_error;

	refuse_snapshot_isolation();
	/* (a second pass would commit what a read-only caller asked for) */
	PreventCommandIfReadOnly("issue_drafts");

	/*
	 * In parallel only from a transaction that has written nothing yet: the
	 * workers see what is committed, and a transaction that wrote documents
	 * holds their schedules' locks (document_guard), so it is issued
	 * serially, in its own transaction, seeing its own writes.
	 */
	if (parallel_runs > 1 && !TransactionIdIsValid(GetTopTransactionIdIfAny()))
	{
		ArrayType  *result = parallel_issue(as_of);

		if (result != NULL)
			PG_RETURN_ARRAYTYPE_P(result);
	}
	if (!raise_on_failure)
	{
		fail_dead_runs();
		PG_RETURN_ARRAYTYPE_P(issue_all(as_of, false, BILLING_SQL_0_3, 0));
	}

	schedule_error_propagated = false;
	first_error = run_isolated(first_pass, &pass);
	/* an error of the call itself, not of a schedule: the call fails, whole */
	if (first_error != NULL && !schedule_error_propagated)
		ReThrowError(first_error);
	if (first_error != NULL)
	{
		/* the error may be another brand's: for the server log only */
		ereport(LOG_SERVER_ONLY,
				(errmsg("billing: issue_drafts as of %s met an error and issues again in a transaction of its own: %s",
						timestamptz_to_str(as_of), first_error->message)));
		pass.result = billing_commit_issue(as_of, billing_lock_timeout_ms());
	}
	PG_RETURN_ARRAYTYPE_P(pass.result);
}

/*
 * invoice_run(run_id, api) executes one queued run (a rerun) under its
 * schedule's lock; returns whether it completed.
 */
static bool
invoice_run(int64 run_id, BillingSqlApi api)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(run_id)};
	int64		schedule_id;
	char	   *schedule_code;
	bool		isnull;
	bool		ok;
	int			search_path_level;

	refuse_snapshot_isolation();
	SPI_connect();
	search_path_level = billing_pin_search_path();
	(void) billing_spi_exec("SELECT r.schedule_id, s.code AS schedule_code FROM billing.invoice_run r"
							" JOIN billing.schedule s ON s.id = r.schedule_id WHERE r.id = $1",
							1, types, args, NULL, true, 1,
							SPI_OK_SELECT, "finding the run");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("invoice run %lld does not exist", (long long) run_id)));
	schedule_id = DatumGetInt64(billing_spi_column(0, "schedule_id", &isnull));
	schedule_code = TextDatumGetCString(billing_spi_column(0, "schedule_code", &isnull));

	lock_schedule(schedule_id, schedule_code, api);
	ok = execute_run(run_id, false, api);
	billing_unpin_search_path(search_path_level);
	SPI_finish();
	return ok;
}

/* billing_run_invoice_run(run_id): invoice_run, called by this version's SQL */
PG_FUNCTION_INFO_V1(billing_run_invoice_run);

Datum
billing_run_invoice_run(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(invoice_run(PG_GETARG_INT64(0), BILLING_SQL_0_3));
}

/* run_invoice_run: the same, for the released 0.1/0.2 scripts (frozen) */
PG_FUNCTION_INFO_V1(run_invoice_run);

Datum
run_invoice_run(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(invoice_run(PG_GETARG_INT64(0), billing_released_sql_api()));
}

/*
 * billing_server_log(message): a LOG line for the server log only, never sent to the
 * client whatever its client_min_messages (it may name every brand's runs)
 */
PG_FUNCTION_INFO_V1(billing_server_log);

Datum
billing_server_log(PG_FUNCTION_ARGS)
{
	ereport(LOG_SERVER_ONLY,
			(errmsg("%s", text_to_cstring(PG_GETARG_TEXT_PP(0)))));
	PG_RETURN_VOID();
}

/*
 * billing_raise_error(sqlstate, message, detail, hint): an ERROR without the
 * CONTEXT lines of the internal functions and queries it is raised from
 * (the error context stack is left out for it): what an API function
 * raises for its caller, who wrote none of those frames.
 */
PG_FUNCTION_INFO_V1(billing_raise_error);

Datum
billing_raise_error(PG_FUNCTION_ARGS)
{
	char	   *sqlstate = PG_ARGISNULL(0) ? "P0001" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *message = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *detail = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *hint = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));

	if (strlen(sqlstate) != 5 || strspn(sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5)
		elog(ERROR, "billing: invalid SQLSTATE \"%s\"", sqlstate);
	/* restored by whoever catches the error (PG_TRY, the main loop) */
	error_context_stack = NULL;
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4])),
			 errmsg_internal("%s", message),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0));
	PG_RETURN_VOID();
}

/* billing_lock_timeout_ms: billing.lock_timeout, for committed.c */
int
billing_lock_timeout_ms(void)
{
	return lock_timeout_ms;
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
	DefineCustomIntVariable("billing.parallel_runs",
							"How many schedules issue_drafts issues at once, each by a background worker of its own.",
							"1 issues them one after another in the caller's transaction; above 1 each schedule's runs are committed by its worker (at most billing.max_workers_per_brand of one brand at once).",
							&parallel_runs,
							1, 1, 64,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("billing.report_every_brand",
							 "Whether a failed run's error names every brand's failures, not only the caller's brands'.",
							 "For the pg_cron job's role (README): ALTER ROLE billing_cron SET billing.report_every_brand = on.",
							 &report_every_brand,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("billing.health_draft_age",
							"Age past which billing.health reports a draft invoice.",
							NULL,
							&health_draft_age_s,
							7 * 24 * 3600, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("billing.lock_timeout",
							"How long an invoice run waits for its schedule's lock, and a bulk action for its buyers'.",
							"Past it the run (or action) fails with SQLSTATE 55P03; 0 waits without limit.",
							&lock_timeout_ms,
							10000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
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
