/* `refscope verify`: checks that a trace is whole and consistent with itself, and says
 * what it found. It reads the file with the one trace reader (which already checks the
 * header, every chunk's magic, length, checksum and sequence number, and that every record
 * decodes), then checks what the reader cannot see record by record:
 *
 *   - each thread's events are in time order;
 *   - replayed in time order (event_merge + live_set, as the report replays), every free
 *     matches a live allocation. Frees of blocks allocated before tracing started, or
 *     inherited across fork, are counted apart: they are expected, not errors. A free of
 *     an address the trace saw allocated and already freed, or an allocation at an address
 *     still live, means an event is missing or out of order;
 *   - the events of each thread in the file equal what its COUNTERS record says it made,
 *     and the END record's total equals the events in the file;
 *   - every stack id an event names is defined by a STACK record;
 *   - module maps and snapshots are closed, and each snapshot's END counts equal the
 *     objects and references its records hold.
 *
 * A trace cut short (partial: the file ends inside a chunk; incomplete: no END record) is
 * checked up to its last complete chunk: what the cut explains (stacks or counters written
 * after the cut) is a note, not a problem. */
#ifndef REFSCOPE_VERIFY_H
#define REFSCOPE_VERIFY_H

#include "notes.h"
#include "trace_reader.h"

#include <stdio.h>

struct rs_snap_source;

enum rs_verify_status {
    RS_VERIFY_UNREADABLE,    /* the reader refused the file (missing, corrupt...) */
    RS_VERIFY_COMPLETE,      /* an END record, nothing cut */
    RS_VERIFY_PARTIAL,       /* the file ends inside a chunk */
    RS_VERIFY_INCOMPLETE,    /* whole chunks, no END record */
};

struct rs_verify {
    const char *path;
    enum rs_verify_status status;
    struct rs_read_error read_error;   /* RS_VERIFY_UNREADABLE */
    bool fork_child;
    uint64_t pid, ppid;
    uint64_t file_size;
    uint64_t partial_at;     /* RS_VERIFY_PARTIAL: offset of the cut chunk */
    uint64_t end_reason;     /* RS_VERIFY_COMPLETE */

    uint64_t chunks;
    uint64_t threads;        /* threads with events */
    uint64_t events;         /* event records checked */
    uint64_t order_violations;   /* an event earlier than the one before it, same thread */

    /* the replay */
    uint64_t allocs;         /* ALLOC and SAMPLED_ALLOC records */
    uint64_t frees;          /* FREE records */
    uint64_t frees_null;     /* free(NULL) */
    uint64_t frees_matched;  /* of a live block */
    uint64_t frees_before_trace; /* of an address the trace never saw allocated */
    uint64_t frees_of_freed; /* of an address allocated and freed earlier, not since */
    uint64_t replaced;       /* an allocation at an address still live */
    uint64_t munmaps;
    uint64_t munmaps_untracked; /* released no recorded mapping (file mappings, pre-trace) */
    uint64_t live_blocks;    /* left at the end */
    uint64_t live_bytes;

    /* counters */
    uint64_t threads_counted;    /* threads with a COUNTERS record */
    uint64_t counted_events;     /* sum of their events */
    uint64_t counter_mismatches; /* threads whose file events differ from their count */
    uint64_t after_final_drain;  /* events counted by threads still running at the end
                                  * that are not in the file */
    uint64_t drops;          /* events the shim dropped (END, else the counters) */
    uint64_t end_events;     /* the END record's total */

    /* stacks */
    uint64_t stacks_defined;
    uint64_t stacks_referenced;  /* distinct non-zero ids named by events */
    uint64_t stacks_undefined;   /* of those, without a STACK record */

    /* snapshots */
    uint64_t snapshots;
    uint64_t snapshots_complete;
    uint64_t snapshots_checked;  /* loaded and compared with their END counts */
    uint64_t snapshot_nodes;
    uint64_t snapshot_edges;

    struct rs_notes problems;    /* one line each: the trace is not consistent */
    struct rs_notes notes;       /* what was found and is expected */
};

struct rs_verify_options {
    /* Snapshots with more records than this many bytes are not loaded (0: no limit). */
    uint64_t max_snapshot_bytes;
};

/* Checks the trace at path. Returns 0 (see v->problems), -1 when out of memory. */
int rs_verify_file(struct rs_verify *v, const char *path, const struct rs_verify_options *opt);
/* Checks a trace already read; `src` reads its snapshots (may be NULL: not checked). */
int rs_verify_trace(struct rs_verify *v, const struct rs_trace *t, struct rs_snap_source *src,
                    const struct rs_verify_options *opt);
bool rs_verify_consistent(const struct rs_verify *v);
void rs_verify_write_text(const struct rs_verify *v, FILE *out);
void rs_verify_write_json(const struct rs_verify *v, FILE *out);
void rs_verify_free(struct rs_verify *v);
const char *rs_verify_status_name(enum rs_verify_status s);

#endif
