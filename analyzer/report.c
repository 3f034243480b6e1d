#include "report.h"

#include "escape.h"
#include "format_num.h"

#include <stdlib.h>
#include <string.h>

const char *rs_end_reason_name(uint64_t reason)
{
    switch (reason) {
    case RS_END_EXIT: return "exit";
    case RS_END__EXIT: return "_exit";
    case RS_END_EXEC: return "exec";
    case RS_END_DETACH: return "detach";
    case RS_END_PYTHON_ATEXIT: return "python_atexit";
    }
    return "unknown";
}

const char *rs_mark_kind_name(uint64_t kind)
{
    switch (kind) {
    case RS_MARK_FORK_PARENT: return "fork";
    case RS_MARK_EXEC: return "exec";
    }
    return "mark";
}

static int symbolize_section(struct rs_report *r, const struct rs_stack_total *totals,
                             size_t ntotals, struct rs_report_stack **out, size_t *nout)
{
    size_t n = ntotals;
    if (r->opt.top && n > r->opt.top)
        n = r->opt.top;
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return -1;
    *nout = n;
    for (size_t i = 0; i < n; i++) {
        struct rs_report_stack *rs = &(*out)[i];
        rs->total = &totals[i];
        const struct rs_trace_stack *st = rs_trace_stack_find(r->trace, totals[i].stack_id);
        if (!st)
            continue;
        rs->known = true;
        if (rs_symbolize_stack(r->sym, st->words, st->nwords, r->opt.stack_depth, &rs->frames))
            return -1;
    }
    return 0;
}

static void gather_counts(struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    for (size_t i = 0; i < t->nthreads; i++) {
        const struct rs_trace_thread *th = r->threads[i];
        if (th && th->has_counters) {
            r->lost += th->counters.drops;
            r->waits += th->counters.waits;
            r->wait_ns += th->counters.wait_ns;
        }
    }
    if (t->end.present) {
        r->counts_exact = true;
        r->lost = t->end.total_drops;
        r->waits = t->end.total_waits;
    }
}

static void add_notes(struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    char n[RS_NUM_BUF];
    if (t->hdr.sample_bytes)
        rs_notes_add(&r->notes, RS_NOTE_INFO,
                     "sampling was on (about one allocation recorded per %s bytes): "
                     "counts and bytes are estimates",
                     rs_fmt_count(n, t->hdr.sample_bytes));
    if (t->hdr.flags & RS_TRACE_FLAG_FORK_CHILD)
        rs_notes_add(&r->notes, RS_NOTE_INFO,
                     "this process was forked from a traced parent: blocks it inherited are "
                     "in the parent's trace, and their frees count as never seen allocated");
    if (r->replay.replaced)
        rs_notes_add(&r->notes, RS_NOTE_WARNING,
                     "%s allocation%s returned an address that was still live: the frees "
                     "before them were not recorded",
                     rs_fmt_count(n, r->replay.replaced), r->replay.replaced == 1 ? "" : "s");
    if (t->open_map)
        rs_notes_add(&r->notes, RS_NOTE_WARNING,
                     "the last module map in the trace is unfinished: symbols may be missing");
}

int rs_report_build(struct rs_report *r, const char *path, const struct rs_report_options *opt,
                    struct rs_read_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->opt = *opt;
    if (rs_trace_read_file(path, &r->trace, err) != RS_READ_OK)
        return 1;
    const struct rs_trace *t = r->trace;
    if (t->nthreads && !(r->threads = rs_trace_threads_sorted(t)))
        goto nomem;
    if (rs_replay_run(t, &r->replay))
        goto nomem;

    if (t->partial)
        r->status = RS_TRACE_PARTIAL;
    else if (t->end.present)
        r->status = RS_TRACE_COMPLETE;
    else
        r->status = RS_TRACE_INCOMPLETE;
    r->duration_ns = t->end.present ? t->end.end_time : r->replay.last_time;
    for (size_t i = 0; i < t->nmarks; i++) {
        if (!t->end.present && t->marks[i].time > r->duration_ns)
            r->duration_ns = t->marks[i].time;
    }
    gather_counts(r);

    if (!(r->sym = rs_symbolizer_new(t, &r->notes)))
        goto nomem;
    if (symbolize_section(r, r->replay.leaks, r->replay.nleaks, &r->leaks, &r->nleaks) ||
        symbolize_section(r, r->replay.at_peak, r->replay.nat_peak, &r->at_peak, &r->nat_peak))
        goto nomem;
    add_notes(r);
    return 0;

nomem:
    rs_report_free(r);
    memset(err, 0, sizeof *err);
    err->status = RS_READ_ERR_NOMEM;
    size_t n = rs_escape_to(err->message, sizeof err->message - 20, path, strlen(path));
    snprintf(err->message + n, sizeof err->message - n, ": out of memory");
    return 1;
}

static void free_section(struct rs_report_stack *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        rs_frames_free(&s[i].frames);
    free(s);
}

void rs_report_free(struct rs_report *r)
{
    free_section(r->leaks, r->nleaks);
    free_section(r->at_peak, r->nat_peak);
    r->leaks = r->at_peak = NULL;
    rs_symbolizer_free(r->sym);
    r->sym = NULL;
    rs_notes_free(&r->notes);
    rs_replay_free(&r->replay);
    free(r->threads);
    r->threads = NULL;
    rs_trace_free(r->trace);
    r->trace = NULL;
}
