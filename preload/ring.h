/* Per-thread event rings.
 *
 * Why per-thread single-producer/single-consumer rings rather than one MPSC ring: the
 * producer side then needs no atomic read-modify-write at all (one release store of its own
 * head), threads never contend on a shared cache line, and the order of a thread's events
 * is the order of its ring. Cross-thread order is restored offline from the timestamps.
 * The cost is one ring per live thread; rings of exited threads are recycled.
 *
 * A ring is owned by one thread (the producer) and drained by the writer (the consumer).
 * Rings are never unmapped: once the writer sees a ring's thread gone, it drains the ring,
 * marks it free, and the next new thread reuses it. Thread exit is detected by the writer
 * (tgkill with signal 0) rather than by a TLS destructor: pthread keys and thread_local
 * destructors allocate, and glibc would free that memory behind the shim's back. */
#ifndef REFSCOPE_RING_H
#define REFSCOPE_RING_H

#include "rs_trace_format.h"
#include "shim.h"
#include "unwind_rules.h"

#include <pthread.h>

struct rs_event {
    uint64_t time;   /* CLOCK_MONOTONIC ns */
    uint64_t addr;
    uint64_t size;   /* size, or munmap length */
    uint32_t stack_id;
    uint8_t tag;     /* RS_TAG_ALLOC|kind, RS_TAG_FREE|kind, RS_TAG_MUNMAP */
    uint8_t pad[3];
};

enum rs_ring_state {
    RS_RING_FREE = 0,
    RS_RING_CLAIMING,  /* a new owner is resetting it */
    RS_RING_ACTIVE,
    RS_RING_RETIRING,  /* its thread is gone: drain, then free */
};

#define RS_STACK_CACHE_SLOTS 256
#define RS_CODE_CACHE_SLOTS 64

/* The thread's last stack, bottom frame first, and the hash of each bottom part of it:
 * consecutive stacks of a thread mostly share their bottom frames (stack_table.c). */
struct rs_stack_memo {
    uint32_t n;
    uint64_t bottom_up[RS_STACK_MAX_WORDS];
    uint64_t hash_of[RS_STACK_MAX_WORDS + 1]; /* [j]: of the bottom j words, j >= 1 */
};
/* An interned code object, as the thread last met it (py_frames.c): the objects are
 * pinned, so an address keeps its id. */
struct rs_code_cache_entry {
    uintptr_t code;
    uint32_t id;
    int32_t firsttraceable; /* 3.11+: where the code's traceable instructions begin */
};
/* The frames below the top one of the thread's recent Python stacks, as keys that fix
 * their words (py_frames.c), and the ids of the stacks met on top of them. In a loop a
 * stack differs from the last one at the same depth only in its top frame: while the
 * frames below are the same, a stack is found from its top frame alone, without hashing or
 * comparing it whole. One memo per top frame's address (a few of them, so that a loop's
 * frame and the frames it calls keep theirs). */
#define RS_PY_MEMO_WORDS 128 /* 64 frames: deeper ones kept only when cut there (REFSCOPE_STACK_DEPTH) */
#define RS_PY_MEMO_TOPS 64
#define RS_PY_MEMOS 4
struct rs_py_memo {
    bool valid;
    bool cut;            /* the frames below went on beyond the room (rs_py_stack_id) */
    uint32_t top_n;      /* words of the top frame the room was left for */
    uint32_t nkeys;      /* 2 per frame below the top */
    uint32_t nwords;     /* the words those frames give */
    uint32_t max_words;  /* the room the stacks had */
    uint32_t generation; /* of the frames below the top: tops of older ones do not match */
    uint64_t keys[RS_PY_MEMO_WORDS];
    uint64_t words[RS_PY_MEMO_WORDS];
    struct {
        uint64_t key0, key1; /* the top frame's key */
        uint32_t generation;
        uint32_t id;
    } tops[RS_PY_MEMO_TOPS];
};
#define RS_THREAD_NAME_MAX 32

struct rs_ring {
    _Atomic uint64_t head; /* next slot the producer fills */
    char pad0[56];
    _Atomic uint64_t tail; /* next slot the writer reads */
    char pad1[56];

    /* producer-owned */
    uint64_t cached_tail;
    uint64_t room_check;      /* head - cached_tail that sends a push to rs_ring_make_room */
    _Atomic uint8_t writer_asked; /* woke the writer since it last drained the ring */
    uint64_t head_at_claim;
    _Atomic uint64_t waits;
    _Atomic uint64_t wait_ns;
    _Atomic uint64_t drops;
    struct {
        uint64_t hash;
        uint32_t id;
    } stack_cache[RS_STACK_CACHE_SLOTS];
    struct rs_stack_memo stack_memo;
    struct rs_code_cache_entry code_cache[RS_CODE_CACHE_SLOTS];
    struct rs_py_memo py_memo[RS_PY_MEMOS];

    /* identity, set while claiming */
    _Atomic int state;
    uint32_t tid;
    pthread_t thread;
    uint32_t thread_flags;
    uint32_t python_allocs; /* Python-domain allocations seen on this thread (saturates) */
    int64_t sample_countdown; /* bytes to the next sample (sampling.h) */
    uint64_t stamp;           /* the clock reading this thread's events reuse (rs_event_time) */
    uint64_t stamp_epoch;     /* rs_stamp.epoch when it was read */
    uint32_t stamp_reuses;    /* events left before the clock is read again regardless */
    _Atomic uint8_t in_event; /* between an event's time and its push (the writer reads it) */
    _Atomic uint8_t parking;  /* enum rs_ring_parking */
    uint64_t sample_rng;
    bool sample_started;
    char name[RS_THREAD_NAME_MAX];
    _Atomic uint32_t name_seq;
    struct rs_unwind_cache unwind; /* kept across owners: the rules are the process's */
    bool libunwind_ready; /* this thread has called libunwind (its TLS is allocated) */

    /* writer-owned */
    uint32_t name_seq_written;
    uint64_t counters_written; /* events+waits+drops last reported, to skip unchanged */
    uint64_t last_head_seen;   /* head at the last round, to notice idle rings */
    uint64_t liveness_checked_ns;
    uint32_t idle_rounds;      /* rounds in a row that found no event in it */

    struct rs_ring *next; /* registry list; rings are never removed from it */
    uint64_t capacity;    /* slots, a power of two */
    _Alignas(64) struct rs_event slots[]; /* a line holds whole events (rs_ring_push) */
};

/* Event times without a clock read per event (the read costs as much as the rest of a
 * free's recording). Events of different threads are ordered offline by their times, a
 * thread's own by its ring; so a time must only be later than the time of every event of
 * another thread that came before it. While one program thread alone records, an event of
 * that thread can follow another thread's event only through something that changes
 * `epoch` first: a thread claiming, giving up or resuming its ring (program_rings changes
 * too), refscope's own threads recording an event or a timed record (a snapshot, a mark),
 * or the writer's round (which keeps reused times at most a round stale). The thread then
 * reuses its last reading until it sees a new epoch, or RS_STAMP_REUSES events went by.
 * With more than one program thread recording, every event reads the clock.
 *
 * A thread that stopped recording (blocked in a join, a wait, a read) is not counted: the
 * writer parks its ring once the ring was idle for a while, and the thread's next event
 * counts it again before it takes its time. Parking must not happen while the thread is
 * between the time of an event and its push (`in_event`): the writer sets PARKING, then
 * issues membarrier(2), which puts a full fence in every running thread of the process, so
 * that either the writer sees in_event set (and gives up) or the thread sees PARKING (and
 * takes its ring back). The producer's side costs two plain stores and a load. */
enum rs_ring_parking {
    RS_RING_AWAKE = 0,
    RS_RING_PARKING, /* the writer is checking that the thread is between events */
    RS_RING_PARKED,  /* not counted in program_rings */
};
struct rs_stamp_state {
    _Alignas(64) _Atomic uint32_t program_rings; /* rings of the program's threads, not parked */
    _Atomic uint64_t epoch;
};
extern RS_HIDDEN struct rs_stamp_state rs_stamp;
#define RS_STAMP_REUSES 64

/* A time that every event recorded after it, by any thread, sorts after: for records that
 * are not events of a program thread (refscope's threads' events, snapshots, marks). */
static inline uint64_t rs_now_ns_ordered(void)
{
    uint64_t t = rs_now_ns();
    atomic_fetch_add_explicit(&rs_stamp.epoch, 1, memory_order_release);
    return t;
}

/* The ring's thread records again: counted once more (ring.c). */
RS_HIDDEN void rs_ring_unpark(struct rs_ring *r);

/* The time of an event the calling thread (whose ring is r, or NULL) records now; the
 * event must be pushed next (rs_event_pushed). */
static inline __attribute__((always_inline)) uint64_t rs_event_time(struct rs_ring *r)
{
    if (RS_UNLIKELY(!r || rs_tl_shim_thread))
        return rs_tl_shim_thread ? rs_now_ns_ordered() : rs_now_ns();
    atomic_store_explicit(&r->in_event, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* the CPU's fence comes from the writer's membarrier */
    if (RS_UNLIKELY(atomic_load_explicit(&r->parking, memory_order_acquire) != RS_RING_AWAKE))
        rs_ring_unpark(r);
    if (atomic_load_explicit(&rs_stamp.program_rings, memory_order_acquire) > 1)
        return rs_now_ns();
    uint64_t epoch = atomic_load_explicit(&rs_stamp.epoch, memory_order_acquire);
    if (RS_UNLIKELY(epoch != r->stamp_epoch || r->stamp_reuses == 0)) {
        r->stamp_epoch = epoch;
        r->stamp_reuses = RS_STAMP_REUSES;
        /* not before the loads above: the reading must be later than what they saw */
        __builtin_ia32_lfence();
        r->stamp = rs_now_ns();
    }
    r->stamp_reuses--;
    return r->stamp;
}

/* After the push of an event whose time rs_event_time gave. */
static inline void rs_event_pushed(struct rs_ring *r)
{
    atomic_store_explicit(&r->in_event, 0, memory_order_release);
}

/* Writer: parks the ring of a thread that has been idle, if it still is. */
RS_HIDDEN void rs_ring_try_park(struct rs_ring *r);
/* Whether parking can work here (membarrier(2) registered); from start-up and fork. */
RS_HIDDEN void rs_ring_parking_init(void);

/* The calling thread's ring once it has one (read by the inline sampling test). */
extern RS_HIDDEN RS_TLS struct rs_ring *rs_tl_ring;
/* Claims a ring for the calling thread (rs_ring_current's first call in a thread); errno
 * is left as it was. */
RS_HIDDEN struct rs_ring *rs_ring_claim(void);
/* The ring of the calling thread, claimed on first use; NULL when none can be mapped. */
static inline struct rs_ring *rs_ring_current(void)
{
    struct rs_ring *r = rs_tl_ring;
    return RS_LIKELY(r != NULL) ? r : rs_ring_claim();
}
RS_HIDDEN struct rs_ring *rs_ring_list(void);
/* The writer gives up the ring of a thread that is gone (state FREE follows). */
RS_HIDDEN void rs_ring_retire(struct rs_ring *r);
RS_HIDDEN void rs_ring_set_name(struct rs_ring *r, const char *name);
RS_HIDDEN struct rs_ring *rs_ring_find_thread(pthread_t thread);
/* Fork child: every other thread is gone; their rings become free, and pending events of
 * the parent (which the parent's writer writes) are discarded. */
RS_HIDDEN void rs_ring_after_fork_child(void);
/* Drops the events not written yet, with no producer running (after fork, between attach
 * sessions): the writer's tail and the producer's view of it move to the head, which is
 * returned. */
RS_HIDDEN uint64_t rs_ring_discard(struct rs_ring *r);

/* Slow path of rs_ring_push, taken once the ring looked half full: reads the writer's
 * progress, wakes the writer when the ring is half full (once until the writer drains it),
 * and when it is full waits for the writer (or drains on its behalf when no writer runs)
 * unless configured to drop. Returns false to drop. errno is left as it was.
 *
 * Why wake the writer: it sleeps between rounds, longer the less it found (up to
 * IDLE_SLEEP_MAX_NS, writer.c), and a thread that starts a burst of allocations filled its
 * ring in less than that and waited (bench/native_churn.c, 10M pairs: 194 waits, 0.054 s
 * of a 0.5 s run in one thread; 295 waits, 0.79 s of thread time in four; Debian 3.11
 * bench/py_json.py: 39 waits, 0.118 s). */
RS_HIDDEN bool rs_ring_make_room(struct rs_ring *r, uint64_t head);

/* Slots this far ahead are asked for, for writing, one cache line at a time. The writer
 * read them on the previous lap, from another core: a store to such a line waits for the
 * other core to give it up, and the stores queued behind it (the thread's own, the
 * program's) wait too. Asked for early, the line is the thread's by the time it is
 * written: on a native malloc/free loop of 10M pairs (2 vCPUs, AMD EPYC), the thread's CPU
 * time went from 1.21 s to 0.79 s with native stacks, 0.73 s to 0.45 s without. The
 * distance matters little (16 to 256 measured alike). */
#define RS_RING_PREFETCH_AHEAD 64

/* PREFETCHW: GCC emits it for __builtin_prefetch(p, 1) only when targeting a CPU that
 * has it, and otherwise a plain prefetch, which brings the line in shared and does not
 * help. Every x86-64 CPU either has it or executes it as a no-op. */
static inline void rs_prefetch_for_write(const void *p)
{
#if defined(__x86_64__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

/* The fields are stored straight into the slot, never built on the stack and copied: a
 * 16-byte copy of fields just stored with narrower stores cannot be forwarded from the
 * store buffer, so it waits for every older store to reach the cache, the previous
 * event's slot (a line the writer took away) included. */
static inline void rs_ring_push(struct rs_ring *r, uint8_t tag, uint64_t time, uint64_t addr, uint64_t size,
                                uint32_t stack_id)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    /* room_check is never above the capacity: a full ring always takes the slow path */
    if (RS_UNLIKELY(head - r->cached_tail >= r->room_check) && !rs_ring_make_room(r, head)) {
        atomic_store_explicit(&r->drops, atomic_load_explicit(&r->drops, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        return;
    }
    struct rs_event *slot = &r->slots[head & (r->capacity - 1)];
    _Static_assert(64 % sizeof *slot == 0, "slots share cache lines evenly");
    if ((head & (64 / sizeof *slot - 1)) == 0)
        rs_prefetch_for_write(&r->slots[(head + RS_RING_PREFETCH_AHEAD) & (r->capacity - 1)]);
    slot->time = time;
    slot->addr = addr;
    slot->size = size;
    slot->stack_id = stack_id;
    slot->tag = tag;
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

#endif
