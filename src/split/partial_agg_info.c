/*-------------------------------------------------------------------------
 *
 * partial_agg_info.c
 *	  What partial aggregation needs to know about an aggregate (its
 *	  functions, resolved types, initial value), the group states it keeps,
 *	  and the serialised form of a state (see partial_agg.h).
 *
 * Everything here mirrors what nodeAgg.c does for PostgreSQL's own
 * parallel aggregation (ExecInitAgg, ExecAggInitGroup,
 * ExecAggTransReparent, the serialisation steps), so that a state computed
 * in parts and combined here is the state the server would have combined
 * from parallel workers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "parser/parse_agg.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/expandeddatum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "split/partial_agg.h"

/* bytes of a serialised state before its argument types */
#define HEADER_FIXED_BYTES (1 + 1 + 4 + 4 + 2)

const char *
partial_agg_refusal(Oid aggfnoid)
{
	HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	Form_pg_aggregate agg;
	const char *reason = NULL;

	if (!HeapTupleIsValid(tup))
		return psprintf("%s is not an aggregate", format_procedure(aggfnoid));
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	if (agg->aggkind != AGGKIND_NORMAL)
		reason = "is an ordered-set aggregate";
	else if (!OidIsValid(agg->aggcombinefn))
		reason = "has no combine function";
	else if (agg->aggtranstype == INTERNALOID &&
			 (!OidIsValid(agg->aggserialfn) || !OidIsValid(agg->aggdeserialfn)))
		reason = "has an internal state without serialization functions";
	else if (get_func_variadictype(aggfnoid) == ANYOID)
		reason = "takes VARIADIC \"any\"";
	ReleaseSysCache(tup);
	return reason ? psprintf("aggregate %s %s", format_procedure(aggfnoid), reason) : NULL;
}

/*
 * avg(int2) and avg(int4) keep {count, sum} of their non-null inputs as
 * their state, an int8[2] (int2_avg_accum and int4_avg_accum, strict, from
 * '{0,0}'; combined by int4_avg_combine, finished by int8_avg): the parts
 * compute it from native aggregates, ARRAY[count(x), COALESCE(sum(x), 0)],
 * faster than through foresight.partial_agg, and the state travels as it
 * is, combined here by foresight.combine_results.  Returns the sum
 * aggregate of the argument's type (sum(int2) and sum(int4) return
 * bigint), InvalidOid for every other aggregate.
 */
Oid
partial_agg_count_sum(Oid aggfnoid)
{
	switch (aggfnoid)
	{
		case F_AVG_INT2:
			return F_SUM_INT2;
		case F_AVG_INT4:
			return F_SUM_INT4;
		default:
			return InvalidOid;
	}
}

/*
 * Is the aggregate's result its transition state?  So it is without a final
 * function, and the state can travel as the result when its type is neither
 * internal nor polymorphic: count, sum of integers, min, max, bool_and...
 * A part then runs the aggregate itself and the coordinator combines the
 * results with foresight.combine_results, which sees no arguments: so their
 * declared types must not be polymorphic either ("any" is not).
 */
bool
partial_agg_native(Oid aggfnoid)
{
	HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	Form_pg_aggregate agg;
	bool		native;
	Oid		   *declared;
	int			nargs;

	if (!HeapTupleIsValid(tup))
		return false;
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	native = agg->aggkind == AGGKIND_NORMAL && OidIsValid(agg->aggcombinefn) &&
		!OidIsValid(agg->aggfinalfn) && agg->aggtranstype != INTERNALOID &&
		!IsPolymorphicType(agg->aggtranstype) && agg->aggtranstype != ANYOID;
	ReleaseSysCache(tup);
	if (!native)
		return false;
	(void) get_func_signature(aggfnoid, &declared, &nargs);
	for (int i = 0; i < nargs; i++)
		if (IsPolymorphicType(declared[i]))
			return false;
	return true;
}

/* the aggregate's owner must be able to run its support function, as in ExecInitAgg */
static void
check_support_function(Oid fn, Oid owner)
{
	AclResult	aclresult;

	if (!OidIsValid(fn))
		return;
	aclresult = pg_proc_aclcheck(fn, owner, ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(fn));
}

/*
 * The argument types must be those the aggregate accepts: the same type, a
 * binary-coercible one (varchar for text), or a consistent set of actual
 * types for its polymorphic arguments.  Returns the resolved result type.
 */
static Oid
check_arguments(Oid aggfnoid, Form_pg_proc proc, int nargs, const Oid *argtypes)
{
	Oid			declared[FUNC_MAX_ARGS];
	Oid			actual[FUNC_MAX_ARGS];

	if (proc->provariadic == ANYOID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s takes VARIADIC \"any\" and cannot be computed in parts",
						format_procedure(aggfnoid))));
	if (proc->pronargs != nargs)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("aggregate %s takes %d arguments, not %d",
						format_procedure(aggfnoid), proc->pronargs, nargs)));
	for (int i = 0; i < nargs; i++)
	{
		Oid			want = proc->proargtypes.values[i];

		declared[i] = want;
		actual[i] = argtypes[i];
		/* a state's header names its types: they may not exist */
		if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(argtypes[i])))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("argument %d of aggregate %s is of type %u, which does not exist",
							i + 1, format_procedure(aggfnoid), argtypes[i])));
		if (want == ANYOID || IsPolymorphicType(want))
			continue;
		if (argtypes[i] != want && !IsBinaryCoercible(argtypes[i], want))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("argument %d of aggregate %s is of type %s, not %s",
							i + 1, format_procedure(aggfnoid),
							format_type_be(argtypes[i]), format_type_be(want))));
	}
	return enforce_generic_type_consistency(actual, declared, nargs, proc->prorettype, false);
}

/*
 * The shape of the state of the built-in aggregates whose state is an array
 * of a fixed length, known by their combine function (which a user's
 * aggregate may share: its state type is then the same).  PostgreSQL's
 * combine and final functions of these check the shape with elog (an
 * internal error, XX000) or not at all, and int4_avg_combine adds counts
 * and sums without overflow checks, trusting states its own transition
 * functions made.
 */
static void
set_state_shape(PartialAggInfo *info, Oid combinefn)
{
	switch (combinefn)
	{
		case F_INT4_AVG_COMBINE:	/* avg(int2), avg(int4) */
			info->state_nelems = 2;
			info->state_elemtype = INT8OID;
			info->state_layout = "{count, sum}";
			info->state_sums = true;
			break;
		case F_FLOAT8_COMBINE:	/* avg, variance, stddev... of float4, float8 */
			info->state_nelems = 3;
			info->state_elemtype = FLOAT8OID;
			info->state_layout = "{N, Sx, Sxx}";
			break;
		case F_FLOAT8_REGR_COMBINE: /* regr_*, covar_*, corr */
			info->state_nelems = 6;
			info->state_elemtype = FLOAT8OID;
			info->state_layout = "{N, Sx, Sxx, Sy, Syy, Sxy}";
			break;
		case F_INTERVAL_COMBINE:	/* avg(interval) */
			info->state_nelems = 2;
			info->state_elemtype = INTERVALOID;
			info->state_layout = "{sum, count}";
			break;
		default:
			break;
	}
}

static void
set_expr(FmgrInfo *finfo, Expr *expr)
{
	fmgr_info_set_expr((Node *) expr, finfo);
}

PartialAggInfo *
partial_agg_info(Oid aggfnoid, int nargs, const Oid *argtypes, Oid inputcollid,
				 MemoryContext mcxt)
{
	MemoryContext oldcxt;
	HeapTuple	aggtup;
	HeapTuple	proctup;
	HeapTuple	typtup;
	Form_pg_aggregate agg;
	Form_pg_proc proc;
	Form_pg_type typ;
	PartialAggInfo *info;
	const char *refusal;
	AclResult	aclresult;
	Datum		initval;
	bool		initvalisnull;
	Oid			inputtypes[FUNC_MAX_ARGS];
	Expr	   *expr;
	Expr	   *unused;

	if (nargs < 0 || nargs > FUNC_MAX_ARGS - 2)
		elog(ERROR, "partial aggregate with %d arguments", nargs);
	if (!SearchSysCacheExists1(AGGFNOID, ObjectIdGetDatum(aggfnoid)))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("function %s is not an aggregate", format_procedure(aggfnoid))));
	refusal = partial_agg_refusal(aggfnoid);
	if (refusal != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot be computed in parts", format_procedure(aggfnoid)),
				 errdetail("The %s.", refusal),
				 errhint("Partial aggregation needs a plain aggregate with a combine function.")));

	aclresult = pg_proc_aclcheck(aggfnoid, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_AGGREGATE, get_func_name(aggfnoid));

	aggtup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(aggtup) || !HeapTupleIsValid(proctup))
		elog(ERROR, "cache lookup failed for aggregate %u", aggfnoid);
	agg = (Form_pg_aggregate) GETSTRUCT(aggtup);
	proc = (Form_pg_proc) GETSTRUCT(proctup);

	oldcxt = MemoryContextSwitchTo(mcxt);
	info = palloc0(sizeof(PartialAggInfo));
	info->aggfnoid = aggfnoid;
	info->nargs = nargs;
	memcpy(info->argtypes, argtypes, sizeof(Oid) * nargs);
	memcpy(inputtypes, argtypes, sizeof(Oid) * nargs);
	info->inputcollid = inputcollid;
	info->resulttype = check_arguments(aggfnoid, proc, nargs, argtypes);

	check_support_function(agg->aggtransfn, proc->proowner);
	check_support_function(agg->aggcombinefn, proc->proowner);
	check_support_function(agg->aggfinalfn, proc->proowner);
	check_support_function(agg->aggserialfn, proc->proowner);
	check_support_function(agg->aggdeserialfn, proc->proowner);

	info->transtype = resolve_aggregate_transtype(aggfnoid, agg->aggtranstype, inputtypes, nargs);
	get_typlenbyval(info->transtype, &info->transtypelen, &info->transtypebyval);
	info->internal_state = (info->transtype == INTERNALOID);

	fmgr_info_cxt(agg->aggtransfn, &info->transfn, mcxt);
	build_aggregate_transfn_expr(inputtypes, nargs, 0, false, info->transtype, inputcollid,
								 agg->aggtransfn, InvalidOid, &expr, &unused);
	set_expr(&info->transfn, expr);

	fmgr_info_cxt(agg->aggcombinefn, &info->combinefn, mcxt);
	/* as ExecInitAgg: the combine function is a transition function over states */
	build_aggregate_transfn_expr(&info->transtype, 1, 0, false, info->transtype, inputcollid,
								 agg->aggcombinefn, InvalidOid, &expr, &unused);
	set_expr(&info->combinefn, expr);
	if (!info->internal_state)
		set_state_shape(info, agg->aggcombinefn);

	info->has_finalfn = OidIsValid(agg->aggfinalfn);
	info->finalextra = agg->aggfinalextra;
	if (info->has_finalfn)
	{
		fmgr_info_cxt(agg->aggfinalfn, &info->finalfn, mcxt);
		build_aggregate_finalfn_expr(inputtypes, 1 + (info->finalextra ? nargs : 0),
									 info->transtype, info->resulttype, inputcollid,
									 agg->aggfinalfn, &expr);
		set_expr(&info->finalfn, expr);
	}

	if (info->internal_state)
	{
		fmgr_info_cxt(agg->aggserialfn, &info->serialfn, mcxt);
		build_aggregate_serialfn_expr(agg->aggserialfn, &expr);
		set_expr(&info->serialfn, expr);
		fmgr_info_cxt(agg->aggdeserialfn, &info->deserialfn, mcxt);
		build_aggregate_deserialfn_expr(agg->aggdeserialfn, &expr);
		set_expr(&info->deserialfn, expr);
	}
	else
	{
		typtup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(info->transtype));
		if (!HeapTupleIsValid(typtup))
			elog(ERROR, "cache lookup failed for type %u", info->transtype);
		typ = (Form_pg_type) GETSTRUCT(typtup);
		info->text_format = !OidIsValid(typ->typsend) || !OidIsValid(typ->typreceive);
		fmgr_info_cxt(info->text_format ? typ->typoutput : typ->typsend, &info->sendfn, mcxt);
		fmgr_info_cxt(info->text_format ? typ->typinput : typ->typreceive, &info->recvfn, mcxt);
		info->ioparam = getTypeIOParam(typtup);
		ReleaseSysCache(typtup);
	}

	/* the initial value, kept here and copied into each new group */
	initval = SysCacheGetAttr(AGGFNOID, aggtup, Anum_pg_aggregate_agginitval, &initvalisnull);
	info->initvalisnull = initvalisnull;
	if (!initvalisnull)
	{
		Oid			typinput;
		Oid			typioparam;

		getTypeInputInfo(info->transtype, &typinput, &typioparam);
		info->initval = OidInputFunctionCall(typinput, TextDatumGetCString(initval),
											 typioparam, -1);
	}

	MemoryContextSwitchTo(oldcxt);
	ReleaseSysCache(proctup);
	ReleaseSysCache(aggtup);
	return info;
}

PartialAggGroup *
partial_agg_group_new(PartialAggInfo *info, MemoryContext aggcontext)
{
	PartialAggGroup *group = MemoryContextAllocZero(aggcontext, sizeof(PartialAggGroup));

	group->info = info;
	group->isnull = info->initvalisnull;
	group->notransvalue = info->initvalisnull;
	if (!info->initvalisnull)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(aggcontext);

		/* a fresh copy: transition functions may update their state in place */
		group->value = datumCopy(info->initval, info->transtypebyval, info->transtypelen);
		MemoryContextSwitchTo(oldcxt);
	}
	return group;
}

/* as ExecAggTransReparent: a by-reference value moves into the aggregate context */
void
partial_agg_group_store(PartialAggGroup *group, Datum value, bool isnull,
						MemoryContext aggcontext)
{
	PartialAggInfo *info = group->info;

	if (isnull)
		value = (Datum) 0;
	if (!info->transtypebyval && DatumGetPointer(value) != DatumGetPointer(group->value))
	{
		if (!isnull)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(aggcontext);

			if (!(DatumIsReadWriteExpandedObject(value, false, info->transtypelen) &&
				  MemoryContextGetParent(DatumGetEOHP(value)->eoh_context) == aggcontext))
				value = datumCopy(value, false, info->transtypelen);
			MemoryContextSwitchTo(oldcxt);
		}
		if (!group->isnull)
		{
			if (DatumIsReadWriteExpandedObject(group->value, false, info->transtypelen))
				DeleteExpandedObject(group->value);
			else
				pfree(DatumGetPointer(group->value));
		}
	}
	group->value = value;
	group->isnull = isnull;
}

static void
bad_array_state(PartialAggInfo *info, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid state of aggregate %s", format_procedure(info->aggfnoid)),
			 errdetail("A state of this aggregate is a one-dimensional %s array of %d elements, %s, none of them NULL; %s.",
					   format_type_be(info->state_elemtype), info->state_nelems,
					   info->state_layout, problem)));
}

Datum
partial_agg_check_state(PartialAggGroup *group, Datum value)
{
	PartialAggInfo *info = group->info;
	ArrayType  *array = DatumGetArrayTypeP(value);

	Assert(info->state_nelems > 0);
	if (ARR_NDIM(array) != 1)
		bad_array_state(info, ARR_NDIM(array) == 0 ? "this one is empty" :
						psprintf("this one has %d dimensions", ARR_NDIM(array)));
	if (ARR_DIMS(array)[0] != info->state_nelems)
		bad_array_state(info, psprintf("this one's length is %d", ARR_DIMS(array)[0]));
	if (ARR_HASNULL(array))
		bad_array_state(info, "this one has a NULL element");
	if (ARR_ELEMTYPE(array) != info->state_elemtype)	/* not from SQL */
		bad_array_state(info, psprintf("this one is an array of %s",
									   format_type_be(ARR_ELEMTYPE(array))));

	/* the sums int4_avg_combine will make, as int8pl checks them */
	if (info->state_sums && !group->isnull && !group->notransvalue)
	{
		ArrayType  *current = DatumGetArrayTypeP(group->value);
		int64	   *add = (int64 *) ARR_DATA_PTR(array);
		int64	   *cur = (int64 *) ARR_DATA_PTR(current);
		int64		sum;

		if (ARR_NDIM(current) != 1 || ARR_DIMS(current)[0] != info->state_nelems ||
			ARR_HASNULL(current))
			elog(ERROR, "the combined state of aggregate %s is not a %d-element array",
				 format_procedure(info->aggfnoid), info->state_nelems);
		for (int i = 0; i < info->state_nelems; i++)
			if (unlikely(pg_add_s64_overflow(cur[i], add[i], &sum)))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("bigint out of range")));
	}
	return PointerGetDatum(array);
}

bytea *
partial_agg_serialize(PartialAggGroup *group, FunctionCallInfo fcinfo)
{
	PartialAggInfo *info = group->info;
	StringInfoData buf;
	int			flags = 0;

	if (group->isnull)
		flags |= PARTIAL_STATE_NULL;
	if (info->text_format)
		flags |= PARTIAL_STATE_TEXT;

	pq_begintypsend(&buf);
	pq_sendint8(&buf, PARTIAL_STATE_VERSION);
	pq_sendint8(&buf, flags);
	pq_sendint32(&buf, info->aggfnoid);
	pq_sendint32(&buf, info->inputcollid);
	pq_sendint16(&buf, info->nargs);
	for (int i = 0; i < info->nargs; i++)
		pq_sendint32(&buf, info->argtypes[i]);

	if (!group->isnull)
	{
		if (info->internal_state)
		{
			LOCAL_FCINFO(sfcinfo, 1);
			bytea	   *b;

			/* serialfn checks that it runs inside an aggregate: give it ours */
			InitFunctionCallInfoData(*sfcinfo, &info->serialfn, 1, InvalidOid,
									 fcinfo->context, NULL);
			sfcinfo->args[0].value = group->value;
			sfcinfo->args[0].isnull = false;
			b = DatumGetByteaPP(FunctionCallInvoke(sfcinfo));
			if (sfcinfo->isnull)
				elog(ERROR, "serialization function %u returned NULL", info->serialfn.fn_oid);
			pq_sendbytes(&buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
		}
		else if (info->text_format)
		{
			char	   *s = OutputFunctionCall(&info->sendfn, group->value);

			pq_sendbytes(&buf, s, strlen(s));
		}
		else
		{
			bytea	   *b = SendFunctionCall(&info->sendfn, group->value);

			pq_sendbytes(&buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
		}
	}
	return pq_endtypsend(&buf);
}

static void
bad_state(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid partial aggregate state"),
			 errdetail("%s", why),
			 errhint("Pass only states made by foresight.partial_agg or foresight.combine_agg.")));
}

void
partial_agg_read_header(bytea *state, Oid *aggfnoid, int *nargs, Oid *argtypes,
						Oid *inputcollid, int *flags, const char **payload, int *payload_len)
{
	StringInfoData buf;
	int			len = VARSIZE_ANY_EXHDR(state);

	if (len < HEADER_FIXED_BYTES)
		bad_state("The state is shorter than its header.");
	buf.data = VARDATA_ANY(state);
	buf.len = len;
	buf.maxlen = len;
	buf.cursor = 0;
	if (pq_getmsgbyte(&buf) != PARTIAL_STATE_VERSION)
		bad_state("Its version is unknown.");
	*flags = pq_getmsgbyte(&buf);
	if ((*flags & ~(PARTIAL_STATE_NULL | PARTIAL_STATE_TEXT)) != 0)
		bad_state("It has unknown flags.");
	*aggfnoid = (Oid) pq_getmsgint(&buf, 4);
	*inputcollid = (Oid) pq_getmsgint(&buf, 4);
	*nargs = pq_getmsgint(&buf, 2);
	if (*nargs > FUNC_MAX_ARGS - 2)
		bad_state("It has too many argument types.");
	if (len - buf.cursor < 4 * *nargs)
		bad_state("The state is shorter than its header.");
	for (int i = 0; i < *nargs; i++)
		argtypes[i] = (Oid) pq_getmsgint(&buf, 4);
	if (OidIsValid(*inputcollid) &&
		!SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(*inputcollid)))
		bad_state("Its collation does not exist.");
	*payload = buf.data + buf.cursor;
	*payload_len = len - buf.cursor;
	if ((*flags & PARTIAL_STATE_NULL) && *payload_len != 0)
		bad_state("A NULL state has a payload.");
}

Datum
partial_agg_deserialize(PartialAggInfo *info, int flags, const char *payload,
						int payload_len, bool *isnull, FunctionCallInfo fcinfo)
{
	*isnull = false;
	if (flags & PARTIAL_STATE_NULL)
	{
		*isnull = true;
		return (Datum) 0;
	}
	if (((flags & PARTIAL_STATE_TEXT) != 0) != info->text_format)
		bad_state("Its format is not the transition type's.");

	if (info->internal_state)
	{
		LOCAL_FCINFO(dfcinfo, 2);
		bytea	   *b = palloc(payload_len + VARHDRSZ);
		Datum		result;

		SET_VARSIZE(b, payload_len + VARHDRSZ);
		memcpy(VARDATA(b), payload, payload_len);
		InitFunctionCallInfoData(*dfcinfo, &info->deserialfn, 2, InvalidOid,
								 fcinfo->context, NULL);
		dfcinfo->args[0].value = PointerGetDatum(b);
		dfcinfo->args[0].isnull = false;
		dfcinfo->args[1].value = (Datum) 0; /* dummy, as nodeAgg passes */
		dfcinfo->args[1].isnull = false;
		result = FunctionCallInvoke(dfcinfo);
		*isnull = dfcinfo->isnull;
		return result;
	}
	else if (info->text_format)
	{
		char	   *s = pnstrdup(payload, payload_len);

		if ((int) strlen(s) != payload_len)
			bad_state("Its text form holds a zero byte.");
		return InputFunctionCall(&info->recvfn, s, info->ioparam, -1);
	}
	else
	{
		StringInfoData buf;
		Datum		result;

		/* a StringInfo's data ends with a zero byte that receive functions may rely on */
		buf.data = palloc(payload_len + 1);
		memcpy(buf.data, payload, payload_len);
		buf.data[payload_len] = '\0';
		buf.len = payload_len;
		buf.maxlen = payload_len + 1;
		buf.cursor = 0;
		result = ReceiveFunctionCall(&info->recvfn, &buf, info->ioparam, -1);
		if (buf.cursor != buf.len)
			bad_state("Its binary form has bytes left over.");
		return result;
	}
}
