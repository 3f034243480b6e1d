#include "trace_model.h"

#include <stdlib.h>
#include <string.h>

bool rs_grow(void **array, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t want = *cap ? *cap * 2 : 16;
    if (want < *cap || want > SIZE_MAX / elem)
        return false;
    void *p = realloc(*array, want * elem);
    if (!p)
        return false;
    *array = p;
    *cap = want;
    return true;
}

bool rs_text_set(struct rs_text *dst, const void *bytes, size_t len)
{
    if (len == SIZE_MAX)
        return false;
    char *s = malloc(len + 1);
    if (!s)
        return false;
    if (len)
        memcpy(s, bytes, len);
    s[len] = '\0';
    free(dst->s);
    dst->s = s;
    dst->len = len;
    return true;
}

void rs_text_clear(struct rs_text *t)
{
    free(t->s);
    t->s = NULL;
    t->len = 0;
}

struct rs_trace *rs_trace_new(const char *name)
{
    struct rs_trace *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->name = strdup(name ? name : "");
    if (!t->name) {
        free(t);
        return NULL;
    }
    return t;
}

struct rs_trace_thread *rs_trace_thread_find(const struct rs_trace *t, uint32_t tid)
{
    struct rs_trace_thread *th = NULL;
    HASH_FIND(hh, t->threads, &tid, sizeof tid, th);
    return th;
}

struct rs_trace_thread *rs_trace_thread_get(struct rs_trace *t, uint32_t tid)
{
    struct rs_trace_thread *th = rs_trace_thread_find(t, tid);
    if (th)
        return th;
    th = calloc(1, sizeof *th);
    if (!th)
        return NULL;
    th->tid = tid;
    th->order = t->nthreads++;
    HASH_ADD(hh, t->threads, tid, sizeof th->tid, th);
    return th;
}

const struct rs_trace_stack *rs_trace_stack_find(const struct rs_trace *t, uint32_t id)
{
    struct rs_trace_stack *s = NULL;
    HASH_FIND(hh, t->stacks, &id, sizeof id, s);
    return s;
}

struct rs_trace_thread **rs_trace_threads_sorted(const struct rs_trace *t)
{
    if (!t->nthreads)
        return NULL;
    struct rs_trace_thread **v = calloc(t->nthreads, sizeof *v);
    if (!v)
        return NULL;
    struct rs_trace_thread *th, *tmp;
    HASH_ITER(hh, t->threads, th, tmp) {
        if (th->order < t->nthreads)
            v[th->order] = th;
    }
    return v;
}

void rs_trace_module_map_free(struct rs_trace_module_map *m)
{
    for (size_t i = 0; i < m->nmodules; i++) {
        rs_text_clear(&m->modules[i].path);
        free(m->modules[i].segs);
        free(m->modules[i].build_id);
    }
    free(m->modules);
    free(m);
}

static int by_event_index(const void *key, const void *elem)
{
    size_t i = *(const size_t *)key, j = ((const struct rs_event_extra *)elem)->index;
    return i < j ? -1 : i > j;
}

const struct rs_event_extra *rs_event_extra(const struct rs_trace_thread *th,
                                            const struct rs_trace_event *ev)
{
    size_t i = (size_t)(ev - th->events);
    return th->nextras ? bsearch(&i, th->extras, th->nextras, sizeof *th->extras, by_event_index)
                       : NULL;
}

void rs_trace_drop_events(struct rs_trace *t)
{
    struct rs_trace_thread *th, *tht;
    HASH_ITER(hh, t->threads, th, tht) {
        free(th->events);
        free(th->extras);
        th->events = NULL;
        th->extras = NULL;
        th->nevents = th->cap = th->nextras = th->extras_cap = 0;
    }
    t->events_dropped = true;
}

void rs_trace_free(struct rs_trace *t)
{
    if (!t)
        return;
    struct rs_trace_thread *th, *tht;
    HASH_ITER(hh, t->threads, th, tht) {
        HASH_DEL(t->threads, th);
        rs_text_clear(&th->name);
        rs_text_clear(&th->py_name);
        free(th->events);
        free(th->extras);
        free(th->chunks);
        free(th);
    }
    struct rs_trace_stack *st, *stt;
    HASH_ITER(hh, t->stacks, st, stt) {
        HASH_DEL(t->stacks, st);
        free(st->words);
        free(st);
    }
    struct rs_trace_module_map *m, *mt;
    HASH_ITER(hh, t->module_maps, m, mt) {
        HASH_DEL(t->module_maps, m);
        rs_trace_module_map_free(m);
    }
    t->open_map = NULL;
    rs_trace_python_free(t);
    rs_snapshots_free(t->snapshots);
    t->snapshots = NULL;
    for (size_t i = 0; i < t->nnotes; i++)
        rs_text_clear(&t->notes[i].text);
    free(t->notes);
    for (size_t i = 0; i < t->nmarks; i++)
        rs_text_clear(&t->marks[i].label);
    free(t->marks);
    rs_text_clear(&t->hdr.exe);
    rs_text_clear(&t->hdr.hostname);
    for (size_t i = 0; i < t->hdr.argc; i++)
        rs_text_clear(&t->hdr.argv[i]);
    free(t->hdr.argv);
    free(t->name);
    free(t);
}

_Static_assert(sizeof(struct rs_trace_event) == 24, "an event is 24 bytes (see trace_model.h)");
