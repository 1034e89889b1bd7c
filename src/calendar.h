/*-------------------------------------------------------------------------
 * calendar.h
 *	  Calendar math of cycles and due rules on Julian day numbers
 *	  (src/calendar.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_CALENDAR_H
#define BILLING_CALENDAR_H

#include "cycle.h"
#include "due_rule.h"

/*
 * Calendar math works on Julian day numbers (PostgreSQL's date2j/j2date).
 * These never fail: they may return a day outside PostgreSQL's date range,
 * which callers check.
 */
extern int	cutoff_on_or_after_jd(Cycle c, int jd);
extern int	cutoff_before_jd(Cycle c, int jd);
extern int	due_date_jd(DueRule r, int cutoff_jd, int invoice_jd);

#endif							/* BILLING_CALENDAR_H */
