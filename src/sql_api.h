/*-------------------------------------------------------------------------
 * sql_api.h
 *	  Which version of the extension's SQL calls into this library.
 *
 *	  Installing a new library makes it the library of every database with
 *	  the extension, also of those whose SQL is still that of a released
 *	  version until a DBA runs ALTER EXTENSION billing UPDATE.  As in
 *	  pg_stat_statements, the C entry points are versioned: the SQL of
 *	  this version (src/sql/) declares billing_-prefixed symbols, and
 *	  the released scripts (src/sql/released/, frozen) keep calling the
 *	  symbols they were written with, which this library keeps exporting.
 *	  An entry point therefore knows the SQL that called it from its symbol
 *	  and not from a catalog probe.  Only 0.1 and 0.2, which share their
 *	  symbols, are told apart by what their frozen scripts created
 *	  (billing_released_sql_api, src/run_v01.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_SQL_API_H
#define BILLING_SQL_API_H

#include "fmgr.h"

typedef enum BillingSqlApi
{
	BILLING_SQL_0_1,			/* src/sql/released/billing--0.1.sql */
	BILLING_SQL_0_2,			/* billing--0.2.sql, billing--0.1--0.2.sql */
	BILLING_SQL_0_3				/* src/sql/: this version */
} BillingSqlApi;

/*
 * BILLING_RELEASED_SYMBOL(oldname, newname) exports the symbol oldname of
 * the released 0.1/0.2 scripts as a thin wrapper of newname, the symbol of
 * this version's SQL.  Use it after newname's PG_FUNCTION_INFO_V1; like
 * that macro, it wants a semicolon.
 */
#define BILLING_RELEASED_SYMBOL(oldname, newname) \
PG_FUNCTION_INFO_V1(oldname); \
Datum \
oldname(PG_FUNCTION_ARGS) \
{ \
	return newname(fcinfo); \
} \
extern int no_such_variable

/* 0.1 or 0.2, for an entry point of the released scripts (needs SPI) */
extern BillingSqlApi billing_released_sql_api(void);

/* sql, naming billing_internal.NAME, for the schema api's SQL has them in */
extern const char *billing_api_sql(BillingSqlApi api, const char *sql);

#endif							/* BILLING_SQL_API_H */
