/*-------------------------------------------------------------------------
 * cycle.h
 *	  The encoding of the billing.cycle type (src/cycle.c).
 *
 *	  Like every header of the extension, it expects postgres.h to have
 *	  been included first by the .c file.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_CYCLE_H
#define BILLING_CYCLE_H

#include "fmgr.h"

/*
 * billing.cycle is one int32: kind in the high 16 bits, parameter in the low
 * 16.  Ordering the int32 orders cycles by kind, then parameter, so the btree
 * and hash support are PostgreSQL's own int4 functions.
 */
typedef int32 Cycle;

#define CYCLE_DAILY		1
#define CYCLE_WEEKLY	2		/* param: ISO weekday, 1 = Mon ... 7 = Sun */
#define CYCLE_MONTHLY	3		/* param: day 1..30, or CYCLE_EOM */
#define CYCLE_YEARLY	4		/* param: day of year 1..363, or CYCLE_EOY */

#define CYCLE_EOM		31
#define CYCLE_EOY		366
#define CYCLE_YEARLY_MAX_DAY 363	/* 364 and above mean end of year */

#define CYCLE_MAKE(kind, param)	((Cycle) (((kind) << 16) | (param)))
#define CYCLE_KIND(c)			((int) ((uint32) (c) >> 16))
#define CYCLE_PARAM(c)			((int) ((c) & 0xFFFF))

#define DatumGetCycle(X)		((Cycle) DatumGetInt32(X))
#define CycleGetDatum(X)		Int32GetDatum(X)
#define PG_GETARG_CYCLE(n)		DatumGetCycle(PG_GETARG_DATUM(n))
#define PG_RETURN_CYCLE(x)		return CycleGetDatum(x)

/* validity of a stored encoding (binary input, defensive checks) */
extern bool cycle_is_valid(Cycle c);
extern void cycle_format(Cycle c, char *buf, size_t len);

#endif							/* BILLING_CYCLE_H */
