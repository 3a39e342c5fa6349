/*-------------------------------------------------------------------------
 *
 * quarantine.h
 *	  Degraded nodes: the monitor's live anomaly detection per node,
 *	  quarantine (no new routes), readmission with a slow start, and the
 *	  events of both, in shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_QUARANTINE_H
#define FORESIGHT_QUARANTINE_H

#include "postgres.h"

#include "datatype/timestamp.h"

typedef enum QuarantineState
{
	QUARANTINE_NONE,			/* routed as usual */
	QUARANTINE_ISOLATED,		/* no new routes; probed every sample */
	QUARANTINE_RAMPING			/* readmitted: its share ramps up */
} QuarantineState;

#define QUARANTINE_REASON_MAX 128
#define QUARANTINE_EVENTS 64	/* events kept for foresight.anomalies */

typedef struct NodeQuarantine
{
	int32		node_id;
	QuarantineState state;
	bool		manual;			/* set by an administrator: kept until released */
	double		score;			/* the last sample's score, [0, 1] */
	char		metric[32];		/* ... and what gave it */
	int32		over;			/* consecutive samples at or over the threshold */
	int32		under;			/* ... under it, while isolated */
	TimestampTz since;			/* the state's start */
	char		reason[QUARANTINE_REASON_MAX];
} NodeQuarantine;

typedef struct QuarantineEvent
{
	int32		node_id;
	char		node_name[NAMEDATALEN];
	char		metric[32];
	double		score;			/* the highest while it lasted */
	TimestampTz start;
	TimestampTz end;			/* 0 while it lasts */
	char		action[32];		/* quarantined, readmitted, ramp complete, ... */
} QuarantineEvent;

extern bool foresight_anomaly_detection;
extern double foresight_anomaly_threshold;
extern int	foresight_anomaly_samples;
extern int	foresight_anomaly_clear_samples;
extern int	foresight_readmit_ramp_ms;
extern double foresight_anomaly_fleet_ratio;

extern void quarantine_define_gucs(void);
extern void quarantine_shmem_request(void);
extern void quarantine_shmem_init(void);

/* The monitor, after each sample: judge every node (quarantine.c). */
extern void quarantine_judge(TimestampTz now);

/*
 * The router: the share of routes the node may take now: 0 when it is
 * quarantined (*why says why; *by_hand whether an administrator did it),
 * between 0 and 1 while it ramps up, 1 otherwise.  *now (0: not read yet)
 * is read from the clock only for a node that ramps up: this runs for
 * every node of every routed decision.
 */
extern double quarantine_route_share(int slot, int32 node_id, TimestampTz *now,
									 const char **why, bool *by_hand);

/* Copy a slot's entry; state NONE when it is for another node. */
extern void quarantine_get(int slot, int32 node_id, NodeQuarantine *out);

/*
 * An administrator's quarantine (isolate true, with a reason) or release;
 * a release changes nothing for a node not quarantined (normal, or in its
 * slow start).
 */
extern void quarantine_set_manual(int slot, int32 node_id, const char *node_name,
								  bool isolate, const char *reason);

/* The events, oldest first; returns how many were copied into out. */
extern int	quarantine_events(QuarantineEvent *out, int max);

extern const char *quarantine_state_name(QuarantineState state);

#endif							/* FORESIGHT_QUARANTINE_H */
