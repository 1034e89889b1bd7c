/*-------------------------------------------------------------------------
 * planner.c
 *	  On Citus, billing's own SQL functions are inlined before Citus plans.
 *
 *	  The run, the preview and the readers over documents call LANGUAGE sql
 *	  functions with SQL-standard bodies (billing_internal.draft_rows,
 *	  uninvoiced_documents), which PostgreSQL inlines into the calling
 *	  statement.  Citus decides whether a statement is distributed before
 *	  PostgreSQL's planner runs, sees a function in FROM and no table of
 *	  its own, and once the standard planner has inlined the body it finds
 *	  distributed tables after all and refuses: "parameterized queries for
 *	  SQL functions referencing distributed tables are not supported".
 *
 *	  So, in a database with Citus, this planner hook does first what the
 *	  standard planner would do anyway: every RTE_FUNCTION of a LANGUAGE
 *	  sql function of billing's two schemas, in the statement, its
 *	  subqueries, CTEs and sublinks and in the bodies so inlined, becomes
 *	  the subquery of its body, with PostgreSQL's own
 *	  inline_set_returning_function (which refuses what cannot be inlined:
 *	  that function is then left to be called).  Citus then plans a
 *	  statement over its tables.  The plan depends on the inlined functions
 *	  as PostgreSQL's own inlining records it, so a new body (an upgrade)
 *	  re-plans.  Without Citus the hook only passes the statement on.
 *
 *	  The hook is installed when the library loads, after Citus's (billing
 *	  comes after citus in shared_preload_libraries, as Citus requires to
 *	  be first), so it runs before Citus's planner.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

#include "guard.h"
#include "planner.h"

static planner_hook_type prev_planner_hook = NULL;

/* what the walk needs: a planner state for the inliner, the schemas */
typedef struct InlineContext
{
	PlannerInfo *root;
	Oid			billing_schema;
	Oid			internal_schema;
} InlineContext;

static bool inline_in_query(Query *query, InlineContext *context);

/* is_billing_function: the RTE calls one function, of billing's schemas */
static bool
is_billing_function(RangeTblEntry *rte, InlineContext *context)
{
	RangeTblFunction *rtfunc;
	Oid			schema;

	if (list_length(rte->functions) != 1)
		return false;
	rtfunc = linitial(rte->functions);
	if (!IsA(rtfunc->funcexpr, FuncExpr))
		return false;
	schema = get_func_namespace(((FuncExpr *) rtfunc->funcexpr)->funcid);
	return OidIsValid(schema) &&
		(schema == context->billing_schema || schema == context->internal_schema);
}

/*
 * name_columns gives the body's output columns the function's column
 * names, which the calling statement uses: Citus deparses the statement
 * to SQL for the shards, where a column is found by its name
 * (carried_over + purchases + tax would be "?column?", not total)
 */
static void
name_columns(Query *body, RangeTblEntry *rte)
{
	ListCell   *lc;
	int			i = 0;

	foreach(lc, body->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (tle->resjunk)
			continue;
		if (i < list_length(rte->eref->colnames))
			tle->resname = pstrdup(strVal(list_nth(rte->eref->colnames, i)));
		i++;
	}

	/*
	 * A UNION's columns are deparsed with the names of its leftmost
	 * branch (billing_internal.draft_rows): those too
	 */
	if (body->setOperations != NULL)
	{
		Node	   *leftmost = body->setOperations;

		while (IsA(leftmost, SetOperationStmt))
			leftmost = ((SetOperationStmt *) leftmost)->larg;
		if (IsA(leftmost, RangeTblRef))
		{
			RangeTblEntry *branch = rt_fetch(((RangeTblRef *) leftmost)->rtindex, body->rtable);

			if (branch->rtekind == RTE_SUBQUERY)
				name_columns(branch->subquery, rte);
		}
	}
}

/* inline_walker: into subqueries and sublinks of expressions */
static bool
inline_walker(Node *node, InlineContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return inline_in_query((Query *) node, context);
	return expression_tree_walker(node, inline_walker, (void *) context);
}

/*
 * inline_in_query turns each of query's RTE_FUNCTIONs of a billing
 * function into the subquery of its body (as PostgreSQL's
 * inline_set_returning_functions does), then does the same below
 */
static bool
inline_in_query(Query *query, InlineContext *context)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		Query	   *body;

		if (rte->rtekind != RTE_FUNCTION || !is_billing_function(rte, context))
			continue;
		body = inline_set_returning_function(context->root, rte);
		if (body == NULL)
			continue;
		name_columns(body, rte);
		rte->rtekind = RTE_SUBQUERY;
		rte->subquery = body;
		rte->security_barrier = false;
		rte->functions = NIL;
		rte->funcordinality = false;
	}
	/* subqueries in FROM (the bodies just inlined too), CTEs, sublinks */
	return query_tree_walker(query, inline_walker, (void *) context, 0);
}

static PlannedStmt *
billing_planner(Query *parse, const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	PlannedStmt *result;
	PlannerGlobal *glob = NULL;

	if (billing_citus_here())
	{
		InlineContext context;

		context.billing_schema = get_namespace_oid("billing", true);
		context.internal_schema = get_namespace_oid("billing_internal", true);
		if (OidIsValid(context.billing_schema) || OidIsValid(context.internal_schema))
		{
			/* the inliner's planner state: its parameters, the plan's dependencies */
			glob = makeNode(PlannerGlobal);
			glob->boundParams = boundParams;
			context.root = makeNode(PlannerInfo);
			context.root->parse = parse;
			context.root->glob = glob;
			context.root->query_level = 1;
			(void) inline_in_query(parse, &context);
		}
	}
	if (prev_planner_hook)
		result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	else
		result = standard_planner(parse, query_string, cursorOptions, boundParams);
	/* the functions inlined here: a new body of one re-plans */
	if (glob != NULL)
		result->invalItems = list_concat(result->invalItems, glob->invalItems);
	return result;
}

/* billing_install_planner: at load */
void
billing_install_planner(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = billing_planner;
}
