#include "timeline.h"

#include <string.h>

void rs_timeline_init(struct rs_timeline *tl)
{
    memset(tl, 0, sizeof *tl);
    tl->width = 1000;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Doubles the width: bucket i becomes old buckets 2i and 2i+1. */
static void coarsen(struct rs_timeline *tl)
{
    for (size_t i = 0; i < RS_TIMELINE_BUCKETS / 2; i++) {
        const struct rs_timeline_bucket *a = &tl->b[2 * i], *b = &tl->b[2 * i + 1];
        struct rs_timeline_bucket m = *a;
        if (b->used) {
            m.max_bytes = a->used ? max64(a->max_bytes, b->max_bytes) : b->max_bytes;
            m.max_py = a->used ? max64(a->max_py, b->max_py) : b->max_py;
            m.max_native = a->used ? max64(a->max_native, b->max_native) : b->max_native;
            m.end_bytes = b->end_bytes;
            m.end_py = b->end_py;
            m.used = true;
        }
        tl->b[i] = m;
    }
    memset(&tl->b[RS_TIMELINE_BUCKETS / 2], 0,
           (RS_TIMELINE_BUCKETS - RS_TIMELINE_BUCKETS / 2) * sizeof tl->b[0]);
    tl->width *= 2;
    tl->n = (tl->n + 1) / 2;
}

void rs_timeline_add(struct rs_timeline *tl, uint64_t time, uint64_t bytes, uint64_t py_bytes)
{
    while (time / tl->width >= RS_TIMELINE_BUCKETS && tl->width < UINT64_MAX / 4)
        coarsen(tl);
    uint64_t i = time / tl->width;
    if (i >= RS_TIMELINE_BUCKETS)
        i = RS_TIMELINE_BUCKETS - 1;
    struct rs_timeline_bucket *b = &tl->b[i];
    uint64_t native = bytes >= py_bytes ? bytes - py_bytes : 0;
    if (!b->used) {
        b->used = true;
        b->max_bytes = bytes;
        b->max_py = py_bytes;
        b->max_native = native;
    } else {
        b->max_bytes = max64(b->max_bytes, bytes);
        b->max_py = max64(b->max_py, py_bytes);
        b->max_native = max64(b->max_native, native);
    }
    b->end_bytes = bytes;
    b->end_py = py_bytes;
    if (i + 1 > tl->n)
        tl->n = (size_t)i + 1;
    tl->events++;
}
