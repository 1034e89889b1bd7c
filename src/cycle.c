/*-------------------------------------------------------------------------
 * cycle.c
 *	  billing.cycle: the recurrence and cut-off of a billing schedule.
 *
 *	  daily | weekly:mon..sun | monthly:1..30 | monthly:eom
 *	  | yearly:1..363 | yearly:eoy
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"

#include "cycle.h"
#include "textform.h"
#include "sql_api.h"

#define CYCLE_FORMS_HINT \
	"Valid forms are daily, weekly:mon ... weekly:sun (or weekly:1 ... weekly:7), " \
	"monthly:1 ... monthly:30, monthly:eom (or monthly:31), yearly:1 ... yearly:363 " \
	"and yearly:eoy (any day 364 or more)."

/* ISO weekday order: index 0 is Monday */
static const char *const weekday_short[7] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun"
};
static const char *const weekday_long[7] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
};

PG_FUNCTION_INFO_V1(billing_cycle_in);
PG_FUNCTION_INFO_V1(billing_cycle_out);
PG_FUNCTION_INFO_V1(billing_cycle_recv);
PG_FUNCTION_INFO_V1(billing_cycle_send);

/* cycle_syntax_error reports text that is not a cycle form at all */
static void
cycle_syntax_error(const char *input)
{
	form_syntax_error("billing.cycle", input, CYCLE_FORMS_HINT);
}

/* cycle_range_error reports a well-formed cycle whose number is out of range */
static void
cycle_range_error(const char *input, const char *detail)
{
	form_range_error("billing.cycle", input, detail, CYCLE_FORMS_HINT);
}

/* cycle_is_valid checks an encoded value, e.g. from binary input */
bool
cycle_is_valid(Cycle c)
{
	int			param = CYCLE_PARAM(c);

	switch (CYCLE_KIND(c))
	{
		case CYCLE_DAILY:
			return param == 0;
		case CYCLE_WEEKLY:
			return param >= 1 && param <= 7;
		case CYCLE_MONTHLY:
			return param >= 1 && param <= CYCLE_EOM;
		case CYCLE_YEARLY:
			return (param >= 1 && param <= CYCLE_YEARLY_MAX_DAY) ||
				param == CYCLE_EOY;
	}
	return false;
}

/* parse_weekday reads mon/monday/1 ... sun/sunday/7 into an ISO weekday */
static int
parse_weekday(FormScanner *s, const char *input)
{
	char		word[16];
	FormScanner save = *s;
	int			n;

	if (form_word(s, word, sizeof(word)))
	{
		for (int i = 0; i < 7; i++)
			if (strcmp(word, weekday_short[i]) == 0 ||
				strcmp(word, weekday_long[i]) == 0)
				return i + 1;
		cycle_syntax_error(input);
	}
	*s = save;
	n = form_number(s);
	if (n == FORM_NUMBER_NONE)
		cycle_syntax_error(input);
	if (n < 1 || n > 7)
		cycle_range_error(input, "A weekly cut-off is an ISO weekday number from 1 (Monday) to 7 (Sunday).");
	return n;
}

Datum
billing_cycle_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	FormScanner s = {input};
	char		word[16];
	Cycle		result = 0;

	if (!form_word(&s, word, sizeof(word)))
		cycle_syntax_error(input);

	if (strcmp(word, "daily") == 0)
		result = CYCLE_MAKE(CYCLE_DAILY, 0);
	else if (strcmp(word, "weekly") == 0)
	{
		if (!form_char(&s, ':'))
			cycle_syntax_error(input);
		result = CYCLE_MAKE(CYCLE_WEEKLY, parse_weekday(&s, input));
	}
	else if (strcmp(word, "monthly") == 0 || strcmp(word, "yearly") == 0)
	{
		bool		monthly = (word[0] == 'm');
		FormScanner save;
		int			n;

		if (!form_char(&s, ':'))
			cycle_syntax_error(input);
		save = s;
		if (form_word(&s, word, sizeof(word)))
		{
			if (strcmp(word, monthly ? "eom" : "eoy") != 0)
				cycle_syntax_error(input);
			n = monthly ? CYCLE_EOM : CYCLE_EOY;
		}
		else
		{
			s = save;
			n = form_number(&s);
			if (n == FORM_NUMBER_NONE)
				cycle_syntax_error(input);
			if (monthly)
			{
				if (n < 1 || n > 31)
					cycle_range_error(input, "A monthly cut-off day is from 1 to 30, or 31 or eom for the end of the month.");
			}
			else
			{
				/* the seed's rule: day 364 or more is the end of the year */
				if (n < 1 || n == FORM_NUMBER_HUGE)
					cycle_range_error(input, "A yearly cut-off is a day of the year from 1 (January 1) to 363, or 364 and above (or eoy) for December 31.");
				if (n > CYCLE_YEARLY_MAX_DAY)
					n = CYCLE_EOY;
			}
		}
		result = CYCLE_MAKE(monthly ? CYCLE_MONTHLY : CYCLE_YEARLY, n);
	}
	else
		cycle_syntax_error(input);

	if (!form_at_end(&s))
		cycle_syntax_error(input);

	PG_RETURN_CYCLE(result);
}

/* cycle_format writes the canonical text form of c into buf */
void
cycle_format(Cycle c, char *buf, size_t len)
{
	int			param = CYCLE_PARAM(c);

	switch (CYCLE_KIND(c))
	{
		case CYCLE_DAILY:
			snprintf(buf, len, "daily");
			return;
		case CYCLE_WEEKLY:
			snprintf(buf, len, "weekly:%s", weekday_short[param - 1]);
			return;
		case CYCLE_MONTHLY:
			if (param == CYCLE_EOM)
				snprintf(buf, len, "monthly:eom");
			else
				snprintf(buf, len, "monthly:%d", param);
			return;
		case CYCLE_YEARLY:
			if (param == CYCLE_EOY)
				snprintf(buf, len, "yearly:eoy");
			else
				snprintf(buf, len, "yearly:%d", param);
			return;
	}
	elog(ERROR, "corrupt billing.cycle value %d", c);
}

Datum
billing_cycle_out(PG_FUNCTION_ARGS)
{
	Cycle		c = PG_GETARG_CYCLE(0);
	char		buf[32];

	cycle_format(c, buf, sizeof(buf));
	PG_RETURN_CSTRING(pstrdup(buf));
}

Datum
billing_cycle_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_CYCLE(form_recv_int32((StringInfo) PG_GETARG_POINTER(0), "billing.cycle",
									cycle_is_valid));
}

Datum
billing_cycle_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(form_send_int32(PG_GETARG_CYCLE(0)));
}

/*
 * The symbols of the released 0.1/0.2 scripts (src/sql/released/, frozen),
 * which call this library until ALTER EXTENSION billing UPDATE: thin
 * wrappers of the billing_ symbols that this version's SQL declares.
 */
BILLING_RELEASED_SYMBOL(cycle_in, billing_cycle_in);
BILLING_RELEASED_SYMBOL(cycle_out, billing_cycle_out);
BILLING_RELEASED_SYMBOL(cycle_recv, billing_cycle_recv);
BILLING_RELEASED_SYMBOL(cycle_send, billing_cycle_send);
