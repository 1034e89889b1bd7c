/*-------------------------------------------------------------------------
 * run.h
 *	  The invoice run driver (src/run.c): schedule locks and row locks
 *	  bounded by billing.lock_timeout.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_RUN_H
#define BILLING_RUN_H

extern void billing_define_run_gucs(void);
extern bool billing_lock_schedule(int64 schedule_id, bool wait);
extern bool billing_lock_rows(const char *sql, Oid argtype, Datum arg);
extern int	billing_lock_timeout_ms(void);
extern bool billing_sql_before_v03(void);

#endif							/* BILLING_RUN_H */
