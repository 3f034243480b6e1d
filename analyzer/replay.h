/* Replays a trace's events in time order over a live set: totals, the peak, and what was
 * live at exit and at the peak, by allocation stack.
 *
 * Sampled allocations stand for more than themselves: one with size S and weight W counts
 * as W bytes and round(W / S) blocks (at least 1; 1 when S is 0). Frees of a sampled block
 * release what it stood for. */
#ifndef REFSCOPE_REPLAY_H
#define REFSCOPE_REPLAY_H

#include "trace_model.h"

struct rs_stack_total {
    uint32_t stack_id;
    uint64_t blocks;
    uint64_t bytes;
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

    /* By bytes, then blocks, descending. */
    struct rs_stack_total *leaks;
    size_t nleaks;
    struct rs_stack_total *at_peak;
    size_t nat_peak;
};

/* Returns 0, or -1 when out of memory. */
int rs_replay_run(const struct rs_trace *t, struct rs_replay *out);
void rs_replay_free(struct rs_replay *r);

#endif
