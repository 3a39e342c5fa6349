/*-------------------------------------------------------------------------
 *
 * route_tuples.c
 *	  Values between a route node and a node: how the rows come back
 *	  (binary or text), each row of the answer turned into the scan tuple,
 *	  and the execution's parameters sent with the query.
 *
 * Rows come back in binary: the node's send functions write each value,
 * this server's receive functions read it, with the column's type
 * modifier.  A binary form is the value itself, so the result is the
 * local one whatever DateStyle, TimeZone, timezone_abbreviations,
 * IntervalStyle, extra_float_digits or bytea_output say (their text forms
 * are not: a timestamptz printed with a zone abbreviation is read back
 * under timezone_abbreviations, where IST is Israel's, not India's), and
 * it is cheaper to convert.  Binary forms are promised within a major
 * version only, and some types have none: text comes back then, and only
 * when its text forms read back exactly under this session's settings
 * (route_types.c); otherwise the query runs here, or on another node.
 *
 * What is received is what the node computed, so nothing is checked again:
 * a domain's value is read with its base type's function (its constraints
 * held on the node, or the local run would not check them either: a
 * constraint added NOT VALID, a check that raises a notice), and an xml
 * value is taken as it is, not parsed again under xmloption (xml_recv and
 * xml_in would refuse a content fragment under DOCUMENT, which a local
 * run prints), at any depth: arrays and rows holding them are taken apart
 * here, with array_recv's and record_recv's checks.  An anonymous record
 * gets its row type from its binary form: the columns' type OIDs, the same
 * on a physical standby.  Receive functions convert text from the client's
 * encoding; the node's is the database's, which the conversion uses.
 *
 * Only the columns that reach the client come from the node: resjunk
 * columns, never sent to the client, are NULL in the scan tuple.
 *
 * Parameters go as text in the styles whose text forms read back exactly
 * whatever the node session's mirrored settings are (DateStyle ISO: a
 * timestamptz with its numeric offset; IntervalStyle iso_8601, the only
 * one whose smallest intervals read back; extra_float_digits 3: every
 * float digit), like the lifted constants, which are written so at plan
 * time.  Text also keeps a value safe from a statement the node prepared
 * for other parameter types: it is parsed as the declared type.  Arrays
 * and composites go in binary when the node takes binary: their text form
 * reads a NULL element as the string NULL under array_nulls = off, and
 * their binary form names its element and column types, which array_recv
 * and record_recv check.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "router/clock_params.h"
#include "router/route_recv.h"
#include "router/route_scan_internal.h"

/* one result column */
typedef struct RouteColumn
{
	int			att;			/* scan tuple attribute (0-based) */
	int32		typmod;
	RecvNode   *recv;			/* binary */
	FmgrInfo	in_func;		/* text: the input function */
	Oid			in_ioparam;
	bool		in_xml_array;	/* text: an xml array read as text[], made xml[] */
} RouteColumn;

const char *
route_transport_check(RouteScanState *st)
{
	TupleDesc	desc = st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	ListCell   *lc;
	const char *inexact;

	memset(&st->needs, 0, sizeof(st->needs));
	st->nremote = 0;
	foreach(lc, st->css.ss.ps.plan->targetlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;
		route_type_needs(TupleDescAttr(desc, foreach_current_index(lc))->atttypid, &st->needs);
		st->nremote++;
	}
	st->conv_attempt = -1;

	if (!OidIsValid(st->needs.no_binary))
		return NULL;
	/* text for every node */
	if (st->needs.anonymous_record)
		return psprintf("returns an anonymous record, which only binary transport brings back, "
						"and type %s, which has no binary form",
						format_type_be(st->needs.no_binary));
	if ((inexact = route_text_inexact(st->needs.text_settings)) != NULL)
		return psprintf("type %s has no binary form, and as text: %s",
						format_type_be(st->needs.no_binary), inexact);
	return NULL;
}

bool
route_transport_binary(RouteScanState *st, RemoteConn *rc, const char **text_reason,
					   const char **unusable)
{
	int			version = PQserverVersion(rc->conn);
	const char *inexact;

	*unusable = NULL;
	if (OidIsValid(st->needs.no_binary))
	{
		*text_reason = psprintf("type %s has no binary form", format_type_be(st->needs.no_binary));
		return false;			/* and text is exact: route_transport_check */
	}
	if (version / 10000 == PG_VERSION_NUM / 10000)
	{
		*text_reason = NULL;
		return true;
	}

	/* binary forms are promised within a major version only */
	*text_reason = psprintf("node runs PostgreSQL %d, binary forms are those of one major version",
							version / 10000);
	if (st->needs.anonymous_record)
		*unusable = psprintf("runs PostgreSQL %d: only binary transport brings back an anonymous record, "
							 "and binary forms are those of one major version", version / 10000);
	else if ((inexact = route_text_inexact(st->needs.text_settings)) != NULL)
		*unusable = psprintf("runs PostgreSQL %d: binary forms are those of one major version, "
							 "and as text: %s", version / 10000, inexact);
	return false;
}

const char *
route_transport_describe(RouteScanState *st)
{
	if (st->rc != NULL && st->conv_attempt == st->attempt)
		return st->conv_binary ? "binary" : psprintf("text (%s)", st->text_reason);
	if (OidIsValid(st->needs.no_binary))
		return psprintf("text (type %s has no binary form)", format_type_be(st->needs.no_binary));
	return "binary";
}

void
route_prepare_conversion(RouteScanState *st)
{
	MemoryContext cxt = st->css.ss.ps.state->es_query_cxt;
	TupleDesc	desc = st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	ListCell   *lc;
	const char *unusable;
	int			n = 0;

	if (st->conv_attempt == st->attempt)
		return;
	st->conv_binary = route_transport_binary(st, st->rc, &st->text_reason, &unusable);
	/* a node that could not be used was not sent the query */
	Assert(unusable == NULL);
	if (st->cols == NULL)
		st->cols = MemoryContextAllocZero(cxt, sizeof(RouteColumn) * Max(st->nremote, 1));
	foreach(lc, st->css.ss.ps.plan->targetlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Form_pg_attribute att = TupleDescAttr(desc, foreach_current_index(lc));
		RouteColumn *col;
		int32		basemod = att->atttypmod;
		Oid			base;

		if (tle->resjunk)
			continue;
		col = &st->cols[n++];
		col->att = foreach_current_index(lc);
		base = getBaseTypeAndTypmod(att->atttypid, &basemod);
		col->typmod = att->atttypmod != -1 ? att->atttypmod : basemod;
		if (st->conv_binary)
		{
			if (col->recv == NULL)
				col->recv = route_recv_node(st, att->atttypid);
		}
		else
		{
			Oid			func;

			/* xml as text, made xml: not parsed again; a domain as its base type */
			col->in_xml_array = (base == XMLARRAYOID);
			if (base == XMLOID)
				base = TEXTOID;
			else if (base == XMLARRAYOID)
				base = TEXTARRAYOID;
			if (base == TEXTOID || base == TEXTARRAYOID)
				col->typmod = -1;
			getTypeInputInfo(base, &func, &col->in_ioparam);
			fmgr_info_cxt(func, &col->in_func, cxt);
		}
	}
	Assert(n == st->nremote);
	st->conv_attempt = st->attempt;
}

/*
 * Receive and send functions convert text between the client's encoding
 * and the database's (pq_getmsgtext, pq_sendtext); a node's values are in
 * the database's (its connection's client_encoding), so while they are
 * converted the client's encoding is the database's.  Returns the
 * client's, for restore_client_encoding.
 */
static int
use_database_encoding(void)
{
	int			client = pg_get_client_encoding();

	if (client != GetDatabaseEncoding())
		SetClientEncoding(GetDatabaseEncoding());
	return client;
}

static void
restore_client_encoding(int client)
{
	if (client != pg_get_client_encoding() && SetClientEncoding(client) < 0)
		elog(ERROR, "could not restore client encoding %s", pg_encoding_to_char(client));
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
	volatile int client_encoding = -1;

	PG_TRY();
	{
		MemoryContext old;

		route_prepare_conversion(st);
		if (nf != st->nremote)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("node \"%s\" returned %d columns, expected %d",
							route_current_candidate(st)->name, nf, st->nremote)));
		MemoryContextReset(st->row_ctx);
		ExecClearTuple(slot);
		memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
		if (st->conv_binary)
			client_encoding = use_database_encoding();
		old = MemoryContextSwitchTo(st->row_ctx);
		for (int i = 0; i < nf; i++)
		{
			RouteColumn *col = &st->cols[i];
			Datum		d;

			if (PQgetisnull(res, 0, i))
				continue;
			if (PQfformat(res, i) != (st->conv_binary ? 1 : 0))
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("node \"%s\" returned column %d in another format than asked for",
								route_current_candidate(st)->name, i + 1)));
			if (st->conv_binary)
			{
				StringInfoData buf;

				/* libpq ends each value with a '\0', as a StringInfo is */
				buf.data = PQgetvalue(res, 0, i);
				buf.len = PQgetlength(res, 0, i);
				buf.maxlen = buf.len + 1;
				buf.cursor = 0;
				d = route_recv_value(st, col->recv, &buf, col->typmod);
				if (buf.cursor != buf.len)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
							 errmsg("incorrect binary data format in column %d from node \"%s\"",
									i + 1, route_current_candidate(st)->name)));
			}
			else
			{
				d = InputFunctionCall(&col->in_func, PQgetvalue(res, 0, i), col->in_ioparam,
									  col->typmod);
				if (col->in_xml_array)
					((ArrayType *) DatumGetPointer(d))->elemtype = XMLOID;
			}
			slot->tts_values[col->att] = d;
			slot->tts_isnull[col->att] = false;
		}
		MemoryContextSwitchTo(old);
	}
	PG_FINALLY();
	{
		PQclear(res);
		if (client_encoding >= 0)
			restore_client_encoding(client_encoding);
	}
	PG_END_TRY();
	return ExecStoreVirtualTuple(slot);
}

/* is a parameter of this type sent in binary (see the file's comment)? */
static bool
param_goes_binary(Oid typid)
{
	Oid			base = getBaseType(typid);
	RouteTypeNeeds needs;

	if (base != RECORDOID && !type_is_rowtype(base) && !OidIsValid(get_element_type(base)))
		return false;
	memset(&needs, 0, sizeof(needs));
	route_type_needs(typid, &needs);
	return !OidIsValid(needs.no_binary) && !OidIsValid(needs.pseudo) &&
		!OidIsValid(needs.unreceivable);
}

void
route_param_values(RouteScanState *st, bool binary, int *nparams, Oid **types,
				   char ***values, int **lengths, int **formats)
{
	ParamListInfo params = st->css.ss.ps.state->es_param_list_info;
	volatile int n = list_length(st->plan.param_types);
	volatile int nclock = list_length(st->plan.clock_kinds);
	int			saved_datestyle = DateStyle;
	int			saved_dateorder = DateOrder;
	int			saved_intervalstyle = IntervalStyle;
	int			saved_digits = extra_float_digits;
	volatile int client_encoding = -1;

	*nparams = n;
	*types = palloc0(sizeof(Oid) * Max(n, 1));
	*values = palloc0(sizeof(char *) * Max(n, 1));
	*lengths = palloc0(sizeof(int) * Max(n, 1));
	*formats = palloc0(sizeof(int) * Max(n, 1));

	/*
	 * Text in styles that read back exactly under any mirrored setting; set
	 * directly, as the deparser does, rather than through a GUC nest level.
	 */
	DateStyle = USE_ISO_DATES;
	DateOrder = DATEORDER_YMD;
	IntervalStyle = INTSTYLE_ISO_8601;
	extra_float_digits = 3;
	PG_TRY();
	{
		ListCell   *lc;

		if (binary && st->plan.lifted_values == NIL)
			client_encoding = use_database_encoding();

		foreach(lc, st->plan.param_types)
		{
			int			i = foreach_current_index(lc);
			ParamExternData *prm = NULL;
			ParamExternData workspace;

			(*types)[i] = lfirst_oid(lc);
			if (i >= n - nclock)
				continue;		/* the clock's, below */
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
				(*types)[i] = prm->ptype;
				if (binary && param_goes_binary(prm->ptype))
				{
					Oid			sendfunc;
					bool		isvarlena;
					bytea	   *b;

					getTypeBinaryOutputInfo(prm->ptype, &sendfunc, &isvarlena);
					b = OidSendFunctionCall(sendfunc, prm->value);
					(*values)[i] = VARDATA(b);
					(*lengths)[i] = VARSIZE(b) - VARHDRSZ;
					(*formats)[i] = 1;
				}
				else
				{
					Oid			outfunc;
					bool		isvarlena;

					getTypeOutputInfo(prm->ptype, &outfunc, &isvarlena);
					(*values)[i] = OidOutputFunctionCall(outfunc, prm->value);
				}
			}
		}
		/* this transaction's and statement's times, now */
		if (nclock > 0)
			clock_params_values(st->plan.clock_kinds, *values + (n - nclock));
	}
	PG_FINALLY();
	{
		DateStyle = saved_datestyle;
		DateOrder = saved_dateorder;
		IntervalStyle = saved_intervalstyle;
		extra_float_digits = saved_digits;
		if (client_encoding >= 0)
			restore_client_encoding(client_encoding);
	}
	PG_END_TRY();
}
