/* Graph algorithms over a snapshot (snap_graph.h), all iterative (no recursion, so no
 * depth limit) and linear or near-linear in objects + references:
 *   - in-degrees, roots and reachability;
 *   - the dominator tree from a virtual super-root (Cooper-Harvey-Kennedy), giving each
 *     object's retained size: the bytes that would be freed with it;
 *   - strongly connected components (Tarjan) of a subset of the objects. */
#ifndef REFSCOPE_SNAP_ALGO_H
#define REFSCOPE_SNAP_ALGO_H

#include "snap_graph.h"

/* In-degrees: from every recorded object (in_all), from GC-tracked ones only (in_gc).
 * Either may be NULL. Arrays of g->n. */
void rs_snap_in_degrees(const struct rs_snap_graph *g, uint32_t *in_all, uint32_t *in_gc);

enum rs_snap_root_kind {
    RS_SROOT_NONE = 0,
    RS_SROOT_MODULE = 1,     /* a module in sys.modules */
    RS_SROOT_THREAD = 2,     /* a frame of a running thread */
    RS_SROOT_C = 3,          /* GC-tracked, not immortal, referenced more often than the
                              * recorded objects refer to it: held from C */
};

/* Root kind of every object (array of g->n); in_all from rs_snap_in_degrees. The root
 * record (module or thread) wins over a C-held count. Returns the number of roots. */
size_t rs_snap_root_kinds(const struct rs_snap_graph *g, const uint32_t *in_all,
                          uint8_t *kind);
/* Index in g->roots of the root record naming v, or SIZE_MAX. */
size_t rs_snap_root_record(const struct rs_snap_graph *g, uint32_t v);

/* Marks (mark[v] |= bit) every object reachable from `starts` along references, not
 * following the references of objects with mark[v] & skip_bit (0: none). Returns 0, -1
 * when out of memory. */
int rs_snap_reach(const struct rs_snap_graph *g, const uint32_t *starts, size_t nstarts,
                  uint8_t *mark, uint8_t bit, uint8_t skip_bit);
/* The same from each start in turn, keeping in starts[] (*nstarts of them) only those no
 * earlier one reached: the super-root's children in rs_snap_dominators. */
int rs_snap_first_reachers(const struct rs_snap_graph *g, uint32_t *starts, size_t *nstarts,
                           uint8_t *mark, uint8_t bit);

/* The dominator tree. Objects are numbered in DFS postorder from the super-root; the
 * super-root's number is `count`. */
#define RS_SNAP_SUPER (UINT32_MAX - 1)
struct rs_snap_domtree {
    uint32_t count;          /* objects reached */
    uint32_t *po;            /* object -> postorder number; RS_SNAP_NONE when not reached */
    uint32_t *order;         /* postorder number -> object */
    uint32_t *idom;          /* postorder number -> postorder number of its immediate
                              * dominator (`count`: the super-root) */
    uint64_t *retained;      /* postorder number -> retained bytes */
    unsigned iterations;
};

/* The super-root refers to each of `starts` that no earlier start reached (so list the
 * real roots first, then, to cover objects no root reaches, representatives in
 * topological order). Returns 0, -1 when out of memory. */
int rs_snap_dominators(const struct rs_snap_graph *g, const uint32_t *starts, size_t nstarts,
                       struct rs_snap_domtree *d);
void rs_snap_domtree_free(struct rs_snap_domtree *d);

static inline uint64_t rs_snap_retained(const struct rs_snap_domtree *d, uint32_t v)
{
    return d->po && d->po[v] != RS_SNAP_NONE ? d->retained[d->po[v]] : 0;
}

/* RS_SNAP_SUPER, RS_SNAP_NONE (not reached) or the object. */
static inline uint32_t rs_snap_idom(const struct rs_snap_domtree *d, uint32_t v)
{
    if (!d->po || d->po[v] == RS_SNAP_NONE)
        return RS_SNAP_NONE;
    uint32_t i = d->idom[d->po[v]];
    return i == d->count ? RS_SNAP_SUPER : d->order[i];
}

/* Strongly connected components of the objects v with in_set[v] != 0, using only
 * references between them. comp[v] gets the component's number (RS_SNAP_NONE outside the
 * set); components are numbered in reverse topological order (a component reachable from
 * another has a smaller number). Returns 0, -1 when out of memory. */
int rs_snap_scc(const struct rs_snap_graph *g, const uint8_t *in_set, uint32_t *comp,
                uint32_t *ncomp);

#endif
