/*-------------------------------------------------------------------------
 *
 * scoring.h
 *	  The predictive policy's score of a candidate node, its weights (with
 *	  peak-hours weights) and the connection score.
 *
 *	  score = w_conn * connection_score + w_load * (1 - predicted_load)
 *
 *	  connection_score = (weight / max weight among candidates)
 *						 * (free connection slots / max_connections)
 *						 * speed
 *						 / (1 + in-flight queries this coordinator sent there)
 *
 * speed is how fast the node has recently answered the query's class
 * compared with the fastest candidate (router/predictive_score.c).  Every factor
 * is in [0,1], so connection_score is too.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SCORING_H
#define FORESIGHT_SCORING_H

#include "postgres.h"

#include "datatype/timestamp.h"

typedef struct RoutingWeights
{
	double		connection;
	double		load;
	bool		peak;			/* these are the peak-hours weights */
} RoutingWeights;

extern void scoring_define_gucs(void);
extern void scoring_shmem_request(void);
extern void scoring_shmem_init(void);

/* Copy changed weight GUCs into shared memory (the monitor, after SIGHUP). */
extern void scoring_sync_from_gucs(void);

/* The weights in force at time now (peak or off-peak). */
extern RoutingWeights scoring_current_weights(TimestampTz now);

/* The weights in force for peak (or off-peak) hours. */
extern RoutingWeights scoring_weights(bool peak);

/* Is now inside foresight.peak_hours (server time zone)? */
extern bool scoring_in_peak_hours(TimestampTz now);

extern double scoring_connection_score(double weight, double max_weight,
									   int connections, int max_connections,
									   uint32 inflight, double speed);

extern double scoring_score(const RoutingWeights *weights,
							double connection_score, double predicted_load);

#endif							/* FORESIGHT_SCORING_H */
