/* Blocks allocated through the interposed allocator on the shim's behalf (by libunwind's
 * per-thread caches, dlsym, pthread keys...). They are not the program's, so neither their
 * allocation nor their free is recorded, even when the free happens later outside the
 * shim (glibc frees thread-specific data at thread exit). */
#ifndef REFSCOPE_OWNED_BLOCKS_H
#define REFSCOPE_OWNED_BLOCKS_H

#include "shim.h"

extern RS_HIDDEN _Atomic uint32_t rs_owned_count;

/* A bit per hash of every block ever owned, never cleared: the shim's blocks are few, so a
 * free of the program's almost always stops at this L1-sized filter instead of probing the
 * table (a cache miss on every free). */
#define RS_OWNED_FILTER_BITS (1u << 16)
extern RS_HIDDEN _Atomic uint64_t rs_owned_filter[RS_OWNED_FILTER_BITS / 64];

static inline uint32_t rs_owned_filter_bit(const void *p)
{
    return (uint32_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15u >> 32) & (RS_OWNED_FILTER_BITS - 1);
}

RS_HIDDEN void rs_owned_add(const void *p);
RS_HIDDEN bool rs_owned_remove_slow(const void *p);

/* true when p was one of the shim's blocks (and is forgotten now) */
static inline bool rs_owned_remove(const void *p)
{
    if (RS_LIKELY(atomic_load_explicit(&rs_owned_count, memory_order_relaxed) == 0))
        return false;
    uint32_t bit = rs_owned_filter_bit(p);
    if (RS_LIKELY(!(atomic_load_explicit(&rs_owned_filter[bit >> 6], memory_order_relaxed) &
                    (UINT64_C(1) << (bit & 63)))))
        return false;
    return rs_owned_remove_slow(p);
}

/* After a successful allocation: record it as the program's, or remember it as the shim's. */
static inline void rs_note_alloc(uint8_t kind, void *p, uint64_t size)
{
    if (RS_LIKELY(!rs_tl_busy)) {
        if (rs_recording())
            rs_record_alloc(kind, p, size);
    } else if (!rs_tl_passthrough &&
               atomic_load_explicit(&rs_state, memory_order_relaxed) == RS_STATE_ACTIVE) {
        rs_owned_add(p);
    }
}

/* Before the real free: the free is recorded unless the block was the shim's. time 0: the
 * clock is read when the free is recorded (before the real free all the same). */
static inline void rs_note_free(uint8_t kind, void *p, uint64_t time)
{
    if (!rs_owned_remove(p) && rs_recording_frees())
        rs_record_free(kind, p, time);
}

#endif
