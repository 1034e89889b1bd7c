/*-------------------------------------------------------------------------
 * invoice_xml.c
 *	  billing.invoices_xml: the given invoices as Peppol PINT JP 1.1.3 XML,
 *	  one row each, by invoice id.
 *
 *	  The data is SQL's (src/sql/xml.sql): the view billing_internal.xml_head
 *	  gives one row per invoice, xml_line its lines and xml_tax_line its tax
 *	  lines, each query over the whole set and sorted by invoice id; the
 *	  three cursors are read side by side, a batch at a time, and merged by
 *	  invoice id.  This file only writes: the elements, in the order and
 *	  with the bytes that xmlelement, xmlforest and xmlagg gave in 0.2
 *	  (one xmlelement per node cost 85% of a run's XML; issue 14):
 *
 *	  - element content is escaped by PostgreSQL's escape_xml (& < > and
 *	    carriage return), as xmlelement and xmlforest escape a text value;
 *	    dates are written by map_sql_value_to_xml_value (xs:date);
 *	  - an element that got no content is written <name/>, one that got
 *	    any, even an empty string, <name>...</name> (libxml's text writer,
 *	    which xmlelement uses); xmlforest leaves out an item whose value is
 *	    NULL, and so does Xml here;
 *	  - an attribute value is escaped as libxml writes attributes with no
 *	    document: & < > " as entities, tab, newline and carriage return and
 *	    every non-ASCII character as character references; a NULL value
 *	    leaves the attribute out.
 *
 *	  test/t/018_xml_same_bytes.pl holds every invoice of the test stories and
 *	  the demo against that xmlelement query (test/xml_reference.sql).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/tuplestore.h"
#include "utils/xml.h"

#include "guard.h"
#include "invoice_xml.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(billing_invoices_xml);
PG_FUNCTION_INFO_V1(billing_run_invoices_xml);

/* rows fetched from each cursor at a time */
#define XML_BATCH	1000
/* the deepest nesting of the document (Invoice/.../cac:TaxScheme is 5) */
#define XML_DEPTH	12
/* up to this many invoices, the queries' plans are kept (rows_open) */
#define XML_FEW		16

/* the kept plans of the queries of xml_head, xml_line and xml_tax_line */
static SPIPlanPtr kept_plans[3];

/* Xml is the document being written, with its open elements */
typedef struct Xml
{
	StringInfoData buf;
	int			depth;
	const char *name[XML_DEPTH];
	bool		bare[XML_DEPTH];	/* start tag not yet closed by '>' */
} Xml;

/* xml_content: the open element gets content (its start tag is closed) */
static inline void
xml_content(Xml *x)
{
	if (x->depth > 0 && x->bare[x->depth - 1])
	{
		appendStringInfoChar(&x->buf, '>');
		x->bare[x->depth - 1] = false;
	}
}

/* xml_escaped appends s escaped as element content, by escape_xml */
static inline void
xml_escaped(StringInfo buf, const char *s)
{
	if (strpbrk(s, "&<>\r") == NULL)
		appendStringInfoString(buf, s);
	else
	{
		char	   *e = escape_xml(s);

		appendStringInfoString(buf, e);
		pfree(e);
	}
}

/* xml_open starts an element (content of the open one) */
static void
xml_open(Xml *x, const char *name)
{
	if (x->depth >= XML_DEPTH)
		elog(ERROR, "billing: XML nested deeper than %d", XML_DEPTH);
	xml_content(x);
	appendStringInfoChar(&x->buf, '<');
	appendStringInfoString(&x->buf, name);
	x->name[x->depth] = name;
	x->bare[x->depth] = true;
	x->depth++;
}

/*
 * xml_attr adds an attribute to the element just opened, escaped as libxml's
 * xmlTextWriterWriteAttribute escapes it (xmlBufAttrSerializeTxtContent of
 * a writer without a document); NULL leaves it out.  The values are UTF-8
 * (the database's encoding: libxml reads them so).
 */
static void
xml_attr(Xml *x, const char *name, const char *value)
{
	const unsigned char *p;

	if (value == NULL)
		return;
	appendStringInfo(&x->buf, " %s=\"", name);
	for (p = (const unsigned char *) value; *p; p++)
	{
		switch (*p)
		{
			case '<':
				appendStringInfoString(&x->buf, "&lt;");
				break;
			case '>':
				appendStringInfoString(&x->buf, "&gt;");
				break;
			case '&':
				appendStringInfoString(&x->buf, "&amp;");
				break;
			case '"':
				appendStringInfoString(&x->buf, "&quot;");
				break;
			case '\n':
				appendStringInfoString(&x->buf, "&#10;");
				break;
			case '\r':
				appendStringInfoString(&x->buf, "&#13;");
				break;
			case '\t':
				appendStringInfoString(&x->buf, "&#9;");
				break;
			default:
				if (*p < 0x80)
					appendStringInfoChar(&x->buf, (char) *p);
				else
				{
					int			len = pg_utf_mblen(p);

					if (!pg_utf8_islegal(p, len))
						ereport(ERROR,
								(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
								 errmsg("XML attribute %s has a value that is not UTF-8: \"%s\"",
										name, value),
								 errhint("The XML of an invoice is written from a UTF8 database.")));
					appendStringInfo(&x->buf, "&#x%X;", utf8_to_unicode(p));
					p += len - 1;
				}
		}
	}
	appendStringInfoChar(&x->buf, '"');
}

/* xml_close ends the element opened last */
static void
xml_close(Xml *x)
{
	x->depth--;
	if (x->bare[x->depth])
		appendStringInfoString(&x->buf, "/>");
	else
	{
		appendStringInfoString(&x->buf, "</");
		appendStringInfoString(&x->buf, x->name[x->depth]);
		appendStringInfoChar(&x->buf, '>');
	}
}

/* xml_text: a value as content of the open element; NULL writes nothing */
static void
xml_text(Xml *x, const char *value)
{
	if (value == NULL)
		return;
	xml_content(x);
	xml_escaped(&x->buf, value);
}

/* xml_leaf: <name attr="...">value</name>, one attribute or none */
static void
xml_leaf(Xml *x, const char *name, const char *attr, const char *attr_value, const char *value)
{
	xml_open(x, name);
	if (attr)
		xml_attr(x, attr, attr_value);
	xml_text(x, value);
	xml_close(x);
}

/* xml_forest: one item of xmlforest, <name>value</name>; nothing for NULL */
static void
xml_forest(Xml *x, const char *name, const char *value)
{
	if (value == NULL)
		return;
	xml_content(x);
	appendStringInfoChar(&x->buf, '<');
	appendStringInfoString(&x->buf, name);
	appendStringInfoChar(&x->buf, '>');
	xml_escaped(&x->buf, value);
	appendStringInfoString(&x->buf, "</");
	appendStringInfoString(&x->buf, name);
	appendStringInfoChar(&x->buf, '>');
}

/* Rows is one of the three cursors, read a batch at a time */
typedef struct Rows
{
	const char *what;
	Portal		portal;
	TupleDesc	desc;
	SPITupleTable *batch;
	uint64		n;
	uint64		next;
	bool		done;
	int64		last_id;		/* invoice id of the row read last */
} Rows;

/*
 * rows_open opens a query of one view, its ids $1 and brands $2, as a
 * cursor.  A few invoices (invoice_xml's one) use a generic plan kept for
 * the backend: planning the three queries (the views' joins) cost three
 * times more than running them.  A run's thousands are planned for their array (the
 * plan for a handful of ids looks them up one by one).
 */
static void
rows_open(Rows *r, const char *what, const char *sql, SPIPlanPtr *kept, bool few,
		  Datum *args, const char *nulls)
{
	Oid			types[2] = {INT8ARRAYOID, INT8ARRAYOID};

	memset(r, 0, sizeof(*r));
	r->what = what;
	r->last_id = PG_INT64_MIN;
	if (few)
	{
		if (*kept == NULL)
		{
			/* generic: planned once, for any few ids (the same plan) */
			SPIPlanPtr	plan = SPI_prepare_cursor(sql, 2, types, CURSOR_OPT_GENERIC_PLAN);

			if (plan == NULL || SPI_keepplan(plan) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg_internal("billing: preparing \"%s\" failed: %s",
										 sql, SPI_result_code_string(SPI_result))));
			*kept = plan;
		}
		r->portal = SPI_cursor_open(NULL, *kept, args, nulls, true);
	}
	else
		r->portal = SPI_cursor_open_with_args(NULL, sql, 2, types, args, nulls, true,
											  CURSOR_OPT_NO_SCROLL);
	if (r->portal == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg_internal("billing: opening the cursor of %s failed: %s",
								 what, SPI_result_code_string(SPI_result))));
	r->desc = r->portal->tupDesc;
}

/* rows_col: the column's number in the cursor's rows */
static int
rows_col(Rows *r, const char *name)
{
	int			n = SPI_fnumber(r->desc, name);

	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg_internal("billing: %s has no column \"%s\"", r->what, name)));
	return n;
}

/*
 * rows_peek: the next row (NULL at the end) and its invoice id, which must
 * not go down (the merge depends on the order)
 */
static HeapTuple
rows_peek(Rows *r, int64 *id)
{
	HeapTuple	tuple;
	bool		isnull;

	if (r->next >= r->n)
	{
		if (r->done)
			return NULL;
		if (r->batch)
			SPI_freetuptable(r->batch);
		SPI_cursor_fetch(r->portal, true, XML_BATCH);
		r->batch = SPI_tuptable;
		r->n = SPI_processed;
		r->next = 0;
		if (r->n < XML_BATCH)
			r->done = true;
		if (r->n == 0)
			return NULL;
	}
	tuple = r->batch->vals[r->next];
	*id = DatumGetInt64(SPI_getbinval(tuple, r->desc, 1, &isnull));
	if (isnull || *id < r->last_id)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg_internal("billing: %s is not in invoice order", r->what)));
	r->last_id = *id;
	return tuple;
}

static void
rows_close(Rows *r)
{
	if (r->batch)
		SPI_freetuptable(r->batch);
	SPI_cursor_close(r->portal);
}

/* Row is one row of a cursor, its columns taken apart once */
typedef struct Row
{
	Datum		v[64];
	bool		n[64];
} Row;

/* row_deform takes the row apart (the columns are read by number) */
static void
row_deform(Row *row, Rows *r, HeapTuple tuple)
{
	if (r->desc->natts > (int) lengthof(row->v))
		elog(ERROR, "billing: %s has more than %d columns", r->what, (int) lengthof(row->v));
	heap_deform_tuple(tuple, r->desc, row->v, row->n);
}

/* col_text: column col (from 1) as text, NULL when it is NULL */
static inline const char *
col_text(const Row *row, int col)
{
	return row->n[col - 1] ? NULL : TextDatumGetCString(row->v[col - 1]);
}

/* col_date: a date column as XML writes it (xs:date), NULL when NULL */
static inline const char *
col_date(const Row *row, int col)
{
	return row->n[col - 1] ? NULL : map_sql_value_to_xml_value(row->v[col - 1], DATEOID, true);
}

/* the columns of billing_internal.xml_head read here, in its order */
static const char *const head_cols[] = {
	"invoice_id", "buyer_id", "invoice_number", "issue_date", "due_date",
	"currency", "period_start", "period_end",
	"brand_scheme", "brand_endpoint", "brand_name", "brand_street", "brand_city",
	"brand_zone", "brand_subentity", "brand_country", "registration_number", "legal_name",
	"buyer_scheme", "buyer_endpoint", "buyer_code", "buyer_name", "buyer_street",
	"buyer_city", "buyer_zone", "buyer_subentity", "buyer_country",
	"has_account", "account_id", "account_holder", "bank_branch",
	"tax", "purchases", "total", "missing"
};
enum
{
	H_INVOICE_ID, H_BUYER_ID, H_NUMBER, H_ISSUE_DATE, H_DUE_DATE,
	H_CURRENCY, H_PERIOD_START, H_PERIOD_END,
	H_BRAND_SCHEME, H_BRAND_ENDPOINT, H_BRAND_NAME, H_BRAND_STREET, H_BRAND_CITY,
	H_BRAND_ZONE, H_BRAND_SUBENTITY, H_BRAND_COUNTRY, H_REGISTRATION_NUMBER, H_LEGAL_NAME,
	H_BUYER_SCHEME, H_BUYER_ENDPOINT, H_BUYER_CODE, H_BUYER_NAME, H_BUYER_STREET,
	H_BUYER_CITY, H_BUYER_ZONE, H_BUYER_SUBENTITY, H_BUYER_COUNTRY,
	H_HAS_ACCOUNT, H_ACCOUNT_ID, H_ACCOUNT_HOLDER, H_BANK_BRANCH,
	H_TAX, H_PURCHASES, H_TOTAL, H_MISSING, H_COLS
};
StaticAssertDecl(lengthof(head_cols) == H_COLS, "head_cols and the H_ columns differ");

static const char *const line_cols[] = {
	"invoice_id", "note", "quantity", "amount", "line_date", "reference",
	"item_name", "tax_category", "percent", "price"
};
enum
{
	L_INVOICE_ID, L_NOTE, L_QUANTITY, L_AMOUNT, L_DATE, L_REFERENCE,
	L_ITEM_NAME, L_TAX_CATEGORY, L_PERCENT, L_PRICE, L_COLS
};
StaticAssertDecl(lengthof(line_cols) == L_COLS, "line_cols and the L_ columns differ");

static const char *const tax_cols[] = {
	"invoice_id", "taxable_amount", "tax", "tax_category", "percent"
};
enum
{
	T_INVOICE_ID, T_TAXABLE_AMOUNT, T_TAX, T_TAX_CATEGORY, T_PERCENT, T_COLS
};
StaticAssertDecl(lengthof(tax_cols) == T_COLS, "tax_cols and the T_ columns differ");

/* the column numbers of the three cursors */
typedef struct Cols
{
	int			h[H_COLS];
	int			l[L_COLS];
	int			t[T_COLS];
} Cols;

/* write_party_address: cac:PostalAddress of a seller or buyer */
static void
write_address(Xml *x, const char *street, const char *city, const char *zone,
			  const char *subentity, const char *country)
{
	xml_open(x, "cac:PostalAddress");
	xml_forest(x, "cbc:StreetName", street);
	xml_forest(x, "cbc:CityName", city);
	xml_forest(x, "cbc:PostalZone", zone);
	xml_forest(x, "cbc:CountrySubentity", subentity);
	xml_open(x, "cac:Country");
	xml_forest(x, "cbc:IdentificationCode", country);
	xml_close(x);
	xml_close(x);
}

/* write_tax_scheme: cac:TaxScheme, always VAT */
static void
write_tax_scheme(Xml *x)
{
	xml_open(x, "cac:TaxScheme");
	xml_forest(x, "cbc:ID", "VAT");
	xml_close(x);
}

/* write_head: the invoice up to its tax subtotals (cac:TaxTotal left open) */
static void
write_head(Xml *x, const char *const *h)
{
	xml_open(x, "Invoice");
	xml_attr(x, "xmlns", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2");
	xml_attr(x, "xmlns:cac", "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2");
	xml_attr(x, "xmlns:cbc", "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2");
	xml_forest(x, "cbc:CustomizationID", "urn:peppol:pint:billing-1@jp-1");
	xml_forest(x, "cbc:ProfileID", "urn:peppol:bis:billing");
	xml_forest(x, "cbc:ID", h[H_NUMBER]);
	xml_forest(x, "cbc:IssueDate", h[H_ISSUE_DATE]);
	xml_forest(x, "cbc:DueDate", h[H_DUE_DATE]);
	xml_forest(x, "cbc:InvoiceTypeCode", "380");
	xml_forest(x, "cbc:DocumentCurrencyCode", h[H_CURRENCY]);
	xml_open(x, "cac:InvoicePeriod");
	xml_forest(x, "cbc:StartDate", h[H_PERIOD_START]);
	xml_forest(x, "cbc:EndDate", h[H_PERIOD_END]);
	xml_close(x);

	/* the seller */
	xml_open(x, "cac:AccountingSupplierParty");
	xml_open(x, "cac:Party");
	xml_leaf(x, "cbc:EndpointID", "schemeID", h[H_BRAND_SCHEME], h[H_BRAND_ENDPOINT]);
	xml_open(x, "cac:PartyName");
	xml_forest(x, "cbc:Name", h[H_BRAND_NAME]);
	xml_close(x);
	write_address(x, h[H_BRAND_STREET], h[H_BRAND_CITY], h[H_BRAND_ZONE], h[H_BRAND_SUBENTITY],
				  h[H_BRAND_COUNTRY]);
	xml_open(x, "cac:PartyTaxScheme");
	xml_forest(x, "cbc:CompanyID", h[H_REGISTRATION_NUMBER]);
	write_tax_scheme(x);
	xml_close(x);
	xml_open(x, "cac:PartyLegalEntity");
	xml_forest(x, "cbc:RegistrationName", h[H_LEGAL_NAME]);
	xml_close(x);
	xml_close(x);
	xml_close(x);

	/* the buyer */
	xml_open(x, "cac:AccountingCustomerParty");
	xml_open(x, "cac:Party");
	xml_leaf(x, "cbc:EndpointID", "schemeID", h[H_BUYER_SCHEME], h[H_BUYER_ENDPOINT]);
	xml_open(x, "cac:PartyIdentification");
	xml_forest(x, "cbc:ID", h[H_BUYER_CODE]);
	xml_close(x);
	xml_open(x, "cac:PartyName");
	xml_forest(x, "cbc:Name", h[H_BUYER_NAME]);
	xml_close(x);
	write_address(x, h[H_BUYER_STREET], h[H_BUYER_CITY], h[H_BUYER_ZONE], h[H_BUYER_SUBENTITY],
				  h[H_BUYER_COUNTRY]);
	xml_open(x, "cac:PartyLegalEntity");
	xml_forest(x, "cbc:RegistrationName", h[H_BUYER_NAME]);
	xml_close(x);
	xml_close(x);
	xml_close(x);

	/* the bank account, when the invoice names one */
	if (h[H_HAS_ACCOUNT] != NULL)
	{
		xml_open(x, "cac:PaymentMeans");
		xml_leaf(x, "cbc:PaymentMeansCode", "name", "Credit transfer", "30");
		xml_forest(x, "cbc:PaymentID", h[H_NUMBER]);
		xml_open(x, "cac:PayeeFinancialAccount");
		xml_forest(x, "cbc:ID", h[H_ACCOUNT_ID]);
		xml_forest(x, "cbc:Name", h[H_ACCOUNT_HOLDER]);
		xml_open(x, "cac:FinancialInstitutionBranch");
		xml_forest(x, "cbc:Name", h[H_BANK_BRANCH]);
		xml_close(x);
		xml_close(x);
		xml_close(x);
	}

	xml_open(x, "cac:TaxTotal");
	xml_leaf(x, "cbc:TaxAmount", "currencyID", h[H_CURRENCY], h[H_TAX]);
}

/* write_tax_line: one cac:TaxSubtotal */
static void
write_tax_line(Xml *x, const char *currency, const Row *row, const int *c)
{
	xml_open(x, "cac:TaxSubtotal");
	xml_leaf(x, "cbc:TaxableAmount", "currencyID", currency, col_text(row, c[T_TAXABLE_AMOUNT]));
	xml_leaf(x, "cbc:TaxAmount", "currencyID", currency, col_text(row, c[T_TAX]));
	xml_open(x, "cac:TaxCategory");
	xml_forest(x, "cbc:ID", col_text(row, c[T_TAX_CATEGORY]));
	xml_forest(x, "cbc:Percent", col_text(row, c[T_PERCENT]));
	write_tax_scheme(x);
	xml_close(x);
	xml_close(x);
}

/* write_totals: the end of cac:TaxTotal and cac:LegalMonetaryTotal */
static void
write_totals(Xml *x, const char *const *h)
{
	xml_close(x);				/* cac:TaxTotal */
	xml_open(x, "cac:LegalMonetaryTotal");
	xml_leaf(x, "cbc:LineExtensionAmount", "currencyID", h[H_CURRENCY], h[H_PURCHASES]);
	xml_leaf(x, "cbc:TaxExclusiveAmount", "currencyID", h[H_CURRENCY], h[H_PURCHASES]);
	xml_leaf(x, "cbc:TaxInclusiveAmount", "currencyID", h[H_CURRENCY], h[H_TOTAL]);
	xml_leaf(x, "cbc:PayableAmount", "currencyID", h[H_CURRENCY], h[H_TOTAL]);
	xml_close(x);
}

/* write_line: one cac:InvoiceLine, number line_no */
static void
write_line(Xml *x, const char *currency, int64 line_no, const Row *row, const int *c)
{
	char		number[MAXINT8LEN + 1];
	const char *day = col_date(row, c[L_DATE]);

	pg_lltoa(line_no, number);
	xml_open(x, "cac:InvoiceLine");
	xml_forest(x, "cbc:ID", number);
	xml_forest(x, "cbc:Note", col_text(row, c[L_NOTE]));
	xml_leaf(x, "cbc:InvoicedQuantity", "unitCode", "H87", col_text(row, c[L_QUANTITY]));
	xml_leaf(x, "cbc:LineExtensionAmount", "currencyID", currency, col_text(row, c[L_AMOUNT]));
	xml_open(x, "cac:InvoicePeriod");
	xml_forest(x, "cbc:StartDate", day);
	xml_forest(x, "cbc:EndDate", day);
	xml_close(x);
	xml_open(x, "cac:DocumentReference");
	xml_forest(x, "cbc:ID", col_text(row, c[L_REFERENCE]));
	xml_close(x);
	xml_open(x, "cac:Item");
	xml_forest(x, "cbc:Name", col_text(row, c[L_ITEM_NAME]));
	xml_open(x, "cac:ClassifiedTaxCategory");
	xml_forest(x, "cbc:ID", col_text(row, c[L_TAX_CATEGORY]));
	xml_forest(x, "cbc:Percent", col_text(row, c[L_PERCENT]));
	write_tax_scheme(x);
	xml_close(x);
	xml_close(x);
	xml_open(x, "cac:Price");
	xml_leaf(x, "cbc:PriceAmount", "currencyID", currency, col_text(row, c[L_PRICE]));
	xml_leaf(x, "cbc:BaseQuantity", "unitCode", "H87", "1");
	xml_close(x);
	xml_close(x);
}

/*
 * refuse_incomplete: raises the error naming every master data field the
 * invoice's XML is missing (billing_internal.refuse_incomplete_xml, the
 * one wording) when there is one
 */
static void
refuse_incomplete(int64 invoice_id, const Row *row, int col)
{
	ArrayType  *a;
	Oid			types[2] = {INT8OID, TEXTARRAYOID};
	Datum		args[2];

	if (row->n[col - 1])
		return;
	a = DatumGetArrayTypeP(row->v[col - 1]);
	if (ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a)) == 0)
		return;
	args[0] = Int64GetDatum(invoice_id);
	args[1] = PointerGetDatum(a);
	billing_spi_exec("SELECT billing_internal.refuse_incomplete_xml($1, $2)", 2, types, args, NULL,
					 true, 0, SPI_OK_SELECT, "refusing an incomplete invoice's XML");
	/* not reached: it raises the error */
	elog(ERROR, "billing: invoice " INT64_FORMAT " misses master data for its XML", invoice_id);
}

/*
 * invoices_xml: the rows of the given invoices of the caller's brands that
 * have lines, (invoice_id, buyer, xml), the buyer its id or, by_code, its
 * code
 */
static Datum
invoices_xml(FunctionCallInfo fcinfo, bool by_code)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext per_invoice;
	MemoryContext outer;
	Datum		args[2];
	char		nulls[3] = "  ";
	bool		isnull;
	Rows		heads;
	Rows		lines;
	Rows		taxes;
	Cols		c;
	Xml			x;
	Row			head;
	Row			row;
	ArrayType  *ids;
	bool		few;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	args[0] = PG_GETARG_DATUM(0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "billing: SPI_connect failed");
	/* the caller's brands (NULL: every brand), once for the three queries */
	billing_spi_exec("SELECT billing_internal.caller_brands()", 0, NULL, NULL, NULL, true, 1,
					 SPI_OK_SELECT, "reading the caller's brands");
	billing_spi_require_rows(1, "billing_internal.caller_brands()");
	args[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		nulls[1] = 'n';
	else
		args[1] = SPI_datumTransfer(args[1], false, -1);

	ids = DatumGetArrayTypeP(args[0]);
	/*
	 * (Citus plans no generic plan of a query over the shards with
	 * parameters, so there each call's plan is its own)
	 */
	few = ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids)) <= XML_FEW && !billing_citus_here();
	args[0] = PointerGetDatum(ids);
	rows_open(&heads, "billing_internal.xml_head",
			  "SELECT * FROM billing_internal.xml_head"
			  " WHERE invoice_id = ANY ($1) AND ($2 IS NULL OR brand_id = ANY ($2))"
			  " ORDER BY invoice_id", &kept_plans[0], few, args, nulls);
	rows_open(&lines, "billing_internal.xml_line",
			  "SELECT * FROM billing_internal.xml_line"
			  " WHERE invoice_id = ANY ($1) AND ($2 IS NULL OR brand_id = ANY ($2))"
			  " ORDER BY invoice_id, line_date, document_id", &kept_plans[1], few, args, nulls);
	rows_open(&taxes, "billing_internal.xml_tax_line",
			  "SELECT * FROM billing_internal.xml_tax_line"
			  " WHERE invoice_id = ANY ($1) AND ($2 IS NULL OR brand_id = ANY ($2))"
			  " ORDER BY invoice_id, tax_rate DESC", &kept_plans[2], few, args, nulls);
	for (i = 0; i < H_COLS; i++)
		c.h[i] = rows_col(&heads, head_cols[i]);
	for (i = 0; i < L_COLS; i++)
		c.l[i] = rows_col(&lines, line_cols[i]);
	for (i = 0; i < T_COLS; i++)
		c.t[i] = rows_col(&taxes, tax_cols[i]);

	per_invoice = AllocSetContextCreate(CurrentMemoryContext, "billing invoice XML",
										ALLOCSET_DEFAULT_SIZES);
	/* the document's buffer outlives the invoice (reset, not freed) */
	initStringInfo(&x.buf);
	for (;;)
	{
		int64		id;
		int64		row_id;
		HeapTuple	tuple;
		const char *h[H_COLS];
		int64		line_no = 0;
		Datum		values[3];
		bool		value_nulls[3] = {false, false, false};

		CHECK_FOR_INTERRUPTS();
		tuple = rows_peek(&heads, &id);
		if (tuple == NULL)
			break;
		heads.next++;
		/* an invoice without lines is left out (lines of others skipped) */
		while ((tuple = rows_peek(&lines, &row_id)) != NULL && row_id < id)
			lines.next++;
		if (tuple == NULL || row_id != id)
			continue;

		outer = MemoryContextSwitchTo(per_invoice);
		row_deform(&head, &heads, heads.batch->vals[heads.next - 1]);
		refuse_incomplete(id, &head, c.h[H_MISSING]);
		for (i = 0; i < H_COLS; i++)
		{
			switch (i)
			{
				case H_INVOICE_ID:
				case H_BUYER_ID:
				case H_MISSING:
					h[i] = NULL;
					break;
				case H_ISSUE_DATE:
				case H_DUE_DATE:
				case H_PERIOD_START:
				case H_PERIOD_END:
					h[i] = col_date(&head, c.h[i]);
					break;
				case H_HAS_ACCOUNT:
					h[i] = !head.n[c.h[i] - 1] && DatumGetBool(head.v[c.h[i] - 1]) ? "t" : NULL;
					break;
				default:
					h[i] = col_text(&head, c.h[i]);
			}
		}

		resetStringInfo(&x.buf);
		x.depth = 0;
		write_head(&x, h);
		/* the tax breakdown: the invoice's tax lines */
		while ((tuple = rows_peek(&taxes, &row_id)) != NULL && row_id <= id)
		{
			if (row_id == id)
			{
				row_deform(&row, &taxes, tuple);
				write_tax_line(&x, h[H_CURRENCY], &row, c.t);
			}
			taxes.next++;
		}
		write_totals(&x, h);
		/* the lines, numbered from 1 */
		while ((tuple = rows_peek(&lines, &row_id)) != NULL && row_id == id)
		{
			row_deform(&row, &lines, tuple);
			write_line(&x, h[H_CURRENCY], ++line_no, &row, c.l);
			lines.next++;
		}
		xml_close(&x);			/* Invoice */
		Assert(x.depth == 0);

		values[0] = Int64GetDatum(id);
		values[1] = by_code ? head.v[c.h[H_BUYER_CODE] - 1] : head.v[c.h[H_BUYER_ID] - 1];
		values[2] = PointerGetDatum(cstring_to_text_with_len(x.buf.data, x.buf.len));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, value_nulls);

		MemoryContextSwitchTo(outer);
		MemoryContextReset(per_invoice);
	}
	rows_close(&heads);
	rows_close(&lines);
	rows_close(&taxes);
	SPI_finish();
	return (Datum) 0;
}

/*
 * billing_invoices_xml: billing.invoices_xml(VARIADIC invoice_ids bigint[])
 * RETURNS TABLE (invoice_id bigint, buyer_id bigint, xml xml), as the owner
 * (SECURITY DEFINER): the invoices of the caller's brands that have lines
 */
Datum
billing_invoices_xml(PG_FUNCTION_ARGS)
{
	return invoices_xml(fcinfo, false);
}

/*
 * billing_run_invoices_xml: billing_internal.run_invoices_xml(VARIADIC
 * invoice_ids bigint[]) RETURNS TABLE (invoice_id bigint, buyer text, xml
 * xml): the same with the buyer's code, for billing.run_xml (which would
 * otherwise join each row to its buyer: a lookup per row that Citus
 * refuses, or a join that may hash the documents on one node)
 */
Datum
billing_run_invoices_xml(PG_FUNCTION_ARGS)
{
	return invoices_xml(fcinfo, true);
}
