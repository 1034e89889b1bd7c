/*-------------------------------------------------------------------------
 * run_v01.h
 *	  What runs need while a database's extension SQL is still 0.1
 *	  (src/run_v01.c, frozen).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_RUN_V01_H
#define BILLING_RUN_V01_H

extern void billing_v01_lock_key(int64 schedule_id, int32 *lock_class, int32 *lock_key);
extern void billing_v01_make_drafts(Datum *args8);

#endif							/* BILLING_RUN_V01_H */
