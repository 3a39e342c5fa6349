/*-------------------------------------------------------------------------
 *
 * partial_agg.c
 *	  The support functions of the aggregates foresight.partial_agg,
 *	  foresight.combine_agg and foresight.finalize_agg (partial_agg.h).
 *
 * partial_agg(aggregate, args...) runs `aggregate`'s transition function
 * over its rows, with the strictness rules of nodeAgg.c, and returns the
 * state serialised.  combine_agg and finalize_agg read such states,
 * deserialise them and combine them with the aggregate's combine function;
 * finalize_agg then applies its final function.  combine_results combines
 * the results of an aggregate whose result is its state (partial_agg_native)
 * as they are, with no serialised form.  The aggregate's own
 * functions run inside our aggregate call (its AggState is their context),
 * so those that check AggCheckCallContext, allocate in the aggregate
 * context or update their state in place work as they do in PostgreSQL's
 * own partial aggregation.
 *
 * The aggregate's description (PartialAggInfo) is looked up once per call
 * site and kept in fn_extra; a group's state (PartialAggGroup) lives in the
 * aggregate context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodes.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/expandeddatum.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "split/partial_agg.h"

PG_FUNCTION_INFO_V1(foresight_partial_agg_transfn);
PG_FUNCTION_INFO_V1(foresight_partial_agg_finalfn);
PG_FUNCTION_INFO_V1(foresight_combine_agg_transfn);
PG_FUNCTION_INFO_V1(foresight_combine_agg_finalfn);
PG_FUNCTION_INFO_V1(foresight_finalize_agg_finalfn);
PG_FUNCTION_INFO_V1(foresight_combine_results_transfn);
PG_FUNCTION_INFO_V1(foresight_combine_results_finalfn);

partial_state_source_fn partial_state_from_parts = NULL;

/* the descriptions a call site has used (normally one) */
typedef struct InfoCache
{
	List	   *infos;
	int			state_source;	/* 0 not known yet, 1 the parts, -1 elsewhere */
} InfoCache;

static MemoryContext
aggregate_context(FunctionCallInfo fcinfo, const char *name)
{
	MemoryContext aggcontext;
	int			kind = AggCheckCallContext(fcinfo, &aggcontext);

	if (kind == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s must be called as an aggregate", name)));
	if (kind != AGG_CONTEXT_AGGREGATE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot be used as a window function", name)));
	return aggcontext;
}

static Oid
required_aggregate(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the aggregate of a partial aggregation must not be null")));
	return PG_GETARG_OID(1);
}

/* the description of (aggregate, argument types, collation) for this call site */
static PartialAggInfo *
cached_info(FunctionCallInfo fcinfo, Oid aggfnoid, int nargs, const Oid *argtypes,
			Oid inputcollid)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	InfoCache  *cache = (InfoCache *) flinfo->fn_extra;
	PartialAggInfo *info;
	MemoryContext oldcxt;
	ListCell   *lc;

	if (cache == NULL)
		cache = flinfo->fn_extra = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(InfoCache));
	foreach(lc, cache->infos)
	{
		info = (PartialAggInfo *) lfirst(lc);
		if (info->aggfnoid == aggfnoid && info->nargs == nargs &&
			info->inputcollid == inputcollid &&
			memcmp(info->argtypes, argtypes, sizeof(Oid) * nargs) == 0)
			return info;
	}
	info = partial_agg_info(aggfnoid, nargs, argtypes, inputcollid, flinfo->fn_mcxt);
	oldcxt = MemoryContextSwitchTo(flinfo->fn_mcxt);
	cache->infos = lappend(cache->infos, info);
	MemoryContextSwitchTo(oldcxt);
	return info;
}

/* the transition step, with nodeAgg's rules for strict functions */
static void
advance_transition(PartialAggGroup *group, FunctionCallInfo fcinfo, MemoryContext aggcontext)
{
	PartialAggInfo *info = group->info;
	int			nargs = info->nargs;
	LOCAL_FCINFO(tfcinfo, FUNC_MAX_ARGS);
	Datum		result;

	if (info->transfn.fn_strict)
	{
		for (int i = 0; i < nargs; i++)
			if (PG_ARGISNULL(i + 2))
				return;
		if (group->notransvalue)
		{
			MemoryContext oldcxt;

			if (nargs == 0)
				return;
			/* the first input is the state (CREATE AGGREGATE checked the types) */
			oldcxt = MemoryContextSwitchTo(aggcontext);
			group->value = datumCopy(PG_GETARG_DATUM(2), info->transtypebyval,
									 info->transtypelen);
			MemoryContextSwitchTo(oldcxt);
			group->isnull = false;
			group->notransvalue = false;
			return;
		}
		if (group->isnull)
			return;
	}

	InitFunctionCallInfoData(*tfcinfo, &info->transfn, nargs + 1, info->inputcollid,
							 fcinfo->context, NULL);
	tfcinfo->args[0].value = group->value;
	tfcinfo->args[0].isnull = group->isnull;
	for (int i = 0; i < nargs; i++)
		tfcinfo->args[i + 1] = fcinfo->args[i + 2];
	result = FunctionCallInvoke(tfcinfo);
	partial_agg_group_store(group, result, tfcinfo->isnull, aggcontext);
}

/* the combine step, with nodeAgg's rules for strict functions */
static void
advance_combine(PartialAggGroup *group, Datum value, bool isnull, FunctionCallInfo fcinfo,
				MemoryContext aggcontext)
{
	PartialAggInfo *info = group->info;
	LOCAL_FCINFO(cfcinfo, 2);
	Datum		result;

	if (info->combinefn.fn_strict)
	{
		if (isnull)
			return;
		if (group->notransvalue)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(aggcontext);

			group->value = datumCopy(value, info->transtypebyval, info->transtypelen);
			MemoryContextSwitchTo(oldcxt);
			group->isnull = false;
			group->notransvalue = false;
			return;
		}
		if (group->isnull)
			return;
	}

	InitFunctionCallInfoData(*cfcinfo, &info->combinefn, 2, info->inputcollid,
							 fcinfo->context, NULL);
	cfcinfo->args[0].value = group->value;
	cfcinfo->args[0].isnull = group->isnull;
	cfcinfo->args[1].value = value;
	cfcinfo->args[1].isnull = isnull;
	result = FunctionCallInvoke(cfcinfo);
	partial_agg_group_store(group, result, cfcinfo->isnull, aggcontext);
}

static PartialAggGroup *declared_group(FunctionCallInfo fcinfo, Oid aggfnoid,
									   Oid inputcollid, MemoryContext aggcontext);

/*
 * A group that saw no row: the aggregate's initial state, as a parallel
 * worker that scanned nothing would send.  The aggregate comes from the
 * call (it must be a constant); for the combining functions the argument
 * types are its declared ones, so a polymorphic aggregate gives NULL.
 */
static PartialAggGroup *
group_without_rows(FunctionCallInfo fcinfo, bool partial_side)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	MemoryContext aggcontext = aggregate_context(fcinfo, "partial aggregation");
	TargetEntry *first;
	Oid			aggfnoid;

	if (aggref == NULL || aggref->args == NIL)
		return NULL;
	first = linitial_node(TargetEntry, aggref->args);
	if (!IsA(first->expr, Const) || ((Const *) first->expr)->constisnull)
		return NULL;
	aggfnoid = DatumGetObjectId(((Const *) first->expr)->constvalue);

	if (partial_side)
	{
		Oid			argtypes[FUNC_MAX_ARGS];
		int			nargs = 0;
		ListCell   *lc;

		for_each_from(lc, aggref->aggargtypes, 1)
			argtypes[nargs++] = lfirst_oid(lc);
		return partial_agg_group_new(cached_info(fcinfo, aggfnoid, nargs, argtypes,
												 aggref->inputcollid), aggcontext);
	}

	return declared_group(fcinfo, aggfnoid, aggref->inputcollid, aggcontext);
}

/*
 * A new group of the aggregate called with its declared argument types, for
 * the combining functions, which see no arguments; NULL when they are
 * polymorphic ("any" is not: no type is resolved from it).
 */
static PartialAggGroup *
declared_group(FunctionCallInfo fcinfo, Oid aggfnoid, Oid inputcollid,
			   MemoryContext aggcontext)
{
	Oid			argtypes[FUNC_MAX_ARGS];
	Oid			declrettype;
	Oid		   *declared;
	int			nargs;

	declrettype = get_func_signature(aggfnoid, &declared, &nargs);
	if (nargs > FUNC_MAX_ARGS - 2 || IsPolymorphicType(declrettype))
		return NULL;
	for (int i = 0; i < nargs; i++)
	{
		if (IsPolymorphicType(declared[i]))
			return NULL;
		argtypes[i] = declared[i];
	}
	return partial_agg_group_new(cached_info(fcinfo, aggfnoid, nargs, argtypes, inputcollid),
								 aggcontext);
}

/*
 * partial_agg transition: (internal, regprocedure [, VARIADIC "any"]).
 * The argument types are those of the call, from its expression.
 */
Datum
foresight_partial_agg_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "foresight.partial_agg");
	PartialAggGroup *group = PG_ARGISNULL(0) ? NULL : (PartialAggGroup *) PG_GETARG_POINTER(0);
	Oid			aggfnoid = required_aggregate(fcinfo);
	int			nargs = PG_NARGS() - 2;

	if (group == NULL)
	{
		Oid			argtypes[FUNC_MAX_ARGS];

		for (int i = 0; i < nargs; i++)
		{
			argtypes[i] = get_fn_expr_argtype(fcinfo->flinfo, i + 2);
			if (!OidIsValid(argtypes[i]))
				ereport(ERROR,
						(errcode(ERRCODE_INDETERMINATE_DATATYPE),
						 errmsg("could not determine the type of argument %d of foresight.partial_agg", i + 2)));
		}
		group = partial_agg_group_new(cached_info(fcinfo, aggfnoid, nargs, argtypes,
												  PG_GET_COLLATION()), aggcontext);
	}
	else if (group->info->aggfnoid != aggfnoid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the aggregate of foresight.partial_agg changed within a group"),
				 errdetail("It was %s, then %s.", format_procedure(group->info->aggfnoid),
						   format_procedure(aggfnoid))));

	advance_transition(group, fcinfo, aggcontext);
	PG_RETURN_POINTER(group);
}

/* partial_agg final: (internal) → bytea */
Datum
foresight_partial_agg_finalfn(PG_FUNCTION_ARGS)
{
	PartialAggGroup *group = PG_ARGISNULL(0) ? NULL : (PartialAggGroup *) PG_GETARG_POINTER(0);

	(void) aggregate_context(fcinfo, "foresight.partial_agg");
	if (group == NULL && (group = group_without_rows(fcinfo, true)) == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(partial_agg_serialize(group, fcinfo));
}

/*
 * An internal state is deserialised only when it came from a split's parts
 * or a superuser gives it (partial_agg.h, partial_state_from_parts).  The
 * answer for this call site is kept: its argument is the same expression
 * at every row.
 */
static void
require_state_from_parts(FunctionCallInfo fcinfo, PartialAggInfo *info)
{
	InfoCache  *cache = (InfoCache *) fcinfo->flinfo->fn_extra;

	if (!info->internal_state || superuser())
		return;
	if (cache->state_source == 0)
		cache->state_source = partial_state_from_parts != NULL &&
			partial_state_from_parts(fcinfo, 1) ? 1 : -1;
	if (cache->state_source < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to combine a state of aggregate %s given by the query",
						format_procedure(info->aggfnoid)),
				 errdetail("Its state type is internal, read by %s, which trusts its input: only the states a split's parts computed, or a superuser's, are read.",
						   format_procedure(info->deserialfn.fn_oid)),
				 errhint("Let pg_foresight split the query (foresight.split), or combine the states as a superuser.")));
}

/*
 * combine_agg and finalize_agg transition: (internal, regprocedure, bytea
 * [, anyelement]).  A NULL state (a part that had no state to give) is
 * skipped.  An array state of a fixed shape (avg of float8...) is checked
 * before the combine function reads it (partial_agg_check_state).
 */
Datum
foresight_combine_agg_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "foresight.combine_agg");
	PartialAggGroup *group = PG_ARGISNULL(0) ? NULL : (PartialAggGroup *) PG_GETARG_POINTER(0);
	Oid			aggfnoid = required_aggregate(fcinfo);
	PartialAggInfo *info;
	Oid			stateagg;
	Oid			inputcollid;
	Oid			argtypes[FUNC_MAX_ARGS];
	int			nargs;
	int			flags;
	const char *payload;
	int			payload_len;
	Datum		value;
	bool		isnull;

	if (PG_ARGISNULL(2))
	{
		if (group == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(group);
	}
	partial_agg_read_header(PG_GETARG_BYTEA_PP(2), &stateagg, &nargs, argtypes, &inputcollid,
							&flags, &payload, &payload_len);
	if (stateagg != aggfnoid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a state of aggregate %s cannot be combined as one of %s",
						format_procedure(stateagg), format_procedure(aggfnoid))));
	info = cached_info(fcinfo, aggfnoid, nargs, argtypes, inputcollid);
	if (group == NULL)
		group = partial_agg_group_new(info, aggcontext);
	else if (group->info != info)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("states of aggregate %s with different argument types or collations cannot be combined",
						format_procedure(aggfnoid))));

	if (!(flags & PARTIAL_STATE_NULL))
		require_state_from_parts(fcinfo, info);
	value = partial_agg_deserialize(info, flags, payload, payload_len, &isnull, fcinfo);
	if (info->state_nelems > 0 && !isnull)
		value = partial_agg_check_state(group, value);
	advance_combine(group, value, isnull, fcinfo, aggcontext);
	PG_RETURN_POINTER(group);
}

/* combine_agg final: (internal) → bytea, the combined state */
Datum
foresight_combine_agg_finalfn(PG_FUNCTION_ARGS)
{
	PartialAggGroup *group = PG_ARGISNULL(0) ? NULL : (PartialAggGroup *) PG_GETARG_POINTER(0);

	(void) aggregate_context(fcinfo, "foresight.combine_agg");
	if (group == NULL && (group = group_without_rows(fcinfo, false)) == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(partial_agg_serialize(group, fcinfo));
}

/*
 * finalize_agg final: (internal, regprocedure, bytea, anyelement) →
 * anyelement (FINALFUNC_EXTRA, so the result type is the witness's), the
 * aggregate's final function applied to the combined state, as
 * finalize_aggregate() in nodeAgg.c applies it.
 */
Datum
foresight_finalize_agg_finalfn(PG_FUNCTION_ARGS)
{
	PartialAggGroup *group = PG_ARGISNULL(0) ? NULL : (PartialAggGroup *) PG_GETARG_POINTER(0);
	Oid			witness = get_fn_expr_argtype(fcinfo->flinfo, 3);
	PartialAggInfo *info;
	LOCAL_FCINFO(ffcinfo, FUNC_MAX_ARGS);
	int			nfinalargs;
	Datum		result;

	(void) aggregate_context(fcinfo, "foresight.finalize_agg");
	if (group == NULL && (group = group_without_rows(fcinfo, false)) == NULL)
		PG_RETURN_NULL();
	info = group->info;
	if (witness != info->resulttype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("aggregate %s returns %s, not %s",
						format_procedure(info->aggfnoid), format_type_be(info->resulttype),
						format_type_be(witness)),
				 errhint("Pass NULL::%s as the third argument of foresight.finalize_agg.",
						 format_type_be(info->resulttype))));

	if (!info->has_finalfn)
	{
		if (group->isnull)
			PG_RETURN_NULL();
		return datumCopy(group->value, info->transtypebyval, info->transtypelen);
	}

	nfinalargs = 1 + (info->finalextra ? info->nargs : 0);
	/* the extra arguments are NULL: a strict final function gives NULL */
	if (info->finalfn.fn_strict && (group->isnull || nfinalargs > 1))
		PG_RETURN_NULL();

	InitFunctionCallInfoData(*ffcinfo, &info->finalfn, nfinalargs, info->inputcollid,
							 fcinfo->context, NULL);
	ffcinfo->args[0].value = group->value;
	ffcinfo->args[0].isnull = group->isnull;
	for (int i = 1; i < nfinalargs; i++)
	{
		ffcinfo->args[i].value = (Datum) 0;
		ffcinfo->args[i].isnull = true;
	}
	result = FunctionCallInvoke(ffcinfo);
	if (ffcinfo->isnull)
		PG_RETURN_NULL();
	if (get_typlen(info->resulttype) == -1)
		result = MakeExpandedObjectReadOnly(result, false, -1);
	return result;
}

/*
 * The values combine_results combines are the aggregate's states: its
 * results when they are its states (partial_agg_native), or the states the
 * parts computed from count and sum (partial_agg_count_sum), whose final
 * function the combine step applies after.
 */
static bool
state_travels(Oid aggfnoid)
{
	return partial_agg_native(aggfnoid) || OidIsValid(partial_agg_count_sum(aggfnoid));
}

/*
 * combine_results transition: (internal, regprocedure, anyelement).  The
 * values are results of an aggregate whose result is its state, or states
 * of avg computed from count and sum (state_travels), so they are
 * states: each is combined into the group with the aggregate's combine
 * function, from its initial value, as nodeAgg combines partial states.  A
 * value must be of the aggregate's state type: a value of another type
 * would make the combine function read it as one.  A state of avg's
 * {count, sum} shape is checked first (partial_agg_check_state): the query
 * may give any bigint[].
 */
Datum
foresight_combine_results_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "foresight.combine_results");
	PartialAggGroup *group = PG_ARGISNULL(0) ? NULL : (PartialAggGroup *) PG_GETARG_POINTER(0);
	Oid			aggfnoid = required_aggregate(fcinfo);
	Oid			valuetype = get_fn_expr_argtype(fcinfo->flinfo, 2);
	Datum		value;

	if (group == NULL)
	{
		if (!state_travels(aggfnoid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the results of aggregate %s cannot be combined",
							format_procedure(aggfnoid)),
					 errdetail("Its result is not its transition state: it has a final function, an internal or polymorphic state type, or polymorphic arguments."),
					 errhint("Combine its partial states with foresight.finalize_agg.")));
		group = declared_group(fcinfo, aggfnoid, PG_GET_COLLATION(), aggcontext);
		if (group == NULL)		/* partial_agg_native() refused polymorphic arguments */
			elog(ERROR, "no argument types for aggregate %s", format_procedure(aggfnoid));
	}
	else if (group->info->aggfnoid != aggfnoid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the aggregate of foresight.combine_results changed within a group"),
				 errdetail("It was %s, then %s.", format_procedure(group->info->aggfnoid),
						   format_procedure(aggfnoid))));
	if (valuetype != group->info->transtype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 partial_agg_native(aggfnoid) ?
				 errmsg("aggregate %s returns %s, not %s",
						format_procedure(aggfnoid), format_type_be(group->info->transtype),
						format_type_be(valuetype)) :
				 errmsg("the state of aggregate %s is %s, not %s",
						format_procedure(aggfnoid), format_type_be(group->info->transtype),
						format_type_be(valuetype))));

	value = PG_GETARG_DATUM(2);
	if (group->info->state_nelems > 0 && !PG_ARGISNULL(2))
		value = partial_agg_check_state(group, value);
	advance_combine(group, value, PG_ARGISNULL(2), fcinfo, aggcontext);
	PG_RETURN_POINTER(group);
}

/*
 * combine_results final: (internal, regprocedure, anyelement) → anyelement
 * (FINALFUNC_EXTRA), the combined state, which is the result.
 */
Datum
foresight_combine_results_finalfn(PG_FUNCTION_ARGS)
{
	PartialAggGroup *group = PG_ARGISNULL(0) ? NULL : (PartialAggGroup *) PG_GETARG_POINTER(0);
	Oid			resulttype = get_fn_expr_argtype(fcinfo->flinfo, 2);
	PartialAggInfo *info;

	(void) aggregate_context(fcinfo, "foresight.combine_results");
	if (group == NULL)
	{
		/* no row: the initial value, if it is the result */
		Aggref	   *aggref = AggGetAggref(fcinfo);
		Node	   *first = aggref ? (Node *) linitial_node(TargetEntry, aggref->args)->expr : NULL;

		if (first == NULL || !IsA(first, Const) || ((Const *) first)->constisnull ||
			!state_travels(DatumGetObjectId(((Const *) first)->constvalue)) ||
			(group = group_without_rows(fcinfo, false)) == NULL ||
			group->info->transtype != resulttype)
			PG_RETURN_NULL();
	}
	info = group->info;
	if (group->isnull)
		PG_RETURN_NULL();
	return datumCopy(group->value, info->transtypebyval, info->transtypelen);
}
