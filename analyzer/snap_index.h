/* The object-graph snapshots of a trace, as found while reading it (snap_records.c).
 *
 * Reading a trace only indexes its snapshots: where each one's records are in the file.
 * The records are decoded when a command needs a snapshot (snap_graph.h), straight into
 * compact arrays, so a trace with several large snapshots never holds more than the one
 * being analysed. */
#ifndef REFSCOPE_SNAP_INDEX_H
#define REFSCOPE_SNAP_INDEX_H

#include "trace_model.h"

/* File bytes [off, end) of one chunk holding records of a snapshot, from its first such
 * record in the chunk to its last. Records of other kinds in between are skipped when the
 * range is decoded. */
struct rs_snap_range {
    uint64_t off;
    uint64_t end;
    uint64_t chunk;             /* index of the chunk in the file */
};

struct rs_snap_info {
    uint32_t id;
    uint64_t time;              /* ns since trace start */
    uint64_t trigger;           /* rs_snap_trigger */
    struct rs_text label;
    uint64_t begin_at;          /* file offset of its SNAP_BEGIN */
    bool complete;              /* its SNAP_END was seen */
    uint64_t end_nodes;         /* from SNAP_END (untrusted: compared, never used to size) */
    uint64_t end_edges;
    uint64_t pause_ns;
    struct rs_snap_range *ranges;
    size_t nranges, ranges_cap;
};

struct rs_snapshots {
    struct rs_snap_info *v;     /* in file order */
    size_t n, cap;
    bool open;                  /* v[n - 1] has had its BEGIN but not its END yet */
    uint64_t stray_records;     /* snapshot records outside any BEGIN..END */
    uint64_t stray_ends;        /* SNAP_END without the matching BEGIN */
};

/* Complete snapshots, and the one to use by default (the last complete one); NULL when
 * there is none. */
size_t rs_snap_count_complete(const struct rs_trace *t);
const struct rs_snap_info *rs_snap_last_complete(const struct rs_trace *t);
/* A complete snapshot by id ("3") or by label; NULL when none matches. */
const struct rs_snap_info *rs_snap_find(const struct rs_trace *t, const char *spec);
const char *rs_snap_trigger_name(uint64_t trigger);

#endif
