#include "snap_sites.h"

#include "event_merge.h"
#include "rs_uthash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- live blocks: address -> stack id, open addressing ------------------------------ */

struct slot {
    uint64_t addr;           /* 0: empty (no block starts at address 0) */
    uint32_t stack;
    uint16_t epoch;          /* checkpoints passed when it was allocated (saturated) */
    uint8_t kind;
};

struct rs_site_map {
    struct slot *slots;
    uint64_t mask;
    uint64_t used;
};

/* The blocks of one 4 kB page get one run of slots, at a place hashed from the page, in
 * address order: replay order and snapshot order are both close to address order, so
 * consecutive lookups share the table's cache lines instead of missing on each (the
 * load is kept at half for the runs to stay short). */
static inline uint64_t h(uint64_t a)
{
    uint64_t page = a >> 12;
    page ^= page >> 31;
    return ((page * UINT64_C(0x9E3779B97F4A7C15)) >> 13) + ((a >> 4) & 255);
}

static struct slot *map_find(const struct rs_site_map *m, uint64_t addr)
{
    if (!m->slots || addr == 0)
        return NULL;
    for (uint64_t i = h(addr) & m->mask;; i = (i + 1) & m->mask) {
        struct slot *s = &m->slots[i];
        if (s->addr == addr)
            return s;
        if (s->addr == 0)
            return NULL;
    }
}

uint32_t rs_site_map_find(const struct rs_site_map *m, uint64_t addr)
{
    const struct slot *s = map_find(m, addr);
    return s ? s->stack : RS_SITE_UNKNOWN;
}

uint32_t rs_site_map_epoch(const struct rs_site_map *m, uint64_t addr)
{
    const struct slot *s = map_find(m, addr);
    return s ? s->epoch : RS_EPOCH_UNKNOWN;
}

static bool map_grow(struct rs_site_map *m)
{
    uint64_t cap = m->slots ? (m->mask + 1) * 2 : 1024;
    struct slot *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return false;
    for (uint64_t i = 0; m->slots && i <= m->mask; i++) {
        if (!m->slots[i].addr)
            continue;
        uint64_t j = h(m->slots[i].addr) & (cap - 1);
        while (ns[j].addr)
            j = (j + 1) & (cap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->mask = cap - 1;
    return true;
}

static bool map_put(struct rs_site_map *m, uint64_t addr, uint32_t stack, uint8_t kind,
                    uint16_t epoch)
{
    if (addr == 0)
        return true;
    if (!m->slots || (m->used + 1) * 2 > m->mask + 1) {
        if (!map_grow(m))
            return false;
    }
    uint64_t i = h(addr) & m->mask;
    while (m->slots[i].addr && m->slots[i].addr != addr)
        i = (i + 1) & m->mask;
    if (!m->slots[i].addr)
        m->used++;
    m->slots[i] = (struct slot){addr, stack, epoch, kind};
    return true;
}

/* Deletion with backward shift: no tombstones, so lookups stay short. */
static void map_del(struct rs_site_map *m, struct slot *s)
{
    uint64_t i = (uint64_t)(s - m->slots);
    m->used--;
    for (;;) {
        m->slots[i].addr = 0;
        uint64_t j = i;
        for (;;) {
            j = (j + 1) & m->mask;
            if (!m->slots[j].addr)
                return;
            uint64_t k = h(m->slots[j].addr) & m->mask;
            /* Can slot j's entry move to i? Only if its home k is not in (i, j]. */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            m->slots[i] = m->slots[j];
            i = j;
            break;
        }
    }
}

static bool prefer(const struct rs_trace_event *ev, void *arg)
{
    const struct rs_site_map *m = arg;
    bool live = map_find(m, ev->addr) != NULL;
    return ev->type == RS_EVENT_FREE || ev->type == RS_EVENT_MUNMAP ? live : !live;
}

int rs_sites_pass(const struct rs_trace *t, const uint64_t *times, size_t ntimes,
                  rs_site_checkpoint_fn fn, void *arg)
{
    struct rs_site_map m = {0};
    struct rs_merge *mg = rs_merge_new(t, prefer, &m);
    if (!mg)
        return -2;
    int rc = 0;
    size_t k = 0;
    const struct rs_trace_event *ev = rs_merge_next(mg, NULL);
    while (k < ntimes && rc == 0) {
        while (ev && ev->time <= times[k]) {
            switch (ev->type) {
            case RS_EVENT_ALLOC:
            case RS_EVENT_SAMPLED_ALLOC:
                if (!map_put(&m, ev->addr, ev->stack_id, ev->kind,
                             (uint16_t)(k < UINT16_MAX ? k : UINT16_MAX)))
                    rc = -2;
                break;
            case RS_EVENT_FREE: {
                struct slot *s = map_find(&m, ev->addr);
                if (s)
                    map_del(&m, s);
                break;
            }
            case RS_EVENT_MUNMAP: {
                /* Only whole mappings matter here: objects are not mmap blocks. */
                struct slot *s = map_find(&m, ev->addr);
                if (s && s->kind == RS_ALLOC_MMAP)
                    map_del(&m, s);
                break;
            }
            }
            if (rc)
                break;
            ev = rs_merge_next(mg, NULL);
        }
        if (rc == 0)
            rc = fn(arg, k, &m);
        k++;
    }
    rs_merge_free(mg);
    free(m.slots);
    return rc;
}

uint32_t rs_site_of(const struct rs_snap_graph *g, const struct rs_site_map *live, uint32_t v)
{
    if (g->preheader[v] == UINT16_MAX || (g->flags[v] & RS_NODE_SYNTHETIC) ||
        g->addr[v] < g->preheader[v])
        return RS_SITE_UNKNOWN;
    return rs_site_map_find(live, g->addr[v] - g->preheader[v]);
}

uint32_t rs_epoch_of(const struct rs_snap_graph *g, const struct rs_site_map *live, uint32_t v)
{
    if (g->preheader[v] == UINT16_MAX || (g->flags[v] & RS_NODE_SYNTHETIC) ||
        g->addr[v] < g->preheader[v])
        return RS_EPOCH_UNKNOWN;
    return rs_site_map_epoch(live, g->addr[v] - g->preheader[v]);
}

struct one {
    const struct rs_snap_graph *g;
    uint32_t *site;
};

static int fill_one(void *arg, size_t k, const struct rs_site_map *live)
{
    (void)k;
    struct one *o = arg;
    for (uint32_t v = 0; v < o->g->n; v++)
        o->site[v] = rs_site_of(o->g, live, v);
    return 0;
}

int rs_snap_sites(const struct rs_trace *t, const struct rs_snap_graph *g, uint32_t *site)
{
    struct one o = {g, site};
    uint64_t time = g->info->time;
    return rs_sites_pass(t, &time, 1, fill_one, &o);
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
        free(c);
    }
    free(s);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char *format_frame(const struct rs_frame *f)
{
    char *out = NULL;
    int r;
    if (f->file && f->function && f->line > 0)
        r = asprintf(&out, "%s:%d %s", base_name(f->file), f->line, f->function);
    else if (f->file && f->function)
        r = asprintf(&out, "%s %s", base_name(f->file), f->function);
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
        for (size_t i = 0; i < fr.n && !c->name.frame; i++) {
            if (fr.v[i]->python)
                c->name.frame = fr.v[i];
        }
        if (!c->name.frame && fr.n)
            c->name.frame = fr.v[0];
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
        free(c);
        return NULL;
    }
    struct by_text *bt = NULL;
    HASH_FIND_STR(s->by_text, c->name.text, bt);
    if (!bt) {
        bt = calloc(1, sizeof *bt);
        if (!bt) {
            free(c->name.text);
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
