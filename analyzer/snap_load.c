#include "snap_graph.h"

#include "addr_home.h"
#include "decode_cursor.h"
#include "escape.h"
#include "file_read.h"
#include "zeroed_table.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the source -------------------------------------------------------------------- */

int rs_snap_source_file(struct rs_snap_source *s, const char *path, uint64_t min_size,
                        char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (s->fd < 0) {
        snprintf(err, errcap, "cannot open the trace again to read its snapshots: %s",
                 strerror(errno));
        return -1;
    }
    if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "snapshots can only be read from a regular file, not a pipe: "
                              "save the trace to a file first");
        close(s->fd);
        s->fd = -1;
        return -1;
    }
    if ((uint64_t)st.st_size < min_size) {
        snprintf(err, errcap, "the trace file shrank while it was being read");
        close(s->fd);
        s->fd = -1;
        return -1;
    }
    return 0;
}

void rs_snap_source_memory(struct rs_snap_source *s, const uint8_t *data, size_t len)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->mem = data;
    s->mem_len = len;
}

void rs_snap_source_close(struct rs_snap_source *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

/* Bytes [off, end): valid until the next read. NULL when they cannot be had. */
static const uint8_t *source_read(struct rs_snap_source *s, uint64_t off, uint64_t end)
{
    if (end < off || end - off > RS_CHUNK_MAX_PAYLOAD)
        return NULL;
    size_t len = (size_t)(end - off);
    if (s->mem)
        return end <= s->mem_len ? s->mem + off : NULL;
    return rs_pread_buffered(s->fd, &s->buf, &s->cap, len, off);
}

/* ---- errors ------------------------------------------------------------------------- */

struct load {
    struct rs_snap_graph *g;
    struct rs_snap_source *src;
    char *err;
    size_t errcap;
    uint64_t rec_at;            /* file offset of the record being decoded */
    uint64_t capacity;          /* objects counted in pass 1 */
    struct edge_pass *edges;    /* pass 3 */
    void *arg;                  /* label lookups */
    uint64_t weak_room;         /* weak reference pairs counted in pass 1 */
};

#define CORRUPT(L, ...)                    \
    do {                                   \
        corrupt((L), __VA_ARGS__);         \
        return -1;                         \
    } while (0)

__attribute__((format(printf, 2, 3))) static void corrupt(struct load *L, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(L->err, L->errcap, "snapshot %u is corrupt: %s (record at byte %llu)",
             (unsigned)L->g->info->id, what, (unsigned long long)L->rec_at);
}

static int nomem(struct load *L)
{
    snprintf(L->err, L->errcap, "snapshot %u: out of memory", (unsigned)L->g->info->id);
    return -2;
}

/* ---- walking the records of a snapshot ------------------------------------------- */

typedef int (*record_fn)(struct load *L, uint8_t tag, struct rs_cursor *body);

/* Calls fn for each snapshot content record (TYPE, NODES, EDGES, LABEL, ROOT) whose tag
 * bit is in `tags`, in the snapshot's ranges [from, to). */
static int walk_ranges(struct load *L, size_t from, size_t to, unsigned tags, record_fn fn)
{
    const struct rs_snap_info *si = L->g->info;
    for (size_t r = from; r < to; r++) {
        const struct rs_snap_range *rg = &si->ranges[r];
        L->rec_at = rg->off;
        const uint8_t *p = source_read(L->src, rg->off, rg->end);
        if (!p) {
            if (L->src->fd >= 0 && errno == ENOMEM)
                return nomem(L);
            CORRUPT(L, "cannot read it again from the file");
        }
        struct rs_cursor c = {p, p + (rg->end - rg->off)};
        while (c.p < c.end) {
            L->rec_at = rg->off + (uint64_t)(c.p - p);
            uint8_t tag = *c.p++;
            uint64_t len;
            if (tag < RS_TAG_LENGTH_PREFIXED || !rs_cur_varint(&c, &len) ||
                len > rs_cur_left(&c))
                CORRUPT(L, "a record does not decode (the file changed since it was read?)");
            struct rs_cursor body = {c.p, c.p + len};
            c.p += len;
            if (tag < RS_TAG_SNAP_TYPE || tag > RS_TAG_SNAP_BUFFERS)
                continue;
            if (!(tags & (1u << (tag - RS_TAG_SNAP_TYPE))))
                continue;
            int rc = fn(L, tag, &body);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int walk(struct load *L, unsigned tags, record_fn fn)
{
    return walk_ranges(L, 0, L->g->info->nranges, tags, fn);
}

#define T_TYPE (1u << (RS_TAG_SNAP_TYPE - RS_TAG_SNAP_TYPE))
#define T_NODES (1u << (RS_TAG_SNAP_NODES - RS_TAG_SNAP_TYPE))
#define T_EDGES (1u << (RS_TAG_SNAP_EDGES - RS_TAG_SNAP_TYPE))
#define T_LABEL (1u << (RS_TAG_SNAP_LABEL - RS_TAG_SNAP_TYPE))
#define T_ROOT (1u << (RS_TAG_SNAP_ROOT - RS_TAG_SNAP_TYPE))
#define T_WEAK (1u << (RS_TAG_SNAP_WEAK - RS_TAG_SNAP_TYPE))
#define T_BUFFERS (1u << (RS_TAG_SNAP_BUFFERS - RS_TAG_SNAP_TYPE))

/* Smallest encodings: a node is 7 varints/strings of at least a byte; an edge source
 * (delta, count) and a target (delta, label) two bytes each. */
#define NODE_MIN_BYTES 7
#define PAIR_MIN_BYTES 2

/* ---- strings ------------------------------------------------------------------------ */

static bool add_string(struct rs_snap_graph *g, const uint8_t *s, size_t len, uint64_t *off)
{
    if (len > UINT32_MAX - 1)
        return false;
    while (g->strings_len + len + 1 > g->strings_cap) {
        size_t want = g->strings_cap ? g->strings_cap * 2 : 4096;
        char *p = realloc(g->strings, want);
        if (!p)
            return false;
        g->strings = p;
        g->strings_cap = want;
    }
    *off = g->strings_len;
    if (len)
        memcpy(g->strings + g->strings_len, s, len);
    g->strings[g->strings_len + len] = '\0';
    g->strings_len += len + 1;
    return true;
}

/* ---- pass 1: counts ------------------------------------------------------------------ */

struct counts {
    uint64_t nodes, types, labels, roots, weak;
};

static int count_record(struct load *L, uint8_t tag, struct rs_cursor *body)
{
    struct counts *k = (struct counts *)L->g->hash; /* borrowed during pass 1 */
    uint64_t n;
    switch (tag) {
    case RS_TAG_SNAP_NODES:
        if (!rs_cur_varint(body, &n))
            CORRUPT(L, "object record cut short");
        if (n > rs_cur_left(body) / NODE_MIN_BYTES)
            CORRUPT(L, "object record with an impossible count (%llu)", (unsigned long long)n);
        k->nodes += n;
        break;
    case RS_TAG_SNAP_TYPE: k->types++; break;
    case RS_TAG_SNAP_LABEL: k->labels++; break;
    case RS_TAG_SNAP_ROOT: k->roots++; break;
    case RS_TAG_SNAP_WEAK:
        if (!rs_cur_varint(body, &n) || n > rs_cur_left(body) / PAIR_MIN_BYTES)
            CORRUPT(L, "weak reference record cut short");
        k->weak += n;
        break;
    }
    return 0;
}

/* ---- the address index --------------------------------------------------------------- */

/* Placed by page (addr_home.h): neighbouring objects share the cache lines of the index,
 * and of the address array, which is in the same order. */
static inline uint64_t index_home(const struct rs_snap_graph *g, uint64_t a)
{
    return rs_addr_home_pow2(a, g->hmask);
}

static bool index_alloc(struct rs_snap_graph *g, uint64_t n)
{
    uint64_t slots = 1024;
    while (slots < n + n / 3 + 1)
        slots *= 2;
    g->hash = rs_calloc_table(slots, sizeof *g->hash);
    g->hmask = slots - 1;
    return g->hash != NULL;
}

/* Returns the node already at addr, or inserts v and returns RS_SNAP_NONE. */
static uint32_t index_insert(struct rs_snap_graph *g, uint64_t addr, uint32_t v)
{
    uint64_t i = index_home(g, addr);
    for (;;) {
        uint32_t s = g->hash[i];
        if (!s) {
            g->hash[i] = v + 1;
            return RS_SNAP_NONE;
        }
        if (g->addr[s - 1] == addr)
            return s - 1;
        i = (i + 1) & g->hmask;
    }
}

static inline uint32_t index_find(const struct rs_snap_graph *g, uint64_t addr)
{
    uint64_t i = index_home(g, addr);
    for (;;) {
        uint32_t s = g->hash[i];
        if (!s)
            return RS_SNAP_NONE;
        if (g->addr[s - 1] == addr)
            return s - 1;
        i = (i + 1) & g->hmask;
    }
}

uint32_t rs_snap_find_addr(const struct rs_snap_graph *g, uint64_t addr)
{
    if (g->hash)
        return index_find(g, addr);
    for (uint32_t v = 0; v < g->n; v++) {
        if (g->addr[v] == addr)
            return v;
    }
    return RS_SNAP_NONE;
}

/* ---- pass 2: types, objects, labels, roots -------------------------------------------- */

struct raw_type_map {
    uint32_t *dense;            /* type id -> index + 1, for ids up to dense_n */
    uint64_t dense_n;
};

static int decode_type(struct load *L, struct rs_cursor *c)
{
    struct rs_snap_graph *g = L->g;
    struct rs_snap_type t = {0};
    uint64_t addr, bs, is;
    const uint8_t *name;
    size_t len;
    if (!rs_cur_u32(c, &t.id) || !rs_cur_varint(c, &addr) || !rs_cur_bytes(c, &name, &len) ||
        !rs_cur_u32(c, &t.flags) || !rs_cur_varint(c, &bs) || !rs_cur_varint(c, &is))
        CORRUPT(L, "type record cut short");
    if (t.id == 0)
        CORRUPT(L, "type record with the reserved id 0");
    t.addr = addr;
    t.basicsize = bs;
    t.itemsize = is;
    t.name_len = len > 1024 ? 1024 : (uint32_t)len;
    if (!add_string(g, name, t.name_len, &t.name))
        return nomem(L);
    g->types[g->ntypes++] = t;
    return 0;
}

static int decode_label(struct load *L, struct rs_cursor *c)
{
    struct rs_snap_graph *g = L->g;
    struct rs_snap_edge_label l = {0};
    const uint8_t *text;
    size_t len;
    if (!rs_cur_u32(c, &l.id) || !rs_cur_u32(c, &l.kind) || !rs_cur_bytes(c, &text, &len))
        CORRUPT(L, "label record cut short");
    if (l.id == 0)
        CORRUPT(L, "label record with the reserved id 0");
    l.len = len > 1024 ? 1024 : (uint32_t)len;
    if (!add_string(g, text, l.len, &l.text))
        return nomem(L);
    g->elabels[g->nelabels++] = l;
    return 0;
}

static int decode_root(struct load *L, struct rs_cursor *c)
{
    struct rs_snap_graph *g = L->g;
    struct rs_snap_root r = {.node = RS_SNAP_NONE};
    const uint8_t *name;
    size_t len;
    if (!rs_cur_varint(c, &r.addr) || !rs_cur_u32(c, &r.kind) || !rs_cur_bytes(c, &name, &len))
        CORRUPT(L, "root record cut short");
    r.name_len = len > 1024 ? 1024 : (uint32_t)len;
    if (!add_string(g, name, r.name_len, &r.name))
        return nomem(L);
    g->roots[g->nroots++] = r;
    return 0;
}

static bool add_node_label(struct rs_snap_graph *g, uint32_t v, const uint8_t *s, size_t len)
{
    if (len == 0)
        return true;
    if (len > 255)
        len = 255;
    if (g->ltext_len + len + 1 > UINT32_MAX) {
        g->stats.dropped_labels++;
        return true;
    }
    while (g->ltext_len + len + 1 > g->ltext_cap) {
        size_t want = g->ltext_cap * 2;
        uint8_t *p = rs_realloc_table(g->ltext, g->ltext_cap, want);
        if (!p)
            return false;
        g->ltext = p;
        g->ltext_cap = want;
    }
    g->label[v] = (uint32_t)g->ltext_len;
    g->ltext[g->ltext_len] = (uint8_t)len;
    memcpy(g->ltext + g->ltext_len + 1, s, len);
    g->ltext_len += len + 1;
    return true;
}

/* Objects are decoded into the arrays first, then indexed by address with the hash slots
 * prefetched ahead: the index is far larger than the caches, and waiting for each slot in
 * turn would dominate the load. A second record of an address is dropped (the arrays are
 * compacted as the index is filled). */
#define PREFETCH_AHEAD 16

/* One object of an object record. */
struct node_fields {
    uint64_t da, size, refcnt, flags, pre;
    uint32_t type;
    const uint8_t *label;
    size_t llen;
};

static inline bool decode_node_fields(struct rs_cursor *c, struct node_fields *f)
{
    return rs_cur_varint(c, &f->da) && rs_cur_u32(c, &f->type) && rs_cur_varint(c, &f->size) &&
           rs_cur_varint(c, &f->refcnt) && rs_cur_varint(c, &f->flags) &&
           rs_cur_varint(c, &f->pre) && rs_cur_bytes(c, &f->label, &f->llen);
}

static int decode_nodes(struct load *L, struct rs_cursor *c, uint64_t capacity)
{
    struct rs_snap_graph *g = L->g;
    uint64_t count, prev = 0;
    if (!rs_cur_varint(c, &count) || count > rs_cur_left(c) / NODE_MIN_BYTES)
        CORRUPT(L, "object record cut short");
    if (count > capacity - g->n) /* cannot happen: pass 1 counted these records */
        CORRUPT(L, "more objects than counted");
    uint32_t base = g->n;
    size_t big_before = g->nbig;
    for (uint64_t i = 0; i < count; i++) {
        struct node_fields f;
        if (!decode_node_fields(c, &f))
            CORRUPT(L, "object record cut short");
        prev += (uint64_t)rs_unzigzag(f.da);
        uint64_t size = f.size, refcnt = f.refcnt, flags = f.flags, pre = f.pre;
        uint32_t v = base + (uint32_t)i;
        g->addr[v] = prev;
        g->type[v] = f.type; /* a type id for now: mapped once all types are known */
        if (size > RS_SNAP_MAX_SIZE) {
            g->stats.implausible_sizes++;
            size = 0;
        }
        if (size >= UINT32_MAX) {
            if (!rs_grow((void **)&g->big, &g->big_cap, g->nbig, sizeof *g->big))
                return nomem(L);
            g->big[g->nbig++] = (struct rs_snap_big){v, size};
            g->size[v] = UINT32_MAX;
        } else {
            g->size[v] = (uint32_t)size;
        }
        g->refcnt[v] = refcnt > UINT32_MAX ? UINT32_MAX : (uint32_t)refcnt;
        g->flags[v] = (uint16_t)(flags & 0xFFFF);
        g->preheader[v] = pre >= UINT16_MAX ? UINT16_MAX : (uint16_t)pre;
        if (g->label) {
            g->label[v] = 0;
            if (!add_node_label(g, v, f.label, f.llen))
                return nomem(L);
        }
    }
    uint32_t w = base;
    size_t bi = big_before;
    for (uint64_t i = 0; i < count; i++) {
        if (i + PREFETCH_AHEAD < count)
            __builtin_prefetch(&g->hash[index_home(g, g->addr[base + i + PREFETCH_AHEAD])]);
        uint32_t v = base + (uint32_t)i;
        struct rs_snap_big *big = bi < g->nbig && g->big[bi].node == v ? &g->big[bi++] : NULL;
        if (w != v) {
            g->addr[w] = g->addr[v];
            g->type[w] = g->type[v];
            g->size[w] = g->size[v];
            g->refcnt[w] = g->refcnt[v];
            g->flags[w] = g->flags[v];
            g->preheader[w] = g->preheader[v];
            if (g->label)
                g->label[w] = g->label[v];
        }
        if (index_insert(g, g->addr[w], w) != RS_SNAP_NONE) {
            g->stats.duplicate_nodes++;
            if (big)
                big->node = RS_SNAP_NONE;
            continue;
        }
        if (big)
            big->node = w;
        w++;
    }
    size_t bw = big_before;
    for (size_t k = big_before; k < g->nbig; k++) {
        if (g->big[k].node != RS_SNAP_NONE)
            g->big[bw++] = g->big[k];
    }
    g->nbig = bw;
    g->n = w;
    return 0;
}

/* Kept as addresses in g->weak's room (two words a pair) until the objects are indexed. */
static int decode_weak(struct load *L, struct rs_cursor *c)
{
    struct rs_snap_graph *g = L->g;
    uint64_t n, *pairs = (uint64_t *)g->weak;
    if (!rs_cur_varint(c, &n) || n > L->weak_room - g->nweak)
        CORRUPT(L, "weak reference record cut short");
    for (uint64_t i = 0; i < n; i++, g->nweak++) {
        if (!rs_cur_varint(c, &pairs[2 * g->nweak]) || !rs_cur_varint(c, &pairs[2 * g->nweak + 1]))
            CORRUPT(L, "weak reference record cut short");
    }
    return 0;
}

/* The pairs whose weak reference and referent are both recorded objects, as nodes. */
static void resolve_weak(struct rs_snap_graph *g)
{
    uint64_t *pairs = (uint64_t *)g->weak;
    size_t kept = 0;
    for (size_t i = 0; i < g->nweak; i++) {
        uint32_t ref = index_find(g, pairs[2 * i]), target = index_find(g, pairs[2 * i + 1]);
        if (ref != RS_SNAP_NONE && target != RS_SNAP_NONE)
            g->weak[kept++] = (struct rs_snap_weak){ref, target};
    }
    g->nweak = kept;
}

static int pass2_record(struct load *L, uint8_t tag, struct rs_cursor *body)
{
    switch (tag) {
    case RS_TAG_SNAP_WEAK: return decode_weak(L, body);
    case RS_TAG_SNAP_TYPE: return decode_type(L, body);
    case RS_TAG_SNAP_NODES: return decode_nodes(L, body, L->capacity);
    case RS_TAG_SNAP_LABEL: return decode_label(L, body);
    case RS_TAG_SNAP_ROOT: return decode_root(L, body);
    }
    return 0;
}

static int by_type_id(const void *a, const void *b)
{
    const struct rs_snap_type *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_label_id(const void *a, const void *b)
{
    const struct rs_snap_edge_label *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Type ids become indexes in types[], sorted by id; index 0 is the unknown type. */
static int map_types(struct load *L)
{
    struct rs_snap_graph *g = L->g;
    rs_qsort(g->types + 1, g->ntypes - 1, sizeof *g->types, by_type_id);
    uint32_t w = 1;
    for (uint32_t i = 1; i < g->ntypes; i++) {
        if (w > 1 && g->types[w - 1].id == g->types[i].id) {
            g->stats.duplicate_types++;
            continue;
        }
        g->types[w++] = g->types[i];
    }
    g->ntypes = w;
    uint32_t maxid = g->ntypes > 1 ? g->types[g->ntypes - 1].id : 0;
    uint32_t *dense = NULL;
    if ((uint64_t)maxid <= 4 * (uint64_t)g->ntypes + 4096) {
        dense = calloc((size_t)maxid + 1, sizeof *dense);
        if (!dense)
            return nomem(L);
        for (uint32_t i = 1; i < g->ntypes; i++)
            dense[g->types[i].id] = i;
    }
    for (uint32_t v = 0; v < g->n; v++) {
        uint32_t id = g->type[v], idx = 0;
        if (dense) {
            idx = id <= maxid ? dense[id] : 0;
        } else {
            uint32_t lo = 1, hi = g->ntypes;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (g->types[mid].id < id)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            idx = lo < g->ntypes && g->types[lo].id == id ? lo : 0;
        }
        if (!idx)
            g->stats.unknown_type_nodes++;
        g->type[v] = idx;
    }
    free(dense);
    rs_qsort(g->elabels, g->nelabels, sizeof *g->elabels, by_label_id);
    return 0;
}

/* ---- pass 3: edges ---------------------------------------------------------------- */

struct overflow {
    uint32_t node, start, len;
};

struct edge_batch;
/* The references of a span of the snapshot's ranges, decoded by one thread. */
struct edge_pass {
    uint32_t *dst;              /* targets, in file order */
    uint64_t m, cap;
    uint64_t dangling_sources, external_edges, edge_entries; /* for g->stats */
    struct edge_batch *batch;
    /* A pass after the first keeps its sources' lists (start in its own dst) to be joined
     * in order once the passes before it are done; the first sets the graph's at once. */
    bool deferred;
    struct overflow *lists;
    size_t nlists, lists_cap;
    struct overflow *extra;     /* further edge lists of a source seen before */
    size_t nextra, extra_cap;
};

/* Looks up n addresses, in three overlapping stages a few items apart (slot, then the
 * object's address, then the comparison), so the cache misses of one lookup overlap those
 * of the next ones. */
static void lookup_batch(const struct rs_snap_graph *g, const uint64_t *a, uint32_t *out,
                         size_t n)
{
    const size_t D = PREFETCH_AHEAD;
    for (size_t j = 0; j < n + 2 * D; j++) {
        if (j < n) {
            out[j] = (uint32_t)index_home(g, a[j]);
            __builtin_prefetch(&g->hash[out[j]]);
        }
        if (j >= D && j - D < n) {
            uint32_t sl = g->hash[out[j - D]];
            if (sl)
                __builtin_prefetch(&g->addr[sl - 1]);
        }
        if (j >= 2 * D && j - 2 * D < n) {
            size_t k = j - 2 * D;
            uint64_t i = out[k];
            uint32_t r = RS_SNAP_NONE;
            for (;;) {
                uint32_t sl = g->hash[i];
                if (!sl)
                    break;
                if (g->addr[sl - 1] == a[k]) {
                    r = sl - 1;
                    break;
                }
                i = (i + 1) & g->hmask;
            }
            out[k] = r;
        }
    }
}

#define EDGE_BATCH 8192

struct edge_batch {
    uint64_t addr[EDGE_BATCH];
    uint32_t node[EDGE_BATCH];
    bool is_source[EDGE_BATCH];
    size_t n;
    /* the source being filled, across batches */
    uint32_t src;
    uint64_t start;
};

static int too_many_edges(struct load *L)
{
    snprintf(L->err, L->errcap, "snapshot %u: more than 4 billion references, too many to analyse",
             (unsigned)L->g->info->id);
    return -1;
}

static int append_edge(struct load *L, struct edge_pass *E, uint32_t t)
{
    if (E->m >= E->cap) {
        uint64_t want = E->cap ? E->cap * 2 : 1 << 16;
        if (want > UINT32_MAX - 1)
            want = UINT32_MAX - 1;
        if (E->m >= want)
            return too_many_edges(L);
        uint32_t *p = rs_realloc_table(E->dst, E->cap * sizeof *p, want * sizeof *p);
        if (!p)
            return nomem(L);
        E->dst = p;
        E->cap = want;
    }
    E->dst[E->m++] = t;
    return 0;
}

/* Source s's references at [start, start + len) of the first pass's dst. */
static int attach_list(struct load *L, struct edge_pass *E, uint32_t s, uint32_t start,
                       uint32_t len)
{
    struct rs_snap_graph *g = L->g;
    if (g->out_len[s] == 0) {
        g->out_start[s] = start;
        g->out_len[s] = len;
    } else if (g->out_start[s] + g->out_len[s] == start) {
        g->out_len[s] += len; /* the same list, continued */
    } else {
        if (!rs_grow((void **)&E->extra, &E->extra_cap, E->nextra, sizeof *E->extra))
            return nomem(L);
        E->extra[E->nextra++] = (struct overflow){s, start, len};
    }
    return 0;
}

/* Ends the edge list of the current source. */
static int close_source(struct load *L, struct edge_pass *E, struct edge_batch *B)
{
    uint32_t s = B->src;
    if (s == RS_SNAP_NONE || E->m == B->start)
        return 0;
    uint32_t len = (uint32_t)(E->m - B->start);
    if (!E->deferred)
        return attach_list(L, E, s, (uint32_t)B->start, len);
    if (!rs_grow((void **)&E->lists, &E->lists_cap, E->nlists, sizeof *E->lists))
        return nomem(L);
    E->lists[E->nlists++] = (struct overflow){s, (uint32_t)B->start, len};
    return 0;
}

static int flush_batch(struct load *L, struct edge_pass *E, struct edge_batch *B)
{
    lookup_batch(L->g, B->addr, B->node, B->n);
    for (size_t i = 0; i < B->n; i++) {
        if (B->is_source[i]) {
            int rc = close_source(L, E, B);
            if (rc)
                return rc;
            B->src = B->node[i];
            B->start = E->m;
            if (B->src == RS_SNAP_NONE)
                E->dangling_sources++;
        } else {
            E->edge_entries++;
            if (B->src == RS_SNAP_NONE)
                continue;
            if (B->node[i] == RS_SNAP_NONE) {
                E->external_edges++;
            } else {
                int rc = append_edge(L, E, B->node[i]);
                if (rc)
                    return rc;
            }
        }
    }
    B->n = 0;
    return 0;
}

static int decode_edges(struct load *L, uint8_t tag, struct rs_cursor *c)
{
    (void)tag;
    struct edge_pass *E = L->edges;
    struct edge_batch *B = E->batch;
    uint64_t count, prev_src = 0;
    int rc;
    if (!rs_cur_varint(c, &count) || count > rs_cur_left(c) / PAIR_MIN_BYTES)
        CORRUPT(L, "reference record cut short");
    B->n = 0;
    B->src = RS_SNAP_NONE;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t ds, nt;
        if (!rs_cur_varint(c, &ds) || !rs_cur_varint(c, &nt))
            CORRUPT(L, "reference record cut short");
        if (nt > rs_cur_left(c) / PAIR_MIN_BYTES)
            CORRUPT(L, "reference record with an impossible count (%llu)",
                    (unsigned long long)nt);
        prev_src += (uint64_t)rs_unzigzag(ds);
        if (B->n == EDGE_BATCH && (rc = flush_batch(L, E, B)))
            return rc;
        B->addr[B->n] = prev_src;
        B->is_source[B->n++] = true;
        uint64_t prev_t = prev_src;
        for (uint64_t k = 0; k < nt; k++) {
            uint64_t dt, label;
            if (!rs_cur_varint(c, &dt) || !rs_cur_varint(c, &label))
                CORRUPT(L, "reference record cut short");
            prev_t += (uint64_t)rs_unzigzag(dt);
            if (B->n == EDGE_BATCH && (rc = flush_batch(L, E, B)))
                return rc;
            B->addr[B->n] = prev_t;
            B->is_source[B->n++] = false;
        }
    }
    if ((rc = flush_batch(L, E, B)))
        return rc;
    return close_source(L, E, B);
}

static int by_overflow_node(const void *a, const void *b)
{
    const struct overflow *x = a, *y = b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Sources whose references came in several lists: every node's references are made one
 * run again (rare: copies the edges once). */
static int merge_overflow(struct load *L, struct edge_pass *E)
{
    struct rs_snap_graph *g = L->g;
    rs_qsort(E->extra, E->nextra, sizeof *E->extra, by_overflow_node);
    uint32_t *nd = malloc((g->m ? g->m : 1) * sizeof *nd);
    if (!nd)
        return nomem(L);
    uint64_t w = 0;
    size_t x = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        uint32_t start = (uint32_t)w;
        memcpy(nd + w, g->dst + g->out_start[v], (size_t)g->out_len[v] * sizeof *nd);
        w += g->out_len[v];
        for (; x < E->nextra && E->extra[x].node == v; x++) {
            memcpy(nd + w, g->dst + E->extra[x].start, (size_t)E->extra[x].len * sizeof *nd);
            w += E->extra[x].len;
        }
        g->out_start[v] = start;
        g->out_len[v] = (uint32_t)(w - start);
    }
    free(g->dst);
    g->dst = nd;
    return 0;
}

/* ---- loading ----------------------------------------------------------------------- */

uint64_t rs_snap_big_size(const struct rs_snap_graph *g, uint32_t v)
{
    size_t lo = 0, hi = g->nbig;
    while (lo < hi) { /* appended in node order */
        size_t mid = lo + (hi - lo) / 2;
        if (g->big[mid].node < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->nbig && g->big[lo].node == v ? g->big[lo].size : UINT32_MAX;
}

/* The address index goes once the references are resolved, unless the caller keeps it. */
static void drop_index_unless_kept(struct rs_snap_graph *g, unsigned flags)
{
    if (!(flags & RS_SNAP_KEEP_INDEX)) {
        free(g->hash);
        g->hash = NULL;
    }
}

/* Snapshots with at least this many bytes of records have their references decoded by two
 * threads, each over half of the ranges: the lookups in the address index, most of the
 * work, only read the graph. The report loads them after its replay, when the other CPU
 * has nothing left to do: on the 5M-object bench trace 0.33 s in one thread, 0.20-0.21 s
 * in two (a little under half: the halves' tables are joined, and both fault in fresh
 * memory at once). Below a few MB a thread costs more than it saves. */
static uint64_t parallel_min_bytes = 4u << 20;

void rs_snap_set_parallel_min_bytes(uint64_t bytes)
{
    parallel_min_bytes = bytes;
}

struct edge_worker {
    struct load L;
    struct rs_snap_source src; /* the file again, with a buffer of its own */
    struct edge_pass E;
    size_t from, to;           /* ranges */
    char err[512];
    int rc;
};

static int decode_span(struct load *L, struct edge_pass *E, size_t from, size_t to)
{
    E->batch = malloc(sizeof *E->batch);
    if (!E->batch)
        return nomem(L);
    L->edges = E;
    int rc = walk_ranges(L, from, to, T_EDGES, decode_edges);
    L->edges = NULL;
    free(E->batch);
    E->batch = NULL;
    return rc;
}

static void *edge_worker_main(void *arg)
{
    struct edge_worker *w = arg;
    w->rc = decode_span(&w->L, &w->E, w->from, w->to);
    return NULL;
}

/* Appends pass B's references to A's, and sets the lists B kept as the first pass would
 * have, in file order. */
static int join_passes(struct load *L, struct edge_pass *A, struct edge_pass *B)
{
    if (A->m + B->m > UINT32_MAX - 1)
        return too_many_edges(L);
    if (A->m + B->m > A->cap) {
        uint32_t *p = rs_realloc_table(A->dst, A->cap * sizeof *p, (A->m + B->m) * sizeof *p);
        if (!p)
            return nomem(L);
        A->dst = p;
        A->cap = A->m + B->m;
    }
    if (B->m)
        memcpy(A->dst + A->m, B->dst, B->m * sizeof *B->dst);
    uint32_t offset = (uint32_t)A->m;
    A->m += B->m;
    for (size_t i = 0; i < B->nlists; i++) {
        int rc = attach_list(L, A, B->lists[i].node, B->lists[i].start + offset, B->lists[i].len);
        if (rc)
            return rc;
    }
    A->dangling_sources += B->dangling_sources;
    A->external_edges += B->external_edges;
    A->edge_entries += B->edge_entries;
    return 0;
}

/* Where the second half of the ranges starts (by bytes), or 0: one pass. */
static size_t parallel_split(const struct rs_snap_info *si)
{
    uint64_t total = 0, upto = 0;
    for (size_t r = 0; r < si->nranges; r++)
        total += si->ranges[r].end - si->ranges[r].off;
    if (si->nranges < 2 || total < parallel_min_bytes)
        return 0;
    for (size_t r = 0; r + 1 < si->nranges; r++) {
        upto += si->ranges[r].end - si->ranges[r].off;
        if (upto * 2 >= total)
            return r + 1;
    }
    return si->nranges - 1;
}

/* Decodes the references of the ranges [0, split) in this thread and of [split, nranges)
 * in another (all of them here when split is 0 or no thread can be started). */
static int decode_passes(struct load *L, struct edge_pass *A, size_t split)
{
    size_t nranges = L->g->info->nranges;
    struct edge_worker *w = split ? calloc(1, sizeof *w) : NULL;
    pthread_t thread;
    bool started = false;
    if (w) {
        w->src = *L->src;
        w->src.buf = NULL;
        w->src.cap = 0;
        w->L = (struct load){L->g, &w->src, w->err, sizeof w->err, 0, L->capacity, NULL, NULL, 0};
        w->E.deferred = true;
        w->from = split;
        w->to = nranges;
        started = pthread_create(&thread, NULL, edge_worker_main, w) == 0;
    }
    int rc = decode_span(L, A, 0, started ? split : nranges);
    if (started) {
        pthread_join(thread, NULL);
        if (rc == 0 && w->rc) {
            snprintf(L->err, L->errcap, "%s", w->err);
            rc = w->rc;
        }
        if (rc == 0)
            rc = join_passes(L, A, &w->E);
    }
    if (w) {
        free(w->src.buf);
        free(w->E.dst);
        free(w->E.lists);
        free(w);
    }
    return rc;
}

/* Pass 3: the references, resolved through the address index. */
static int load_edges(struct load *L)
{
    struct rs_snap_graph *g = L->g;
    size_t n = g->n ? g->n : 1;
    g->out_start = rs_calloc_table(n, sizeof *g->out_start);
    g->out_len = rs_calloc_table(n, sizeof *g->out_len);
    if (!g->out_start || !g->out_len)
        return nomem(L);
    struct edge_pass E = {0};
    int rc = decode_passes(L, &E, parallel_split(g->info));
    g->dst = E.dst;
    g->m = E.m;
    g->stats.dangling_sources += E.dangling_sources;
    g->stats.external_edges += E.external_edges;
    g->stats.edge_entries += E.edge_entries;
    if (rc == 0 && E.nextra)
        rc = merge_overflow(L, &E);
    free(E.extra);
    if (rc)
        return rc;
    if (!g->dst && !(g->dst = malloc(sizeof *g->dst)))
        return nomem(L);
    g->has_edges = true;
    g->load_flags |= RS_SNAP_LOAD_EDGES;
    return 0;
}

int rs_snap_load(struct rs_snap_graph *g, const struct rs_snap_info *info,
                 struct rs_snap_source *src, unsigned flags, char *err, size_t errcap)
{
    memset(g, 0, sizeof *g);
    g->info = info;
    g->load_flags = flags;
    struct load L = {g, src, err, errcap, info->begin_at, 0, NULL, NULL, 0};
    if (!info->complete) {
        snprintf(err, errcap, "snapshot %u is incomplete (no end record)", (unsigned)info->id);
        return -1;
    }
    struct counts k = {0};
    g->hash = (uint32_t *)&k;
    int rc = walk(&L, T_NODES | T_TYPE | T_LABEL | T_ROOT | T_WEAK, count_record);
    g->hash = NULL;
    if (rc)
        goto fail;
    if (k.nodes >= UINT32_MAX - 1) {
        snprintf(err, errcap, "snapshot %u: more than 4 billion objects, too many to analyse",
                 (unsigned)info->id);
        rc = -1;
        goto fail;
    }
    size_t n = (size_t)k.nodes ? (size_t)k.nodes : 1;
    g->addr = rs_malloc_table(n, sizeof *g->addr);
    g->type = rs_malloc_table(n, sizeof *g->type);
    g->size = rs_malloc_table(n, sizeof *g->size);
    g->refcnt = rs_malloc_table(n, sizeof *g->refcnt);
    g->flags = rs_malloc_table(n, sizeof *g->flags);
    g->preheader = rs_malloc_table(n, sizeof *g->preheader);
    g->types = calloc(k.types + 1, sizeof *g->types);
    g->elabels = calloc(k.labels + 1, sizeof *g->elabels);
    g->roots = calloc(k.roots + 1, sizeof *g->roots);
    g->weak = k.weak < SIZE_MAX / 16 ? malloc(((size_t)k.weak + 1) * 2 * sizeof(uint64_t)) : NULL;
    L.weak_room = k.weak;
    if (flags & RS_SNAP_LOAD_LABELS) {
        g->label = rs_malloc_table(n, sizeof *g->label);
        g->ltext_cap = 4096;
        g->ltext = malloc(g->ltext_cap);
        if (g->ltext)
            g->ltext_len = 1; /* offset 0 means "no label" */
    }
    if (!g->addr || !g->type || !g->size || !g->refcnt || !g->flags || !g->preheader ||
        !g->types || !g->elabels || !g->roots || !g->weak || ((flags & RS_SNAP_LOAD_LABELS) &&
        (!g->label || !g->ltext)) || !index_alloc(g, k.nodes)) {
        rc = nomem(&L);
        goto fail;
    }
    uint64_t unknown_name;
    if (!add_string(g, (const uint8_t *)"<unknown type>", 14, &unknown_name)) {
        rc = nomem(&L);
        goto fail;
    }
    g->types[0] = (struct rs_snap_type){.name = unknown_name, .name_len = 14};
    g->ntypes = 1;
    L.capacity = k.nodes;
    rc = walk(&L, T_NODES | T_TYPE | T_LABEL | T_ROOT | T_WEAK, pass2_record);
    if (rc || (rc = map_types(&L)))
        goto fail;
    for (size_t i = 0; i < g->nroots; i++) {
        g->roots[i].node = index_find(g, g->roots[i].addr);
        if (g->roots[i].node == RS_SNAP_NONE)
            g->stats.unresolved_roots++;
    }
    resolve_weak(g);

    if ((flags & RS_SNAP_LOAD_EDGES) && (rc = load_edges(&L)))
        goto fail;
    drop_index_unless_kept(g, flags);
    return 0;

fail:
    rs_snap_graph_free(g);
    g->info = info;
    return rc;
}

int rs_snap_load_edges(struct rs_snap_graph *g, struct rs_snap_source *src, unsigned flags,
                       char *err, size_t errcap)
{
    struct load L = {g, src, err, errcap, g->info->begin_at, g->n, NULL, NULL, 0};
    if (!g->hash || g->has_edges) {
        snprintf(err, errcap, "snapshot %u: its references are loaded already or it has no index",
                 (unsigned)g->info->id);
        return -1;
    }
    int rc = load_edges(&L);
    if (rc) {
        free(g->out_start);
        free(g->out_len);
        free(g->dst);
        g->out_start = g->out_len = g->dst = NULL;
        g->m = 0;
        g->has_edges = false;
    }
    drop_index_unless_kept(g, flags);
    return rc;
}

void rs_snap_graph_free(struct rs_snap_graph *g)
{
    free(g->addr);
    free(g->type);
    free(g->size);
    free(g->refcnt);
    free(g->flags);
    free(g->preheader);
    free(g->label);
    free(g->ltext);
    free(g->big);
    free(g->types);
    free(g->elabels);
    free(g->roots);
    free(g->weak);
    free(g->strings);
    free(g->out_start);
    free(g->out_len);
    free(g->dst);
    free(g->in_off);
    free(g->src);
    free(g->hash);
    memset(g, 0, sizeof *g);
}

void rs_snap_add_notes(const struct rs_snap_graph *g, struct rs_notes *notes)
{
    const struct rs_snap_stats *s = &g->stats;
    unsigned id = g->info ? g->info->id : 0;
    if (s->duplicate_nodes)
        rs_notes_add(notes, RS_NOTE_WARNING,
                     "snapshot %u records %llu object(s) twice: the first record is used", id,
                     (unsigned long long)s->duplicate_nodes);
    if (s->unknown_type_nodes)
        rs_notes_add(notes, RS_NOTE_WARNING,
                     "snapshot %u: %llu object(s) name a type it does not describe", id,
                     (unsigned long long)s->unknown_type_nodes);
    if (s->duplicate_types)
        rs_notes_add(notes, RS_NOTE_WARNING,
                     "snapshot %u describes %llu type id(s) twice: the first is used", id,
                     (unsigned long long)s->duplicate_types);
    if (s->dangling_sources)
        rs_notes_add(notes, RS_NOTE_WARNING,
                     "snapshot %u: references from %llu address(es) that are not recorded "
                     "objects were ignored", id, (unsigned long long)s->dangling_sources);
    if (s->unresolved_roots)
        rs_notes_add(notes, RS_NOTE_WARNING,
                     "snapshot %u: %llu root(s) name no recorded object", id,
                     (unsigned long long)s->unresolved_roots);
    if (s->implausible_sizes)
        rs_notes_add(notes, RS_NOTE_WARNING,
                     "snapshot %u: %llu object(s) report a size over 1 TB, counted as 0", id,
                     (unsigned long long)s->implausible_sizes);
    if (s->dropped_labels)
        rs_notes_add(notes, RS_NOTE_WARNING, "snapshot %u: %llu object label(s) dropped", id,
                     (unsigned long long)s->dropped_labels);
    if (g->info && g->info->end_nodes != g->n + s->duplicate_nodes)
        rs_notes_add(notes, RS_NOTE_WARNING,
                     "snapshot %u: its end record counts %llu objects, %llu were decoded", id,
                     (unsigned long long)g->info->end_nodes,
                     (unsigned long long)(g->n + s->duplicate_nodes));
}

/* ---- reverse edges ----------------------------------------------------------------- */

int rs_snap_build_reverse(struct rs_snap_graph *g)
{
    if (g->in_off)
        return 0;
    g->in_off = rs_calloc_table((size_t)g->n + 1, sizeof *g->in_off);
    g->src = rs_malloc_table(g->m ? g->m : 1, sizeof *g->src);
    if (!g->in_off || !g->src) {
        free(g->in_off);
        free(g->src);
        g->in_off = g->src = NULL;
        return -1;
    }
    for (uint64_t e = 0; e < g->m; e++)
        g->in_off[g->dst[e] + 1]++;
    for (uint32_t v = 0; v < g->n; v++)
        g->in_off[v + 1] += g->in_off[v];
    /* Fill from the back so each in-list ends up in increasing source order. */
    for (uint32_t v = g->n; v > 0; v--) {
        uint32_t s = v - 1;
        for (uint32_t e = g->out_start[s] + g->out_len[s]; e > g->out_start[s]; e--)
            g->src[--g->in_off[g->dst[e - 1] + 1]] = s;
    }
    /* in_off[v + 1] now holds the start of v's list: shift back by one. */
    memmove(g->in_off, g->in_off + 1, (size_t)g->n * sizeof *g->in_off);
    g->in_off[g->n] = (uint32_t)g->m;
    return 0;
}

/* ---- edge labels, looked up in the file ------------------------------------------ */

struct want {
    uint64_t from_addr;
    size_t i;                   /* index in the caller's array */
};

struct label_pass {
    struct rs_snap_edge_ref *edges;
    size_t n;
    struct want *by_from;       /* sorted by from_addr */
    size_t left;                /* not found yet */
};

static int by_want(const void *a, const void *b)
{
    const struct want *x = a, *y = b;
    if (x->from_addr != y->from_addr)
        return x->from_addr < y->from_addr ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* The first of w[0..n) (sorted by by_want) at addr or above. */
static size_t want_lower_bound(const struct want *w, size_t n, uint64_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].from_addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const struct rs_snap_edge_label *find_label(const struct rs_snap_graph *g, uint64_t id)
{
    size_t lo = 0, hi = g->nelabels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->elabels[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->nelabels && g->elabels[lo].id == id ? &g->elabels[lo] : NULL;
}

static bool set_label(const struct rs_snap_graph *g, struct rs_snap_edge_ref *e, uint64_t raw)
{
    e->found = true;
    e->kind = 0;
    e->index = 0;
    const char *text = "";
    size_t len = 0;
    if (raw & 1) {
        e->kind = RS_SNAP_EDGE_INDEX;
        e->index = raw >> 1;
    } else if (raw) {
        const struct rs_snap_edge_label *l = find_label(g, raw >> 1);
        if (l) {
            e->kind = l->kind;
            text = g->strings + l->text;
            len = l->len;
        } else {
            e->kind = RS_EDGE_SPECIAL;
            text = "?";
            len = 1;
        }
    }
    free(e->text);
    e->text = malloc(len + 1);
    if (!e->text)
        return false;
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    e->len = len;
    return true;
}

static int label_record(struct load *L, uint8_t tag, struct rs_cursor *c)
{
    (void)tag;
    struct label_pass *P = L->arg;
    const struct rs_snap_graph *g = L->g;
    uint64_t count, prev_src = 0;
    if (!rs_cur_varint(c, &count) || count > rs_cur_left(c) / PAIR_MIN_BYTES)
        CORRUPT(L, "reference record cut short");
    for (uint64_t i = 0; i < count && P->left; i++) {
        uint64_t ds, nt;
        if (!rs_cur_varint(c, &ds) || !rs_cur_varint(c, &nt) ||
            nt > rs_cur_left(c) / PAIR_MIN_BYTES)
            CORRUPT(L, "reference record cut short");
        prev_src += (uint64_t)rs_unzigzag(ds);
        size_t lo = want_lower_bound(P->by_from, P->n, prev_src);
        bool wanted = lo < P->n && P->by_from[lo].from_addr == prev_src;
        uint64_t prev_t = prev_src;
        for (uint64_t k = 0; k < nt; k++) {
            uint64_t dt, label;
            if (!rs_cur_varint(c, &dt) || !rs_cur_varint(c, &label))
                CORRUPT(L, "reference record cut short");
            prev_t += (uint64_t)rs_unzigzag(dt);
            if (!wanted)
                continue;
            for (size_t w = lo; w < P->n && P->by_from[w].from_addr == prev_src; w++) {
                struct rs_snap_edge_ref *e = &P->edges[P->by_from[w].i];
                if (!e->found && e->to < g->n && g->addr[e->to] == prev_t) {
                    if (!set_label(g, e, label))
                        return nomem(L);
                    P->left--;
                }
            }
        }
    }
    return 0;
}

int rs_snap_edge_labels(const struct rs_snap_graph *g, struct rs_snap_source *src,
                        struct rs_snap_edge_ref *edges, size_t n, char *err, size_t errcap)
{
    struct load L = {(struct rs_snap_graph *)g, src, err, errcap, 0, 0, NULL, NULL, 0};
    struct label_pass P = {edges, n, NULL, 0};
    if (n == 0)
        return 0;
    P.by_from = malloc(n * sizeof *P.by_from);
    if (!P.by_from)
        return nomem(&L);
    for (size_t i = 0; i < n; i++) {
        edges[i].found = false;
        edges[i].kind = 0;
        P.by_from[P.left++] = (struct want){edges[i].from < g->n ? g->addr[edges[i].from] : 0, i};
    }
    rs_qsort(P.by_from, n, sizeof *P.by_from, by_want);
    L.arg = &P;
    int rc = walk(&L, T_EDGES, label_record);
    free(P.by_from);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!edges[i].text && !(edges[i].text = calloc(1, 1)))
            rc = nomem(&L);
    }
    return rc;
}

struct node_label_pass {
    struct want *by_addr;       /* sorted by address; i: the object, SIZE_MAX once labelled */
    size_t n;
    size_t left;
};

static int node_label_record(struct load *L, uint8_t tag, struct rs_cursor *c)
{
    (void)tag;
    struct node_label_pass *P = L->arg;
    uint64_t count, prev = 0;
    if (!rs_cur_varint(c, &count) || count > rs_cur_left(c) / NODE_MIN_BYTES)
        CORRUPT(L, "object record cut short");
    for (uint64_t i = 0; i < count && P->left; i++) {
        struct node_fields f;
        if (!decode_node_fields(c, &f))
            CORRUPT(L, "object record cut short");
        prev += (uint64_t)rs_unzigzag(f.da);
        if (prev < P->by_addr[0].from_addr || prev > P->by_addr[P->n - 1].from_addr)
            continue;
        size_t lo = want_lower_bound(P->by_addr, P->n, prev);
        /* The first record of an address is the object (decode_nodes). */
        if (lo == P->n || P->by_addr[lo].from_addr != prev || P->by_addr[lo].i == SIZE_MAX)
            continue;
        if (!add_node_label(L->g, (uint32_t)P->by_addr[lo].i, f.label, f.llen))
            return nomem(L);
        P->by_addr[lo].i = SIZE_MAX;
        P->left--;
    }
    return 0;
}

int rs_snap_node_labels(struct rs_snap_graph *g, struct rs_snap_source *src,
                        const uint32_t *nodes, size_t n, char *err, size_t errcap)
{
    struct load L = {g, src, err, errcap, 0, 0, NULL, NULL, 0};
    if (g->label || n == 0)
        return 0;
    struct node_label_pass P = {malloc(n * sizeof *P.by_addr), 0, 0};
    g->label = calloc(g->n ? g->n : 1, sizeof *g->label);
    g->ltext_cap = 4096;
    g->ltext = malloc(g->ltext_cap);
    if (!P.by_addr || !g->label || !g->ltext) {
        free(P.by_addr);
        free(g->label);
        free(g->ltext);
        g->label = NULL;
        g->ltext = NULL;
        return nomem(&L);
    }
    g->ltext_len = 1; /* offset 0 means "no label" */
    for (size_t i = 0; i < n; i++) {
        if (nodes[i] < g->n)
            P.by_addr[P.n++] = (struct want){g->addr[nodes[i]], nodes[i]};
    }
    rs_qsort(P.by_addr, P.n, sizeof *P.by_addr, by_want);
    size_t u = 0; /* one entry an object */
    for (size_t i = 0; i < P.n; i++) {
        if (u == 0 || P.by_addr[i].from_addr != P.by_addr[u - 1].from_addr)
            P.by_addr[u++] = P.by_addr[i];
    }
    P.n = P.left = u;
    L.arg = &P;
    int rc = P.n ? walk(&L, T_NODES, node_label_record) : 0;
    free(P.by_addr);
    return rc;
}

struct items_pass {
    const struct rs_snap_graph *g;
    const uint32_t *nodes;
    uint64_t *blocks;
    size_t n;        /* a few: looked up one by one */
};

static int items_record(struct load *L, uint8_t tag, struct rs_cursor *body)
{
    (void)tag;
    struct items_pass *P = L->arg;
    uint64_t n, obj, block;
    if (!rs_cur_varint(body, &n) || n > rs_cur_left(body) / PAIR_MIN_BYTES)
        CORRUPT(L, "item block record cut short");
    for (uint64_t i = 0; i < n; i++) {
        if (!rs_cur_varint(body, &obj) || !rs_cur_varint(body, &block))
            CORRUPT(L, "item block record cut short");
        for (size_t k = 0; k < P->n; k++) {
            if (P->nodes[k] < P->g->n && P->g->addr[P->nodes[k]] == obj)
                P->blocks[k] = block;
        }
    }
    return 0;
}

int rs_snap_items_blocks(const struct rs_snap_graph *g, struct rs_snap_source *src,
                         const uint32_t *nodes, size_t n, uint64_t *blocks, char *err,
                         size_t errcap)
{
    struct items_pass P = {g, nodes, blocks, n};
    struct load L = {(struct rs_snap_graph *)g, src, err, errcap, 0, 0, NULL, &P, 0};
    for (size_t k = 0; k < n; k++)
        blocks[k] = 0;
    return n ? walk(&L, T_BUFFERS, items_record) : 0;
}

void rs_snap_edge_refs_free(struct rs_snap_edge_ref *edges, size_t n)
{
    for (size_t i = 0; edges && i < n; i++) {
        free(edges[i].text);
        edges[i].text = NULL;
    }
}
