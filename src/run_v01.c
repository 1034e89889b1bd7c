/*-------------------------------------------------------------------------
 * run_v01.c
 *	  Runs and previews while a database still has version 0.1's SQL.
 *
 *	  Installing this library makes it the library of every database with
 *	  the extension, also of those whose SQL is still 0.1 until a DBA runs
 *	  ALTER EXTENSION billing UPDATE.  Version 0.1 has no
 *	  billing.make_drafts or billing.draft_rows: its run statement was in
 *	  the library.  So that the nightly pg_cron run and the previews of
 *	  such a database keep working until it is updated, this file keeps
 *	  0.1's statement as it shipped, frozen.  It is not a second definition
 *	  of the rules: nothing here may change, and the file goes when 0.1 is
 *	  no longer supported.  Version 0.2 and later use src/sql/runs.sql.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "run_v01.h"
#include "search_path.h"
#include "spi_util.h"
#include "sql_api.h"

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
 * 0.1's run statement.  Parameters: $1 run id, $2 brand id, $3 schedule
 * id, $4 first day of the period, $5 day after the cut-off, $6 buyers whose
 * schedule was applied before this moment, $7 cut-off date, $8 invoice
 * date, $9 the smallest id of the period's documents.
 */
static const char *const v01_run_sql =
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
" SELECT count(DISTINCT d.buyer_id)::integer AS buyers, count(*)::integer AS invoices,"
"        coalesce(sum(d.documents), 0)::integer AS documents, coalesce(sum(d.purchases), 0) AS purchases,"
"        coalesce(sum(d.tax), 0) AS tax,"
"        coalesce(sum(d.previous_billed - d.deposit + d.purchases + d.tax), 0) AS billed"
" FROM numbered d";

static const char *const v01_preview_sql =
DRAFTS_CTES
" SELECT d.buyer_id, d.previous_billed, d.deposit, d.purchases, d.tax, d.documents,"
"        d.due_rule, d.bank_account_id"
" FROM drafts d ORDER BY d.buyer_id, d.group_key";

#define V01_NARGS 9

static Oid	v01_argtypes[V01_NARGS] = {INT8OID, INT8OID, INT8OID, DATEOID, DATEOID,
TIMESTAMPTZOID, DATEOID, DATEOID, INT8OID};

/*
 * billing_released_sql_api tells which released scripts call an entry
 * point they share (sql_api.h): 0.1's SQL has no billing.make_drafts,
 * 0.2's has.  Only the symbols of the released scripts ask; the SQL of
 * 0.3 calls symbols of its own.
 */
BillingSqlApi
billing_released_sql_api(void)
{
	bool		isnull;
	bool		is_v01;

	SPI_connect();
	(void) billing_spi_exec("SELECT pg_catalog.to_regproc('billing.make_drafts') IS NULL",
							0, NULL, NULL, NULL, true, 1,
							SPI_OK_SELECT, "checking the extension's version");
	billing_spi_require_rows(1, "checking the extension's version");
	is_v01 = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return is_v01 ? BILLING_SQL_0_1 : BILLING_SQL_0_2;
}

/*
 * billing_v01_lock_key: 0.1's schedule lock key (the one its
 * document_guard takes), which billing.schedule_lock_key keeps
 */
void
billing_v01_lock_key(int64 schedule_id, int32 *lock_class, int32 *lock_key)
{
	*lock_class = 0x62696C6C;	/* 'bill' */
	*lock_key = (int32) (schedule_id % PG_INT32_MAX);
}

/* v01_first_document_id: 0.1's smallest id of the period's documents */
static Datum
v01_first_document_id(Datum brand_id, Datum first_day, Datum day_after_cutoff)
{
	Oid			types[3] = {INT8OID, DATEOID, DATEOID};
	Datum		args[3] = {brand_id, first_day, day_after_cutoff};
	bool		isnull;

	(void) billing_spi_exec("SELECT coalesce(min(d.id), 0) FROM billing.document d"
							" WHERE d.brand_id = $1 AND d.document_date >= $2"
							" AND d.document_date < $3",
							3, types, args, NULL, false, 1,
							SPI_OK_SELECT, "finding the period's first document");
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
}

/*
 * billing_v01_make_drafts runs 0.1's statement with make_drafts' eight
 * arguments (run id ... invoice date); its result has make_drafts' column
 * names.  As in 0.1, merge joins are off for it (the caller's GUC nest
 * level undoes that).
 */
void
billing_v01_make_drafts(Datum *args8)
{
	Datum		args[V01_NARGS];

	memcpy(args, args8, sizeof(Datum) * (V01_NARGS - 1));
	args[8] = v01_first_document_id(args[1], args[3], args[4]);
	(void) set_config_option("enable_mergejoin", "off",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	(void) billing_spi_exec(v01_run_sql, V01_NARGS, v01_argtypes, args, NULL, false, 0,
							SPI_OK_SELECT, "making the drafts");
}

/*
 * preview_drafts is billing.preview_drafts of version 0.1 (a C function
 * there; SQL since 0.2): the drafts a run of the period would make now.
 * Only the released 0.1 script declares it.
 */
PG_FUNCTION_INFO_V1(preview_drafts);

Datum
preview_drafts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		args[V01_NARGS];
	char		nulls[V01_NARGS];
	int			search_path_level;

	InitMaterializedSRF(fcinfo, 0);
	memset(nulls, ' ', sizeof(nulls));
	args[0] = (Datum) 0;
	nulls[0] = 'n';				/* no run */
	for (int i = 1; i < V01_NARGS - 1; i++)
	{
		if (PG_ARGISNULL(i - 1))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("preview_drafts argument %d must not be NULL", i)));
		args[i] = PG_GETARG_DATUM(i - 1);
	}

	SPI_connect();
	search_path_level = billing_pin_search_path();
	args[8] = v01_first_document_id(args[1], args[3], args[4]);
	(void) billing_spi_exec(v01_preview_sql, V01_NARGS, v01_argtypes, args, nulls, true, 0,
							SPI_OK_SELECT, "previewing the drafts");
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
