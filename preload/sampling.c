#include "sampling.h"

#include "addr_set.h"
#include "block_filter.h"

#include <math.h>

/* Live sampled blocks: a heap of H bytes has about H / mean of them (8k for 4 GB at the
 * default mean) in the small table; the large one holds 2M. */
#define NEAR_SLOTS (1u << 14)
#define FAR_SLOTS (1u << 22)

static struct rs_addr_set sampled_set;
static double mean;

bool rs_sampling_init(uint64_t mean_bytes)
{
    mean = (double)mean_bytes;
    return rs_addr_set_init(&sampled_set, NEAR_SLOTS, FAR_SLOTS);
}

/* xorshift64*: per-thread, seeded from the thread id and the clock */
static uint64_t next_random(struct rs_ring *r)
{
    uint64_t x = r->sample_rng;
    if (!x)
        x = (rs_now_ns() ^ ((uint64_t)r->tid << 32)) | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->sample_rng = x;
    return x * 0x2545f4914f6cdd1du;
}

static int64_t next_gap(struct rs_ring *r)
{
    double u = ((double)(next_random(r) >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
    double gap = -log(u) * mean;
    return gap < 1 ? 1 : (int64_t)gap;
}

static void set_add(const void *p)
{
    rs_filter_add(p);
    if (!rs_addr_set_add(&sampled_set, (uintptr_t)p))
        rs_filter_remove(p); /* full: its free goes unrecorded */
}

bool rs_sample_alloc_slow(struct rs_ring *r, const void *p, uint64_t size)
{
    /* The countdown starts at 0 for a new thread: draw its first gap instead of sampling
     * its first allocation. */
    if (!r->sample_started) {
        r->sample_started = true;
        r->sample_countdown = next_gap(r) - (int64_t)size;
        if (r->sample_countdown > 0)
            return false;
    }
    do
        r->sample_countdown += next_gap(r);
    while (r->sample_countdown <= 0);
    set_add(p);
    return true;
}

bool rs_sample_free_slow(const void *p)
{
    if (!rs_addr_set_remove(&sampled_set, (uintptr_t)p))
        return false;
    rs_filter_remove(p);
    return true;
}

/* What a sampled allocation of `size` bytes stands for. */
RS_HIDDEN uint64_t rs_sample_weight(uint64_t size)
{
    double p = 1.0 - exp(-(double)size / mean);
    double w = p > 0 ? (double)size / p : (double)size;
    return w < (double)size ? size : (uint64_t)(w + 0.5);
}
