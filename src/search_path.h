/*-------------------------------------------------------------------------
 * search_path.h
 *	  What every statement of ours resolves names through (src/search_path.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_SEARCH_PATH_H
#define BILLING_SEARCH_PATH_H

#define BILLING_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

extern int	billing_pin_search_path(void);
extern void billing_unpin_search_path(int level);

#endif							/* BILLING_SEARCH_PATH_H */
