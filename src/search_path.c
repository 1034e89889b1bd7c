/*-------------------------------------------------------------------------
 * search_path.c
 *	  No statement of ours resolves a name through a caller's search_path.
 *	  The C entry points that run SQL through SPI (the run driver, the
 *	  preview, the background worker) pin search_path to pg_catalog and
 *	  then pg_temp, so a look-alike function or operator planted in a
 *	  schema on the caller's, the role's or the database's path (say
 *	  public.lower(daterange)) is never called with our privileges.
 *	  pg_temp is named last on purpose: left out, it would be searched
 *	  first for tables and types.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "search_path.h"

/*
 * billing_pin_search_path sets the safe search_path for the current
 * function call and returns the GUC nest level to hand back to
 * billing_unpin_search_path.  An error unwinds it with the transaction
 * or subtransaction, like a function's SET clause.
 */
int
billing_pin_search_path(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", BILLING_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return level;
}

/* billing_unpin_search_path restores the caller's search_path */
void
billing_unpin_search_path(int level)
{
	AtEOXact_GUC(true, level);
}
