/*-------------------------------------------------------------------------
 * progress.h
 *	  The phase of each invoice run in progress, in shared memory
 *	  (src/progress.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_PROGRESS_H
#define BILLING_PROGRESS_H

/* run phases, in order */
#define RUN_PHASE_PLANNING 0
#define RUN_PHASE_AGGREGATING 1
#define RUN_PHASE_WRITING_INVOICES 2
#define RUN_PHASE_WRITING_LINKS 3
#define RUN_PHASE_DONE 4

extern void billing_progress_init(void);
extern void billing_progress_set_phase(int64 run_id, int64 brand_id, int phase);

#endif							/* BILLING_PROGRESS_H */
