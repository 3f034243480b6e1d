#include "replay.h"

#include "event_merge.h"
#include "live_groups.h"
#include "live_set.h"
#include "rs_uthash.h"
#include "timeline.h"

#include <stdio.h>
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

struct activity {
    uint32_t tid;
    struct rs_thread_activity a;
    UT_hash_handle hh;
};

/* Replay state beyond the live set. */
struct pass {
    struct rs_live_set live;
    struct rs_live_groups *groups;
    struct activity *threads;
    struct activity *last_thread; /* of the last event: most events follow one of their own */
    bool has_mark;                /* a program-end mark to stop at */
    uint64_t mark_time;
    bool mark_taken;
    bool has_since;               /* blocks allocated before since_time are marked */
    uint64_t since_time;
    struct rs_timeline *timeline; /* may be NULL */
};

static void account(void *arg, const struct rs_live_block *b, bool in)
{
    rs_live_groups_count(arg, b->group, b->count, b->bytes, in);
}

static struct rs_thread_activity *activity_of(struct pass *p, uint32_t tid)
{
    struct activity *a = p->last_thread;
    if (a && a->tid == tid)
        return &a->a;
    HASH_FIND(hh, p->threads, &tid, sizeof tid, a);
    if (a) {
        p->last_thread = a;
        return &a->a;
    }
    if (!(a = calloc(1, sizeof *a)))
        return NULL;
    a->tid = tid;
    a->a.tid = tid;
    HASH_ADD(hh, p->threads, tid, sizeof a->tid, a);
    p->last_thread = a;
    return &a->a;
}

/* Applies one event of thread `th`. Returns false when out of memory. */
static bool apply(struct pass *p, const struct rs_trace_event *ev,
                  const struct rs_trace_thread *th, struct rs_replay *r)
{
    uint32_t tid = th->tid;
    struct rs_live_set *live = &p->live;
    struct rs_thread_activity *act = activity_of(p, tid);
    if (!act)
        return false;
    r->events++;
    act->events++;
    enum rs_event_type type = rs_ev_type(ev);
    switch (type) {
    case RS_EVENT_ALLOC:
    case RS_EVENT_SAMPLED_ALLOC: {
        struct rs_live_block b = rs_live_block_of(ev, th);
        uint64_t size = b.bytes;
        struct rs_group_key key = {.stack_id = ev->stack_id, .tid = tid};
        key.after_mark = p->has_mark && ev->time > p->mark_time;
        if (key.stack_id == RS_STACK_ID_NONE && key.after_mark)
            key.flags = RS_GROUP_AFTER_PROGRAM_END;
        if (p->has_since && ev->time < p->since_time)
            key.flags |= RS_GROUP_BEFORE_SINCE;
        if ((b.group = rs_live_groups_index(p->groups, &key)) == UINT32_MAX)
            return false;
        r->alloc_records++;
        if (type == RS_EVENT_SAMPLED_ALLOC) {
            r->sampled_records++;
            uint64_t weight = rs_event_weight(th, ev);
            b.bytes = weight;
            uint64_t count = sample_count(size, weight);
            b.count = count < UINT32_MAX ? (uint32_t)count : UINT32_MAX;
        }
        /* A new mapping replaces whatever was mapped in its range (MAP_FIXED). */
        if (b.kind == RS_ALLOC_MMAP) {
            uint64_t dropped = 0;
            if (!rs_live_unmap(live, ev->addr, size, &dropped))
                return false;
        }
        bool replaced;
        if (!rs_live_add(live, &b, size, &replaced))
            return false;
        if (replaced)
            r->replaced++;
        r->allocs = sat_add(r->allocs, b.count);
        r->alloc_bytes = sat_add(r->alloc_bytes, b.bytes);
        act->allocs = sat_add(act->allocs, b.count);
        act->alloc_bytes = sat_add(act->alloc_bytes, b.bytes);
        break;
    }
    case RS_EVENT_FREE: {
        r->free_records++;
        if (ev->addr == 0) /* free(NULL) does nothing */
            break;
        struct rs_live_block b;
        uint64_t count = 1, bytes = 0;
        if (rs_live_take(live, ev->addr, &b)) {
            count = b.count;
            bytes = b.bytes;
            r->freed_bytes = sat_add(r->freed_bytes, b.bytes);
        } else {
            r->frees_unknown++;
        }
        r->frees = sat_add(r->frees, count);
        act->frees = sat_add(act->frees, count);
        act->freed_bytes = sat_add(act->freed_bytes, bytes);
        break;
    }
    case RS_EVENT_MUNMAP: {
        r->munmap_records++;
        uint64_t released = 0;
        if (!rs_live_unmap(live, ev->addr, rs_ev_size(th, ev), &released))
            return false;
        r->unmapped_bytes = sat_add(r->unmapped_bytes, released);
        break;
    }
    }
    return true;
}

static int by_size_desc(const void *a, const void *b)
{
    const struct rs_stack_total *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks)
        return x->blocks > y->blocks ? -1 : 1;
    if (x->stack_id != y->stack_id)
        return x->stack_id < y->stack_id ? -1 : 1;
    return x->flags < y->flags ? -1 : x->flags > y->flags;
}

/* A point's groups merged over threads: by stack, largest first. */
static int totals_by_stack(const struct rs_live_point *pt, struct rs_stack_total **out,
                           size_t *n)
{
    *out = calloc(pt->ngroups ? pt->ngroups : 1, sizeof **out);
    if (!*out)
        return -1;
    size_t count = 0;
    for (size_t i = 0; i < pt->ngroups; i++) { /* sorted by stack id first */
        const struct rs_live_group *g = &pt->groups[i];
        struct rs_stack_total *last = count ? &(*out)[count - 1] : NULL;
        if (!last || last->stack_id != g->stack_id || last->flags != g->flags) {
            /* a stack's groups of other flags may sit between: look back for them */
            last = NULL;
            for (size_t k = count; k-- > 0 && (*out)[k].stack_id == g->stack_id;) {
                if ((*out)[k].flags == g->flags) {
                    last = &(*out)[k];
                    break;
                }
            }
        }
        if (!last) {
            last = &(*out)[count++];
            *last = (struct rs_stack_total){.stack_id = g->stack_id, .flags = g->flags};
        }
        last->blocks = sat_add(last->blocks, g->blocks);
        last->bytes = sat_add(last->bytes, g->bytes);
    }
    qsort(*out, count, sizeof **out, by_size_desc);
    *n = count;
    return 0;
}

static int replay_pass(const struct rs_trace *t, struct pass *p, struct rs_replay *r)
{
    if (!rs_live_reserve(&p->live, t->peak_live_estimate))
        return -1;
    struct rs_merge *m = rs_merge_new(t, rs_live_prefer, &p->live);
    if (!m)
        return -1;
    const struct rs_trace_event *ev;
    const struct rs_trace_thread *th = NULL;
    int rc = 0;
    while ((ev = rs_merge_next(m, &th))) {
        const struct rs_trace_event *ahead = rs_merge_ahead(th, ev);
        if (ahead)
            rs_live_prefetch(&p->live, ahead->addr);
        if (p->has_mark && !p->mark_taken && ev->time > p->mark_time) {
            p->mark_taken = true;
            if (rs_live_groups_point(p->groups, false, false, p->mark_time, &r->program_end)) {
                rc = -1;
                break;
            }
        }
        if (r->events == 0)
            r->first_time = ev->time;
        if (ev->time > r->last_time)
            r->last_time = ev->time;
        if (!apply(p, ev, th, r)) {
            rc = -1;
            break;
        }
        if (p->timeline)
            rs_timeline_add(p->timeline, ev->time, p->live.bytes, p->live.py_bytes);
        if (p->live.bytes > r->peak_bytes) {
            r->peak_bytes = p->live.bytes;
            r->peak_blocks = p->live.blocks;
            r->peak_time = ev->time;
            r->peak_event = r->events;
            rs_live_groups_peak(p->groups);
        }
    }
    const char *why = rs_merge_error(m);
    if (rc == 0 && why) {
        snprintf(r->read_error, sizeof r->read_error, "%s", why);
        rc = -2;
    }
    rs_merge_free(m);
    return rc;
}

static void free_activity(struct pass *p)
{
    struct activity *a, *tmp;
    HASH_ITER(hh, p->threads, a, tmp) {
        HASH_DEL(p->threads, a);
        free(a);
    }
    p->last_thread = NULL;
}

static int by_tid(const void *a, const void *b)
{
    const struct rs_thread_activity *x = a, *y = b;
    return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int collect_activity(struct pass *p, struct rs_replay *r)
{
    size_t n = HASH_CNT(hh, p->threads);
    r->threads = calloc(n ? n : 1, sizeof *r->threads);
    if (!r->threads)
        return -1;
    struct activity *a, *tmp;
    HASH_ITER(hh, p->threads, a, tmp) r->threads[r->nthreads++] = a->a;
    qsort(r->threads, r->nthreads, sizeof *r->threads, by_tid);
    return 0;
}

/* The last program-end mark, by time (the later in the file on a tie). */
static bool find_program_end(const struct rs_trace *t, size_t *index)
{
    bool found = false;
    for (size_t i = 0; i < t->nmarks; i++) {
        if (t->marks[i].kind != RS_MARK_PROGRAM_END)
            continue;
        if (!found || t->marks[i].time >= t->marks[*index].time)
            *index = i;
        found = true;
    }
    return found;
}

int rs_replay_run(const struct rs_trace *t, struct rs_replay *out)
{
    return rs_replay_run_timeline(t, out, NULL, NULL);
}

int rs_replay_run_timeline(const struct rs_trace *t, struct rs_replay *out,
                           struct rs_timeline *timeline, const uint64_t *since)
{
    memset(out, 0, sizeof *out);
    struct pass p = {.timeline = timeline, .has_since = since != NULL,
                     .since_time = since ? *since : 0};
    if (!(p.groups = rs_live_groups_new()))
        return -1;
    p.live.account = account;
    p.live.account_arg = p.groups;
    out->has_program_end = find_program_end(t, &out->program_end_mark);
    if (out->has_program_end) {
        p.has_mark = true;
        p.mark_time = t->marks[out->program_end_mark].time;
    }
    int rc = replay_pass(t, &p, out);
    /* The table of live blocks is the replay's largest thing, and the groups have what
     * the points below need: freed now, while the report's snapshot analysis may still
     * be reaching its own peak beside it. */
    uint64_t live_blocks = p.live.blocks, live_bytes = p.live.bytes;
    rs_live_clear(&p.live);
    if (rc == 0 && p.has_mark && !p.mark_taken) { /* no event after the mark */
        p.mark_taken = true;
        rc = rs_live_groups_point(p.groups, false, false, p.mark_time, &out->program_end);
    }
    if (rc == 0) {
        out->live_blocks = live_blocks;
        out->live_bytes = live_bytes;
        rc = rs_live_groups_point(p.groups, false, false, out->last_time, &out->end);
    }
    if (rc == 0)
        rc = totals_by_stack(&out->end, &out->leaks, &out->nleaks);
    if (rc == 0)
        rc = collect_activity(&p, out);
    /* Of the blocks live at the mark, those still live: allocated before it, live now. */
    if (rc == 0 && out->has_program_end)
        rc = rs_live_groups_point(p.groups, false, true, out->last_time, &out->survivors);
    if (rc == 0 && out->has_program_end) {
        const struct rs_live_point *pe = &out->program_end, *sv = &out->survivors;
        out->teardown_freed_blocks = pe->blocks > sv->blocks ? pe->blocks - sv->blocks : 0;
        out->teardown_freed_bytes = pe->bytes > sv->bytes ? pe->bytes - sv->bytes : 0;
    }
    if (rc == 0)
        rc = rs_live_groups_point(p.groups, true, false, out->peak_time, &out->peak);
    if (rc == 0)
        rc = totals_by_stack(&out->peak, &out->at_peak, &out->nat_peak);
    free_activity(&p);
    rs_live_groups_free(p.groups);
    if (rc != 0)
        rs_replay_free(out);
    return rc;
}

static void free_point(struct rs_live_point *pt)
{
    free(pt->groups);
    memset(pt, 0, sizeof *pt);
}

void rs_replay_free(struct rs_replay *r)
{
    free(r->leaks);
    free(r->at_peak);
    r->leaks = r->at_peak = NULL;
    r->nleaks = r->nat_peak = 0;
    free_point(&r->end);
    free_point(&r->peak);
    free_point(&r->program_end);
    free_point(&r->survivors);
    free(r->threads);
    r->threads = NULL;
    r->nthreads = 0;
}

const struct rs_thread_activity *rs_replay_thread(const struct rs_replay *r, uint32_t tid)
{
    size_t lo = 0, hi = r->nthreads;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->threads[mid].tid == tid)
            return &r->threads[mid];
        if (r->threads[mid].tid < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
