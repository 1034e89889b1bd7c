/*-------------------------------------------------------------------------
 * textform.c
 *	  The small scanner behind the text input of billing.cycle and
 *	  billing.due_rule: words, numbers and punctuation, with blanks allowed
 *	  between tokens (so "monthly : 20" reads like "monthly:20").
 *-------------------------------------------------------------------------
 */
#include "billing.h"

#include <ctype.h>

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
