/*-------------------------------------------------------------------------
 * due_rule.h
 *	  The encoding of the billing.due_rule type (src/due_rule.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_DUE_RULE_H
#define BILLING_DUE_RULE_H

#include "fmgr.h"

/*
 * billing.due_rule is one int32 too: kind in bits 24..31, a month offset in
 * bits 16..23, and a day count or day of month in the low 16 bits.
 */
typedef int32 DueRule;

#define DUE_NET			1		/* days: 0..365 after the invoice date */
#define DUE_MONTH		2		/* months 0..12 after the cut-off's month,
								 * day 1..30 or DUE_EOM */
#define DUE_EOM			31
#define DUE_NET_MAX_DAYS 365
#define DUE_MAX_MONTHS	12

#define DUE_MAKE(kind, months, days) \
	((DueRule) (((kind) << 24) | ((months) << 16) | (days)))
#define DUE_KIND(r)		((int) ((uint32) (r) >> 24))
#define DUE_MONTHS(r)	((int) (((r) >> 16) & 0xFF))
#define DUE_DAYS(r)		((int) ((r) & 0xFFFF))

#define DatumGetDueRule(X)		((DueRule) DatumGetInt32(X))
#define DueRuleGetDatum(X)		Int32GetDatum(X)
#define PG_GETARG_DUE_RULE(n)	DatumGetDueRule(PG_GETARG_DATUM(n))

/* validity of a stored encoding (binary input, defensive checks) */
extern bool due_rule_is_valid(DueRule r);
extern void due_rule_format(DueRule r, char *buf, size_t len);

#endif							/* BILLING_DUE_RULE_H */
