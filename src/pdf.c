/*-------------------------------------------------------------------------
 * pdf.c
 *	  billing_internal.pdf_render: one invoice as an A4 portrait PDF 請求書 in the
 *	  Japanese closing-date layout, from the jsonb that
 *	  billing_internal.pdf_invoice_data (src/sql/pdf.sql) makes of the invoice's
 *	  rows.
 *
 *	  The text stack is cairo (its PDF surface) with one FreeType face,
 *	  IPAex Gothic, opened from its file once per backend.  Not pango: pango
 *	  1.50 starts a thread to initialize fontconfig, and a backend must not
 *	  run threads; Japanese needs no shaping, so cairo's own glyph mapping
 *	  (the font's cmap) is enough, and the line breaking of the one long
 *	  field, a line's description, is done here.  Not fontconfig either: the
 *	  font is one file, so the same data gives the same bytes on every
 *	  machine with that file.  cairo embeds the glyphs used as a TrueType
 *	  subset.
 *
 *	  Library memory (cairo's, FreeType's) is malloc'd: every render runs
 *	  in PG_TRY with the surface, the context and the output buffer freed
 *	  in PG_FINALLY, so an error or a cancel (checked between pages) leaks
 *	  nothing.  Nothing that can raise an error runs inside a cairo call
 *	  (the output callback mallocs).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include <cairo.h>
#include <cairo-ft.h>
#include <cairo-pdf.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_ADVANCES_H

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "pdf.h"

PG_FUNCTION_INFO_V1(billing_pdf_render);

/* A4 portrait, in points */
#define PAGE_W		595.276
#define PAGE_H		841.890
#define MARGIN_L	40.0
#define MARGIN_R	(PAGE_W - 40.0)

/* the lines' table: row height, text size, columns' left edges and the end */
#define ROW_H		14.0
#define ROW_TEXT	8.5
static const double col[] = {40.0, 98.0, 190.0, 222.0, 430.0, 505.0, MARGIN_R};
#define COL_DATE	0
#define COL_REF		1
#define COL_KIND	2
#define COL_ITEM	3
#define COL_AMOUNT	4
#define COL_RATE	5
#define BODY_TOP_1	279.0		/* first page: below the header and summary */
#define BODY_TOP_N	86.0		/* later pages: below the running header */
#define BODY_BOTTOM 790.0
#define ITEM_ROWS	3			/* a description wraps to at most 3 rows */
#define REF_ROWS	12			/* a reference (at most 200 characters) to 12 */

typedef struct PdfLine
{
	const char *date;
	const char *reference;
	const char *kind;
	const char *item;
	const char *rate;
	bool		reduced;
	Numeric		amount;
	int			nrows;			/* rows the line takes: the more of the two */
	int			nitem;
	char	   *item_rows[ITEM_ROWS];
	int			nref;
	char	   *ref_rows[REF_ROWS];
} PdfLine;

typedef struct PdfTax
{
	const char *label;
	bool		reduced;
	Numeric		taxable;
	Numeric		tax;
} PdfTax;

typedef struct PdfInvoice
{
	const char *number;
	bool		draft;
	const char *invoice_date;
	const char *due_date;
	const char *period;
	const char *cutoff_date;
	const char *created;
	const char *currency;
	int			scale;
	const char *legal_name;
	const char *registration_number;
	const char *brand_postal;
	const char *brand_address;
	const char *buyer_name;
	const char *buyer_code;
	const char *buyer_postal;
	const char *buyer_address;
	bool		has_bank;
	const char *bank;
	const char *account;
	const char *holder;
	const char *iban;
	Numeric		amounts[6];
	int			nlines;
	PdfLine    *lines;
	int			ntaxes;
	PdfTax	   *taxes;
	bool		any_reduced;
} PdfInvoice;

/* the font, opened once per backend and kept for its life */
static FT_Library pdf_ft_library = NULL;
static FT_Face pdf_ft_face = NULL;	/* maps characters, gives advances */
static cairo_font_face_t *pdf_font = NULL;
static uint16 *pdf_advances = NULL;	/* per glyph, font units; 0xFFFF unknown */
static uint16 *pdf_bmp_glyphs = NULL;	/* per BMP character, its glyph (a TrueType font has at most 65535, 0 to 65534); 0xFFFF unknown */

/* the PDF as cairo writes it: malloc'd, freed in PG_FINALLY */
typedef struct PdfBuffer
{
	char	   *data;
	size_t		len;
	size_t		cap;
} PdfBuffer;

/*------------------------------------------------------------------------
 * The data: jsonb of billing_internal.pdf_invoice_data
 *------------------------------------------------------------------------
 */

static void pdf_bad_data(const char *key) pg_attribute_noreturn();

static void
pdf_bad_data(const char *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invoice data for billing_internal.pdf_render has no valid \"%s\"", key),
			 errdetail("billing_internal.pdf_render draws what billing_internal.pdf_invoice_data() returns."),
			 errhint("Call billing.invoice_pdf() or billing.run_pdf().")));
}

/* the value of key, false when it is absent or null */
static bool
pdf_get(JsonbContainer *c, const char *key, JsonbValue *v)
{
	return getKeyJsonValueFromContainer(c, key, strlen(key), v) != NULL && v->type != jbvNull;
}

/* a string, in UTF-8 (what cairo takes), NULL when absent unless required */
static const char *
pdf_text(JsonbContainer *c, const char *key, bool required)
{
	JsonbValue	v;
	char	   *s;

	if (!pdf_get(c, key, &v))
	{
		if (required)
			pdf_bad_data(key);
		return NULL;
	}
	if (v.type != jbvString)
		pdf_bad_data(key);
	s = pnstrdup(v.val.string.val, v.val.string.len);
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

static Numeric
pdf_number(JsonbContainer *c, const char *key)
{
	JsonbValue	v;

	if (!pdf_get(c, key, &v) || v.type != jbvNumeric)
		pdf_bad_data(key);
	return v.val.numeric;
}

static bool
pdf_bool(JsonbContainer *c, const char *key)
{
	JsonbValue	v;

	if (!pdf_get(c, key, &v) || v.type != jbvBool)
		pdf_bad_data(key);
	return v.val.boolean;
}

/* an object or array member as a container, NULL when absent or null */
static JsonbContainer *
pdf_container(JsonbContainer *c, const char *key, bool array)
{
	JsonbValue	v;

	if (!pdf_get(c, key, &v))
		return NULL;
	if (v.type != jbvBinary
		|| (array ? !JsonContainerIsArray(v.val.binary.data) : !JsonContainerIsObject(v.val.binary.data)))
		pdf_bad_data(key);
	return v.val.binary.data;
}

/* the i-th object of an array */
static JsonbContainer *
pdf_element(JsonbContainer *a, uint32 i, const char *key)
{
	JsonbValue *v = getIthJsonbValueFromContainer(a, i);

	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		pdf_bad_data(key);
	return v->val.binary.data;
}

static void
pdf_parse(Jsonb *jb, PdfInvoice *inv)
{
	JsonbContainer *root = &jb->root;
	JsonbContainer *brand,
			   *buyer,
			   *bank,
			   *amounts,
			   *lines,
			   *taxes;
	JsonbValue	v;

	if (!JsonContainerIsObject(root))
		pdf_bad_data("the invoice object");
	memset(inv, 0, sizeof(*inv));
	inv->number = pdf_text(root, "number", true);
	inv->draft = pdf_bool(root, "draft");
	inv->invoice_date = pdf_text(root, "invoice_date", true);
	inv->due_date = pdf_text(root, "due_date", false);
	inv->period = pdf_text(root, "period", true);
	inv->cutoff_date = pdf_text(root, "cutoff_date", true);
	inv->created = pdf_text(root, "created", true);
	inv->currency = pdf_text(root, "currency", true);
	if (!pdf_get(root, "scale", &v) || v.type != jbvNumeric)
		pdf_bad_data("scale");
	inv->scale = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v.val.numeric)));
	if (inv->scale < 0 || inv->scale > 4)
		pdf_bad_data("scale");

	if ((brand = pdf_container(root, "brand", false)) == NULL)
		pdf_bad_data("brand");
	inv->legal_name = pdf_text(brand, "legal_name", true);
	inv->registration_number = pdf_text(brand, "registration_number", true);
	inv->brand_postal = pdf_text(brand, "postal_code", false);
	inv->brand_address = pdf_text(brand, "address", false);

	if ((buyer = pdf_container(root, "buyer", false)) == NULL)
		pdf_bad_data("buyer");
	inv->buyer_name = pdf_text(buyer, "name", true);
	inv->buyer_code = pdf_text(buyer, "code", true);
	inv->buyer_postal = pdf_text(buyer, "postal_code", false);
	inv->buyer_address = pdf_text(buyer, "address", false);

	if ((bank = pdf_container(root, "bank", false)) != NULL)
	{
		inv->has_bank = true;
		inv->bank = pdf_text(bank, "bank", true);
		inv->account = pdf_text(bank, "account", true);
		inv->holder = pdf_text(bank, "holder", true);
		inv->iban = pdf_text(bank, "iban", false);
	}

	if ((amounts = pdf_container(root, "amounts", true)) == NULL || JsonContainerSize(amounts) != 6)
		pdf_bad_data("amounts");
	for (int i = 0; i < 6; i++)
	{
		JsonbValue *a = getIthJsonbValueFromContainer(amounts, i);

		if (a == NULL || a->type != jbvNumeric)
			pdf_bad_data("amounts");
		inv->amounts[i] = a->val.numeric;
	}

	if ((lines = pdf_container(root, "lines", true)) == NULL || JsonContainerSize(lines) == 0)
		pdf_bad_data("lines");
	inv->nlines = JsonContainerSize(lines);
	inv->lines = palloc0(sizeof(PdfLine) * inv->nlines);
	for (int i = 0; i < inv->nlines; i++)
	{
		JsonbContainer *l = pdf_element(lines, i, "lines");
		PdfLine    *line = &inv->lines[i];

		line->date = pdf_text(l, "date", true);
		line->reference = pdf_text(l, "reference", true);
		line->kind = pdf_text(l, "kind", true);
		line->item = pdf_text(l, "item", true);
		line->rate = pdf_text(l, "rate", true);
		line->reduced = pdf_bool(l, "reduced");
		line->amount = pdf_number(l, "amount");
		inv->any_reduced |= line->reduced;
	}

	if ((taxes = pdf_container(root, "taxes", true)) == NULL)
		pdf_bad_data("taxes");
	inv->ntaxes = JsonContainerSize(taxes);
	inv->taxes = palloc0(sizeof(PdfTax) * Max(inv->ntaxes, 1));
	for (int i = 0; i < inv->ntaxes; i++)
	{
		JsonbContainer *t = pdf_element(taxes, i, "taxes");

		inv->taxes[i].label = pdf_text(t, "label", true);
		inv->taxes[i].reduced = pdf_bool(t, "reduced");
		inv->taxes[i].taxable = pdf_number(t, "taxable");
		inv->taxes[i].tax = pdf_number(t, "tax");
	}
}

/*------------------------------------------------------------------------
 * Amounts: digits grouped by three, the currency's minor units
 *------------------------------------------------------------------------
 */

static char *
pdf_amount(Numeric n, int scale)
{
	Datum		rounded = DirectFunctionCall2(numeric_round, NumericGetDatum(n), Int32GetDatum(scale));
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, rounded));
	StringInfoData out;
	const char *digits = s;
	const char *point;
	int			intlen;

	initStringInfo(&out);
	if (*digits == '-')
	{
		appendStringInfoChar(&out, '-');
		digits++;
	}
	point = strchr(digits, '.');
	intlen = point ? (int) (point - digits) : (int) strlen(digits);
	for (int i = 0; i < intlen; i++)
	{
		if (i > 0 && (intlen - i) % 3 == 0)
			appendStringInfoChar(&out, ',');
		appendStringInfoChar(&out, digits[i]);
	}
	if (point)
		appendStringInfoString(&out, point);
	return out.data;
}

static Numeric
pdf_add(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(a), NumericGetDatum(b)));
}

/*------------------------------------------------------------------------
 * The font
 *------------------------------------------------------------------------
 */

static uint32
get32(const unsigned char *p)
{
	return ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
}

static void
put32(unsigned char *p, uint32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

#define GET16(p) ((uint16) (((p)[0] << 8) | (p)[1]))

/*
 * pdf_font_for_cairo: the font file rewritten for drawing, malloc'd, NULL
 * when its tables are not what a TrueType font has.  Two changes, both for
 * time (measured on the demo invoice: 6.5 ms a render before, 2.4 ms after):
 * - its cmap is empty (one format 4 segment, 0xFFFF to glyph 0).  cairo
 *   1.16 looks up the Unicode character of every glyph a document uses by
 *   scanning the font's (3,1) cmap, 4,996 segments in IPAex Gothic.  The
 *   characters are mapped to glyphs on the original face (show_left), and
 *   cairo writes the text it is given as the PDF's ToUnicode map, so text
 *   copied out of the PDF is the same.
 * - its glyphs have no hinting instructions (46% of IPAex Gothic's glyph
 *   data): cairo embeds and compresses each document's subset, and PDF
 *   viewers do not run TrueType hinting.  The outlines are unchanged.
 */
static unsigned char *
pdf_font_for_cairo(const char *path, size_t *size_out)
{
	static const unsigned char empty_cmap[] = {
		0, 0, 0, 1,				/* version 0, one subtable */
		0, 3, 0, 1, 0, 0, 0, 12,	/* platform 3 (Windows), encoding 1 (BMP), at 12 */
		0, 4, 0, 24, 0, 0,		/* format 4, length 24, language 0 */
		0, 2, 0, 2, 0, 0, 0, 0,	/* one segment: segCountX2, searchRange, entrySelector, rangeShift */
		0xFF, 0xFF, 0, 0,		/* endCode 0xFFFF, reservedPad */
		0xFF, 0xFF,				/* startCode 0xFFFF */
		0, 1,					/* idDelta 1: 0xFFFF maps to glyph 0 */
		0, 0					/* idRangeOffset */
	};
	FILE	   *f = fopen(path, "rb");
	long		len;
	unsigned char *in = NULL;
	unsigned char *out = NULL;
	unsigned char *glyf = NULL;
	unsigned char *loca = NULL;
	int			ntables;
	const unsigned char *t_head = NULL, *t_maxp = NULL, *t_loca = NULL, *t_glyf = NULL;
	uint32		l_loca = 0,
				l_glyf = 0;
	int			long_loca,
				nglyphs;
	size_t		glyf_len = 0,
				out_len,
				pos;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 12 || fseek(f, 0, SEEK_SET) != 0
		|| (in = malloc(len)) == NULL || fread(in, 1, len, f) != (size_t) len)
		goto fail;
	fclose(f);
	f = NULL;

	ntables = GET16(in + 4);
	if (12 + 16 * ntables > len)
		goto fail;
	for (int i = 0; i < ntables; i++)
	{
		const unsigned char *e = in + 12 + 16 * i;
		uint32		off = get32(e + 8),
					l = get32(e + 12);

		if (off > (uint32) len || l > (uint32) len - off)
			goto fail;
		if (memcmp(e, "head", 4) == 0 && l >= 54)
			t_head = in + off;
		else if (memcmp(e, "maxp", 4) == 0 && l >= 6)
			t_maxp = in + off;
		else if (memcmp(e, "loca", 4) == 0)
			t_loca = in + off, l_loca = l;
		else if (memcmp(e, "glyf", 4) == 0)
			t_glyf = in + off, l_glyf = l;
	}
	if (!t_head || !t_maxp || !t_loca || !t_glyf)
		goto fail;
	long_loca = GET16(t_head + 50) != 0;
	nglyphs = GET16(t_maxp + 4);
	if ((uint32) (nglyphs + 1) * (long_loca ? 4 : 2) > l_loca)
		goto fail;

	/* the glyphs without instructions, and their offsets (long format) */
	if ((glyf = malloc(l_glyf + 4 * (nglyphs + 1))) == NULL
		|| (loca = malloc(4 * (nglyphs + 1))) == NULL)
		goto fail;
	for (int g = 0; g < nglyphs; g++)
	{
		uint32		a = long_loca ? get32(t_loca + 4 * g) : 2 * (uint32) GET16(t_loca + 2 * g);
		uint32		b = long_loca ? get32(t_loca + 4 * g + 4) : 2 * (uint32) GET16(t_loca + 2 * g + 2);
		const unsigned char *src = t_glyf + a;

		put32(loca + 4 * g, glyf_len);
		if (b < a || b > l_glyf)
			goto fail;
		if (b - a >= 12 && (int16) GET16(src) >= 0)
		{
			/* a simple glyph: header, end points, instructions, flags and points */
			uint32		head = 10 + 2 * (uint32) GET16(src);
			uint32		ins;

			if (head + 2 > b - a || head + 2 + (ins = GET16(src + head)) > b - a)
				goto fail;
			memcpy(glyf + glyf_len, src, head);
			glyf[glyf_len + head] = glyf[glyf_len + head + 1] = 0;
			memcpy(glyf + glyf_len + head + 2, src + head + 2 + ins, (b - a) - head - 2 - ins);
			glyf_len += (b - a) - ins;
		}
		else
		{
			memcpy(glyf + glyf_len, src, b - a);
			glyf_len += b - a;
		}
		while (glyf_len % 4 != 0)
			glyf[glyf_len++] = 0;
	}
	put32(loca + 4 * nglyphs, glyf_len);

	/* the font: the same tables, glyf, loca and cmap replaced */
	out_len = 12 + 16 * ntables;
	for (int i = 0; i < ntables; i++)
	{
		const unsigned char *e = in + 12 + 16 * i;
		uint32		l = memcmp(e, "glyf", 4) == 0 ? glyf_len
			: memcmp(e, "loca", 4) == 0 ? (uint32) (4 * (nglyphs + 1))
			: memcmp(e, "cmap", 4) == 0 ? (uint32) sizeof(empty_cmap) : get32(e + 12);

		out_len += (l + 3) & ~3;
	}
	if ((out = calloc(1, out_len)) == NULL)
		goto fail;
	memcpy(out, in, 12 + 16 * ntables);
	pos = 12 + 16 * ntables;
	for (int i = 0; i < ntables; i++)
	{
		unsigned char *e = out + 12 + 16 * i;
		const unsigned char *data = in + get32(e + 8);
		uint32		l = get32(e + 12);

		if (memcmp(e, "glyf", 4) == 0)
			data = glyf, l = glyf_len;
		else if (memcmp(e, "loca", 4) == 0)
			data = loca, l = 4 * (nglyphs + 1);
		else if (memcmp(e, "cmap", 4) == 0)
			data = empty_cmap, l = sizeof(empty_cmap);
		memcpy(out + pos, data, l);
		if (memcmp(e, "head", 4) == 0)
		{
			out[pos + 50] = 0;	/* indexToLocFormat: long */
			out[pos + 51] = 1;
		}
		put32(e + 8, pos);
		put32(e + 12, l);
		pos += (l + 3) & ~3;
	}
	free(in);
	free(glyf);
	free(loca);
	*size_out = out_len;
	return out;

fail:
	if (f != NULL)
		fclose(f);
	free(in);
	free(glyf);
	free(loca);
	free(out);
	return NULL;
}

static void pdf_font_error(const char *what, int err) pg_attribute_noreturn();

static void
pdf_font_error(const char *what, int err)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("could not %s the invoice font \"%s\": FreeType error %d", what, BILLING_PDF_FONT, err),
			 errdetail("The PDF invoice is printed in IPAex Gothic, read from that file (a TrueType font)."),
			 errhint("Install the IPAex fonts (Debian package fonts-ipaexfont), or build billing with "
					 "make BILLING_PDF_FONT=/path/to/a/japanese.ttf.")));
}

/*
 * pdf_load_font opens the font once per backend: the face that maps
 * characters to glyphs and gives their advances, and the face cairo draws
 * with (pdf_font_for_cairo: the same outlines, no cmap, no hinting).  Kept for the backend's life.
 */
static void
pdf_load_font(void)
{
	FT_Error	err;
	FT_Face		face;
	FT_Face		draw_face;
	unsigned char *copy;
	size_t		copy_size = 0;
	cairo_font_face_t *font;

	if (pdf_font != NULL)
		return;
	if (pdf_ft_library == NULL && (err = FT_Init_FreeType(&pdf_ft_library)) != 0)
	{
		pdf_ft_library = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not initialize FreeType for the invoice PDF: error %d", err)));
	}
	if ((err = FT_New_Face(pdf_ft_library, BILLING_PDF_FONT, 0, &face)) != 0)
		pdf_font_error("open", err);
	if ((err = FT_Select_Charmap(face, FT_ENCODING_UNICODE)) != 0 || !FT_IS_SFNT(face))
	{
		FT_Done_Face(face);
		pdf_font_error("find the Unicode characters of", err);
	}
	if ((copy = pdf_font_for_cairo(BILLING_PDF_FONT, &copy_size)) == NULL)
	{
		FT_Done_Face(face);
		pdf_font_error("read the tables of", 0);
	}
	if ((err = FT_New_Memory_Face(pdf_ft_library, copy, (FT_Long) copy_size, 0, &draw_face)) != 0)
	{
		free(copy);
		FT_Done_Face(face);
		pdf_font_error("load", err);
	}
	pdf_advances = malloc(sizeof(uint16) * face->num_glyphs);
	if (pdf_bmp_glyphs == NULL)
		pdf_bmp_glyphs = malloc(sizeof(uint16) * 0x10000);
	if (pdf_advances == NULL || pdf_bmp_glyphs == NULL)
	{
		free(pdf_advances);
		pdf_advances = NULL;
		FT_Done_Face(draw_face);
		free(copy);
		FT_Done_Face(face);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	memset(pdf_advances, 0xFF, sizeof(uint16) * face->num_glyphs);
	memset(pdf_bmp_glyphs, 0xFF, sizeof(uint16) * 0x10000);
	font = cairo_ft_font_face_create_for_ft_face(draw_face, 0);
	if (cairo_font_face_status(font) != CAIRO_STATUS_SUCCESS)
	{
		cairo_status_t status = cairo_font_face_status(font);

		cairo_font_face_destroy(font);
		FT_Done_Face(draw_face);
		free(copy);
		FT_Done_Face(face);
		free(pdf_advances);
		pdf_advances = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not use the invoice font \"%s\": %s", BILLING_PDF_FONT,
						cairo_status_to_string(status))));
	}
	pdf_ft_face = face;
	pdf_font = font;
}

/*------------------------------------------------------------------------
 * Drawing
 *------------------------------------------------------------------------
 */

/*
 * a character's glyph, cached for the BMP (FT_Get_Char_Index was 2% of a
 * render: every text is measured before it is drawn, a wrapped one
 * character by character)
 */
static FT_UInt
pdf_glyph(pg_wchar c)
{
	if (c >= 0x10000)
		return FT_Get_Char_Index(pdf_ft_face, c);
	if (pdf_bmp_glyphs[c] == 0xFFFF)
		pdf_bmp_glyphs[c] = (uint16) FT_Get_Char_Index(pdf_ft_face, c);
	return pdf_bmp_glyphs[c];
}

/* a glyph's advance in font units, cached */
static int
pdf_advance(FT_UInt gid)
{
	if (gid >= (FT_UInt) pdf_ft_face->num_glyphs)
		return 0;
	if (pdf_advances[gid] == 0xFFFF)
	{
		FT_Fixed	adv = 0;

		if (FT_Get_Advance(pdf_ft_face, gid, FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING, &adv) != 0)
			adv = 0;
		pdf_advances[gid] = (uint16) Min(adv, 0xFFFE);
	}
	return pdf_advances[gid];
}

/*
 * text_glyphs_into: the glyphs of a UTF-8 text from x, y at size, and its
 * clusters (one character, one glyph), into arrays of at least strlen(s);
 * returns their number
 */
static int
text_glyphs_into(const char *s, double x, double y, double size,
				 cairo_glyph_t *glyphs, cairo_text_cluster_t *clusters)
{
	double		scale = size / pdf_ft_face->units_per_EM;
	int			n = 0;

	for (const unsigned char *p = (const unsigned char *) s; *p != '\0';)
	{
		int			clen = pg_utf_mblen(p);
		FT_UInt		gid = pdf_glyph(utf8_to_unicode(p));

		glyphs[n].index = gid;
		glyphs[n].x = x;
		glyphs[n].y = y;
		clusters[n].num_bytes = clen;
		clusters[n].num_glyphs = 1;
		x += pdf_advance(gid) * scale;
		n++;
		p += clen;
	}
	return n;
}

/* the advance of a UTF-8 text at size */
static double
text_advance(const char *s, double size)
{
	int			units = 0;

	for (const unsigned char *p = (const unsigned char *) s; *p != '\0';)
	{
		units += pdf_advance(pdf_glyph(utf8_to_unicode(p)));
		p += pg_utf_mblen(p);
	}
	return units * (size / pdf_ft_face->units_per_EM);
}

static double
text_width(cairo_t *cr, double size, const char *s)
{
	return text_advance(s, size);
}

/*
 * What a page draws is collected and drawn at its end (pdf_flush_page), in
 * few cairo calls: the grey fills, then the rules of each width as one
 * path, then the glyphs of each text size in one cairo_show_text_glyphs.
 * cairo records each call and replays it twice (analysis and output) and
 * writes a text object per call; one call per size instead of one per
 * text, and a table's column rule as one line instead of one per row,
 * took the render of a bench invoice of 10 lines from 2.6 to 2.0 ms of
 * CPU (test/bench/pdf.sh's data).  The page looks the same: its fills
 * under its rules and text, as before.
 */
#define PDF_SIZES	12			/* text sizes on a page (show_fit adds some) */
#define PDF_WIDTHS	8			/* line widths on a page */

typedef struct PdfTextRun
{
	double		size;
	StringInfoData utf8;
	cairo_glyph_t *glyphs;
	cairo_text_cluster_t *clusters;
	int			n;
	int			cap;
} PdfTextRun;

typedef struct PdfRule
{
	double		x,
				y,
				x2,				/* a line to x2, y2; a rectangle's width, height */
				y2;
	bool		rect;
} PdfRule;

typedef struct PdfRules
{
	double		width;
	PdfRule    *rules;
	int			n;
	int			cap;
} PdfRules;

typedef struct PdfPageOps
{
	PdfTextRun	text[PDF_SIZES];
	int			ntext;
	PdfRules	rules[PDF_WIDTHS];
	int			nrules;
	PdfRules	fills;			/* the grey rectangles */
} PdfPageOps;

static PdfPageOps *pdf_ops = NULL;	/* the page being drawn, set by pdf_draw */

static void pdf_flush_page(cairo_t *cr);

static void
rules_add(PdfRules *r, double x, double y, double x2, double y2, bool rect)
{
	if (r->n == r->cap)
	{
		r->cap = r->cap ? r->cap * 2 : 64;
		r->rules = r->rules ? repalloc(r->rules, sizeof(PdfRule) * r->cap) : palloc(sizeof(PdfRule) * r->cap);
	}
	r->rules[r->n].x = x;
	r->rules[r->n].y = y;
	r->rules[r->n].x2 = x2;
	r->rules[r->n].y2 = y2;
	r->rules[r->n].rect = rect;
	r->n++;
}

/* the rules of a width: a line, or a rectangle's outline */
static void
rule_add(cairo_t *cr, double width, double x, double y, double x2, double y2, bool rect)
{
	int			i;

	for (i = 0; i < pdf_ops->nrules; i++)
		if (pdf_ops->rules[i].width == width)
			break;
	if (i == PDF_WIDTHS)
	{
		pdf_flush_page(cr);
		i = 0;
	}
	if (i == pdf_ops->nrules)
	{
		pdf_ops->rules[i].width = width;
		pdf_ops->nrules++;
	}
	/*
	 * a line that continues one of the last few (a column's rule row after
	 * row): that line made longer, so a table's column is one rule
	 */
	if (!rect)
	{
		PdfRules   *r = &pdf_ops->rules[i];

		for (int k = r->n - 1; k >= 0 && k >= r->n - 8; k--)
		{
			PdfRule    *l = &r->rules[k];

			if (l->rect)
				continue;
			if (x == x2 && l->x == x && l->x2 == x && l->y2 == y && y2 > y)
			{
				l->y2 = y2;
				return;
			}
			if (y == y2 && l->y == y && l->y2 == y && l->x2 == x && x2 > x)
			{
				l->x2 = x2;
				return;
			}
		}
	}
	rules_add(&pdf_ops->rules[i], x, y, x2, y2, rect);
}

static void
show_left(cairo_t *cr, double x, double y, double size, const char *s)
{
	PdfTextRun *run;
	int			len = strlen(s);
	int			i;
	int			n;

	if (len == 0)
		return;
	for (i = 0; i < pdf_ops->ntext; i++)
		if (pdf_ops->text[i].size == size)
			break;
	if (i == PDF_SIZES)
	{
		pdf_flush_page(cr);
		i = 0;
	}
	run = &pdf_ops->text[i];
	if (i == pdf_ops->ntext)
	{
		run->size = size;
		initStringInfo(&run->utf8);
		run->cap = Max(256, len);
		run->glyphs = palloc(sizeof(cairo_glyph_t) * run->cap);
		run->clusters = palloc(sizeof(cairo_text_cluster_t) * run->cap);
		run->n = 0;
		pdf_ops->ntext++;
	}
	if (run->n + len > run->cap)
	{
		run->cap = Max(run->cap * 2, run->n + len);
		run->glyphs = repalloc(run->glyphs, sizeof(cairo_glyph_t) * run->cap);
		run->clusters = repalloc(run->clusters, sizeof(cairo_text_cluster_t) * run->cap);
	}
	n = text_glyphs_into(s, x, y, size, run->glyphs + run->n, run->clusters + run->n);
	run->n += n;
	appendBinaryStringInfo(&run->utf8, s, len);
}

/* draws what the page collected, and forgets it */
static void
pdf_flush_page(cairo_t *cr)
{
	PdfPageOps *ops = pdf_ops;

	if (ops->fills.n > 0)
	{
		cairo_set_source_rgb(cr, 0.90, 0.90, 0.90);
		for (int i = 0; i < ops->fills.n; i++)
			cairo_rectangle(cr, ops->fills.rules[i].x, ops->fills.rules[i].y,
							ops->fills.rules[i].x2, ops->fills.rules[i].y2);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0, 0, 0);
		ops->fills.n = 0;
	}
	for (int w = 0; w < ops->nrules; w++)
	{
		PdfRules   *r = &ops->rules[w];

		for (int i = 0; i < r->n; i++)
		{
			PdfRule    *l = &r->rules[i];

			if (l->rect)
				cairo_rectangle(cr, l->x, l->y, l->x2, l->y2);
			else
			{
				cairo_move_to(cr, l->x, l->y);
				cairo_line_to(cr, l->x2, l->y2);
			}
		}
		cairo_set_line_width(cr, r->width);
		cairo_stroke(cr);
		r->n = 0;
	}
	ops->nrules = 0;
	for (int t = 0; t < ops->ntext; t++)
	{
		PdfTextRun *run = &ops->text[t];

		cairo_set_font_size(cr, run->size);
		cairo_show_text_glyphs(cr, run->utf8.data, run->utf8.len, run->glyphs, run->n,
							   run->clusters, run->n, 0);
		pfree(run->utf8.data);
		pfree(run->glyphs);
		pfree(run->clusters);
	}
	ops->ntext = 0;
}

/*
 * show_fit: text from x that must stay within width: smaller, down to 6
 * points, when it is too wide at size; cut with "…" when even that is too
 * wide (a reference, a name that would run into the next column)
 */
static void
show_fit(cairo_t *cr, double x, double y, double size, double width, const char *s)
{
	double		w = text_width(cr, size, s);
	const char *p = s;
	double		cut = 0;
	double		ellipsis;

	if (w <= width)
	{
		show_left(cr, x, y, size, s);
		return;
	}
	if (w * 6 / size <= width)
	{
		show_left(cr, x, y, size * width / w, s);
		return;
	}
	ellipsis = text_width(cr, 6, "…");
	while (*p != '\0')
	{
		int			len = pg_utf_mblen((const unsigned char *) p);
		char		ch[8];
		double		cw;

		memcpy(ch, p, len);
		ch[len] = '\0';
		cw = text_width(cr, 6, ch);
		if (cut + cw + ellipsis > width)
			break;
		cut += cw;
		p += len;
	}
	show_left(cr, x, y, 6, psprintf("%.*s…", (int) (p - s), s));
}

static void
show_right(cairo_t *cr, double x, double y, double size, const char *s)
{
	show_left(cr, x - text_width(cr, size, s), y, size, s);
}

static void
show_center(cairo_t *cr, double x, double y, double size, const char *s)
{
	show_left(cr, x - text_width(cr, size, s) / 2, y, size, s);
}

static void
line(cairo_t *cr, double x1, double y1, double x2, double y2, double width)
{
	rule_add(cr, width, x1, y1, x2, y2, false);
}

/* a box, filled light grey when asked */
static void
box(cairo_t *cr, double x, double y, double w, double h, bool fill, double width)
{
	if (fill)
		rules_add(&pdf_ops->fills, x, y, w, h, true);
	rule_add(cr, width, x, y, w, h, true);
}

/*
 * pdf_wrap breaks text into rows no wider than width: at any character
 * (Japanese has no spaces), but after a blank when a Latin word would be
 * cut.  More than max_rows rows end the last one with "…".
 */
static int
pdf_wrap(cairo_t *cr, double size, const char *text, double width, char **rows, int max_rows)
{
	const char *p = text;
	int			n = 0;

	while (*p != '\0' && n < max_rows)
	{
		const char *start = p;
		const char *last_blank = NULL;
		double		w = 0;

		while (*p != '\0')
		{
			int			len = pg_utf_mblen((const unsigned char *) p);
			char		ch[8];
			double		cw;

			memcpy(ch, p, len);
			ch[len] = '\0';
			cw = text_width(cr, size, ch);
			if (w + cw > width && p > start)
				break;
			w += cw;
			if (*p == ' ')
				last_blank = p + 1;
			p += len;
		}
		/* a Latin word cut in two: break after the blank before it */
		if (*p != '\0' && last_blank != NULL && last_blank < p
			&& isalnum((unsigned char) *p) && isalnum((unsigned char) p[-1]))
			p = last_blank;
		if (n == max_rows - 1 && *p != '\0')
		{
			/* the last row: as much as fits before "…" */
			const char *end = start;
			double		ew = text_width(cr, size, "…");

			w = 0;
			while (*end != '\0')
			{
				int			len = pg_utf_mblen((const unsigned char *) end);
				char		ch[8];

				memcpy(ch, end, len);
				ch[len] = '\0';
				if (w + text_width(cr, size, ch) + ew > width)
					break;
				w += text_width(cr, size, ch);
				end += len;
			}
			rows[n++] = psprintf("%.*s…", (int) (end - start), start);
			return n;
		}
		rows[n] = pnstrdup(start, p - start);
		/* the blank a row broke at does not start the next one */
		while (*p == ' ')
			p++;
		n++;
	}
	if (n == 0)
		rows[n++] = pstrdup("");
	return n;
}

typedef struct PdfPage
{
	int			first;			/* first line on the page */
	int			end;			/* one past its last line */
} PdfPage;

/* rows the end of the last page needs below the subtotal */
static int
trailer_rows(PdfInvoice *inv)
{
	int			bank_rows = inv->has_bank ? (inv->iban ? 3 : 2) : 1;

	return (inv->any_reduced ? 1 : 0) + 1 + 1 + Max(inv->ntaxes, 1) + 1 + 1 + bank_rows;
}

/*
 * pdf_paginate: the lines of each page.  A page that is not the last ends
 * with the sum carried to the next (次頁へ繰越); a page after the first
 * starts with it (前頁より繰越); the last has the subtotal and the trailer
 * (per-rate summary, due date, bank account).
 */
static PdfPage *
pdf_paginate(PdfInvoice *inv, int *npages)
{
	int			rows1 = (int) ((BODY_BOTTOM - BODY_TOP_1) / ROW_H);
	int			rowsn = (int) ((BODY_BOTTOM - BODY_TOP_N) / ROW_H);
	int			trailer = 1 + trailer_rows(inv);
	PdfPage    *pages = palloc(sizeof(PdfPage) * (inv->nlines + 2));
	int			p = 0;
	int			i = 0;

	for (;;)
	{
		int			cap = (p == 0) ? rows1 : rowsn - 1;
		int			rest = 0;
		int			used = 0;

		for (int j = i; j < inv->nlines; j++)
			rest += inv->lines[j].nrows;
		pages[p].first = i;
		if (rest + trailer <= cap)
		{
			pages[p++].end = inv->nlines;
			break;
		}
		while (i < inv->nlines && used + inv->lines[i].nrows <= cap - 1)
			used += inv->lines[i++].nrows;
		pages[p++].end = i;
	}
	*npages = p;
	return pages;
}

static const char *const summary_labels[6] = {
	"前回御請求額", "御入金額", "繰越金額", "今回御買上額", "消費税額", "今回御請求額"
};

/* the lines' table header at y */
static void
draw_table_header(cairo_t *cr, double y)
{
	static const char *const heads[] = {"日付", "伝票番号", "区分", "摘要", "金額", "税率"};

	box(cr, col[0], y, col[6] - col[0], ROW_H, true, 0.6);
	for (int c = 0; c < 6; c++)
	{
		show_center(cr, (col[c] + col[c + 1]) / 2, y + 10, ROW_TEXT, heads[c]);
		if (c > 0)
			line(cr, col[c], y, col[c], y + ROW_H, 0.4);
	}
}

/* one row's verticals and bottom rule */
static void
draw_row_frame(cairo_t *cr, double y, int rows)
{
	double		h = ROW_H * rows;

	/* the inner rules and the bottom, then the sides */
	for (int c = 1; c < 6; c++)
		line(cr, col[c], y, col[c], y + h, 0.3);
	line(cr, col[0], y + h, col[6], y + h, 0.3);
	line(cr, col[0], y, col[0], y + h, 0.6);
	line(cr, col[6], y, col[6], y + h, 0.6);
}

/* a row with only a label in the description and an amount: carries, subtotal */
static void
draw_sum_row(cairo_t *cr, double y, const char *label, Numeric sum, int scale)
{
	draw_row_frame(cr, y, 1);
	show_left(cr, col[COL_ITEM] + 4, y + 10, ROW_TEXT, label);
	show_right(cr, col[COL_RATE] - 4, y + 10, ROW_TEXT, pdf_amount(sum, scale));
}

/* the first page's header: title, number, date, buyer, issuer, summary box */
static void
draw_first_header(cairo_t *cr, PdfInvoice *inv)
{
	double		y;
	double		cw = (MARGIN_R - MARGIN_L) / 6;
	char	   *rows[2];
	int			n;

	show_center(cr, PAGE_W / 2, 55, 22, "請求書");
	line(cr, PAGE_W / 2 - 50, 62, PAGE_W / 2 + 50, 62, 0.8);
	show_right(cr, MARGIN_R, 82, 9, psprintf("請求書番号: %s", inv->number));
	show_right(cr, MARGIN_R, 95, 9, psprintf("請求日: %s", inv->invoice_date));

	/* the buyer */
	show_fit(cr, MARGIN_L, 112, 14, 300 - MARGIN_L, psprintf("%s 御中", inv->buyer_name));
	line(cr, MARGIN_L, 117, 300, 117, 0.8);
	y = 131;
	if (inv->buyer_postal || inv->buyer_address)
	{
		show_left(cr, MARGIN_L, y, 8.5,
				  psprintf("%s%s%s", inv->buyer_postal ? "〒" : "", inv->buyer_postal ? inv->buyer_postal : "",
						   inv->buyer_address ? psprintf(" %s", inv->buyer_address) : ""));
		y += 12;
	}
	show_left(cr, MARGIN_L, y, 8.5, psprintf("得意先コード: %s", inv->buyer_code));

	/* the issuer */
	y = 118;
	show_fit(cr, 340, y, 11, MARGIN_R - 340, inv->legal_name);
	y += 13;
	if (inv->brand_postal)
	{
		show_left(cr, 340, y, 8.5, psprintf("〒%s", inv->brand_postal));
		y += 11;
	}
	if (inv->brand_address)
	{
		n = pdf_wrap(cr, 8.5, inv->brand_address, MARGIN_R - 340, rows, 2);
		for (int i = 0; i < n; i++, y += 11)
			show_left(cr, 340, y, 8.5, rows[i]);
	}
	show_left(cr, 340, y + 2, 9, psprintf("登録番号: %s", inv->registration_number));

	show_left(cr, MARGIN_L, 192, 9, "下記のとおり御請求申し上げます。");
	show_left(cr, MARGIN_L, 206, 8.5, psprintf("対象期間: %s（締日: %s）", inv->period, inv->cutoff_date));
	if (strcmp(inv->currency, "JPY") == 0)
		show_right(cr, MARGIN_R, 206, 8.5, "（単位: 円）");
	else
		show_right(cr, MARGIN_R, 206, 8.5, psprintf("（通貨: %s）", inv->currency));

	/* the summary box: the six amounts of the closing-date layout */
	for (int c = 0; c < 6; c++)
	{
		double		x = MARGIN_L + c * cw;

		box(cr, x, 212, cw, 15, true, 0.6);
		show_center(cr, x + cw / 2, 223, 8.5, summary_labels[c]);
		box(cr, x, 227, cw, 24, false, c == 5 ? 1.4 : 0.6);
		show_right(cr, x + cw - 5, 244, c == 5 ? 11.5 : 10.5, pdf_amount(inv->amounts[c], inv->scale));
	}
}

/* a later page's running header */
static void
draw_running_header(cairo_t *cr, PdfInvoice *inv)
{
	char	   *buyer;

	show_left(cr, MARGIN_L, 50, 13, "請求書");
	show_left(cr, MARGIN_L + 50, 50, 9, psprintf("請求書番号: %s", inv->number));
	buyer = psprintf("%s 御中", inv->buyer_name);
	if (text_width(cr, 9, buyer) <= MARGIN_R - 330)
		show_right(cr, MARGIN_R, 50, 9, buyer);
	else
		show_fit(cr, 330, 50, 9, MARGIN_R - 330, buyer);
	show_right(cr, MARGIN_R, 63, 8.5, psprintf("請求日: %s", inv->invoice_date));
	line(cr, MARGIN_L, 68, MARGIN_R, 68, 0.6);
}

/* the end of the last page: legend, per-rate summary, due date, bank account */
static void
draw_trailer(cairo_t *cr, PdfInvoice *inv, double y)
{
	static const double tcol[] = {40.0, 150.0, 260.0, 370.0};

	if (inv->any_reduced)
	{
		show_left(cr, MARGIN_L, y + 10, ROW_TEXT, "※は軽減税率対象");
		y += ROW_H;
	}
	y += ROW_H;

	/* the tax lines: what the qualified-invoice rules require per rate */
	box(cr, tcol[0], y, tcol[3] - tcol[0], ROW_H, true, 0.6);
	show_center(cr, (tcol[0] + tcol[1]) / 2, y + 10, ROW_TEXT, "税率区分");
	show_center(cr, (tcol[1] + tcol[2]) / 2, y + 10, ROW_TEXT, "対象金額（税抜）");
	show_center(cr, (tcol[2] + tcol[3]) / 2, y + 10, ROW_TEXT, "消費税額");
	line(cr, tcol[1], y, tcol[1], y + ROW_H, 0.4);
	line(cr, tcol[2], y, tcol[2], y + ROW_H, 0.4);
	y += ROW_H;
	for (int t = 0; t < inv->ntaxes; t++, y += ROW_H)
	{
		PdfTax	   *tax = &inv->taxes[t];

		for (int c = 0; c < 4; c++)
			line(cr, tcol[c], y, tcol[c], y + ROW_H, c == 0 || c == 3 ? 0.6 : 0.3);
		line(cr, tcol[0], y + ROW_H, tcol[3], y + ROW_H, 0.3);
		show_left(cr, tcol[0] + 4, y + 10, ROW_TEXT,
				  tax->reduced ? psprintf("%s※", tax->label) : tax->label);
		show_right(cr, tcol[2] - 4, y + 10, ROW_TEXT, pdf_amount(tax->taxable, inv->scale));
		show_right(cr, tcol[3] - 4, y + 10, ROW_TEXT, pdf_amount(tax->tax, inv->scale));
	}
	if (inv->ntaxes == 0)
		y += ROW_H;
	y += ROW_H;

	show_left(cr, MARGIN_L, y + 10, 9,
			  psprintf("お支払期限: %s", inv->due_date ? inv->due_date : "定めなし"));
	y += ROW_H;
	if (inv->has_bank)
	{
		show_fit(cr, MARGIN_L, y + 10, 9, MARGIN_R - MARGIN_L, psprintf("振込先: %s %s", inv->bank, inv->account));
		y += ROW_H;
		show_left(cr, MARGIN_L + 40, y + 10, 9, psprintf("口座名義: %s", inv->holder));
		y += ROW_H;
		if (inv->iban)
			show_left(cr, MARGIN_L + 40, y + 10, 9, psprintf("IBAN: %s", inv->iban));
	}
	else
		show_left(cr, MARGIN_L, y + 10, 9, "振込先: 登録なし（お支払方法はお問い合わせください）");
}

/* one line of the invoice at y */
static void
draw_line(cairo_t *cr, PdfLine *l, int scale, double y)
{
	draw_row_frame(cr, y, l->nrows);
	show_left(cr, col[COL_DATE] + 3, y + 10, ROW_TEXT, l->date);
	for (int r = 0; r < l->nref; r++)
		show_left(cr, col[COL_REF] + 3, y + 10 + r * ROW_H, ROW_TEXT, l->ref_rows[r]);
	show_center(cr, (col[COL_KIND] + col[COL_ITEM]) / 2, y + 10, ROW_TEXT, l->kind);
	for (int r = 0; r < l->nitem; r++)
		show_left(cr, col[COL_ITEM] + 4, y + 10 + r * ROW_H, ROW_TEXT, l->item_rows[r]);
	show_right(cr, col[COL_RATE] - 4, y + 10, ROW_TEXT, pdf_amount(l->amount, scale));
	show_center(cr, (col[COL_RATE] + col[COL_RATE + 1]) / 2, y + 10, ROW_TEXT,
				l->reduced ? psprintf("%s※", l->rate) : l->rate);
}

static cairo_status_t
pdf_write(void *closure, const unsigned char *data, unsigned int length)
{
	PdfBuffer  *buf = (PdfBuffer *) closure;

	if (buf->len + length > buf->cap)
	{
		size_t		cap = Max(buf->cap * 2, buf->len + length + 65536);
		char	   *p;

		if (cap > MaxAllocSize - VARHDRSZ)
			return CAIRO_STATUS_WRITE_ERROR;
		p = realloc(buf->data, cap);
		if (p == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		buf->data = p;
		buf->cap = cap;
	}
	memcpy(buf->data + buf->len, data, length);
	buf->len += length;
	return CAIRO_STATUS_SUCCESS;
}

/* the whole document, on a surface that writes into buf */
static void
pdf_draw(cairo_surface_t *surface, cairo_t *cr, PdfInvoice *inv)
{
	PdfPage    *pages;
	int			npages;
	Numeric		sum = int64_to_numeric(0);
	cairo_font_options_t *options;

	cairo_set_font_face(cr, pdf_font);
	options = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
	cairo_set_font_options(cr, options);
	cairo_font_options_destroy(options);
	cairo_set_source_rgb(cr, 0, 0, 0);
	pdf_ops = palloc0(sizeof(PdfPageOps));

	for (int i = 0; i < inv->nlines; i++)
	{
		PdfLine    *l = &inv->lines[i];

		l->nitem = pdf_wrap(cr, ROW_TEXT, l->item, col[COL_ITEM + 1] - col[COL_ITEM] - 8, l->item_rows, ITEM_ROWS);
		l->nref = pdf_wrap(cr, ROW_TEXT, l->reference, col[COL_KIND] - col[COL_REF] - 5, l->ref_rows, REF_ROWS);
		l->nrows = Max(l->nitem, l->nref);
	}
	pages = pdf_paginate(inv, &npages);

	for (int p = 0; p < npages; p++)
	{
		double		y;

		/* a cancel is honoured between pages */
		CHECK_FOR_INTERRUPTS();
		if (p == 0)
		{
			draw_first_header(cr, inv);
			y = BODY_TOP_1 - ROW_H;
		}
		else
		{
			draw_running_header(cr, inv);
			y = BODY_TOP_N - ROW_H;
		}
		draw_table_header(cr, y);
		y += ROW_H;
		if (p > 0)
		{
			draw_sum_row(cr, y, "前頁より繰越", sum, inv->scale);
			y += ROW_H;
		}
		for (int i = pages[p].first; i < pages[p].end; i++)
		{
			draw_line(cr, &inv->lines[i], inv->scale, y);
			y += ROW_H * inv->lines[i].nrows;
			sum = pdf_add(sum, inv->lines[i].amount);
		}
		if (p < npages - 1)
			draw_sum_row(cr, y, "次頁へ繰越", sum, inv->scale);
		else
		{
			draw_sum_row(cr, y, "小計", sum, inv->scale);
			draw_trailer(cr, inv, y + ROW_H);
		}
		show_center(cr, PAGE_W / 2, 815, 8.5, psprintf("%d/%d", p + 1, npages));
		pdf_flush_page(cr);
		cairo_show_page(cr);
		if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
			break;
	}
}

/*
 * pdf_render(data jsonb) returns bytea: the PDF.  The creation date is the
 * data's "created" (the invoice's confirmation time), so the same data
 * gives the same bytes.
 */
Datum
billing_pdf_render(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	PdfInvoice	inv;
	PdfBuffer  *volatile buf = palloc0(sizeof(PdfBuffer));
	cairo_surface_t *volatile surface = NULL;
	cairo_t    *volatile cr = NULL;
	bytea	   *volatile result = NULL;

	CHECK_FOR_INTERRUPTS();
	pdf_parse(jb, &inv);
	pdf_load_font();

	PG_TRY();
	{
		cairo_status_t status;

		surface = cairo_pdf_surface_create_for_stream(pdf_write, buf, PAGE_W, PAGE_H);
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, psprintf("請求書 %s", inv.number));
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, inv.legal_name);
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "billing (PostgreSQL extension)");
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, inv.created);
		cr = cairo_create(surface);
		pdf_draw(surface, cr, &inv);
		cairo_destroy(cr);
		cr = NULL;
		cairo_surface_finish(surface);
		status = cairo_surface_status(surface);
		if (status != CAIRO_STATUS_SUCCESS)
			ereport(ERROR,
					(errcode(status == CAIRO_STATUS_NO_MEMORY ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INTERNAL_ERROR),
					 errmsg("could not render the PDF of invoice %s: %s", inv.number,
							cairo_status_to_string(status)),
					 errhint("A PDF is at most 1 GB.")));
		result = (bytea *) palloc(VARHDRSZ + buf->len);
		SET_VARSIZE(result, VARHDRSZ + buf->len);
		memcpy(VARDATA(result), buf->data, buf->len);
	}
	PG_FINALLY();
	{
		if (cr != NULL)
			cairo_destroy(cr);
		if (surface != NULL)
			cairo_surface_destroy(surface);
		free(buf->data);
	}
	PG_END_TRY();

	PG_RETURN_BYTEA_P(result);
}
