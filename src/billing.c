/*-------------------------------------------------------------------------
 * billing.c
 *	  Module entry point of the billing extension.
 *-------------------------------------------------------------------------
 */
#include "billing.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* _PG_init registers the extension's settings */
void
_PG_init(void)
{
	billing_define_run_gucs();
	billing_define_guard_gucs();
	billing_define_mail_gucs();
}
