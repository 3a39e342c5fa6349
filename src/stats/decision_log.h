/*-------------------------------------------------------------------------
 *
 * decision_log.h
 *	  Every routing decision, in a shared-memory ring of
 *	  foresight.decision_log_size entries (view foresight.routing_decisions).
 *
 * A decision is appended when the route is chosen and completed with the
 * observed latency when the query finishes (if its entry has not been
 * overwritten by then).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_DECISION_LOG_H
#define FORESIGHT_DECISION_LOG_H

#include "postgres.h"

#include "datatype/timestamp.h"

#define DECISION_MAX_CANDIDATES 8
#define DECISION_TEXT_MAX 320

typedef struct DecisionCandidate
{
	int32		node_id;
	bool		scored;			/* the policy scored it (predictive) */
	char		name[NAMEDATALEN];
	double		connection_score;
	double		predicted_load;
	double		score;
} DecisionCandidate;

typedef struct Decision
{
	uint64		seq;			/* 1, 2, ...; 0 = empty entry */
	TimestampTz at;
	int32		pid;
	int64		queryid;
	int32		request_class;	/* RequestClass, -1 if not classified */
	int32		request_shape;	/* SHAPE_* flags (request_shape.h), -1 if unknown */
	double		cost;
	int32		ncandidates;
	DecisionCandidate candidates[DECISION_MAX_CANDIDATES];
	char		chosen[NAMEDATALEN];
	char		policy[32];
	char		reason[DECISION_TEXT_MAX];
	int64		queue_wait_us;
	int64		latency_us;		/* -1 until the query finished */
	bool		failed;
} Decision;

extern int	foresight_decision_log_size;

extern void decision_log_define_gucs(void);
extern void decision_log_shmem_request(void);
extern void decision_log_shmem_init(void);

/* Append; returns the decision's sequence number (d->seq is set). */
extern uint64 decision_log_append(Decision *d);

/*
 * Record the outcome of decision seq, if it is still in the ring: its
 * latency, whether it failed, and the node it finally ran on (after
 * retries, the coordinator perhaps, or a hedge): when that is not the
 * chosen node, "; ran on <node> <how>" ends the reason.
 */
extern void decision_log_finish(uint64 seq, int64 latency_us, bool failed,
								const char *final_node, const char *how);

#endif							/* FORESIGHT_DECISION_LOG_H */
