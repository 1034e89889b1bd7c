/*-------------------------------------------------------------------------
 * run.c
 *	  The invoice run driver: issue_drafts (every due period of every
 *	  enabled schedule) and rerun_invoice_run (the last closed period of one
 *	  schedule).  Each run is one set-based SQL statement through SPI with
 *	  parameters, inside a subtransaction so that a failed run leaves its
 *	  run row 'failed' with the error, and nothing else.
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
PG_FUNCTION_INFO_V1(preview_drafts);

/* advisory lock class of schedule locks: 'bill' */
#define SCHEDULE_LOCK_CLASS 0x62696C6C

/* billing.run_lock_wait: wait for another run of the schedule, or refuse */
static bool run_lock_wait = true;

/*
 * billing.run_work_mem: work_mem for the run statement.  Its hash
 * aggregates over numeric sums grow large; a modest fixed budget keeps a
 * run's memory bounded whatever the session's work_mem, and measured faster
 * than a large one (test/bench/issue.sh).
 */
static int	run_work_mem = 16 * 1024;	/* kB */

#define DRAFTS_CTES \
"WITH cfg AS (" \
"  SELECT s.grouping, s.override_due_rule, s.due_rule, br.currency," \
"         br.currency_scale, br.tax_rounding" \
"  FROM billing.schedule s JOIN billing.brand br ON br.id = s.brand_id" \
"  WHERE s.id = $3)," \
" buyers AS MATERIALIZED (" \
"  SELECT b.id AS buyer_id, b.billing_balance, b.default_due_rule, b.default_bank_account_id" \
"  FROM billing.buyer b" \
"  WHERE b.brand_id = $2 AND b.schedule_id = $3 AND b.schedule_applied_at < $6)," \
" eligible AS MATERIALIZED (" \
"  SELECT d.buyer_id, d.id AS document_id, d.tax_rate," \
"         CASE d.kind WHEN 'delivery_invoice' THEN d.amount WHEN 'payment' THEN 0" \
"                     ELSE -d.amount END AS net," \
"         CASE d.kind WHEN 'payment' THEN d.amount ELSE 0 END AS deposit," \
"         CASE WHEN (SELECT grouping FROM cfg) = 'document' THEN d.id ELSE 0 END AS group_key" \
"  FROM billing.document d JOIN billing.buyer b ON b.id = d.buyer_id" \
"  WHERE d.brand_id = $2 AND d.document_date >= $4 AND d.document_date < $5" \
"    AND d.id >= $9" \
"    AND b.brand_id = $2 AND b.schedule_id = $3 AND b.schedule_applied_at < $6" \
"    AND (d.billable OR d.kind <> 'delivery_invoice') AND NOT d.never_invoice" \
"    AND NOT EXISTS (SELECT 1 FROM billing.document_link l" \
"                    WHERE l.buyer_id = d.buyer_id AND l.document_id = d.id" \
"                      AND l.document_id >= $9))," \
" per_rate AS (" \
"  SELECT e.buyer_id, e.group_key, e.tax_rate, sum(e.net) AS net, sum(e.deposit) AS deposit," \
"         count(*) AS documents" \
"  FROM eligible e GROUP BY e.buyer_id, e.group_key, e.tax_rate)," \
" taxed AS MATERIALIZED (" \
"  SELECT r.buyer_id, r.group_key, r.tax_rate, r.net, r.deposit, r.documents," \
"         CASE WHEN r.tax_rate IS NULL THEN 0" \
"              ELSE billing.round_amount(r.net * r.tax_rate, cfg.currency_scale, cfg.tax_rounding) END AS tax" \
"  FROM per_rate r CROSS JOIN cfg)," \
" per_group AS (" \
"  SELECT t.buyer_id, t.group_key, sum(t.net) AS purchases, sum(t.tax) AS tax," \
"         sum(t.deposit) AS deposit, sum(t.documents) AS documents" \
"  FROM taxed t GROUP BY t.buyer_id, t.group_key)," \
" drafts AS (" \
"  SELECT b.buyer_id, g.group_key," \
"         CASE WHEN cfg.grouping = 'document' AND g.group_key IS NOT NULL THEN 0" \
"              ELSE b.billing_balance END AS previous_billed," \
"         coalesce(g.deposit, 0) AS deposit, coalesce(g.purchases, 0) AS purchases," \
"         coalesce(g.tax, 0) AS tax, coalesce(g.documents, 0)::integer AS documents," \
"         CASE WHEN cfg.override_due_rule THEN cfg.due_rule ELSE b.default_due_rule END AS due_rule," \
"         b.default_bank_account_id AS bank_account_id" \
"  FROM buyers b CROSS JOIN cfg" \
"  LEFT JOIN per_group g ON g.buyer_id = b.buyer_id" \
"  WHERE g.buyer_id IS NOT NULL" \
"     OR (b.billing_balance <> 0 AND NOT EXISTS (" \
"          SELECT 1 FROM billing.invoice i" \
"          WHERE i.buyer_id = b.buyer_id AND i.cutoff_date = $7" \
"            AND i.status IN ('draft', 'confirmed', 'quarantined'))))"

/*
 * The drafts of one run.  Parameters:
 *	$1 run id, $2 brand id, $3 schedule id, $4 first day of the period,
 *	$5 day after the cut-off, $6 buyers whose schedule was applied before
 *	this moment, $7 cut-off date, $8 invoice date, $9 the smallest id of the
 *	period's documents (see first_document_id).
 *
 * A document is eligible when its date is in the period, it is not linked
 * to any invoice, it is not closed for good, and (deliveries) billable.  A
 * buyer gets a draft for eligible documents, or for a non-zero balance when
 * it has no other live invoice for the period.  Tax is rounded once per
 * invoice and rate.  Invoices, tax lines and links are written by the same
 * statement, so a run is one pass over the period's documents.
 */
static const char *const run_sql =
DRAFTS_CTES ","
" numbered AS MATERIALIZED ("
"  SELECT nextval('billing.invoice_id_seq') AS invoice_id, d.* FROM drafts d),"
" new_invoice AS ("
"  INSERT INTO billing.invoice (buyer_id, id, brand_id, schedule_id, run_id, status, period,"
"         cutoff_date, invoice_date, due_rule, due_date, bank_account_id, currency,"
"         previous_billed, deposit, carried_over, purchases, tax, total, document_count)"
"  SELECT d.buyer_id, d.invoice_id, $2, $3, $1, 'draft', daterange($4, $5), $7, $8,"
"         d.due_rule, billing.due_date(d.due_rule, $7, $8), d.bank_account_id, cfg.currency,"
"         d.previous_billed, d.deposit, d.previous_billed - d.deposit, d.purchases, d.tax,"
"         d.previous_billed - d.deposit + d.purchases + d.tax, d.documents"
"  FROM numbered d CROSS JOIN cfg),"
" new_tax_line AS ("
"  INSERT INTO billing.invoice_tax_line (buyer_id, invoice_id, tax_rate, taxable_amount, tax)"
"  SELECT t.buyer_id, d.invoice_id, t.tax_rate, t.net, t.tax"
"  FROM taxed t JOIN numbered d ON d.buyer_id = t.buyer_id AND d.group_key = t.group_key"
"  WHERE t.tax_rate IS NOT NULL),"
" new_link AS ("
"  INSERT INTO billing.document_link (buyer_id, document_id, invoice_id)"
"  SELECT e.buyer_id, e.document_id, d.invoice_id"
"  FROM eligible e JOIN numbered d ON d.buyer_id = e.buyer_id AND d.group_key = e.group_key)"
" SELECT count(DISTINCT d.buyer_id)::integer, count(*)::integer,"
"        coalesce(sum(d.documents), 0)::integer, coalesce(sum(d.purchases), 0),"
"        coalesce(sum(d.tax), 0),"
"        coalesce(sum(d.previous_billed - d.deposit + d.purchases + d.tax), 0)"
" FROM numbered d";

/* The same drafts, computed and returned, writing nothing (a dry run) */
static const char *const preview_sql =
DRAFTS_CTES
" SELECT d.buyer_id, d.previous_billed, d.deposit, d.purchases, d.tax, d.documents,"
"        d.due_rule, d.bank_account_id"
" FROM drafts d ORDER BY d.buyer_id, d.group_key";

#define RUN_NARGS 9

/* the types of $1 ... $9 of run_sql and preview_sql */
static Oid	run_argtypes[RUN_NARGS] = {INT8OID, INT8OID, INT8OID, DATEOID, DATEOID,
TIMESTAMPTZOID, DATEOID, DATEOID, INT8OID};

/* lock_schedule takes the schedule's run lock, waiting or not */
static void
lock_schedule(int64 schedule_id, const char *schedule_code)
{
	Datum		class = Int32GetDatum(SCHEDULE_LOCK_CLASS);
	Datum		key = Int32GetDatum((int32) (schedule_id % PG_INT32_MAX));

	if (run_lock_wait)
	{
		DirectFunctionCall2(pg_advisory_xact_lock_int4, class, key);
		return;
	}
	if (!DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4, class, key)))
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
 * run's own transaction-level lock_schedule is then granted at once.
 */
bool
billing_lock_schedule_for_session(int64 schedule_id, bool wait)
{
	Datum		class = Int32GetDatum(SCHEDULE_LOCK_CLASS);
	Datum		key = Int32GetDatum((int32) (schedule_id % PG_INT32_MAX));

	if (wait)
	{
		DirectFunctionCall2(pg_advisory_lock_int4, class, key);
		return true;
	}
	return DatumGetBool(DirectFunctionCall2(pg_try_advisory_lock_int4, class, key));
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

/* spi_check fails loudly on an SPI error code (a bug, not user input) */
static void
spi_check(int rc, int expected, const char *what)
{
	if (rc != expected)
		elog(ERROR, "billing: %s failed: %s", what, SPI_result_code_string(rc));
}

/*
 * first_document_id is the smallest id among the period's documents of the
 * brand (0 when there are none).  Documents get ids in the order they are
 * written, so links to documents of earlier periods have smaller ids: the
 * run looks for existing links only from this id on, through a BRIN index
 * on document_link, and stays as fast with years of invoiced history as
 * without.  A document committed meanwhile with a smaller id is simply left
 * for the next run; the link's primary key still guards against billing
 * anything twice.  Not read-only: a read-only query would reuse the
 * caller's snapshot from before the run waited for its schedule's lock and
 * miss a document re-dated into the period meanwhile.
 */
static Datum
first_document_id(Datum brand_id, Datum first_day, Datum day_after_cutoff)
{
	Oid			types[3] = {INT8OID, DATEOID, DATEOID};
	Datum		args[3] = {brand_id, first_day, day_after_cutoff};
	bool		isnull;
	int			rc;

	rc = SPI_execute_with_args("SELECT coalesce(min(d.id), 0) FROM billing.document d"
							   " WHERE d.brand_id = $1 AND d.document_date >= $2"
							   " AND d.document_date < $3",
							   3, types, args, NULL, false, 1);
	spi_check(rc, SPI_OK_SELECT, "finding the period's first document");
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
}

/*
 * execute_run does one queued run: marks it running, makes its drafts in a
 * subtransaction, and finishes it as completed or failed.  Returns true when
 * the run completed.  The caller holds the schedule's lock.  A background
 * worker has already marked its run 'running' (committed, for watchers).
 */
static bool
execute_run(int64 run_id)
{
	Datum		args[RUN_NARGS];
	/* set inside PG_TRY, read after it */
	volatile Datum counts[6];
	volatile bool ok = false;
	char	   *volatile error_text = NULL;
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			rc;
	bool		isnull;

	{
		Oid			idtype[1] = {INT8OID};
		Datum		idarg[1] = {Int64GetDatum(run_id)};

		rc = SPI_execute_with_args(
								   "UPDATE billing.invoice_run SET status = 'running', started_at = coalesce(started_at, clock_timestamp())"
								   " WHERE id = $1 AND status IN ('queued', 'running')"
								   " RETURNING brand_id, schedule_id, lower(period), upper(period),"
								   "           CASE kind WHEN 'scheduled' THEN issue_at ELSE as_of END,"
								   "           cutoff_date, invoice_date",
								   1, idtype, idarg, NULL, false, 1);
		spi_check(rc, SPI_OK_UPDATE_RETURNING, "starting the run");
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("invoice run %lld is not queued", (long long) run_id)));
		args[0] = Int64GetDatum(run_id);
		for (int i = 1; i < RUN_NARGS - 1; i++)
			args[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i, &isnull);
		/* the datums are pass-by-value (int8, date, timestamptz) */
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		/* undone by AtEOXact_GUC below, or by the subtransaction's abort */
		int			guc_level = NewGUCNestLevel();

		args[8] = first_document_id(args[1], args[3], args[4]);

		(void) set_config_option("work_mem", psprintf("%d", run_work_mem),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);

		/*
		 * The CTE scans carry no statistics or order, so the planner
		 * overestimates the drafts and sorts a million links to merge-join
		 * them with their invoices; hashing the invoices is always the right
		 * shape here, and measured 12% faster on the whole run.
		 */
		(void) set_config_option("enable_mergejoin", "off",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		rc = SPI_execute_with_args(run_sql, RUN_NARGS, run_argtypes, args, NULL, false, 0);
		spi_check(rc, SPI_OK_SELECT, "making the drafts");
		AtEOXact_GUC(true, guc_level);
		for (int i = 0; i < 6; i++)
		{
			Datum		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);
			Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, i);

			/* copy out of the subtransaction's memory */
			MemoryContextSwitchTo(oldcontext);
			counts[i] = datumCopy(v, att->attbyval, att->attlen);
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
		Oid			types[9] = {INT8OID, BOOLOID, TEXTOID, INT4OID, INT4OID, INT4OID,
		NUMERICOID, NUMERICOID, NUMERICOID};
		Datum		fargs[9];
		char		nulls[9];

		memset(nulls, ok ? ' ' : 'n', sizeof(nulls));
		fargs[0] = Int64GetDatum(run_id);
		nulls[0] = ' ';
		fargs[1] = BoolGetDatum(ok);
		nulls[1] = ' ';
		fargs[2] = ok ? (Datum) 0 : CStringGetTextDatum(error_text);
		nulls[2] = ok ? 'n' : ' ';
		if (ok)
		{
			fargs[3] = counts[0];
			fargs[4] = counts[1];
			fargs[5] = counts[2];
			fargs[6] = counts[3];
			fargs[7] = counts[4];
			fargs[8] = counts[5];
		}
		rc = SPI_execute_with_args("SELECT billing.finish_run($1, $2, $3, $4, $5, $6, $7, $8, $9)",
								   9, types, fargs, nulls, false, 0);
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

	rc = SPI_execute("SELECT s.id, s.code FROM billing.schedule s"
					 " WHERE s.enabled AND EXISTS (SELECT 1 FROM billing.buyer b WHERE b.schedule_id = s.id)"
					 " ORDER BY s.id", true, 0);
	spi_check(rc, SPI_OK_SELECT, "listing schedules");
	nschedules = (int) SPI_processed;
	schedule_ids = MemoryContextAlloc(callcontext, sizeof(int64) * Max(nschedules, 1));
	schedule_codes = MemoryContextAlloc(callcontext, sizeof(char *) * Max(nschedules, 1));
	for (int i = 0; i < nschedules; i++)
	{
		bool		isnull;
		char	   *code = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		schedule_ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1, &isnull));
		schedule_codes[i] = MemoryContextStrdup(callcontext, code);
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
		rc = SPI_execute_with_args("SELECT billing.plan_scheduled_runs($1, $2)",
								   2, types, args, NULL, false, 0);
		spi_check(rc, SPI_OK_SELECT, "planning scheduled runs");
		nqueued = (int) SPI_processed;
		queued = palloc(sizeof(int64) * Max(nqueued, 1));
		for (int j = 0; j < nqueued; j++)
		{
			bool		isnull;

			queued[j] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j],
													SPI_tuptable->tupdesc, 1, &isnull));
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
	rc = SPI_execute_with_args("SELECT r.schedule_id, s.code FROM billing.invoice_run r"
							   " JOIN billing.schedule s ON s.id = r.schedule_id WHERE r.id = $1",
							   1, types, args, NULL, true, 1);
	spi_check(rc, SPI_OK_SELECT, "finding the run");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("invoice run %lld does not exist", (long long) run_id)));
	schedule_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	schedule_code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

	lock_schedule(schedule_id, schedule_code);
	ok = execute_run(run_id);
	billing_unpin_search_path(search_path_level);
	SPI_finish();
	PG_RETURN_BOOL(ok);
}

/*
 * preview_drafts(brand_id, schedule_id, first day, day after cut-off,
 * applied_before, cutoff, invoice_date) returns the drafts a run of that
 * period would make now, one row per draft, writing nothing.
 */
Datum
preview_drafts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		args[RUN_NARGS];
	char		nulls[RUN_NARGS];
	int			rc;
	int			search_path_level;

	InitMaterializedSRF(fcinfo, 0);
	memset(nulls, ' ', sizeof(nulls));
	args[0] = (Datum) 0;
	nulls[0] = 'n';				/* no run */
	for (int i = 1; i < RUN_NARGS - 1; i++)
	{
		if (PG_ARGISNULL(i - 1))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("preview_drafts argument %d must not be NULL", i)));
		args[i] = PG_GETARG_DATUM(i - 1);
	}

	SPI_connect();
	search_path_level = billing_pin_search_path();
	args[8] = first_document_id(args[1], args[3], args[4]);
	rc = SPI_execute_with_args(preview_sql, RUN_NARGS, run_argtypes, args, nulls, true, 0);
	spi_check(rc, SPI_OK_SELECT, "previewing the drafts");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[8];
		bool		isnull[8];

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, isnull);
		/* the tuplestore copies the values into its own memory */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	billing_unpin_search_path(search_path_level);
	SPI_finish();
	return (Datum) 0;
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
	DefineCustomIntVariable("billing.run_work_mem",
							"work_mem of the statement that makes a run's drafts.",
							"Bounds a run's memory whatever the session's work_mem.",
							&run_work_mem,
							16 * 1024, 64, MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
}
