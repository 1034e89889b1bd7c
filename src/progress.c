/*-------------------------------------------------------------------------
 * progress.c
 *	  The phase of each running invoice run, for every session to see.
 *
 * A run's own transaction is uncommitted while it runs, so a table row
 * cannot tell other sessions how far it is.  Each backend has a slot in a
 * small shared-memory array (indexed by its BackendId): the run it drives,
 * its phase and since when.  billing_internal.run_phases() lists the slots in use;
 * billing.run_report joins them.  A backend only writes its own slot, with
 * a change count readers retry on (as the backend status array does).
 *
 * The slot is cleared when the backend's transaction ends: committed, the
 * run's row says how it finished; rolled back, it is queued again.
 *
 * The array is requested at startup when billing is in
 * shared_preload_libraries; otherwise it is taken from the shared memory
 * PostgreSQL keeps spare, on first use.  If that fails, runs go on and no
 * phase is shown (a WARNING says why once per session).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "progress.h"

typedef struct RunPhaseSlot
{
	volatile uint32 changecount;	/* odd while being written */
	int64		run_id;			/* 0: free */
	int64		brand_id;		/* the run's brand: the walls */
	int			phase;
	TimestampTz since;
} RunPhaseSlot;

static const char *const phase_names[] = {
	"planning", "aggregating", "writing invoices", "writing links", "done"
};

static RunPhaseSlot *slots = NULL;
static bool attach_failed = false;
static bool callback_registered = false;
static shmem_request_hook_type prev_shmem_request_hook = NULL;

static Size
slots_size(void)
{
	return mul_size(MaxBackends + 1, sizeof(RunPhaseSlot));
}

static void
progress_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(slots_size());
}

/* called by _PG_init */
void
billing_progress_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = progress_shmem_request;
	}
}

static bool
attach(void)
{
	bool		found;

	if (slots != NULL)
		return true;
	if (attach_failed)
		return false;
	PG_TRY();
	{
		LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
		slots = ShmemInitStruct("billing run phases 1", slots_size(), &found);
		if (!found)
			memset(slots, 0, slots_size());
		LWLockRelease(AddinShmemInitLock);
	}
	PG_CATCH();
	{
		/* report it without failing the run */
		MemoryContext oldcontext = MemoryContextSwitchTo(TopMemoryContext);
		ErrorData  *edata;

		edata = CopyErrorData();
		MemoryContextSwitchTo(oldcontext);
		FlushErrorState();
		if (LWLockHeldByMe(AddinShmemInitLock))
			LWLockRelease(AddinShmemInitLock);
		slots = NULL;
		attach_failed = true;
		ereport(WARNING,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("billing: no shared memory for run phases: billing.run_report shows no phase"),
				 errdetail("%s", edata->message),
				 errhint("Add billing to shared_preload_libraries.")));
	}
	PG_END_TRY();
	return slots != NULL;
}

static void
clear_own_slot(void)
{
	RunPhaseSlot *s = &slots[MyBackendId];

	if (s->run_id == 0)
		return;
	s->changecount++;
	pg_write_barrier();
	s->run_id = 0;
	pg_write_barrier();
	s->changecount++;
}

static void
progress_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (slots != NULL && MyBackendId != InvalidBackendId && MyBackendId <= MaxBackends)
				clear_own_slot();
			break;
		default:
			break;
	}
}

/* billing_progress_set_phase: this backend drives run_id, now in phase (or 0: none) */
void
billing_progress_set_phase(int64 run_id, int64 brand_id, int phase)
{
	RunPhaseSlot *s;

	if (MyBackendId == InvalidBackendId || MyBackendId > MaxBackends || !attach())
		return;
	if (!callback_registered)
	{
		RegisterXactCallback(progress_xact_callback, NULL);
		callback_registered = true;
	}
	s = &slots[MyBackendId];
	/* the same phase again (a call per row) keeps its start */
	if (s->run_id == run_id && s->phase == phase)
		return;
	s->changecount++;
	pg_write_barrier();
	s->run_id = run_id;
	s->brand_id = brand_id;
	s->phase = phase;
	s->since = GetCurrentTimestamp();
	pg_write_barrier();
	s->changecount++;
}

PG_FUNCTION_INFO_V1(billing_set_run_phase);

/*
 * billing_internal.set_run_phase(run_id, phase): internal, for make_drafts, which
 * calls it in the WHERE clause of each write (hence true, and cheap per row)
 */
Datum
billing_set_run_phase(PG_FUNCTION_ARGS)
{
	int64		run_id = PG_GETARG_INT64(0);
	int64		brand_id = PG_GETARG_INT64(1);
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(2));

	for (int i = 0; i < (int) lengthof(phase_names); i++)
		if (strcmp(name, phase_names[i]) == 0)
		{
			billing_progress_set_phase(run_id, brand_id, i);
			PG_RETURN_BOOL(true);
		}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("\"%s\" is not a run phase", name),
			 errhint("A run phase is planning, aggregating, writing invoices, writing links or done.")));
	PG_RETURN_BOOL(false);
}

PG_FUNCTION_INFO_V1(billing_run_phases_all);

/* billing_internal.run_phases_all(): every slot in use: run_id, brand_id, phase, since */
Datum
billing_run_phases_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (!attach())
		return (Datum) 0;
	for (int b = 1; b <= MaxBackends; b++)
	{
		RunPhaseSlot *s = &slots[b];
		RunPhaseSlot copy;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		for (;;)
		{
			uint32		before = s->changecount;

			pg_read_barrier();
			copy.run_id = s->run_id;
			copy.brand_id = s->brand_id;
			copy.phase = s->phase;
			copy.since = s->since;
			pg_read_barrier();
			if (before == s->changecount && (before & 1) == 0)
				break;
			CHECK_FOR_INTERRUPTS();
		}
		if (copy.run_id == 0 || copy.phase < 0 || copy.phase >= (int) lengthof(phase_names))
			continue;
		values[0] = Int64GetDatum(copy.run_id);
		values[1] = Int64GetDatum(copy.brand_id);
		values[2] = CStringGetTextDatum(phase_names[copy.phase]);
		values[3] = TimestampTzGetDatum(copy.since);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
