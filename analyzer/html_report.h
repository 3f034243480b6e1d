/* `refscope html`: one self-contained HTML page about a trace (no network, no external
 * script, style or font): a summary with the rule verdicts of `refscope check` when given,
 * live memory over time, the per-type counts over the snapshots, the leak suspects with
 * their backref chains drawn by Graphviz, the leaked memory by allocation site, a flame
 * graph of the allocation stacks alive at exit and at the peak (by thread), the
 * unreachable cycles drawn, and the threads.
 *
 * Every figure comes from the analyses the other commands use (report.h,
 * report_suspects.h, snap_analyze.h). Every string from the trace is escaped
 * (html_escape.h). Everything listed is bounded (the limits below) and the page says what
 * it left out, so a trace with millions of live objects still gives a page of a few MB. */
#ifndef REFSCOPE_HTML_REPORT_H
#define REFSCOPE_HTML_REPORT_H

#include "json_value.h"
#include "snap_dot.h"

#define RS_HTML_MAX_ROWS 20          /* rows per table (sites, types, leaked objects) */
#define RS_HTML_MAX_CHAIN_NODES 30   /* objects drawn per backref chain */
#define RS_HTML_MAX_SITE_CHAINS 10   /* leaked Python sites given a chain */
#define RS_HTML_MAX_CYCLES 12        /* classes of cycles drawn */
#define RS_HTML_MAX_CYCLE_MEMBERS 24 /* members drawn per cycle */
#define RS_HTML_MAX_GROWTH_TYPES 8   /* types in the per-type chart */
#define RS_HTML_MAX_MARKS 300        /* marks drawn on the memory chart */
#define RS_HTML_MAX_FLAME_THREADS 12 /* threads with a flame graph of their own */
#define RS_HTML_FLAME_NODES 1600     /* nodes per flame graph (all threads) */
#define RS_HTML_FLAME_THREAD_NODES 600 /* nodes per flame graph of one thread */

struct rs_html_options {
    const struct rs_jv *check;   /* `refscope check --json` output (refscope.check/1), or NULL */
    const char *check_source;    /* where it came from, for the page */
};

/* Writes the page for the trace at `path` into *page. Returns 0, or 1 when the trace
 * cannot be read (the reason in err). */
int rs_html_report(const char *path, const struct rs_html_options *o, struct rs_strbuf *page,
                   char *err, size_t errcap);

#endif
