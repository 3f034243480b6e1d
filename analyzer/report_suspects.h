/* The "leak suspects" section of `refscope report`: from the trace's object-graph
 * snapshots, the types that grow steadily across them or that have leaked objects (kept
 * alive by references no recorded object holds), each with its count, size and retained
 * size in the last snapshot, its top allocation site, and the chain of references from a
 * root to one of its objects. */
#ifndef REFSCOPE_REPORT_SUSPECTS_H
#define REFSCOPE_REPORT_SUSPECTS_H

#include "json_writer.h"
#include "symbolize.h"
#include "trace_model.h"

#include <stdio.h>

#define RS_SUSPECTS_MAX 10

struct rs_suspects;

/* Computes the section (NULL only when out of memory). `path` is the trace file, read
 * again for its snapshots; `sym` may be NULL (no sites). */
struct rs_suspects *rs_suspects_build(const struct rs_trace *t, const char *path,
                                      struct rs_symbolizer *sym);
void rs_suspects_free(struct rs_suspects *s);
void rs_suspects_write_text(const struct rs_suspects *s, FILE *out);
/* Writes "leak_suspects": [...] (and "leak_suspects_note") into the open object. */
void rs_suspects_write_json(const struct rs_suspects *s, struct rs_json *j);

/* Read access (the HTML report shows the same suspects). */
struct rs_site_name;
struct rs_snap_edge_ref;
struct rs_snap_info;
struct rs_suspect_view {
    const char *type;        /* module.qualname */
    bool growing, leaked;    /* the reasons */
    bool grows_in_size;      /* the reason when its objects grow in size, not in number */
    const uint64_t *counts;  /* per complete snapshot (rs_suspects_nsnaps), time order */
    const uint64_t *sizes;   /* the same, their bytes */
    uint64_t largest;        /* grows_in_size: the size of its largest object, the one the
                              * site and the chain are of */
    const struct rs_site_name *fills_at; /* grows_in_size: where that object's items' block
                                          * was last (re)allocated; NULL: unknown */
    uint64_t count, size, retained; /* in the last complete snapshot */
    const struct rs_site_name *site; /* where its growth is, or its most common
                                      * allocation site; NULL: unknown */
    uint64_t site_count;     /* its objects in the last snapshot */
    size_t nchain;           /* objects in the chain, root first; 0: no chain */
    uint8_t root_kind;       /* RS_SROOT_* */
    const char *root_name;   /* module or thread name ("" when none) */
};
struct rs_suspect_step {
    uint64_t addr;
    const char *type;        /* module.qualname */
    const char *label;       /* raw, label_len bytes */
    size_t label_len;
    const struct rs_snap_edge_ref *edge; /* the reference into it; NULL for the root */
};
size_t rs_suspects_n(const struct rs_suspects *s);
size_t rs_suspects_nsnaps(const struct rs_suspects *s);
/* The snapshot the details come from (the last complete one); NULL when none. */
const struct rs_snap_info *rs_suspects_snapshot(const struct rs_suspects *s);
/* Why the list is empty or incomplete; "" when nothing to say. */
const char *rs_suspects_note(const struct rs_suspects *s);
void rs_suspects_get(const struct rs_suspects *s, size_t k, struct rs_suspect_view *out);
void rs_suspects_step(const struct rs_suspects *s, size_t k, size_t i,
                      struct rs_suspect_step *out);

/* The report writers' section, from rs_report's suspects (NULL: none, or out of memory). */
void rs_report_suspects_text(const struct rs_trace *t, const struct rs_suspects *s, FILE *out);
void rs_report_suspects_json(const struct rs_trace *t, const struct rs_suspects *s,
                             struct rs_json *j);

#endif
