#include "ring.h"

#include "rs_trace_format.h"
#include "writer.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

RS_HIDDEN RS_TLS struct rs_ring *rs_tl_ring;
static _Atomic(struct rs_ring *) ring_list;
RS_HIDDEN struct rs_stamp_state rs_stamp;
static bool parking_works; /* membarrier(2) private expedited is registered */

struct rs_ring *rs_ring_list(void)
{
    return atomic_load_explicit(&ring_list, memory_order_acquire);
}

static void ring_reset_identity(struct rs_ring *r)
{
    r->tid = (uint32_t)rs_gettid();
    r->thread = pthread_self();
    r->thread_flags = ((pid_t)r->tid == rs_pid ? RS_THREAD_MAIN : 0) | (rs_tl_shim_thread ? RS_THREAD_REFSCOPE : 0);
    r->python_allocs = 0;
    r->sample_countdown = 0;
    r->sample_rng = 0;
    r->sample_started = false;
    r->stamp_reuses = 0;
    atomic_store_explicit(&r->in_event, 0, memory_order_relaxed);
    atomic_store_explicit(&r->parking, RS_RING_AWAKE, memory_order_relaxed);
    r->idle_rounds = 0;
    r->libunwind_ready = false;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    r->head_at_claim = head;
    r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    atomic_store_explicit(&r->writer_asked, 0, memory_order_relaxed);
    atomic_store_explicit(&r->waits, 0, memory_order_relaxed);
    atomic_store_explicit(&r->wait_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&r->drops, 0, memory_order_relaxed);
    r->counters_written = 0;
    memset(r->stack_cache, 0, sizeof r->stack_cache);
    r->stack_memo.n = 0;
    memset(r->code_cache, 0, sizeof r->code_cache);
    for (int i = 0; i < RS_PY_MEMOS; i++) {
        r->py_memo[i].valid = false;
        memset(r->py_memo[i].tops, 0, sizeof r->py_memo[i].tops);
    }
    char name[17] = {0};
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
        name[0] = 0;
    memcpy(r->name, name, sizeof name);
    r->name_seq_written = atomic_load_explicit(&r->name_seq, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->name_seq, 1, memory_order_relaxed);
}

static struct rs_ring *ring_claim_free(void)
{
    for (struct rs_ring *r = rs_ring_list(); r; r = r->next) {
        int expected = RS_RING_FREE;
        if (r->capacity == rs_cfg.ring_events &&
            atomic_compare_exchange_strong(&r->state, &expected, RS_RING_CLAIMING))
            return r;
    }
    return NULL;
}

static struct rs_ring *ring_map_new(void)
{
    /* The slots start on a huge-page boundary, the header in the small pages just below:
     * a ring of the default 65,536 events is then one huge page where the kernel gives
     * them, not 512 pages faulted in one by one on its first lap. The slack around them
     * is address space, never touched. */
    size_t header = offsetof(struct rs_ring, slots);
    size_t slot_bytes = (size_t)rs_cfg.ring_events * sizeof(struct rs_event);
    char *base = rs_sys_map(RS_HUGE_PAGE + header + slot_bytes);
    if (!base)
        return NULL;
    uintptr_t slots_at = ((uintptr_t)base + header + RS_HUGE_PAGE - 1) & ~(uintptr_t)(RS_HUGE_PAGE - 1);
    if (slot_bytes >= RS_HUGE_PAGE)
        rs_sys_advise_huge((void *)slots_at, slot_bytes & ~(RS_HUGE_PAGE - 1));
    struct rs_ring *r = (struct rs_ring *)(slots_at - header);
    r->capacity = rs_cfg.ring_events;
    atomic_store_explicit(&r->state, RS_RING_CLAIMING, memory_order_relaxed);
    struct rs_ring *head = atomic_load_explicit(&ring_list, memory_order_relaxed);
    do
        r->next = head;
    while (!atomic_compare_exchange_weak_explicit(&ring_list, &head, r, memory_order_release,
                                                  memory_order_relaxed));
    return r;
}

static bool program_ring(const struct rs_ring *r)
{
    return !(r->thread_flags & RS_THREAD_REFSCOPE);
}

/* Counted in rs_stamp.program_rings. */
static bool counted(const struct rs_ring *r)
{
    return program_ring(r) && atomic_load_explicit(&r->parking, memory_order_acquire) != RS_RING_PARKED;
}

static struct rs_ring *claim(void)
{
    struct rs_ring *r = ring_claim_free();
    if (!r)
        r = ring_map_new();
    if (!r)
        return NULL;
    ring_reset_identity(r);
    if (program_ring(r))
        atomic_fetch_add(&rs_stamp.program_rings, 1);
    atomic_fetch_add(&rs_stamp.epoch, 1);
    atomic_store_explicit(&r->state, RS_RING_ACTIVE, memory_order_release);
    rs_tl_ring = r;
    return r;
}

/* The slow ways out of a recorded free (this, rs_ring_wait_for_room and
 * rs_writer_restart_due) give the program's errno back themselves: rs_record_free does not
 * keep it (a ring is mapped here). */
struct rs_ring *rs_ring_claim(void)
{
    int saved_errno = errno;
    struct rs_ring *r = claim();
    errno = saved_errno;
    return r;
}

void rs_ring_retire(struct rs_ring *r)
{
    /* the epoch first: a thread that sees the count fall must see the new epoch too */
    atomic_fetch_add(&rs_stamp.epoch, 1);
    if (counted(r))
        atomic_fetch_sub(&rs_stamp.program_rings, 1);
}

void rs_ring_parking_init(void)
{
    parking_works = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void rs_ring_unpark(struct rs_ring *r)
{
    for (;;) {
        uint8_t state = atomic_load(&r->parking);
        if (state == RS_RING_AWAKE)
            return;
        if (state == RS_RING_PARKING) {
            /* the writer has not uncounted it yet, and now will not */
            if (atomic_compare_exchange_strong(&r->parking, &state, RS_RING_AWAKE))
                return;
        } else if (atomic_compare_exchange_strong(&r->parking, &state, RS_RING_AWAKE)) {
            atomic_fetch_add(&rs_stamp.program_rings, 1);
            atomic_fetch_add(&rs_stamp.epoch, 1);
            return;
        }
    }
}

/* Rounds without an event before a ring is parked: a thread that records every other
 * round is not worth the membarrier and the epochs. */
#define PARK_AFTER_IDLE_ROUNDS 2

void rs_ring_try_park(struct rs_ring *r)
{
    if (++r->idle_rounds < PARK_AFTER_IDLE_ROUNDS || !parking_works || !program_ring(r) ||
        atomic_load(&rs_stamp.program_rings) < 2 || atomic_load(&r->in_event))
        return;
    uint8_t state = RS_RING_AWAKE;
    if (!atomic_compare_exchange_strong(&r->parking, &state, RS_RING_PARKING))
        return;
    bool fenced = syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
    if (!fenced)
        parking_works = false;
    state = RS_RING_PARKING;
    /* in_event: caught between an event's time and its push. A failed CAS back: the thread
     * took its ring back itself. */
    if (!fenced || atomic_load(&r->in_event)) {
        atomic_compare_exchange_strong(&r->parking, &state, RS_RING_AWAKE);
        return;
    }
    if (!atomic_compare_exchange_strong(&r->parking, &state, RS_RING_PARKED))
        return; /* its thread took it back */
    atomic_fetch_add(&rs_stamp.epoch, 1);
    atomic_fetch_sub(&rs_stamp.program_rings, 1);
}

void rs_ring_set_name(struct rs_ring *r, const char *name)
{
    size_t n = strnlen(name, RS_THREAD_NAME_MAX - 1);
    memcpy(r->name, name, n);
    r->name[n] = 0;
    atomic_fetch_add_explicit(&r->name_seq, 1, memory_order_release);
}

struct rs_ring *rs_ring_find_thread(pthread_t thread)
{
    for (struct rs_ring *r = rs_ring_list(); r; r = r->next)
        if (atomic_load_explicit(&r->state, memory_order_acquire) == RS_RING_ACTIVE &&
            pthread_equal(r->thread, thread))
            return r;
    return NULL;
}

static bool wait_for_room(struct rs_ring *r, uint64_t head)
{
    if (rs_cfg.drop_on_full)
        return false;
    uint64_t start = rs_now_ns();
    atomic_store_explicit(&r->waits, atomic_load_explicit(&r->waits, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    rs_writer_wake();
    for (unsigned spins = 0;; spins++) {
        if (atomic_load_explicit(&rs_state, memory_order_relaxed) != RS_STATE_ACTIVE)
            return false;
        if (!rs_writer_running()) {
            /* Nobody drains while the writer is stopped (around fork) or not started:
             * drain on its behalf rather than wait forever. */
            if (!rs_writer_drain_here())
                return false;
        } else if (spins < 64) {
            sched_yield();
        } else {
            struct timespec ts = {0, 50 * 1000};
            nanosleep(&ts, NULL);
        }
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->cached_tail < r->capacity)
            break;
    }
    uint64_t waited = rs_now_ns() - start;
    atomic_store_explicit(&r->wait_ns,
                          atomic_load_explicit(&r->wait_ns, memory_order_relaxed) + waited,
                          memory_order_relaxed);
    return true;
}

/* errno is the program's again on return (sched_yield, nanosleep and a drain here can set
 * it; rs_record_free does not keep it itself). */
bool rs_ring_make_room(struct rs_ring *r, uint64_t head)
{
    int saved_errno = errno;
    r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t used = head - r->cached_tail, half = r->capacity / 2;
    bool room = true;
    if (used >= half && !atomic_load_explicit(&r->writer_asked, memory_order_relaxed)) {
        atomic_store_explicit(&r->writer_asked, 1, memory_order_relaxed);
        rs_writer_wake();
    }
    if (used >= r->capacity) {
        room = wait_for_room(r, head);
        used = head - r->cached_tail;
    }
    /* Half full or more: looked at again halfway to full, not at every push. */
    r->room_check = used < half ? half : used + (r->capacity - used + 1) / 2;
    errno = saved_errno;
    return room;
}

uint64_t rs_ring_discard(struct rs_ring *r)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->tail, head, memory_order_release);
    r->cached_tail = head;
    atomic_store_explicit(&r->writer_asked, 0, memory_order_relaxed);
    return head;
}

void rs_ring_after_fork_child(void)
{
    struct rs_ring *mine = rs_tl_ring;
    for (struct rs_ring *r = rs_ring_list(); r; r = r->next) {
        rs_ring_discard(r);
        if (r != mine)
            atomic_store_explicit(&r->state, RS_RING_FREE, memory_order_relaxed);
    }
    if (mine) {
        ring_reset_identity(mine);
        atomic_store_explicit(&mine->state, RS_RING_ACTIVE, memory_order_release);
    }
    atomic_store(&rs_stamp.program_rings, mine && program_ring(mine) ? 1 : 0);
    atomic_fetch_add(&rs_stamp.epoch, 1);
    rs_ring_parking_init(); /* the registration is the parent's address space's */
}
