#include "trace_records.h"

#include "trace_records_py.h"
#include "snap_records.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CORRUPT(reason)          \
    do {                         \
        *why = (reason);         \
        return RS_REC_CORRUPT;   \
    } while (0)

/* ---- events -------------------------------------------------------------------------- */

/* live_change: +1 for an allocation, -1 for a free, 0 for a munmap (event_shape). */
static void tally_event(struct rs_event_tally *c, int live_change)
{
    c->nevents++;
    c->live += live_change;
    if (c->live > 0 && (uint64_t)c->live > c->peak)
        c->peak = (uint64_t)c->live;
}

static struct rs_event_tally tally_of(const struct rs_trace *t)
{
    return (struct rs_event_tally){t->nevents, t->live_in_file_order, t->peak_live_estimate};
}

static void set_tally(struct rs_trace *t, const struct rs_event_tally *c)
{
    t->nevents = c->nevents;
    t->live_in_file_order = c->live;
    t->peak_live_estimate = c->peak;
}

static void count_in_file(struct rs_trace *t, int live_change)
{
    struct rs_event_tally c = tally_of(t);
    tally_event(&c, live_change);
    set_tally(t, &c);
}

void rs_trace_add_tally(struct rs_trace *t, const struct rs_event_tally *c)
{
    t->nevents += c->nevents;
    int64_t top = t->live_in_file_order + (int64_t)c->peak;
    if (top > 0 && (uint64_t)top > t->peak_live_estimate)
        t->peak_live_estimate = (uint64_t)top;
    t->live_in_file_order += c->live;
}

/* The varints after the tag of each event record (0: not an event tag), and what it does to
 * the count of live blocks. */
static const struct {
    uint8_t varints;
    int8_t live_change;
} event_shape[RS_TAG_LENGTH_PREFIXED] = {
    [RS_TAG_ALLOC...(RS_TAG_ALLOC + RS_ALLOC_KIND_COUNT - 1)] = {4, 1},      /* dt da size stack */
    [RS_TAG_SAMPLED_ALLOC...(RS_TAG_SAMPLED_ALLOC + RS_ALLOC_KIND_COUNT - 1)] = {5, 1}, /* +weight */
    [RS_TAG_FREE...(RS_TAG_FREE + RS_FREE_KIND_COUNT - 1)] = {2, -1},        /* dt da */
    [RS_TAG_MUNMAP] = {3, 0},                                                 /* dt da length */
};

/* Bit i set: byte i of the 16 at p has its top bit clear (a tag, or a varint's last byte). */
static inline uint32_t ends_in_16(const uint8_t *p)
{
#ifdef __SSE2__
    return ~(uint32_t)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)p)) &
           0xFFFF;
#else
    uint32_t ends = 0;
    for (unsigned i = 0; i < 16; i++)
        ends |= (uint32_t)(p[i] < 0x80) << i;
    return ends;
#endif
}

/* Steps over the event records from p on that end within 16 bytes of their start, with 16
 * bytes to read there, and counts them; stops at any other record, to be stepped over a
 * byte at a time (or found corrupt) by rs_count_events. There each varint's length is a
 * loop's branch; here a record's end is found from the top bits of its bytes at once
 * (callgrind, 4.07M events: 79 -> 42 instructions an event). */
static const uint8_t *count_short_events(struct rs_event_tally *c, const uint8_t *p,
                                         const uint8_t *end)
{
    uint64_t nevents = c->nevents;
    int64_t live = c->live, peak = (int64_t)c->peak;
    while (end - p >= 16 && *p < RS_TAG_LENGTH_PREFIXED && event_shape[*p].varints) {
        unsigned n = event_shape[*p].varints;
        uint32_t ends = ends_in_16(p) & ~UINT32_C(1); /* the varints' last bytes */
        for (unsigned i = 1; i < n; i++)              /* the n-th of them ends the record */
            ends &= ends - 1;
        if (!ends)
            break;
        unsigned last = (unsigned)__builtin_ctz(ends);
        /* A varint is 10 bytes at most: a run of 10 continuation bytes in the record is
         * corrupt (the byte-wise walk says where). Only a record of 13 bytes or more (the
         * tag, 11 bytes of one varint, one of another) can hold one. */
        if (last >= 12) {
            uint32_t more = ~ends_in_16(p) & ((UINT32_C(2) << last) - 1);
            more &= more >> 1;
            more &= more >> 2;
            more &= more >> 4;
            if (more & more >> 2)
                break;
        }
        live += event_shape[*p].live_change;
        peak = live > peak ? live : peak;
        nevents++;
        p += last + 1;
    }
    c->nevents = nevents;
    c->peak = (uint64_t)peak;
    c->live = live;
    return p;
}

int rs_count_events(struct rs_trace *t, const uint8_t **at, const uint8_t *end, const char **why)
{
    struct rs_event_tally c = tally_of(t);
    int rc = rs_count_events_into(&c, at, end, why);
    set_tally(t, &c);
    return rc;
}

int rs_count_events_into(struct rs_event_tally *c, const uint8_t **at, const uint8_t *end,
                         const char **why)
{
    const uint8_t *p = *at;
    while ((p = count_short_events(c, p, end)) < end && *p < RS_TAG_LENGTH_PREFIXED &&
           event_shape[*p].varints) {
        const uint8_t *rec = p;
        unsigned n = event_shape[*p].varints;
        p++;
        for (unsigned i = 0; i < n; i++) {
            const uint8_t *stop = end - p > 10 ? p + 10 : end;
            while (p < stop && (*p & 0x80))
                p++;
            if (p == stop) {
                *at = rec;
                CORRUPT("event record cut short");
            }
            p++;
        }
        tally_event(c, event_shape[*rec].live_change);
    }
    *at = p;
    return RS_REC_OK;
}

/* Whether an event dt after `time` keeps the time below the reader's limit (2^56 ns). */
static inline bool time_step_ok(uint64_t time, uint64_t dt)
{
    return time + dt >= time && time + dt < RS_EV_TIME_LIMIT;
}

static int event_common(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                        const char **why, struct rs_trace_event **out)
{
    uint64_t dt, da;
    if (!rs_cur_varint(c, &dt) || !rs_cur_varint(c, &da))
        CORRUPT("event record cut short");
    if (!time_step_ok(ctx->time, dt))
        CORRUPT("event time overflows (over 2^56 ns)");
    ctx->time += dt;
    ctx->addr += (uint64_t)rs_unzigzag(da);

    struct rs_trace_thread *th = ctx->thread;
    if (!rs_grow((void **)&th->events, &th->cap, th->nevents, sizeof *th->events))
        return RS_REC_NOMEM;
    struct rs_trace_event *ev = &th->events[th->nevents];
    memset(ev, 0, sizeof *ev);
    ev->time = ctx->time;
    ev->addr = ctx->addr;
    ev->tag = tag;
    *out = ev;
    return RS_REC_OK;
}

/* The event is only counted once fully decoded, so a failure leaves no half event. */
static void event_commit(struct rs_chunk_ctx *ctx, uint8_t tag)
{
    ctx->thread->nevents++;
    count_in_file(ctx->trace, event_shape[tag].live_change);
}

/* The size (and weight) of the event being decoded, at index nevents: in the event when
 * it fits, else beside it. */
static bool set_size(struct rs_chunk_ctx *ctx, struct rs_trace_event *ev, uint64_t size,
                     bool sampled, uint64_t weight)
{
    if (size < RS_EV_SIZE_BEYOND && !sampled) {
        ev->size32 = (uint32_t)size;
        return true;
    }
    ev->size32 = size < RS_EV_SIZE_BEYOND ? (uint32_t)size : RS_EV_SIZE_BEYOND;
    struct rs_trace_thread *th = ctx->thread;
    if (!rs_grow((void **)&th->extras, &th->extras_cap, th->nextras, sizeof *th->extras))
        return false;
    th->extras[th->nextras++] = (struct rs_event_extra){th->nevents, size, weight};
    return true;
}

static int decode_alloc(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                        const char **why)
{
    struct rs_trace_event *ev;
    int r = event_common(ctx, tag, c, why, &ev);
    if (r)
        return r;
    uint64_t size, weight = 0;
    if (!rs_cur_varint(c, &size) || !rs_cur_u32(c, &ev->stack_id))
        CORRUPT("allocation record cut short");
    bool sampled = rs_ev_type(ev) == RS_EVENT_SAMPLED_ALLOC;
    if (sampled && !rs_cur_varint(c, &weight))
        CORRUPT("sampled allocation record cut short");
    if (!set_size(ctx, ev, size, sampled, weight))
        return RS_REC_NOMEM;
    event_commit(ctx, tag);
    return RS_REC_OK;
}

static int decode_free(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                       const char **why)
{
    struct rs_trace_event *ev;
    int r = event_common(ctx, tag, c, why, &ev);
    if (r)
        return r;
    event_commit(ctx, tag);
    return RS_REC_OK;
}

static int decode_munmap(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                         const char **why)
{
    struct rs_trace_event *ev;
    int r = event_common(ctx, tag, c, why, &ev);
    if (r)
        return r;
    uint64_t size;
    if (!rs_cur_varint(c, &size))
        CORRUPT("munmap record cut short");
    if (!set_size(ctx, ev, size, false, 0))
        return RS_REC_NOMEM;
    event_commit(ctx, tag);
    return RS_REC_OK;
}

/* ---- runs of common events ----------------------------------------------------------- */

/* What the run decoder takes: allocations (4 varints in event_shape) and frees (2) of every
 * kind the general decoders know, nothing else. */
#define RUN_ALLOC_VARINTS 4
#define RUN_FREE_VARINTS 2

/* Events decoded between two checks for room in the thread's array. */
#define RUN_BATCH 64
/* The longest record the run decoder takes: a tag and four varints of 9 bytes at most.
 * Closer than that to the chunk's end, records go to the general decoders, which check
 * every byte against the end. */
#define RUN_RECORD_MAX (1 + RUN_ALLOC_VARINTS * 9)

/* A varint of at most 9 bytes (below 2^63: every value these records hold in a trace
 * that is not damaged); false for a longer one, which the general decoder judges. The
 * caller has checked that 9 bytes are there. */
static inline bool run_varint(const uint8_t **p, uint64_t *v)
{
    const uint8_t *q = *p;
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 63; shift += 7) {
        uint8_t b = *q++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            *p = q;
            return true;
        }
    }
    return false;
}

static bool reserve_events(struct rs_trace_thread *th, size_t room)
{
    while (th->cap - th->nevents < room) {
        if (!rs_grow((void **)&th->events, &th->cap, th->cap, sizeof *th->events))
            return false;
    }
    return true;
}

void rs_decode_event_run(struct rs_chunk_ctx *ctx, struct rs_cursor *c)
{
    struct rs_trace_thread *th = ctx->thread;
    const uint8_t *p = c->p, *end = c->end;
    uint64_t time = ctx->time, addr = ctx->addr;
    struct rs_event_tally tally = tally_of(ctx->trace);
    while (end - p >= RUN_RECORD_MAX && reserve_events(th, RUN_BATCH)) {
        struct rs_trace_event *ev = &th->events[th->nevents], *batch_end = ev + RUN_BATCH;
        for (; ev < batch_end && end - p >= RUN_RECORD_MAX; ev++) {
            uint8_t tag = *p;
            unsigned varints = tag < RS_TAG_LENGTH_PREFIXED ? event_shape[tag].varints : 0;
            const uint8_t *q = p + 1;
            uint64_t dt, da, size = 0, stack = 0;
            if ((varints != RUN_ALLOC_VARINTS && varints != RUN_FREE_VARINTS) ||
                !run_varint(&q, &dt) || !run_varint(&q, &da) || !time_step_ok(time, dt))
                goto out;
            if (varints == RUN_ALLOC_VARINTS &&
                (!run_varint(&q, &size) || !run_varint(&q, &stack) || size >= RS_EV_SIZE_BEYOND ||
                 stack > UINT32_MAX))
                goto out;
            time += dt;
            addr += (uint64_t)rs_unzigzag(da);
            ev->time = time;
            ev->tag = tag;
            ev->addr = addr;
            ev->size32 = (uint32_t)size;
            ev->stack_id = (uint32_t)stack;
            th->nevents++;
            tally_event(&tally, event_shape[tag].live_change);
            p = q;
        }
    }
out:
    ctx->time = time;
    ctx->addr = addr;
    c->p = p;
    set_tally(ctx->trace, &tally);
}

/* ---- metadata ------------------------------------------------------------------------ */

/* A stack record gives the stack's own inner frames, then takes its outermost `shared`
 * words from an earlier stack (trace-format.md, "stack records"). */
static int decode_stack(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                        const char **why)
{
    (void)tag;
    uint32_t id, base_id;
    uint64_t shared, nframes;
    if (!rs_cur_u32(c, &id) || !rs_cur_u32(c, &base_id) || !rs_cur_varint(c, &shared) ||
        !rs_cur_varint(c, &nframes))
        CORRUPT("stack record cut short");
    if (id == RS_STACK_ID_NONE)
        CORRUPT("stack record with the reserved id 0");
    /* Each frame takes at least one byte: a count larger than the body is a lie. */
    if (nframes > RS_STACK_MAX_WORDS || nframes > rs_cur_left(c) || shared > RS_STACK_MAX_WORDS)
        CORRUPT("stack record with an impossible frame count");
    const struct rs_trace_stack *base = NULL;
    if (base_id != RS_STACK_ID_NONE) {
        HASH_FIND(hh, ctx->trace->stacks, &base_id, sizeof base_id, base);
        if (!base || base_id == id)
            CORRUPT("stack record built on a stack not defined before it");
        if (shared > base->nwords)
            CORRUPT("stack record sharing more frames than its base has");
    } else if (shared) {
        CORRUPT("stack record sharing frames without a base");
    }
    uint64_t *words = malloc((2 * nframes + shared + 1) * sizeof *words);
    if (!words)
        return RS_REC_NOMEM;
    uint64_t n = 0, prev_ip = 0;
    for (uint64_t i = 0; i < nframes; i++) {
        uint64_t v, off;
        if (!rs_cur_varint(c, &v)) {
            free(words);
            CORRUPT("stack record cut short");
        }
        if (v & 1) {
            if (!rs_cur_varint(c, &off)) {
                free(words);
                CORRUPT("stack record cut short");
            }
            if ((v >> 1) >= RS_PYOFFSET_ENTRY) {
                free(words);
                CORRUPT("bad Python frame in a stack record");
            }
            words[n++] = RS_STACKWORD_PY | (v >> 1);
            words[n++] = ((off >> 1) & 0xffffffffu) | ((off & 1) ? RS_PYOFFSET_ENTRY : 0);
        } else {
            prev_ip += (uint64_t)rs_unzigzag(v >> 1);
            words[n++] = prev_ip;
        }
    }
    if (shared)
        memcpy(words + n, base->words + (base->nwords - shared), shared * sizeof *words);
    n += shared;
    if (n > RS_STACK_MAX_WORDS) {
        free(words);
        CORRUPT("stack record longer than the format allows");
    }
    struct rs_trace_stack *s = NULL;
    HASH_FIND(hh, ctx->trace->stacks, &id, sizeof id, s);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) {
            free(words);
            return RS_REC_NOMEM;
        }
        s->id = id;
        HASH_ADD(hh, ctx->trace->stacks, id, sizeof s->id, s);
    }
    free(s->words);
    s->words = words;
    s->nwords = (uint32_t)n;
    return RS_REC_OK;
}

static int decode_thread(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                         const char **why)
{
    (void)tag;
    uint32_t tid, flags;
    const uint8_t *name;
    size_t len;
    if (!rs_cur_u32(c, &tid) || !rs_cur_u32(c, &flags) || !rs_cur_bytes(c, &name, &len))
        CORRUPT("thread record cut short");
    if (tid == RS_CHUNK_TID_META)
        CORRUPT("thread record for tid 0");
    struct rs_trace_thread *th = rs_trace_thread_get(ctx->trace, tid);
    if (!th)
        return RS_REC_NOMEM;
    if (flags & RS_THREAD_PYTHON_NAME) {
        /* Python's name for the thread: kept beside the OS name, and the flags the OS
         * records gave (main, exited) stay. */
        if (!rs_text_set(&th->py_name, name, len))
            return RS_REC_NOMEM;
        th->has_py_name = true;
        th->flags |= flags;
    } else {
        if (!rs_text_set(&th->name, name, len))
            return RS_REC_NOMEM;
        th->flags = flags | (th->flags & RS_THREAD_PYTHON_NAME);
    }
    th->named = true;
    return RS_REC_OK;
}

static int decode_modules_begin(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                                const char **why)
{
    (void)tag;
    uint64_t gen;
    if (!rs_cur_varint(c, &gen))
        CORRUPT("module map record cut short");
    struct rs_trace *t = ctx->trace;
    struct rs_trace_module_map *m = NULL;
    HASH_FIND(hh, t->module_maps, &gen, sizeof gen, m);
    if (m) { /* the same generation again: the newer content wins */
        HASH_DEL(t->module_maps, m);
        rs_trace_module_map_free(m);
    }
    m = calloc(1, sizeof *m);
    if (!m)
        return RS_REC_NOMEM;
    m->generation = gen;
    HASH_ADD(hh, t->module_maps, generation, sizeof m->generation, m);
    t->open_map = m; /* an unfinished earlier map stays, marked incomplete */
    return RS_REC_OK;
}

static int decode_module(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                         const char **why)
{
    (void)tag;
    struct rs_trace_module_map *m = ctx->trace->open_map;
    if (!m)
        CORRUPT("module record outside a module map");
    const uint8_t *path, *bid;
    size_t path_len, bid_len;
    uint64_t bias, nsegs;
    if (!rs_cur_bytes(c, &path, &path_len) || !rs_cur_varint(c, &bias) ||
        !rs_cur_varint(c, &nsegs))
        CORRUPT("module record cut short");
    if (nsegs > rs_cur_left(c) / 3) /* three varints of at least one byte each */
        CORRUPT("module record with an impossible segment count");
    if (!rs_grow((void **)&m->modules, &m->cap, m->nmodules, sizeof *m->modules))
        return RS_REC_NOMEM;
    struct rs_trace_module mod = {.load_bias = bias};
    mod.segs = calloc(nsegs ? nsegs : 1, sizeof *mod.segs);
    if (!mod.segs)
        return RS_REC_NOMEM;
    for (uint64_t i = 0; i < nsegs; i++) {
        struct rs_trace_segment *s = &mod.segs[i];
        if (!rs_cur_varint(c, &s->vaddr) || !rs_cur_varint(c, &s->memsz) ||
            !rs_cur_u32(c, &s->flags)) {
            free(mod.segs);
            CORRUPT("module record cut short");
        }
    }
    mod.nsegs = (uint32_t)nsegs;
    if (!rs_cur_bytes(c, &bid, &bid_len)) {
        free(mod.segs);
        CORRUPT("module record cut short");
    }
    mod.build_id = malloc(bid_len ? bid_len : 1);
    if (!mod.build_id || !rs_text_set(&mod.path, path, path_len)) {
        free(mod.segs);
        free(mod.build_id);
        return RS_REC_NOMEM;
    }
    if (bid_len)
        memcpy(mod.build_id, bid, bid_len);
    mod.build_id_len = bid_len;
    m->modules[m->nmodules++] = mod;
    return RS_REC_OK;
}

static int decode_modules_end(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                              const char **why)
{
    (void)tag;
    uint64_t gen;
    if (!rs_cur_varint(c, &gen))
        CORRUPT("module map record cut short");
    struct rs_trace_module_map *m = ctx->trace->open_map;
    if (!m || m->generation != gen)
        CORRUPT("module map end without its beginning");
    m->complete = true;
    ctx->trace->open_map = NULL;
    return RS_REC_OK;
}

static int decode_counters(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                           const char **why)
{
    (void)tag;
    uint32_t tid;
    struct rs_trace_counters k;
    if (!rs_cur_u32(c, &tid) || !rs_cur_varint(c, &k.events) || !rs_cur_varint(c, &k.waits) ||
        !rs_cur_varint(c, &k.drops) || !rs_cur_varint(c, &k.wait_ns))
        CORRUPT("counters record cut short");
    if (tid == RS_CHUNK_TID_META)
        CORRUPT("counters record for tid 0");
    struct rs_trace_thread *th = rs_trace_thread_get(ctx->trace, tid);
    if (!th)
        return RS_REC_NOMEM;
    th->counters = k;
    th->has_counters = true;
    return RS_REC_OK;
}

static int decode_end(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                      const char **why)
{
    (void)tag;
    struct rs_trace_end e = {.present = true};
    if (!rs_cur_varint(c, &e.total_events) || !rs_cur_varint(c, &e.total_drops) ||
        !rs_cur_varint(c, &e.total_waits) || !rs_cur_varint(c, &e.end_time) ||
        !rs_cur_varint(c, &e.reason))
        CORRUPT("end record cut short");
    ctx->trace->end = e;
    return RS_REC_OK;
}

static int decode_note(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                       const char **why)
{
    (void)tag;
    struct rs_trace *t = ctx->trace;
    uint64_t level;
    const uint8_t *text;
    size_t len;
    if (!rs_cur_varint(c, &level) || !rs_cur_bytes(c, &text, &len))
        CORRUPT("note record cut short");
    if (!rs_grow((void **)&t->notes, &t->notes_cap, t->nnotes, sizeof *t->notes))
        return RS_REC_NOMEM;
    struct rs_trace_note *n = &t->notes[t->nnotes];
    memset(n, 0, sizeof *n);
    n->level = level;
    if (!rs_text_set(&n->text, text, len))
        return RS_REC_NOMEM;
    t->nnotes++;
    return RS_REC_OK;
}

static int decode_mark(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                       const char **why)
{
    (void)tag;
    struct rs_trace *t = ctx->trace;
    uint64_t time, kind;
    const uint8_t *label;
    size_t len;
    if (!rs_cur_varint(c, &time) || !rs_cur_varint(c, &kind) || !rs_cur_bytes(c, &label, &len))
        CORRUPT("mark record cut short");
    if (!rs_grow((void **)&t->marks, &t->marks_cap, t->nmarks, sizeof *t->marks))
        return RS_REC_NOMEM;
    struct rs_trace_mark *m = &t->marks[t->nmarks];
    memset(m, 0, sizeof *m);
    m->time = time;
    m->kind = kind;
    if (!rs_text_set(&m->label, label, len))
        return RS_REC_NOMEM;
    t->nmarks++;
    return RS_REC_OK;
}

/* ---- the table --------------------------------------------------------------------- */

#define KINDS(base, count) [(base)...((base) + (count)-1)]

static const struct rs_record_handler handlers[256] = {
    KINDS(RS_TAG_ALLOC, RS_ALLOC_KIND_COUNT) = {decode_alloc, RS_REC_IN_THREAD},
    KINDS(RS_TAG_SAMPLED_ALLOC, RS_ALLOC_KIND_COUNT) = {decode_alloc, RS_REC_IN_THREAD},
    KINDS(RS_TAG_FREE, RS_FREE_KIND_COUNT) = {decode_free, RS_REC_IN_THREAD},
    [RS_TAG_MUNMAP] = {decode_munmap, RS_REC_IN_THREAD},

    /* Metadata records are written to the metadata chunk, but nothing in them depends on
     * a chunk's delta state, so they are accepted wherever they appear. */
    [RS_TAG_STACK] = {decode_stack, RS_REC_ANYWHERE},
    [RS_TAG_THREAD] = {decode_thread, RS_REC_ANYWHERE},
    [RS_TAG_MODULES_BEGIN] = {decode_modules_begin, RS_REC_ANYWHERE},
    [RS_TAG_MODULE] = {decode_module, RS_REC_ANYWHERE},
    [RS_TAG_MODULES_END] = {decode_modules_end, RS_REC_ANYWHERE},
    [RS_TAG_COUNTERS] = {decode_counters, RS_REC_ANYWHERE},
    [RS_TAG_END] = {decode_end, RS_REC_ANYWHERE},
    [RS_TAG_NOTE] = {decode_note, RS_REC_ANYWHERE},
    [RS_TAG_MARK] = {decode_mark, RS_REC_ANYWHERE},

    /* Python records (trace_records_py.c) */
    [RS_TAG_PY_INTERP] = {rs_decode_py_interp, RS_REC_ANYWHERE},
    [RS_TAG_PY_CODE] = {rs_decode_py_code, RS_REC_ANYWHERE},
    [RS_TAG_PY_LINE] = {rs_decode_py_line, RS_REC_ANYWHERE},

    /* Object-graph snapshots (snap_records.c): indexed here, decoded on demand */
    [RS_TAG_SNAP_BEGIN] = {rs_decode_snap_begin, RS_REC_IN_META},
    [RS_TAG_SNAP_TYPE... RS_TAG_SNAP_ROOT] = {rs_decode_snap_content, RS_REC_IN_META},
    [RS_TAG_SNAP_END] = {rs_decode_snap_end, RS_REC_IN_META},
    [RS_TAG_SNAP_WEAK] = {rs_decode_snap_content, RS_REC_IN_META},
    [RS_TAG_SNAP_BUFFERS] = {rs_decode_snap_content, RS_REC_IN_META},

    /* 0x80-0xBF Python records and 0xC0-0xFF snapshot records: decoders go here. Until
     * then they are skipped by their length. */
};

const struct rs_record_handler *rs_record_handler(uint8_t tag)
{
    return handlers[tag].decode ? &handlers[tag] : NULL;
}
