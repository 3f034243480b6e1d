/* A counting filter over block addresses, in front of two small sets of blocks (the shim's
 * own, the sampled ones): a byte per bucket counts the sets' live blocks that hash there,
 * so the free of any other block is turned away with one byte load. A bucket empties again
 * when its blocks are freed: malloc hands a freed address out again at once, and a mark
 * that stayed would send every later block at that address down the slow path. A bucket
 * that reaches 255 stays there (still correct, only slower). */
#ifndef REFSCOPE_BLOCK_FILTER_H
#define REFSCOPE_BLOCK_FILTER_H

#include "shim.h"

#define RS_FILTER_SATURATED 255u

/* One filter for both sets (owned_blocks.c defines it): under sampling a free stops after
 * one hash and one byte load whichever set might hold the block, where a filter per set
 * took two of each (owned_blocks.h rs_note_free). Few blocks are in either set: sharing
 * adds few false positives. */
#define RS_BLOCK_FILTER_BITS 16
extern RS_HIDDEN _Atomic uint8_t rs_block_filter[1u << RS_BLOCK_FILTER_BITS];

static inline uint32_t rs_filter_bucket(const void *p)
{
    return (uint32_t)((((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15u) >> (64 - RS_BLOCK_FILTER_BITS));
}

/* false: p is in neither set */
static inline bool rs_filter_maybe(const void *p)
{
    return atomic_load_explicit(&rs_block_filter[rs_filter_bucket(p)], memory_order_relaxed) != 0;
}

/* Before the block enters its set: a free racing with the insertion sees the mark. */
static inline void rs_filter_add(const void *p)
{
    _Atomic uint8_t *b = &rs_block_filter[rs_filter_bucket(p)];
    uint8_t c = atomic_load_explicit(b, memory_order_relaxed);
    while (c != RS_FILTER_SATURATED && !atomic_compare_exchange_weak(b, &c, (uint8_t)(c + 1)))
        ;
}

/* After the block left its set. */
static inline void rs_filter_remove(const void *p)
{
    _Atomic uint8_t *b = &rs_block_filter[rs_filter_bucket(p)];
    uint8_t c = atomic_load_explicit(b, memory_order_relaxed);
    while (c != RS_FILTER_SATURATED && c != 0 && !atomic_compare_exchange_weak(b, &c, (uint8_t)(c - 1)))
        ;
}

#endif
