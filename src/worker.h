/*-------------------------------------------------------------------------
 * worker.h
 *	  Background workers of the extension (src/worker.c): the background
 *	  run, and what every worker of this library shares.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_WORKER_H
#define BILLING_WORKER_H

#include "postmaster/bgworker.h"

extern void billing_define_worker_gucs(void);
extern int	billing_max_workers_per_brand(void);
extern void billing_dynamic_worker(BackgroundWorker *worker, const char *function,
								   const char *type);
extern int	billing_worker_xact_begin(void);
extern void billing_worker_xact_end(int api_write_level);

#endif							/* BILLING_WORKER_H */
