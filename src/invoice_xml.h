/*-------------------------------------------------------------------------
 * invoice_xml.h
 *	  The invoice as PINT JP XML (src/invoice_xml.c): billing.invoices_xml
 *	  writes the rows of billing_internal.xml_heads, xml_lines and
 *	  xml_tax_lines (src/sql/xml.sql) as one document per invoice.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_INVOICE_XML_H
#define BILLING_INVOICE_XML_H

#include "fmgr.h"

extern Datum billing_invoices_xml(PG_FUNCTION_ARGS);

#endif							/* BILLING_INVOICE_XML_H */
