/*-------------------------------------------------------------------------
 * guard.c
 *	  Records only the API can change.  Invoices, tax lines, document links,
 *	  runs and run logs are written by the extension's functions and by
 *	  nothing else, whoever the caller is, superuser included.
 *
 *	  The extension's functions that write records are SECURITY DEFINER and
 *	  carry SET billing.api_write = on.  That setting is hidden, and its
 *	  check hook refuses "on" anywhere but inside a
 *	  SECURITY DEFINER call (whose SET clause is applied as the owner) or
 *	  from the extension's own C code (billing_allow_api_write), so a
 *	  session cannot SET it, not even a superuser's.  (It is a user setting,
 *	  not a superuser one, only because Citus replays it on every connection
 *	  of a transaction, a non-superuser's too, where the hook takes it as
 *	  off: a "permission denied" there would fail the caller's transaction.)
 *	  It counts only for a superuser, whoever set it.  Guard triggers on the
 *	  record tables refuse every write made without it:
 *	   - INSERT and TRUNCATE: once per statement (a run inserting a million
 *		 links pays one call);
 *	   - UPDATE and DELETE: per row, so that the refusal names the invoice
 *		 (and the API's own updates pay one flag test per row).
 *
 *	  The maintenance switch, SET billing.maintenance = on (superuser only),
 *	  lets a superuser repair records by hand; every statement written under
 *	  it is logged in billing.maintenance_log and in the server log.
 *
 *	  Both settings are checked where they are used, not only where they
 *	  are set: a value that reached a session some other way (ALTER
 *	  DATABASE or ALTER ROLE ... SET, GRANT SET ON PARAMETER, a placeholder
 *	  set before the library was loaded) takes effect only for a superuser.
 *
 *	  On Citus the guard triggers fire on the shards, in sessions that a
 *	  Citus node opened, where the API's SET clause never arrives.  Each
 *	  outermost API call (and the extension's C code) passes the setting on
 *	  (a SET LOCAL that Citus propagates to every shard connection of the
 *	  transaction, taken back the same way when the call ends: the fmgr
 *	  hook below), and there the check hook accepts it from a Citus node's
 *	  connection only (from_citus_node).
 *
 *	  What a table holds, and so what the guard says and allows, is the
 *	  trigger's argument (GuardKind), given where the trigger is created
 *	  (src/sql/security.sql), not read from the table's name.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "guard.h"
#include "spi_util.h"
#include "sql_api.h"

PG_FUNCTION_INFO_V1(billing_guard_records);
PG_FUNCTION_INFO_V1(guard_records);
PG_FUNCTION_INFO_V1(billing_calling_role);

/*
 * What a guarded table holds: the argument of its guard triggers, which
 * picks the guard's messages and what it lets through
 */
typedef enum GuardKind
{
	GUARD_RECORD,				/* 'record': any other record table */
	GUARD_INVOICE,				/* 'invoice' */
	GUARD_TAX_LINE,				/* 'tax_line' */
	GUARD_LINK,					/* 'link': document links */
	GUARD_RUN,					/* 'run': invoice runs */
	GUARD_RUN_LOG,				/* 'run_log' */
	GUARD_BALANCE,				/* 'balance': a buyer's balances, its other
								 * columns free */
	GUARD_LINKED_DOCUMENT		/* 'linked_document': TRUNCATE refused, as
								 * it skips document_guard */
} GuardKind;

static const char *const guard_kind_names[] = {
	[GUARD_RECORD] = "record",
	[GUARD_INVOICE] = "invoice",
	[GUARD_TAX_LINE] = "tax_line",
	[GUARD_LINK] = "link",
	[GUARD_RUN] = "run",
	[GUARD_RUN_LOG] = "run_log",
	[GUARD_BALANCE] = "balance",
	[GUARD_LINKED_DOCUMENT] = "linked_document",
};

/* billing.api_write: on only inside the extension's SECURITY DEFINER functions */
static bool api_write = false;

/* billing.maintenance: a superuser's logged repair of records */
static bool maintenance = false;

/* set while billing_allow_api_write() sets billing.api_write for C code */
static bool trusted_c_caller = false;

/* passing it on to Citus's shard connections (below) */
static int	passed_on_level = 0;	/* nest level of the call that passed it
									 * on; 0: not passed on */
static bool should_pass_on(void);
static void pass_on(int level);
static void take_back(void);

/*
 * citus_connection: this session is named as a connection that a Citus
 * node opened to this one ("citus_internal gpid=..."); anyone can take the
 * name, so it is never enough alone
 */
static bool
citus_connection(void)
{
	return application_name != NULL &&
		strncmp(application_name, "citus_internal gpid=", strlen("citus_internal gpid=")) == 0;
}

/*
 * from_citus_node: this session is a connection that a Citus node opened
 * to this one, in a database with Citus, as a superuser.  Only such a
 * session takes billing.api_write as a statement: the API's value,
 * propagated (pass_on).  A superuser who connects under that name could
 * set it too, as such a superuser could disable the guard triggers.
 */
static bool
from_citus_node(void)
{
	return IsTransactionState() && superuser() && citus_connection() &&
		OidIsValid(get_extension_oid("citus", true));
}

/*
 * check_api_write accepts "on" only when applied by a SECURITY DEFINER
 * function's SET clause (or validated for one, PGC_S_TEST), or copied from
 * its leader into a parallel worker (which restores the settings before the
 * security context, and cannot write anyway).
 */
static bool
check_api_write(bool *newval, void **extra, GucSource source)
{
	if (!*newval || source == PGC_S_TEST || source == PGC_S_DEFAULT)
		return true;
	/* a SECURITY DEFINER function of a superuser: the extension's own */
	if ((InLocalUserIdChange() && superuser()) || trusted_c_caller ||
		InitializingParallelWorker || IsParallelWorker())
		return true;
	/* the API's value, passed on by a Citus node to its shard connection */
	if (source == PGC_S_SESSION && from_citus_node())
		return true;

	/*
	 * Citus replays the SET LOCAL on every connection of the transaction,
	 * also those it opened as the calling role (a reader's statement before
	 * the API call): there it is taken as off, which it is for the guard
	 * anyway (api_write_in_effect), rather than failing the caller's
	 * transaction
	 */
	if (source == PGC_S_SESSION && citus_connection() && !superuser())
	{
		*newval = false;
		return true;
	}
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("billing.api_write is set only by the billing extension's own functions");
	GUC_check_errhint("For a logged repair, a superuser can SET billing.maintenance = on.");
	return false;
}

/*
 * billing_allow_api_write lets the extension's own C code (the run driver,
 * a background worker) write records outside a SECURITY DEFINER call: it
 * sets billing.api_write at a new GUC nest level and returns the level to
 * hand to billing_end_api_write.  An error unwinds it with the transaction
 * or subtransaction, like a function's SET clause.
 */
int
billing_allow_api_write(void)
{
	int			level = NewGUCNestLevel();

	trusted_c_caller = true;
	PG_TRY();
	{
		(void) set_config_option("billing.api_write", "on", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	PG_FINALLY();
	{
		trusted_c_caller = false;
	}
	PG_END_TRY();
	if (should_pass_on())
		pass_on(level);
	return level;
}

/* billing_end_api_write puts billing.api_write back as it was */
void
billing_end_api_write(int level)
{
	if (passed_on_level == level)
		take_back();
	AtEOXact_GUC(true, level);
}

/* billing_define_guard_gucs registers the write guard's settings */
void
billing_define_guard_gucs(void)
{
	DefineCustomBoolVariable("billing.api_write",
							 "Set by the billing functions that write records (internal).",
							 NULL,
							 &api_write,
							 false,
							 PGC_USERSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_NO_RESET_ALL | GUC_DISALLOW_IN_FILE,
							 check_api_write, NULL, NULL);
	DefineCustomBoolVariable("billing.maintenance",
							 "Lets a superuser write billing records by hand; every such write is logged.",
							 "Invoices, tax lines, links, runs and run logs are otherwise written only by the billing functions.",
							 &maintenance,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 NULL, NULL, NULL);
}

/*
 * api_write_in_effect: billing.api_write counts only while a superuser (the
 * extension's owner, in its SECURITY DEFINER functions and its C code) is
 * the current user, whoever set it and however.
 */
static inline bool
api_write_in_effect(void)
{
	return api_write && superuser();
}

/*
 * Passing billing.api_write on to Citus's shard connections.
 *
 * An API call's SET clause reaches the coordinator's backend only.  So
 * when a call starts with the setting in effect on a Citus coordinator,
 * the fmgr hook passes it on (a SET LOCAL that Citus propagates to every
 * shard connection of the transaction, those opened later included), and
 * when that call ends it takes it back the same way.  Only the outermost
 * such call passes it on: a nested API call finds it passed on already,
 * and its end does not take it back from its caller.
 *
 * A call is known by its GUC nest level: fmgr_security_definer opens one
 * before it applies the SET clause (the current level at FHET_START) and
 * closes it before FHET_END (one less there).  An error inside the call
 * takes the passed-on value back with the (sub)transaction it was set in,
 * on every node (Citus rolls back its SET LOCALs with the savepoint), and
 * the subtransaction callback forgets it here too.
 */
static fmgr_hook_type prev_fmgr_hook = NULL;
static SubTransactionId passed_on_subxact = InvalidSubTransactionId;
static Oid	passed_on_by = InvalidOid;	/* the superuser who passed it on */
static LocalTransactionId citus_checked_lxid = InvalidLocalTransactionId;
static bool citus_in_database = false;

/* current_guc_level: the GUC nest level now (guc.c keeps it to itself) */
static int
current_guc_level(void)
{
	int			level = NewGUCNestLevel();

	AtEOXact_GUC(true, level);
	return level - 1;
}

/* billing_citus_here: Citus is in this database (looked up once a transaction) */
bool
billing_citus_here(void)
{
	if (MyProc->lxid != citus_checked_lxid)
	{
		citus_in_database = OidIsValid(get_extension_oid("citus", true));
		citus_checked_lxid = MyProc->lxid;
	}
	return citus_in_database;
}

/*
 * should_pass_on: billing.api_write is in effect, not yet passed on, in a
 * backend that opens shard connections (not one a Citus node opened, not
 * a parallel worker), in a database with Citus
 */
static bool
should_pass_on(void)
{
	return passed_on_level == 0 && api_write && IsTransactionState() && !IsInParallelMode() &&
		superuser() && !citus_connection() && billing_citus_here();
}

/* save_setting keeps a setting's value in the current GUC nest level */
static void
save_setting(const char *name)
{
	const char *value = GetConfigOption(name, true, false);

	if (value != NULL)
		(void) set_config_option(name, value, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * billing_set_on_shards(name, value) sends SET LOCAL name = value to this
 * transaction's shard connections, and to those it opens later; a
 * rollback to a savepoint taken before it takes it back on the workers
 * too.  Citus propagates a SET LOCAL only in what it takes for a
 * transaction block, and a function called by a statement outside one is
 * not (yet) at the moment it starts or ends: a DO block is, so the SETs
 * are made in one.  The coordinator's own settings are left as they were:
 * both are saved in a nest level of their own before the SET LOCALs and
 * restored when it is closed, at once (a SET LOCAL alone would outlive
 * the level, moved up to the enclosing one, and leave
 * citus.propagate_set_commands at "local" for the rest of the caller's
 * transaction).  name is one of ours, written as is; value is quoted.
 * Needs a superuser (the extension's owner, in a SECURITY DEFINER call).
 * For billing.api_write (set_on_shards, below) and for settings a worker
 * must honour while it runs a part of an API call, such as
 * billing.lock_timeout's bound on a row lock taken there.
 */
void
billing_set_on_shards(const char *name, const char *value)
{
	int			level = NewGUCNestLevel();

	SPI_connect();
	save_setting("citus.propagate_set_commands");
	save_setting(name);
	(void) billing_spi_exec(psprintf("DO $$BEGIN SET LOCAL citus.propagate_set_commands = local; SET LOCAL %s = %s; END$$",
									 name, quote_literal_cstr(value)),
							0, NULL, NULL, NULL, false, 0, SPI_OK_UTILITY,
							psprintf("passing %s on to the shards", name));
	SPI_finish();
	AtEOXact_GUC(true, level);
}

/*
 * set_on_shards passes billing.api_write = on or off on to the shards, as
 * the superuser who passed it on, with this file's check hook told that
 * its own C code sets it
 */
static void
set_on_shards(bool on, Oid as_user)
{
	Oid			save_userid;
	int			save_sec_context;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(as_user, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	trusted_c_caller = on;
	PG_TRY();
	{
		billing_set_on_shards("billing.api_write", on ? "on" : "off");
	}
	PG_FINALLY();
	{
		trusted_c_caller = false;
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * pass_on: the call at nest level "level" passes billing.api_write on.
 * Until that level ends, the call's multi-shard statements also go over
 * one connection per node (citus.multi_shard_modify_mode = sequential):
 * the API writes reference tables that foreign keys tie to distributed
 * ones (invoice_run, through schedule, to the buyers), and Citus refuses
 * such a write once a statement of the transaction has read a distributed
 * table over several connections to a node ("cannot modify table
 * "invoice_run" because there was a parallel operation on a distributed
 * table").
 */
static void
pass_on(int level)
{
	(void) set_config_option("citus.multi_shard_modify_mode", "sequential",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	set_on_shards(true, GetUserId());
	passed_on_level = level;
	passed_on_subxact = GetCurrentSubTransactionId();
	passed_on_by = GetUserId();
}

/* take_back: the call that passed it on has ended */
static void
take_back(void)
{
	Oid			by = passed_on_by;

	passed_on_level = 0;
	passed_on_subxact = InvalidSubTransactionId;
	passed_on_by = InvalidOid;
	set_on_shards(false, by);
}

static void
forget_passed_on(void)
{
	passed_on_level = 0;
	passed_on_subxact = InvalidSubTransactionId;
	passed_on_by = InvalidOid;
}

static void
api_write_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		(*prev_fmgr_hook) (event, flinfo, private);
	if (event == FHET_START && api_write && should_pass_on())
		pass_on(current_guc_level());
	else if (event == FHET_END && passed_on_level != 0 &&
			 current_guc_level() == passed_on_level - 1)
		take_back();
	/* FHET_ABORT: the (sub)transaction's end takes it back (below) */
}

static void
api_write_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		forget_passed_on();
}

static void
api_write_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && passed_on_level != 0 && mySubid == passed_on_subxact)
		forget_passed_on();
}

/* billing_install_api_write_passing: at load, the hooks above */
void
billing_install_api_write_passing(void)
{
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = api_write_fmgr_hook;
	RegisterXactCallback(api_write_xact_callback, NULL);
	RegisterSubXactCallback(api_write_subxact_callback, NULL);
}

/*
 * maintenance_in_effect: billing.maintenance counts only in a superuser
 * session acting as a superuser: set by ALTER DATABASE/ROLE, granted with
 * GRANT SET ON PARAMETER or left as a placeholder, it does nothing for
 * anyone else.
 */
static inline bool
maintenance_in_effect(void)
{
	return maintenance && superuser_arg(GetSessionUserId()) && superuser();
}

/* column text of a row, or "?" (for messages) */
static char *
column(Relation rel, HeapTuple tuple, const char *name)
{
	int			attno = SPI_fnumber(RelationGetDescr(rel), name);
	char	   *value;

	if (attno <= 0)
		return "?";
	value = SPI_getvalue(tuple, RelationGetDescr(rel), attno);
	return value ? value : "NULL";
}

/*
 * whether a column differs between two versions of a row: its datums
 * compared with datumIsEqual (the guarded columns are numerics and
 * statuses small enough to be stored inline, so equal bytes are an equal
 * value and scale, as their text forms were)
 */
static bool
column_changed(Relation rel, HeapTuple a, HeapTuple b, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attno = SPI_fnumber(desc, name);
	Form_pg_attribute att;
	Datum		x,
				y;
	bool		xnull,
				ynull;

	if (attno <= 0)
		return false;
	att = TupleDescAttr(desc, attno - 1);
	x = heap_getattr(a, attno, desc, &xnull);
	y = heap_getattr(b, attno, desc, &ynull);
	if (xnull || ynull)
		return xnull != ynull;
	return !datumIsEqual(x, y, att->attbyval, att->attlen);
}

/* log_maintenance records a statement written under billing.maintenance */
static void
log_maintenance(Relation rel, const char *operation)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];
	const char *query = debug_query_string ? debug_query_string : "";

	args[0] = CStringGetTextDatum(RelationGetRelationName(rel));
	args[1] = CStringGetTextDatum(operation);
	args[2] = CStringGetTextDatum(query);
	ereport(LOG,
			(errmsg("billing maintenance: %s on billing.%s by %s",
					operation, RelationGetRelationName(rel),
					GetUserNameFromId(GetUserId(), false)),
			 errdetail("Statement: %s", query)));
	SPI_connect();
	(void) billing_spi_exec("INSERT INTO billing.maintenance_log (table_name, operation, query)"
							" VALUES ($1, $2, $3)", 3, types, args, NULL, false, 0,
							SPI_OK_INSERT, "logging a maintenance write");
	SPI_finish();
}

#define API_DETAIL "Invoices, tax lines, document links, runs and their logs are written only by the billing functions, whoever the caller is."

/* refuse_row raises the error that names the record a statement tried to change */
static void
refuse_row(Relation rel, TriggerData *td, GuardKind kind)
{
	const char *table = RelationGetRelationName(rel);
	bool		is_delete = TRIGGER_FIRED_BY_DELETE(td->tg_event);
	HeapTuple	old = td->tg_trigtuple;
	HeapTuple	new = td->tg_newtuple;
	const char *verb = is_delete ? "deleted" : "changed";

	if (kind == GUARD_INVOICE)
	{
		char	   *id = column(rel, old, "id");
		char	   *status = column(rel, old, "status");
		bool		confirmed = strcmp(status, "confirmed") == 0;
		const char *hint = confirmed
			? "A billing invoice is kept as issued; correct it with a credit note (a credit_note document), billed on the next invoice."
			: "Delete the draft with billing.delete_drafts() and correct the source documents; the next run issues a new draft.";

		if (is_delete)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg(confirmed ? "confirmed invoice %s cannot be deleted"
							: "invoice %s can be deleted only by billing.delete_drafts()", id),
					 errdetail(API_DETAIL), errhint("%s", hint)));
		if (column_changed(rel, old, new, "status"))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("status of invoice %s (%s) changes only through the billing actions", id, status),
					 errdetail("confirm_invoices, quarantine_invoices, reject_invoices, cancel_invoices and cancel_run change a status and keep the buyer's balance in step."),
					 errhint("%s", hint)));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s invoice %s cannot be changed: its amounts, period, buyer and documents are fixed when it is issued",
						status, id),
				 errdetail(API_DETAIL), errhint("%s", hint)));
	}
	if (kind == GUARD_TAX_LINE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("tax line at rate %s of invoice %s cannot be %s",
						column(rel, old, "tax_rate"), column(rel, old, "invoice_id"), verb),
				 errdetail(API_DETAIL),
				 errhint("Delete the draft with billing.delete_drafts() and correct the source documents; a confirmed invoice is corrected with a credit note.")));
	if (kind == GUARD_LINK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("link of document %s to invoice %s cannot be %s",
						column(rel, old, "document_id"), column(rel, old, "invoice_id"), verb),
				 errdetail("A document leaves its invoice only with billing.delete_drafts(), billing.cancel_invoices() or billing.cancel_run()."),
				 errhint("Delete the draft with billing.delete_drafts() to free its documents; a confirmed invoice is corrected with a credit note.")));
	if (kind == GUARD_RUN)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("invoice run %s cannot be %s", column(rel, old, "id"), verb),
				 errdetail(API_DETAIL),
				 errhint("Runs change only through the run functions: rerun_invoice_run(), cancel_run().")));
	if (kind == GUARD_RUN_LOG)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("log line %s of invoice run %s cannot be %s",
						column(rel, old, "id"), column(rel, old, "run_id"), verb),
				 errdetail("A run's log is its execution report, kept as written."),
				 errhint("Runs change only through the run functions: rerun_invoice_run(), cancel_run().")));
	if (kind == GUARD_BALANCE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("billing balance of buyer \"%s\" changes only when its invoices are confirmed",
						column(rel, old, "code")),
				 errdetail("confirm_invoices adds purchases + tax - deposit of each confirmed invoice to the buyer's balance."),
				 errhint("Record a payment, credit note or delivery document; the next invoice carries it into the balance.")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("rows of billing.%s cannot be %s", table, verb),
			 errdetail(API_DETAIL)));
}

/*
 * guard(fcinfo, kind): the trigger on the record tables.  Statement level
 * (INSERT, UPDATE, DELETE, TRUNCATE): logs a maintenance write, and refuses
 * INSERT and TRUNCATE made outside the API.  Row level (UPDATE, DELETE):
 * refuses, naming the row.  For a buyer's balances (GUARD_BALANCE, fired by
 * UPDATE OF billing_balance, opening_balance): refuses a change of either.
 */
static Datum
guard(FunctionCallInfo fcinfo, GuardKind kind)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel = td->tg_relation;
	bool		row_level = TRIGGER_FIRED_FOR_ROW(td->tg_event);

	if (!api_write_in_effect())
	{
		bool		repair = maintenance_in_effect();

		if (!row_level)
		{
			const char *operation =
				TRIGGER_FIRED_BY_INSERT(td->tg_event) ? "INSERT" :
				TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" :
				TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" : "TRUNCATE";

			if (repair)
				log_maintenance(rel, operation);
			else if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) && kind == GUARD_LINKED_DOCUMENT)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("TRUNCATE on billing.document refused: invoices keep referring to its rows"),
						 errdetail("Links have no foreign key to documents (it costs the runs too much); TRUNCATE skips the row checks that keep a linked document."),
						 errhint("Delete the rows instead (those no invoice refers to); a superuser can SET billing.maintenance = on for a logged reset.")));
			else if (TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("%s on billing.%s refused: rows of billing.%s are written only by the billing functions",
								operation, RelationGetRelationName(rel), RelationGetRelationName(rel)),
						 errdetail(API_DETAIL),
						 errhint("Invoices, tax lines and links come from runs (issue_drafts, rerun_invoice_run); a superuser can SET billing.maintenance = on for a logged repair or restore.")));
		}
		else if (!repair)
		{
			/* a buyer's row: only a changed balance is refused */
			if (kind != GUARD_BALANCE ||
				column_changed(rel, td->tg_trigtuple, td->tg_newtuple, "billing_balance"))
				refuse_row(rel, td, kind);
			if (column_changed(rel, td->tg_trigtuple, td->tg_newtuple, "opening_balance"))
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("opening balance of buyer \"%s\" cannot be changed",
								column(rel, td->tg_trigtuple, "code")),
						 errdetail("It is the balance the buyer started with; billing.verify() checks the balance against it and the confirmed invoices."),
						 errhint("Record a payment, credit note or delivery document; a superuser can SET billing.maintenance = on for a logged correction.")));
		}
	}

	if (!row_level)
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(td->tg_newtuple);
	return PointerGetDatum(td->tg_trigtuple);
}

/* refuse_non_trigger: guard_records is a trigger function only */
static void
refuse_non_trigger(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("billing_internal.guard_records() must be called as a trigger")));
}

/*
 * billing_guard_records: billing_internal.guard_records() of this version's SQL,
 * whose every trigger names what its table holds (GuardKind) in its one
 * argument
 */
Datum
billing_guard_records(PG_FUNCTION_ARGS)
{
	Trigger    *trigger;

	refuse_non_trigger(fcinfo);
	trigger = ((TriggerData *) fcinfo->context)->tg_trigger;
	if (trigger->tgnargs == 1)
	{
		for (int i = 0; i < (int) lengthof(guard_kind_names); i++)
			if (strcmp(trigger->tgargs[0], guard_kind_names[i]) == 0)
				return guard(fcinfo, (GuardKind) i);
	}
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("trigger \"%s\" on billing.%s has no valid argument for billing_internal.guard_records()",
					trigger->tgname, RelationGetRelationName(((TriggerData *) fcinfo->context)->tg_relation)),
			 errdetail("It takes one argument, what the table holds: record, invoice, tax_line, link, run, run_log, balance or linked_document."),
			 errhint("Create the trigger as src/sql/security.sql does, e.g. EXECUTE FUNCTION billing_internal.guard_records('record').")));
	return (Datum) 0;			/* keep the compiler quiet */
}

/*
 * guard_records: the symbol of the released 0.1/0.2 scripts (frozen),
 * whose triggers have no arguments.  Until ALTER EXTENSION billing UPDATE
 * recreates them, what a table holds is read from its name, as those
 * versions did.
 */
Datum
guard_records(PG_FUNCTION_ARGS)
{
	static const struct
	{
		const char *table;
		GuardKind	kind;
	}			released_tables[] =
	{
		{"invoice", GUARD_INVOICE},
		{"invoice_tax_line", GUARD_TAX_LINE},
		{"document_link", GUARD_LINK},
		{"invoice_run", GUARD_RUN},
		{"run_log", GUARD_RUN_LOG},
		{"buyer", GUARD_BALANCE},
		{"document", GUARD_LINKED_DOCUMENT},
	};
	const char *table;

	refuse_non_trigger(fcinfo);
	table = RelationGetRelationName(((TriggerData *) fcinfo->context)->tg_relation);
	for (int i = 0; i < (int) lengthof(released_tables); i++)
		if (strcmp(table, released_tables[i].table) == 0)
			return guard(fcinfo, released_tables[i].kind);
	return guard(fcinfo, GUARD_RECORD);
}

/*
 * billing_calling_role(): the role that called into the extension: current_user
 * as the session set it (login, SET ROLE, SET SESSION AUTHORIZATION), not
 * the owner a SECURITY DEFINER function runs as.
 */
Datum
billing_calling_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_OID(GetOuterUserId());
}

/*
 * The symbols of the released 0.1/0.2 scripts (src/sql/released/, frozen),
 * which call this library until ALTER EXTENSION billing UPDATE: thin
 * wrappers of the billing_ symbols that this version's SQL declares.
 */
BILLING_RELEASED_SYMBOL(calling_role, billing_calling_role);
