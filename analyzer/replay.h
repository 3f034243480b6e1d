/* Replays a trace's events in time order over a live set: totals, the peak, and what was
 * live at the end of the trace, at the program-end mark (RS_MARK_PROGRAM_END) and at the
 * peak, by allocation stack and allocating thread.
 *
 * Sampled allocations stand for more than themselves: one with size S and weight W counts
 * as W bytes and round(W / S) blocks (at least 1; 1 when S is 0). Frees of a sampled block
 * release what it stood for. */
#ifndef REFSCOPE_REPLAY_H
#define REFSCOPE_REPLAY_H

#include "trace_model.h"

/* A stackless block allocated after the program-end mark (interpreter teardown), kept
 * apart from those allocated before it (interpreter start-up). */
#define RS_GROUP_AFTER_PROGRAM_END 1u
/* A block allocated before the replay's `since` time (the check's --from snapshot): its
 * stack's totals keep it apart from the blocks allocated since. */
#define RS_GROUP_BEFORE_SINCE 2u

struct rs_stack_total {
    uint32_t stack_id;
    uint64_t blocks;
    uint64_t bytes;
    uint32_t flags;           /* RS_GROUP_* */
};

/* Blocks live at one point with the same allocation stack and allocating thread. */
struct rs_live_group {
    uint32_t stack_id;
    uint32_t tid;
    uint32_t flags;           /* RS_GROUP_* */
    uint64_t blocks;
    uint64_t bytes;
};

struct rs_live_point {
    bool valid;
    uint64_t time;            /* ns since trace start (end: the last event's) */
    uint64_t blocks;
    uint64_t bytes;
    struct rs_live_group *groups; /* by stack id, then tid, then flags */
    size_t ngroups;
};

/* What one thread did over the whole trace. */
struct rs_thread_activity {
    uint32_t tid;
    uint64_t events;          /* its event records replayed */
    uint64_t allocs;          /* blocks it allocated (estimated when sampled) */
    uint64_t alloc_bytes;
    uint64_t frees;           /* blocks it freed */
    uint64_t freed_bytes;
};

struct rs_replay {
    uint64_t events;          /* event records replayed */
    uint64_t alloc_records;   /* ALLOC and SAMPLED_ALLOC records */
    uint64_t sampled_records;
    uint64_t free_records;
    uint64_t munmap_records;

    uint64_t allocs;          /* blocks allocated (estimated when sampled) */
    uint64_t alloc_bytes;     /* saturates at UINT64_MAX */
    uint64_t frees;           /* blocks freed, plus frees of blocks never seen allocated */
    uint64_t freed_bytes;
    uint64_t frees_unknown;   /* allocated before tracing started, or inherited across fork */
    uint64_t unmapped_bytes;  /* of live mmap regions, released by munmap */
    uint64_t replaced;        /* allocation at an address already live: a free was missed */

    uint64_t live_blocks;     /* at the end */
    uint64_t live_bytes;
    uint64_t peak_bytes;
    uint64_t peak_blocks;
    uint64_t peak_time;       /* ns since trace start */
    uint64_t peak_event;      /* number of events replayed when the peak was reached */
    uint64_t first_time;
    uint64_t last_time;

    /* By bytes, then blocks, descending; all threads. */
    struct rs_stack_total *leaks;   /* live at the end of the trace */
    size_t nleaks;
    struct rs_stack_total *at_peak;
    size_t nat_peak;

    /* The same, by stack and thread. */
    struct rs_live_point end;
    struct rs_live_point peak;
    /* At the last RS_MARK_PROGRAM_END mark (by time): the events up to its time replayed,
     * none after. Valid when the trace has one. */
    bool has_program_end;
    size_t program_end_mark;  /* its index in the trace's marks */
    struct rs_live_point program_end;
    /* Of the blocks live at the mark, those still live at the end of the trace, and
     * counts of those gone by then. */
    struct rs_live_point survivors;
    uint64_t teardown_freed_blocks;
    uint64_t teardown_freed_bytes;

    struct rs_thread_activity *threads; /* by tid, ascending; threads with events */
    size_t nthreads;
    char read_error[512];     /* why rs_replay_run returned -2 */
};

/* Returns 0, -1 when out of memory, or -2 when the events could not be read back from the
 * trace's file (event_stream.h; read_error says why). */
int rs_replay_run(const struct rs_trace *t, struct rs_replay *out);
/* The same, also feeding the live bytes after every event to `timeline` (timeline.h;
 * NULL: none), and with `since` (NULL: none) marking the blocks allocated before that
 * time RS_GROUP_BEFORE_SINCE. */
struct rs_timeline;
int rs_replay_run_timeline(const struct rs_trace *t, struct rs_replay *out,
                           struct rs_timeline *timeline, const uint64_t *since);
void rs_replay_free(struct rs_replay *r);

const struct rs_thread_activity *rs_replay_thread(const struct rs_replay *r, uint32_t tid);

#endif
