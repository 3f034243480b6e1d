/* A counting filter over block addresses, in front of a small set of blocks (the shim's
 * own, the sampled ones): a byte per bucket counts the set's live blocks that hash there,
 * so the free of any other block is turned away with one byte load. A bucket empties again
 * when its blocks are freed: malloc hands a freed address out again at once, and a mark
 * that stayed would send every later block at that address down the slow path. A bucket
 * that reaches 255 stays there (still correct, only slower). */
#ifndef REFSCOPE_BLOCK_FILTER_H
#define REFSCOPE_BLOCK_FILTER_H

#include "shim.h"

#define RS_FILTER_SATURATED 255u

static inline uint32_t rs_filter_bucket(const void *p, unsigned bits)
{
    return (uint32_t)((((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15u) >> (64 - bits));
}

static inline bool rs_filter_maybe(_Atomic uint8_t *filter, uint32_t bucket)
{
    return atomic_load_explicit(&filter[bucket], memory_order_relaxed) != 0;
}

/* Before the block enters its set: a free racing with the insertion sees the mark. */
static inline void rs_filter_add(_Atomic uint8_t *filter, uint32_t bucket)
{
    uint8_t c = atomic_load_explicit(&filter[bucket], memory_order_relaxed);
    while (c != RS_FILTER_SATURATED && !atomic_compare_exchange_weak(&filter[bucket], &c, (uint8_t)(c + 1)))
        ;
}

/* After the block left its set. */
static inline void rs_filter_remove(_Atomic uint8_t *filter, uint32_t bucket)
{
    uint8_t c = atomic_load_explicit(&filter[bucket], memory_order_relaxed);
    while (c != RS_FILTER_SATURATED && c != 0 && !atomic_compare_exchange_weak(&filter[bucket], &c, (uint8_t)(c - 1)))
        ;
}

#endif
