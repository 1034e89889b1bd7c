/*-------------------------------------------------------------------------
 * textform.c
 *	  The small scanner behind the text input of billing.cycle and
 *	  billing.due_rule: words, numbers and punctuation, with blanks allowed
 *	  between tokens (so "monthly : 20" reads like "monthly:20"); the
 *	  errors both types raise on bad input; and their binary I/O (both are
 *	  one int32 on the wire).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "libpq/pqformat.h"

#include "textform.h"

/* form_skip_blanks steps over white space */
void
form_skip_blanks(FormScanner *s)
{
	while (*s->p != '\0' && isspace((unsigned char) *s->p))
		s->p++;
}

/*
 * form_word reads a run of ASCII letters, lower-cased into buf.  It fails on
 * no letters or a word longer than buf (no valid word is that long).
 */
bool
form_word(FormScanner *s, char *buf, size_t buflen)
{
	size_t		n = 0;

	form_skip_blanks(s);
	while ((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z'))
	{
		if (n + 1 >= buflen)
			return false;
		buf[n++] = (char) tolower((unsigned char) *s->p);
		s->p++;
	}
	buf[n] = '\0';
	return n > 0;
}

/* form_char consumes c (after blanks) if it is next */
bool
form_char(FormScanner *s, char c)
{
	form_skip_blanks(s);
	if (*s->p != c)
		return false;
	s->p++;
	return true;
}

/*
 * form_number reads decimal digits.  Returns FORM_NUMBER_NONE when there are
 * none and FORM_NUMBER_HUGE when the value does not fit in an int32, so the
 * caller can tell bad syntax from a value out of range.
 */
int
form_number(FormScanner *s)
{
	int64		value = 0;
	bool		huge = false;
	bool		any = false;

	form_skip_blanks(s);
	while (*s->p >= '0' && *s->p <= '9')
	{
		any = true;
		if (!huge)
		{
			value = value * 10 + (*s->p - '0');
			if (value > PG_INT32_MAX)
				huge = true;
		}
		s->p++;
	}
	if (!any)
		return FORM_NUMBER_NONE;
	return huge ? FORM_NUMBER_HUGE : (int) value;
}

/* form_at_end is true when only blanks are left */
bool
form_at_end(FormScanner *s)
{
	form_skip_blanks(s);
	return *s->p == '\0';
}

/*
 * form_syntax_error reports text that is not a form of the type at all,
 * with the type's list of valid forms as the hint.
 */
void
form_syntax_error(const char *type_name, const char *input, const char *forms_hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", type_name, input),
			 errhint("%s", forms_hint)));
}

/* form_range_error reports a well-formed value whose number is out of range */
void
form_range_error(const char *type_name, const char *input, const char *detail,
				 const char *forms_hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s value out of range: \"%s\"", type_name, input),
			 errdetail("%s", detail),
			 errhint("%s", forms_hint)));
}

/*
 * form_recv_int32 reads the binary form shared by both types (one int32 in
 * network order) and refuses an encoding is_valid rejects.
 */
int32
form_recv_int32(StringInfo buf, const char *type_name, bool (*is_valid) (int32))
{
	int32		value = (int32) pq_getmsgint(buf, sizeof(int32));

	if (!is_valid(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external %s value %d", type_name, value)));
	return value;
}

/* form_send_int32 writes the binary form of either type */
bytea *
form_send_int32(int32 value)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, (uint32) value);
	return pq_endtypsend(&buf);
}
