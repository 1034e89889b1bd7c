/*-------------------------------------------------------------------------
 * calendar.c
 *	  Cut-offs, periods and due dates, on PostgreSQL's own Julian day
 *	  routines (date2j, j2date, j2day) and its daterange type.
 *
 *	  A period is the run of days (previous cut-off, cut-off], returned as
 *	  the daterange [previous cut-off + 1, cut-off + 1).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/rangetypes.h"

#include "calendar.h"
#include "sql_api.h"

PG_FUNCTION_INFO_V1(billing_cutoff_on_or_after);
PG_FUNCTION_INFO_V1(billing_period_of);
PG_FUNCTION_INFO_V1(billing_last_closed_period);
PG_FUNCTION_INFO_V1(billing_cutoffs);
PG_FUNCTION_INFO_V1(billing_due_date);

/* days_in_month of a proleptic Gregorian month, year as j2date gives it */
static inline int
days_in_month(int year, int month)
{
	return day_tab[isleap(year) ? 1 : 0][month - 1];
}

/*
 * Past the last year a date can hold, date2j would overflow int, so day
 * computations there return JD_OUT_OF_RANGE, which jd_to_date refuses.
 */
#define JD_OUT_OF_RANGE PG_INT32_MAX

/* monthly_cutoff_jd is the cut-off of a monthly cycle within (year, month) */
static inline int
monthly_cutoff_jd(int param, int year, int month)
{
	int			last;

	if (year >= JULIAN_MAXYEAR)
		return JD_OUT_OF_RANGE;
	last = days_in_month(year, month);
	return date2j(year, month, (param == CYCLE_EOM || param > last) ? last : param);
}

/* yearly_cutoff_jd is the cut-off of a yearly cycle within year */
static inline int
yearly_cutoff_jd(int param, int year)
{
	if (year >= JULIAN_MAXYEAR)
		return JD_OUT_OF_RANGE;
	if (param == CYCLE_EOY)
		return date2j(year, 12, 31);
	/* day N of the year; N <= 363 always stays within the year */
	return date2j(year, 1, 1) + param - 1;
}

/* iso_weekday of a Julian day: 1 = Monday ... 7 = Sunday */
static inline int
iso_weekday(int jd)
{
	int			dow = j2day(jd);	/* 0 = Sunday */

	return dow == 0 ? 7 : dow;
}

/* cutoff_on_or_after_jd is the first cut-off on or after jd */
int
cutoff_on_or_after_jd(Cycle c, int jd)
{
	int			param = CYCLE_PARAM(c);
	int			year,
				month,
				day,
				cut;

	switch (CYCLE_KIND(c))
	{
		case CYCLE_DAILY:
			return jd;
		case CYCLE_WEEKLY:
			return jd + (param - iso_weekday(jd) + 7) % 7;
		case CYCLE_MONTHLY:
			j2date(jd, &year, &month, &day);
			cut = monthly_cutoff_jd(param, year, month);
			if (cut >= jd)
				return cut;
			if (++month > MONTHS_PER_YEAR)
			{
				month = 1;
				year++;
			}
			return monthly_cutoff_jd(param, year, month);
		case CYCLE_YEARLY:
			j2date(jd, &year, &month, &day);
			cut = yearly_cutoff_jd(param, year);
			return cut >= jd ? cut : yearly_cutoff_jd(param, year + 1);
	}
	elog(ERROR, "corrupt billing.cycle value %d", c);
	return 0;					/* keep compiler quiet */
}

/* cutoff_before_jd is the last cut-off strictly before jd */
int
cutoff_before_jd(Cycle c, int jd)
{
	int			param = CYCLE_PARAM(c);
	int			year,
				month,
				day,
				cut;

	switch (CYCLE_KIND(c))
	{
		case CYCLE_DAILY:
			return jd - 1;
		case CYCLE_WEEKLY:
			return jd - 1 - (iso_weekday(jd - 1) - param + 7) % 7;
		case CYCLE_MONTHLY:
			j2date(jd, &year, &month, &day);
			cut = monthly_cutoff_jd(param, year, month);
			if (cut < jd)
				return cut;
			if (--month < 1)
			{
				month = MONTHS_PER_YEAR;
				year--;
			}
			return monthly_cutoff_jd(param, year, month);
		case CYCLE_YEARLY:
			j2date(jd, &year, &month, &day);
			cut = yearly_cutoff_jd(param, year);
			return cut < jd ? cut : yearly_cutoff_jd(param, year - 1);
	}
	elog(ERROR, "corrupt billing.cycle value %d", c);
	return 0;
}

/* due_date_jd applies a due rule to a cut-off and an invoice date */
int
due_date_jd(DueRule r, int cutoff_jd, int invoice_jd)
{
	int			year,
				month,
				day,
				last;

	if (DUE_KIND(r) == DUE_NET)
		return invoice_jd + DUE_DAYS(r);

	j2date(cutoff_jd, &year, &month, &day);
	month += DUE_MONTHS(r);
	if (month > MONTHS_PER_YEAR)
	{
		month -= MONTHS_PER_YEAR;
		year++;
	}
	if (year >= JULIAN_MAXYEAR)
		return JD_OUT_OF_RANGE;
	last = days_in_month(year, month);
	day = DUE_DAYS(r);
	return date2j(year, month, (day == DUE_EOM || day > last) ? last : day);
}

/* date_to_jd refuses infinite dates, which have no cut-off or period */
static inline int
date_to_jd(DateADT d, const char *what)
{
	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s cannot be computed for the infinite date \"%s\"",
						what, DATE_IS_NOBEGIN(d) ? "-infinity" : "infinity"),
				 errhint("Pass a finite date.")));
	return (int) d + POSTGRES_EPOCH_JDATE;
}

/*
 * jd_to_date turns a computed Julian day back into a date, or fails when it
 * falls outside what PostgreSQL's date type can hold (4714-11-24 BC to
 * 5874897-12-31 AD).
 */
static inline DateADT
jd_to_date(int64 jd, const char *what)
{
	int64		d = jd - POSTGRES_EPOCH_JDATE;

	if (!IS_VALID_DATE(d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range for type date", what),
				 errdetail("PostgreSQL dates run from 4714-11-24 BC to 5874897-12-31 AD.")));
	return (DateADT) d;
}

/* check_cycle guards the calendar against a corrupt stored value */
static inline Cycle
check_cycle(Cycle c)
{
	if (!cycle_is_valid(c))
		elog(ERROR, "corrupt billing.cycle value %d", c);
	return c;
}

/* make_period builds the daterange [after + 1, cutoff + 1) */
static Datum
make_period(FunctionCallInfo fcinfo, int previous_jd, int cutoff_jd)
{
	TypeCacheEntry *typcache = range_get_typcache(fcinfo, DATERANGEOID);
	RangeBound	lower,
				upper;

	lower.val = DateADTGetDatum(jd_to_date((int64) previous_jd + 1, "the period's first day"));
	lower.infinite = false;
	lower.inclusive = true;
	lower.lower = true;
	upper.val = DateADTGetDatum(jd_to_date((int64) cutoff_jd + 1, "the day after the period's cut-off"));
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;

	/* already canonical [lo, hi), so serialize without the canonical call */
	PG_RETURN_RANGE_P(range_serialize(typcache, &lower, &upper, false));
}

Datum
billing_cutoff_on_or_after(PG_FUNCTION_ARGS)
{
	Cycle		c = check_cycle(PG_GETARG_CYCLE(0));
	int			jd = date_to_jd(PG_GETARG_DATEADT(1), "a cut-off");

	PG_RETURN_DATEADT(jd_to_date(cutoff_on_or_after_jd(c, jd), "the cut-off"));
}

Datum
billing_period_of(PG_FUNCTION_ARGS)
{
	Cycle		c = check_cycle(PG_GETARG_CYCLE(0));
	int			jd = date_to_jd(PG_GETARG_DATEADT(1), "a billing period");
	int			cut = cutoff_on_or_after_jd(c, jd);

	return make_period(fcinfo, cutoff_before_jd(c, cut), cut);
}

Datum
billing_last_closed_period(PG_FUNCTION_ARGS)
{
	Cycle		c = check_cycle(PG_GETARG_CYCLE(0));
	int			jd = date_to_jd(PG_GETARG_DATEADT(1), "a closed billing period");
	int			cut = cutoff_before_jd(c, jd);

	return make_period(fcinfo, cutoff_before_jd(c, cut), cut);
}

/* CutoffsState walks the cut-offs of cutoffs() one call at a time */
typedef struct CutoffsState
{
	Cycle		cycle;
	int			next_jd;
	int			last_jd;
} CutoffsState;

Datum
billing_cutoffs(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	CutoffsState *state;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcontext;
		Cycle		c = check_cycle(PG_GETARG_CYCLE(0));
		int			from_jd = date_to_jd(PG_GETARG_DATEADT(1), "the cut-offs from a date");
		int			to_jd = date_to_jd(PG_GETARG_DATEADT(2), "the cut-offs up to a date");

		funcctx = SRF_FIRSTCALL_INIT();
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		state = palloc(sizeof(CutoffsState));
		state->cycle = c;
		state->next_jd = cutoff_on_or_after_jd(c, from_jd);
		state->last_jd = to_jd;
		funcctx->user_fctx = state;
		MemoryContextSwitchTo(oldcontext);
	}

	funcctx = SRF_PERCALL_SETUP();
	state = funcctx->user_fctx;

	/* to_jd is a valid date, so a cut-off not past it is valid too */
	if (state->next_jd <= state->last_jd)
	{
		int			cut = state->next_jd;

		state->next_jd = cutoff_on_or_after_jd(state->cycle, cut + 1);
		SRF_RETURN_NEXT(funcctx, DateADTGetDatum((DateADT) (cut - POSTGRES_EPOCH_JDATE)));
	}
	SRF_RETURN_DONE(funcctx);
}

Datum
billing_due_date(PG_FUNCTION_ARGS)
{
	DueRule		r = PG_GETARG_DUE_RULE(0);
	int			cutoff_jd = date_to_jd(PG_GETARG_DATEADT(1), "a payment due date");
	int			invoice_jd = date_to_jd(PG_GETARG_DATEADT(2), "a payment due date");

	if (!due_rule_is_valid(r))
		elog(ERROR, "corrupt billing.due_rule value %d", r);
	PG_RETURN_DATEADT(jd_to_date(due_date_jd(r, cutoff_jd, invoice_jd), "the payment due date"));
}

/*
 * The symbols of the released 0.1/0.2 scripts (src/sql/released/, frozen),
 * which call this library until ALTER EXTENSION billing UPDATE: thin
 * wrappers of the billing_ symbols that this version's SQL declares.
 */
BILLING_RELEASED_SYMBOL(cutoff_on_or_after, billing_cutoff_on_or_after);
BILLING_RELEASED_SYMBOL(period_of, billing_period_of);
BILLING_RELEASED_SYMBOL(last_closed_period, billing_last_closed_period);
BILLING_RELEASED_SYMBOL(cutoffs, billing_cutoffs);
BILLING_RELEASED_SYMBOL(due_date, billing_due_date);
