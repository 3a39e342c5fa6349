/*-------------------------------------------------------------------------
 *
 * predictive_score.c
 *	  The predictive policy (see predictive_score.h).
 *
 * predicted_load of a candidate = the live prediction for the query's
 * request class when that class's model has seen enough samples and it is
 * not below the node-level prediction, else the node-level one, plus
 * PREDICTIVE_INFLIGHT_LOAD per query this coordinator has in flight there
 * (the load it added since the node's last sample), capped at 1.  A node
 * with no prediction yet counts as idle.  The prediction read is the one
 * over the horizon chosen for the query (predictive_choose_horizon): the
 * window in which the query will wait and run.  With
 * foresight.prediction_model = naive (per session, or per experiment arm)
 * the load read is the blend's naive member instead: the last load
 * observed, the baseline that tells whether forecasting pays.
 *
 * The connection score counts in-flight queries, which makes a node that
 * answers slowly, and so holds few of them, look free.  Its speed corrects
 * that: the fastest candidate's recent answer time for the class over this
 * node's (stats/latency.c), 1 within PREDICTIVE_SPEED_TOLERANCE, so that
 * 1 / (1 + in-flight) weighed by speed follows the expected wait rather
 * than the count.  These are the coordinator's live observations, not a
 * sample old as the predictions are.  The speed counts in proportion to
 * the evidence behind it, which decays within a few seconds once the node
 * gets no queries of the class: a node avoided for being slow is tried
 * again, and a node that was slow for one query is not shunned.  Where
 * no candidate answered warm lately, their cold answers (a node
 * connection's first) are compared instead, with each other only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "utils/guc.h"

#include "predict/horizons.h"
#include "predict/live_models.h"
#include "router/admission.h"
#include "router/predictive_score.h"

int			foresight_prediction_model = PREDICTION_MODEL_BLEND;

static const struct config_enum_entry prediction_model_options[] = {
	{"blend", PREDICTION_MODEL_BLEND, false},
	{"naive", PREDICTION_MODEL_NAIVE, false},
	{NULL, 0, false}
};

void
predictive_define_gucs(void)
{
	DefineCustomEnumVariable("foresight.prediction_model",
							 "Which model's predicted load the predictive policy scores with.",
							 "blend is the live blend of forecasting models; naive is the last observed load (the blend's naive member), the baseline to compare the blend against.",
							 &foresight_prediction_model,
							 PREDICTION_MODEL_BLEND,
							 prediction_model_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

const char *
prediction_model_name(int model)
{
	for (const struct config_enum_entry *e = prediction_model_options; e->name; e++)
		if (e->val == model)
			return e->name;
	return "?";
}

/* the load of a prediction as model reads it */
static double
model_load(const Prediction *p, int model)
{
	return model == PREDICTION_MODEL_NAIVE ? live_models_naive_load(p) : p->predicted_load;
}

/* that load's recent mean absolute error; 0 while unknown */
static double
model_error(const Prediction *p, int model)
{
	double		mae = model == PREDICTION_MODEL_NAIVE ? live_models_naive_mae(p) : p->mae;

	return isfinite(mae) ? Min(mae, 1.0) : 0.0;
}

/*
 * The class's predicted load when known, else the node's; *node_load the
 * node's, *error the recent error of the one returned.
 *
 * A class's load is the node's plus the class's latency pressure
 * (predict/class_signal.h), never below it, so a class forecast below the
 * node's is a lag of the class's model (after a load step its blend still
 * weighs the member that was right before the step), not news: the node's
 * is returned then.
 */
static double
candidate_load(const PredictiveCandidate *c, RequestClass cls, int k, int model,
			   bool *from_class, double *node_load, double *error)
{
	Prediction p;
	double		node_error = 0.0;

	*from_class = false;
	*node_load = 0.0;
	if (live_models_prediction(c->slot, c->node_id, PREDICT_SERIES_NODE, k, &p))
	{
		*node_load = model_load(&p, model);
		node_error = model_error(&p, model);
	}
	if (live_models_prediction(c->slot, c->node_id, 1 + (int) cls, k, &p) &&
		p.samples >= PREDICTIVE_MIN_CLASS_SAMPLES &&
		model_load(&p, model) >= *node_load)
	{
		*from_class = true;
		*error = model_error(&p, model);
		return model_load(&p, model);
	}
	*error = node_error;
	return *node_load;
}

void
predictive_choose_horizon(double duration_ms, double wait_ms, PredictiveHorizon *horizon)
{
	horizon->duration_ms = duration_ms;
	horizon->wait_ms = wait_ms;
	horizon->k = horizons_choose(duration_ms + wait_ms);
	horizon->horizon_ms = horizons_ms(horizon->k);
}

/* the fastest answer (cold: of cold answers) with min_evidence behind it */
static double
fastest_answer(const PredictiveCandidate *cands, int n, double min_evidence, bool cold)
{
	double		fastest = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		us = cold ? cands[i].cold_answer_us : cands[i].answer_us;
		double		evidence = cold ? cands[i].cold_evidence : cands[i].evidence;

		if (us > 0.0 && evidence >= min_evidence && (fastest == 0.0 || us < fastest))
			fastest = us;
	}
	return fastest;
}

double
predictive_fastest_answer(const PredictiveCandidate *cands, int n, double min_evidence)
{
	return fastest_answer(cands, n, min_evidence, false);
}

/*
 * Fill the answer times and speed of every candidate for class cls.
 *
 * answer_us (what the query's horizon and the hedge delay read, however
 * old) is the warm one, or, when no candidate has a warm one on record,
 * the cold one (answer_cold; the regions' service time skips those).
 * The speed compares warm answers when some candidate answered warm
 * lately, else cold ones when some did (a workload of short sessions,
 * each of a few reads, gives nothing else: latency.h), never one node's
 * cold beside another's warm: a node's first answers on a new connection
 * are many times its steady pace, and one of two equal nodes measured so
 * would lose every choice.
 */
static void
candidate_speeds(PredictiveCandidate *cands, int n, RequestClass cls, TimestampTz now)
{
	double		fastest;
	bool		cold;

	for (int i = 0; i < n; i++)
	{
		PredictiveCandidate *c = &cands[i];
		LatencyRecent warm;
		LatencyRecent cold_answers;

		c->speed = 1.0;
		c->answer_cold = false;
		(void) latency_recent(c->slot, c->node_id, cls, now, &warm, &cold_answers);
		c->answer_us = warm.mean_us;
		c->evidence = warm.evidence;
		c->cold_answer_us = cold_answers.mean_us;
		c->cold_evidence = cold_answers.evidence;
	}
	/* no warm answer on record: the cold ones are all there is */
	cold = fastest_answer(cands, n, 0.0, false) == 0.0;
	if (cold)
	{
		for (int i = 0; i < n; i++)
		{
			cands[i].answer_us = cands[i].cold_answer_us;
			cands[i].evidence = cands[i].cold_evidence;
			cands[i].answer_cold = true;
		}
	}

	fastest = fastest_answer(cands, n, PREDICTIVE_SPEED_REFERENCE, cold);
	if (fastest == 0.0 && !cold)
	{
		cold = true;
		fastest = fastest_answer(cands, n, PREDICTIVE_SPEED_REFERENCE, true);
	}
	if (fastest == 0.0)
		return;					/* nobody answered lately: all alike */
	for (int i = 0; i < n; i++)
	{
		PredictiveCandidate *c = &cands[i];
		double		answer_us = cold ? c->cold_answer_us : c->answer_us;
		double		evidence = cold ? c->cold_evidence : c->evidence;
		double		ratio;
		double		confidence;

		if (evidence <= 0.0)
			continue;
		ratio = Min(1.0, PREDICTIVE_SPEED_TOLERANCE * fastest / answer_us);
		confidence = Min(1.0, evidence / PREDICTIVE_SPEED_EVIDENCE);
		c->speed = 1.0 - (1.0 - ratio) * confidence;
	}
}

bool
predictive_score(PredictiveCandidate *cands, int n, RequestClass cls,
				 const RoutingWeights *weights, TimestampTz now,
				 PredictiveHorizon *horizon, int model)
{
	double		max_weight = 0.0;
	bool		any_capacity = false;

	for (int i = 0; i < n; i++)
		max_weight = Max(max_weight, cands[i].weight);
	candidate_speeds(cands, n, cls, now);
	predictive_choose_horizon(predictive_fastest_answer(cands, n, 0.0) / 1000.0,
							  admission_expected_wait_ms(), horizon);

	for (int i = 0; i < n; i++)
	{
		PredictiveCandidate *c = &cands[i];
		double		error;
		double		load = candidate_load(c, cls, horizon->k, model,
											  &c->from_class, &c->node_load, &error);

		c->predicted_load = Min(1.0, load + PREDICTIVE_INFLIGHT_LOAD * c->inflight);
		c->connection_score = scoring_connection_score(c->weight, max_weight,
													   c->connections, c->max_connections,
													   c->inflight, c->speed);
		c->score = scoring_score(weights, c->connection_score, c->predicted_load);
		c->score_error = weights->load * error;
		if (c->predicted_load <= foresight_overload_threshold)
			any_capacity = true;
	}
	return any_capacity;
}

double
predictive_near_tie_band(const PredictiveCandidate *a, const PredictiveCandidate *b)
{
	return Max(PREDICTIVE_NEAR_TIE,
			   sqrt(a->score_error * a->score_error +
					b->score_error * b->score_error));
}

/* Is b's score within reach of a's: within their near-tie band below it? */
static bool
near_tied(const PredictiveCandidate *a, const PredictiveCandidate *b)
{
	return b->score >= a->score - predictive_near_tie_band(a, b);
}

int
predictive_choose(const PredictiveCandidate *cands, int n)
{
	int			best = 0;
	int			near[DECISION_MAX_CANDIDATES * 8];
	int			nnear = 0;

	Assert(n > 0);
	for (int i = 1; i < n; i++)
		if (cands[i].score > cands[best].score)
			best = i;

	/*
	 * A near-tie: a score the best one's is not surely above.  Two forecasts
	 * whose loads differ by less than their recent errors do not tell which
	 * node will be lighter, and on a load the routing itself holds level a
	 * smooth forecast can rate one node a little lower for seconds at a
	 * time: taking the best score then sends that node every read, which
	 * the in-flight counts of the draw below spread (docs/prediction.md).
	 */
	for (int i = 0; i < n && nnear < lengthof(near); i++)
	{
		if (near_tied(&cands[best], &cands[i]) &&
			cands[i].predicted_load <= foresight_overload_threshold)
			near[nnear++] = i;
	}
	if (nnear == 0)
		return best;			/* nobody below the threshold (admission let
								 * us through): the best score */
	if (nnear == 1)
		return near[0];

	/*
	 * Power of two choices: of two near-ties drawn at random, the one with
	 * fewer queries of this coordinator in flight (live counts in shared
	 * memory, unlike the predictions).  Backends deciding at the same moment
	 * draw different pairs, so none stampedes the best node, and equal nodes
	 * stay as evenly loaded as least_connections keeps them.
	 */
	{
		int			ia = (int) pg_prng_uint64_range(&pg_global_prng_state, 0, nnear - 1);
		int			ib = (int) pg_prng_uint64_range(&pg_global_prng_state, 0, nnear - 2);
		int			a,
					b;

		if (ib >= ia)
			ib++;				/* two distinct draws, each uniform */
		a = near[ia];
		b = near[ib];
		return cands[b].inflight < cands[a].inflight ? b : a;
	}
}

bool
predictive_clear_winner(const PredictiveCandidate *cands, int n, int i)
{
	for (int j = 0; j < n; j++)
	{
		if (j != i && near_tied(&cands[i], &cands[j]))
			return false;
	}
	return true;
}

void
predictive_log_candidates(const PredictiveCandidate *cands, int n, Decision *d)
{
	d->ncandidates = Min(n, DECISION_MAX_CANDIDATES);
	for (int i = 0; i < d->ncandidates; i++)
	{
		DecisionCandidate *dc = &d->candidates[i];

		dc->node_id = cands[i].node_id;
		dc->scored = true;
		strlcpy(dc->name, cands[i].name, NAMEDATALEN);
		dc->connection_score = cands[i].connection_score;
		dc->predicted_load = cands[i].predicted_load;
		dc->score = cands[i].score;
	}
}
