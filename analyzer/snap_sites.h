/* Where the objects of a snapshot were allocated: the block at (address - preheader) live
 * at the snapshot's time, found by one replay of the trace's events in time order with the
 * snapshots' times as checkpoints, following only the snapshots' blocks; its stack is the
 * object's allocation site. */
#ifndef REFSCOPE_SNAP_SITES_H
#define REFSCOPE_SNAP_SITES_H

#include "snap_graph.h"
#include "symbolize.h"

/* No live block at the object's allocation address: allocated before tracing started,
 * a static object, or an allocator the shim does not see. */
#define RS_SITE_UNKNOWN UINT32_MAX

/* When an object's block was allocated: the number of checkpoints (the snapshots asked
 * about, in time order) already passed then (0: before the first; saturated at 65535), or
 * RS_EPOCH_UNKNOWN when no block is live there. An object alive at checkpoint j whose
 * block has epoch > i was allocated after checkpoint i: new, whatever lived at its
 * address before. */
#define RS_EPOCH_UNKNOWN UINT32_MAX

/* The objects of one snapshot, by the address of the block each is in (0: none known).
 * Each address is replaced by its answer (rs_answer_site, rs_answer_epoch): the arrays of
 * several large snapshots are held at once, next to the events. */
struct rs_site_query {
    uint64_t time;              /* the snapshot's */
    uint64_t *block;            /* n */
    uint32_t n;
};

/* The live block's stack id (RS_STACK_ID_NONE when it had none), or RS_SITE_UNKNOWN. */
static inline uint32_t rs_answer_site(uint64_t answer)
{
    return (uint32_t)(answer >> 32);
}

static inline uint32_t rs_answer_epoch(uint64_t answer)
{
    return (uint32_t)answer;
}

/* One replay of the events for snapshots in ascending time order: events at or before
 * q[k].time are applied before q[k] is answered. The events are t's in memory or, when it
 * was read without them, its file's read back (event_merge.h). Returns 0, or -2 when out
 * of memory and -1 when the file could not be read back, with `err` set. */
int rs_sites_of_blocks(const struct rs_trace *t, struct rs_site_query *q, size_t nq, char *err,
                       size_t errcap);
/* The block address of object v (0: none known). */
uint64_t rs_snap_block_of(const struct rs_snap_graph *g, uint32_t v);
/* The block address of each of g's objects, malloc'd; NULL when out of memory. */
uint64_t *rs_snap_blocks(const struct rs_snap_graph *g);
/* The same made in place of g's addresses, which it takes: the blocks of a graph about to
 * be freed, without a second array of its size. */
uint64_t *rs_snap_take_blocks(struct rs_snap_graph *g);
/* The site of every object of g (site: array of g->n) at the snapshot's time. Returns 0,
 * -2 when out of memory, -1 when the file could not be read back. */
int rs_snap_sites(const struct rs_trace *t, const struct rs_snap_graph *g, uint32_t *site);

/* The sites and epochs of one snapshot's objects, found before its graph is loaded (the
 * answers of a query: the map takes them), then bound to the graph once it is. */
struct rs_site_map;
struct rs_site_map *rs_site_map_new(uint64_t *answers, uint32_t n);
/* False when g does not have the objects the map was made for. */
bool rs_site_map_bind(struct rs_site_map *m, const struct rs_snap_graph *g);
void rs_site_map_free(struct rs_site_map *m);
/* Object v of the bound graph g: its site (RS_SITE_UNKNOWN or a stack id), its epoch. */
uint32_t rs_site_of(const struct rs_snap_graph *g, const struct rs_site_map *live, uint32_t v);
uint32_t rs_epoch_of(const struct rs_snap_graph *g, const struct rs_site_map *live, uint32_t v);
/* Object v, by its number in the snapshot the map was made for, without a graph. */
uint32_t rs_site_map_site(const struct rs_site_map *m, uint32_t v);

/* Sites for people: the innermost Python frame of the stack, else its innermost frame
 * shown, as "file.py:21 handle". Cached per stack id. */
struct rs_site_names;
struct rs_site_names *rs_site_names_new(const struct rs_trace *t, struct rs_symbolizer *sym);
void rs_site_names_free(struct rs_site_names *s);

struct rs_site_name {
    uint32_t stack_id;
    uint32_t canonical;           /* the first stack id shown with the same text: group
                                   * sites by it */
    const struct rs_frame *frame; /* NULL: no frame (unknown site, no stack) */
    char *text;                   /* "file.py:21 handle", "(unknown site)"... */
    char *caller;                 /* a Python site in a library (the standard library, a
                                   * package): the program's innermost frame of the stack,
                                   * "app.py:7 serve"; else NULL */
    bool internal;                /* no Python frame, the interpreter's own frozen modules
                                   * innermost, or made during an import: made by the
                                   * interpreter or for a module's lifetime, not by the
                                   * program's running code */
};
/* NULL when out of memory. */
const struct rs_site_name *rs_site_name(struct rs_site_names *s, uint32_t stack_id);
/* Does `spec` ("file.py:21", "path/file.py:21", "file.py") name the site? */
bool rs_site_matches(const struct rs_site_name *n, const char *spec);

#endif
