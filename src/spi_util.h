/*-------------------------------------------------------------------------
 * spi_util.h
 *	  The one way the extension's C code runs SQL through SPI and fails
 *	  when SPI does (src/spi_util.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_SPI_UTIL_H
#define BILLING_SPI_UTIL_H

#include "executor/spi.h"

/* expected result code meaning "any success" (rc >= 0) */
#define BILLING_SPI_OK_ANY 0

extern void billing_spi_check(int rc, int expected, const char *what);
extern int	billing_spi_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
							 const char *nulls, bool read_only, long count,
							 int expected, const char *what);
extern int	billing_spi_exec_generic(const char *sql, int nargs, Oid *argtypes, Datum *values,
									 const char *nulls, bool read_only, long count,
									 int expected, const char *what);
extern int	billing_spi_exec_plan(SPIPlanPtr plan, Datum *values, const char *nulls,
								  bool read_only, long count, int expected, const char *what);
extern SPIPlanPtr billing_spi_prepare_kept(const char *sql, int nargs, Oid *argtypes);
extern void billing_spi_require_rows(uint64 rows, const char *what);
extern Datum billing_spi_column(uint64 row, const char *name, bool *isnull);

#endif							/* BILLING_SPI_UTIL_H */
