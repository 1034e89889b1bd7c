/*-------------------------------------------------------------------------
 * pdf.h
 *	  The invoice on paper (src/pdf.c): billing_internal.pdf_render draws one
 *	  invoice's data (billing_internal.pdf_invoice_data, src/sql/pdf.sql) as an A4
 *	  PDF 請求書 with cairo, text in a FreeType face of IPAex Gothic that
 *	  cairo embeds as a subset.
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_PDF_H
#define BILLING_PDF_H

#include "fmgr.h"

/* the TrueType font with the Japanese glyphs (Debian fonts-ipaexfont) */
#ifndef BILLING_PDF_FONT
#define BILLING_PDF_FONT "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
#endif

extern Datum billing_pdf_render(PG_FUNCTION_ARGS);

#endif							/* BILLING_PDF_H */
