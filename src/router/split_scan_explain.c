/*-------------------------------------------------------------------------
 *
 * split_scan_explain.c
 *	  EXPLAIN of a "Foresight Split" scan (the split relation and key, the
 *	  strategy, each part's range and node, its SQL under VERBOSE, its rows
 *	  and time under ANALYZE) and its one entry in the decision log (the
 *	  parts' nodes as candidates, then their rows and times).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "commands/explain.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "registry/registry.h"
#include "router/explain_lines.h"
#include "router/router.h"
#include "router/split_scan_internal.h"
#include "stats/decision_log.h"
#include "stats/latency.h"

/* where part p runs, or would run (EXPLAIN without ANALYZE: in turn) */
static const char *
part_node(SplitScanState *st, SplitPart *p)
{
	int			owner;

	if (p->ran_on != NULL)
		return p->ran_on;
	owner = split_piece_owner(st, p->index);
	if (st->nnodes == 0 || owner < 0 || owner >= st->nnodes)
		return FORESIGHT_LOCAL_NODE_NAME;
	return st->nodes[owner].cand.name;
}

/*
 * Per node that ran pieces: "standby1: 5 pieces (1 stolen) 1234 rows
 * 12.345 ms", appended to buf, entries separated by sep.
 */
static void
append_node_pieces(SplitScanState *st, StringInfo buf, const char *sep, bool brief)
{
	const char *names[CAP_MAX_NODES + 1];
	int			n = 0;

	for (int i = 0; i < st->nparts; i++)
	{
		const char *name = st->parts[i].ran_on;
		int			at;

		if (name == NULL)
			continue;
		for (at = 0; at < n; at++)
			if (strcmp(names[at], name) == 0)
				break;
		if (at == n && n < lengthof(names))
			names[n++] = name;
	}
	for (int k = 0; k < n; k++)
	{
		int			pieces = 0;
		int			stolen = 0;
		int64		rows = 0;
		double		ms = 0.0;

		for (int i = 0; i < st->nparts; i++)
		{
			SplitPart  *p = &st->parts[i];

			if (p->ran_on == NULL || strcmp(p->ran_on, names[k]) != 0)
				continue;
			pieces++;
			stolen += p->stolen;
			rows += p->rows;
			ms += split_part_ms(p);
		}
		if (brief)
			appendStringInfo(buf, "%s%s %dp %ds " INT64_FORMAT "r %.1fms", k > 0 ? sep : "",
							 names[k], pieces, stolen, rows, ms);
		else
			appendStringInfo(buf, "%s%s: %d pieces (%d stolen) rows=" INT64_FORMAT " time=%.3f ms",
							 k > 0 ? sep : "", names[k], pieces, stolen, rows, ms);
	}
}

/* "c2 DESC, c1 NULLS FIRST": the merge's keys, written as a Sort Key is */
static char *
merge_keys_text(SplitScanState *st)
{
	CustomScan *cs = (CustomScan *) st->css.ss.ps.plan;
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < st->nkeys; k++)
	{
		SortSupport sort = &st->sortkeys[k];
		TargetEntry *tle = list_nth_node(TargetEntry, cs->custom_scan_tlist,
										 sort->ssup_attno - 1);
		Oid			type = exprType((Node *) tle->expr);
		Oid			sortop = list_nth_oid(st->info.merge_sortops, k);
		Oid			opfamily;
		Oid			opcintype;
		int16		strategy;
		bool		reverse = false;

		if (get_ordering_op_properties(sortop, &opfamily, &opcintype, &strategy))
			reverse = strategy == BTGreaterStrategyNumber;
		appendStringInfo(&buf, "%s%s", k > 0 ? ", " : "", tle->resname);
		if (OidIsValid(sort->ssup_collation) &&
			sort->ssup_collation != get_typcollation(type))
			appendStringInfo(&buf, " COLLATE %s",
							 quote_identifier(get_collation_name(sort->ssup_collation)));
		if (reverse)
			appendStringInfoString(&buf, " DESC");
		if (sort->ssup_nulls_first && !reverse)
			appendStringInfoString(&buf, " NULLS FIRST");
		else if (!sort->ssup_nulls_first && reverse)
			appendStringInfoString(&buf, " NULLS LAST");
	}
	return buf.data;
}

/* what the parts were cut by, and why not by blocks */
static char *
ranges_text(SplitScanState *st)
{
	if (st->by_blocks)
		return psprintf("blocks of the table, every node's snapshot at %X/%X",
						LSN_FORMAT_ARGS(st->blocks_at));
	if (st->ranges_why)
		return psprintf("key (not blocks: %s)", st->ranges_why);
	return "key";
}

void
split_explain_scan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	SplitScanState *st = (SplitScanState *) node;

	ExplainPropertyText("Split Relation", st->info.relation, es);
	ExplainPropertyText("Split Key", st->info.key, es);
	ExplainPropertyText("Split Strategy", st->info.strategy, es);
	ExplainPropertyInteger("Parts", NULL, st->nparts, es);
	if (st->nkeys > 0)
		ExplainPropertyText("Merge Key", merge_keys_text(st), es);
	if (st->local_candidate)
		ExplainPropertyText("Coordinator", "takes parts (a routing candidate)", es);
	if (es->analyze && st->worker.pieces > 0)
		ExplainPropertyInteger("Coordinator Pieces in a Parallel Worker", NULL,
							   st->worker.pieces, es);
	if (st->all_here)
		ExplainPropertyText("Parts Run Here", st->all_here, es);
	if (es->analyze && st->gain_text)
		ExplainPropertyText("Nodes Chosen", st->gain_text, es);
	if (es->analyze && st->started && st->nnodes > 0)
		ExplainPropertyText("Ranges", ranges_text(st), es);
	if (es->verbose && st->info.combine[0])
		explain_property_lines("Combine", st->info.combine, false, es);
	if (es->verbose)
		ExplainPropertyText("Consistency Floor",
							psprintf("%X/%X", LSN_FORMAT_ARGS(st->floor)), es);
	for (int i = 0; i < st->nparts; i++)
	{
		SplitPart  *p = &st->parts[i];
		StringInfoData buf;
		char	   *label = psprintf("Part %d", i + 1);

		initStringInfo(&buf);
		appendStringInfo(&buf, "%s: %s", part_node(st, p), p->condition);
		if (es->analyze && st->started)
			appendStringInfo(&buf, " (rows=" INT64_FORMAT " time=%.3f ms%s%s%s)",
							 p->rows, split_part_ms(p), p->stolen ? ", stolen" : "",
							 p->attempts > 1 ? ", run again" : "",
							 p->status == PART_RUNNING || p->cut_short ?
							 ", not read to the end" : "");
		ExplainPropertyText(label, buf.data, es);
		if (es->verbose)
			explain_property_lines(psprintf("Part %d SQL", i + 1), p->sql, true, es);
		if (es->analyze && p->failure)
			ExplainPropertyText(psprintf("Part %d Failure", i + 1), p->failure, es);
	}
	if (es->analyze && st->started)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		append_node_pieces(st, &buf, "; ", false);
		ExplainPropertyText("Pieces By Node", buf.data, es);
	}
	if (es->verbose)
		for (int i = 0; i < st->nnodes; i++)
			if (st->nodes[i].why_gone)
				ExplainPropertyText(psprintf("Node %s", st->nodes[i].cand.name),
									psprintf("no more parts: %s", st->nodes[i].why_gone), es);
}

uint64
split_log_decision(SplitScanState *st, uint64 queryid)
{
	Decision	d;

	memset(&d, 0, sizeof(d));
	d.at = GetCurrentTimestamp();
	d.pid = MyProcPid;
	d.queryid = (int64) queryid;
	d.request_class = request_class_from_cost(st->info.cost);
	d.request_shape = st->info.shape;
	d.cost = st->info.cost;
	d.latency_us = -1;
	for (int i = 0; i < st->nnodes && d.ncandidates < DECISION_MAX_CANDIDATES; i++)
	{
		DecisionCandidate *dc = &d.candidates[d.ncandidates++];

		dc->node_id = st->nodes[i].cand.node_id;
		strlcpy(dc->name, st->nodes[i].cand.name, NAMEDATALEN);
		dc->scored = st->nodes[i].cand.scored;
		dc->score = st->nodes[i].cand.score;
		dc->predicted_load = st->nodes[i].cand.predicted_load;
		dc->connection_score = st->nodes[i].cand.connection_score;
	}
	if (st->local_candidate && d.ncandidates < DECISION_MAX_CANDIDATES)
	{
		DecisionCandidate *dc = &d.candidates[d.ncandidates++];

		dc->node_id = 0;
		strlcpy(dc->name, FORESIGHT_LOCAL_NODE_NAME, NAMEDATALEN);
	}
	strlcpy(d.chosen, "split", NAMEDATALEN);
	strlcpy(d.policy, routing_policy_name(foresight_routing_policy), sizeof(d.policy));
	snprintf(d.reason, sizeof(d.reason), "split: %d parts of %s by %s%s%s%s%s%s",
			 st->nparts, st->info.relation, st->info.key,
			 st->nkeys > 0 ? ", merged" : "",
			 st->local_candidate ? ", the coordinator a part" : "",
			 st->all_here ? psprintf(" (all here: %s)", st->all_here) : "",
			 st->gain_text ? "; " : "",
			 st->gain_text ? st->gain_text : "");
	return decision_log_append(&d);
}

/* "standby1 1234 rows 5.2 ms, ..." */
void
split_log_outcome(SplitScanState *st, bool failed)
{
	StringInfoData how;

	if (st->decision_seq == 0)
		return;
	initStringInfo(&how);
	if (st->nparts > st->nnodes + st->local_candidate)
	{
		/*
		 * More pieces than nodes: what each node took (p pieces, s of them
		 * stolen), not each piece, the log's reason being short.
		 */
		appendStringInfoString(&how, "by node: ");
		append_node_pieces(st, &how, ", ", true);
	}
	else
	{
		for (int i = 0; i < st->nparts; i++)
		{
			SplitPart  *p = &st->parts[i];

			appendStringInfo(&how, "%s%s " INT64_FORMAT "r %.1fms", i > 0 ? ", " : "",
							 p->ran_on ? p->ran_on : "-", p->rows, split_part_ms(p));
		}
	}
	if (st->nretries > 0)
		appendStringInfo(&how, ", %d run again", st->nretries);
	if (st->by_blocks)
		appendStringInfo(&how, "; by blocks at %X/%X", LSN_FORMAT_ARGS(st->blocks_at));
	else if (st->blocks_tried && st->ranges_why)
		appendStringInfo(&how, "; by the key: %s", st->ranges_why);
	decision_log_finish(st->decision_seq, st->started ? split_elapsed_us(st) : 0,
						failed, "parts", how.data);
	st->decision_seq = 0;
}

/*
 * The query's memory context is going away with the entry still open: the
 * split read ended in an error raised here or a cancel, without split_end
 * (a part's failure completes the entry itself).  During abort nothing is
 * allocated: the entry is marked failed with its time, its reason as
 * decided.
 */
static void
split_log_abandoned(void *arg)
{
	SplitScanState *st = (SplitScanState *) arg;

	if (st->decision_seq == 0)
		return;
	decision_log_finish(st->decision_seq, st->started ? split_elapsed_us(st) : 0,
						true, NULL, NULL);
	st->decision_seq = 0;
}

/* as route_log_watch: the entry completed however the execution ends */
void
split_log_watch(SplitScanState *st, MemoryContext query_cxt)
{
	st->log_callback.func = split_log_abandoned;
	st->log_callback.arg = st;
	MemoryContextRegisterResetCallback(query_cxt, &st->log_callback);
}
