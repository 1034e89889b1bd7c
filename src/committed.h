/*-------------------------------------------------------------------------
 * committed.h
 *	  Work committed by a background worker of its own (src/committed.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_COMMITTED_H
#define BILLING_COMMITTED_H

#include "datatype/timestamp.h"
#include "utils/array.h"

extern ArrayType *billing_commit_issue(TimestampTz as_of, int lock_timeout_ms);
extern ArrayType *billing_parallel_issue(TimestampTz as_of, const int64 *schedules,
										 const int64 *brands, int n, int max_parallel,
										 int per_brand, int lock_timeout_ms);

#endif							/* BILLING_COMMITTED_H */
