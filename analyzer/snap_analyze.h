/* What the snapshot commands compute, apart from how they print it: type statistics,
 * growth between snapshots, backreference chains and unreachable cycles. */
#ifndef REFSCOPE_SNAP_ANALYZE_H
#define REFSCOPE_SNAP_ANALYZE_H

#include "snap_algo.h"
#include "snap_sites.h"

/* Display name of a type: "builtins." dropped ("list"), the rest as recorded
 * ("__main__.Connection"); with `short_name`, the last dotted component only. */
const char *rs_type_display(const char *name, bool short_name);
/* Does `spec` name the type: the whole name, its display name, or its last components
 * ("Connection", "mod.Outer.Inner" matched by "Outer.Inner")? */
bool rs_type_matches(const char *name, const char *spec);
/* rs_type_matches of each of g's types, by type index (malloc'd; NULL: out of memory): a
 * graph has a few thousand types and millions of objects. */
uint8_t *rs_snap_types_matching(const struct rs_snap_graph *g, const char *spec);

/* ---- types ------------------------------------------------------------------------- */

struct rs_type_stat {
    const char *name;        /* in the graph's strings */
    uint64_t count;
    uint64_t size;
    uint64_t retained;       /* with a dominator tree: bytes freed if all of them went */
    bool finalizer;          /* __del__ / tp_finalize / tp_del */
};

/* GC-tracked objects (as objgraph.typestats counts them) by type name, most numerous
 * first. `d` may be NULL (no retained sizes). Returns 0, -1 when out of memory. */
/* include_frozen: count gc.freeze()'d objects too (gc.get_objects() does not show them). */
int rs_snap_type_stats(const struct rs_snap_graph *g, const struct rs_snap_domtree *d,
                       bool include_frozen,
                       struct rs_type_stat **out, size_t *n);

/* The dominator tree of the whole snapshot: the super-root refers to every module,
 * thread frame and C-held object, then to what none of them reaches (in topological
 * order), so every object has a retained size. */
int rs_snap_full_domtree(struct rs_snap_graph *g, struct rs_snap_domtree *d);
/* The retained size of one object (what rs_snap_full_domtree's tree says, without building
 * it): itself and what the starts of that tree reach only through it, found with a walk
 * that does not go through it. Needs the edges. Returns 0, -1 when out of memory. */
int rs_snap_retained_one(struct rs_snap_graph *g, uint32_t target, uint64_t *retained);

/* ---- growth ------------------------------------------------------------------------ */

struct rs_growth_row {
    char *key;               /* type name or site text */
    uint64_t *count;         /* per snapshot */
    uint64_t *size;
    bool suspect;            /* grows steadily */
    bool grows_in_size;      /* grows steadily in size, not in number */
    uint32_t stack_id;       /* sites: a stack of the site */
    const struct rs_site_name *site;
};

struct rs_growth {
    const struct rs_snap_info **snaps; /* complete snapshots, in time order */
    size_t nsnaps;
    struct rs_growth_row *types;
    size_t ntypes;
    struct rs_growth_row *sites;
    size_t nsites;
    bool have_sites;         /* the trace has allocation events */
    /* The sites of the objects of the last snapshot in the file (snaps[nsnaps - 1]), NULL
     * without sites: a caller analysing that snapshot further binds it to its own load of
     * the graph instead of replaying the events again. rs_growth_free frees it. */
    struct rs_site_map *last_sites;
};

/* Loads every complete snapshot in turn (objects only). Returns 0, -1 corrupt, -2 out of
 * memory (message in err). names may be NULL (no sites). */
int rs_growth_build(const struct rs_trace *t, struct rs_snap_source *src,
                    struct rs_site_names *names, struct rs_growth *out, struct rs_notes *notes,
                    char *err, size_t errcap);
/* The same, counting the snapshot of `given` (loaded by the caller with any flags, and
 * left unchanged to it) from that graph instead of reading it again. */
int rs_growth_build_given(const struct rs_trace *t, struct rs_snap_source *src,
                          struct rs_site_names *names, struct rs_snap_graph *given,
                          struct rs_growth *out, struct rs_notes *notes, char *err,
                          size_t errcap);
/* The same, choosing the snapshots loaded and the objects counted (refscope check):
 * snapshots with load[s] false (s: index in gr->snaps, file order) are not loaded and
 * count nothing; begin and end run once per loaded snapshot, before and after its objects
 * are counted (live: the blocks live then, NULL when the trace has no events; a non-zero
 * return stops the build and is returned, -2 meaning out of memory); keep says whether a
 * GC-tracked object counts (site: its stack id, or RS_SITE_UNKNOWN). Any of them may be
 * NULL. */
struct rs_growth_filter {
    const bool *load;
    unsigned load_flags;     /* RS_SNAP_LOAD_* the callbacks need, besides the objects */
    int (*begin)(void *arg, size_t s, struct rs_snap_graph *g, const struct rs_site_map *live);
    bool (*keep)(void *arg, size_t s, const struct rs_snap_graph *g, uint32_t v, uint32_t site);
    int (*end)(void *arg, size_t s, struct rs_snap_graph *g, const struct rs_site_map *live);
    void *arg;
};
int rs_growth_build_filtered(const struct rs_trace *t, struct rs_snap_source *src,
                             struct rs_site_names *names, const struct rs_growth_filter *filter,
                             struct rs_growth *gr, struct rs_notes *notes, char *err,
                             size_t errcap);
void rs_growth_free(struct rs_growth *gr);
/* Does growth count object v? Every object, tracked by the collector or not: a set of
 * strings or a dict of numbers that only grows holds nothing the collector tracks (a dict
 * of atomic values is not tracked either), and is a leak all the same. Not the interpreter
 * frames of running threads, which are not objects. */
static inline bool rs_growth_counts(const struct rs_snap_graph *g, uint32_t v)
{
    return !(g->flags[v] & RS_NODE_SYNTHETIC);
}

/* Steady growth (at least 3 snapshots), from the count's last lowest point: it rose in at
 * least two intervals (half of them, or the last two), lost under a tenth of its gain, and
 * gained more than twice the series' noise (its drops no larger than the gain) and at least
 * a two-hundredth of the count; ending no higher than before the low, it rose in every
 * interval since. */
bool rs_growth_is_suspect(const uint64_t *count, size_t n);

/* ---- backrefs ---------------------------------------------------------------------- */

struct rs_chain {
    uint32_t *nodes;         /* root first, the object last */
    size_t n;
    uint8_t root_kind;       /* RS_SROOT_* of nodes[0] (NONE: no chain found) */
    uint32_t target;         /* the object the chain leads to (a representative) */
};

/* The shortest chain from a module or a thread's frame to one of `targets` (BFS on the
 * reversed references, from all targets at once), at most max_depth references long (0:
 * no limit); when none, the shortest from an object held from C. Needs the reverse edges.
 * Returns 0 (chain->n == 0: none found), -1 out of memory. */
int rs_snap_backref_chain(const struct rs_snap_graph *g, const uint8_t *root_kind,
                          const uint32_t *targets, size_t ntargets, unsigned max_depth,
                          struct rs_chain *chain);
void rs_chain_free(struct rs_chain *c);

/* ---- cycles ------------------------------------------------------------------------ */

enum rs_cycle_class {
    RS_CYCLE_UNCOLLECTABLE = 0, /* holds an object of gc.garbage */
    RS_CYCLE_LEAKED = 1,        /* kept alive by references no recorded object holds */
    RS_CYCLE_GARBAGE = 2,       /* the collector would free it */
    RS_CYCLE_CLASSES = 3,
};
const char *rs_cycle_class_name(enum rs_cycle_class c);

struct rs_count_item {
    const char *name;        /* type name (graph strings) */
    uint32_t site;           /* stack id or RS_SITE_UNKNOWN */
    uint64_t count;
    uint64_t size;
};

/* Cycles of the same class, member count, types and sites, reported once. */
struct rs_cycle_group {
    enum rs_cycle_class cls;
    uint64_t cycles;
    uint64_t members;        /* per cycle */
    uint64_t objects;        /* in all of them */
    uint64_t size;
    bool finalizer;
    struct rs_count_item *types; /* by type, most first */
    size_t ntypes;
    struct rs_count_item *sites; /* by site, most first */
    size_t nsites;
    struct rs_count_item *type_sites; /* by (type, site): each type's own sites */
    size_t ntype_sites;
    uint32_t *example;       /* the members of one of them */
    size_t nexample;
    uint64_t key;
};

struct rs_cycles {
    uint64_t unreachable;    /* GC-tracked objects no module or thread reaches */
    uint64_t in_cycles[RS_CYCLE_CLASSES];   /* objects */
    uint64_t ncycles[RS_CYCLE_CLASSES];
    uint64_t size[RS_CYCLE_CLASSES];
    struct rs_cycle_group *groups; /* by class, then size */
    size_t ngroups;
    struct rs_count_item *leaked;  /* single leaked objects by (type, site) */
    size_t nleaked;
    uint64_t leaked_objects, leaked_size;
    uint64_t suppressed_objects;   /* leaked-looking, but the interpreter's own */
    uint32_t *site;                /* per object, when the trace has events; else NULL */
};

/* What a collection would free now (gc.collect(), without DEBUG_SAVEALL): GC-tracked
 * objects that no module, no thread's frame and not gc.garbage reaches, and that are not
 * kept alive by references from outside the recorded objects (the "garbage" class of
 * rs_snap_cycles, with what only it holds). collectable[v] = 1 for them (array of g->n).
 * Needs the edges. Returns 0, -1 when out of memory. */
int rs_snap_collectable(const struct rs_snap_graph *g, uint8_t *collectable);
/* What growth leaves out (out[v] = 1, array of g->n):
 * - garbage: what rs_snap_collectable marks, and the weak references to it, which go with
 *   it (a class made and dropped leaves one in its bases' subclass registries until a
 *   collection);
 * - objects the collector does not track that no module or thread reaches: the strings and
 *   numbers of garbage, and those only C state holds (interned names, the int keys of those
 *   subclass registries), whose growth the objects holding them show;
 * - objects the collector does not track that an object other than a container (list,
 *   tuple, dict, set, deque...) or a module holds, directly or through its attribute dict:
 *   the strings and numbers of a leaked instance, a generator's iterator, grow with it and
 *   are counted once, as it. Those kept in a container (a set of ids, a dict or list of
 *   numbers) count.
 * Needs the edges. Returns 0, -1 when out of memory. */
int rs_snap_growth_excluded(const struct rs_snap_graph *g, uint8_t *out);

/* The GC-tracked objects no module or thread reaches (*nodes, malloc'd, *n of them): the
 * only ones rs_snap_cycles looks up the site of. Needs the edges. Returns 0, -1 when out
 * of memory. */
int rs_snap_unreachable(const struct rs_snap_graph *g, uint32_t **nodes, size_t *n);
/* The same objects as marks: set[v] = 1 for each (set: g->n bytes, zeroed by the caller),
 * *count (when not NULL) of them. */
int rs_snap_unreachable_set(const struct rs_snap_graph *g, uint8_t *set, uint64_t *count);

/* `site` (per object, may be NULL) and `names` (may be NULL) decide which leaked-looking
 * objects are the interpreter's own; show_all reports those too. */
int rs_snap_cycles(const struct rs_snap_graph *g, const uint32_t *site,
                   struct rs_site_names *names, bool show_all, struct rs_cycles *out);
void rs_cycles_free(struct rs_cycles *c);

#endif
