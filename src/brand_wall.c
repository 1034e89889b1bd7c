/*-------------------------------------------------------------------------
 * brand_wall.c
 *	  The brand test that row level security makes on every row, from the
 *	  row and the role alone.
 *
 *	  Each brand that has been granted has a role of its own,
 *	  billing_brand_<brand id>_<database tag>, made NOLOGIN by
 *	  billing.grant_brand, which makes the grantee a member of it (and
 *	  billing.revoke_brand takes the membership back).  A role sees brand B
 *	  when it has the privileges of one of the roles granted B (a member of
 *	  B's role), as pg_has_role(grantee, 'USAGE') says: what the grant
 *	  table said in 0.2.  The policies test brand_id = ANY
 *	  (billing_internal.visible_brands()), which reads the catalog only, no
 *	  table, and is cached per backend until a role or a membership
 *	  changes: on Citus a policy is evaluated on the shard that holds the
 *	  row, where a policy reading a table fails ("cannot execute a
 *	  distributed query from a query on a shard", doc/citus.md).
 *
 *	  Roles are cluster-wide, brand ids are per database: the tag, the
 *	  first 8 hex digits of the md5 of the database's name, keeps brand 1
 *	  of one database from opening brand 1 of another.  Citus requires the
 *	  same database name on every node, so every node computes the same
 *	  role name.  A renamed database fails closed: its walls show nothing
 *	  until the grants are made again (billing.verify() reports it).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdlib.h>

#include "fmgr.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_auth_members.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/md5.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(billing_brand_role_name);
PG_FUNCTION_INFO_V1(billing_visible_brands);
PG_FUNCTION_INFO_V1(billing_role_brands);
PG_FUNCTION_INFO_V1(billing_brand_of_role);

#define BRAND_ROLE_PREFIX "billing_brand_"

/* the database tag, computed once per backend (a backend never changes database) */
static char database_tag[9];

/*
 * current_user's brands, as last computed (in TopMemoryContext), kept until
 * a role or a membership changes anywhere in the cluster
 */
static Oid	cached_user = InvalidOid;
static ArrayType *cached_brands = NULL;
static bool callbacks_registered = false;

static void
forget_cached_brands(Datum arg, int cacheid, uint32 hashvalue)
{
	cached_user = InvalidOid;
}

static const char *
brand_database_tag(void)
{
	if (database_tag[0] == '\0')
	{
		char	   *dbname = get_database_name(MyDatabaseId);
		char		hex[33];
		const char *errstr = NULL;

		if (dbname == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_DATABASE),
					 errmsg("the current database (oid %u) has no name", MyDatabaseId)));
		if (!pg_md5_hash(dbname, strlen(dbname), hex, &errstr))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not compute the brand roles' database tag: %s", errstr)));
		memcpy(database_tag, hex, 8);
		database_tag[8] = '\0';
	}
	return database_tag;
}

/*
 * The brand id in a role name billing_brand_<id>_<this database's tag>, or
 * -1 when the name is not that of a brand role of this database
 */
static int64
brand_of_role_name(const char *name)
{
	const char *p = name + strlen(BRAND_ROLE_PREFIX);
	int64		brand = 0;

	if (strncmp(name, BRAND_ROLE_PREFIX, strlen(BRAND_ROLE_PREFIX)) != 0 || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (brand > (PG_INT64_MAX - 9) / 10)
			return -1;
		brand = brand * 10 + (*p - '0');
	}
	if (*p != '_' || strcmp(p + 1, brand_database_tag()) != 0)
		return -1;
	return brand;
}

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * The brands a role sees: those whose role has a member whose privileges
 * the role has (a member of a granted role sees what the grantee sees).
 * One pass over pg_authid, which holds few rows; ascending brand ids.
 */
static ArrayType *
brands_of(Oid role)
{
	Relation	authid = table_open(AuthIdRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(authid, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tuple;
	int64	   *brands = NULL;
	int			nbrands = 0;
	int			allocated = 0;
	Datum	   *datums;

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_authid authform = (Form_pg_authid) GETSTRUCT(tuple);
		int64		brand = brand_of_role_name(NameStr(authform->rolname));
		CatCList   *members;
		bool		sees = false;

		if (brand < 0)
			continue;
		members = SearchSysCacheList1(AUTHMEMROLEMEM, ObjectIdGetDatum(authform->oid));
		for (int i = 0; i < members->n_members && !sees; i++)
		{
			Form_pg_auth_members m = (Form_pg_auth_members) GETSTRUCT(&members->members[i]->tuple);

			sees = has_privs_of_role(role, m->member);
		}
		ReleaseSysCacheList(members);
		if (!sees)
			continue;
		if (nbrands == allocated)
		{
			allocated = allocated ? allocated * 2 : 8;
			brands = brands ? repalloc(brands, allocated * sizeof(int64)) : palloc(allocated * sizeof(int64));
		}
		brands[nbrands++] = brand;
	}
	systable_endscan(scan);
	table_close(authid, AccessShareLock);

	if (nbrands > 1)
		qsort(brands, nbrands, sizeof(int64), compare_int64);
	datums = palloc((nbrands + 1) * sizeof(Datum));
	for (int i = 0; i < nbrands; i++)
		datums[i] = Int64GetDatum(brands[i]);
	return construct_array(datums, nbrands, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* billing_internal.brand_role_name(brand_id): the name of the brand's role */
Datum
billing_brand_role_name(PG_FUNCTION_ARGS)
{
	char		name[NAMEDATALEN];

	/* at most 14 + 20 + 1 + 8 bytes: always under NAMEDATALEN */
	snprintf(name, sizeof(name), BRAND_ROLE_PREFIX INT64_FORMAT "_%s",
			 PG_GETARG_INT64(0), brand_database_tag());
	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(name)));
}

/*
 * billing_internal.visible_brands(): the ids of the brands current_user
 * sees, what every brand wall tests its rows' brand_id against.  Policies
 * evaluate it per row, so it is cached per backend.
 */
Datum
billing_visible_brands(PG_FUNCTION_ARGS)
{
	Oid			user = GetUserId();

	if (!callbacks_registered)
	{
		CacheRegisterSyscacheCallback(AUTHOID, forget_cached_brands, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, forget_cached_brands, (Datum) 0);
		callbacks_registered = true;
	}
	if (cached_user != user || cached_brands == NULL)
	{
		/* computed in the caller's context, then kept: an error leaves no cache */
		ArrayType  *brands = brands_of(user);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		cached_user = InvalidOid;
		if (cached_brands != NULL)
			pfree(cached_brands);
		cached_brands = NULL;
		cached_brands = DatumGetArrayTypePCopy(PointerGetDatum(brands));
		cached_user = user;
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_ARRAYTYPE_P(DatumGetArrayTypePCopy(PointerGetDatum(cached_brands)));
}

/*
 * billing_internal.role_brands(role): the same for a given role (the API
 * functions ask it of their caller, not of the owner they run as)
 */
Datum
billing_role_brands(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(brands_of(PG_GETARG_OID(0)));
}

/*
 * billing_internal.brand_of_role(role name): the brand whose role it is in
 * this database, or NULL (the one reading of the name, for the install's
 * clean-up of roles an earlier install left)
 */
Datum
billing_brand_of_role(PG_FUNCTION_ARGS)
{
	int64		brand = brand_of_role_name(NameStr(*PG_GETARG_NAME(0)));

	if (brand < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(brand);
}
