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
 * and the cut point that ends a part is the first possible one whose share
 * reaches an even split of the rows left among the parts left (j / k when
 * nothing is skewed).  Equal values are merged first, so the cut points
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
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "split/split_key.h"
#include "split/split_ranges.h"

typedef struct Point
{
	Datum		value;
	int			hist_index;		/* index of the histogram bound, or -1 */
	double		mcv_freq;		/* frequency if a common value, else 0 */
} Point;

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
split_ranges_cut_points(const SplitKey *key, bool inh, int nparts, const char **note)
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
	int			npoints = 0;
	int			ndistinct = 0;
	SortContext cxt;
	int16		typlen;
	bool		typbyval;
	List	   *cuts = NIL;
	double		last_below = 0;

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

	points = palloc(sizeof(Point) * ((have_hist ? hist.nvalues : 0) + (have_mcv ? mcv.nvalues : 0)));
	for (int i = 0; have_hist && i < hist.nvalues; i++)
		points[npoints++] = (Point) {hist.values[i], i, 0.0};
	for (int i = 0; have_mcv && i < mcv.nvalues; i++)
	{
		points[npoints++] = (Point) {mcv.values[i], -1, mcv.numbers[i]};
		mcv_total += mcv.numbers[i];
	}
	hist_share = Max(0.0, 1.0 - nullfrac - mcv_total);

	fmgr_info(key->cmp_proc, &cxt.cmp);
	cxt.collation = key->collation;
	qsort_arg(points, npoints, sizeof(Point), compare_points, &cxt);

	/* merge equal values; below[d] = estimated share of rows before value d */
	below = palloc(sizeof(double) * npoints);
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
			points[ndistinct] = points[i];
			ndistinct++;
			mcv_before += freq;
			hist_before += bounds;
			i = j;
		}
	}

	/*
	 * The end of the next part: the first value whose share reaches an even
	 * split of what is left among the parts left (so that a value holding
	 * many rows does not leave the parts after it uneven).
	 */
	get_typlenbyval(key->cmptype, &typlen, &typbyval);
	for (int j = 1, d = 0; j < nparts && d < ndistinct; j++)
	{
		double		target = last_below + (1.0 - last_below) / (nparts - j + 1);

		CHECK_FOR_INTERRUPTS();
		while (d < ndistinct && (below[d] < target || below[d] <= last_below))
			d++;
		if (d == ndistinct)
			break;
		cuts = lappend(cuts, makeConst(key->cmptype, -1, key->collation, typlen,
									   datumCopy(points[d].value, typbyval, typlen),
									   false, typbyval));
		last_below = below[d];
		d++;
	}

	if (have_hist)
		free_attstatsslot(&hist);
	if (have_mcv)
		free_attstatsslot(&mcv);
	ReleaseSysCache(tup);
	if (list_length(cuts) < nparts - 1)
		*note = psprintf("the statistics of the split key allow %d part%s, not %d",
						 list_length(cuts) + 1, cuts == NIL ? "" : "s", nparts);
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
