#include "snap_algo.h"

#include "zeroed_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BEGIN(g, v) ((g)->out_start[v])
#define OUT_END(g, v) ((g)->out_start[v] + (g)->out_len[v])

void rs_snap_in_degrees(const struct rs_snap_graph *g, uint32_t *in_all, uint32_t *in_gc)
{
    if (in_all)
        memset(in_all, 0, (size_t)g->n * sizeof *in_all);
    if (in_gc)
        memset(in_gc, 0, (size_t)g->n * sizeof *in_gc);
    if (!g->has_edges)
        return;
    for (uint32_t v = 0; v < g->n; v++) {
        bool gc = (g->flags[v] & RS_NODE_GC_TRACKED) != 0;
        for (uint32_t e = OUT_BEGIN(g, v); e < OUT_END(g, v); e++) {
            uint32_t t = g->dst[e];
            if (in_all && in_all[t] < UINT32_MAX)
                in_all[t]++;
            if (gc && in_gc && in_gc[t] < UINT32_MAX)
                in_gc[t]++;
        }
    }
}

size_t rs_snap_root_kinds(const struct rs_snap_graph *g, const uint32_t *in_all, uint8_t *kind)
{
    size_t n = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        uint16_t f = g->flags[v];
        kind[v] = RS_SROOT_NONE;
        if ((f & RS_NODE_GC_TRACKED) && !(f & (RS_NODE_IMMORTAL | RS_NODE_SYNTHETIC)) &&
            in_all && g->refcnt[v] > in_all[v]) {
            kind[v] = RS_SROOT_C;
            n++;
        }
    }
    for (size_t i = 0; i < g->nroots; i++) {
        uint32_t v = g->roots[i].node;
        if (v == RS_SNAP_NONE)
            continue;
        uint8_t k = g->roots[i].kind == RS_ROOT_THREAD ? RS_SROOT_THREAD : RS_SROOT_MODULE;
        if (kind[v] == RS_SROOT_NONE)
            n++;
        if (kind[v] == RS_SROOT_NONE || kind[v] == RS_SROOT_C)
            kind[v] = k;
    }
    return n;
}

size_t rs_snap_root_record(const struct rs_snap_graph *g, uint32_t v)
{
    for (size_t i = 0; i < g->nroots; i++) {
        if (g->roots[i].node == v)
            return i;
    }
    return SIZE_MAX;
}

/* Marks with `bit` what starts reach, walking through nothing marked skip_bit, with
 * queue (room for g->n) as scratch. */
static void reach(const struct rs_snap_graph *g, uint32_t *queue, const uint32_t *starts,
                  size_t nstarts, uint8_t *mark, uint8_t bit, uint8_t skip_bit)
{
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < nstarts; i++) {
        uint32_t v = starts[i];
        if (v < g->n && !(mark[v] & bit)) {
            mark[v] |= bit;
            queue[tail++] = v;
        }
    }
    while (head < tail) {
        uint32_t v = queue[head++];
        if ((mark[v] & skip_bit) || !g->has_edges)
            continue;
        for (uint32_t e = OUT_BEGIN(g, v); e < OUT_END(g, v); e++) {
            uint32_t t = g->dst[e];
            if (!(mark[t] & bit)) {
                mark[t] |= bit;
                queue[tail++] = t;
            }
        }
    }
}

int rs_snap_reach(const struct rs_snap_graph *g, const uint32_t *starts, size_t nstarts,
                  uint8_t *mark, uint8_t bit, uint8_t skip_bit)
{
    if (g->n == 0)
        return 0;
    uint32_t *queue = malloc((size_t)g->n * sizeof *queue);
    if (!queue)
        return -1;
    reach(g, queue, starts, nstarts, mark, bit, skip_bit);
    free(queue);
    return 0;
}

int rs_snap_first_reachers(const struct rs_snap_graph *g, uint32_t *starts, size_t *nstarts,
                           uint8_t *mark, uint8_t bit)
{
    if (g->n == 0) {
        *nstarts = 0;
        return 0;
    }
    uint32_t *queue = malloc((size_t)g->n * sizeof *queue);
    if (!queue)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < *nstarts; i++) {
        if (starts[i] < g->n && !(mark[starts[i]] & bit)) {
            reach(g, queue, &starts[i], 1, mark, bit, 0);
            starts[kept++] = starts[i];
        }
    }
    *nstarts = kept;
    free(queue);
    return 0;
}

/* ---- dominators --------------------------------------------------------------------- */

struct frame {
    uint32_t v;
    uint32_t e;              /* next out-edge to look at */
};

void rs_snap_domtree_free(struct rs_snap_domtree *d)
{
    free(d->po);
    free(d->order);
    free(d->idom);
    free(d->retained);
    memset(d, 0, sizeof *d);
}

static inline uint32_t intersect(const uint32_t *idom, uint32_t a, uint32_t b)
{
    while (a != b) {
        while (a < b)
            a = idom[a];
        while (b < a)
            b = idom[b];
    }
    return a;
}

int rs_snap_dominators(const struct rs_snap_graph *g, const uint32_t *starts, size_t nstarts,
                       struct rs_snap_domtree *d)
{
    memset(d, 0, sizeof *d);
    size_t n = g->n ? g->n : 1;
    const uint32_t VISITING = RS_SNAP_SUPER;
    d->po = rs_malloc_table(n, sizeof *d->po);
    d->order = rs_malloc_table(n, sizeof *d->order);
    uint8_t *is_start = calloc((n + 7) / 8, 1);
    struct frame *stack = malloc(n * sizeof *stack);
    if (!d->po || !d->order || !is_start || !stack)
        goto nomem;
    memset(d->po, 0xFF, n * sizeof *d->po); /* RS_SNAP_NONE */

    /* Postorder by iterative DFS, from each start not reached yet. */
    uint32_t count = 0;
    for (size_t i = 0; i < nstarts; i++) {
        uint32_t s = starts[i];
        if (s >= g->n || d->po[s] != RS_SNAP_NONE)
            continue;
        is_start[s / 8] |= (uint8_t)(1u << (s % 8));
        size_t sp = 0;
        stack[sp++] = (struct frame){s, g->has_edges ? OUT_BEGIN(g, s) : 0};
        d->po[s] = VISITING;
        while (sp) {
            struct frame *f = &stack[sp - 1];
            uint32_t v = f->v;
            uint32_t end = g->has_edges ? OUT_END(g, v) : 0;
            bool descended = false;
            while (f->e < end) {
                uint32_t t = g->dst[f->e++];
                if (d->po[t] == RS_SNAP_NONE) {
                    d->po[t] = VISITING;
                    stack[sp++] = (struct frame){t, OUT_BEGIN(g, t)};
                    descended = true;
                    break;
                }
            }
            if (descended)
                continue;
            d->order[count] = v;
            d->po[v] = count++;
            sp--;
        }
    }
    free(stack);
    stack = NULL;
    d->count = count;
    d->idom = rs_malloc_table((size_t)count + 1, sizeof *d->idom);
    if (!d->idom)
        goto nomem;
    const uint32_t UNDEF = RS_SNAP_NONE;
    for (uint32_t i = 0; i < count; i++)
        d->idom[i] = UNDEF;
    d->idom[count] = count; /* the super-root */

    /* Predecessors in postorder numbers, so the iterations below read them in sequence
     * (and the caller needs no reverse edges). */
    uint32_t *pred_off = rs_calloc_table((size_t)count + 2, sizeof *pred_off);
    uint64_t np = 0;
    if (!pred_off)
        goto nomem;
    for (uint32_t i = 0; i < count && g->has_edges; i++) {
        uint32_t v = d->order[i];
        for (uint32_t e = OUT_BEGIN(g, v); e < OUT_END(g, v); e++) {
            pred_off[d->po[g->dst[e]] + 2]++;
            np++;
        }
    }
    for (uint32_t i = 2; i <= count + 1; i++)
        pred_off[i] += pred_off[i - 1];
    uint32_t *pred = rs_malloc_table(np ? np : 1, sizeof *pred);
    if (!pred) {
        free(pred_off);
        goto nomem;
    }
    for (uint32_t i = 0; i < count && g->has_edges; i++) {
        uint32_t v = d->order[i];
        for (uint32_t e = OUT_BEGIN(g, v); e < OUT_END(g, v); e++)
            pred[pred_off[d->po[g->dst[e]] + 1]++] = i;
    }
    /* preds of b: pred[pred_off[b] .. pred_off[b + 1]) */

    /* Cooper, Harvey, Kennedy: "A Simple, Fast Dominance Algorithm". Reverse postorder,
     * until nothing changes. An object with one predecessor (most of a heap: what one
     * container holds) is dominated by it, settled in the first round; later rounds visit
     * only the others, listed in `multi` (in reverse postorder) during the first. */
    uint32_t *multi = malloc(((size_t)count + 1) * sizeof *multi);
    size_t nmulti = 0;
    if (!multi) {
        free(pred);
        free(pred_off);
        goto nomem;
    }
    bool changed = true;
    while (changed) {
        changed = false;
        d->iterations++;
        bool first = d->iterations == 1;
        size_t todo = first ? count : nmulti;
        for (size_t i = 0; i < todo; i++) {
            uint32_t b = first ? count - 1 - (uint32_t)i : multi[i], v = d->order[b];
            bool start = (is_start[v / 8] & (1u << (v % 8))) != 0;
            uint32_t nd = start ? count : UNDEF;
            if (first && start + (pred_off[b + 1] - pred_off[b]) > 1)
                multi[nmulti++] = b;
            for (uint32_t k = pred_off[b]; k < pred_off[b + 1]; k++) {
                uint32_t p = pred[k];
                if (d->idom[p] == UNDEF)
                    continue;
                nd = nd == UNDEF ? p : intersect(d->idom, p, nd);
            }
            if (nd != UNDEF && d->idom[b] != nd) {
                d->idom[b] = nd;
                changed = true;
            }
        }
    }
    free(multi);
    free(pred);
    free(pred_off);
    free(is_start);
    is_start = NULL;

    d->retained = rs_malloc_table((size_t)count + 1, sizeof *d->retained);
    if (!d->retained)
        goto nomem;
    for (uint32_t i = 0; i < count; i++)
        d->retained[i] = rs_snap_size(g, d->order[i]);
    d->retained[count] = 0;
    /* A node's number is below its dominator's: one pass upwards adds every subtree. */
    for (uint32_t i = 0; i < count; i++) {
        uint32_t up = d->idom[i];
        uint64_t r = d->retained[up] + d->retained[i];
        d->retained[up] = r < d->retained[i] ? UINT64_MAX : r;
    }
    return 0;

nomem:
    free(is_start);
    free(stack);
    rs_snap_domtree_free(d);
    return -1;
}

/* ---- strongly connected components ------------------------------------------------ */

int rs_snap_scc(const struct rs_snap_graph *g, const uint8_t *in_set, uint32_t *comp,
                uint32_t *ncomp)
{
    if (!g->has_edges) { /* no references: every object is its own component */
        uint32_t nc = 0;
        for (uint32_t v = 0; v < g->n; v++)
            comp[v] = in_set[v] ? nc++ : RS_SNAP_NONE;
        *ncomp = nc;
        return 0;
    }
    /* The set's objects are numbered apart (in comp, until each gets its component) and
     * the walk's arrays are the set's size: the set is what no root reaches, a few objects
     * in most heaps, where an index of the whole graph was 28 MB of fresh memory written on
     * 7M objects to find nothing. */
    uint32_t k = 0;
    for (uint32_t v = 0; v < g->n; v++)
        comp[v] = in_set[v] ? k++ : RS_SNAP_NONE;
    size_t n = k ? k : 1;
    uint32_t *index = malloc(n * sizeof *index);
    uint32_t *low = malloc(n * sizeof *low);
    uint32_t *own = malloc(n * sizeof *own); /* the component of each, once known */
    uint32_t *stk = malloc(n * sizeof *stk);
    struct frame *call = malloc(n * sizeof *call);
    *ncomp = 0;
    if (!index || !low || !own || !stk || !call) {
        free(index);
        free(low);
        free(own);
        free(stk);
        free(call);
        return -1;
    }
    for (uint32_t i = 0; i < k; i++) {
        index[i] = RS_SNAP_NONE;
        own[i] = RS_SNAP_NONE;
    }
    uint32_t next = 0, nc = 0;
    size_t sp = 0;
    for (uint32_t root = 0; root < g->n; root++) {
        if (comp[root] == RS_SNAP_NONE || index[comp[root]] != RS_SNAP_NONE)
            continue;
        size_t cp = 0;
        call[cp++] = (struct frame){root, OUT_BEGIN(g, root)};
        index[comp[root]] = low[comp[root]] = next++;
        stk[sp++] = comp[root];
        while (cp) {
            struct frame *f = &call[cp - 1];
            uint32_t v = f->v, lv = comp[v];
            uint32_t end = OUT_END(g, v);
            bool descended = false;
            while (f->e < end) {
                uint32_t w = g->dst[f->e++];
                uint32_t lw = comp[w];
                if (lw == RS_SNAP_NONE)
                    continue;
                if (index[lw] == RS_SNAP_NONE) {
                    index[lw] = low[lw] = next++;
                    stk[sp++] = lw;
                    call[cp++] = (struct frame){w, OUT_BEGIN(g, w)};
                    descended = true;
                    break;
                }
                if (own[lw] == RS_SNAP_NONE && index[lw] < low[lv]) /* on the stack */
                    low[lv] = index[lw];
            }
            if (descended)
                continue;
            if (low[lv] == index[lv]) {
                uint32_t lw;
                do {
                    lw = stk[--sp];
                    own[lw] = nc;
                } while (lw != lv);
                nc++;
            }
            cp--;
            if (cp) {
                uint32_t parent = comp[call[cp - 1].v];
                if (low[lv] < low[parent])
                    low[parent] = low[lv];
            }
        }
    }
    for (uint32_t v = 0; v < g->n; v++) {
        if (comp[v] != RS_SNAP_NONE)
            comp[v] = own[comp[v]];
    }
    *ncomp = nc;
    free(index);
    free(low);
    free(own);
    free(stk);
    free(call);
    return 0;
}
