/*-------------------------------------------------------------------------
 *
 * policy_predictive.c
 *	  The predictive routing policy as a row of the policy table: score
 *	  the candidates (router/predictive_score.c), apply admission control when
 *	  every one is predicted overloaded (router/admission.c), and order
 *	  them: the chosen node first, then the others by score.  A read the
 *	  scores send to a node runs here instead when the coordinator is busy,
 *	  its CPU scarcer than that node's, and routing would cost it more CPU
 *	  than running the read (router/coordinator_cost.c); while the
 *	  coordinator is such a bottleneck, a verdict "here" is reused for a
 *	  while (router/kept_here.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/timestamp.h"

#include "router/admission.h"
#include "router/coordinator_cost.h"
#include "router/hedge.h"
#include "router/kept_here.h"
#include "router/policy.h"
#include "router/predictive_score.h"
#include "router/reason_text.h"
#include "router/regions.h"
#include "router/router.h"
#include "stats/decision_log.h"
#include "stats/history.h"

typedef struct PredictiveRound
{
	PredictiveCandidate *pc;
	int			n;
	RequestClass cls;
	RoutingWeights weights;
	TimestampTz now;			/* when scored (the speeds' evidence decays) */
	PredictiveHorizon horizon;	/* the prediction window the score read */
	int			model;			/* foresight.prediction_model, or the arm's */
} PredictiveRound;

static void
fill_candidates(PredictiveCandidate *pc, const RouteCandidate *cands, int n)
{
	for (int i = 0; i < n; i++)
	{
		MetricSample sample;

		memset(&pc[i], 0, sizeof(PredictiveCandidate));
		pc[i].slot = cands[i].slot;
		pc[i].node_id = cands[i].node_id;
		pc[i].name = cands[i].name;
		pc[i].weight = cands[i].weight;
		pc[i].inflight = cands[i].inflight;
		pc[i].cpu_throttled = -1.0;
		if (history_latest(cands[i].slot, cands[i].node_id, &sample))
		{
			pc[i].connections = Max(sample.connections, 0);
			pc[i].max_connections = Max(sample.max_connections, 0);
			if (!isnan(sample.cpu_throttled))
				pc[i].cpu_throttled = sample.cpu_throttled;
		}
	}
}

/* score the candidates at round->now: does some candidate have capacity? */
static bool
score_round(PredictiveRound *round)
{
	return predictive_score(round->pc, round->n, round->cls, &round->weights, round->now,
							&round->horizon, round->model);
}

/* admission's callback: re-read predictions and speeds as they are now */
static bool
rescore(void *arg)
{
	PredictiveRound *round = (PredictiveRound *) arg;

	round->now = GetCurrentTimestamp();
	return score_round(round);
}

/* "5s", "1min", "1500ms": a horizon as the GUC would take it */
static void
append_horizon(ReasonText *rt, int ms)
{
	if (ms % 60000 == 0)
	{
		reason_text_int(rt, ms / 60000);
		reason_text_str(rt, "min");
	}
	else if (ms % 1000 == 0)
	{
		reason_text_int(rt, ms / 1000);
		reason_text_str(rt, "s");
	}
	else
	{
		reason_text_int(rt, ms);
		reason_text_str(rt, "ms");
	}
}

static const char *
overload_action_name(int action)
{
	switch (action)
	{
		case OVERLOAD_QUEUE:
			return "queue";
		case OVERLOAD_ERROR:
			return "fail";
		case OVERLOAD_LOCAL:
			return "run locally";
	}
	return "?";
}

/*
 * The coordinator's own cost: the chosen candidate, or the coordinator
 * when it is a candidate, busy (by its predicted load or its CPU limit),
 * its CPU scarcer than the chosen node's, and routing this class costs it
 * more than running here (the rule and why: coordinator_cost.c).
 */
static int
weigh_coordinator_cost(const PredictiveCandidate *pc, const RouteCandidate *cands,
					   int n, int chosen, RequestClass cls, RouteDecision *d,
					   bool *cheaper)
{
	int			here = -1;

	*cheaper = false;
	if (cands[chosen].is_local)
		return chosen;
	for (int i = 0; i < n; i++)
	{
		if (cands[i].is_local)
			here = i;
	}
	if (here < 0 ||
		!coordinator_cost_runs_here(cls, pc[here].predicted_load, pc[here].cpu_throttled,
									cands[chosen].name, pc[chosen].predicted_load,
									pc[chosen].cpu_throttled,
									d->reason, sizeof(d->reason), cheaper))
		return chosen;
	return here;
}

/*
 * Will this read's verdict, here, hold for the class's next reads whichever
 * node the scores would prefer (kept_here.c)?  The read runs here, after
 * no wait in the admission queue (whose candidates were all overloaded),
 * the coordinator is busy and its CPU the scarcer beside every node's
 * (coordinator_cost_scarcer()), and:
 * - the rule kept it here because running here is measured the cheaper
 *   (the scores chose a node, whose CPU is less scarce, as every node's);
 * - or the scores chose here themselves, by more than a near-tie: scoring
 *   each read again would spend the scarce CPU to reach the same answer
 *   on predictions that change once a sample;
 * - or they chose it by a near-tie, and the rule, asked against the node
 *   whose CPU is the scarcest, would keep it here as the cheaper (*asked:
 *   its reason).
 */
static bool
verdict_holds(const PredictiveCandidate *pc, const RouteCandidate *cands, int n,
			  int by_scores, int chosen, bool cheaper, bool admitted,
			  RequestClass cls, char *asked, size_t asked_len)
{
	int			here = -1;
	int			scarcest = -1;

	asked[0] = '\0';
	if (!admitted || !cands[chosen].is_local)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (cands[i].is_local)
			here = i;
		else if (scarcest < 0 ||
				 coordinator_cost_scarcer(pc[i].predicted_load, pc[i].cpu_throttled,
										  pc[scarcest].predicted_load, pc[scarcest].cpu_throttled))
			scarcest = i;
	}
	/* (the order is by throttling, then load: scarcer than it, than all) */
	if (scarcest < 0 ||
		!coordinator_cost_busy(pc[here].predicted_load, pc[here].cpu_throttled) ||
		!coordinator_cost_scarcer(pc[here].predicted_load, pc[here].cpu_throttled,
								  pc[scarcest].predicted_load, pc[scarcest].cpu_throttled))
		return false;
	if (by_scores != here)
		return cheaper;
	if (predictive_clear_winner(pc, n, here))
		return true;
	return coordinator_cost_runs_here(cls, pc[here].predicted_load, pc[here].cpu_throttled,
									  cands[scarcest].name, pc[scarcest].predicted_load,
									  pc[scarcest].cpu_throttled, asked, asked_len,
									  &cheaper) && cheaper;
}

/*
 * What a reused verdict of the scores says (kept_here.c appends its age):
 * their reason, and why it held, "; kept while busier than every node
 * (load 0.35, throttled 97%)".
 */
static void
scores_verdict_reason(const RouteDecision *d, const PredictiveCandidate *here,
					  char *reason, size_t reason_len)
{
	ReasonText	rt;

	reason_text_init(&rt, reason, reason_len);
	reason_text_str(&rt, d->reason);
	reason_text_str(&rt, "; kept while busier than every node (load ");
	reason_text_fixed(&rt, here->predicted_load, 2);
	if (here->cpu_throttled >= 0.0)
	{
		reason_text_str(&rt, ", throttled ");
		reason_text_fixed(&rt, 100.0 * here->cpu_throttled, 0);
		reason_text_str(&rt, "%");
	}
	reason_text_str(&rt, ")");
}

void
policy_order_predictive(RouteDecision *d, RouteCandidate *cands, int n, bool dry_run)
{
	PredictiveCandidate pc[ROUTE_MAX_CANDIDATES + 1];
	RouteCandidate sorted[ROUTE_MAX_CANDIDATES + 1];
	PredictiveRound round;
	bool		admitted;
	bool		cheaper;
	bool		holds;
	char		asked[DECISION_TEXT_MAX];
	int			chosen;
	int			by_scores;
	int			runner_up = -1;
	int			k = 0;

	fill_candidates(pc, cands, n);
	round.pc = pc;
	round.n = n;
	round.cls = (RequestClass) d->request_class;
	round.now = GetCurrentTimestamp();
	round.weights = scoring_current_weights(round.now);
	/* an experiment arm's weights replace those of the hours they are for */
	round.weights.connection = arm_double(&d->arm,
										  round.weights.peak ? ARM_PEAK_WEIGHT_CONNECTION : ARM_WEIGHT_CONNECTION,
										  round.weights.peak ? d->arm.settings.peak_weight_connection :
										  d->arm.settings.weight_connection,
										  round.weights.connection);
	round.weights.load = arm_double(&d->arm,
									round.weights.peak ? ARM_PEAK_WEIGHT_LOAD : ARM_WEIGHT_LOAD,
									round.weights.peak ? d->arm.settings.peak_weight_load :
									d->arm.settings.weight_load,
									round.weights.load);
	round.model = arm_int(&d->arm, ARM_PREDICTION_MODEL, d->arm.settings.prediction_model,
						  foresight_prediction_model);
	/* outside experiments, the tuner may choose the weights (auto_tune.c) */
	if (d->arm.slot < 0 && !dry_run)
		auto_tune_choose(round.weights.peak, &round.weights.connection,
						 &round.weights.load, &d->tune);

	admitted = score_round(&round);
	if (!admitted)
	{
		if (dry_run)
			snprintf(d->reason, sizeof(d->reason),
					 "every candidate is predicted above foresight.overload_threshold: the query would %s",
					 overload_action_name(foresight_overload_action));
		else if (admission_wait(rescore, &round, &d->queue_wait_us) == ADMIT_LOCAL)
		{
			snprintf(d->reason, sizeof(d->reason),
					 "every candidate is predicted above foresight.overload_threshold: runs locally");
			d->run_local = true;
			return;
		}
	}

	chosen = predictive_choose(pc, n);
	chosen = regions_choose(pc, cands, n, chosen, d);
	by_scores = chosen;
	chosen = weigh_coordinator_cost(pc, cands, n, chosen, round.cls, d, &cheaper);
	holds = !dry_run && d->arm.slot < 0 &&
		verdict_holds(pc, cands, n, by_scores, chosen, cheaper, admitted, round.cls,
					  asked, sizeof(asked));
	/* the tuner's scale for this read's latency */
	d->tune.fastest_us = predictive_fastest_answer(pc, n, 0.0);
	/* an answer time however old: hedging needs a scale, not a verdict */
	d->hedge_after_ms = hedge_delay_ms_with(round.cls, predictive_fastest_answer(pc, n, 0.0),
											arm_double(&d->arm, ARM_HEDGE_FACTOR,
													   d->arm.settings.hedge_factor,
													   foresight_hedge_factor),
											arm_int(&d->arm, ARM_HEDGE_MIN_DELAY,
													d->arm.settings.hedge_min_delay,
													foresight_hedge_min_delay));
	sorted[k++] = cands[chosen];
	sorted[0].scored = true;
	sorted[0].connection_score = pc[chosen].connection_score;
	sorted[0].predicted_load = pc[chosen].predicted_load;
	sorted[0].score = pc[chosen].score;
	sorted[0].answer_us = pc[chosen].answer_us;

	/* the rest, best score first: where to go if the chosen one fails */
	for (int taken = 1; taken < n; taken++)
	{
		int			best = -1;

		for (int i = 0; i < n; i++)
		{
			bool		used = (i == chosen);

			for (int j = 1; j < k && !used; j++)
				used = (sorted[j].slot == cands[i].slot);
			if (!used && (best < 0 || pc[i].score > pc[best].score))
				best = i;
		}
		if (runner_up < 0)
			runner_up = best;
		sorted[k] = cands[best];
		sorted[k].scored = true;
		sorted[k].connection_score = pc[best].connection_score;
		sorted[k].predicted_load = pc[best].predicted_load;
		sorted[k].score = pc[best].score;
		sorted[k].answer_us = pc[best].answer_us;
		k++;
	}
	memcpy(cands, sorted, sizeof(RouteCandidate) * n);

	if (d->reason[0] == '\0')
	{
		ReasonText	rt;

		/*
		 * "policy predictive: score %.3f (load %.2f over %s[ by model %s],
		 * connection score %.2f, weights %.2f/%.2f[, peak hours]; expected
		 * %.0f ms + %.0f ms queued)", built without printf: every routed
		 * read writes it (reason_text.h).
		 */
		reason_text_init(&rt, d->reason, sizeof(d->reason));
		reason_text_str(&rt, "policy predictive: score ");
		reason_text_fixed(&rt, sorted[0].score, 3);
		reason_text_str(&rt, " (load ");
		reason_text_fixed(&rt, sorted[0].predicted_load, 2);
		reason_text_str(&rt, " over ");
		append_horizon(&rt, round.horizon.horizon_ms);
		if (round.model != PREDICTION_MODEL_BLEND)
		{
			reason_text_str(&rt, " by model ");
			reason_text_str(&rt, prediction_model_name(round.model));
		}
		reason_text_str(&rt, ", connection score ");
		reason_text_fixed(&rt, sorted[0].connection_score, 2);
		reason_text_str(&rt, ", weights ");
		reason_text_fixed(&rt, round.weights.connection, 2);
		reason_text_str(&rt, "/");
		reason_text_fixed(&rt, round.weights.load, 2);
		if (round.weights.peak)
			reason_text_str(&rt, ", peak hours");
		reason_text_str(&rt, "; expected ");
		reason_text_fixed(&rt, round.horizon.duration_ms, 0);
		reason_text_str(&rt, " ms + ");
		reason_text_fixed(&rt, round.horizon.wait_ms, 0);
		reason_text_str(&rt, " ms queued)");

		/*
		 * A near-tie that did not go to the best score says so, briefly,
		 * with the band that made it one (the forecasts' errors can make
		 * it wider than PREDICTIVE_NEAR_TIE): the decision log keeps
		 * DECISION_TEXT_MAX bytes of a reason, and why the read was not
		 * split follows (the scores are in the candidates).
		 */
		if (runner_up >= 0 && pc[runner_up].score > pc[chosen].score)
		{
			reason_text_str(&rt, "; near-tie within ");
			reason_text_fixed(&rt, predictive_near_tie_band(&pc[runner_up], &pc[chosen]), 2);
			reason_text_str(&rt, ": fewer in flight");
		}
	}

	/*
	 * The verdict remembered for the class, or forgotten (kept_here.c); the
	 * decision that remembers it says so, after the verdict's reason is
	 * taken from it.
	 */
	if (holds && by_scores == chosen && asked[0] == '\0')
	{
		char		verdict[DECISION_TEXT_MAX];

		scores_verdict_reason(d, &pc[chosen], verdict, sizeof(verdict));
		kept_here_note(round.cls, true, verdict);
	}
	else if (holds)
		kept_here_note(round.cls, true, asked[0] != '\0' ? asked : d->reason);
	else if (!dry_run && d->arm.slot < 0)
		kept_here_note(round.cls, false, NULL);
	if (holds)
		strlcat(d->reason, asked[0] != '\0' ?
				"; kept for the next reads as the cost rule's verdict" :
				"; kept for the next reads", sizeof(d->reason));
}
