#include "snap_sites.h"

#include "addr_home.h"
#include "event_merge.h"
#include "python_frames.h"
#include "rs_uthash.h"
#include "zeroed_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the blocks of the snapshots' objects, followed through the events ---------------- */

/* A replay that kept every live block would need a table of all of them (tens of
 * millions of slots for a large program, more than a graph); the snapshots only need the
 * blocks their objects are in, so the table holds those addresses alone, each with the
 * state of the block there, and the replay skips every other address.
 *
 * A slot is 12 bytes, not 16: the table is the largest thing the sites pass allocates
 * (14M slots, 224 MB at 16 bytes, for the 5M-object trace, and at the peak of `report`
 * and `growth`). The address shares its word with the allocation's kind, in the low bits a
 * block's alignment leaves clear, and its epoch, in the top bits no user-space address
 * reaches; no block live there is a stack of RS_SITE_UNKNOWN, the answer it gives. An
 * address that does not leave those bits clear is not followed: its objects' sites are
 * unknown. */
struct slot {
    uint64_t key;   /* block address | kind | epoch << KEY_EPOCH_SHIFT; 0: empty */
    uint32_t stack; /* of the block live there; NOT_LIVE: none */
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct slot) == 12, "a slot is 12 bytes");

#define KEY_ADDR_BITS UINT64_C(0x0000fffffffffff8)
#define KEY_KIND_BITS UINT64_C(0x7)
#define KEY_EPOCH_SHIFT 48
#define NOT_LIVE RS_SITE_UNKNOWN

_Static_assert(RS_TAG_KIND_MASK <= KEY_KIND_BITS, "an allocation's kind fits below the address");

static uint64_t slot_addr(const struct slot *s)
{
    return s->key & KEY_ADDR_BITS;
}

static bool slot_live(const struct slot *s)
{
    return s->stack != NOT_LIVE;
}

/* The table is sized to what it holds (not to a power of two: it is the largest thing
 * next to the events). */
struct blocks {
    struct slot *slots;
    uint64_t cap;
    uint64_t used;
    /* For a query of few blocks (a command showing some objects), a bit per hashed address
     * in front of the table: nearly every event of the replay is at an address not asked
     * about, and the table's runs of slots (addr_home.h) made each such lookup walk a
     * cluster. NULL when the blocks are too many for the bits to stay in cache; then most
     * events are at blocks asked about anyway. */
    uint64_t *filter;
    uint64_t filter_mask; /* bits - 1 */
};

/* The filter has 16 bits per block, at most this many. */
#define FILTER_MAX_BITS (UINT64_C(1) << 23)

static uint64_t filter_bit(uint64_t addr, uint64_t mask)
{
    return ((addr >> 4) * UINT64_C(0x9E3779B97F4A7C15) >> 32) & mask;
}

static bool filter_make(struct blocks *b, const struct rs_site_query *q, size_t nq)
{
    uint64_t n = 0;
    for (size_t k = 0; k < nq; k++)
        n += q[k].n;
    uint64_t bits = 4096;
    while (bits < 16 * n)
        bits *= 2;
    if (bits > FILTER_MAX_BITS)
        return true;
    b->filter = calloc(bits / 64, sizeof *b->filter);
    b->filter_mask = bits - 1;
    for (size_t k = 0; b->filter && k < nq; k++) {
        for (uint32_t v = 0; v < q[k].n; v++) {
            uint64_t i = filter_bit(q[k].block[v], b->filter_mask);
            b->filter[i / 64] |= UINT64_C(1) << (i % 64);
        }
    }
    return b->filter != NULL;
}

/* False when addr is surely not in the table. */
static bool filter_may_hold(const struct blocks *b, uint64_t addr)
{
    if (!b->filter)
        return true;
    uint64_t i = filter_bit(addr, b->filter_mask);
    return b->filter[i / 64] >> (i % 64) & 1;
}

static struct slot *blocks_find(const struct blocks *b, uint64_t addr)
{
    if (!b->slots || addr == 0)
        return NULL;
    for (uint64_t i = rs_addr_home(addr, b->cap);; i = i + 1 < b->cap ? i + 1 : 0) {
        struct slot *s = &b->slots[i];
        uint64_t key = s->key;
        if ((key & KEY_ADDR_BITS) == addr)
            return s;
        if (key == 0)
            return NULL;
    }
}

/* Always inlined: GCC finds a function that only prefetches free of side effects and
 * drops its calls. */
__attribute__((always_inline)) static inline void blocks_prefetch(const struct blocks *b,
                                                                  uint64_t addr)
{
    __builtin_prefetch(&b->slots[rs_addr_home(addr, b->cap)]);
}

/* Prefetches the slot of the block PREFETCH_AHEAD places after block v of the query. */
#define PREFETCH_AHEAD 16

__attribute__((always_inline)) static inline void prefetch_query_ahead(
    const struct blocks *b, const struct rs_site_query *q, uint32_t v)
{
    if (v + PREFETCH_AHEAD < q->n)
        blocks_prefetch(b, q->block[v + PREFETCH_AHEAD]);
}

static void blocks_put(struct slot *slots, uint64_t cap, const struct slot *from)
{
    uint64_t i = rs_addr_home(slot_addr(from), cap);
    while (slots[i].key)
        i = i + 1 < cap ? i + 1 : 0;
    slots[i] = *from;
}

/* Room for `want` blocks, the table made half full and grown past 60 %: lookups of
 * addresses not in it, most of the replay's, walk to the end of a cluster, and the runs of
 * slots of neighbouring pages (addr_home.h) make clusters long in a fuller table (growth
 * on 5M objects: 2.06 -> 1.98 s made half full instead of 60 %). */
static bool blocks_reserve(struct blocks *b, uint64_t want)
{
    if (b->slots && want * 5 <= b->cap * 3)
        return true;
    uint64_t cap = want * 2 + 256;
    struct slot *ns = rs_calloc_table(cap, sizeof *ns);
    if (!ns)
        return false;
    for (uint64_t i = 0; b->slots && i < b->cap; i++) {
        if (b->slots[i].key)
            blocks_put(ns, cap, &b->slots[i]);
    }
    free(b->slots);
    b->slots = ns;
    b->cap = cap;
    return true;
}

/* Adds addr (no block live there yet), unless a slot cannot hold it. */
static bool blocks_add(struct blocks *b, uint64_t addr)
{
    if (addr == 0 || (addr & ~KEY_ADDR_BITS) || blocks_find(b, addr))
        return true;
    if ((b->used + 1) * 5 > b->cap * 3 && !blocks_reserve(b, b->used + 1 + b->used / 2))
        return false;
    blocks_put(b->slots, b->cap, &(struct slot){.key = addr, .stack = NOT_LIVE});
    b->used++;
    return true;
}

static bool prefer(const struct rs_trace_event *ev, const struct rs_trace_thread *thread,
                   void *arg)
{
    (void)thread;
    const struct slot *s = blocks_find(arg, ev->addr);
    bool live = s && slot_live(s);
    enum rs_event_type type = rs_ev_type(ev);
    return type == RS_EVENT_FREE || type == RS_EVENT_MUNMAP ? live : !live;
}

static void apply(struct slot *s, const struct rs_trace_event *ev, size_t k)
{
    switch (rs_ev_type(ev)) {
    case RS_EVENT_ALLOC:
    case RS_EVENT_SAMPLED_ALLOC: {
        uint64_t epoch = k < UINT16_MAX ? k : UINT16_MAX;
        s->key = slot_addr(s) | (rs_ev_kind(ev) & KEY_KIND_BITS) | epoch << KEY_EPOCH_SHIFT;
        s->stack = ev->stack_id; /* RS_SITE_UNKNOWN as a stack id (a corrupt trace) reads as none live */
        break;
    }
    case RS_EVENT_FREE:
        s->stack = NOT_LIVE;
        break;
    case RS_EVENT_MUNMAP:
        /* Only whole mappings matter here: objects are not mmap blocks. */
        if ((s->key & KEY_KIND_BITS) == RS_ALLOC_MMAP)
            s->stack = NOT_LIVE;
        break;
    }
}

static int out_of_memory(char *err, size_t errcap)
{
    snprintf(err, errcap, "out of memory");
    return -2;
}

int rs_sites_of_blocks(const struct rs_trace *t, struct rs_site_query *q, size_t nq, char *err,
                       size_t errcap)
{
    struct blocks b = {0};
    /* Snapshots of one program share most of their objects: room for the largest first. */
    uint64_t largest = 0;
    for (size_t k = 0; k < nq; k++)
        largest = q[k].n > largest ? q[k].n : largest;
    if (!blocks_reserve(&b, largest) || !filter_make(&b, q, nq)) {
        free(b.slots);
        return out_of_memory(err, errcap);
    }
    for (size_t k = 0; k < nq; k++) {
        for (uint32_t v = 0; v < q[k].n; v++) {
            prefetch_query_ahead(&b, &q[k], v);
            if (!blocks_add(&b, q[k].block[v])) {
                free(b.slots);
                free(b.filter);
                return out_of_memory(err, errcap);
            }
        }
    }
    struct rs_merge *mg = rs_merge_new(t, prefer, &b);
    if (!mg) {
        free(b.slots);
        free(b.filter);
        return out_of_memory(err, errcap);
    }
    const struct rs_trace_thread *th = NULL;
    const struct rs_trace_event *ev = rs_merge_next(mg, &th);
    for (size_t k = 0; k < nq; k++) {
        for (; ev && ev->time <= q[k].time; ev = rs_merge_next(mg, &th)) {
            if (!filter_may_hold(&b, ev->addr))
                continue;
            const struct rs_trace_event *ahead = rs_merge_ahead(th, ev);
            if (ahead)
                blocks_prefetch(&b, ahead->addr);
            struct slot *s = blocks_find(&b, ev->addr);
            if (s)
                apply(s, ev, k);
        }
        for (uint32_t v = 0; v < q[k].n; v++) {
            prefetch_query_ahead(&b, &q[k], v);
            const struct slot *s = blocks_find(&b, q[k].block[v]);
            q[k].block[v] = s && slot_live(s) ? (uint64_t)s->stack << 32 | s->key >> KEY_EPOCH_SHIFT
                                               : (uint64_t)RS_SITE_UNKNOWN << 32 | RS_EPOCH_UNKNOWN;
        }
    }
    const char *why = rs_merge_error(mg);
    int rc = why ? -1 : 0;
    if (why)
        snprintf(err, errcap, "%s", why);
    rs_merge_free(mg);
    free(b.slots);
    free(b.filter);
    return rc;
}

uint64_t rs_snap_block_of(const struct rs_snap_graph *g, uint32_t v)
{
    bool known = g->preheader[v] != UINT16_MAX && !(g->flags[v] & RS_NODE_SYNTHETIC) &&
                 g->addr[v] >= g->preheader[v];
    return known ? g->addr[v] - g->preheader[v] : 0;
}

uint64_t *rs_snap_take_blocks(struct rs_snap_graph *g)
{
    uint64_t *block = g->addr;
    for (uint32_t v = 0; block && v < g->n; v++)
        block[v] = rs_snap_block_of(g, v);
    g->addr = NULL;
    return block;
}

uint64_t *rs_snap_blocks(const struct rs_snap_graph *g)
{
    uint64_t *block = malloc((g->n ? g->n : 1) * sizeof *block);
    for (uint32_t v = 0; block && v < g->n; v++)
        block[v] = rs_snap_block_of(g, v);
    return block;
}

int rs_snap_sites(const struct rs_trace *t, const struct rs_snap_graph *g, uint32_t *site)
{
    uint64_t *block = rs_snap_blocks(g);
    if (!block)
        return -2;
    struct rs_site_query q = {g->info->time, block, g->n};
    char err[512];
    int rc = rs_sites_of_blocks(t, &q, 1, err, sizeof err);
    for (uint32_t v = 0; rc == 0 && v < g->n; v++)
        site[v] = rs_answer_site(block[v]);
    free(block);
    return rc;
}

/* ---- the sites of one snapshot's objects, found before it is loaded whole ------------- */

struct rs_site_map {
    uint32_t n;
    uint64_t *answer;              /* rs_sites_of_blocks's, by object */
    const struct rs_snap_graph *g; /* bound to it (rs_site_map_bind) */
};

struct rs_site_map *rs_site_map_new(uint64_t *answers, uint32_t n)
{
    struct rs_site_map *m = calloc(1, sizeof *m);
    if (m) {
        m->n = n;
        m->answer = answers;
    }
    return m;
}

bool rs_site_map_bind(struct rs_site_map *m, const struct rs_snap_graph *g)
{
    m->g = g->n == m->n ? g : NULL;
    return m->g != NULL;
}

void rs_site_map_free(struct rs_site_map *m)
{
    if (!m)
        return;
    free(m->answer);
    free(m);
}

uint32_t rs_site_of(const struct rs_snap_graph *g, const struct rs_site_map *live, uint32_t v)
{
    return live && live->g == g ? rs_answer_site(live->answer[v]) : RS_SITE_UNKNOWN;
}

uint32_t rs_site_map_site(const struct rs_site_map *m, uint32_t v)
{
    return v < m->n ? rs_answer_site(m->answer[v]) : RS_SITE_UNKNOWN;
}

uint32_t rs_epoch_of(const struct rs_snap_graph *g, const struct rs_site_map *live, uint32_t v)
{
    return live && live->g == g ? rs_answer_epoch(live->answer[v]) : RS_EPOCH_UNKNOWN;
}

/* ---- names ------------------------------------------------------------------------- */

struct cached_name {
    struct rs_site_name name;
    UT_hash_handle hh;
};

struct by_text {
    const char *text;
    uint32_t stack_id;
    UT_hash_handle hh;
};

struct rs_site_names {
    const struct rs_trace *trace;
    struct rs_symbolizer *sym;
    struct cached_name *by_stack;
    struct by_text *by_text;
};

struct rs_site_names *rs_site_names_new(const struct rs_trace *t, struct rs_symbolizer *sym)
{
    struct rs_site_names *s = calloc(1, sizeof *s);
    if (s) {
        s->trace = t;
        s->sym = sym;
    }
    return s;
}

void rs_site_names_free(struct rs_site_names *s)
{
    if (!s)
        return;
    struct by_text *bt, *btt;
    HASH_ITER(hh, s->by_text, bt, btt) {
        HASH_DEL(s->by_text, bt);
        free(bt);
    }
    struct cached_name *c, *tmp;
    HASH_ITER(hh, s->by_stack, c, tmp) {
        HASH_DEL(s->by_stack, c);
        free(c->name.text);
        free(c->name.caller);
        free(c);
    }
    free(s);
}

static char *format_frame(const struct rs_frame *f)
{
    char *out = NULL;
    int r;
    const char *file = rs_frame_file_shown(f);
    if (file && f->function && f->line > 0)
        r = asprintf(&out, "%s:%d %s", file, f->line, f->function);
    else if (file && f->function)
        r = asprintf(&out, "%s %s", file, f->function);
    else if (f->function && f->module)
        r = asprintf(&out, "%s (in %s)", f->function, f->module);
    else if (f->function)
        r = asprintf(&out, "%s", f->function);
    else if (f->module)
        r = asprintf(&out, "%s+0x%llx", f->module, (unsigned long long)f->module_offset);
    else
        r = asprintf(&out, "0x%llx", (unsigned long long)f->address);
    return r < 0 ? NULL : out;
}

const struct rs_site_name *rs_site_name(struct rs_site_names *s, uint32_t stack_id)
{
    struct cached_name *c = NULL;
    HASH_FIND(hh, s->by_stack, &stack_id, sizeof stack_id, c);
    if (c)
        return &c->name;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->name.stack_id = stack_id;
    c->name.internal = true;
    const struct rs_trace_stack *st =
        stack_id == RS_SITE_UNKNOWN || stack_id == RS_STACK_ID_NONE
            ? NULL : rs_trace_stack_find(s->trace, stack_id);
    if (st && s->sym) {
        struct rs_frames fr;
        if (rs_symbolize_stack(s->sym, st->words, st->nwords, 0, &fr) != 0) {
            free(c);
            return NULL;
        }
        /* The Python view puts the Python frames first when the stack has any. */
        size_t at = 0;
        for (; at < fr.n && !c->name.frame; at++) {
            if (fr.v[at]->python)
                c->name.frame = fr.v[at];
        }
        if (!c->name.frame && fr.n)
            c->name.frame = fr.v[0];
        /* In a library: the program's line that called into it (a logger per request is
         * made in logging, at the program's getLogger call). */
        const struct rs_frame *caller = NULL;
        if (c->name.frame && c->name.frame->python && c->name.frame->file &&
            rs_python_file_is_library(c->name.frame->file)) {
            for (size_t i = at; i < fr.n && !caller; i++) {
                if (fr.v[i]->python && fr.v[i]->file && !rs_python_file_is_library(fr.v[i]->file))
                    caller = fr.v[i];
            }
        }
        if (caller && !(c->name.caller = format_frame(caller))) {
            rs_frames_free(&fr);
            free(c);
            return NULL;
        }
        /* Made while a module was being imported (the import machinery's frozen frames on
         * the stack): module state, caches, singletons that C code keeps for good. */
        bool importing = false;
        for (size_t i = 0; i < fr.n && !importing; i++)
            importing = fr.v[i]->python && fr.v[i]->file &&
                        strncmp(fr.v[i]->file, "<frozen importlib", 17) == 0;
        rs_frames_free(&fr);
        const struct rs_frame *f = c->name.frame;
        c->name.internal = !f || !f->python || importing ||
                           (f->file && strncmp(f->file, "<frozen ", 8) == 0);
        if (f)
            c->name.text = format_frame(f);
    }
    if (!c->name.text) {
        /* attached to a running process: what was allocated before is not in the trace */
        bool attached = s->trace->hdr.flags & RS_TRACE_FLAG_ATTACHED;
        const char *why = stack_id == RS_SITE_UNKNOWN ? (attached ? "(before attach)" : "(unknown site)")
                          : stack_id == RS_STACK_ID_NONE ? "(no stack recorded)"
                          : !st ? "(stack not in the trace)" : "(no frames)";
        c->name.text = strdup(why);
    }
    if (!c->name.text) {
        free(c->name.caller);
        free(c);
        return NULL;
    }
    struct by_text *bt = NULL;
    HASH_FIND_STR(s->by_text, c->name.text, bt);
    if (!bt) {
        bt = calloc(1, sizeof *bt);
        if (!bt) {
            free(c->name.text);
            free(c->name.caller);
            free(c);
            return NULL;
        }
        bt->text = c->name.text;
        bt->stack_id = stack_id;
        HASH_ADD_KEYPTR(hh, s->by_text, bt->text, strlen(bt->text), bt);
    }
    c->name.canonical = bt->stack_id;
    HASH_ADD(hh, s->by_stack, name.stack_id, sizeof c->name.stack_id, c);
    return &c->name;
}

bool rs_site_matches(const struct rs_site_name *n, const char *spec)
{
    const struct rs_frame *f = n->frame;
    if (!f || !f->file)
        return false;
    const char *colon = strrchr(spec, ':');
    size_t flen = colon ? (size_t)(colon - spec) : strlen(spec);
    int line = 0;
    if (colon) {
        char *end;
        long l = strtol(colon + 1, &end, 10);
        if (*end || l <= 0)
            return false;
        line = (int)l;
    }
    if (line && f->line != line)
        return false;
    size_t fl = strlen(f->file);
    /* The whole path, or a suffix of it starting at a '/'. */
    if (flen > fl || memcmp(f->file + fl - flen, spec, flen) != 0)
        return false;
    return flen == fl || f->file[fl - flen - 1] == '/' || spec[0] == '/';
}
