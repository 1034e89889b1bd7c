/*-------------------------------------------------------------------------
 * references.c
 *	  Version 0.2's reference triggers, kept in the library only for
 *	  databases whose SQL is still 0.2 until a DBA runs ALTER EXTENSION
 *	  billing UPDATE (installing this library makes it the library of every
 *	  database with the extension; 0.2's triggers call these symbols).
 *	  From 0.3 on the references are foreign keys (src/sql/tables.sql)
 *	  and nothing here is called; like run_v01.c, the file is frozen and
 *	  goes when 0.2 is no longer supported.
 *
 *	  In 0.2 the references were kept by triggers rather than foreign keys
 *	  so that pg_restore -j could load the tables in any order.
 *
 *	  billing.reference_check(parent, name_column, child_col, parent_col
 *	  [, child_col, parent_col]) is an AFTER INSERT OR UPDATE row trigger
 *	  (after row level security has checked the new row, as a foreign key
 *	  check comes, so that a row another brand's wall refuses fails the same
 *	  whether what it names exists or not):
 *	  the parent row that the child columns name exists in billing.parent,
 *	  and is locked FOR KEY SHARE so that it cannot go before this
 *	  transaction ends, as a foreign key would.  One allowance: while the
 *	  parent table has no row at all, nothing is checked (a restore loads
 *	  the parent later).  A NULL in the child columns is not checked (MATCH
 *	  SIMPLE).  It is written in C, with plans kept per trigger, because a
 *	  bulk load of documents checks every row: a PL/pgSQL check cost three
 *	  times what the foreign key did.
 *
 *	  billing.adoption_check(child, name_column, child_col, child_brand_col)
 *	  is the parent's side, an AFTER INSERT OR UPDATE row trigger on a
 *	  table keyed by (id, brand_id): a new parent row must not take over
 *	  child rows of another brand that named its id while the parent table
 *	  was empty.
 *
 *	  Like PostgreSQL's own foreign key checks, the queries run as the
 *	  table's owner with row level security not forced: a reference must be
 *	  checked against every row, whatever the caller may see.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "spi_util.h"

PG_FUNCTION_INFO_V1(reference_check);
PG_FUNCTION_INFO_V1(adoption_check);

#define MAX_REFERENCE_COLUMNS 2

/* the two plans of one trigger: lock the parent row; is it really missing */
typedef struct ReferencePlans
{
	Oid			trigger_oid;	/* hash key */
	SPIPlanPtr	lock_plan;
	SPIPlanPtr	missing_plan;
} ReferencePlans;

static HTAB *reference_plans = NULL;

/* label: a table name as words ("bank_account" -> "bank account") */
static char *
label(const char *name)
{
	char	   *s = pstrdup(name);

	for (char *p = s; *p; p++)
		if (*p == '_')
			*p = ' ';
	return s;
}

/* plans_of finds (or makes, empty) the kept plans of one trigger */
static ReferencePlans *
plans_of(Trigger *trigger)
{
	ReferencePlans *plans;
	bool		found;

	if (reference_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ReferencePlans);
		reference_plans = hash_create("billing reference plans", 32, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	plans = hash_search(reference_plans, &trigger->tgoid, HASH_ENTER, &found);
	if (!found)
	{
		plans->lock_plan = NULL;
		plans->missing_plan = NULL;
	}
	return plans;
}

/* prepare_plans makes and keeps the plans of one trigger */
static void
prepare_plans(ReferencePlans *plans, Trigger *trigger, int ncolumns, Oid *types)
{
	const char *parent = trigger->tgargs[0];
	StringInfoData cond;
	StringInfoData sql;

	initStringInfo(&cond);
	for (int i = 0; i < ncolumns; i++)
		appendStringInfo(&cond, "%sp.%s OPERATOR(pg_catalog.=) $%d", i > 0 ? " AND " : "",
						 quote_identifier(trigger->tgargs[3 + 2 * i]), i + 1);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT 1 FROM billing.%s p WHERE %s FOR KEY SHARE OF p",
					 quote_identifier(parent), cond.data);
	plans->lock_plan = billing_spi_prepare_kept(sql.data, ncolumns, types);

	resetStringInfo(&sql);
	appendStringInfo(&sql, "SELECT EXISTS (SELECT 1 FROM billing.%s)"
					 " AND NOT EXISTS (SELECT 1 FROM billing.%s p WHERE %s)",
					 quote_identifier(parent), quote_identifier(parent), cond.data);
	plans->missing_plan = billing_spi_prepare_kept(sql.data, ncolumns, types);
}

/* refuse_dangling raises the error of a child row whose parent is missing */
static void
refuse_dangling(Relation rel, HeapTuple tuple, Trigger *trigger, int ncolumns, Datum *values, Oid *types)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			name_att = SPI_fnumber(tupdesc, trigger->tgargs[1]);
	StringInfoData child;
	StringInfoData parent;

	initStringInfo(&child);
	appendStringInfoString(&child, label(RelationGetRelationName(rel)));
	if (name_att > 0)
	{
		char	   *name = SPI_getvalue(tuple, tupdesc, name_att);
		Oid			type = SPI_gettypeid(tupdesc, name_att);

		if (type == TEXTOID)
			appendStringInfo(&child, " \"%s\"", name ? name : "");
		else
			appendStringInfo(&child, " %s", name ? name : "(new)");
	}

	initStringInfo(&parent);
	appendStringInfoString(&parent, label(trigger->tgargs[0]));
	for (int i = 0; i < ncolumns; i++)
	{
		Oid			output;
		bool		varlena;
		char	   *value;

		getTypeOutputInfo(types[i], &output, &varlena);
		value = OidOutputFunctionCall(output, values[i]);
		if (i == 0)
			appendStringInfo(&parent, " %s", value);
		else if (strcmp(trigger->tgargs[3 + 2 * i], "brand_id") == 0)
			appendStringInfo(&parent, " of brand %s", value);
		else
			appendStringInfo(&parent, " (%s %s)", trigger->tgargs[3 + 2 * i], value);
	}

	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("%s refers to %s, which does not exist", child.data, parent.data),
			 errhint("Create it first, or use one listed by SELECT * FROM billing.%s.",
					 trigger->tgargs[0])));
}

/*
 * reference_check is the trigger; see the header comment.
 */
Datum
reference_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Relation	rel;
	TupleDesc	tupdesc;
	HeapTuple	newtuple;
	HeapTuple	oldtuple = NULL;
	int			ncolumns;
	Datum		values[MAX_REFERENCE_COLUMNS];
	Oid			types[MAX_REFERENCE_COLUMNS];
	bool		changed;
	ReferencePlans *plans;
	Oid			save_userid;
	int			save_sec_context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "billing.reference_check must be an AFTER INSERT OR UPDATE row trigger");
	trigger = trigdata->tg_trigger;
	ncolumns = (trigger->tgnargs - 2) / 2;
	if (trigger->tgnargs % 2 != 0 || ncolumns < 1 || ncolumns > MAX_REFERENCE_COLUMNS)
		elog(ERROR, "billing.reference_check(parent, name_column, child_col, parent_col [, child_col, parent_col])"
			 " got %d arguments", trigger->tgnargs);

	rel = trigdata->tg_relation;
	tupdesc = RelationGetDescr(rel);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		newtuple = trigdata->tg_newtuple;
		oldtuple = trigdata->tg_trigtuple;
	}
	else
		newtuple = trigdata->tg_trigtuple;

	changed = (oldtuple == NULL);
	for (int i = 0; i < ncolumns; i++)
	{
		int			att = SPI_fnumber(tupdesc, trigger->tgargs[2 + 2 * i]);
		Form_pg_attribute attr;
		bool		isnull;

		if (att <= 0)
			elog(ERROR, "billing.reference_check: table %s has no column \"%s\"",
				 RelationGetRelationName(rel), trigger->tgargs[2 + 2 * i]);
		attr = TupleDescAttr(tupdesc, att - 1);
		values[i] = heap_getattr(newtuple, att, tupdesc, &isnull);
		if (isnull)
			return PointerGetDatum(NULL);	/* MATCH SIMPLE */
		types[i] = attr->atttypid;
		if (!changed)
		{
			bool		oldnull;
			Datum		old = heap_getattr(oldtuple, att, tupdesc, &oldnull);

			changed = oldnull || !datumIsEqual(old, values[i], attr->attbyval, attr->attlen);
		}
	}
	if (!changed)
		return PointerGetDatum(NULL);

	SPI_connect();
	plans = plans_of(trigger);
	if (plans->lock_plan == NULL || plans->missing_plan == NULL)
		prepare_plans(plans, trigger, ncolumns, types);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);

	(void) billing_spi_exec_plan(plans->lock_plan, values, NULL, false, 1,
								 SPI_OK_SELECT, "reference lookup");
	if (SPI_processed == 0)
	{
		bool		isnull;
		bool		missing;

		/*
		 * One snapshot: the parent's table is still empty (nothing loaded
		 * there yet), or the parent came since the lookup above (then lock
		 * it too), or it is missing.
		 */
		(void) billing_spi_exec_plan(plans->missing_plan, values, NULL, false, 1,
									 SPI_OK_SELECT, "reference check");
		billing_spi_require_rows(1, "reference check");
		missing = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (missing)
		{
			SetUserIdAndSecContext(save_userid, save_sec_context);
			refuse_dangling(rel, newtuple, trigger, ncolumns, values, types);
		}
		(void) billing_spi_exec_plan(plans->lock_plan, values, NULL, false, 1,
									 SPI_OK_SELECT, "reference lookup");
	}

	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* adoption_plan makes and keeps the plan of one adoption_check trigger */
static SPIPlanPtr
adoption_plan(Trigger *trigger)
{
	StringInfoData sql;
	Oid			types[2] = {INT8OID, INT8OID};

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT c.%s::pg_catalog.text FROM billing.%s c"
					 " WHERE c.%s OPERATOR(pg_catalog.=) $1 AND c.%s OPERATOR(pg_catalog.<>) $2 LIMIT 1",
					 quote_identifier(trigger->tgargs[1]), quote_identifier(trigger->tgargs[0]),
					 quote_identifier(trigger->tgargs[2]), quote_identifier(trigger->tgargs[3]));
	return billing_spi_prepare_kept(sql.data, 2, types);
}

/*
 * adoption_check is the parent's trigger; see the header comment.
 */
Datum
adoption_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Relation	rel;
	TupleDesc	tupdesc;
	HeapTuple	newtuple;
	Datum		values[2];
	ReferencePlans *plans;
	Oid			save_userid;
	int			save_sec_context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "billing.adoption_check must be an AFTER INSERT OR UPDATE row trigger");
	trigger = trigdata->tg_trigger;
	if (trigger->tgnargs != 4)
		elog(ERROR, "billing.adoption_check(child, name_column, child_col, child_brand_col) got %d arguments",
			 trigger->tgnargs);
	rel = trigdata->tg_relation;
	tupdesc = RelationGetDescr(rel);
	newtuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	for (int i = 0; i < 2; i++)
	{
		int			att = SPI_fnumber(tupdesc, i == 0 ? "id" : "brand_id");
		bool		isnull;

		if (att <= 0 || SPI_gettypeid(tupdesc, att) != INT8OID)
			elog(ERROR, "billing.adoption_check: table %s needs bigint columns id and brand_id",
				 RelationGetRelationName(rel));
		values[i] = heap_getattr(newtuple, att, tupdesc, &isnull);
		if (isnull)
			return PointerGetDatum(NULL);
	}

	SPI_connect();
	plans = plans_of(trigger);
	if (plans->lock_plan == NULL)
		plans->lock_plan = adoption_plan(trigger);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	(void) billing_spi_exec_plan(plans->lock_plan, values, NULL, false, 1,
								 SPI_OK_SELECT, "adoption check");
	SetUserIdAndSecContext(save_userid, save_sec_context);
	if (SPI_processed > 0)
	{
		int			name_att = SPI_fnumber(tupdesc, "code");
		char	   *name = name_att > 0 ? SPI_getvalue(newtuple, tupdesc, name_att) : NULL;

		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s \"%s\" cannot have id " INT64_FORMAT " in brand " INT64_FORMAT
						": a %s of another brand refers to that id",
						label(RelationGetRelationName(rel)), name ? name : "",
						DatumGetInt64(values[0]), DatumGetInt64(values[1]), label(trigger->tgargs[0])),
				 errhint("Rows that refer to an id must be of its brand; correct or delete them first.")));
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}
