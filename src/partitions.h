/*-------------------------------------------------------------------------
 * partitions.h
 *	  The blocks of ids the partitions of the links and the tax lines hold
 *	  (src/partitions.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_PARTITIONS_H
#define BILLING_PARTITIONS_H

#include "fmgr.h"

/* billing_internal.missing_blocks(parent regclass, blocks bigint[]) */
extern Datum billing_missing_blocks(PG_FUNCTION_ARGS);

#endif							/* BILLING_PARTITIONS_H */
