/* `refscope report`: the facts of one trace (read, replayed, symbolized), then written for
 * a terminal or as JSON (docs/json-schema.md). Both writers show the same facts. */
#ifndef REFSCOPE_REPORT_H
#define REFSCOPE_REPORT_H

#include "notes.h"
#include "replay.h"
#include "symbolize.h"
#include "trace_reader.h"

#include <stdio.h>

#define RS_REPORT_DEFAULT_TOP 10
#define RS_REPORT_DEFAULT_DEPTH 16

struct rs_report_options {
    bool json;
    unsigned top;            /* stacks listed per section; 0: all */
    unsigned stack_depth;    /* frames shown per stack; 0: all */
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
};

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
    struct rs_report_stack *leaks;
    size_t nleaks;           /* shown (at most opt.top) */
    struct rs_report_stack *at_peak;
    size_t nat_peak;
    struct rs_trace_thread **threads; /* order of first appearance */
    struct rs_notes notes;   /* the analyzer's own */
    struct rs_symbolizer *sym;
};

/* Returns 0, or 1 with `err` filled when the trace cannot be read. */
int rs_report_build(struct rs_report *r, const char *path, const struct rs_report_options *opt,
                    struct rs_read_error *err);
void rs_report_free(struct rs_report *r);

void rs_report_write_text(const struct rs_report *r, FILE *out);
void rs_report_write_json(const struct rs_report *r, FILE *out);

const char *rs_end_reason_name(uint64_t reason);
const char *rs_mark_kind_name(uint64_t kind);

#endif
