/*-------------------------------------------------------------------------
 *
 * partial_agg.h
 *	  Partial aggregation of any aggregate that has a combine function,
 *	  from SQL: a part computes an aggregate's transition state and ships it
 *	  as bytea, the coordinator combines the states and finalises them with
 *	  the aggregate's own functions.
 *
 * The SQL side (pg_foresight--0.4--0.5.sql):
 *
 *	foresight.partial_agg(aggregate regprocedure [, VARIADIC "any"]) → bytea
 *		the state of `aggregate` over its rows, serialised
 *	foresight.combine_agg(aggregate regprocedure, state bytea) → bytea
 *		states combined into one, serialised again (a combine tree)
 *	foresight.finalize_agg(aggregate regprocedure, state bytea, result anyelement) → anyelement
 *		states combined and finalised; `result` is NULL::<result type>
 *	foresight.combine_results(aggregate regprocedure, result anyelement) → anyelement
 *		(pg_foresight--0.8--0.9.sql) results of an aggregate whose result is
 *		its state (partial_agg_native: no final function, a state type
 *		that is not internal) combined with its combine function: a part
 *		runs such an aggregate itself, with no serialisation
 *
 * A serialised state (version 1) is
 *
 *	int8	version (1)
 *	int8	flags: PARTIAL_STATE_NULL (the transition value is NULL),
 *			PARTIAL_STATE_TEXT (payload is the text form, not the binary one)
 *	uint32	the aggregate's OID
 *	uint32	the input collation (the combine and final functions use it too)
 *	uint16	number of arguments n
 *	uint32	argument type OIDs [n]
 *	...		payload: serialfn's bytes (internal states), or the transition
 *			type's send (or, without one, output) function's bytes
 *
 * The argument types let the combining side resolve a polymorphic
 * transition type and give the aggregate's functions the call expression
 * they may inspect; they are checked against the aggregate's signature as
 * the node checked them, so a forged state cannot make a function read a
 * value of another type.  OIDs make a state valid between servers with the
 * same catalogs: the coordinator and its physical standbys.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_PARTIAL_AGG_H
#define FORESIGHT_PARTIAL_AGG_H

#include "postgres.h"

#include "fmgr.h"

#define PARTIAL_STATE_VERSION	1
#define PARTIAL_STATE_NULL		0x01
#define PARTIAL_STATE_TEXT		0x02

/* what it takes to compute, ship, combine and finalise one aggregate's state */
typedef struct PartialAggInfo
{
	Oid			aggfnoid;
	int			nargs;
	Oid			argtypes[FUNC_MAX_ARGS];
	Oid			inputcollid;
	Oid			transtype;		/* resolved, never polymorphic */
	int16		transtypelen;
	bool		transtypebyval;
	bool		initvalisnull;
	Datum		initval;		/* in the info's memory context */
	Oid			resulttype;		/* resolved */
	FmgrInfo	transfn;
	FmgrInfo	combinefn;
	bool		has_finalfn;
	bool		finalextra;
	FmgrInfo	finalfn;
	bool		internal_state; /* transtype internal: serialfn/deserialfn */
	FmgrInfo	serialfn;
	FmgrInfo	deserialfn;
	bool		text_format;	/* no send/receive functions: output/input */
	FmgrInfo	sendfn;			/* send or output function */
	FmgrInfo	recvfn;			/* receive or input function */
	Oid			ioparam;

	/*
	 * A state that is an array of a fixed shape (the state of avg, stddev,
	 * regr_* and friends of built-in types, by their combine function):
	 * PostgreSQL's combine and final functions check that shape with an
	 * internal error only, and the {count, sum} of avg(int2) and avg(int4)
	 * without overflow checks; a state given by a query is checked first
	 * (partial_agg_check_state).  state_nelems 0: no such state.
	 */
	int			state_nelems;
	Oid			state_elemtype;
	const char *state_layout;	/* "{count, sum}", for messages */
	bool		state_sums;		/* int8 elements added: overflow checked */
} PartialAggInfo;

/* one group's state, in the aggregate context */
typedef struct PartialAggGroup
{
	PartialAggInfo *info;
	Datum		value;
	bool		isnull;
	bool		notransvalue;	/* nothing yet, and no initial value */
} PartialAggGroup;

/*
 * Look up and check the aggregate `aggfnoid` called with argument types
 * `argtypes`, for the current user: an error when it is not a plain
 * aggregate with a combine function, when the arguments do not fit its
 * signature, or when the user may not execute it.  Allocated in mcxt.
 */
extern PartialAggInfo *partial_agg_info(Oid aggfnoid, int nargs, const Oid *argtypes,
										Oid inputcollid, MemoryContext mcxt);

/* why an aggregate cannot be computed in parts, or NULL (for the planner) */
extern const char *partial_agg_refusal(Oid aggfnoid);

/* is the aggregate's result its state (combine_results combines results)? */
extern bool partial_agg_native(Oid aggfnoid);

/*
 * The sum aggregate from which, with count, the parts compute the
 * aggregate's transition state, or InvalidOid (see partial_agg_info.c).
 */
extern Oid	partial_agg_count_sum(Oid aggfnoid);

/* a group state initialised with the aggregate's initial value */
extern PartialAggGroup *partial_agg_group_new(PartialAggInfo *info, MemoryContext aggcontext);

/* store a new transition value returned by a function, as nodeAgg does */
extern void partial_agg_group_store(PartialAggGroup *group, Datum value, bool isnull,
									MemoryContext aggcontext);

/*
 * Check a non-null state about to be combined into the group, when its
 * aggregate's state has a fixed shape (PartialAggInfo.state_nelems): an
 * error if it has another shape or a NULL element, or if adding it would
 * overflow.  Returns the value detoasted.  Callers test state_nelems first,
 * so other aggregates pay nothing.
 */
extern Datum partial_agg_check_state(PartialAggGroup *group, Datum value);

/* the serialised form of a group's state (see the top of this file) */
extern bytea *partial_agg_serialize(PartialAggGroup *group, FunctionCallInfo fcinfo);

/*
 * The header of a serialised state: the aggregate, its input collation and
 * argument types;
 * *payload and *payload_len point into state.  An error if malformed.
 */
extern void partial_agg_read_header(bytea *state, Oid *aggfnoid, int *nargs, Oid *argtypes,
									Oid *inputcollid, int *flags, const char **payload,
									int *payload_len);

/* the transition value a payload holds, in the current memory context */
extern Datum partial_agg_deserialize(PartialAggInfo *info, int flags, const char *payload,
									 int payload_len, bool *isnull, FunctionCallInfo fcinfo);

/*
 * Whether the state argument (argument number argno, 0-based) of this call
 * of foresight.combine_agg or foresight.finalize_agg comes unchanged from
 * the aggregate states of a split's parts.  Set once at load by the router,
 * which knows the split scan (split_scan_plan.c); NULL: never.
 *
 * A state whose type is internal is read by the aggregate's deserialisation
 * function, which trusts its bytes as it trusts a parallel worker's (in
 * PostgreSQL 15 numeric's reads a value's digits, weight and scale without
 * checking them, and a forged one can keep a backend computing for hours,
 * deaf to cancel requests).  So such a state is combined only when it came
 * from the parts, whose foresight.partial_agg computed it from rows, or
 * when a superuser gives it.
 */
typedef bool (*partial_state_source_fn) (FunctionCallInfo fcinfo, int argno);
extern PGDLLIMPORT partial_state_source_fn partial_state_from_parts;

#endif							/* FORESIGHT_PARTIAL_AGG_H */
