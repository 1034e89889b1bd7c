/*-------------------------------------------------------------------------
 * document.c
 *	  The per-kind rules of a billable document, checked in C so that a bulk
 *	  load of millions of documents pays next to nothing for them, and each
 *	  refusal names the bad value and says what to do.
 *-------------------------------------------------------------------------
 */
#include "billing.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(check_document);

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

Datum
check_document(PG_FUNCTION_ARGS)
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
