/*-------------------------------------------------------------------------
 * planner.h
 *	  The planner hook that inlines billing's SQL functions before Citus
 *	  plans (src/planner.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_PLANNER_H
#define BILLING_PLANNER_H

extern void billing_install_planner(void);

#endif							/* BILLING_PLANNER_H */
