/*-------------------------------------------------------------------------
 *
 * horizons.c
 *	  foresight.prediction_horizons (see horizons.h): parsing with a check
 *	  hook that says what is wrong with a list, the number of model slots
 *	  fixed at server start, and the rule that picks a query's horizon.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "utils/guc.h"

#include "forecast/forecast_types.h"
#include "predict/horizons.h"
#include "stats/history.h"

char	   *foresight_prediction_horizons = NULL;

typedef struct HorizonList
{
	int			count;
	int			ms[PREDICT_MAX_HORIZONS];
} HorizonList;

/* the assigned list; the boot value until the GUC is assigned */
static HorizonList current = {2, {5000, 60000}};

/* model slots per series in shared memory; 0 until shmem_request */
static int	slots = 0;

static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

bool
horizons_parse(const char *value, int *ms, int *count, char **error)
{
	char	   *copy = pstrdup(value ? value : "");
	char	   *item = copy;
	int			n = 0;

	*error = NULL;
	for (;;)
	{
		char	   *comma = strchr(item, ',');
		char	   *end;
		double		d;
		int			v;

		if (comma)
			*comma = '\0';
		while (isspace((unsigned char) *item))
			item++;
		end = item + strlen(item);
		while (end > item && isspace((unsigned char) end[-1]))
			*--end = '\0';
		if (*item == '\0')
		{
			*error = (n == 0 && comma == NULL) ?
				psprintf("the list is empty: give at least one duration, such as '5s'") :
				psprintf("entry %d of the list is empty", n + 1);
			return false;
		}
		if (n == PREDICT_MAX_HORIZONS)
		{
			*error = psprintf("at most %d horizons may be listed", PREDICT_MAX_HORIZONS);
			return false;
		}
		/*
		 * PostgreSQL's parser of a time setting in ms, whose units are those
		 * the message lists (its own hint, which would make a second
		 * sentence, is not used); as a double, so that a duration too long
		 * for an int is out of range, not "not a duration".
		 */
		if (!parse_real(item, &d, GUC_UNIT_MS, NULL))
		{
			*error = psprintf("\"%s\" is not a duration: give a number of milliseconds, or a number with a unit (us, ms, s, min, h or d)",
							  item);
			return false;
		}
		d = rint(d);
		if (!(d >= PREDICT_HORIZON_MIN_MS && d <= PREDICT_HORIZON_MAX_MS))
		{
			*error = psprintf("\"%s\" is outside the valid range of a horizon (100ms .. 1h)", item);
			return false;
		}
		v = (int) d;
		for (int k = 0; k < n; k++)
			if (ms[k] == v)
			{
				*error = psprintf("\"%s\" is listed twice", item);
				return false;
			}
		ms[n++] = v;
		if (comma == NULL)
			break;
		item = comma + 1;
	}
	qsort(ms, n, sizeof(int), cmp_int);
	*count = n;
	pfree(copy);
	return true;
}

static bool
check_horizons(char **newval, void **extra, GucSource source)
{
	HorizonList list;
	HorizonList *result;
	char	   *error;

	if (!horizons_parse(*newval, list.ms, &list.count, &error))
	{
		/* a sentence: capitalised, with a period */
		error[0] = pg_toupper((unsigned char) error[0]);
		GUC_check_errdetail("%s.", error);
		return false;
	}
	/*
	 * More horizons than shared memory holds models for: refused when set,
	 * but not for the built-in default, which a parallel worker (restoring
	 * the leader's settings) or a reload without the line may check in a
	 * server started with fewer; then the shortest ones are used
	 * (horizons_count()).
	 */
	if (slots > 0 && list.count > slots && source != PGC_S_DEFAULT)
	{
		GUC_check_errdetail("The server started with %d horizon%s, and shared memory holds models for no more.",
							slots, slots == 1 ? "" : "s");
		GUC_check_errhint("Set it in postgresql.conf and restart the server to predict over %d horizons (ALTER SYSTEM checks it against the running server).", list.count);
		return false;
	}
	result = malloc(sizeof(HorizonList));
	if (result == NULL)
		return false;
	*result = list;
	*extra = result;
	return true;
}

static void
assign_horizons(const char *newval, void *extra)
{
	if (extra)
		current = *(HorizonList *) extra;
}

void
horizons_define_guc(void)
{
	DefineCustomStringVariable("foresight.prediction_horizons",
							   "Time windows over which the models predict the mean load (a list of durations).",
							   "At most 4; shared memory is sized for as many as the list has at server start.",
							   &foresight_prediction_horizons,
							   "1s, 5s, 1min",
							   PGC_SIGHUP, 0,
							   check_horizons, assign_horizons, NULL);
}

void
horizons_fix_slots(void)
{
	if (slots == 0)
		slots = current.count;
}

int
horizons_slots(void)
{
	return slots > 0 ? slots : current.count;
}

int
horizons_count(void)
{
	return Min(current.count, horizons_slots());
}

int
horizons_ms(int k)
{
	Assert(k >= 0 && k < current.count);
	return current.ms[k];
}

int
horizons_steps(int horizon_ms)
{
	int			interval = Max(foresight_sample_interval_ms, 1);
	int			steps = (horizon_ms + interval - 1) / interval;

	return Max(1, Min(steps, FC_MAX_HORIZON));
}

int
horizons_choose(double needed_ms)
{
	int			n = horizons_count();

	for (int k = 0; k < n; k++)
		if ((double) current.ms[k] >= needed_ms)
			return k;
	return n - 1;
}
