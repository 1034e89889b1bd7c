/*-------------------------------------------------------------------------
 * partitions.c
 *	  Which blocks of ids the partitions of the links and the tax lines
 *	  hold (src/sql/tables.sql, billing_internal.add_partitions), read from
 *	  the relation cache's partition descriptor.  A run asks before its
 *	  statement; in SQL (pg_get_expr and a pattern per partition) each
 *	  helper took 2 to 5 ms on its first call in a session (a rerun of one
 *	  late document takes 5 to 7 ms warm).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "partitions.h"

/* more missing blocks than this at once: refused (an id far past the sequence) */
#define MAX_NEW_PARTITIONS 1024

/*
 * block_bits: the size of a block of parent's partitions, as a power of two
 * (billing_internal.partition_block_bits, below, for the SQL)
 */
static int
block_bits(Relation rel)
{
	const char *name = RelationGetRelationName(rel);

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE &&
		RelationGetNamespace(rel) == get_namespace_oid("billing", false))
	{
		if (strcmp(name, "document_link") == 0)
			return 20;
		if (strcmp(name, "invoice_tax_line") == 0)
			return 17;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s is not a partitioned billing table", RelationGetRelationName(rel)),
			 errhint("The partitioned tables are billing.document_link and billing.invoice_tax_line.")));
	return 0;					/* keep the compiler quiet */
}

/*
 * range_holds: whether one partition of the range bounds holds all of
 * [lo, hi).  datums[] are the distinct bounds in order; indexes[i] is the
 * partition whose upper bound is datums[i], or -1 (a gap ends there).
 */
static bool
range_holds(PartitionBoundInfo b, int64 lo, int64 hi)
{
	for (int i = 0; i < b->ndatums; i++)
	{
		int64		bound;

		if (b->kind[i][0] == PARTITION_RANGE_DATUM_MINVALUE)
			continue;
		if (b->kind[i][0] == PARTITION_RANGE_DATUM_MAXVALUE)
			return b->indexes[i] >= 0;
		bound = DatumGetInt64(b->datums[i][0]);
		if (lo < bound)
			return b->indexes[i] >= 0 && hi <= bound;
	}
	return false;
}

/*
 * billing_internal.partition_block_bits(parent regclass): block_bits, for
 * add_partitions and the run (make_drafts)
 */
PG_FUNCTION_INFO_V1(billing_partition_block_bits);

Datum
billing_partition_block_bits(PG_FUNCTION_ARGS)
{
	Relation	rel = relation_open(PG_GETARG_OID(0), AccessShareLock);
	int			bits = block_bits(rel);

	relation_close(rel, AccessShareLock);
	PG_RETURN_INT32(bits);
}

static PartitionBoundInfo
bounds_of(Relation rel)
{
	PartitionDesc desc = RelationGetPartitionDesc(rel, true);

	return desc->nparts > 0 ? desc->boundinfo : NULL;
}

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * billing_internal.missing_blocks(parent regclass, blocks bigint[]): those of
 * the blocks that no partition of parent holds yet, each once, in order;
 * refused when they are more than 1024, before any is made
 */
PG_FUNCTION_INFO_V1(billing_missing_blocks);

Datum
billing_missing_blocks(PG_FUNCTION_ARGS)
{
	Oid			parent = PG_GETARG_OID(0);
	ArrayType  *blocks = PG_GETARG_ARRAYTYPE_P(1);
	Relation	rel = relation_open(parent, AccessShareLock);
	int			bits = block_bits(rel);
	PartitionBoundInfo b = bounds_of(rel);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int64	   *want;
	int			nwant = 0;
	Datum	   *missing;
	int			nmissing = 0;

	deconstruct_array(blocks, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	want = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			want[nwant++] = DatumGetInt64(elems[i]);
	qsort(want, nwant, sizeof(int64), compare_int64);
	missing = palloc(sizeof(Datum) * Max(nwant, 1));
	for (int i = 0; i < nwant; i++)
	{
		int64		lo,
					hi;

		if (i > 0 && want[i] == want[i - 1])
			continue;
		/* a block past the int8 ids: no id is in it */
		if (want[i] > (PG_INT64_MAX >> bits) - 1 || want[i] < -(PG_INT64_MAX >> bits) - 1)
			continue;
		lo = want[i] * ((int64) 1 << bits);
		hi = (want[i] + 1) * ((int64) 1 << bits);
		if (b == NULL || !range_holds(b, lo, hi))
			missing[nmissing++] = Int64GetDatum(want[i]);
	}
	if (nmissing > MAX_NEW_PARTITIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the rows of billing.%s would need %d new partitions of it, the first from id " INT64_FORMAT,
						RelationGetRelationName(rel), nmissing, DatumGetInt64(missing[0]) * ((int64) 1 << bits)),
				 errdetail("billing.%s is partitioned in blocks of " INT64_FORMAT " ids, one partition for each block that ids are in, made as they come, at most %d at once.  Nothing was written.",
						   RelationGetRelationName(rel), (int64) 1 << bits, MAX_NEW_PARTITIONS),
				 errhint("Documents and invoices take their ids from their sequences (billing.document_id_seq, billing.invoice_id_seq); give imported documents ids from it, not ids spread over a wide range.")));
	relation_close(rel, AccessShareLock);
	PG_RETURN_ARRAYTYPE_P(construct_array(missing, nmissing, INT8OID, sizeof(int64),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * billing_internal.partitions_reach(parent regclass): the id up to which the
 * partitions hold every block, from MINVALUE on without a gap (only ids from
 * it on need looking at); 0 when there is no partition from MINVALUE
 */
PG_FUNCTION_INFO_V1(billing_partitions_reach);

Datum
billing_partitions_reach(PG_FUNCTION_ARGS)
{
	Relation	rel = relation_open(PG_GETARG_OID(0), AccessShareLock);
	PartitionBoundInfo b;
	int64		reach = 0;

	(void) block_bits(rel);
	b = bounds_of(rel);
	if (b != NULL && b->ndatums > 1 && b->kind[0][0] == PARTITION_RANGE_DATUM_MINVALUE)
	{
		for (int i = 1; i < b->ndatums && b->indexes[i] >= 0; i++)
		{
			if (b->kind[i][0] != PARTITION_RANGE_DATUM_VALUE)
			{
				reach = PG_INT64_MAX;
				break;
			}
			reach = DatumGetInt64(b->datums[i][0]);
		}
	}
	relation_close(rel, AccessShareLock);
	PG_RETURN_INT64(reach);
}
