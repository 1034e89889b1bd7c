/*-------------------------------------------------------------------------
 * spi_util.c
 *	  The one SPI helper of the extension.  Every statement the C code
 *	  runs goes through billing_spi_exec (or its _generic and _plan forms), which
 *	  raise an error when SPI returns anything but the expected result
 *	  code.  Such an error is a bug of the extension, not a mistake of its
 *	  user, so it is an internal error (SQLSTATE XX000) naming what was
 *	  being done and SPI's code; errors of the statement itself (a
 *	  refusal, a lock timeout) are raised by the statement, unchanged.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"

#include "spi_util.h"
#include "sql_api.h"

#include "lib/stringinfo.h"

/*
 * billing_spi_check raises "billing: WHAT failed: CODE" unless rc is the
 * expected SPI result code (or any success, for BILLING_SPI_OK_ANY)
 */
void
billing_spi_check(int rc, int expected, const char *what)
{
	if (expected == BILLING_SPI_OK_ANY ? rc >= 0 : rc == expected)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg_internal("billing: %s failed: %s", what, SPI_result_code_string(rc))));
}

/*
 * billing_spi_exec runs sql with nargs parameters (SPI_execute_with_args)
 * and checks its result code; returns it.  Needs an SPI connection.
 */
int
billing_spi_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
				 const char *nulls, bool read_only, long count,
				 int expected, const char *what)
{
	int			rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, count);

	billing_spi_check(rc, expected, what);
	return rc;
}

/*
 * billing_spi_exec_generic: billing_spi_exec with a generic plan, planned
 * without the parameters' values.  For a parameter that is a long array:
 * a plan made for its value estimates "= ANY" element by element, which
 * took about 350 bytes of planner memory an element (35 MB to lock 100,000
 * buyers, test/bench/issue.sh), where the generic plan takes none.
 */
int
billing_spi_exec_generic(const char *sql, int nargs, Oid *argtypes, Datum *values,
						 const char *nulls, bool read_only, long count,
						 int expected, const char *what)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	int			rc;

	if (plan == NULL)
		billing_spi_check(SPI_result, expected, what);
	rc = SPI_execute_plan(plan, values, nulls, read_only, count);
	billing_spi_check(rc, expected, what);
	SPI_freeplan(plan);
	return rc;
}

/* billing_spi_exec_plan: billing_spi_exec of a prepared plan */
int
billing_spi_exec_plan(SPIPlanPtr plan, Datum *values, const char *nulls,
					  bool read_only, long count, int expected, const char *what)
{
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	billing_spi_check(rc, expected, what);
	return rc;
}

/*
 * billing_spi_prepare_kept prepares sql and keeps the plan for the life of
 * the backend (SPI_keepplan)
 */
SPIPlanPtr
billing_spi_prepare_kept(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg_internal("billing: preparing \"%s\" failed: %s",
								 sql, SPI_result_code_string(SPI_result))));
	if (SPI_keepplan(plan) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg_internal("billing: keeping the plan of \"%s\" failed", sql)));
	return plan;
}

/*
 * billing_spi_require_rows raises an internal error unless the last
 * statement returned exactly rows rows
 */
void
billing_spi_require_rows(uint64 rows, const char *what)
{
	if (SPI_processed != rows)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg_internal("billing: %s returned " UINT64_FORMAT " rows, not " UINT64_FORMAT,
								 what, SPI_processed, rows)));
}

/*
 * billing_spi_column is the value of the named column of row `row` of
 * SPI_tuptable: the statements' results are read by column name, not
 * position.
 */
Datum
billing_spi_column(uint64 row, const char *name, bool *isnull)
{
	int			fnumber = SPI_fnumber(SPI_tuptable->tupdesc, name);

	if (fnumber <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg_internal("billing: result has no column \"%s\"", name)));
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, fnumber, isnull);
}

/*
 * billing_api_sql returns sql, which names the internal functions as
 * billing_internal.NAME (0.3), for the SQL of api: before 0.3 they were in
 * the schema billing.
 */
const char *
billing_api_sql(BillingSqlApi api, const char *sql)
{
	static const char from[] = "billing_internal.";
	StringInfoData buf;
	const char *p;
	const char *hit;

	if (api == BILLING_SQL_0_3)
		return sql;
	initStringInfo(&buf);
	for (p = sql; (hit = strstr(p, from)) != NULL; p = hit + strlen(from))
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfoString(&buf, "billing.");
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}
