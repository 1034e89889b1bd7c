/*-------------------------------------------------------------------------
 * billing.c
 *	  Module entry point of the billing extension.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "error_context.h"
#include "guard.h"
#include "mailer.h"
#include "planner.h"
#include "progress.h"
#include "run.h"
#include "uninstall.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * _PG_init registers the extension's settings, then reserves their prefix:
 * a misspelt billing.* setting is an error, not a silent placeholder.
 */
void
_PG_init(void)
{
	billing_define_run_gucs();
	billing_define_worker_gucs();
	billing_define_guard_gucs();
	billing_install_api_write_passing();
	billing_install_planner();
	billing_define_uninstall_gucs();
	billing_define_mail_gucs();
	billing_progress_init();
	billing_error_context_init();
	/* last: reserves the prefix against every name not defined above */
	MarkGUCPrefixReserved("billing");
}
