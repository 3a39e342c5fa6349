/*-------------------------------------------------------------------------
 *
 * model.c
 *	  The public model API of forecast.h: names, configuration, and
 *	  dispatch of fit / refit / update / forecast to the model kinds, plus
 *	  the flat byte image used for persistence.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/model.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "forecast/blend.h"
#include "forecast/forecast.h"
#include "forecast/lstm.h"
#include "forecast/series.h"
#include "forecast/smoothing.h"

#define FC_MAGIC	0x46435354u /* "FCST" */
#define FC_VERSION	1u

_Static_assert(sizeof(fc_model) <= FC_STATE_LIMIT,
			   "fc_model must stay within its documented size");

static const char *const kind_names[FC_NUM_KINDS] = {
	"naive", "snaive", "ses", "holt_damped", "hw_add", "lstm", "blend"
};

const char *
fc_kind_name(fc_kind kind)
{
	if ((int) kind < 0 || kind >= FC_NUM_KINDS)
		return "unknown";
	return kind_names[kind];
}

bool
fc_kind_from_name(const char *name, fc_kind *kind)
{
	int			i;

	for (i = 0; name && i < FC_NUM_KINDS; i++)
	{
		if (strcmp(name, kind_names[i]) == 0)
		{
			*kind = (fc_kind) i;
			return true;
		}
	}
	return false;
}

const char *
fc_kind_names(void)
{
	return "naive, snaive, ses, holt_damped, hw_add, lstm, blend";
}

bool
fc_kind_is_seasonal(fc_kind kind)
{
	return kind == FC_SNAIVE || kind == FC_HW_ADD;
}

const char *
fc_status_message(fc_status status)
{
	switch (status)
	{
		case FC_OK:
			return "success";
		case FC_ERR_ARGUMENT:
			return "invalid argument";
		case FC_ERR_NONFINITE:
			return "series contains NaN or infinity";
		case FC_ERR_TOO_SHORT:
			return "series is too short for the model";
		case FC_ERR_HORIZON:
			return "horizon out of range";
		case FC_ERR_SEASON:
			return "season out of range or missing";
		case FC_ERR_MODEL:
			return "unknown model";
		case FC_ERR_PARAMETER:
			return "model parameter out of range";
		case FC_ERR_STATE:
			return "model state is not fitted or is corrupt";
		case FC_ERR_INTERRUPTED:
			return "interrupted";
		case FC_ERR_RANGE:
			return "series value beyond the models' range (+-1e30)";
	}
	return "unknown status";
}

void
fc_config_default(fc_config *cfg, fc_kind kind)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = kind;
	cfg->season = 0;
	cfg->short_season = 12;
	cfg->horizon = 1;
	cfg->target = FC_TARGET_POINT;
	cfg->lstm_hidden = 8;
	cfg->lstm_window = 24;
	cfg->lstm_steps = 1000;
	cfg->lstm_batch = 16;
	cfg->use_lstm = 1;
	cfg->lstm_lr = 0.01;
	cfg->lstm_online_lr = 0.001;
	cfg->blend_decay = 0.98;
	cfg->blend_power = 16.0;
	cfg->seed = UINT64_C(20260524);
}

fc_status
fc_config_check(const fc_config *cfg)
{
	if (cfg == NULL)
		return FC_ERR_ARGUMENT;
	if (cfg->kind < 0 || cfg->kind >= FC_NUM_KINDS)
		return FC_ERR_MODEL;
	if (cfg->horizon < 1 || cfg->horizon > FC_MAX_HORIZON)
		return FC_ERR_HORIZON;
	if (cfg->season != 0 && (cfg->season < 2 || cfg->season > FC_MAX_SEASON))
		return FC_ERR_SEASON;
	if (fc_kind_is_seasonal((fc_kind) cfg->kind) && cfg->season == 0)
		return FC_ERR_SEASON;
	if (cfg->short_season != 0 &&
		(cfg->short_season < 2 || cfg->short_season > FC_MAX_SEASON))
		return FC_ERR_SEASON;
	if (cfg->target != FC_TARGET_POINT && cfg->target != FC_TARGET_MEAN)
		return FC_ERR_PARAMETER;
	if (cfg->lstm_hidden < 1 || cfg->lstm_hidden > FC_LSTM_MAX_HIDDEN ||
		cfg->lstm_window < 2 || cfg->lstm_window > FC_LSTM_MAX_WINDOW ||
		cfg->lstm_steps < 0 || cfg->lstm_batch < 1 ||
		!(cfg->lstm_lr > 0.0) || !(cfg->lstm_online_lr >= 0.0) ||
		!(cfg->blend_decay >= 0.0 && cfg->blend_decay < 1.0) ||
		!(cfg->blend_power >= 0.0 && cfg->blend_power <= 64.0))
		return FC_ERR_PARAMETER;
	return FC_OK;
}

int
fc_min_length(const fc_config *cfg)
{
	switch ((fc_kind) cfg->kind)
	{
		case FC_LSTM:
			return fc_lstm_min_length(cfg);
		case FC_BLEND:
			return fc_blend_min_length(cfg);
		default:
			return fc_ets_min_length((fc_kind) cfg->kind, cfg->season);
	}
}

size_t
forecast_model_state_size(void)
{
	return sizeof(fc_model);
}

fc_status
fc_model_init(fc_model *m, const fc_config *cfg)
{
	fc_status	st;

	if (m == NULL)
		return FC_ERR_ARGUMENT;
	st = fc_config_check(cfg);
	if (st != FC_OK)
		return st;
	memset(m, 0, sizeof(*m));
	m->magic = FC_MAGIC;
	m->version = FC_VERSION;
	m->cfg = *cfg;
	switch ((fc_kind) cfg->kind)
	{
		case FC_LSTM:
			fc_lstm_init(&m->u.lstm, cfg);
			break;
		case FC_BLEND:
			fc_blend_init(&m->u.blend, cfg);
			break;
		default:
			fc_ets_init(&m->u.ets, (fc_kind) cfg->kind, cfg->season);
			break;
	}
	return FC_OK;
}

static fc_status
fit(fc_model *m, const double *y, int n, bool refit,
	fc_interrupt_fn cb, void *cb_arg)
{
	fc_status	st;

	if (m == NULL || m->magic != FC_MAGIC)
		return FC_ERR_ARGUMENT;
	st = fc_series_check(y, n, fc_min_length(&m->cfg), NULL);
	if (st != FC_OK)
		return st;
	switch ((fc_kind) m->cfg.kind)
	{
		case FC_LSTM:
			st = fc_lstm_fit(&m->u.lstm, y, n, cb, cb_arg);
			break;
		case FC_BLEND:
			st = refit && m->fitted
				? fc_blend_refit(&m->u.blend, y, n, cb, cb_arg)
				: fc_blend_fit(&m->u.blend, y, n, cb, cb_arg);
			break;
		default:
			st = fc_ets_fit(&m->u.ets, y, n, cb, cb_arg);
			break;
	}
	m->fitted = (st == FC_OK);
	return st;
}

fc_status
fc_model_fit(fc_model *m, const double *y, int n, fc_interrupt_fn cb, void *cb_arg)
{
	return fit(m, y, n, false, cb, cb_arg);
}

fc_status
fc_model_refit(fc_model *m, const double *y, int n, fc_interrupt_fn cb, void *cb_arg)
{
	return fit(m, y, n, true, cb, cb_arg);
}

fc_status
fc_model_fit_from(fc_model *m, const fc_model *src, const double *y, int n,
				  bool refit, fc_interrupt_fn cb, void *cb_arg)
{
	fc_config	c;
	fc_status	st;

	if (m == NULL || src == NULL || m == src ||
		m->magic != FC_MAGIC || src->magic != FC_MAGIC)
		return FC_ERR_ARGUMENT;
	if (m->cfg.kind != FC_BLEND || src->cfg.kind != FC_BLEND)
		return FC_ERR_MODEL;
	/* the same members: configurations equal but for the weighting */
	c = src->cfg;
	c.blend_decay = m->cfg.blend_decay;
	c.blend_power = m->cfg.blend_power;
	if (memcmp(&c, &m->cfg, sizeof(c)) != 0)
		return FC_ERR_PARAMETER;
	if (!src->fitted)
		return FC_ERR_STATE;
	st = fc_series_check(y, n, fc_min_length(&m->cfg), NULL);
	if (st != FC_OK)
		return st;
	st = fc_blend_fit_from(&m->u.blend, &src->u.blend, y, n,
						   refit && m->fitted, cb, cb_arg);
	m->fitted = (st == FC_OK);
	return st;
}

fc_status
fc_model_update(fc_model *m, double y)
{
	if (m == NULL || m->magic != FC_MAGIC)
		return FC_ERR_ARGUMENT;
	if (!m->fitted)
		return FC_ERR_STATE;
	if (!isfinite(y))
		return FC_ERR_NONFINITE;
	if (fabs(y) > FC_MAX_ABS_VALUE)
		return FC_ERR_RANGE;
	switch ((fc_kind) m->cfg.kind)
	{
		case FC_LSTM:
			fc_lstm_update(&m->u.lstm, y, true);
			break;
		case FC_BLEND:
			fc_blend_update(&m->u.blend, y);
			break;
		default:
			fc_ets_step(&m->u.ets, y);
			break;
	}
	return FC_OK;
}

fc_status
fc_model_forecast(const fc_model *m, int h, double *out)
{
	if (m == NULL || out == NULL || m->magic != FC_MAGIC)
		return FC_ERR_ARGUMENT;
	if (h < 1 || h > FC_MAX_HORIZON)
		return FC_ERR_HORIZON;
	if (!m->fitted)
		return FC_ERR_STATE;
	switch ((fc_kind) m->cfg.kind)
	{
		case FC_LSTM:
			fc_lstm_forecast(&m->u.lstm, h, out);
			break;
		case FC_BLEND:
			fc_blend_forecast(&m->u.blend, h, out);
			break;
		default:
			fc_ets_forecast(&m->u.ets, h, out);
			break;
	}
	return FC_OK;
}

fc_status
fc_model_forecast_target(const fc_model *m, int h, fc_target target, double *out)
{
	double		path[FC_MAX_HORIZON];
	double		s = 0.0;
	fc_status	st;
	int			k;

	if (target != FC_TARGET_POINT && target != FC_TARGET_MEAN)
		return FC_ERR_PARAMETER;
	st = fc_model_forecast(m, h, path);
	if (st != FC_OK)
		return st;
	if (target == FC_TARGET_POINT)
	{
		*out = path[h - 1];
		return FC_OK;
	}
	for (k = 0; k < h; k++)
		s += path[k];
	*out = s / h;
	return FC_OK;
}

int
fc_model_members(const fc_model *m)
{
	if (m->cfg.kind == FC_BLEND)
		return fc_blend_members(&m->u.blend);
	return 1;
}

fc_status
fc_model_member(const fc_model *m, int i, fc_member_info *info)
{
	if (i < 0 || i >= fc_model_members(m))
		return FC_ERR_ARGUMENT;
	if (m->cfg.kind == FC_BLEND)
	{
		fc_blend_member(&m->u.blend, i, info);
		return FC_OK;
	}
	info->kind = m->cfg.kind;
	info->season = m->cfg.season;
	info->active = m->fitted != 0;
	info->weight = 1.0;
	info->rolling_mae = NAN;
	return FC_OK;
}

/* Persistence: header + raw state, FNV-1a checksum over the state. */

typedef struct fc_image_header
{
	uint32_t	magic;
	uint32_t	version;
	uint64_t	size;
	uint64_t	checksum;
} fc_image_header;

static uint64_t
fnv1a(const unsigned char *p, size_t len)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);
	size_t		i;

	for (i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

size_t
fc_model_serialise(const fc_model *m, void *buf, size_t len)
{
	size_t		need = sizeof(fc_image_header) + sizeof(fc_model);
	fc_image_header hdr;

	if (buf == NULL || len < need)
		return need;
	hdr.magic = FC_MAGIC;
	hdr.version = FC_VERSION;
	hdr.size = sizeof(fc_model);
	hdr.checksum = fnv1a((const unsigned char *) m, sizeof(fc_model));
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy((char *) buf + sizeof(hdr), m, sizeof(fc_model));
	return need;
}

fc_status
fc_model_deserialise(fc_model *m, const void *buf, size_t len)
{
	fc_image_header hdr;
	const unsigned char *body;

	if (m == NULL || buf == NULL)
		return FC_ERR_ARGUMENT;
	if (len < sizeof(hdr) + sizeof(fc_model))
		return FC_ERR_STATE;
	memcpy(&hdr, buf, sizeof(hdr));
	body = (const unsigned char *) buf + sizeof(hdr);
	if (hdr.magic != FC_MAGIC || hdr.version != FC_VERSION ||
		hdr.size != sizeof(fc_model) ||
		hdr.checksum != fnv1a(body, sizeof(fc_model)))
		return FC_ERR_STATE;
	memcpy(m, body, sizeof(fc_model));
	if (m->magic != FC_MAGIC || fc_config_check(&m->cfg) != FC_OK)
		return FC_ERR_STATE;
	return FC_OK;
}
