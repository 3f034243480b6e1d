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

/* Both at once, for the report writers: build, write, free. */
void rs_report_suspects_text(const struct rs_trace *t, const char *path,
                             struct rs_symbolizer *sym, FILE *out);
void rs_report_suspects_json(const struct rs_trace *t, const char *path,
                             struct rs_symbolizer *sym, struct rs_json *j);

#endif
