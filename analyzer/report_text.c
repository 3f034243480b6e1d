/* The report for a terminal. Every string that comes from the trace (or from files it
 * names) goes through rs_fput_escaped. */
#include "report.h"

#include "escape.h"
#include "format_num.h"

#include <string.h>

static void put_text(FILE *out, const struct rs_text *t)
{
    rs_fput_escaped(out, t->s ? t->s : "", t->len);
}

static void put_str(FILE *out, const char *s)
{
    rs_fput_escaped(out, s, strlen(s));
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* leak_here (native_leak.c:19) | leak_here (in libfoo.so) | libfoo.so+0x1234 | 0x7f12... */
static void put_frame(FILE *out, const struct rs_frame *f)
{
    if (f->function) {
        put_str(out, f->function);
    } else if (f->module) {
        put_str(out, f->module);
        fprintf(out, "+0x%llx", (unsigned long long)f->module_offset);
    } else {
        fprintf(out, "0x%llx", (unsigned long long)f->address);
    }
    if (f->function && f->file) {
        fputs(" (", out);
        put_str(out, base_name(f->file));
        if (f->line > 0)
            fprintf(out, ":%d", f->line);
        fputc(')', out);
    } else if (f->function && f->module) {
        fputs(" (in ", out);
        put_str(out, f->module);
        fputc(')', out);
    }
}

static void put_section(FILE *out, const char *title, const struct rs_report_stack *stacks,
                        size_t shown, size_t total)
{
    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    fprintf(out, "\n%s, by stack", title);
    if (total == 0) {
        fputs(": none\n", out);
        return;
    }
    if (shown < total)
        fprintf(out, " (top %zu of %s)", shown, rs_fmt_count(a, total));
    fputs(":\n", out);
    for (size_t i = 0; i < shown; i++) {
        const struct rs_report_stack *s = &stacks[i];
        fprintf(out, "#%-3zu %s block%s, %s bytes", i + 1, rs_fmt_count(a, s->total->blocks),
                s->total->blocks == 1 ? "" : "s", rs_fmt_count(b, s->total->bytes));
        if (s->total->bytes >= 1000)
            fprintf(out, " (%s)", rs_fmt_bytes(a, s->total->bytes));
        fputc('\n', out);
        if (s->total->stack_id == RS_STACK_ID_NONE) {
            fputs("     (no stack recorded)\n", out);
            continue;
        }
        if (!s->known) {
            fprintf(out, "     (stack #%u is not in the trace)\n", (unsigned)s->total->stack_id);
            continue;
        }
        if (s->frames.n == 0 && s->frames.omitted == 0)
            fputs("     (no frames outside refscope and the allocator)\n", out);
        for (size_t k = 0; k < s->frames.n; k++) {
            fputs("     ", out);
            put_frame(out, s->frames.v[k]);
            fputc('\n', out);
        }
        if (s->frames.omitted)
            fprintf(out, "     ... %zu more frame%s\n", s->frames.omitted,
                    s->frames.omitted == 1 ? "" : "s");
    }
}

static void put_header(FILE *out, const struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    const struct rs_trace_header *h = &t->hdr;
    char a[RS_NUM_BUF];

    fputs("refscope report: ", out);
    put_str(out, r->path);
    fputs("\nprogram: ", out);
    if (h->exe.len)
        put_text(out, &h->exe);
    else
        fputs("(unknown)", out);
    if (rs_header_has(h, RS_HDR_PID)) {
        fprintf(out, " (pid %llu", (unsigned long long)h->pid);
        if (rs_header_has(h, RS_HDR_PPID))
            fprintf(out, ", parent %llu", (unsigned long long)h->ppid);
        fputc(')', out);
    }
    fprintf(out, ", ran %s\n", rs_fmt_duration(a, r->duration_ns));
    if (h->argc) {
        fputs("command:", out);
        for (size_t i = 0; i < h->argc; i++) {
            fputc(' ', out);
            put_text(out, &h->argv[i]);
        }
        fputc('\n', out);
    }
    switch (r->status) {
    case RS_TRACE_COMPLETE:
        fputs("trace: complete\n", out);
        break;
    case RS_TRACE_PARTIAL:
        fprintf(out,
                "trace: PARTIAL — cut short at byte %s, last complete chunk kept; the program "
                "did not finish writing its trace\n",
                rs_fmt_count(a, t->partial_at));
        break;
    case RS_TRACE_INCOMPLETE:
        fputs("trace: INCOMPLETE — no end record; the program did not finish writing its "
              "trace (killed, or still running)\n",
              out);
        break;
    }
}

static void put_events(FILE *out, const struct rs_report *r)
{
    const struct rs_replay *p = &r->replay;
    char a[RS_NUM_BUF], b[RS_NUM_BUF], c[RS_NUM_BUF], d[RS_NUM_BUF];

    fprintf(out, "events: %s allocation%s (%s), %s free%s; %s lost", rs_fmt_count(a, p->allocs),
            p->allocs == 1 ? "" : "s", rs_fmt_bytes(b, p->alloc_bytes), rs_fmt_count(c, p->frees),
            p->frees == 1 ? "" : "s", rs_fmt_count(d, r->lost));
    if (!r->counts_exact)
        fputs(" (counts cover only what reached the file)", out);
    fputc('\n', out);
    if (p->frees_unknown)
        fprintf(out,
                "        %s free%s of blocks never seen allocated (allocated before tracing "
                "started, or inherited across fork)\n",
                rs_fmt_count(a, p->frees_unknown), p->frees_unknown == 1 ? "" : "s");
    if (p->munmap_records)
        fprintf(out, "        %s munmap%s released %s of mapped memory\n",
                rs_fmt_count(a, p->munmap_records), p->munmap_records == 1 ? "" : "s",
                rs_fmt_bytes(b, p->unmapped_bytes));
    if (r->waits)
        fprintf(out, "        threads waited %s time%s for refscope's full buffer, %s in total\n",
                rs_fmt_count(a, r->waits), r->waits == 1 ? "" : "s",
                rs_fmt_duration(b, r->wait_ns));

    fprintf(out, "peak: %s live in %s block%s at %s\n", rs_fmt_bytes(a, p->peak_bytes),
            rs_fmt_count(b, p->peak_blocks), p->peak_blocks == 1 ? "" : "s",
            rs_fmt_duration(c, p->peak_time));
    fprintf(out, "%s: %s block%s, %s bytes, from %s stack%s\n",
            r->status == RS_TRACE_COMPLETE ? "leaked at exit" : "live at end of trace",
            rs_fmt_count(a, p->live_blocks), p->live_blocks == 1 ? "" : "s",
            rs_fmt_count(b, p->live_bytes), rs_fmt_count(c, p->nleaks),
            p->nleaks == 1 ? "" : "s");
}

static void put_threads(FILE *out, const struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    char a[RS_NUM_BUF];
    if (!t->nthreads)
        return;
    fputs("\nThreads:\n  tid        events  name\n", out);
    for (size_t i = 0; i < t->nthreads; i++) {
        const struct rs_trace_thread *th = r->threads[i];
        if (!th)
            continue;
        fprintf(out, "  %-8u %8s  ", (unsigned)th->tid, rs_fmt_count(a, th->nevents));
        if (th->name.len)
            put_text(out, &th->name);
        else
            fputc('-', out);
        if (th->flags & RS_THREAD_MAIN)
            fputs("  [main]", out);
        if (th->flags & RS_THREAD_EXITED)
            fputs("  [exited]", out);
        if (th->has_counters && th->counters.drops)
            fprintf(out, "  [%s lost]", rs_fmt_count(a, th->counters.drops));
        fputc('\n', out);
    }
}

static void put_marks_and_notes(FILE *out, const struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    char a[RS_NUM_BUF];
    if (t->nmarks) {
        fputs("\nTimeline:\n", out);
        for (size_t i = 0; i < t->nmarks; i++) {
            const struct rs_trace_mark *m = &t->marks[i];
            fprintf(out, "  %-10s %s  ", rs_fmt_duration(a, m->time), rs_mark_kind_name(m->kind));
            put_text(out, &m->label);
            fputc('\n', out);
        }
    }
    if (!t->nnotes && !r->notes.n)
        return;
    fputs("\nNotes:\n", out);
    for (size_t i = 0; i < t->nnotes; i++) {
        fputs(t->notes[i].level ? "  warning (from the trace): " : "  (from the trace) ", out);
        put_text(out, &t->notes[i].text);
        fputc('\n', out);
    }
    for (size_t i = 0; i < r->notes.n; i++) {
        fputs(r->notes.items[i].level == RS_NOTE_WARNING ? "  warning: " : "  ", out);
        put_str(out, r->notes.items[i].text);
        fputc('\n', out);
    }
}

void rs_report_write_text(const struct rs_report *r, FILE *out)
{
    put_header(out, r);
    put_events(out, r);
    bool complete = r->status == RS_TRACE_COMPLETE;
    put_section(out, complete ? "Leaked at exit" : "Live at end of trace", r->leaks, r->nleaks,
                r->replay.nleaks);
    put_section(out, "Live at peak", r->at_peak, r->nat_peak, r->replay.nat_peak);
    put_threads(out, r);
    put_marks_and_notes(out, r);
}
