/*-------------------------------------------------------------------------
 *
 * models_persist.c
 *	  Save the live models at shutdown and read them back at start: a
 *	  protobuf SavedModels message kept as the section "models" of the
 *	  monitor's history file (stats/history_persist.h).
 *
 * A model is restored only into the slot of a node with the same node_id
 * and name.  A corrupt or incompatible section is reported in the log and
 * ignored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lwlock.h"

#include "registry/registry.h"
#include "predict/horizons.h"
#include "predict/live_models.h"
#include "predict/live_models_internal.h"
#include "predict/models.pb-c.h"

#define MODELS_FILE_VERSION 1

/* protobuf-c allocations through palloc in the current context */
static void *
pb_alloc(void *data, size_t size)
{
	return palloc(size);
}

static void
pb_free(void *data, void *pointer)
{
	if (pointer)
		pfree(pointer);
}

static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

void
live_models_save(StringInfo out)
{
	int			nslots = registry_slot_count();
	ForesightNode *nodes = palloc(sizeof(ForesightNode) * nslots);
	int			nnodes = registry_snapshot(nodes, nslots, NULL);
	Foresight__SavedModels file = FORESIGHT__SAVED_MODELS__INIT;
	Foresight__SavedSeries **entries;
	int			n = 0;
	size_t		len;

	entries = palloc0(sizeof(Foresight__SavedSeries *) * nnodes * PREDICT_SERIES_COUNT);
	for (int i = 0; i < nnodes; i++)
	{
		for (int series = 0; series < PREDICT_SERIES_COUNT; series++)
		{
			SeriesState *st;
			int			index;
			Foresight__SavedSeries *e;

			LWLockAcquire(live_models_lock(), LW_SHARED);
			st = live_models_series(nodes[i].slot, series, &index);
			if (st->node_id != nodes[i].node_id || st->ring_len == 0)
			{
				LWLockRelease(live_models_lock());
				continue;
			}
			e = palloc(sizeof(Foresight__SavedSeries));
			foresight__saved_series__init(e);
			e->node_id = st->node_id;
			e->node_name = pstrdup(nodes[i].name);
			e->series = series;
			e->window = palloc(sizeof(double) * st->ring_len);
			e->n_window = live_models_copy_window(index, st, e->window);
			e->models = palloc0(sizeof(Foresight__SavedModel *) * horizons_count());
			for (int k = 0; k < horizons_count(); k++)
			{
				HorizonModel *hm = live_models_model(index, k);
				Foresight__SavedModel *sm;
				size_t		size;

				if (!hm->training.fitted)
					continue;
				sm = palloc(sizeof(Foresight__SavedModel));
				foresight__saved_model__init(sm);
				size = fc_model_serialise(&hm->model, NULL, 0);
				sm->model.data = palloc(size);
				sm->model.len = fc_model_serialise(&hm->model, sm->model.data, size);
				sm->has_training_samples = true;
				sm->training_samples = hm->training.training_samples;
				sm->has_last_trained = true;
				sm->last_trained = hm->training.last_trained;
				sm->has_training_ms = true;
				sm->training_ms = hm->training.training_ms;
				sm->has_mase_scale = true;
				sm->mase_scale = hm->training.mase_scale;
				e->models[e->n_models++] = sm;
			}
			LWLockRelease(live_models_lock());
			entries[n++] = e;
		}
	}

	file.version = MODELS_FILE_VERSION;
	file.model_size = (int32) sizeof(fc_model);
	file.n_series = n;
	file.series = entries;
	len = foresight__saved_models__get_packed_size(&file);
	enlargeStringInfo(out, (int) len);
	foresight__saved_models__pack(&file, (uint8 *) out->data + out->len);
	out->len += (int) len;
	out->data[out->len] = '\0';
	ereport(LOG,
			(errmsg("foresight monitor: saved %d model series", n)));
}

void
live_models_load(const char *data, size_t len)
{
	Foresight__SavedModels *file;
	int			nslots = registry_slot_count();
	ForesightNode *nodes = palloc(sizeof(ForesightNode) * nslots);
	int			nnodes = registry_snapshot(nodes, nslots, NULL);
	int			restored = 0;
	int			models = 0;

	file = foresight__saved_models__unpack(&pb_allocator, len, (const uint8 *) data);
	if (file == NULL)
	{
		ereport(LOG,
				(errmsg("foresight monitor: the saved models are corrupt, ignoring them")));
		return;
	}
	if (file->version != MODELS_FILE_VERSION || file->model_size != (int32) sizeof(fc_model))
	{
		ereport(LOG,
				(errmsg("foresight monitor: the saved models have version %u (model size %d), expected %d (%d), ignoring them",
						file->version, file->model_size,
						MODELS_FILE_VERSION, (int) sizeof(fc_model))));
		return;
	}
	for (size_t k = 0; k < file->n_series; k++)
	{
		Foresight__SavedSeries *e = file->series[k];

		if (e->series < 0 || e->series >= PREDICT_SERIES_COUNT)
			continue;
		for (int i = 0; i < nnodes; i++)
		{
			if (nodes[i].node_id != e->node_id || strcmp(nodes[i].name, e->node_name) != 0)
				continue;
			live_models_restore_window(nodes[i].slot, e->node_id, e->series,
									   e->window, (int) e->n_window);
			restored++;
			/* a file of 0.6 or earlier: one model, whose horizon it tells */
			if (e->has_model)
				(void) live_models_restore_model(nodes[i].slot, e->node_id, e->series,
												 e->model.data, e->model.len,
												 e->training_samples, e->last_trained,
												 e->training_ms, e->mase_scale);
			for (size_t m = 0; m < e->n_models; m++)
			{
				Foresight__SavedModel *sm = e->models[m];

				if (live_models_restore_model(nodes[i].slot, e->node_id, e->series,
											  sm->model.data, sm->model.len,
											  sm->training_samples, sm->last_trained,
											  sm->training_ms, sm->mase_scale))
					models++;
			}
		}
	}
	ereport(LOG,
			(errmsg("foresight monitor: restored %d model series (%d models)", restored, models)));
}
