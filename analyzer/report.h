/* `refscope report`: the facts of one trace (read, replayed, symbolized), then written for
 * a terminal or as JSON (docs/json-schema.md). Both writers show the same facts. */
#ifndef REFSCOPE_REPORT_H
#define REFSCOPE_REPORT_H

#include "notes.h"
#include "replay.h"
#include "symbolize.h"
#include "trace_reader.h"

#include <pthread.h>
#include <stdio.h>

#define RS_REPORT_DEFAULT_TOP 10
#define RS_REPORT_DEFAULT_DEPTH 16

struct rs_report_options {
    bool json;
    unsigned top;            /* stacks and lines listed per section; 0: all */
    unsigned stack_depth;    /* frames shown per stack; 0: all */
    bool native;             /* --native: hybrid stacks (native frames, the eval loop's
                              * replaced by the Python frames it ran) */
    const char *thread;      /* --thread: only blocks allocated by the threads it names (a
                              * tid, a name, or a name prefix); NULL: all threads */
    struct rs_timeline *timeline; /* `html`: live bytes over time, filled by the replay
                                   * (timeline.h); NULL: none */
    bool suspects;           /* build the leak suspects too (rs_report's suspects) */
    const char *since_snapshot; /* `check --from`: the blocks allocated before this
                                 * snapshot (id or label) have RS_GROUP_BEFORE_SINCE in the
                                 * sections' totals; NULL, or no such snapshot: none */
};

enum rs_trace_status {
    RS_TRACE_COMPLETE,       /* END record, nothing cut */
    RS_TRACE_PARTIAL,        /* the file ends inside a chunk */
    RS_TRACE_INCOMPLETE,     /* whole chunks, but no END record */
};

struct rs_report_stack {
    const struct rs_stack_total *total;
    bool known;              /* the trace has this stack's record */
    struct rs_frames frames;
    const char *runtime_why; /* runtime stacks: why they are the C runtime's */
};

/* Live blocks by the innermost frame of their stack that says where in the program they
 * were allocated: the innermost Python frame when the stack has one, else the innermost
 * native frame shown. Stacks without frames have a line of their own kind. */
enum rs_line_kind {
    RS_LINE_PYTHON,
    RS_LINE_NATIVE,
    RS_LINE_NO_STACK,        /* stack id 0; in a Python process: interpreter start-up
                              * (flags has RS_GROUP_AFTER_PROGRAM_END: teardown) */
    RS_LINE_UNKNOWN_STACK,   /* the stack's record is not in the trace */
    RS_LINE_NO_FRAMES,       /* only refscope's and the allocator's frames */
};

struct rs_report_line {
    enum rs_line_kind kind;
    const struct rs_frame *frame; /* RS_LINE_PYTHON, RS_LINE_NATIVE */
    uint32_t flags;          /* RS_LINE_NO_STACK: RS_GROUP_* */
    uint64_t blocks;
    uint64_t bytes;
    size_t stacks;           /* distinct stacks */
};

struct rs_report_thread_total {
    uint32_t tid;
    uint64_t blocks;
    uint64_t bytes;
};

/* Blocks live at one point. Everything in it has the thread filter applied; in a leak
 * section (runtime_split) the C runtime's blocks are set apart, out of the totals. */
struct rs_report_section {
    bool present;
    uint64_t time;           /* ns since trace start */
    uint64_t blocks;
    uint64_t bytes;
    struct rs_stack_total *totals;  /* every stack, largest first */
    size_t ntotals;
    struct rs_report_stack *stacks; /* the first --top of them, symbolized */
    size_t nstacks;
    struct rs_report_line *lines;   /* every line, largest first */
    size_t nlines;
    size_t nlines_shown;            /* --top */
    struct rs_report_thread_total *threads; /* largest first */
    size_t nthreads;

    bool runtime_split;
    uint64_t runtime_blocks;
    uint64_t runtime_bytes;
    struct rs_stack_total *runtime_totals;
    size_t nruntime_totals;
    struct rs_report_stack *runtime_stacks;
    size_t nruntime_stacks;
};

struct rs_stack_class;

struct rs_report {
    const char *path;
    struct rs_report_options opt;
    struct rs_trace *trace;
    struct rs_replay replay;
    enum rs_trace_status status;
    uint64_t duration_ns;
    uint64_t lost;           /* events dropped by the shim */
    uint64_t waits;          /* times a thread waited for a full ring */
    uint64_t wait_ns;
    bool counts_exact;       /* from the END record, not the last COUNTERS reached */
    bool python;             /* the trace is of a Python process */

    /* What the program left behind: at the program-end mark when the trace has one, else
     * at the end of the trace. */
    struct rs_report_section leaked;
    const struct rs_trace_mark *program_end; /* the mark `leaked` is at, or NULL */
    uint64_t teardown_freed_blocks;          /* of `leaked`, gone by the end of the trace */
    uint64_t teardown_freed_bytes;
    struct rs_report_section end_of_trace;   /* present only with a program-end mark */
    struct rs_report_section at_peak;

    /* --thread: the tids it matched, ascending */
    bool filtered;
    uint32_t *tids;
    size_t ntids;

    struct rs_trace_thread **threads; /* main first, then by tid; only matching ones */
    size_t nthreads;
    struct rs_notes notes;   /* the analyzer's own */
    struct rs_symbolizer *sym;
    struct rs_stack_class *classes;   /* runtime classification, by stack id */

    /* The leak suspects (report_suspects.h) with opt.suspects; NULL when the trace has no
     * snapshot or memory ran out. Built in a thread of their own while the replay runs,
     * with a symbolizer and notes of their own (the notes join `notes` once the thread is
     * joined, report.c). */
    struct rs_suspects *suspects;
    struct rs_symbolizer *suspects_sym;
    struct rs_notes suspects_notes;
    pthread_t suspects_thread;
    bool suspects_running;
};

/* rs_report_build returns 0; RS_REPORT_UNREADABLE with `err` filled when the trace cannot
 * be read; RS_REPORT_NO_THREAD (err says so) when --thread matches no thread. */
#define RS_REPORT_UNREADABLE 1
#define RS_REPORT_NO_THREAD 2
int rs_report_build(struct rs_report *r, const char *path, const struct rs_report_options *opt,
                    struct rs_read_error *err);
void rs_report_free(struct rs_report *r);

void rs_report_write_text(const struct rs_report *r, FILE *out);
void rs_report_write_json(const struct rs_report *r, FILE *out);

const char *rs_end_reason_name(uint64_t reason);
const char *rs_mark_kind_name(uint64_t kind);
/* The crash signal the shim saw coming (the last such mark), or NULL. */
const struct rs_trace_mark *rs_fatal_signal_mark(const struct rs_trace *t);
/* The name to show for a thread: Python's when known, else the OS's; NULL when none. */
const struct rs_text *rs_thread_name(const struct rs_trace_thread *th);
/* "Python atexit", "os._exit", or the mark's label. */
const char *rs_program_end_name(const struct rs_trace_mark *m);

#endif
