/* Blocks allocated through the interposed allocator on the shim's behalf (by libunwind's
 * per-thread caches, dlsym, pthread keys...). They are not the program's, so neither their
 * allocation nor their free is recorded, even when the free happens later outside the
 * shim (glibc frees thread-specific data at thread exit). */
#ifndef REFSCOPE_OWNED_BLOCKS_H
#define REFSCOPE_OWNED_BLOCKS_H

#include "shim.h"

#include "block_filter.h"
#include "sampling.h"

extern RS_HIDDEN _Atomic uint32_t rs_owned_count;

/* Maps the table; before, the shim's blocks are not told apart (nothing makes them yet). */
RS_HIDDEN void rs_owned_init(void);
RS_HIDDEN void rs_owned_add(const void *p);
RS_HIDDEN bool rs_owned_remove_slow(const void *p);

/* true when p was one of the shim's blocks (and is forgotten now) */
static inline bool rs_owned_remove(const void *p)
{
    if (RS_LIKELY(atomic_load_explicit(&rs_owned_count, memory_order_relaxed) == 0))
        return false;
    if (RS_LIKELY(!rs_filter_maybe(p)))
        return false;
    return rs_owned_remove_slow(p);
}

/* Sampling, a recorded thread: true when an allocation of `size` bytes is not sampled (it
 * is counted down). */
static inline bool rs_sample_skips_here(uint64_t size)
{
    struct rs_ring *r;
    return rs_cfg.sample_bytes && (r = rs_tl_ring) != NULL && rs_sample_skips(r, size);
}

/* Sampling: true when an allocation of `size` bytes about to be made needs no
 * rs_note_alloc (it is the program's, and counted down, not sampled). A hook asks before
 * calling the allocator below it, so that its common path does nothing after that call
 * and keeps no registers across it: the Python hooks took 54 and 34 instructions an
 * allocation and a free sampled, now 36 and 26 (callgrind, Debian 3.11 bench/py_churn.py). */
static inline bool rs_sample_skips_before(uint64_t size)
{
    return rs_cfg.sample_bytes && !rs_tl_busy && rs_recording() && rs_sample_skips_here(size);
}

/* After a successful allocation: record it as the program's, or remember it as the shim's. */
static inline void rs_note_alloc(uint8_t kind, void *p, uint64_t size)
{
    if (RS_LIKELY(!rs_tl_busy)) {
        if (rs_recording()) {
            /* Sampling: most allocations stop here, at the countdown, without a call. */
            if (rs_sample_skips_here(size))
                return;
            /* the hook's frame once this is inlined into it (else this function's, which
             * the walk steps over as one of the shim's) */
            rs_record_alloc(kind, p, size, __builtin_frame_address(0));
        }
    } else if (!rs_tl_passthrough &&
               atomic_load_explicit(&rs_state, memory_order_relaxed) == RS_STATE_ACTIVE) {
        rs_owned_add(p);
    }
}

/* Sampling: true when the free of p needs no rs_note_free (p is in neither the sampled set
 * nor the shim's: the filter turns it away). */
static inline bool rs_sample_free_skips(const void *p)
{
    return rs_cfg.sample_bytes && !rs_filter_maybe(p);
}

/* Before the real free: the free is recorded unless the block was the shim's. time 0: the
 * clock is read when the free is recorded (before the real free all the same). */
static inline void rs_note_free(uint8_t kind, void *p, uint64_t time)
{
    if (rs_cfg.sample_bytes) {
        /* Most frees stop at the filter, which marks the sampled blocks and the shim's
         * alike. With a filter per set, bench/native_churn.c's free hook took 47
         * instructions (callgrind), now 28; 10M pairs sampled 1.41x -> 1.34x plain. */
        if (RS_LIKELY(rs_sample_free_skips(p)))
            return;
        if (!rs_owned_remove_slow(p) && rs_recording_frees() && rs_sample_free_slow(p))
            rs_record_free(kind, p, time);
        return;
    }
    if (!rs_owned_remove(p) && rs_recording_frees())
        rs_record_free(kind, p, time);
}

#endif
