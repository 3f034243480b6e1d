/* Where the objects of a snapshot were allocated: the block at (address - preheader) live
 * at the snapshot's time, found by one replay of the trace's events in time order with the
 * snapshots' times as checkpoints; its stack is the object's allocation site. */
#ifndef REFSCOPE_SNAP_SITES_H
#define REFSCOPE_SNAP_SITES_H

#include "snap_graph.h"
#include "symbolize.h"

/* No live block at the object's allocation address: allocated before tracing started,
 * a static object, or an allocator the shim does not see. */
#define RS_SITE_UNKNOWN UINT32_MAX

struct rs_site_map;

/* The stack id of the block starting at addr (RS_STACK_ID_NONE when it had none), or
 * RS_SITE_UNKNOWN. */
uint32_t rs_site_map_find(const struct rs_site_map *m, uint64_t addr);

/* When the block at addr was allocated: the number of checkpoints already passed then
 * (0: before the first; saturated at 65535), or RS_EPOCH_UNKNOWN when no block starts
 * there. An object alive at checkpoint j whose block has epoch > i was allocated after
 * checkpoint i: new, whatever lived at its address before. */
#define RS_EPOCH_UNKNOWN UINT32_MAX
uint32_t rs_site_map_epoch(const struct rs_site_map *m, uint64_t addr);

/* Called at each checkpoint k (times ascending) with the blocks live then. Non-zero stops
 * the pass and is returned. */
typedef int (*rs_site_checkpoint_fn)(void *arg, size_t k, const struct rs_site_map *live);

/* One pass over the events: events at or before times[k] are applied before checkpoint k.
 * `times` must be ascending. Returns 0, -2 when out of memory, or the callback's value. */
int rs_sites_pass(const struct rs_trace *t, const uint64_t *times, size_t ntimes,
                  rs_site_checkpoint_fn fn, void *arg);

/* The site of every object of g (array of g->n): RS_SITE_UNKNOWN or a stack id. */
uint32_t rs_site_of(const struct rs_snap_graph *g, const struct rs_site_map *live, uint32_t v);
/* The epoch (rs_site_map_epoch) of object v's block. */
uint32_t rs_epoch_of(const struct rs_snap_graph *g, const struct rs_site_map *live, uint32_t v);
int rs_snap_sites(const struct rs_trace *t, const struct rs_snap_graph *g, uint32_t *site);

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
