/*-------------------------------------------------------------------------
 *
 * route_recv.c
 *	  Reading a value a node sent in binary: through the type's receive
 *	  function, or, for what holds values that must not be checked again
 *	  (xml, domains) or whose row type the value names (anonymous
 *	  records), taken apart here as array_recv and record_recv would (see
 *	  route_tuples.c for why rows come back in binary).
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

#include "router/route_recv.h"
#include "router/route_scan_internal.h"

/*
 * How a value the node sent in binary becomes a datum.  Plain values go
 * through their type's receive function; what holds values received
 * without a check (xml, a domain) or whose row type the value itself
 * names (an anonymous record) is taken apart here: arrays and rows are
 * read as array_recv and record_recv read them, with the same checks of
 * the element and column types the node names.
 */
typedef enum RecvKind
{
	RECV_PLAIN,					/* the type's receive function */
	RECV_XML,					/* as text: not parsed again */
	RECV_ARRAY,					/* an array, its elements each by elem */
	RECV_ROW,					/* a composite type's row */
	RECV_RECORD,				/* an anonymous record: its row type from
								 * the value */
	RECV_VECTOR					/* int2vector, oidvector: the empty one too */
} RecvKind;

struct RecvNode
{
	RecvKind	kind;
	bool		domain;			/* PLAIN: of a domain, read as its base type */
	FmgrInfo	func;			/* PLAIN, XML: the receive function */
	Oid			ioparam;
	Oid			elemtype;		/* ARRAY: the element type named by the node */
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	struct RecvNode *elem;
	TupleDesc	desc;			/* ROW: the type's; RECORD: the last one seen */
	struct RecvNode **cols;		/* ... how each column is read */
};


/* the types met in anonymous records, and how they are read */
typedef struct RecvByType
{
	Oid			typid;
	RecvNode   *recv;
} RecvByType;


/*
 * Would the type's own receive function read the value as rn does?  Then
 * an array of it can be read by array_recv.
 */
static bool
recv_is_plain(RecvNode *rn)
{
	return rn->kind == RECV_PLAIN && !rn->domain;
}

/*
 * How a value of type typid (as the node names it: a domain, an array's
 * element type, a column's type) is read, made in the query's context.
 */
RecvNode *
route_recv_node(RouteScanState *st, Oid typid)
{
	MemoryContext old = MemoryContextSwitchTo(st->css.ss.ps.state->es_query_cxt);
	RecvNode   *rn = palloc0(sizeof(RecvNode));
	Oid			base = getBaseType(typid);
	Oid			elem;
	Oid			func;

	check_stack_depth();
	if (base == RECORDOID)
		rn->kind = RECV_RECORD;
	else if (base == INT2VECTOROID || base == OIDVECTOROID)
	{
		rn->kind = RECV_VECTOR;
		rn->elemtype = base == INT2VECTOROID ? INT2OID : OIDOID;
	}
	else if (base == XMLOID)
	{
		/* textrecv: the bytes as they are, in the database's encoding */
		rn->kind = RECV_XML;
		getTypeBinaryInputInfo(TEXTOID, &func, &rn->ioparam);
		fmgr_info(func, &rn->func);
	}
	else if (type_is_rowtype(base))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(base, -1);

		rn->kind = RECV_ROW;
		rn->desc = CreateTupleDescCopy(desc);
		ReleaseTupleDesc(desc);
		rn->cols = palloc0(sizeof(RecvNode *) * Max(rn->desc->natts, 1));
		for (int i = 0; i < rn->desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(rn->desc, i);

			if (!att->attisdropped)
				rn->cols[i] = route_recv_node(st, att->atttypid);
		}
	}
	else if (OidIsValid(elem = get_element_type(base)))
	{
		rn->elem = route_recv_node(st, elem);
		if (recv_is_plain(rn->elem))
			rn->kind = RECV_PLAIN;	/* array_recv does the same */
		else
		{
			rn->kind = RECV_ARRAY;
			rn->elemtype = elem;
			get_typlenbyvalalign(elem, &rn->elmlen, &rn->elmbyval, &rn->elmalign);
		}
	}
	if (rn->kind == RECV_PLAIN)
	{
		rn->domain = (base != typid);
		getTypeBinaryInputInfo(base, &func, &rn->ioparam);
		fmgr_info(func, &rn->func);
	}
	MemoryContextSwitchTo(old);
	return rn;
}

/* how a value of type typid found in an anonymous record is read (cached) */
static RecvNode *
recv_node_cached(RouteScanState *st, Oid typid)
{
	ListCell   *lc;
	RecvByType *entry;
	MemoryContext old;

	foreach(lc, st->recv_types)
	{
		entry = (RecvByType *) lfirst(lc);
		if (entry->typid == typid)
			return entry->recv;
	}
	old = MemoryContextSwitchTo(st->css.ss.ps.state->es_query_cxt);
	entry = palloc(sizeof(RecvByType));
	entry->typid = typid;
	entry->recv = route_recv_node(st, typid);
	st->recv_types = lappend(st->recv_types, entry);
	MemoryContextSwitchTo(old);
	return entry->recv;
}


/*
 * The item of itemlen bytes at buf's cursor, read by rn, as record_recv and
 * array_recv read theirs: in a buffer of its own ending with a '\0' (put
 * there for the while), which it must use up.
 */
static Datum
recv_item(RouteScanState *st, RecvNode *rn, StringInfo buf, int itemlen, int32 typmod)
{
	StringInfoData item;
	char		csave;
	Datum		d;

	if (itemlen < 0 || itemlen > buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("insufficient data left in message")));
	item.data = &buf->data[buf->cursor];
	item.maxlen = itemlen + 1;
	item.len = itemlen;
	item.cursor = 0;
	buf->cursor += itemlen;
	csave = buf->data[buf->cursor];
	buf->data[buf->cursor] = '\0';
	d = route_recv_value(st, rn, &item, typmod);
	if (item.cursor != itemlen)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("improper binary format in a value from a node")));
	buf->data[buf->cursor] = csave;
	return d;
}

/* an array (array_send's form: dimensions, flags, element type, bounds, items) */
static Datum
recv_array(RouteScanState *st, RecvNode *rn, StringInfo buf, int32 typmod)
{
	int			ndim = (int) pq_getmsgint(buf, 4);
	int			flags = (int) pq_getmsgint(buf, 4);
	Oid			elemtype = (Oid) pq_getmsgint(buf, sizeof(Oid));
	int			dim[MAXDIM];
	int			lbound[MAXDIM];
	int			nitems;
	Datum	   *values;
	bool	   *nulls;

	if (ndim < 0 || ndim > MAXDIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid number of dimensions: %d", ndim)));
	if (flags != 0 && flags != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid array flags")));
	if (elemtype != rn->elemtype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("wrong element type")));
	for (int i = 0; i < ndim; i++)
	{
		dim[i] = (int) pq_getmsgint(buf, 4);
		lbound[i] = (int) pq_getmsgint(buf, 4);
	}
	ArrayCheckBounds(ndim, dim, lbound);
	nitems = ArrayGetNItems(ndim, dim);
	if (nitems == 0)
		return PointerGetDatum(construct_empty_array(elemtype));

	values = palloc(sizeof(Datum) * nitems);
	nulls = palloc(sizeof(bool) * nitems);
	for (int i = 0; i < nitems; i++)
	{
		int			itemlen = (int) pq_getmsgint(buf, 4);

		nulls[i] = (itemlen == -1);
		values[i] = nulls[i] ? (Datum) 0 : recv_item(st, rn->elem, buf, itemlen, typmod);
	}
	return PointerGetDatum(construct_md_array(values, nulls, ndim, dim, lbound, elemtype,
											  rn->elmlen, rn->elmbyval, rn->elmalign));
}

/*
 * A row (record_send's form: the number of columns, then each one's type
 * OID, length and bytes) of row type desc, whose columns cols read.
 */
static Datum
recv_row(RouteScanState *st, TupleDesc desc, RecvNode **cols, StringInfo buf)
{
	int			ncols = (int) pq_getmsgint(buf, 4);
	int			validcols = 0;
	Datum	   *values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	HeapTuple	tuple;
	HeapTupleHeader result;

	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			validcols++;
	if (ncols != validcols)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("wrong number of columns: %d, expected %d", ncols, validcols)));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Oid			coltype;
		int			itemlen;

		values[i] = (Datum) 0;
		nulls[i] = true;
		if (att->attisdropped)
			continue;
		coltype = (Oid) pq_getmsgint(buf, sizeof(Oid));
		if (coltype != att->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("wrong data type: %u, expected %u", coltype, att->atttypid)));
		itemlen = (int) pq_getmsgint(buf, 4);
		if (itemlen == -1)
			continue;
		values[i] = recv_item(st, cols[i], buf, itemlen, att->atttypmod);
		nulls[i] = false;
	}

	/* a chunk of its own, as record_recv returns it (heap_form_tuple's is not) */
	tuple = heap_form_tuple(desc, values, nulls);
	result = (HeapTupleHeader) palloc(tuple->t_len);
	memcpy(result, tuple->t_data, tuple->t_len);
	heap_freetuple(tuple);
	return HeapTupleHeaderGetDatum(result);
}

/*
 * An anonymous record: its row type is what its columns' type OIDs say
 * (the same on a physical standby), registered in this backend
 * (BlessTupleDesc) so that the datum can be printed; the last one seen is
 * kept for the next value.
 */
static Datum
recv_record(RouteScanState *st, RecvNode *rn, StringInfo buf)
{
	int			start = buf->cursor;
	int			ncols = (int) pq_getmsgint(buf, 4);
	Oid		   *types;
	bool		same;

	if (ncols < 0 || ncols > MaxTupleAttributeNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid number of columns in a record: %d", ncols)));
	types = palloc(sizeof(Oid) * Max(ncols, 1));
	for (int i = 0; i < ncols; i++)
	{
		int			itemlen;

		types[i] = (Oid) pq_getmsgint(buf, sizeof(Oid));
		itemlen = (int) pq_getmsgint(buf, 4);
		if (itemlen < -1 || itemlen > buf->len - buf->cursor)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("insufficient data left in message")));
		if (itemlen > 0)
			buf->cursor += itemlen;
	}
	buf->cursor = start;

	same = rn->desc != NULL && rn->desc->natts == ncols;
	for (int i = 0; same && i < ncols; i++)
		same = TupleDescAttr(rn->desc, i)->atttypid == types[i];
	if (!same)
	{
		MemoryContext old = MemoryContextSwitchTo(st->css.ss.ps.state->es_query_cxt);
		TupleDesc	desc = CreateTemplateTupleDesc(ncols);
		RecvNode  **cols = palloc0(sizeof(RecvNode *) * Max(ncols, 1));

		for (int i = 0; i < ncols; i++)
		{
			char		name[NAMEDATALEN];

			snprintf(name, sizeof(name), "f%d", i + 1);
			TupleDescInitEntry(desc, (AttrNumber) (i + 1), name, types[i], -1, 0);
			cols[i] = recv_node_cached(st, types[i]);
		}
		rn->desc = BlessTupleDesc(desc);
		rn->cols = cols;
		MemoryContextSwitchTo(old);
	}
	return recv_row(st, rn->desc, rn->cols, buf);
}

/*
 * An int2vector or oidvector (array_send's form of a one-dimensional array
 * from 0).  int2vectorrecv and oidvectorrecv refuse the empty one, which
 * array_recv makes without dimensions, while the catalogs hold many (the
 * arguments of a function without any, a trigger on every column).
 */
static Datum
recv_vector(RecvNode *rn, StringInfo buf)
{
	int			ndim = (int) pq_getmsgint(buf, 4);
	int			flags = (int) pq_getmsgint(buf, 4);
	Oid			elemtype = (Oid) pq_getmsgint(buf, sizeof(Oid));
	int			n = 0;
	int16	   *int2s;
	Oid		   *oids;

	if (ndim == 1)
	{
		n = (int) pq_getmsgint(buf, 4);
		if (pq_getmsgint(buf, 4) != 0)	/* lower bound */
			ndim = -1;
	}
	if ((ndim != 0 && ndim != 1) || flags != 0 || elemtype != rn->elemtype ||
		n < 0 || n > (buf->len - buf->cursor) / 6)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid %s data", rn->elemtype == INT2OID ? "int2vector" : "oidvector")));
	int2s = palloc(sizeof(int16) * Max(n, 1));
	oids = palloc(sizeof(Oid) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		int			itemlen = (int) pq_getmsgint(buf, 4);

		if (itemlen != (rn->elemtype == INT2OID ? 2 : 4))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid %s data", rn->elemtype == INT2OID ? "int2vector" : "oidvector")));
		if (rn->elemtype == INT2OID)
			int2s[i] = (int16) pq_getmsgint(buf, 2);
		else
			oids[i] = (Oid) pq_getmsgint(buf, 4);
	}
	if (rn->elemtype == INT2OID)
		return PointerGetDatum(buildint2vector(int2s, n));
	return PointerGetDatum(buildoidvector(oids, n));
}

Datum
route_recv_value(RouteScanState *st, RecvNode *rn, StringInfo buf, int32 typmod)
{
	switch (rn->kind)
	{
		case RECV_VECTOR:
			return recv_vector(rn, buf);
		case RECV_ARRAY:
			return recv_array(st, rn, buf, typmod);
		case RECV_ROW:
			return recv_row(st, rn->desc, rn->cols, buf);
		case RECV_RECORD:
			return recv_record(st, rn, buf);
		case RECV_XML:
			typmod = -1;
			break;
		case RECV_PLAIN:
			break;
	}
	return ReceiveFunctionCall(&rn->func, buf, rn->ioparam, typmod);
}

