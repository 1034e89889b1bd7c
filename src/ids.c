/*-------------------------------------------------------------------------
 * ids.c
 *	  Ids that are safe whichever node inserts.
 *
 *	  Every id column of billing defaults to billing_internal.next_id(its
 *	  sequence), and the run numbers its drafts with it.  On plain
 *	  PostgreSQL, and on a Citus coordinator (node group 0), that is
 *	  nextval() itself.  On a Citus worker (node group g > 0), whose copy of
 *	  the sequence counts from 1 like the coordinator's, it is (g << 48) +
 *	  nextval(): each node hands out ids from a range of its own, the
 *	  convention Citus uses for the sequences it distributes itself (it
 *	  leaves an extension's sequences alone).  The range follows from the
 *	  node, not from a setting made when the tables were distributed, so a
 *	  worker added later needs no step either.
 *
 *	  The group is read from Citus's pg_dist_local_group, directly (the
 *	  inserting role needs no right on it), once per backend: Citus's own
 *	  trigger on that table sends a relcache invalidation when it changes,
 *	  which forgets the cached group.  Without Citus there is no such table,
 *	  and the group is 0.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_namespace.h"
#include "commands/sequence.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(billing_next_id);

/* a node's range: 2^48 ids, as Citus gives a distributed bigint sequence */
#define NODE_RANGE_BITS 48

/* the node's Citus group as last read; -1: not read since an invalidation */
static int32 cached_group = -1;
static Oid	cached_group_relid = InvalidOid;
static bool callback_registered = false;

static void
forget_group(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == cached_group_relid)
		cached_group = -1;
}

/* node_group: this node's Citus group id, or 0 without Citus */
static int32
node_group(void)
{
	Oid			relid;
	Relation	rel;
	AttrNumber	attnum;
	SysScanDesc scan;
	HeapTuple	tuple;
	int32		group = 0;

	if (cached_group >= 0)
		return cached_group;
	relid = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(relid))
		return 0;				/* no Citus: not cached, Citus may come */
	attnum = get_attnum(relid, "groupid");
	if (attnum == InvalidAttrNumber)
		return 0;

	rel = table_open(relid, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, attnum, RelationGetDescr(rel), &isnull);

		if (!isnull)
			group = DatumGetInt32(value);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(forget_group, (Datum) 0);
		callback_registered = true;
	}
	cached_group_relid = relid;
	cached_group = group;
	return group;
}

/*
 * billing_internal.next_id(sequence regclass) RETURNS bigint: the next id
 * of the sequence on this node (above).  nextval()'s rights: USAGE or
 * UPDATE on the sequence.
 */
Datum
billing_next_id(PG_FUNCTION_ARGS)
{
	Oid			sequence = PG_GETARG_OID(0);
	int32		group = node_group();
	int64		n = nextval_internal(sequence, true);

	if (group <= 0)
		PG_RETURN_INT64(n);
	if (group >= (1 << (62 - NODE_RANGE_BITS)) || n < 1 || n >= ((int64) 1 << NODE_RANGE_BITS))
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("sequence %s has no id left in the range of Citus node group %d",
						get_rel_name(sequence), group),
				 errdetail("On a Citus worker an id is (node group << %d) + the sequence's value, which must lie between 1 and 2^%d - 1; it is " INT64_FORMAT ".",
						   NODE_RANGE_BITS, NODE_RANGE_BITS, n),
				 errhint("Insert through the coordinator (node group 0), whose ids have no such bound, or reset the sequence on this worker if its values were set by hand.")));
	PG_RETURN_INT64(((int64) group << NODE_RANGE_BITS) + n);
}
