/*-------------------------------------------------------------------------
 *
 * snapshot_codec.c
 *	  Encoding, decoding and validation of NodeSnapshot, without server
 *	  headers (see snapshot_codec.h).
 *
 * Decoding is bounded twice: the input may be at most SNAPSHOT_MAX_BYTES,
 * and protobuf-c allocates from a fixed arena of SNAPSHOT_DECODE_ARENA
 * bytes (an allocation beyond it fails, so does the unpack), so a hostile
 * message can neither make the decoder allocate much nor leak: the arena is
 * freed whatever happens.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/snapshot_codec.h"

typedef struct DecodeArena
{
	uint8_t    *base;
	size_t		used;
	size_t		size;
} DecodeArena;

static void *
arena_alloc(void *allocator_data, size_t size)
{
	DecodeArena *arena = allocator_data;
	size_t		aligned = (size + 15) & ~(size_t) 15;
	void	   *p;

	if (size == 0)
		aligned = 16;
	if (aligned < size || aligned > arena->size - arena->used)
		return NULL;
	p = arena->base + arena->used;
	arena->used += aligned;
	return p;
}

static void
arena_free(void *allocator_data, void *pointer)
{
	/* everything goes at once with the arena */
	(void) allocator_data;
	(void) pointer;
}

static void set_error(char *errbuf, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

static void
set_error(char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

void
snapshot_init(NodeSnapshot *snap)
{
	static const NodeSnapshot empty = FORESIGHT__NODE_SNAPSHOT__INIT;

	*snap = empty;
}

bool
snapshot_decode(const uint8_t *data, size_t len, NodeSnapshot *out,
				char *errbuf, size_t errlen)
{
	DecodeArena arena;
	ProtobufCAllocator allocator;
	NodeSnapshot *msg;

	snapshot_init(out);
	if (data == NULL || len == 0)
	{
		set_error(errbuf, errlen, "empty snapshot");
		return false;
	}
	if (len > SNAPSHOT_MAX_BYTES)
	{
		set_error(errbuf, errlen, "snapshot of %zu bytes exceeds the limit of %d bytes",
				  len, SNAPSHOT_MAX_BYTES);
		return false;
	}

	arena.base = malloc(SNAPSHOT_DECODE_ARENA);
	if (arena.base == NULL)
	{
		set_error(errbuf, errlen, "out of memory");
		return false;
	}
	arena.used = 0;
	arena.size = SNAPSHOT_DECODE_ARENA;
	allocator.alloc = arena_alloc;
	allocator.free = arena_free;
	allocator.allocator_data = &arena;

	msg = foresight__node_snapshot__unpack(&allocator, len, data);
	if (msg == NULL)
	{
		free(arena.base);
		set_error(errbuf, errlen, "malformed snapshot: not a valid NodeSnapshot message (%zu bytes)", len);
		return false;
	}

	/* flat copy: drop the unknown fields, which live in the arena */
	*out = *msg;
	out->base.n_unknown_fields = 0;
	out->base.unknown_fields = NULL;
	free(arena.base);

	return snapshot_validate(out, errbuf, errlen);
}

/*
 * value with the fewest significant digits that read back as it, as
 * PostgreSQL prints a float8 (%g's six digits would show 1.0000001 as 1,
 * which is in range); this file is plain C, without float8out.
 */
static const char *
shortest_double(double value, char *buf, size_t len)
{
	int			digits;

	for (digits = 1; digits < 17; digits++)
	{
		snprintf(buf, len, "%.*g", digits, value);
		if (!isfinite(value) || strtod(buf, NULL) == value)
			break;
	}
	/* 100, not 1e+02: no exponent below 1e15, as float8out */
	if (isfinite(value) && value != 0)
	{
		int			exponent = (int) floor(log10(fabs(value)));

		if (exponent >= digits && exponent < 15)
			digits = exponent + 1;
	}
	snprintf(buf, len, "%.*g", digits, value);
	return buf;
}

/* Range check of one double field. */
static bool
check_double(bool has, double value, const char *name, double lo, double hi,
			 char *errbuf, size_t errlen)
{
	char		v[32];
	char		l[32];
	char		h[32];

	if (!has)
		return true;
	if (!isfinite(value) || value < lo || value > hi)
	{
		set_error(errbuf, errlen, "field %s out of range: %s (expected %s to %s)",
				  name, shortest_double(value, v, sizeof(v)),
				  shortest_double(lo, l, sizeof(l)), shortest_double(hi, h, sizeof(h)));
		return false;
	}
	return true;
}

#define CHECK_DOUBLE(field, lo, hi) \
	do { \
		if (!check_double(snap->has_##field, snap->field, #field, lo, hi, errbuf, errlen)) \
			return false; \
	} while (0)

/* a <= b when both are present */
#define CHECK_LE(a, b) \
	do { \
		if (snap->has_##a && snap->has_##b && (uint64_t) snap->a > (uint64_t) snap->b) \
		{ \
			set_error(errbuf, errlen, "inconsistent snapshot: %s (%llu) > %s (%llu)", \
					  #a, (unsigned long long) snap->a, #b, (unsigned long long) snap->b); \
			return false; \
		} \
	} while (0)

#define CHECK_RANGE(field, lo, hi) \
	do { \
		if (snap->has_##field && (snap->field < (lo) || snap->field > (hi))) \
		{ \
			set_error(errbuf, errlen, "field %s out of range: %lld", \
					  #field, (long long) snap->field); \
			return false; \
		} \
	} while (0)

bool
snapshot_validate(const NodeSnapshot *snap, char *errbuf, size_t errlen)
{
	/* 2000-01-01 and 2200-01-01 in microseconds since the Unix epoch */
	const int64_t min_time = INT64_C(946684800000000);
	const int64_t max_time = INT64_C(7258118400000000);

	if (!snap->has_version)
	{
		set_error(errbuf, errlen, "snapshot has no version");
		return false;
	}
	if (snap->version != SNAPSHOT_VERSION)
	{
		set_error(errbuf, errlen, "unsupported snapshot version %u (this reader accepts %d)",
				  snap->version, SNAPSHOT_VERSION);
		return false;
	}

	CHECK_RANGE(collected_at_us, min_time, max_time);
	CHECK_RANGE(server_start_us, min_time, max_time);
	CHECK_RANGE(cpu_count, 1, 65536);
	CHECK_RANGE(clock_ticks, 1, 1000000);
	/* the kernel allows 1 ms to 1 s */
	CHECK_RANGE(cpu_period_us, 1, 1000000);
	/* clock skew between primary and standby can make it slightly negative */
	CHECK_RANGE(replay_lag_us, INT64_C(-3600000000), INT64_C(3153600000000000));

	CHECK_DOUBLE(load1, 0, 1e7);
	CHECK_DOUBLE(load5, 0, 1e7);
	CHECK_DOUBLE(load15, 0, 1e7);
	CHECK_DOUBLE(cpu_limit_cores, 0.001, 65536);
	CHECK_DOUBLE(psi_cpu_some_avg10, 0, 100);
	CHECK_DOUBLE(psi_cpu_full_avg10, 0, 100);
	CHECK_DOUBLE(psi_io_some_avg10, 0, 100);
	CHECK_DOUBLE(psi_io_full_avg10, 0, 100);
	CHECK_DOUBLE(psi_memory_some_avg10, 0, 100);
	CHECK_DOUBLE(psi_memory_full_avg10, 0, 100);

	CHECK_LE(cpu_throttled_periods, cpu_periods);
	CHECK_LE(mem_available_kb, mem_total_kb);
	CHECK_LE(mem_dirty_kb, mem_total_kb);
	CHECK_LE(backends_active, backends);
	CHECK_LE(backends_idle_in_transaction, backends);
	CHECK_LE(waiting, backends_active);
	CHECK_LE(waiting_lock, waiting);
	CHECK_LE(waiting_lwlock, waiting);
	CHECK_LE(waiting_io, waiting);
	CHECK_LE(waiting_client, waiting);
	CHECK_LE(waiting_ipc, waiting);
	CHECK_LE(waiting_other, waiting);
	CHECK_LE(backends, connections);
	CHECK_LE(connections, max_connections);
	CHECK_LE(reserved_connections, max_connections);

	if (snap->has_collected_at_us && snap->has_server_start_us &&
		snap->server_start_us > snap->collected_at_us + INT64_C(60000000))
	{
		set_error(errbuf, errlen, "inconsistent snapshot: server started after the snapshot was taken");
		return false;
	}
	if (snap->has_waiting &&
		(uint64_t) snap->waiting_lock + snap->waiting_lwlock + snap->waiting_io +
		snap->waiting_client + snap->waiting_ipc + snap->waiting_other > snap->waiting)
	{
		set_error(errbuf, errlen, "inconsistent snapshot: waiting backends by type add up to more than %u",
				  snap->waiting);
		return false;
	}
	return true;
}

size_t
snapshot_encoded_size(const NodeSnapshot *snap)
{
	return foresight__node_snapshot__get_packed_size(snap);
}

size_t
snapshot_encode(const NodeSnapshot *snap, uint8_t *buf)
{
	return foresight__node_snapshot__pack(snap, buf);
}

/* Append to a bounded buffer, counting what would have been written. */
typedef struct JsonOut
{
	char	   *buf;
	size_t		len;
	size_t		size;
} JsonOut;

static void json_append(JsonOut *out, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

static void
json_append(JsonOut *out, const char *fmt,...)
{
	va_list		ap;
	char	   *dst = NULL;
	size_t		room = 0;
	int			n;

	if (out->buf && out->len < out->size)
	{
		dst = out->buf + out->len;
		room = out->size - out->len;
	}
	va_start(ap, fmt);
	n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		out->len += (size_t) n;
}

size_t
snapshot_to_json(const NodeSnapshot *snap, char *buf, size_t buflen)
{
	const ProtobufCMessageDescriptor *desc = &foresight__node_snapshot__descriptor;
	const char *base = (const char *) snap;
	JsonOut		out = {buf, 0, buflen};
	bool		first = true;

	if (buf && buflen > 0)
		buf[0] = '\0';
	json_append(&out, "{");
	for (unsigned i = 0; i < desc->n_fields; i++)
	{
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const void *value = base + f->offset;

		if (f->label != PROTOBUF_C_LABEL_OPTIONAL ||
			!*(const protobuf_c_boolean *) (base + f->quantifier_offset))
			continue;
		json_append(&out, "%s\"%s\": ", first ? "" : ", ", f->name);
		first = false;
		switch (f->type)
		{
			case PROTOBUF_C_TYPE_UINT32:
				json_append(&out, "%u", *(const uint32_t *) value);
				break;
			case PROTOBUF_C_TYPE_UINT64:
				json_append(&out, "%llu", (unsigned long long) *(const uint64_t *) value);
				break;
			case PROTOBUF_C_TYPE_INT32:
				json_append(&out, "%d", *(const int32_t *) value);
				break;
			case PROTOBUF_C_TYPE_INT64:
				json_append(&out, "%lld", (long long) *(const int64_t *) value);
				break;
			case PROTOBUF_C_TYPE_BOOL:
				json_append(&out, "%s", *(const protobuf_c_boolean *) value ? "true" : "false");
				break;
			case PROTOBUF_C_TYPE_DOUBLE:
				{
					double		d = *(const double *) value;

					char		shortest[32];

					/* the shortest form that reads back as the same double */
					snprintf(shortest, sizeof(shortest), "%.15g", d);
					if (isfinite(d) && strtod(shortest, NULL) == d)
						json_append(&out, "%s", shortest);
					else if (isfinite(d))
						json_append(&out, "%.17g", d);
					else
						json_append(&out, "null");
					break;
				}
			default:
				json_append(&out, "null");
				break;
		}
	}
	json_append(&out, "}");
	if (buf && buflen > 0 && out.len >= buflen)
		buf[buflen - 1] = '\0';
	return out.len;
}
