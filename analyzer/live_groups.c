#include "live_groups.h"

#include "rs_uthash.h"

#include <stdlib.h>
#include <string.h>

/* Sums are exact (128 bits) and saturate only when read, as a sum of saturating additions
 * over the blocks would: absurd sizes from a damaged trace give UINT64_MAX, not a wrap. */
typedef unsigned __int128 exact_t;

struct group {
    struct rs_group_key key;
    exact_t blocks, bytes;
    exact_t peak_blocks, peak_bytes; /* when changed: the counts at the latest peak */
    bool changed;                    /* since the latest peak */
};

struct key_entry {
    struct rs_group_key key;
    uint32_t index;
    UT_hash_handle hh;
};

/* Groups met lately, by a hash of their key: a program's allocations cycle through a few
 * stacks (a loop's lines), and the hash table's probe (a hash of the whole key and a chain
 * walk) cost more than the rest of an event's accounting. */
#define RECENT_SLOTS 256

struct recent_group {
    struct rs_group_key key;
    uint32_t index;                  /* UINT32_MAX: empty */
};

struct rs_live_groups {
    struct group *v;
    size_t n, cap;
    uint32_t *changed;               /* indices of the groups changed since the peak */
    size_t nchanged, changed_cap;
    struct key_entry *by_key;
    struct recent_group recent[RECENT_SLOTS];
};

struct rs_live_groups *rs_live_groups_new(void)
{
    struct rs_live_groups *G = calloc(1, sizeof *G);
    for (size_t i = 0; G && i < RECENT_SLOTS; i++)
        G->recent[i].index = UINT32_MAX;
    return G;
}

void rs_live_groups_free(struct rs_live_groups *G)
{
    if (!G)
        return;
    struct key_entry *e, *tmp;
    HASH_ITER(hh, G->by_key, e, tmp) {
        HASH_DEL(G->by_key, e);
        free(e);
    }
    free(G->v);
    free(G->changed);
    free(G);
}

static bool same_key(const struct rs_group_key *a, const struct rs_group_key *b)
{
    return a->stack_id == b->stack_id && a->tid == b->tid && a->flags == b->flags &&
           a->after_mark == b->after_mark;
}

static struct recent_group *recent_slot(struct rs_live_groups *G, const struct rs_group_key *key)
{
    uint32_t h = (key->stack_id ^ key->tid * 0x85EBCA6Bu ^ key->flags << 29 ^ key->after_mark << 30) *
                 0x9E3779B1u;
    return &G->recent[h >> 24];
}

uint32_t rs_live_groups_index(struct rs_live_groups *G, const struct rs_group_key *key)
{
    struct recent_group *r = recent_slot(G, key);
    if (r->index != UINT32_MAX && same_key(&r->key, key))
        return r->index;
    struct key_entry *e = NULL;
    HASH_FIND(hh, G->by_key, key, sizeof *key, e);
    if (!e) {
        if (G->n == UINT32_MAX - 1)
            return UINT32_MAX;
        /* a group is on the changed list at most once: room for all of them */
        if (!rs_grow((void **)&G->v, &G->cap, G->n, sizeof *G->v) ||
            !rs_grow((void **)&G->changed, &G->changed_cap, G->n, sizeof *G->changed) ||
            !(e = calloc(1, sizeof *e)))
            return UINT32_MAX;
        e->key = *key;
        e->index = (uint32_t)G->n;
        G->v[G->n++] = (struct group){.key = *key};
        HASH_ADD(hh, G->by_key, key, sizeof e->key, e);
    }
    r->key = *key;
    r->index = e->index;
    return e->index;
}

void rs_live_groups_count(struct rs_live_groups *G, uint32_t i, uint64_t blocks, uint64_t bytes,
                          bool in)
{
    struct group *g = &G->v[i];
    if (!g->changed) {
        g->changed = true;
        g->peak_blocks = g->blocks;
        g->peak_bytes = g->bytes;
        G->changed[G->nchanged++] = i;
    }
    if (in) {
        g->blocks += blocks;
        g->bytes += bytes;
    } else {
        g->blocks -= blocks;
        g->bytes -= bytes;
    }
}

void rs_live_groups_peak(struct rs_live_groups *G)
{
    for (size_t k = 0; k < G->nchanged; k++)
        G->v[G->changed[k]].changed = false;
    G->nchanged = 0;
}

struct point_row {
    struct rs_group_key key;         /* after_mark 0: the halves merge */
    exact_t blocks, bytes;
};

static int by_key(const void *a, const void *b)
{
    const struct point_row *x = a, *y = b;
    if (x->key.stack_id != y->key.stack_id)
        return x->key.stack_id < y->key.stack_id ? -1 : 1;
    if (x->key.tid != y->key.tid)
        return x->key.tid < y->key.tid ? -1 : 1;
    return x->key.flags < y->key.flags ? -1 : x->key.flags > y->key.flags;
}

static uint64_t saturated(exact_t v)
{
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

int rs_live_groups_point(const struct rs_live_groups *G, bool at_peak, bool only_before_mark,
                         uint64_t time, struct rs_live_point *out)
{
    memset(out, 0, sizeof *out);
    struct point_row *rows = calloc(G->n ? G->n : 1, sizeof *rows);
    if (!rows)
        return -1;
    size_t n = 0;
    exact_t blocks = 0, bytes = 0;
    for (size_t i = 0; i < G->n; i++) {
        const struct group *g = &G->v[i];
        bool then = at_peak && g->changed;
        exact_t b = then ? g->peak_blocks : g->blocks;
        if (b == 0 || (only_before_mark && g->key.after_mark))
            continue; /* every block counts at least one: no block live in it */
        rows[n] = (struct point_row){.key = g->key, .blocks = b,
                                     .bytes = then ? g->peak_bytes : g->bytes};
        rows[n].key.after_mark = 0;
        blocks += rows[n].blocks;
        bytes += rows[n].bytes;
        n++;
    }
    qsort(rows, n, sizeof *rows, by_key);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && by_key(&rows[m - 1], &rows[i]) == 0) {
            rows[m - 1].blocks += rows[i].blocks;
            rows[m - 1].bytes += rows[i].bytes;
        } else {
            rows[m++] = rows[i];
        }
    }
    out->groups = calloc(m ? m : 1, sizeof *out->groups);
    if (!out->groups) {
        free(rows);
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        out->groups[i] = (struct rs_live_group){
            .stack_id = rows[i].key.stack_id,
            .tid = rows[i].key.tid,
            .flags = rows[i].key.flags,
            .blocks = saturated(rows[i].blocks),
            .bytes = saturated(rows[i].bytes),
        };
    }
    free(rows);
    out->ngroups = m;
    out->valid = true;
    out->time = time;
    out->blocks = saturated(blocks);
    out->bytes = saturated(bytes);
    return 0;
}
