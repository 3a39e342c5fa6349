/*-------------------------------------------------------------------------
 *
 * predictive_score.h
 *	  The predictive routing policy: score every candidate with
 *	  scoring_score() from its predicted load (live models) and connection
 *	  score, and choose among the best without stampeding one node.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_PREDICTIVE_SCORE_H
#define FORESIGHT_PREDICTIVE_SCORE_H

#include "postgres.h"

#include "router/scoring.h"
#include "stats/decision_log.h"
#include "stats/latency.h"

/*
 * Scores within this of the best count as a near-tie, or within what the
 * forecasts' recent errors make of the difference when that is more (see
 * predictive_choose()).
 */
#define PREDICTIVE_NEAR_TIE 0.05

/* Predicted load added per query in flight on a node since its last sample. */
#define PREDICTIVE_INFLIGHT_LOAD 0.02

/* Class predictions are used once their model has seen this many samples. */
#define PREDICTIVE_MIN_CLASS_SAMPLES 30

/*
 * Speed (see predictive_score.c): a node whose recent answer time for a class is
 * within PREDICTIVE_SPEED_TOLERANCE of the fastest candidate's counts as
 * fast as it, since equal nodes differ by that much; the speed counts
 * fully once about PREDICTIVE_SPEED_EVIDENCE queries of the class were
 * answered there in the last half second, in proportion below; only nodes
 * with at least PREDICTIVE_SPEED_REFERENCE of it set the fastest time.
 */
#define PREDICTIVE_SPEED_TOLERANCE 3.0
#define PREDICTIVE_SPEED_EVIDENCE 4.0
#define PREDICTIVE_SPEED_REFERENCE 1.0

/*
 * foresight.prediction_model: what the score reads as a node's predicted
 * load.  PREDICTION_MODEL_BLEND is the live blend; PREDICTION_MODEL_NAIVE
 * its naive member alone, the last observed load (the baseline the blend
 * must beat, see docs/benchmarks.md).
 */
typedef enum PredictionModel
{
	PREDICTION_MODEL_BLEND,
	PREDICTION_MODEL_NAIVE
} PredictionModel;

extern int	foresight_prediction_model;

extern void predictive_define_gucs(void);
extern const char *prediction_model_name(int model);

typedef struct PredictiveCandidate
{
	/* filled by the caller */
	int			slot;
	int32		node_id;
	const char *name;
	double		weight;
	int			connections;	/* from the node's last sample; 0 if unknown */
	int			max_connections;	/* 0 if unknown */
	double		cpu_throttled;	/* share of its control group's CPU periods
								 * it was throttled in over its last sample;
								 * -1 if unknown (no limit) */
	uint32		inflight;
	/* filled by predictive_score() */
	double		predicted_load; /* adjusted, in [0,1] */
	bool		from_class;		/* class prediction (else node-level) */
	double		node_load;		/* the node's own predicted load (all classes) */
	double		answer_us;		/* recent answer time of the class; 0 if none */
	double		evidence;		/* recent answers behind it (decaying) */
	bool		answer_cold;	/* both are of its cold answers: no candidate
								 * has a warm one on record (latency.h) */
	double		cold_answer_us; /* the same of its cold answers alone */
	double		cold_evidence;
	double		speed;			/* in (0,1]: 1 = as fast as the fastest */
	double		connection_score;
	double		score;
	double		score_error;	/* w_load * the load forecast's recent MAE */
} PredictiveCandidate;

/*
 * The prediction window a query's score reads: the smallest horizon of
 * foresight.prediction_horizons at least as long as the query's expected
 * duration plus its expected wait in the admission queue, else the
 * largest.
 */
typedef struct PredictiveHorizon
{
	double		duration_ms;	/* the class's recent answer time on the
								 * fastest candidate (however old); 0 if none */
	double		wait_ms;		/* admission_expected_wait_ms() */
	int			k;				/* index in foresight.prediction_horizons */
	int			horizon_ms;
} PredictiveHorizon;

/*
 * Score every candidate for a query of class cls at time now, with the
 * predictions of model (a PredictionModel) over the horizon chosen for it
 * (*horizon).  Returns true
 * when at least one candidate's predicted load is at or below
 * foresight.overload_threshold.
 */
extern bool predictive_score(PredictiveCandidate *cands, int n, RequestClass cls,
							 const RoutingWeights *weights, TimestampTz now,
							 PredictiveHorizon *horizon, int model);

/* The horizon rule alone, for expected duration and wait in ms. */
extern void predictive_choose_horizon(double duration_ms, double wait_ms,
									  PredictiveHorizon *horizon);

/*
 * The recent answer time of the class on the fastest scored candidate
 * with at least min_evidence behind it, in µs; 0 if none.
 */
extern double predictive_fastest_answer(const PredictiveCandidate *cands, int n,
										double min_evidence);

/*
 * Choose among the scored candidates near-tied with the best score (and
 * not overloaded): within PREDICTIVE_NEAR_TIE of it, or within the two
 * scores' errors combined (the root of the sum of their squares) when that
 * is more; of two drawn at random, the one with fewer queries in flight,
 * so that backends deciding at the same moment on the same predictions
 * spread over nodes the forecasts cannot tell apart.  Returns the index of
 * the chosen candidate.
 */
extern int	predictive_choose(const PredictiveCandidate *cands, int n);

/*
 * The near-tie band of two scored candidates: how far below a's score b's
 * may be and still count as a near-tie (PREDICTIVE_NEAR_TIE, or the two
 * scores' errors combined when that is more).
 */
extern double predictive_near_tie_band(const PredictiveCandidate *a,
									   const PredictiveCandidate *b);

/*
 * Did candidate i win by more than a near-tie: is every other candidate's
 * score out of reach of its own (the band of predictive_choose())?
 */
extern bool predictive_clear_winner(const PredictiveCandidate *cands, int n, int i);

/* Copy the scored candidates into a decision-log entry. */
extern void predictive_log_candidates(const PredictiveCandidate *cands, int n, Decision *d);

#endif							/* FORESIGHT_PREDICTIVE_SCORE_H */
