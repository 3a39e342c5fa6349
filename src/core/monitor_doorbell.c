/*-------------------------------------------------------------------------
 *
 * monitor_doorbell.c
 *	  Waking the monitor from any process (see monitor_doorbell.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "core/monitor_doorbell.h"

typedef struct Doorbell
{
	slock_t		mutex;			/* protects latch */
	Latch	   *latch;			/* the monitor's latch while it runs */
	pg_atomic_uint32 reload_requested;
} Doorbell;

static Doorbell *doorbell = NULL;

void
doorbell_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(Doorbell));
}

void
doorbell_shmem_init(void)
{
	bool		found;

	doorbell = ShmemInitStruct("pg_foresight monitor doorbell", sizeof(Doorbell), &found);
	if (!found)
	{
		SpinLockInit(&doorbell->mutex);
		doorbell->latch = NULL;
		pg_atomic_init_u32(&doorbell->reload_requested, 0);
	}
}

void
doorbell_set_latch(Latch *latch)
{
	if (doorbell == NULL)
		return;
	SpinLockAcquire(&doorbell->mutex);
	doorbell->latch = latch;
	SpinLockRelease(&doorbell->mutex);
}

void
monitor_wakeup(void)
{
	Latch	   *latch;

	if (doorbell == NULL)
		return;
	SpinLockAcquire(&doorbell->mutex);
	latch = doorbell->latch;
	SpinLockRelease(&doorbell->mutex);
	if (latch)
		SetLatch(latch);
}

void
monitor_request_registry_reload(void)
{
	if (doorbell == NULL)
		return;
	pg_atomic_write_u32(&doorbell->reload_requested, 1);
	monitor_wakeup();
}

bool
doorbell_take_registry_reload(void)
{
	return doorbell != NULL &&
		pg_atomic_exchange_u32(&doorbell->reload_requested, 0) != 0;
}
