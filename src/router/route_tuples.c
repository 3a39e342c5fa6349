/*-------------------------------------------------------------------------
 *
 * route_tuples.c
 *	  Values between a route node and a node, as text: the execution's
 *	  parameters sent with the query, and each row of the answer turned
 *	  into the scan tuple with the columns' input functions.
 *
 * Only the columns that reach the client come from the node: resjunk
 * columns, never sent to the client, are NULL in the scan tuple.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "router/clock_params.h"
#include "router/route_scan_internal.h"

void
route_prepare_conversion(RouteScanState *st)
{
	TupleDesc	desc = st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	List	   *tlist = st->css.ss.ps.plan->targetlist;
	ListCell   *lc;
	int			n = 0;

	if (st->col_map)
		return;
	st->col_map = palloc(sizeof(int) * desc->natts);
	st->in_funcs = palloc(sizeof(FmgrInfo) * desc->natts);
	st->in_ioparams = palloc(sizeof(Oid) * desc->natts);
	st->in_typmods = palloc(sizeof(int32) * desc->natts);
	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Form_pg_attribute att = TupleDescAttr(desc, foreach_current_index(lc));
		Oid			infunc;

		if (tle->resjunk)
			continue;
		st->col_map[n] = foreach_current_index(lc);
		getTypeInputInfo(att->atttypid, &infunc, &st->in_ioparams[n]);
		fmgr_info(infunc, &st->in_funcs[n]);
		st->in_typmods[n] = att->atttypmod;
		n++;
	}
	st->nremote = n;
}

/*
 * The datums live in the row's memory context, reset for each row; res is
 * cleared, even when a value does not convert.
 */
TupleTableSlot *
route_store_row(RouteScanState *st, PGresult *res)
{
	TupleTableSlot *slot = st->css.ss.ss_ScanTupleSlot;
	int			nf = PQnfields(res);

	if (nf != st->nremote)
	{
		PQclear(res);
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("node \"%s\" returned %d columns, expected %d",
						route_current_candidate(st)->name, nf, st->nremote)));
	}
	MemoryContextReset(st->row_ctx);
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	PG_TRY();
	{
		MemoryContext old = MemoryContextSwitchTo(st->row_ctx);

		for (int i = 0; i < nf; i++)
		{
			int			att = st->col_map[i];
			char	   *text = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);

			slot->tts_values[att] = InputFunctionCall(&st->in_funcs[i], text,
													  st->in_ioparams[i],
													  st->in_typmods[i]);
			slot->tts_isnull[att] = (text == NULL);
		}
		MemoryContextSwitchTo(old);
	}
	PG_FINALLY();
	{
		PQclear(res);
	}
	PG_END_TRY();
	return ExecStoreVirtualTuple(slot);
}

void
route_param_values(RouteScanState *st, int *nparams, Oid **types, char ***values)
{
	ParamListInfo params = st->css.ss.ps.state->es_param_list_info;
	int			n = list_length(st->plan.param_types);
	int			nclock = list_length(st->plan.clock_kinds);
	ListCell   *lc;

	*nparams = n;
	*types = palloc0(sizeof(Oid) * Max(n, 1));
	*values = palloc0(sizeof(char *) * Max(n, 1));
	foreach(lc, st->plan.param_types)
	{
		int			i = foreach_current_index(lc);
		ParamExternData *prm = NULL;
		ParamExternData workspace;

		(*types)[i] = lfirst_oid(lc);
		if (i >= n - nclock)
			continue;			/* the clock's, below */
		if (st->plan.lifted_values != NIL)
		{
			(*values)[i] = strVal(list_nth(st->plan.lifted_values, i));
			continue;
		}
		if (params && i < params->numParams)
		{
			if (params->paramFetch)
				prm = params->paramFetch(params, i + 1, false, &workspace);
			else
				prm = &params->params[i];
		}
		if (prm && !prm->isnull && OidIsValid(prm->ptype))
		{
			Oid			outfunc;
			bool		isvarlena;

			getTypeOutputInfo(prm->ptype, &outfunc, &isvarlena);
			(*values)[i] = OidOutputFunctionCall(outfunc, prm->value);
			(*types)[i] = prm->ptype;
		}
	}
	/* this transaction's and statement's times, now */
	if (nclock > 0)
		clock_params_values(st->plan.clock_kinds, *values + (n - nclock));
}
