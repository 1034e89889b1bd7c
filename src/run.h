/*-------------------------------------------------------------------------
 * run.h
 *	  The invoice run driver (src/run.c): schedule locks and row locks
 *	  bounded by billing.lock_timeout.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_RUN_H
#define BILLING_RUN_H

#include "sql_api.h"

extern void billing_define_run_gucs(void);
extern bool billing_lock_schedule(int64 schedule_id, bool wait, BillingSqlApi api);
extern bool billing_lock_rows(const char *sql, Oid argtype, Datum arg, bool generic);
extern int	billing_lock_timeout_ms(void);

#endif							/* BILLING_RUN_H */
