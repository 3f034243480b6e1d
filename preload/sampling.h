/* REFSCOPE_SAMPLE=BYTES: Poisson sampling by bytes, as tcmalloc and jemalloc do. Each
 * thread counts down bytes to its next sample, drawn from an exponential distribution
 * with the configured mean; an allocation that crosses zero is recorded, and stands for
 * size / (1 - exp(-size / mean)) bytes, an unbiased estimate. Only sampled blocks have
 * their free recorded: a set of them, behind a bitmap that rejects most frees in one bit
 * test, says which. */
#ifndef REFSCOPE_SAMPLING_H
#define REFSCOPE_SAMPLING_H

#include "ring.h"

RS_HIDDEN bool rs_sampling_init(uint64_t mean_bytes);
/* true: record this allocation (and remember the block) */
RS_HIDDEN bool rs_sample_alloc_slow(struct rs_ring *r, const void *p, uint64_t size);
RS_HIDDEN bool rs_sample_free_slow(const void *p);
/* What a sampled allocation of `size` bytes stands for (bytes). */
RS_HIDDEN uint64_t rs_sample_weight(uint64_t size);

extern RS_HIDDEN uint64_t *rs_sampled_filter;

#define RS_SAMPLED_FILTER_BITS (1u << 22)

static inline uint32_t rs_sampled_filter_bit(const void *p)
{
    return (uint32_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15u >> 42) & (RS_SAMPLED_FILTER_BITS - 1);
}

static inline bool rs_sample_alloc(struct rs_ring *r, const void *p, uint64_t size)
{
    if (RS_LIKELY((int64_t)(r->sample_countdown -= (int64_t)size) > 0))
        return false;
    return rs_sample_alloc_slow(r, p, size);
}

/* true: the block was sampled; its free is recorded */
static inline bool rs_sample_free(const void *p)
{
    uint32_t bit = rs_sampled_filter_bit(p);
    if (RS_LIKELY(!(atomic_load_explicit((_Atomic uint64_t *)&rs_sampled_filter[bit >> 6],
                                         memory_order_relaxed) & (UINT64_C(1) << (bit & 63)))))
        return false;
    return rs_sample_free_slow(p);
}

#endif
