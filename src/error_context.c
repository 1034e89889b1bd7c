/*-------------------------------------------------------------------------
 * error_context.c
 *	  Errors of the API without the extension's own CONTEXT frames.
 *
 *	  An error raised inside billing's functions reaches the caller with a
 *	  CONTEXT line for every frame it passed: the internal PL/pgSQL
 *	  functions, and the statements they ran (for invoice_xml, a query of
 *	  186 lines).  Those frames are not the caller's and say nothing a DBA
 *	  or an application can act on; the message, DETAIL and HINT do.  So an
 *	  emit_log_hook takes out of every error's context the frames of
 *	  functions in the schemas billing and billing_internal, with the
 *	  statements they ran, and keeps the caller's own frames (a function of
 *	  the application that called the API, say).  The setting
 *	  billing.internal_context = on keeps them all, for whoever debugs the
 *	  extension.  The hook sees what goes to the server log as well, so the
 *	  log line is trimmed the same way.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "error_context.h"

#include "lib/stringinfo.h"
#include "utils/elog.h"
#include "utils/guc.h"

static emit_log_hook_type prev_emit_log_hook = NULL;
static bool internal_context = false;

/* a context line that starts a frame (a statement line belongs to the next) */
static bool
starts_function_frame(const char *line)
{
	return strncmp(line, "PL/pgSQL function ", 18) == 0 ||
		strncmp(line, "SQL function \"", 14) == 0;
}

static bool
is_own_frame(const char *line)
{
	return strncmp(line, "PL/pgSQL function billing.", 26) == 0 ||
		strncmp(line, "PL/pgSQL function billing_internal.", 35) == 0;
}

/*
 * trimmed_context returns context without the frames of the extension's
 * functions: a frame is a function line with the statement lines before
 * it (the statements that function ran, each possibly of several lines).
 * NULL when nothing is left.
 */
static char *
trimmed_context(const char *context)
{
	StringInfoData out;
	StringInfoData pending;		/* the lines of the frame being read */
	const char *p = context;

	initStringInfo(&out);
	initStringInfo(&pending);
	while (*p)
	{
		const char *eol = strchr(p, '\n');
		int			len = eol ? (int) (eol - p) : (int) strlen(p);
		char	   *line = pnstrdup(p, len);

		appendStringInfo(&pending, "%s%s", pending.len > 0 ? "\n" : "", line);
		if (starts_function_frame(line))
		{
			/* the frame ends with its function line: keep it or drop it */
			if (!is_own_frame(line))
				appendStringInfo(&out, "%s%s", out.len > 0 ? "\n" : "", pending.data);
			resetStringInfo(&pending);
		}
		pfree(line);
		p = eol ? eol + 1 : p + len;
	}
	/* trailing lines of no function frame (the caller's own statement) */
	if (pending.len > 0)
		appendStringInfo(&out, "%s%s", out.len > 0 ? "\n" : "", pending.data);
	pfree(pending.data);
	if (out.len == 0)
	{
		pfree(out.data);
		return NULL;
	}
	return out.data;
}

static void
trim_internal_context(ErrorData *edata)
{
	if (edata->elevel == ERROR && edata->context != NULL && !internal_context &&
		strstr(edata->context, "function billing") != NULL)
	{
		MemoryContext oldcontext = MemoryContextSwitchTo(edata->assoc_context);

		edata->context = trimmed_context(edata->context);
		MemoryContextSwitchTo(oldcontext);
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* billing_error_context_init installs the hook and its setting */
void
billing_error_context_init(void)
{
	DefineCustomBoolVariable("billing.internal_context",
							 "Keeps the CONTEXT lines of billing's own functions in errors.",
							 "Off: an error raised inside the extension shows the caller's frames only.",
							 &internal_context, false, PGC_USERSET, 0, NULL, NULL, NULL);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = trim_internal_context;
}
