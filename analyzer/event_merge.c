#include "event_merge.h"

#include "event_stream.h"

#include <stdlib.h>

struct cursor {
    const struct rs_trace_thread *thread;
    size_t pos;
};

struct rs_merge {
    struct cursor *heap; /* min-heap of threads with events left, by (head time, order) */
    size_t n;
    struct cursor *ties; /* scratch for heads sharing the earliest time */
    rs_merge_prefer_fn prefer;
    void *arg;
    /* A trace without its events in memory is merged from a stream's windows: a thread
     * whose window the last event handed out ended gets its next one at the next call
     * (that event lives in the window until then). */
    struct rs_event_stream *stream;
    const struct rs_trace_thread *used_up;
    struct rs_read_error stream_err;
    bool failed;
};

static const struct rs_trace_event *head(const struct cursor *c)
{
    return &c->thread->events[c->pos];
}

static bool before(const struct cursor *a, const struct cursor *b)
{
    uint64_t ta = head(a)->time, tb = head(b)->time;
    if (ta != tb)
        return ta < tb;
    return a->thread->order < b->thread->order;
}

static void sift_down(struct rs_merge *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < m->n && before(&m->heap[l], &m->heap[best]))
            best = l;
        if (r < m->n && before(&m->heap[r], &m->heap[best]))
            best = r;
        if (best == i)
            return;
        struct cursor t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

static void sift_up(struct rs_merge *m, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&m->heap[i], &m->heap[p]))
            return;
        struct cursor t = m->heap[i];
        m->heap[i] = m->heap[p];
        m->heap[p] = t;
        i = p;
    }
}

static void push(struct rs_merge *m, struct cursor c)
{
    m->heap[m->n++] = c;
    sift_up(m, m->n - 1);
}

static struct cursor pop(struct rs_merge *m)
{
    struct cursor top = m->heap[0];
    m->heap[0] = m->heap[--m->n];
    sift_down(m, 0);
    return top;
}

struct rs_merge *rs_merge_new(const struct rs_trace *t, rs_merge_prefer_fn prefer, void *arg)
{
    struct rs_merge *m = calloc(1, sizeof *m);
    size_t cap = t->nthreads ? t->nthreads : 1;
    if (!m)
        return NULL;
    m->heap = calloc(cap, sizeof *m->heap);
    m->ties = calloc(cap, sizeof *m->ties);
    if (!m->heap || !m->ties) {
        rs_merge_free(m);
        return NULL;
    }
    m->prefer = prefer;
    m->arg = arg;
    if (rs_event_stream_wanted(t)) {
        m->stream = rs_event_stream_open(t, &m->stream_err);
        m->failed = !m->stream;
        for (size_t i = 0; m->stream && i < rs_event_stream_nthreads(m->stream); i++) {
            if (rs_event_stream_next(m->stream, i) && m->n < cap)
                push(m, (struct cursor){rs_event_stream_thread(m->stream, i), 0});
        }
        return m;
    }
    const struct rs_trace_thread *th, *tmp;
    HASH_ITER(hh, t->threads, th, tmp) {
        if (th->nevents && m->n < cap)
            push(m, (struct cursor){th, 0});
    }
    return m;
}

const char *rs_merge_error(const struct rs_merge *m)
{
    if (m->failed)
        return m->stream_err.message;
    const struct rs_read_error *e = m->stream ? rs_event_stream_error(m->stream) : NULL;
    return e ? e->message : NULL;
}

const struct rs_trace_event *rs_merge_next(struct rs_merge *m,
                                           const struct rs_trace_thread **thread)
{
    if (m->used_up) {
        size_t order = m->used_up->order;
        m->used_up = NULL;
        if (rs_event_stream_next(m->stream, order))
            push(m, (struct cursor){rs_event_stream_thread(m->stream, order), 0});
        else if (rs_event_stream_error(m->stream))
            m->n = 0; /* the caller learns why from rs_merge_error */
    }
    if (m->n == 0)
        return NULL;
    struct cursor pick = pop(m);
    if (m->n && head(&m->heap[0])->time == head(&pick)->time && m->prefer) {
        /* Several threads at the same instant: gather them (in thread order, as the heap
         * yields them) and take the first whose event fits the state. */
        size_t nt = 0;
        m->ties[nt++] = pick;
        while (m->n && head(&m->heap[0])->time == head(&pick)->time)
            m->ties[nt++] = pop(m);
        size_t chosen = 0;
        for (size_t i = 0; i < nt; i++) {
            if (m->prefer(head(&m->ties[i]), m->ties[i].thread, m->arg)) {
                chosen = i;
                break;
            }
        }
        pick = m->ties[chosen];
        for (size_t i = 0; i < nt; i++) {
            if (i != chosen)
                push(m, m->ties[i]);
        }
    }
    const struct rs_trace_event *ev = head(&pick);
    if (thread)
        *thread = pick.thread;
    if (++pick.pos < pick.thread->nevents)
        push(m, pick);
    else if (m->stream)
        m->used_up = pick.thread;
    return ev;
}

void rs_merge_free(struct rs_merge *m)
{
    if (!m)
        return;
    rs_event_stream_close(m->stream);
    free(m->heap);
    free(m->ties);
    free(m);
}
