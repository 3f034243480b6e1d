#include "replay.h"

#include "event_merge.h"
#include "live_set.h"

#include <stdlib.h>
#include <string.h>

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t sample_count(uint64_t size, uint64_t weight)
{
    if (size == 0)
        return 1;
    uint64_t q = weight / size, r = weight % size;
    if (r >= size - r) /* r >= size / 2, rounding half up, without overflow */
        q++;
    return q ? q : 1;
}

/* Which of several events at the same instant fits the state and should go first. */
static bool prefer(const struct rs_trace_event *ev, void *arg)
{
    const struct rs_live_set *live = arg;
    switch (ev->type) {
    case RS_EVENT_FREE:
        return rs_live_find(live, ev->addr) != NULL;
    case RS_EVENT_MUNMAP:
        return rs_live_overlaps_mmap(live, ev->addr, ev->size);
    default:
        return rs_live_find(live, ev->addr) == NULL;
    }
}

/* Applies one event. Returns false when out of memory. */
static bool apply(struct rs_live_set *live, const struct rs_trace_event *ev, struct rs_replay *r)
{
    r->events++;
    switch (ev->type) {
    case RS_EVENT_ALLOC:
    case RS_EVENT_SAMPLED_ALLOC: {
        struct rs_live_block b = {
            .addr = ev->addr,
            .size = ev->size,
            .bytes = ev->size,
            .count = 1,
            .time = ev->time,
            .stack_id = ev->stack_id,
            .kind = ev->kind,
        };
        r->alloc_records++;
        if (ev->type == RS_EVENT_SAMPLED_ALLOC) {
            r->sampled_records++;
            b.bytes = ev->weight;
            b.count = sample_count(ev->size, ev->weight);
        }
        /* A new mapping replaces whatever was mapped in its range (MAP_FIXED). */
        if (ev->kind == RS_ALLOC_MMAP) {
            uint64_t dropped = 0;
            if (!rs_live_unmap(live, ev->addr, ev->size, &dropped))
                return false;
        }
        if (rs_live_find(live, ev->addr))
            r->replaced++;
        if (!rs_live_add(live, &b))
            return false;
        r->allocs = sat_add(r->allocs, b.count);
        r->alloc_bytes = sat_add(r->alloc_bytes, b.bytes);
        break;
    }
    case RS_EVENT_FREE: {
        r->free_records++;
        if (ev->addr == 0) /* free(NULL) does nothing */
            break;
        struct rs_live_block *b = rs_live_find(live, ev->addr);
        if (b) {
            r->frees = sat_add(r->frees, b->count);
            r->freed_bytes = sat_add(r->freed_bytes, b->bytes);
            rs_live_remove(live, b);
        } else {
            r->frees = sat_add(r->frees, 1);
            r->frees_unknown++;
        }
        break;
    }
    case RS_EVENT_MUNMAP: {
        r->munmap_records++;
        uint64_t released = 0;
        if (!rs_live_unmap(live, ev->addr, ev->size, &released))
            return false;
        r->unmapped_bytes = sat_add(r->unmapped_bytes, released);
        break;
    }
    }
    return true;
}

struct group {
    uint32_t stack_id;
    struct rs_stack_total total;
    UT_hash_handle hh;
};

static int by_size_desc(const void *a, const void *b)
{
    const struct rs_stack_total *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks)
        return x->blocks > y->blocks ? -1 : 1;
    return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

static int group_by_stack(const struct rs_live_set *live, struct rs_stack_total **out, size_t *n)
{
    struct group *groups = NULL, *g, *tmp;
    size_t count = 0;
    int rc = 0;
    for (const struct rs_live_block *b = live->by_addr; b; b = b->hh.next) {
        HASH_FIND(hh, groups, &b->stack_id, sizeof b->stack_id, g);
        if (!g) {
            g = calloc(1, sizeof *g);
            if (!g) {
                rc = -1;
                goto done;
            }
            g->stack_id = b->stack_id;
            g->total.stack_id = b->stack_id;
            HASH_ADD(hh, groups, stack_id, sizeof g->stack_id, g);
            count++;
        }
        g->total.blocks = sat_add(g->total.blocks, b->count);
        g->total.bytes = sat_add(g->total.bytes, b->bytes);
    }
    *out = calloc(count ? count : 1, sizeof **out);
    if (!*out) {
        rc = -1;
        goto done;
    }
    size_t i = 0;
    HASH_ITER(hh, groups, g, tmp) (*out)[i++] = g->total;
    qsort(*out, count, sizeof **out, by_size_desc);
    *n = count;
done:
    HASH_ITER(hh, groups, g, tmp) {
        HASH_DEL(groups, g);
        free(g);
    }
    return rc;
}

/* Replays the first `limit` events (all when limit is UINT64_MAX). */
static int replay_pass(const struct rs_trace *t, struct rs_live_set *live, struct rs_replay *r,
                       uint64_t limit)
{
    struct rs_merge *m = rs_merge_new(t, prefer, live);
    if (!m)
        return -1;
    const struct rs_trace_event *ev;
    int rc = 0;
    while (r->events < limit && (ev = rs_merge_next(m, NULL))) {
        if (r->events == 0)
            r->first_time = ev->time;
        if (ev->time > r->last_time)
            r->last_time = ev->time;
        if (!apply(live, ev, r)) {
            rc = -1;
            break;
        }
        if (live->bytes > r->peak_bytes) {
            r->peak_bytes = live->bytes;
            r->peak_blocks = live->blocks;
            r->peak_time = ev->time;
            r->peak_event = r->events;
        }
    }
    rs_merge_free(m);
    return rc;
}

int rs_replay_run(const struct rs_trace *t, struct rs_replay *out)
{
    memset(out, 0, sizeof *out);
    struct rs_live_set live = {0};
    int rc = replay_pass(t, &live, out, UINT64_MAX);
    if (rc == 0) {
        out->live_blocks = live.blocks;
        out->live_bytes = live.bytes;
        rc = group_by_stack(&live, &out->leaks, &out->nleaks);
    }
    rs_live_clear(&live);
    if (rc == 0) {
        /* Again up to the peak: the merge order is deterministic, so the same events lead
         * to the same live set, which is cheaper than copying it at every new peak. */
        struct rs_replay again = {0};
        rc = replay_pass(t, &live, &again, out->peak_event);
        if (rc == 0)
            rc = group_by_stack(&live, &out->at_peak, &out->nat_peak);
        rs_live_clear(&live);
    }
    if (rc != 0)
        rs_replay_free(out);
    return rc;
}

void rs_replay_free(struct rs_replay *r)
{
    free(r->leaks);
    free(r->at_peak);
    r->leaks = r->at_peak = NULL;
    r->nleaks = r->nat_peak = 0;
}
