#include "snap_analyze.h"

#include "event_stream.h"
#include "rs_uthash.h"
#include "zeroed_table.h"

#include <stdlib.h>
#include <string.h>

/* ---- names ---------------------------------------------------------------------- */

const char *rs_type_display(const char *name, bool short_name)
{
    if (short_name) {
        const char *dot = strrchr(name, '.');
        return dot && dot[1] ? dot + 1 : name;
    }
    if (strncmp(name, "builtins.", 9) == 0 && name[9])
        return name + 9;
    return name;
}

bool rs_type_matches(const char *name, const char *spec)
{
    if (strcmp(name, spec) == 0 || strcmp(rs_type_display(name, false), spec) == 0)
        return true;
    size_t n = strlen(name), s = strlen(spec);
    return s && s < n && name[n - s - 1] == '.' && strcmp(name + n - s, spec) == 0;
}

uint8_t *rs_snap_types_matching(const struct rs_snap_graph *g, const char *spec)
{
    uint8_t *match = malloc(g->ntypes ? g->ntypes : 1);
    for (uint32_t t = 0; match && t < g->ntypes; t++)
        match[t] = rs_type_matches(g->strings + g->types[t].name, spec);
    return match;
}

static bool is_gc(const struct rs_snap_graph *g, uint32_t v)
{
    return (g->flags[v] & (RS_NODE_GC_TRACKED | RS_NODE_SYNTHETIC)) == RS_NODE_GC_TRACKED;
}

/* ---- types ------------------------------------------------------------------------ */

static const struct rs_snap_graph *sort_graph;

static int by_type_name(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return strcmp(sort_graph->strings + sort_graph->types[*x].name,
                  sort_graph->strings + sort_graph->types[*y].name);
}

static int by_count_desc(const void *a, const void *b)
{
    const struct rs_type_stat *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Type index -> group of equal names (two classes may share a qualified name). */
static uint32_t *type_groups(const struct rs_snap_graph *g, uint32_t *ngroups)
{
    uint32_t *idx = malloc((size_t)g->ntypes * sizeof *idx);
    uint32_t *grp = malloc((size_t)g->ntypes * sizeof *grp);
    if (!idx || !grp) {
        free(idx);
        free(grp);
        return NULL;
    }
    for (uint32_t i = 0; i < g->ntypes; i++)
        idx[i] = i;
    sort_graph = g;
    rs_qsort(idx, g->ntypes, sizeof *idx, by_type_name);
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->ntypes; i++) {
        if (i == 0 || strcmp(g->strings + g->types[idx[i]].name,
                             g->strings + g->types[idx[i - 1]].name) != 0)
            n++;
        grp[idx[i]] = n - 1;
    }
    free(idx);
    *ngroups = n;
    return grp;
}

/* Retained size of each group: for every object of the group, what it retains, unless a
 * dominator of it is of the same group (whose share already covers it). One walk of the
 * dominator tree, counting the group's objects on the current path. */
static int retained_by_group(const struct rs_snap_graph *g, const struct rs_snap_domtree *d,
                             const uint32_t *grp, uint32_t ngroups, uint64_t *out)
{
    uint32_t count = d->count;
    uint32_t *off = calloc((size_t)count + 2, sizeof *off);
    uint32_t *child = malloc(((size_t)count + 1) * sizeof *child);
    uint32_t *onpath = calloc(ngroups ? ngroups : 1, sizeof *onpath);
    struct { uint32_t node, next; } *stack = malloc(((size_t)count + 1) * sizeof *stack);
    if (!off || !child || !onpath || !stack) {
        free(off);
        free(child);
        free(onpath);
        free(stack);
        return -1;
    }
    for (uint32_t i = 0; i < count; i++)
        off[d->idom[i] + 1]++;
    for (uint32_t i = 0; i <= count; i++)
        off[i + 1] += off[i];
    for (uint32_t i = 0; i < count; i++) /* fill, using off[p] as a cursor */
        child[off[d->idom[i]]++] = i;
    for (uint32_t i = count + 1; i > 0; i--) /* off[p] moved to the end: shift back */
        off[i] = off[i - 1];
    off[0] = 0;
    size_t sp = 0;
    stack[sp++] = (typeof(*stack)){count, off[count]};
    while (sp) {
        uint32_t p = stack[sp - 1].node;
        if (stack[sp - 1].next < off[p + 1]) {
            uint32_t c = child[stack[sp - 1].next++];
            uint32_t v = d->order[c];
            if (is_gc(g, v)) {
                uint32_t k = grp[g->type[v]];
                if (onpath[k]++ == 0)
                    out[k] += d->retained[c];
            }
            stack[sp++] = (typeof(*stack)){c, off[c]};
            continue;
        }
        sp--;
        if (p != count) {
            uint32_t v = d->order[p];
            if (is_gc(g, v))
                onpath[grp[g->type[v]]]--;
        }
    }
    free(off);
    free(child);
    free(onpath);
    free(stack);
    return 0;
}

int rs_snap_type_stats(const struct rs_snap_graph *g, const struct rs_snap_domtree *d,
                       bool include_frozen, struct rs_type_stat **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    uint32_t ngroups = 0;
    uint32_t *grp = type_groups(g, &ngroups);
    struct rs_type_stat *st = calloc(ngroups ? ngroups : 1, sizeof *st);
    uint64_t *ret = d ? calloc(ngroups ? ngroups : 1, sizeof *ret) : NULL;
    if (!grp || !st || (d && !ret))
        goto nomem;
    for (uint32_t i = 0; i < g->ntypes; i++) {
        struct rs_type_stat *s = &st[grp[i]];
        s->name = g->strings + g->types[i].name;
        if (g->types[i].flags & (RS_SNAPTYPE_FINALIZER | RS_SNAPTYPE_LEGACY_DEL))
            s->finalizer = true;
    }
    for (uint32_t v = 0; v < g->n; v++) {
        if (!is_gc(g, v) || (!include_frozen && (g->flags[v] & RS_NODE_FROZEN)))
            continue;
        struct rs_type_stat *s = &st[grp[g->type[v]]];
        s->count++;
        s->size += rs_snap_size(g, v);
    }
    if (d && retained_by_group(g, d, grp, ngroups, ret))
        goto nomem;
    size_t w = 0;
    for (uint32_t i = 0; i < ngroups; i++) {
        if (!st[i].count)
            continue;
        st[w] = st[i];
        st[w].retained = ret ? ret[i] : 0;
        w++;
    }
    rs_qsort(st, w, sizeof *st, by_count_desc);
    free(grp);
    free(ret);
    *out = st;
    *n = w;
    return 0;
nomem:
    free(grp);
    free(st);
    free(ret);
    return -1;
}

/* The starts of the full dominator tree (*starts, malloc'd, *ns of them): modules and
 * threads, objects held from C, then one object of each component nothing of those
 * reaches (sources first), so that every object is reached. Returns 0, -1 when out of
 * memory. */
static int full_starts(struct rs_snap_graph *g, uint32_t **starts_out, size_t *ns_out)
{
    size_t n = g->n ? g->n : 1;
    uint32_t *in_all = rs_malloc_table(n, sizeof *in_all);
    uint8_t *kind = rs_malloc_table(n, 1);
    uint32_t *starts = malloc(n * sizeof *starts);
    uint8_t *mark = rs_calloc_table(n, 1);
    uint32_t *comp = NULL, *rep = NULL;
    int rc = -1;
    if (!in_all || !kind || !starts || !mark)
        goto out;
    rs_snap_in_degrees(g, in_all, NULL);
    rs_snap_root_kinds(g, in_all, kind);
    free(in_all);
    in_all = NULL;
    size_t ns = 0;
    for (uint32_t v = 0; v < g->n; v++) { /* modules and threads first */
        if (kind[v] == RS_SROOT_MODULE || kind[v] == RS_SROOT_THREAD)
            starts[ns++] = v;
    }
    for (uint32_t v = 0; v < g->n; v++) {
        if (kind[v] == RS_SROOT_C)
            starts[ns++] = v;
    }
    free(kind);
    kind = NULL;
    if (rs_snap_reach(g, starts, ns, mark, 1, 0))
        goto out;
    /* What no root reaches: one start per component, sources first. */
    for (uint32_t v = 0; v < g->n; v++)
        mark[v] = !mark[v];
    uint32_t ncomp;
    comp = rs_malloc_table(n, sizeof *comp);
    if (!comp || rs_snap_scc(g, mark, comp, &ncomp))
        goto out;
    rep = malloc((ncomp ? ncomp : 1) * sizeof *rep);
    if (!rep)
        goto out;
    for (uint32_t c = 0; c < ncomp; c++)
        rep[c] = RS_SNAP_NONE;
    for (uint32_t v = 0; v < g->n; v++) {
        if (comp[v] != RS_SNAP_NONE && rep[comp[v]] == RS_SNAP_NONE)
            rep[comp[v]] = v;
    }
    for (uint32_t c = ncomp; c > 0; c--)
        starts[ns++] = rep[c - 1];
    *starts_out = starts;
    *ns_out = ns;
    starts = NULL;
    rc = 0;
out:
    free(in_all);
    free(kind);
    free(starts);
    free(mark);
    free(comp);
    free(rep);
    return rc;
}

int rs_snap_full_domtree(struct rs_snap_graph *g, struct rs_snap_domtree *d)
{
    memset(d, 0, sizeof *d);
    uint32_t *starts;
    size_t ns;
    if (full_starts(g, &starts, &ns))
        return -1;
    int rc = rs_snap_dominators(g, starts, ns, d);
    free(starts);
    return rc;
}

int rs_snap_retained_one(struct rs_snap_graph *g, uint32_t target, uint64_t *retained)
{
    *retained = 0;
    if (target >= g->n)
        return 0;
    uint32_t *starts;
    size_t ns;
    if (full_starts(g, &starts, &ns))
        return -1;
    /* The tree's super-root refers to the starts no earlier start reaches (see
     * rs_snap_dominators): those are kept. What the target dominates is then what they no
     * longer reach once it is cut: it is marked (a start or reached) but not walked
     * through. */
    enum { SEEN = 1, REACHED = 2, CUT = 4 };
    uint8_t *mark = calloc(g->n, 1);
    int rc = mark ? rs_snap_first_reachers(g, starts, &ns, mark, SEEN) : -1;
    if (rc == 0) {
        mark[target] |= CUT;
        rc = rs_snap_reach(g, starts, ns, mark, REACHED, CUT);
    }
    uint64_t sum = rs_snap_size(g, target);
    for (uint32_t v = 0; rc == 0 && v < g->n; v++) {
        if (v != target && !(mark[v] & REACHED)) {
            uint64_t r = sum + rs_snap_size(g, v);
            sum = r < sum ? UINT64_MAX : r;
        }
    }
    if (rc == 0)
        *retained = sum;
    free(mark);
    free(starts);
    return rc;
}

/* ---- growth ----------------------------------------------------------------------- */

/* Steady growth, from the last time the count was at its lowest (a leak that began after a
 * clean-up counts from there): it rose in at least two intervals, in half of them or in the
 * last two, lost little along the way (under a tenth of its gain), and gained more than
 * the count moves by itself: twice any drop of the series no larger than the gain (drops
 * larger than that are clean-ups, not noise), and a two-hundredth of the count. A count
 * that rose once and stayed (a cache filled after the first snapshot, a warm-up) is not
 * steady; nor is one that goes up and down by a few around a level (objects in flight when
 * each snapshot was taken), or that climbs back to where it was before a dip without rising
 * in every interval. */
bool rs_growth_is_suspect(const uint64_t *count, size_t n)
{
    if (n < 3)
        return false;
    size_t low = 0;
    for (size_t i = 1; i < n; i++) {
        if (count[i] <= count[low])
            low = i;
    }
    size_t intervals = n - 1 - low;
    if (intervals < 2)
        return false;
    uint64_t gain = count[n - 1] - count[low];
    size_t rises = 0;
    uint64_t dropped = 0;
    for (size_t i = low + 1; i < n; i++) {
        if (count[i] > count[i - 1])
            rises++;
        else
            dropped += count[i - 1] - count[i];
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t drop = count[i] < count[i - 1] ? count[i - 1] - count[i] : 0;
        if (drop && drop <= gain && 2 * drop >= gain)
            return false;
    }
    bool last_two_rose = count[n - 1] > count[n - 2] && count[n - 2] > count[n - 3];
    /* Back up to a level it had before its low: in-flight objects after a dip, unless it
     * rose in every interval since (a leak that began after a clean-up). */
    uint64_t before = 0;
    for (size_t i = 0; i < low; i++)
        before = count[i] > before ? count[i] : before;
    if (count[n - 1] <= before && rises < intervals)
        return false;
    return rises >= 2 && (rises * 2 >= intervals || last_two_rose) && dropped * 10 <= gain &&
           gain * 200 >= count[low];
}

struct row_ref {
    char *key;               /* type name or site text */
    size_t row;
    UT_hash_handle hh;
};

struct stack_ref {
    uint32_t stack;
    size_t row;
    UT_hash_handle hh;
};

/* The stacks met lately, by a hash of the id, in front of sites_by_stack: a snapshot's
 * objects come from a few sites in runs, and the hash table's probe cost as much as the
 * rest of counting an object. */
#define RECENT_STACKS 256
struct recent_stack {
    uint32_t stack;
    uint32_t row_plus1;      /* 0: empty */
};

struct growth_ctx {
    const struct rs_trace *t;
    struct rs_snap_source *src;
    struct rs_site_names *names;
    struct rs_growth *gr;
    struct rs_notes *notes;
    size_t *order;           /* checkpoint k -> snapshot number in gr->snaps */
    struct row_ref *types_by_name, *sites_by_name;
    struct stack_ref *sites_by_stack;
    size_t types_cap, sites_cap;
    char *err;
    size_t errcap;
    const struct rs_growth_filter *filter; /* NULL: every snapshot, every object */
    struct rs_snap_graph *given; /* a snapshot the caller loaded (never with a filter) */
    struct recent_stack recent_sites[RECENT_STACKS];
};

/* Snapshot s's graph: the caller's when it gave that one (*loaded_here false), else
 * loaded with `flags` into *buf. The load's notes are added either way. */
static int checkpoint_graph(struct growth_ctx *C, size_t s, unsigned flags,
                            struct rs_snap_graph *buf, struct rs_snap_graph **g,
                            bool *loaded_here)
{
    *loaded_here = !(C->given && C->given->info == C->gr->snaps[s]);
    if (!*loaded_here) {
        /* The notes a load of the objects alone makes: a caller's load with the edges
         * also counts references from unknown addresses, which growth never reported. */
        struct rs_snap_graph objects = *C->given;
        objects.stats.dangling_sources = 0;
        rs_snap_add_notes(&objects, C->notes);
        *g = C->given;
        return 0;
    }
    int rc = rs_snap_load(buf, C->gr->snaps[s], C->src, flags, C->err, C->errcap);
    if (rc == 0)
        rs_snap_add_notes(buf, C->notes);
    *g = buf;
    return rc;
}

static void checkpoint_graph_done(struct rs_snap_graph *g, bool loaded_here)
{
    if (loaded_here)
        rs_snap_graph_free(g);
}

static struct rs_growth_row *new_row(struct rs_growth_row **rows, size_t *n, size_t *cap,
                                     size_t nsnaps, const char *key, size_t *index)
{
    if (!rs_grow((void **)rows, cap, *n, sizeof **rows))
        return NULL;
    struct rs_growth_row *r = &(*rows)[*n];
    memset(r, 0, sizeof *r);
    r->key = strdup(key);
    r->count = calloc(nsnaps, sizeof *r->count);
    r->size = calloc(nsnaps, sizeof *r->size);
    if (!r->key || !r->count || !r->size) {
        free(r->key);
        free(r->count);
        free(r->size);
        return NULL;
    }
    *index = (*n)++;
    return r;
}

static long find_row(struct row_ref **by, struct rs_growth_row **rows, size_t *n, size_t *cap,
                     size_t nsnaps, const char *key)
{
    struct row_ref *ref = NULL;
    HASH_FIND_STR(*by, key, ref);
    if (ref)
        return (long)ref->row;
    ref = calloc(1, sizeof *ref);
    size_t index;
    if (!ref || !new_row(rows, n, cap, nsnaps, key, &index)) {
        free(ref);
        return -1;
    }
    ref->key = (*rows)[index].key;
    ref->row = index;
    HASH_ADD_KEYPTR(hh, *by, ref->key, strlen(ref->key), ref);
    return (long)index;
}

/* The growth's row of each of g's types (every type gets one, counted or not), or NULL
 * when out of memory. */
static long *type_rows(struct growth_ctx *C, const struct rs_snap_graph *g)
{
    long *rowof = calloc(g->ntypes ? g->ntypes : 1, sizeof *rowof);
    for (uint32_t i = 0; rowof && i < g->ntypes; i++) {
        rowof[i] = find_row(&C->types_by_name, &C->gr->types, &C->gr->ntypes, &C->types_cap,
                            C->gr->nsnaps, g->strings + g->types[i].name);
        if (rowof[i] < 0) {
            free(rowof);
            return NULL;
        }
    }
    return rowof;
}

/* Counts an object of `size` bytes allocated at `stack` in snapshot s. 0, or -2 when out
 * of memory. */
static int count_site(struct growth_ctx *C, size_t s, uint32_t stack, uint64_t size)
{
    struct rs_growth *gr = C->gr;
    struct recent_stack *recent = &C->recent_sites[(stack * 0x9E3779B1u) >> 24];
    if (recent->row_plus1 && recent->stack == stack) {
        gr->sites[recent->row_plus1 - 1].count[s]++;
        gr->sites[recent->row_plus1 - 1].size[s] += size;
        return 0;
    }
    struct stack_ref *sr = NULL;
    HASH_FIND(hh, C->sites_by_stack, &stack, sizeof stack, sr);
    if (!sr) {
        const struct rs_site_name *nm = rs_site_name(C->names, stack);
        sr = calloc(1, sizeof *sr);
        long row = nm && sr ? find_row(&C->sites_by_name, &gr->sites, &gr->nsites,
                                       &C->sites_cap, gr->nsnaps, nm->text)
                            : -1;
        if (row < 0) {
            free(sr);
            return -2;
        }
        gr->sites[row].site = nm;
        gr->sites[row].stack_id = stack;
        sr->stack = stack;
        sr->row = (size_t)row;
        HASH_ADD(hh, C->sites_by_stack, stack, sizeof sr->stack, sr);
    }
    if (sr->row < UINT32_MAX) {
        recent->stack = stack;
        recent->row_plus1 = (uint32_t)sr->row + 1;
    }
    gr->sites[sr->row].count[s]++;
    gr->sites[sr->row].size[s] += size;
    return 0;
}

/* What a checkpoint needs of its snapshot once its types are counted, when nothing else
 * looks at the graph: which objects are counted (a bit each) and the objects' sizes, the
 * graph's own arrays (size, big: read with rs_snap_size), taken from the load that finds
 * the blocks, so the snapshot is read once. */
struct kept_objects {
    uint64_t *counted;           /* bit v: object v is counted */
    struct rs_snap_graph sizes;  /* n, size, big and nbig alone */
    bool borrowed;               /* sizes are the caller's graph's arrays */
};

static void kept_objects_free(struct kept_objects *z)
{
    free(z->counted);
    z->counted = NULL;
    if (!z->borrowed)
        rs_snap_graph_free(&z->sizes);
    memset(&z->sizes, 0, sizeof z->sizes);
}

/* Counts the types of g's objects in snapshot s, and moves into z what the checkpoint
 * needs of g (lends it, when g is the caller's). 0, or -2 when out of memory. */
static int count_types(struct growth_ctx *C, size_t s, struct rs_snap_graph *g,
                       struct kept_objects *z)
{
    long *rowof = type_rows(C, g);
    z->counted = calloc((size_t)g->n / 64 + 1, sizeof *z->counted);
    if (!rowof || !z->counted) {
        free(rowof);
        kept_objects_free(z);
        return -2;
    }
    for (uint32_t v = 0; v < g->n; v++) {
        if (!rs_growth_counts(g, v))
            continue;
        struct rs_growth_row *r = &C->gr->types[rowof[g->type[v]]];
        r->count[s]++;
        r->size[s] += rs_snap_size(g, v);
        z->counted[v / 64] |= UINT64_C(1) << (v % 64);
    }
    free(rowof);
    z->sizes = (struct rs_snap_graph){.n = g->n, .size = g->size, .big = g->big, .nbig = g->nbig};
    z->borrowed = g == C->given;
    if (!z->borrowed) {
        g->size = NULL;
        g->big = NULL;
        g->nbig = 0;
    }
    return 0;
}

/* A checkpoint of the snapshot whose types count_types counted, from what it kept. */
static int checkpoint_kept(struct growth_ctx *C, size_t k, const struct rs_site_map *live,
                           struct kept_objects *z)
{
    size_t s = C->order[k];
    int rc = 0;
    for (uint32_t v = 0; live && C->names && rc == 0 && v < z->sizes.n; v++) {
        if (z->counted[v / 64] & UINT64_C(1) << (v % 64))
            rc = count_site(C, s, rs_site_map_site(live, v), rs_snap_size(&z->sizes, v));
    }
    kept_objects_free(z);
    if (rc == -2)
        snprintf(C->err, C->errcap, "out of memory");
    return rc;
}

/* live: the sites of the snapshot's objects (NULL: no sites), bound here to its graph. */
static int growth_checkpoint(struct growth_ctx *C, size_t k, struct rs_site_map *live)
{
    size_t s = C->order[k];
    const struct rs_growth_filter *F = C->filter;
    if (F && F->load && !F->load[s])
        return 0;
    struct rs_snap_graph buf, *g;
    bool loaded_here;
    int rc = checkpoint_graph(C, s, F ? F->load_flags : 0, &buf, &g, &loaded_here);
    if (rc)
        return rc;
    if (live && !rs_site_map_bind(live, g)) {
        snprintf(C->err, C->errcap, "snapshot %u read twice differently",
                 (unsigned)C->gr->snaps[s]->id);
        checkpoint_graph_done(g, loaded_here);
        return -1;
    }
    if (F && F->begin && (rc = F->begin(F->arg, s, g, live)) != 0) {
        checkpoint_graph_done(g, loaded_here);
        return rc;
    }
    long *rowof = type_rows(C, g);
    rc = rowof ? 0 : -2;
    for (uint32_t v = 0; rc == 0 && v < g->n; v++) {
        if (!rs_growth_counts(g, v))
            continue;
        uint32_t stack = live ? rs_site_of(g, live, v) : RS_SITE_UNKNOWN;
        if (F && F->keep && !F->keep(F->arg, s, g, v, stack))
            continue;
        uint64_t size = rs_snap_size(g, v);
        struct rs_growth_row *r = &C->gr->types[rowof[g->type[v]]];
        r->count[s]++;
        r->size[s] += size;
        if (live && C->names)
            rc = count_site(C, s, stack, size);
    }
    free(rowof);
    if (rc == 0 && F && F->end)
        rc = F->end(F->arg, s, g, live);
    checkpoint_graph_done(g, loaded_here);
    if (rc == -2 && !C->err[0])
        snprintf(C->err, C->errcap, "out of memory");
    return rc;
}

/* The sites of the objects of every snapshot loaded (maps[k], by checkpoint), from their
 * objects alone (each snapshot read without its edges) and one replay of the events, before
 * any graph is loaded whole. Snapshots not loaded still count as checkpoints (for the epochs). With
 * `kept` (no filter callbacks: the checkpoints need the objects alone), the types are
 * counted from these loads and kept[k] has what the checkpoint needs besides. */
static int series_sites(struct growth_ctx *C, const uint64_t *times, size_t n,
                        struct rs_site_map **maps, struct kept_objects *kept)
{
    const struct rs_growth_filter *F = C->filter;
    struct rs_site_query *q = calloc(n ? n : 1, sizeof *q);
    int rc = q ? 0 : -2;
    for (size_t k = 0; k < n && rc == 0; k++) {
        size_t s = C->order[k];
        q[k].time = times[k];
        if (F && F->load && !F->load[s])
            continue;
        struct rs_snap_graph buf, *g;
        bool loaded_here;
        rc = checkpoint_graph(C, s, 0, &buf, &g, &loaded_here);
        if (rc)
            break;
        if (kept)
            rc = count_types(C, s, g, &kept[k]);
        q[k].n = g->n;
        q[k].block = loaded_here ? rs_snap_take_blocks(g) : rs_snap_blocks(g);
        checkpoint_graph_done(g, loaded_here);
        if (!q[k].block)
            rc = -2;
    }
    if (rc == 0)
        rc = rs_sites_of_blocks(C->t, q, n, C->err, C->errcap);
    for (size_t k = 0; q && k < n; k++) {
        if (rc == 0 && q[k].block && !(maps[k] = rs_site_map_new(q[k].block, q[k].n)))
            rc = -2;
        if (!maps[k])
            free(q[k].block);
    }
    free(q);
    if (rc == -2 && !C->err[0])
        snprintf(C->err, C->errcap, "out of memory");
    return rc;
}

static const struct rs_snap_info **time_sort_snaps;

static int by_snap_time(const void *a, const void *b)
{
    const struct rs_snap_info *x = time_sort_snaps[*(const size_t *)a];
    const struct rs_snap_info *y = time_sort_snaps[*(const size_t *)b];
    return x->time < y->time ? -1 : x->time > y->time;
}

static int growth_build(const struct rs_trace *t, struct rs_snap_source *src,
                        struct rs_site_names *names, const struct rs_growth_filter *filter,
                        struct rs_snap_graph *given, struct rs_growth *gr,
                        struct rs_notes *notes, char *err, size_t errcap);

int rs_growth_build(const struct rs_trace *t, struct rs_snap_source *src,
                    struct rs_site_names *names, struct rs_growth *gr, struct rs_notes *notes,
                    char *err, size_t errcap)
{
    return growth_build(t, src, names, NULL, NULL, gr, notes, err, errcap);
}

int rs_growth_build_given(const struct rs_trace *t, struct rs_snap_source *src,
                          struct rs_site_names *names, struct rs_snap_graph *given,
                          struct rs_growth *gr, struct rs_notes *notes, char *err,
                          size_t errcap)
{
    return growth_build(t, src, names, NULL, given, gr, notes, err, errcap);
}

int rs_growth_build_filtered(const struct rs_trace *t, struct rs_snap_source *src,
                             struct rs_site_names *names, const struct rs_growth_filter *filter,
                             struct rs_growth *gr, struct rs_notes *notes, char *err,
                             size_t errcap)
{
    return growth_build(t, src, names, filter, NULL, gr, notes, err, errcap);
}

static int growth_build(const struct rs_trace *t, struct rs_snap_source *src,
                        struct rs_site_names *names, const struct rs_growth_filter *filter,
                        struct rs_snap_graph *given, struct rs_growth *gr,
                        struct rs_notes *notes, char *err, size_t errcap)
{
    memset(gr, 0, sizeof *gr);
    size_t n = rs_snap_count_complete(t);
    struct growth_ctx C = {.t = t, .src = src, .names = names, .gr = gr, .notes = notes,
                           .err = err, .errcap = errcap, .filter = filter, .given = given};
    uint64_t *times = NULL;
    struct rs_site_map **maps = NULL;
    struct kept_objects *kept = NULL;
    int rc = -2;
    gr->snaps = calloc(n ? n : 1, sizeof *gr->snaps);
    C.order = calloc(n ? n : 1, sizeof *C.order);
    times = calloc(n ? n : 1, sizeof *times);
    if (!gr->snaps || !C.order || !times) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    for (size_t i = 0; t->snapshots && i < t->snapshots->n; i++) {
        if (t->snapshots->v[i].complete)
            gr->snaps[gr->nsnaps++] = &t->snapshots->v[i];
    }
    /* The series is in file order; the replay needs times in order. */
    for (size_t i = 0; i < n; i++)
        C.order[i] = i;
    time_sort_snaps = gr->snaps;
    rs_qsort(C.order, n, sizeof *C.order, by_snap_time);
    for (size_t i = 0; i < n; i++)
        times[i] = gr->snaps[C.order[i]]->time;
    gr->have_sites = names && rs_trace_events_readable(t);
    /* Checkpoints that need the objects alone are counted from the loads that find the
     * sites: each snapshot is read once. */
    bool objects_only = !filter || (!filter->begin && !filter->keep && !filter->end &&
                                    filter->load_flags == 0);
    maps = calloc(n ? n : 1, sizeof *maps);
    if (gr->have_sites && objects_only)
        kept = calloc(n ? n : 1, sizeof *kept);
    rc = maps && (kept || !(gr->have_sites && objects_only)) ? 0 : -2;
    if (rc == 0 && gr->have_sites)
        rc = series_sites(&C, times, n, maps, kept);
    for (size_t k = 0; k < n && rc == 0; k++) {
        if (!kept)
            rc = growth_checkpoint(&C, k, maps[k]);
        else if (maps[k])
            rc = checkpoint_kept(&C, k, maps[k], &kept[k]);
    }
    if (rc == -2 && !err[0])
        snprintf(err, errcap, "out of memory");
    for (size_t k = 0; rc == 0 && k < n; k++) {
        if (C.order[k] == n - 1) {
            gr->last_sites = maps[k];
            maps[k] = NULL;
        }
    }
    for (size_t pass = 0; rc == 0 && pass < 2; pass++) {
        struct rs_growth_row *rows = pass ? gr->sites : gr->types;
        for (size_t i = 0; i < (pass ? gr->nsites : gr->ntypes); i++) {
            rows[i].suspect = rs_growth_is_suspect(rows[i].count, gr->nsnaps);
            /* A list, set, dict, deque or bytearray that only fills up (with the same
             * objects again, or small ints), a buffer remade larger each time. */
            rows[i].grows_in_size =
                !rows[i].suspect && rs_growth_is_suspect(rows[i].size, gr->nsnaps);
        }
    }
out:;
    struct row_ref *r, *rt;
    HASH_ITER(hh, C.types_by_name, r, rt) {
        HASH_DEL(C.types_by_name, r);
        free(r);
    }
    HASH_ITER(hh, C.sites_by_name, r, rt) {
        HASH_DEL(C.sites_by_name, r);
        free(r);
    }
    struct stack_ref *s, *st;
    HASH_ITER(hh, C.sites_by_stack, s, st) {
        HASH_DEL(C.sites_by_stack, s);
        free(s);
    }
    for (size_t k = 0; maps && k < n; k++)
        rs_site_map_free(maps[k]);
    free(maps);
    for (size_t k = 0; kept && k < n; k++)
        kept_objects_free(&kept[k]);
    free(kept);
    free(C.order);
    free(times);
    if (rc)
        rs_growth_free(gr);
    return rc;
}

static void free_rows(struct rs_growth_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].key);
        free(rows[i].count);
        free(rows[i].size);
    }
    free(rows);
}

void rs_growth_free(struct rs_growth *gr)
{
    free_rows(gr->types, gr->ntypes);
    free_rows(gr->sites, gr->nsites);
    free(gr->snaps);
    rs_site_map_free(gr->last_sites);
    memset(gr, 0, sizeof *gr);
}

/* ---- backrefs ---------------------------------------------------------------------- */

void rs_chain_free(struct rs_chain *c)
{
    free(c->nodes);
    memset(c, 0, sizeof *c);
}

int rs_snap_backref_chain(const struct rs_snap_graph *g, const uint8_t *root_kind,
                          const uint32_t *targets, size_t ntargets, unsigned max_depth,
                          struct rs_chain *chain)
{
    memset(chain, 0, sizeof *chain);
    chain->target = RS_SNAP_NONE;
    if (!g->n || !ntargets)
        return 0;
    uint32_t *parent = rs_malloc_table(g->n, sizeof *parent);
    uint32_t *queue = malloc((size_t)g->n * sizeof *queue);
    if (!parent || !queue) {
        free(parent);
        free(queue);
        return -1;
    }
    memset(parent, 0xFF, (size_t)g->n * sizeof *parent);
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < ntargets; i++) {
        uint32_t t = targets[i];
        if (t < g->n && parent[t] == RS_SNAP_NONE) {
            parent[t] = t;
            queue[tail++] = t;
        }
    }
    uint32_t found = RS_SNAP_NONE, held = RS_SNAP_NONE;
    unsigned depth = 0;
    while (head < tail && found == RS_SNAP_NONE) {
        size_t layer_end = tail;
        for (; head < layer_end; head++) {
            uint32_t v = queue[head];
            uint8_t k = root_kind[v];
            if (k == RS_SROOT_MODULE || k == RS_SROOT_THREAD) {
                found = v;
                break;
            }
            if (k == RS_SROOT_C && held == RS_SNAP_NONE)
                held = v;
            if (max_depth && depth >= max_depth)
                continue;
            for (uint32_t e = g->in_off[v]; e < g->in_off[v + 1]; e++) {
                uint32_t p = g->src[e];
                if (parent[p] == RS_SNAP_NONE) {
                    parent[p] = v;
                    queue[tail++] = p;
                }
            }
        }
        depth++;
    }
    uint32_t root = found != RS_SNAP_NONE ? found : held;
    int rc = 0;
    if (root != RS_SNAP_NONE) {
        size_t len = 1;
        for (uint32_t x = root; parent[x] != x; x = parent[x])
            len++;
        chain->nodes = malloc(len * sizeof *chain->nodes);
        if (!chain->nodes) {
            rc = -1;
        } else {
            uint32_t x = root;
            for (size_t i = 0; i < len; i++, x = parent[x])
                chain->nodes[i] = x;
            chain->n = len;
            chain->root_kind = root_kind[root];
            chain->target = chain->nodes[len - 1];
        }
    }
    free(parent);
    free(queue);
    return rc;
}

/* ---- cycles ------------------------------------------------------------------------ */

const char *rs_cycle_class_name(enum rs_cycle_class c)
{
    switch (c) {
    case RS_CYCLE_UNCOLLECTABLE: return "uncollectable";
    case RS_CYCLE_LEAKED: return "leaked";
    case RS_CYCLE_GARBAGE: return "garbage";
    default: return "?";
    }
}

void rs_cycles_free(struct rs_cycles *c)
{
    for (size_t i = 0; i < c->ngroups; i++) {
        free(c->groups[i].types);
        free(c->groups[i].sites);
        free(c->groups[i].type_sites);
        free(c->groups[i].example);
    }
    free(c->groups);
    free(c->leaked);
    memset(c, 0, sizeof *c);
}

/* The gc.garbage lists: lists whose every reference (at least one) is to an object of
 * gc.garbage. Their references do not make those objects reachable for this analysis. */
/* Returns -1 when out of memory. Which types are lists is decided once per type (they are
 * few), not by a name compared per object (0.03 s of 7M objects). */
static int mark_garbage_lists(const struct rs_snap_graph *g, uint8_t *mark, uint8_t bit)
{
    bool *is_list = calloc(g->ntypes ? g->ntypes : 1, sizeof *is_list);
    if (!is_list)
        return -1;
    for (uint32_t i = 0; i < g->ntypes; i++)
        is_list[i] = strcmp(g->strings + g->types[i].name, "builtins.list") == 0;
    for (uint32_t v = 0; v < g->n; v++) {
        if (!g->out_len[v] || !is_list[g->type[v]])
            continue;
        bool all = true;
        for (uint32_t e = g->out_start[v]; e < g->out_start[v] + g->out_len[v] && all; e++)
            all = (g->flags[g->dst[e]] & RS_NODE_IN_GC_GARBAGE) != 0;
        if (all)
            mark[v] |= bit;
    }
    free(is_list);
    return 0;
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xFF;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

struct member_key {
    uint64_t type_hash;
    uint32_t site;
    uint32_t node;
};

static int by_member_key(const void *a, const void *b)
{
    const struct member_key *x = a, *y = b;
    if (x->type_hash != y->type_hash)
        return x->type_hash < y->type_hash ? -1 : 1;
    return x->site < y->site ? -1 : x->site > y->site;
}

enum item_key { BY_TYPE, BY_SITE, BY_TYPE_AND_SITE };

static int add_item(struct rs_count_item **items, size_t *n, const char *name, uint32_t site,
                    uint64_t size, enum item_key key)
{
    for (size_t i = 0; i < *n; i++) {
        struct rs_count_item *it = &(*items)[i];
        bool same_site = it->site == site, same_type = strcmp(it->name, name) == 0;
        if (key == BY_SITE ? same_site : key == BY_TYPE ? same_type : same_site && same_type) {
            it->count++;
            it->size += size;
            return 0;
        }
    }
    size_t cap = *n; /* grown one at a time: groups have few types and sites */
    struct rs_count_item *p = realloc(*items, (cap + 1) * sizeof *p);
    if (!p)
        return -1;
    *items = p;
    p[*n] = (struct rs_count_item){name, site, 1, size};
    (*n)++;
    return 0;
}

static int by_item_count(const void *a, const void *b)
{
    const struct rs_count_item *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int by_group(const void *a, const void *b)
{
    const struct rs_cycle_group *x = a, *y = b;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

struct leaked_key {
    const char *name;
    uint32_t site;
    UT_hash_handle hh;
    size_t index;
};

/* Is v the interpreter's own, though it looks leaked: allocated where no Python code ran
 * (interpreter start-up, the frozen import machinery), or at an unknown place? */
static bool internal_site(const uint32_t *site, struct rs_site_names *names, uint32_t v)
{
    if (!site)
        return false;
    if (site[v] == RS_SITE_UNKNOWN)
        return true;
    if (!names)
        return false;
    const struct rs_site_name *n = rs_site_name(names, site[v]);
    return !n || n->internal;
}

/* The site of v for grouping: stacks shown alike are one site. */
static uint32_t site_key(const uint32_t *site, struct rs_site_names *names, uint32_t v)
{
    if (!site)
        return RS_SITE_UNKNOWN;
    const struct rs_site_name *n = names ? rs_site_name(names, site[v]) : NULL;
    return n ? n->canonical : site[v];
}

enum { REACH = 1, SKIP = 2, INSET = 4, HELD = 8, INTERP = 16, OWNEXT = 32, GARB = 64 };

/* The first part of unreachable_marks: REACH and SKIP in mark, the set. */
static int unreachable_set(const struct rs_snap_graph *g, uint8_t *mark, uint8_t *set,
                           uint32_t *starts, uint64_t *nset)
{
    if (mark_garbage_lists(g, mark, SKIP))
        return -1;
    size_t ns = 0;
    for (size_t i = 0; i < g->nroots; i++) {
        if (g->roots[i].node != RS_SNAP_NONE)
            starts[ns++] = g->roots[i].node;
    }
    if (rs_snap_reach(g, starts, ns, mark, REACH, SKIP))
        return -1;
    *nset = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        if (!(mark[v] & REACH) && is_gc(g, v) && !(g->flags[v] & RS_NODE_IMMORTAL)) {
            set[v] = 1;
            ++*nset;
        }
    }
    return 0;
}

/* Whether an object the walk from the roots went through (REACH and not SKIP in mark) can
 * refer to v: it cannot when v is outside what the walk reached, since it marks every
 * referent of those objects. */
static bool walked_through(const uint8_t *mark, uint32_t u)
{
    return (mark[u] & (REACH | SKIP)) == REACH;
}

/* Objects the walk from the roots did not reach, tracked by the collector or not (not
 * immortal, not synthetic): who holds the set's objects is decided among these. */
static bool open_node(const struct rs_snap_graph *g, const uint8_t *mark, uint32_t v)
{
    return !(mark[v] & REACH) && !(g->flags[v] & (RS_NODE_IMMORTAL | RS_NODE_SYNTHETIC));
}

/* For each object left open by the walk from the roots, the references to it from other
 * objects (in in_deg; the other entries are left as they were). Only objects the walk did
 * not go through can hold one: on 7M objects all of them reached, the count over every
 * reference was most of the time of `cycles` after the walk. Unlike the collector, which
 * cannot see what an object it does not track holds, the references of untracked objects
 * count too: the snapshot has them (code objects' constants, the fields of C objects
 * without GC support, like decimal's Context holding its flags before 3.13), and an object
 * held by one of them is not leaked. */
static void set_in_degrees(const struct rs_snap_graph *g, const uint8_t *mark, uint32_t *in_deg)
{
    for (uint32_t v = 0; v < g->n; v++) {
        if (open_node(g, mark, v))
            in_deg[v] = 0;
    }
    for (uint32_t u = 0; u < g->n; u++) {
        if (walked_through(mark, u))
            continue;
        for (uint32_t e = g->out_start[u]; e < g->out_start[u] + g->out_len[u]; e++) {
            uint32_t t = g->dst[e];
            if (open_node(g, mark, t) && in_deg[t] < UINT32_MAX)
                in_deg[t]++;
        }
    }
}

/* Whether a gc.garbage list refers to an object the walk from the roots did not reach: a
 * walk from elsewhere can then enter the set through the objects the roots reach. */
static bool garbage_lists_lead_out(const struct rs_snap_graph *g, const uint8_t *mark)
{
    for (uint32_t v = 0; v < g->n; v++) {
        if (!(mark[v] & SKIP))
            continue;
        for (uint32_t e = g->out_start[v]; e < g->out_start[v] + g->out_len[v]; e++) {
            if (!(mark[g->dst[e]] & REACH))
                return true;
        }
    }
    return false;
}

/* The objects no module and no thread's frame reaches (gc.garbage's own references not
 * followed): GC-tracked, not immortal (set[v] = 1, *nset of them). In mark: REACH for what
 * the roots reach, SKIP for the gc.garbage lists, OWNEXT for the objects left open by that
 * walk (open_node) with references no recorded object accounts for (held from outside),
 * HELD for what those reach among the open objects and for everything else. starts and
 * in_deg are scratch arrays of g->n. Returns 0, -1 when out of memory. */
static int unreachable_marks(const struct rs_snap_graph *g, uint8_t *mark, uint8_t *set,
                             uint32_t *starts, uint32_t *in_deg, uint64_t *nset)
{
    if (unreachable_set(g, mark, set, starts, nset))
        return -1;
    set_in_degrees(g, mark, in_deg);
    size_t ns = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        if (!open_node(g, mark, v))
            mark[v] |= HELD; /* not walked */
        else if (g->refcnt[v] > in_deg[v]) {
            mark[v] |= OWNEXT;
            starts[ns++] = v;
        }
    }
    return rs_snap_reach(g, starts, ns, mark, HELD, 0);
}

int rs_snap_unreachable_set(const struct rs_snap_graph *g, uint8_t *set, uint64_t *count)
{
    size_t cap = g->n ? g->n : 1;
    uint8_t *mark = calloc(cap, 1);
    uint32_t *starts = malloc(cap * sizeof *starts);
    uint64_t nset = 0;
    int rc = mark && starts && g->has_edges ? unreachable_set(g, mark, set, starts, &nset) : -1;
    free(mark);
    free(starts);
    if (count)
        *count = nset;
    return rc;
}

int rs_snap_unreachable(const struct rs_snap_graph *g, uint32_t **nodes, size_t *n)
{
    *nodes = NULL;
    *n = 0;
    size_t cap = g->n ? g->n : 1;
    uint8_t *set = calloc(cap, 1);
    uint64_t nset = 0;
    int rc = -1;
    if (set && rs_snap_unreachable_set(g, set, &nset) == 0 &&
        (*nodes = malloc((nset ? nset : 1) * sizeof **nodes))) {
        for (uint32_t v = 0; v < g->n; v++) {
            if (set[v])
                (*nodes)[(*n)++] = v;
        }
        rc = 0;
    }
    free(set);
    return rc;
}

/* rs_snap_collectable; with_unreached_untracked: also the objects the collector does not
 * track that no module or thread reaches. */
static int collectable(const struct rs_snap_graph *g, uint8_t *out, bool with_unreached_untracked)
{
    size_t n = g->n ? g->n : 1;
    uint8_t *mark = calloc(n, 1);
    uint8_t *set = calloc(n, 1);
    uint32_t *starts = malloc(n * sizeof *starts);
    uint32_t *in_deg = malloc(n * sizeof *in_deg);
    uint64_t nset;
    int rc = -1;
    if (!mark || !set || !starts || !in_deg || !g->has_edges ||
        unreachable_marks(g, mark, set, starts, in_deg, &nset))
        goto out;
    /* What gc.garbage holds survives a collection. */
    size_t ns = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        if (set[v] && (g->flags[v] & RS_NODE_IN_GC_GARBAGE))
            starts[ns++] = v;
    }
    if (rs_snap_reach(g, starts, ns, mark, GARB, 0))
        goto out;
    for (uint32_t v = 0; v < g->n; v++)
        out[v] = set[v] && !(mark[v] & (HELD | GARB));
    for (uint32_t v = 0; with_unreached_untracked && v < g->n; v++) {
        if (!(mark[v] & REACH) && !(g->flags[v] & RS_NODE_GC_TRACKED))
            out[v] = 1;
    }
    rc = 0;
out:
    free(mark);
    free(set);
    free(starts);
    free(in_deg);
    return rc;
}

int rs_snap_collectable(const struct rs_snap_graph *g, uint8_t *out)
{
    return collectable(g, out, false);
}

static void mark_untracked_referents(const struct rs_snap_graph *g, uint32_t v, uint8_t *out)
{
    for (uint32_t e = g->out_start[v]; e < g->out_start[v] + g->out_len[v]; e++) {
        uint32_t w = g->dst[e];
        if (!(g->flags[w] & (RS_NODE_GC_TRACKED | RS_NODE_SYNTHETIC)))
            out[w] = 1;
    }
}

/* Per type of g: does it hold values for others (a list, tuple, dict, set, deque...)? The
 * shim says so of subclasses too; traces from before it did have the names. */
static uint8_t *container_types(const struct rs_snap_graph *g)
{
    static const char *const names[] = {
        "builtins.list", "builtins.tuple", "builtins.dict", "builtins.set",
        "builtins.frozenset", "collections.deque", "collections.OrderedDict",
        "collections.defaultdict",
    };
    uint8_t *c = calloc(g->ntypes ? g->ntypes : 1, 1);
    for (uint32_t i = 0; c && i < g->ntypes; i++) {
        c[i] = (g->types[i].flags & RS_SNAPTYPE_CONTAINER) != 0;
        for (size_t k = 0; !c[i] && k < sizeof names / sizeof *names; k++)
            c[i] = strcmp(g->strings + g->types[i].name, names[k]) == 0;
    }
    return c;
}

/* Marks in out what only bounded caches hold (RS_NODE_BOUNDED_CACHE: an lru_cache with a
 * maxsize): the walk from the roots stops at the caches, and what the caches reach beyond
 * it is theirs alone. A cache evicts when full, so that cannot grow without bound, though a
 * short run sees it fill up (urllib.parse's and botocore's caches, sympy's). */
static int bounded_cache_only(const struct rs_snap_graph *g, uint8_t *out)
{
    size_t ncaches = 0, nheld = 0;
    for (uint32_t v = 0; v < g->n && g->has_edges; v++) {
        if (g->flags[v] & RS_NODE_BOUNDED_CACHE) {
            ncaches++;
            nheld += g->out_len[v];
        }
    }
    if (!ncaches)
        return 0;
    uint8_t *mark = calloc(g->n, 1);
    uint32_t *starts = malloc(((size_t)g->n > nheld ? g->n : nheld) * sizeof *starts);
    int rc = -1;
    if (!mark || !starts)
        goto out;
    size_t ns = 0;
    for (size_t i = 0; i < g->nroots; i++) {
        if (g->roots[i].node != RS_SNAP_NONE)
            starts[ns++] = g->roots[i].node;
    }
    for (uint32_t v = 0; v < g->n; v++)
        mark[v] = g->flags[v] & RS_NODE_BOUNDED_CACHE ? SKIP : 0;
    if (rs_snap_reach(g, starts, ns, mark, REACH, SKIP))
        goto out;
    /* The roots' objects count as walked: the caches' walk does not enter them. */
    ns = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        if (mark[v] & REACH)
            mark[v] |= HELD;
        else if (g->flags[v] & RS_NODE_BOUNDED_CACHE)
            mark[v] |= HELD; /* an unreached cache holds nothing of the roots' */
    }
    for (uint32_t v = 0; v < g->n; v++) {
        if (!(g->flags[v] & RS_NODE_BOUNDED_CACHE) || !(mark[v] & REACH))
            continue;
        for (uint32_t e = g->out_start[v]; e < g->out_start[v] + g->out_len[v]; e++)
            starts[ns++] = g->dst[e];
    }
    if (rs_snap_reach(g, starts, ns, mark, HELD, 0))
        goto out;
    for (uint32_t v = 0; v < g->n; v++) {
        if ((mark[v] & (HELD | REACH)) == HELD && !(g->flags[v] & RS_NODE_BOUNDED_CACHE))
            out[v] = 1;
    }
    rc = 0;
out:
    free(mark);
    free(starts);
    return rc;
}

int rs_snap_growth_excluded(const struct rs_snap_graph *g, uint8_t *out)
{
    uint8_t *container = container_types(g);
    if (!container || collectable(g, out, true) || bounded_cache_only(g, out)) {
        free(container);
        return -1;
    }
    for (size_t i = 0; i < g->nweak; i++) {
        if (out[g->weak[i].target])
            out[g->weak[i].ref] = 1;
    }
    uint32_t dict_type = UINT32_MAX;
    for (uint32_t i = 0; i < g->ntypes; i++) {
        if (strcmp(g->strings + g->types[i].name, "builtins.dict") == 0)
            dict_type = i;
    }
    for (uint32_t v = 0; v < g->n; v++) {
        if (container[g->type[v]] || (g->flags[v] & (RS_NODE_MODULE | RS_NODE_SYNTHETIC)))
            continue;
        mark_untracked_referents(g, v, out);
        /* Its attribute dict, when it refers to one: a dict it refers to is an attribute's
         * value only where attributes live in the object (3.11+'s managed dicts). */
        if (g->types[g->type[v]].flags & RS_SNAPTYPE_MANAGED_DICT)
            continue;
        for (uint32_t e = g->out_start[v]; e < g->out_start[v] + g->out_len[v]; e++) {
            if (g->type[g->dst[e]] == dict_type)
                mark_untracked_referents(g, g->dst[e], out);
        }
    }
    free(container);
    return 0;
}

int rs_snap_cycles(const struct rs_snap_graph *g, const uint32_t *site,
                   struct rs_site_names *names, bool show_all, struct rs_cycles *out)
{
    memset(out, 0, sizeof *out);
    size_t n = g->n ? g->n : 1;
    uint8_t *mark = calloc(n, 1);
    uint32_t *in_deg = malloc(n * sizeof *in_deg);
    uint32_t *starts = malloc(n * sizeof *starts);
    uint32_t *comp = malloc(n * sizeof *comp);
    uint8_t *set = calloc(n, 1);
    uint32_t *coff = NULL, *members = NULL;
    struct member_key *keys = NULL;
    struct leaked_key *leaked_by = NULL;
    int rc = -1;
    if (!mark || !in_deg || !starts || !comp || !set || !g->has_edges)
        goto out;

    /* Unreachable, and kept alive from outside the recorded objects: what has references
     * no recorded GC-tracked object accounts for, and what that reaches among the
     * unreachable. */
    if (unreachable_marks(g, mark, set, starts, in_deg, &out->unreachable))
        goto out;
    free(in_deg);
    in_deg = NULL;
    /* Held by the interpreter: reached from types, frozen or immortal objects. Only the
     * set's marks are read, and a way into the set leaves what the roots reach only through
     * a gc.garbage list: unless one leads out, the walk stops at what the roots reach (on
     * 7M objects it went through all of them again). */
    size_t ns = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        if (g->flags[v] & (RS_NODE_TYPE | RS_NODE_FROZEN | RS_NODE_IMMORTAL | RS_NODE_MODULE))
            starts[ns++] = v;
    }
    if (rs_snap_reach(g, starts, ns, mark, INTERP, garbage_lists_lead_out(g, mark) ? 0 : REACH))
        goto out;

    uint32_t ncomp;
    if (rs_snap_scc(g, set, comp, &ncomp))
        goto out;
    coff = calloc((size_t)ncomp + 2, sizeof *coff);
    members = malloc((out->unreachable ? out->unreachable : 1) * sizeof *members);
    if (!coff || !members)
        goto out;
    for (uint32_t v = 0; v < g->n; v++) {
        if (comp[v] != RS_SNAP_NONE)
            coff[comp[v] + 2]++;
    }
    for (uint32_t c = 2; c <= ncomp + 1; c++)
        coff[c] += coff[c - 1];
    for (uint32_t v = 0; v < g->n; v++) {
        if (comp[v] != RS_SNAP_NONE)
            members[coff[comp[v] + 1]++] = v;
    }
    /* members of c: [coff[c], coff[c + 1]) */

    size_t leaked_cap = 0;
    size_t keys_cap = 0;
    for (uint32_t c = 0; c < ncomp; c++) {
        uint32_t *mem = members + coff[c];
        uint32_t nm = coff[c + 1] - coff[c];
        bool cycle = nm > 1;
        if (nm == 1) {
            uint32_t v = mem[0];
            for (uint32_t e = g->out_start[v]; e < g->out_start[v] + g->out_len[v]; e++)
                cycle = cycle || g->dst[e] == v;
        }
        bool garbage = false, ownext = false, held = false, interp = false, internal = true;
        uint64_t size = 0;
        for (uint32_t i = 0; i < nm; i++) {
            uint32_t v = mem[i];
            garbage = garbage || (g->flags[v] & RS_NODE_IN_GC_GARBAGE);
            ownext = ownext || (mark[v] & OWNEXT);
            held = held || (mark[v] & HELD);
            interp = interp || (mark[v] & INTERP);
            internal = internal && internal_site(site, names, v);
            size += rs_snap_size(g, v);
        }
        enum rs_cycle_class cls;
        if (garbage)
            cls = RS_CYCLE_UNCOLLECTABLE;
        else if (held && !ownext)
            continue; /* kept alive by a leaked object: counted with it */
        else if (ownext)
            cls = RS_CYCLE_LEAKED;
        else
            cls = RS_CYCLE_GARBAGE;
        if (cls == RS_CYCLE_LEAKED && !show_all && (interp || internal)) {
            out->suppressed_objects += nm;
            continue;
        }
        if (!cycle) {
            if (cls != RS_CYCLE_LEAKED)
                continue; /* freed with the cycle that refers to it */
            uint32_t v = mem[0];
            const char *name = rs_snap_type_name(g, v);
            uint32_t s = site_key(site, names, v);
            struct leaked_key *lk = NULL;
            for (lk = leaked_by; lk; lk = lk->hh.next) {
                if (lk->site == s && strcmp(lk->name, name) == 0)
                    break;
            }
            if (!lk) {
                if (!rs_grow((void **)&out->leaked, &leaked_cap, out->nleaked,
                             sizeof *out->leaked))
                    goto out;
                lk = calloc(1, sizeof *lk);
                if (!lk)
                    goto out;
                lk->name = name;
                lk->site = s;
                lk->index = out->nleaked;
                out->leaked[out->nleaked++] = (struct rs_count_item){name, s, 0, 0};
                HASH_ADD(hh, leaked_by, name, sizeof lk->name, lk);
            }
            out->leaked[lk->index].count++;
            out->leaked[lk->index].size += size;
            out->leaked_objects++;
            out->leaked_size += size;
            continue;
        }
        /* A cycle: its signature is its class, size and its members' types. Sites are
         * counted within the group, not part of it: objects taken from CPython's free
         * lists keep the site of their first allocation, which would split one kind of
         * cycle into many. */
        if (nm > keys_cap) {
            struct member_key *k = realloc(keys, (size_t)nm * sizeof *k);
            if (!k)
                goto out;
            keys = k;
            keys_cap = nm;
        }
        for (uint32_t i = 0; i < nm; i++)
            keys[i] = (struct member_key){str_hash(rs_snap_type_name(g, mem[i])),
                                          site_key(site, names, mem[i]), mem[i]};
        rs_qsort(keys, nm, sizeof *keys, by_member_key);
        uint64_t key = fnv(fnv(UINT64_C(0xcbf29ce484222325), cls), nm);
        for (uint32_t i = 0; i < nm; i++)
            key = fnv(key, keys[i].type_hash);
        out->in_cycles[cls] += nm;
        out->ncycles[cls]++;
        out->size[cls] += size;
        struct rs_cycle_group *grp = NULL;
        for (size_t i = 0; i < out->ngroups; i++) {
            if (out->groups[i].key == key) {
                grp = &out->groups[i];
                break;
            }
        }
        if (!grp) {
            struct rs_cycle_group *p = realloc(out->groups, (out->ngroups + 1) * sizeof *p);
            if (!p)
                goto out;
            out->groups = p;
            grp = &out->groups[out->ngroups++];
            memset(grp, 0, sizeof *grp);
            grp->key = key;
            grp->cls = cls;
            grp->members = nm;
            grp->nexample = nm < 64 ? nm : 64;
            grp->example = malloc(grp->nexample * sizeof *grp->example);
            if (!grp->example)
                goto out;
            memcpy(grp->example, mem, grp->nexample * sizeof *grp->example);
        }
        grp->cycles++;
        grp->objects += nm;
        grp->size += size;
        for (uint32_t i = 0; i < nm; i++) {
            uint32_t v = mem[i];
            const struct rs_snap_type *ty = &g->types[g->type[v]];
            if (ty->flags & (RS_SNAPTYPE_FINALIZER | RS_SNAPTYPE_LEGACY_DEL))
                grp->finalizer = true;
            uint64_t sz = rs_snap_size(g, v);
            uint32_t s = site_key(site, names, v);
            if (add_item(&grp->types, &grp->ntypes, rs_snap_type_name(g, v), s, sz, BY_TYPE) ||
                add_item(&grp->sites, &grp->nsites, rs_snap_type_name(g, v), s, sz, BY_SITE) ||
                add_item(&grp->type_sites, &grp->ntype_sites, rs_snap_type_name(g, v), s, sz,
                         BY_TYPE_AND_SITE))
                goto out;
        }
    }
    for (size_t i = 0; i < out->ngroups; i++) {
        rs_qsort(out->groups[i].types, out->groups[i].ntypes, sizeof *out->groups[i].types,
              by_item_count);
        rs_qsort(out->groups[i].sites, out->groups[i].nsites, sizeof *out->groups[i].sites,
              by_item_count);
        rs_qsort(out->groups[i].type_sites, out->groups[i].ntype_sites,
                 sizeof *out->groups[i].type_sites, by_item_count);
    }
    rs_qsort(out->groups, out->ngroups, sizeof *out->groups, by_group);
    rs_qsort(out->leaked, out->nleaked, sizeof *out->leaked, by_item_count);
    rc = 0;
out:;
    struct leaked_key *lk, *lt;
    HASH_ITER(hh, leaked_by, lk, lt) {
        HASH_DEL(leaked_by, lk);
        free(lk);
    }
    free(mark);
    free(in_deg);
    free(starts);
    free(comp);
    free(set);
    free(coff);
    free(members);
    free(keys);
    if (rc)
        rs_cycles_free(out);
    return rc;
}
