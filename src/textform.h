/*-------------------------------------------------------------------------
 * textform.h
 *	  The scanner, errors and binary I/O shared by the text forms of
 *	  billing.cycle and billing.due_rule (src/textform.c).
 *-------------------------------------------------------------------------
 */
#ifndef BILLING_TEXTFORM_H
#define BILLING_TEXTFORM_H

#include "lib/stringinfo.h"

typedef struct FormScanner
{
	const char *p;
} FormScanner;

#define FORM_NUMBER_NONE	(-1)	/* no digits at the cursor */
#define FORM_NUMBER_HUGE	(-2)	/* more than fits in an int32 */

extern void form_skip_blanks(FormScanner *s);
extern bool form_word(FormScanner *s, char *buf, size_t buflen);
extern bool form_char(FormScanner *s, char c);
extern int	form_number(FormScanner *s);
extern bool form_at_end(FormScanner *s);

extern void form_syntax_error(const char *type_name, const char *input,
							  const char *forms_hint) pg_attribute_noreturn();
extern void form_range_error(const char *type_name, const char *input,
							 const char *detail, const char *forms_hint) pg_attribute_noreturn();
extern int32 form_recv_int32(StringInfo buf, const char *type_name,
							 bool (*is_valid) (int32));
extern bytea *form_send_int32(int32 value);

#endif							/* BILLING_TEXTFORM_H */
