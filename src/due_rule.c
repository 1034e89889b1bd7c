/*-------------------------------------------------------------------------
 * due_rule.c
 *	  billing.due_rule: when a billing invoice must be paid.
 *
 *	  net:N (0..365 days after the invoice date)
 *	  | month+N:D (day D, 1..30, of the month N, 0..12, months after the
 *	    cut-off's month) | month+N:eom
 *
 *	  Also the seed's rules for which due rules fit a monthly cycle.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"

#include "calendar.h"
#include "textform.h"
#include "sql_api.h"

#define DUE_RULE_FORMS_HINT \
	"Valid forms are net:N (N = 0 ... 365 days after the invoice date, NET30 is net:30), " \
	"month+N:D (day D = 1 ... 30 of the month N = 0 ... 12 months after the cut-off, e.g. month+2:10) " \
	"and month+N:eom (or month+N:31, e.g. month+1:eom)."

PG_FUNCTION_INFO_V1(billing_due_rule_in);
PG_FUNCTION_INFO_V1(billing_due_rule_out);
PG_FUNCTION_INFO_V1(billing_due_rule_recv);
PG_FUNCTION_INFO_V1(billing_due_rule_send);
PG_FUNCTION_INFO_V1(billing_due_rule_fits);
PG_FUNCTION_INFO_V1(billing_due_rule_require_fit);

/* due_rule_syntax_error reports text that is not a due rule form at all */
static void
due_rule_syntax_error(const char *input)
{
	form_syntax_error("billing.due_rule", input, DUE_RULE_FORMS_HINT);
}

/* due_rule_range_error reports a well-formed rule with a number out of range */
static void
due_rule_range_error(const char *input, const char *detail)
{
	form_range_error("billing.due_rule", input, detail, DUE_RULE_FORMS_HINT);
}

/* due_rule_is_valid checks an encoded value, e.g. from binary input */
bool
due_rule_is_valid(DueRule r)
{
	switch (DUE_KIND(r))
	{
		case DUE_NET:
			return DUE_MONTHS(r) == 0 && DUE_DAYS(r) <= DUE_NET_MAX_DAYS;
		case DUE_MONTH:
			return DUE_MONTHS(r) <= DUE_MAX_MONTHS &&
				DUE_DAYS(r) >= 1 && DUE_DAYS(r) <= DUE_EOM;
	}
	return false;
}

Datum
billing_due_rule_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	FormScanner s = {input};
	char		word[16];
	DueRule		result;
	int			n;

	if (!form_word(&s, word, sizeof(word)))
		due_rule_syntax_error(input);

	if (strcmp(word, "net") == 0)
	{
		if (!form_char(&s, ':'))
			due_rule_syntax_error(input);
		n = form_number(&s);
		if (n == FORM_NUMBER_NONE)
			due_rule_syntax_error(input);
		if (n < 0 || n > DUE_NET_MAX_DAYS)
			due_rule_range_error(input, "A net rule counts 0 to 365 days after the invoice date.");
		result = DUE_MAKE(DUE_NET, 0, n);
	}
	else if (strcmp(word, "month") == 0)
	{
		int			months;
		FormScanner save;

		if (!form_char(&s, '+'))
			due_rule_syntax_error(input);
		months = form_number(&s);
		if (months == FORM_NUMBER_NONE || !form_char(&s, ':'))
			due_rule_syntax_error(input);
		save = s;
		if (form_word(&s, word, sizeof(word)))
		{
			if (strcmp(word, "eom") != 0)
				due_rule_syntax_error(input);
			n = DUE_EOM;
		}
		else
		{
			s = save;
			n = form_number(&s);
			if (n == FORM_NUMBER_NONE)
				due_rule_syntax_error(input);
		}
		if (!form_at_end(&s))
			due_rule_syntax_error(input);
		if (months < 0 || months > DUE_MAX_MONTHS)
			due_rule_range_error(input, "A month rule reaches 0 to 12 months after the cut-off's month.");
		if (n < 1 || n > DUE_EOM)
			due_rule_range_error(input, "A month rule's day is from 1 to 30, or 31 or eom for the end of the month.");
		result = DUE_MAKE(DUE_MONTH, months, n);
	}
	else
		due_rule_syntax_error(input);

	if (!form_at_end(&s))
		due_rule_syntax_error(input);

	PG_RETURN_DATUM(DueRuleGetDatum(result));
}

/* due_rule_format writes the canonical text form of r into buf */
void
due_rule_format(DueRule r, char *buf, size_t len)
{
	switch (DUE_KIND(r))
	{
		case DUE_NET:
			snprintf(buf, len, "net:%d", DUE_DAYS(r));
			return;
		case DUE_MONTH:
			if (DUE_DAYS(r) == DUE_EOM)
				snprintf(buf, len, "month+%d:eom", DUE_MONTHS(r));
			else
				snprintf(buf, len, "month+%d:%d", DUE_MONTHS(r), DUE_DAYS(r));
			return;
	}
	elog(ERROR, "corrupt billing.due_rule value %d", r);
}

Datum
billing_due_rule_out(PG_FUNCTION_ARGS)
{
	char		buf[32];

	due_rule_format(PG_GETARG_DUE_RULE(0), buf, sizeof(buf));
	PG_RETURN_CSTRING(pstrdup(buf));
}

Datum
billing_due_rule_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DueRuleGetDatum(form_recv_int32((StringInfo) PG_GETARG_POINTER(0),
													"billing.due_rule", due_rule_is_valid)));
}

Datum
billing_due_rule_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(form_send_int32(PG_GETARG_DUE_RULE(0)));
}

/*
 * due_rule_misfit says which of the seed's Monthly rules the pair breaks, as
 * an errdetail text, or NULL when it fits:
 *	- a cut-off on or after the 28th (end of month) cannot be due in the
 *	  current month (month+0);
 *	- month+0:D must not fall before the cut-off day.
 */
static const char *
due_rule_misfit(Cycle c, DueRule r, int *cutoff_day)
{
	*cutoff_day = CYCLE_PARAM(c);
	if (CYCLE_KIND(c) != CYCLE_MONTHLY || DUE_KIND(r) != DUE_MONTH ||
		DUE_MONTHS(r) != 0)
		return NULL;
	if (*cutoff_day >= 28)
		return "A monthly cut-off on or after the 28th (end of month class) cannot have a payment due in the current month (month+0).";
	if (DUE_DAYS(r) < *cutoff_day)
		return "A current-month payment due day (month+0:D) must not be earlier than the monthly cut-off day.";
	return NULL;
}

Datum
billing_due_rule_fits(PG_FUNCTION_ARGS)
{
	int			cutoff_day;

	PG_RETURN_BOOL(due_rule_misfit(PG_GETARG_CYCLE(0), PG_GETARG_DUE_RULE(1),
								   &cutoff_day) == NULL);
}

/*
 * due_rule_require_fit is due_rule_fits for CHECK constraints: true, or an
 * error that names the rule the pair breaks.
 */
Datum
billing_due_rule_require_fit(PG_FUNCTION_ARGS)
{
	Cycle		c = PG_GETARG_CYCLE(0);
	DueRule		r = PG_GETARG_DUE_RULE(1);
	int			cutoff_day;
	const char *misfit = due_rule_misfit(c, r, &cutoff_day);
	char		cbuf[32],
				rbuf[32];

	if (misfit == NULL)
		PG_RETURN_BOOL(true);

	cycle_format(c, cbuf, sizeof(cbuf));
	due_rule_format(r, rbuf, sizeof(rbuf));
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("payment due rule \"%s\" does not fit billing cycle \"%s\"",
					rbuf, cbuf),
			 errdetail("%s", misfit),
			 cutoff_day >= 28 ?
			 errhint("Use month+1 or later, for example month+1:eom.") :
			 errhint("Use month+0:%d or a later day, or month+1.", cutoff_day)));
	PG_RETURN_BOOL(false);		/* not reached */
}

/*
 * The symbols of the released 0.1/0.2 scripts (src/sql/released/, frozen),
 * which call this library until ALTER EXTENSION billing UPDATE: thin
 * wrappers of the billing_ symbols that this version's SQL declares.
 */
BILLING_RELEASED_SYMBOL(due_rule_in, billing_due_rule_in);
BILLING_RELEASED_SYMBOL(due_rule_out, billing_due_rule_out);
BILLING_RELEASED_SYMBOL(due_rule_recv, billing_due_rule_recv);
BILLING_RELEASED_SYMBOL(due_rule_send, billing_due_rule_send);
BILLING_RELEASED_SYMBOL(due_rule_fits, billing_due_rule_fits);
BILLING_RELEASED_SYMBOL(due_rule_require_fit, billing_due_rule_require_fit);
