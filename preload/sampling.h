/* REFSCOPE_SAMPLE=BYTES: Poisson sampling by bytes, as tcmalloc and jemalloc do. Each
 * thread counts down bytes to its next sample, drawn from an exponential distribution
 * with the configured mean; an allocation that crosses zero is recorded, and stands for
 * size / (1 - exp(-size / mean)) bytes, an unbiased estimate. Only sampled blocks have
 * their free recorded: a set of them, behind a counting filter (block_filter.h) that
 * turns most frees away with one byte load, says which (owned_blocks.h rs_note_free). */
#ifndef REFSCOPE_SAMPLING_H
#define REFSCOPE_SAMPLING_H

#include "ring.h"

RS_HIDDEN bool rs_sampling_init(uint64_t mean_bytes);
/* true: record this allocation (and remember the block) */
RS_HIDDEN bool rs_sample_alloc_slow(struct rs_ring *r, const void *p, uint64_t size);
/* true: the block was sampled (and is forgotten now); its free is recorded. Behind the
 * filter (owned_blocks.h rs_note_free). */
RS_HIDDEN bool rs_sample_free_slow(const void *p);
/* What a sampled allocation of `size` bytes stands for (bytes). */
RS_HIDDEN uint64_t rs_sample_weight(uint64_t size);

/* The countdown alone: true when an allocation of `size` bytes is not sampled (it is
 * counted down). A new thread's countdown is 0, so its first allocation goes on to
 * rs_sample_alloc, which draws the first gap. The allocation hooks test this inline. */
static inline bool rs_sample_skips(struct rs_ring *r, uint64_t size)
{
    if (RS_LIKELY(r->sample_countdown > (int64_t)size)) {
        r->sample_countdown -= (int64_t)size;
        return true;
    }
    return false;
}

static inline bool rs_sample_alloc(struct rs_ring *r, const void *p, uint64_t size)
{
    if (rs_sample_skips(r, size))
        return false;
    r->sample_countdown -= (int64_t)size;
    return rs_sample_alloc_slow(r, p, size);
}

#endif
