/*-------------------------------------------------------------------------
 * uninstall.c
 *	  DROP EXTENSION billing keeps the money.  The tables are members of the
 *	  extension, so dropping it drops every invoice with them.  An event
 *	  trigger (src/sql/uninstall.sql) refuses, before anything is
 *	  dropped, a DROP EXTENSION, DROP SCHEMA or DROP OWNED that would take
 *	  the extension with it while any invoice exists, unless a superuser
 *	  has SET billing.allow_drop = on, after taking a dump.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "spi_util.h"
#include "uninstall.h"

PG_FUNCTION_INFO_V1(billing_refuse_drop_with_invoices);

/* billing.allow_drop: a superuser's consent to drop the extension's rows */
static bool allow_drop = false;

/* names_in reports whether a DROP's list of names holds the given one */
static bool
names_in(List *objects, const char *name)
{
	ListCell   *cell;

	foreach(cell, objects)
	{
		Node	   *object = lfirst(cell);

		if (IsA(object, String) && strcmp(strVal(object), name) == 0)
			return true;
	}
	return false;
}

/*
 * drops_extension reports whether a utility statement would drop the
 * extension: DROP EXTENSION naming it, DROP SCHEMA naming its schema (with
 * CASCADE), or DROP OWNED BY its owner.
 */
static bool
drops_extension(Node *parsetree, Oid schema, Oid owner)
{
	if (IsA(parsetree, DropStmt))
	{
		DropStmt   *drop = (DropStmt *) parsetree;

		if (drop->removeType == OBJECT_EXTENSION)
			return names_in(drop->objects, "billing");
		if (drop->removeType == OBJECT_SCHEMA)
			return names_in(drop->objects, get_namespace_name(schema));
		return false;
	}
	if (IsA(parsetree, DropOwnedStmt))
	{
		ListCell   *cell;

		foreach(cell, ((DropOwnedStmt *) parsetree)->roles)
		{
			if (get_rolespec_oid(lfirst(cell), true) == owner)
				return true;
		}
	}
	return false;
}

/*
 * billing_refuse_drop_with_invoices(): the ddl_command_start event trigger.  Only
 * a role that may drop the extension is told why it may not: anyone else
 * gets PostgreSQL's own permission error, and learns no count.
 */
Datum
billing_refuse_drop_with_invoices(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Oid			extension;
	Oid			owner;
	Oid			schema;
	int64		invoices;
	bool		isnull;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("billing_internal.refuse_drop_with_invoices() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;

	extension = get_extension_oid("billing", true);
	if (!OidIsValid(extension) || !pg_extension_ownercheck(extension, GetUserId()))
		PG_RETURN_VOID();

	SPI_connect();
	(void) billing_spi_exec("SELECT e.extowner, e.extnamespace FROM pg_catalog.pg_extension e"
							" WHERE e.extname OPERATOR(pg_catalog.=) 'billing'",
							0, NULL, NULL, NULL, true, 1,
							SPI_OK_SELECT, "reading the extension's owner");
	billing_spi_require_rows(1, "reading the extension's owner");
	owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	schema = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (!drops_extension(trigdata->parsetree, schema, owner) ||
		(allow_drop && superuser()))	/* consent, checked here however it was set */
	{
		SPI_finish();
		PG_RETURN_VOID();
	}
	(void) billing_spi_exec("SELECT pg_catalog.count(*) FROM billing.invoice",
							0, NULL, NULL, NULL, true, 1, SPI_OK_SELECT, "counting invoices");
	billing_spi_require_rows(1, "counting invoices");
	invoices = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	if (invoices == 0)
		PG_RETURN_VOID();
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg_plural("cannot drop extension billing: it holds %lld invoice",
						   "cannot drop extension billing: it holds %lld invoices",
						   invoices, (long long) invoices),
			 errdetail("Its tables are members of the extension: dropping it drops every invoice, tax line, "
					   "document, buyer and run with them."),
			 errhint("Take a dump of the database first (pg_dump --format=custom); then a superuser can "
					 "SET billing.allow_drop = on and drop it (README.md, \"Uninstall\").")));
	PG_RETURN_VOID();
}

/* billing_define_uninstall_gucs registers billing.allow_drop */
void
billing_define_uninstall_gucs(void)
{
	DefineCustomBoolVariable("billing.allow_drop",
							 "Lets a superuser drop the billing extension while it holds invoices.",
							 "DROP EXTENSION billing drops its tables and every invoice in them; take a dump first.",
							 &allow_drop,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 NULL, NULL, NULL);
}
