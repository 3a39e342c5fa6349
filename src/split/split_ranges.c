/*-------------------------------------------------------------------------
 *
 * split_ranges.c
 *	  Cut points of the split key from its statistics, and the parts'
 *	  conditions (see split_ranges.h for why they partition the rows).
 *
 * The statistics give, for the non-null values that are not among the
 * most common ones, a histogram whose bounds cut them into buckets of
 * equal counts, and for the most common values their frequencies.  Every
 * bound and common value is a possible cut point; its estimated share of
 * the rows below it (NULLs first, as the first part holds them) is
 *
 *	nullfrac + (frequencies of the common values below it)
 *	         + (histogram share) * (buckets below it) / (buckets)
 *
 * and a part ends where the share reaches an even split of the rows left
 * among the parts left (j / k when nothing is skewed).  For keys whose
 * values are integers on a line (smallint, integer, bigint, date,
 * timestamp, timestamptz: what PostgreSQL's own selectivity code
 * interpolates), the cut point is interpolated inside the histogram
 * bucket, its rows taken as spread evenly over the bucket's values, so
 * the parts are even however many there are; for other types it is the
 * possible cut point nearest that share.  (Taking the first one that
 * reaches it overshoots by up to a bucket, and with more parts than half
 * the buckets the first parts took two buckets each and the last ones
 * one: 64 parts of a 100-bucket histogram had the first half of the parts
 * hold 72% of the rows.)  Equal values are merged first, so the cut points
 * increase strictly even if the statistics are stale or came from another
 * operator class; a value that many rows share cannot be cut, so skewed
 * keys may give fewer parts than asked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "split/split_key.h"
#include "split/split_ranges.h"

typedef struct Point
{
	Datum		value;
	int			hist_index;		/* index of the histogram bound, or -1 */
	double		mcv_freq;		/* frequency if a common value, else 0 */
	int			query_bound;	/* QUERY_LOWER, QUERY_UPPER, or 0 */
} Point;

#define QUERY_LOWER 1			/* the query reads no key below this value */
#define QUERY_UPPER 2			/* nor above this one */

typedef struct SortContext
{
	FmgrInfo	cmp;
	Oid			collation;
} SortContext;

static int
compare_points(const void *a, const void *b, void *arg)
{
	SortContext *cxt = (SortContext *) arg;

	return DatumGetInt32(FunctionCall2Coll(&cxt->cmp, cxt->collation,
										   ((const Point *) a)->value,
										   ((const Point *) b)->value));
}

/*
 * A key value as a point on a line of integers, for interpolating inside a
 * histogram bucket: false for other types and for infinite dates and
 * timestamps (nothing lies evenly between them and a finite value).
 */
static bool
key_as_int64(Oid type, Datum value, int64 *out)
{
	switch (type)
	{
		case INT2OID:
			*out = DatumGetInt16(value);
			return true;
		case INT4OID:
			*out = DatumGetInt32(value);
			return true;
		case INT8OID:
			*out = DatumGetInt64(value);
			return true;
		case DATEOID:
			if (DATE_NOT_FINITE(DatumGetDateADT(value)))
				return false;
			*out = DatumGetDateADT(value);
			return true;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(value)))
				return false;
			*out = DatumGetTimestamp(value);
			return true;
		default:
			return false;
	}
}

/* the inverse of key_as_int64, for a value between two it accepted */
static Datum
key_from_int64(Oid type, int64 value)
{
	switch (type)
	{
		case INT2OID:
			return Int16GetDatum((int16) value);
		case INT4OID:
			return Int32GetDatum((int32) value);
		case DATEOID:
			return DateADTGetDatum((DateADT) value);
		default:
			return Int64GetDatum(value);
	}
}

static HeapTuple
statistics_tuple(const SplitKey *key, bool inh)
{
	HeapTuple	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(key->relid),
									  Int16GetDatum(key->attnum), BoolGetDatum(inh));

	if (!HeapTupleIsValid(tup))
		tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(key->relid),
							  Int16GetDatum(key->attnum), BoolGetDatum(!inh));
	return tup;
}

/* a slot is usable when it was built under the key's collation */
static bool
slot_usable(AttStatsSlot *slot, const SplitKey *key)
{
	return slot->nvalues > 0 && (!OidIsValid(key->collation) || slot->stacoll == key->collation);
}

List *
split_ranges_cut_points(const SplitKey *key, bool inh, int nparts,
						const SplitKeyBounds *range, const char **note)
{
	HeapTuple	tup;
	AttStatsSlot hist;
	AttStatsSlot mcv;
	bool		have_hist;
	bool		have_mcv;
	double		nullfrac;
	double		mcv_total = 0;
	double		hist_share;
	Point	   *points;
	double	   *below;
	double	   *at;
	bool	   *bound_only;
	int			npoints = 0;
	int			ndistinct = 0;
	SortContext cxt;
	int16		typlen;
	bool		typbyval;
	List	   *cuts = NIL;
	double		last_below = 0;
	double		top = 1.0;
	int			lowest = -1;
	int			highest = -1;
	int			next_point;
	bool		have_last_int = false;
	int64		last_int = 0;

	*note = NULL;
	if (nparts <= 1)
		return NIL;
	tup = statistics_tuple(key, inh);
	if (!HeapTupleIsValid(tup))
	{
		/* a small table never analysed: its own values */
		cuts = split_ranges_from_table(key, nparts);
		if (cuts == NIL)
			*note = "no statistics on the split key (ANALYZE the table): one part";
		else if (list_length(cuts) < nparts - 1)
			*note = psprintf("no statistics on the split key: cut points read from the table, %d parts, not %d",
							 list_length(cuts) + 1, nparts);
		else
			*note = "no statistics on the split key: cut points read from the table";
		return cuts;
	}
	nullfrac = ((Form_pg_statistic) GETSTRUCT(tup))->stanullfrac;
	have_hist = get_attstatsslot(&hist, tup, STATISTIC_KIND_HISTOGRAM, InvalidOid,
								 ATTSTATSSLOT_VALUES) && slot_usable(&hist, key);
	have_mcv = get_attstatsslot(&mcv, tup, STATISTIC_KIND_MCV, InvalidOid,
								ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS) &&
		slot_usable(&mcv, key) && mcv.nnumbers == mcv.nvalues;
	if (!have_hist && !have_mcv)
	{
		ReleaseSysCache(tup);
		*note = "no usable statistics on the split key (ANALYZE the table): one part";
		return NIL;
	}

	points = palloc(sizeof(Point) * ((have_hist ? hist.nvalues : 0) + (have_mcv ? mcv.nvalues : 0) + 2));
	for (int i = 0; have_hist && i < hist.nvalues; i++)
		points[npoints++] = (Point) {hist.values[i], i, 0.0, 0};
	for (int i = 0; have_mcv && i < mcv.nvalues; i++)
	{
		points[npoints++] = (Point) {mcv.values[i], -1, mcv.numbers[i], 0};
		mcv_total += mcv.numbers[i];
	}
	/* the query's own range of the key, as points of their own */
	if (range && range->has_lower)
		points[npoints++] = (Point) {range->lower, -1, 0.0, QUERY_LOWER};
	if (range && range->has_upper)
		points[npoints++] = (Point) {range->upper, -1, 0.0, QUERY_UPPER};
	hist_share = Max(0.0, 1.0 - nullfrac - mcv_total);

	fmgr_info(key->cmp_proc, &cxt.cmp);
	cxt.collation = key->collation;
	qsort_arg(points, npoints, sizeof(Point), compare_points, &cxt);

	/*
	 * Merge equal values; below[d] = estimated share of rows before value d,
	 * at[d] = the share of the rows equal to it that the common values say.
	 */
	below = palloc(sizeof(double) * npoints);
	at = palloc(sizeof(double) * npoints);
	bound_only = palloc0(sizeof(bool) * npoints);
	{
		double		mcv_before = 0;
		int			hist_before = 0;
		int			nbuckets = have_hist ? hist.nvalues - 1 : 0;

		for (int i = 0; i < npoints;)
		{
			int			j = i;
			int			first_bound = -1;
			double		freq = 0;
			int			bounds = 0;
			int			from_query = 0;
			bool		from_stats = false;
			double		hist_fraction;

			CHECK_FOR_INTERRUPTS();
			for (; j < npoints && compare_points(&points[i], &points[j], &cxt) == 0; j++)
			{
				if (points[j].hist_index >= 0)
				{
					if (first_bound < 0 || points[j].hist_index < first_bound)
						first_bound = points[j].hist_index;
					bounds++;
				}
				freq += points[j].mcv_freq;
				from_query |= points[j].query_bound;
				from_stats |= points[j].query_bound == 0;
			}
			if (nbuckets <= 0)
				hist_fraction = 0;
			else if (first_bound >= 0)
				hist_fraction = (double) first_bound / nbuckets;
			else if (hist_before == 0)
				hist_fraction = 0;
			else if (hist_before > nbuckets)
				hist_fraction = 1;
			else
				hist_fraction = (hist_before - 0.5) / nbuckets;	/* inside a bucket */
			below[ndistinct] = nullfrac + mcv_before + hist_share * hist_fraction;
			at[ndistinct] = freq;
			/* a bound of the query's that is not also a value of the statistics */
			bound_only[ndistinct] = !from_stats;
			if (from_query & QUERY_LOWER)
				lowest = ndistinct;
			if (from_query & QUERY_UPPER)
				highest = ndistinct;
			points[ndistinct] = points[i];
			ndistinct++;
			mcv_before += freq;
			hist_before += bounds;
			i = j;
		}
	}

	/*
	 * A bound of the query's inside a bucket was given the bucket's middle;
	 * on a line of integers, its place in the bucket.
	 */
	for (int d = 0; d < ndistinct; d++)
	{
		int			a = d - 1;
		int			b = d + 1;
		int64		va;
		int64		vb;
		int64		vd;

		if (!bound_only[d])
			continue;
		while (a >= 0 && bound_only[a])
			a--;
		while (b < ndistinct && bound_only[b])
			b++;
		if (a >= 0 && b < ndistinct &&
			key_as_int64(key->cmptype, points[a].value, &va) &&
			key_as_int64(key->cmptype, points[b].value, &vb) &&
			key_as_int64(key->cmptype, points[d].value, &vd))
		{
			double		lo = below[a] + at[a];

			below[d] = lo + (below[b] - lo) * ((double) vd - (double) va) / ((double) vb - (double) va);
		}
	}

	/*
	 * The rows the query reads: from the share below its lower bound (the
	 * first point, without one) to the share up to its upper bound (all).
	 */
	if (lowest >= 0)
		last_below = below[lowest];
	if (highest >= 0)
		top = Min(1.0, below[highest] + at[highest]);
	else
		highest = ndistinct;
	next_point = lowest + 1;

	/*
	 * The end of the next part: where the share reaches an even split of
	 * what is left among the parts left (so that a value holding many rows
	 * does not leave the parts after it uneven).  d is the first possible
	 * cut point at or past that share; the cut is interpolated between the
	 * point before it and d, or is the nearer of the two.  next_point is the
	 * first point not yet cut at: the cut points increase strictly, and lie
	 * strictly between the query's bounds.
	 */
	get_typlenbyval(key->cmptype, &typlen, &typbyval);
	for (int j = 1, d = lowest + 1; j < nparts && lowest < highest; j++)
	{
		double		target = last_below + (top - last_below) / (nparts - j + 1);
		Datum		cut;
		int64		lo_value;
		int64		hi_value;

		CHECK_FOR_INTERRUPTS();
		while (d < highest && (below[d] < target || below[d] <= last_below))
			d++;
		if (d < ndistinct && d > 0 && (d == highest || below[d] > target) &&
			key_as_int64(key->cmptype, points[d - 1].value, &lo_value) &&
			key_as_int64(key->cmptype, points[d].value, &hi_value))
		{
			/*
			 * Inside the bucket (lo_value, hi_value]: the rows of the common
			 * value lo_value (if it is one) lie below lo_value + 1, the
			 * others evenly over the values up to hi_value.
			 */
			double		lo = below[d - 1] + at[d - 1];
			double		span = (double) hi_value - (double) lo_value;
			double		frac = lo < below[d] ? (target - lo) / (below[d] - lo) : 1.0;
			double		at_frac;
			int64		value;

			/* in double first: the span of a bigint key may exceed int64 */
			frac = Max(0.0, Min(1.0, frac));
			at_frac = (double) lo_value + rint(frac * span);
			if (at_frac >= (double) hi_value)
				value = hi_value;
			else if (at_frac <= (double) lo_value)
				value = lo_value + 1;
			else
				value = Max((int64) at_frac, lo_value + 1);
			if (have_last_int)
				value = Max(value, last_int + 1);
			if (value < hi_value)
			{
				cuts = lappend(cuts, makeConst(key->cmptype, -1, key->collation, typlen,
											   key_from_int64(key->cmptype, value),
											   false, typbyval));
				last_below = Max(last_below, lo + (below[d] - lo) * ((double) value - (double) lo_value) / span);
				last_int = value;
				have_last_int = true;
				continue;
			}
		}
		if (d == highest)
		{
			/*
			 * The share lies past every point left inside the range (d never
			 * passes highest): the last of them, if not cut at yet.  (So
			 * whether a read is cut at all does not depend on how many parts
			 * are asked.)
			 */
			if (d > next_point && below[d - 1] > last_below)
				d--;
			else
				break;
		}
		else if (d > next_point && below[d - 1] > last_below &&
				 target - below[d - 1] < below[d] - target)
		{
			/*
			 * At a point: the one before d is nearer (so a common value too
			 * large to share a part gets one of its own).
			 */
			d--;
		}
		cut = points[d].value;
		cuts = lappend(cuts, makeConst(key->cmptype, -1, key->collation, typlen,
									   datumCopy(cut, typbyval, typlen),
									   false, typbyval));
		last_below = below[d];
		have_last_int = key_as_int64(key->cmptype, cut, &last_int);
		d++;
		next_point = d;
	}

	if (have_hist)
		free_attstatsslot(&hist);
	if (have_mcv)
		free_attstatsslot(&mcv);
	ReleaseSysCache(tup);
	if (list_length(cuts) < nparts - 1)
		*note = psprintf("the statistics of the split key allow %d part%s%s, not %d",
						 list_length(cuts) + 1, cuts == NIL ? "" : "s",
						 lowest >= 0 || highest < ndistinct ? " within the range the query reads" : "",
						 nparts);
	return cuts;
}

static Expr *
comparison(const SplitKey *key, Oid opno, Index rti, Const *bound)
{
	Const	   *constant = copyObject(bound);
	Expr	   *value = (Expr *) constant;

	/*
	 * Written "'value'::type COLLATE name": the part compares under the
	 * column's collation, whatever the collation of the node's session.  The
	 * constant itself takes its type's collation, or it would be written
	 * with a COLLATE of its own.
	 */
	if (OidIsValid(key->collation))
	{
		CollateExpr *c = makeNode(CollateExpr);

		constant->constcollid = get_typcollation(key->cmptype);
		c->arg = value;
		c->collOid = key->collation;
		c->location = -1;
		value = (Expr *) c;
	}
	return make_opclause(opno, BOOLOID, false, split_key_expr(key, rti), value,
						 InvalidOid, key->collation);
}

Expr *
split_ranges_condition(const SplitKey *key, Index rti, List *cut_points, int part)
{
	int			ncuts = list_length(cut_points);
	Expr	   *lower = NULL;
	Expr	   *upper = NULL;

	Assert(part >= 0 && part <= ncuts);
	if (ncuts == 0)
		return NULL;
	if (part > 0)
		lower = comparison(key, key->ge_opr, rti, list_nth_node(Const, cut_points, part - 1));
	if (part < ncuts)
		upper = comparison(key, key->lt_opr, rti, list_nth_node(Const, cut_points, part));
	/*
	 * The first part holds the NULLs, unless the column has none: "key < c
	 * OR key IS NULL" keeps a node from scanning just the range by index.
	 */
	if (part == 0 && key->notnull)
		return upper;
	if (part == 0)
	{
		NullTest   *isnull = makeNode(NullTest);

		isnull->arg = (Expr *) makeVar(rti, key->attnum, key->atttype, key->atttypmod,
									   key->collation, 0);
		isnull->nulltesttype = IS_NULL;
		isnull->argisrow = false;
		isnull->location = -1;
		return make_orclause(list_make2(upper, isnull));
	}
	if (upper == NULL)
		return lower;
	return make_andclause(list_make2(lower, upper));
}
