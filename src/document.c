/*-------------------------------------------------------------------------
 * document.c
 *	  The checks behind the tables' CHECK constraints that run once per row
 *	  of a bulk load: the per-kind rules of a billable document, finite
 *	  amounts, and length limits of codes, names and references.  They are
 *	  C so that loading millions of documents pays next to nothing for
 *	  them, and each refusal names the bad value and says what to do.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
#include "sql_api.h"

PG_FUNCTION_INFO_V1(billing_check_document);
PG_FUNCTION_INFO_V1(billing_check_finite);
PG_FUNCTION_INFO_V1(billing_check_length);
PG_FUNCTION_INFO_V1(billing_check_document_limits);
PG_FUNCTION_INFO_V1(billing_check_amount_limit);

/* how much of an over-long value an error message quotes */
#define QUOTED_PREFIX_CHARS 20

static const char *const document_kinds[] = {
	"delivery_invoice", "return_note", "credit_note", "payment"
};

/* numeric_sign_of returns -1, 0 or 1 */
static int
numeric_sign_of(Datum n)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, n,
											 NumericGetDatum(int64_to_numeric(0))));
}

static const char *
numeric_text(Datum n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, n));
}

/*
 * numeric_is_finite: false for NaN, Infinity and -Infinity, which numeric
 * accepts but no amount can be: one NaN document makes a NaN draft, a NaN
 * balance once confirmed, and every later invoice of the buyer NaN.
 */
static bool
numeric_is_finite(Datum n)
{
	Numeric		num = DatumGetNumeric(n);

	return !numeric_is_nan(num) && !numeric_is_inf(num);
}

static void
require_finite(Datum n, const char *what)
{
	if (!numeric_is_finite(n))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("%s must be a finite number, got %s", what, numeric_text(n)),
				 errdetail("NaN and Infinity cannot be billed: they would spread to every later invoice of the buyer."),
				 errhint("Record the amount as an ordinary number, such as 1000 or 12.50.")));
}

Datum
billing_check_document(PG_FUNCTION_ARGS)
{
	char	   *kind;
	bool		known = false;
	bool		payment;

	/* NULLs are for the NOT NULL constraints to report */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);

	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	for (size_t i = 0; i < lengthof(document_kinds); i++)
		if (strcmp(kind, document_kinds[i]) == 0)
			known = true;
	if (!known)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("unknown document kind \"%s\"", kind),
				 errhint("Document kinds are delivery_invoice, return_note, credit_note and payment.")));
	payment = strcmp(kind, "payment") == 0;

	require_finite(PG_GETARG_DATUM(1), psprintf("a %s amount", kind));
	if (!PG_ARGISNULL(2) && !numeric_is_finite(PG_GETARG_DATUM(2)))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("a tax rate must be a finite number, got %s",
						numeric_text(PG_GETARG_DATUM(2))),
				 errhint("Give the rate as a fraction: 0.10 for 10%%, 0.08 for 8%%, 0 when tax-exempt.")));

	/* returns, credit notes and payments subtract by their kind, not sign */
	if (strcmp(kind, "delivery_invoice") != 0 && numeric_sign_of(PG_GETARG_DATUM(1)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("a %s amount cannot be negative: %s", kind,
						numeric_text(PG_GETARG_DATUM(1))),
				 errhint("Record the amount as a positive number; the kind %s already subtracts it on the invoice.", kind)));

	if (payment && !PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("a payment carries no tax rate, but got %s",
						numeric_text(PG_GETARG_DATUM(2))),
				 errhint("Leave tax_rate NULL for payments.")));
	if (!payment && PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("a %s needs a tax rate", kind),
				 errhint("Give the rate as a fraction: 0.10 for 10%%, 0.08 for 8%%, 0 when tax-exempt.")));
	if (!payment)
	{
		Datum		rate = PG_GETARG_DATUM(2);

		if (numeric_sign_of(rate) < 0 ||
			DatumGetInt32(DirectFunctionCall2(numeric_cmp, rate,
											  NumericGetDatum(int64_to_numeric(1)))) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("tax rate %s is out of range", numeric_text(rate)),
					 errdetail("A tax rate is a fraction from 0 up to, but not including, 1."),
					 errhint("Give the rate as a fraction: 0.10 for 10%%, 0.08 for 8%%.")));
	}
	PG_RETURN_BOOL(true);
}

/*
 * billing_check_finite(amount numeric, what text, whose text): true, or an error
 * when the amount is NaN or +-Infinity, naming it as "<what> "<whose>"" (the
 * billing balance of buyer "B1").  NULL passes: NOT NULL constraints report
 * that.
 */
Datum
billing_check_finite(PG_FUNCTION_ARGS)
{
	const char *what;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(true);
	if (numeric_is_finite(PG_GETARG_DATUM(0)))
		PG_RETURN_BOOL(true);
	what = PG_ARGISNULL(1) ? "amount" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
		what = psprintf("%s \"%s\"", what, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	require_finite(PG_GETARG_DATUM(0), what);
	PG_RETURN_BOOL(true);
}

/*
 * billing_check_length(value text, max_chars integer, what text): true, or an error
 * when the value has more than max_chars characters, naming the limit and
 * quoting the start of the value (a 1 MB reference would otherwise fail
 * only at the index, with "index row size exceeds maximum").  NULL passes.
 */
Datum
billing_check_length(PG_FUNCTION_ARGS)
{
	text	   *value;
	int32		max_chars;
	int			bytes;
	int			chars;
	int			quoted;
	const char *what;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);
	value = PG_GETARG_TEXT_PP(0);
	max_chars = PG_GETARG_INT32(1);
	bytes = VARSIZE_ANY_EXHDR(value);
	/* a character takes at least one byte: short values need no counting */
	if (bytes <= max_chars)
		PG_RETURN_BOOL(true);
	chars = pg_mbstrlen_with_len(VARDATA_ANY(value), bytes);
	if (chars <= max_chars)
		PG_RETURN_BOOL(true);

	what = PG_ARGISNULL(2) ? "value" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	quoted = pg_mbcharcliplen(VARDATA_ANY(value), bytes, QUOTED_PREFIX_CHARS);
	ereport(ERROR,
			(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
			 errmsg("%s \"%.*s...\" is too long: %d characters, the limit is %d",
					what, quoted, VARDATA_ANY(value), chars, max_chars),
			 errhint("Shorten it to at most %d characters.", max_chars)));
	PG_RETURN_BOOL(false);		/* not reached */
}

/*
 * The limits of what billing accepts, so that no sum can overflow and no
 * date falls off the calendar (README, "Limits on input"):
 *  - an amount or balance is less than 10^15 in magnitude (a quadrillion in
 *	  the currency's units).  A run adds at most one amount per document, and
 *	  there are fewer than 2^63 < 10^19 of them, so every sum stays below
 *	  10^34, far inside numeric (which overflows at 10^131072);
 *  - a document date lies in 2000-01-01 .. 2199-12-31: finite, and with
 *	  room on both sides for every period, issue moment and due date the
 *	  calendar functions derive from it;
 *  - a tax rate has at most 4 decimals: 0.1 and 0.1000000000000000000000000000001
 *	  would otherwise be two rates, and two tax lines, on one invoice.
 */
#define AMOUNT_LIMIT_DIGITS 15
#define FIRST_DOCUMENT_YEAR 2000
#define LAST_DOCUMENT_YEAR 2199
#define TAX_RATE_MAX_DECIMALS 4

/*
 * amount_text: an amount for a message: as it is, or, when longer than 30
 * characters (9e131071 has 131072 digits), in scientific notation
 */
static const char *
amount_text(Datum n)
{
	const char *text = numeric_text(n);

	if (strlen(text) <= 30)
		return text;
	return numeric_out_sci(DatumGetNumeric(n), 6);
}

/* rate_text: a tax rate for a message, its first 40 characters when longer */
static const char *
rate_text(Datum n)
{
	const char *text = numeric_text(n);

	if (strlen(text) <= 60)
		return text;
	return psprintf("%.40s...", text);
}

/* amount_within_limit: |n| < 10^15 (NaN and Infinity are check_finite's) */
static bool
amount_within_limit(Datum n)
{
	Datum		magnitude = DirectFunctionCall1(numeric_abs, n);
	Datum		limit = DirectFunctionCall2(numeric_power,
										   NumericGetDatum(int64_to_numeric(10)),
										   NumericGetDatum(int64_to_numeric(AMOUNT_LIMIT_DIGITS)));

	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, magnitude, limit)) < 0;
}

static const char *
date_text(DateADT d)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)));
}

/*
 * billing_check_document_limits(reference text, document_date date, amount numeric,
 * tax_rate numeric): true, or an error naming the document by its reference
 * and the value out of range.  NULLs pass (NOT NULL reports them), and so
 * do NaN and Infinity (document_rules reports them, with its own words).
 */
Datum
billing_check_document_limits(PG_FUNCTION_ARGS)
{
	const char *reference = PG_ARGISNULL(0) ? "?" : text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (!PG_ARGISNULL(1))
	{
		DateADT		d = PG_GETARG_DATEADT(1);
		DateADT		first = date2j(FIRST_DOCUMENT_YEAR, 1, 1) - POSTGRES_EPOCH_JDATE;
		DateADT		last = date2j(LAST_DOCUMENT_YEAR, 12, 31) - POSTGRES_EPOCH_JDATE;

		if (DATE_NOT_FINITE(d) || d < first || d > last)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("document \"%s\" is dated %s, outside the dates billing accepts",
							reference, date_text(d)),
					 errdetail("A document date is from %d-01-01 to %d-12-31.",
							   FIRST_DOCUMENT_YEAR, LAST_DOCUMENT_YEAR),
					 errhint("Record the date that counts for the document: the delivery, return, credit note or payment date.")));
	}
	if (!PG_ARGISNULL(2) && numeric_is_finite(PG_GETARG_DATUM(2)) &&
		!amount_within_limit(PG_GETARG_DATUM(2)))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("document \"%s\" has amount %s, beyond the largest amount billing accepts",
						reference, amount_text(PG_GETARG_DATUM(2))),
				 errdetail("An amount must be less than 10^%d (1,000,000,000,000,000) in magnitude, so that no sum of documents, invoices or balances can overflow.",
						   AMOUNT_LIMIT_DIGITS),
				 errhint("Record the amount in the currency's units (yen, euros), not in a smaller unit; split a larger sale into several documents.")));
	if (!PG_ARGISNULL(3) && numeric_is_finite(PG_GETARG_DATUM(3)))
	{
		Datum		rate = PG_GETARG_DATUM(3);
		Datum		rounded = DirectFunctionCall2(numeric_round, rate,
												  Int32GetDatum(TAX_RATE_MAX_DECIMALS));

		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, rate, rounded)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("document \"%s\" has tax rate %s, with more than %d decimal places",
							reference, rate_text(rate), TAX_RATE_MAX_DECIMALS),
					 errdetail("Documents at rates that differ past the 4th decimal would be taxed as separate rates, each on its own tax line."),
					 errhint("Give the rate as a fraction with at most %d decimal places: 0.10 for 10%%, 0.08 for 8%%.",
							 TAX_RATE_MAX_DECIMALS)));
	}
	PG_RETURN_BOOL(true);
}

/*
 * billing_check_amount_limit(amount numeric, what text, whose text): true, or an
 * error when |amount| is 10^15 or more, naming it as "<what> "<whose>""
 * (the billing balance of buyer "B1").  NULL, NaN and Infinity pass:
 * NOT NULL and check_finite report those.
 */
Datum
billing_check_amount_limit(PG_FUNCTION_ARGS)
{
	const char *what;

	if (PG_ARGISNULL(0) || !numeric_is_finite(PG_GETARG_DATUM(0)) ||
		amount_within_limit(PG_GETARG_DATUM(0)))
		PG_RETURN_BOOL(true);
	what = PG_ARGISNULL(1) ? "amount" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
		what = psprintf("%s \"%s\"", what, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s would be %s, beyond the largest amount billing accepts",
					what, amount_text(PG_GETARG_DATUM(0))),
			 errdetail("An amount must be less than 10^%d (1,000,000,000,000,000) in magnitude, so that no sum of documents, invoices or balances can overflow.",
					   AMOUNT_LIMIT_DIGITS),
			 errhint("Check the amounts recorded for it: no single balance can reach a quadrillion in the currency's units.")));
	PG_RETURN_BOOL(false);		/* not reached */
}

/*
 * The symbols of the released 0.1/0.2 scripts (src/sql/released/, frozen),
 * which call this library until ALTER EXTENSION billing UPDATE: thin
 * wrappers of the billing_ symbols that this version's SQL declares.
 */
BILLING_RELEASED_SYMBOL(check_document, billing_check_document);
BILLING_RELEASED_SYMBOL(check_finite, billing_check_finite);
BILLING_RELEASED_SYMBOL(check_length, billing_check_length);
