/* The report for a terminal. Every string that comes from the trace (or from files it
 * names) goes through rs_fput_escaped. */
#include "report.h"

#include "escape.h"
#include "format_num.h"
#include "python_frames.h"
#include "report_suspects.h"

#include <string.h>

static void put_text(FILE *out, const struct rs_text *t)
{
    rs_fput_escaped(out, t->s ? t->s : "", t->len);
}

static void put_str(FILE *out, const char *s)
{
    rs_fput_escaped(out, s, strlen(s));
}



/* leak_here (native_leak.c:19) | leak_here (in libfoo.so) | libfoo.so+0x1234 | 0x7f12...
 * Python: handle (cache_leak.py:22) | <python code #7> */
static void put_frame(FILE *out, const struct rs_frame *f)
{
    if (f->python) {
        put_str(out, f->function ? f->function : "?");
        if (f->file) {
            fputs(" (", out);
            put_str(out, rs_python_file_shown(f->file));
            if (f->line > 0)
                fprintf(out, ":%d", f->line);
            fputc(')', out);
        }
        return;
    }
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
        put_str(out, rs_frame_file_shown(f));
        if (f->line > 0)
            fprintf(out, ":%d", f->line);
        fputc(')', out);
    } else if (f->function && f->module) {
        fputs(" (in ", out);
        put_str(out, f->module);
        fputc(')', out);
    }
}

static void put_amount(FILE *out, uint64_t blocks, uint64_t bytes)
{
    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    fprintf(out, "%s block%s, %s bytes", rs_fmt_count(a, blocks), blocks == 1 ? "" : "s",
            rs_fmt_count(b, bytes));
    if (bytes >= 1000)
        fprintf(out, " (%s)", rs_fmt_bytes(a, bytes));
}

static const char *no_stack_text(const struct rs_report *r, uint32_t flags)
{
    if (!r->python)
        return "(no stack recorded)";
    return flags & RS_GROUP_AFTER_PROGRAM_END ? "(no stack: interpreter teardown)"
                                              : "(no stack: interpreter start-up)";
}

static void put_title(FILE *out, const char *title, const char *by, size_t shown, size_t total)
{
    char a[RS_NUM_BUF];
    fprintf(out, "\n%s, by %s", title, by);
    if (total == 0) {
        fputs(": none\n", out);
        return;
    }
    if (shown < total)
        fprintf(out, " (top %zu of %s)", shown, rs_fmt_count(a, total));
    fputs(":\n", out);
}

static void put_stacks(FILE *out, const struct rs_report *r, const char *title,
                       const struct rs_report_stack *stacks, size_t shown, size_t total)
{
    put_title(out, title, "stack", shown, total);
    for (size_t i = 0; i < shown; i++) {
        const struct rs_report_stack *s = &stacks[i];
        fprintf(out, "#%-3zu ", i + 1);
        put_amount(out, s->total->blocks, s->total->bytes);
        if (s->runtime_why) {
            fputs("  [", out);
            put_str(out, s->runtime_why);
            fputc(']', out);
        }
        fputc('\n', out);
        if (s->total->stack_id == RS_STACK_ID_NONE) {
            fprintf(out, "     %s\n", no_stack_text(r, s->total->flags));
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

static void put_lines(FILE *out, const struct rs_report *r, const char *title,
                      const struct rs_report_section *s)
{
    put_title(out, title, "Python line", s->nlines_shown, s->nlines);
    for (size_t i = 0; i < s->nlines_shown; i++) {
        const struct rs_report_line *l = &s->lines[i];
        fprintf(out, "#%-3zu ", i + 1);
        put_amount(out, l->blocks, l->bytes);
        fputs("  ", out);
        switch (l->kind) {
        case RS_LINE_PYTHON:
            put_frame(out, l->frame);
            break;
        case RS_LINE_NATIVE:
            put_frame(out, l->frame);
            fputs("  [native]", out);
            break;
        case RS_LINE_NO_STACK:
            fputs(no_stack_text(r, l->flags), out);
            break;
        case RS_LINE_UNKNOWN_STACK:
            fputs("(stacks not in the trace)", out);
            break;
        case RS_LINE_NO_FRAMES:
            fputs("(no frames outside refscope and the allocator)", out);
            break;
        }
        if (l->stacks > 1)
            fprintf(out, "  (%zu stacks)", l->stacks);
        fputc('\n', out);
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
    if (t->py.present) {
        fputs("python: ", out);
        put_text(out, &t->py.version);
        fputc('\n', out);
    }
    const struct rs_trace_mark *fatal = rs_fatal_signal_mark(t);
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
        if (fatal) {
            fputs("trace: INCOMPLETE — the program was killed by ", out);
            put_text(out, &fatal->label);
            fprintf(out, " at %s; what it had recorded up to then was written, but it could "
                         "not finish its trace (no end record)\n",
                    rs_fmt_duration(a, fatal->time));
        } else {
            fputs("trace: INCOMPLETE — no end record; the program did not finish writing its "
                  "trace (killed, or still running)\n",
                  out);
        }
        break;
    }
}

/* The trace ended with `refscope detach`: the process went on, nothing "leaked at exit". */
static bool detached(const struct rs_report *r)
{
    return r->trace->end.present && r->trace->end.reason == RS_END_DETACH;
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
    if (r->filtered) {
        fputs("thread filter: only blocks allocated by ", out);
        for (size_t i = 0; i < r->nthreads; i++) {
            const struct rs_text *name = rs_thread_name(r->threads[i]);
            fputs(i ? ", " : "", out);
            if (name)
                put_text(out, name);
            else
                fputs("thread", out);
            fprintf(out, " (tid %u)", (unsigned)r->threads[i]->tid);
        }
        fputc('\n', out);
    }
    const struct rs_report_section *lk = &r->leaked;
    const char *what = detached(r) ? "live at detach"
                       : r->program_end || r->status == RS_TRACE_COMPLETE ? "leaked at exit"
                                                                          : "live at end of trace";
    fprintf(out, "%s: %s block%s, %s bytes, from %s stack%s", what, rs_fmt_count(a, lk->blocks),
            lk->blocks == 1 ? "" : "s", rs_fmt_count(b, lk->bytes), rs_fmt_count(c, lk->ntotals),
            lk->ntotals == 1 ? "" : "s");
    if (r->program_end) {
        fputs(": live when the program finished (", out);
        put_str(out, rs_program_end_name(r->program_end));
        fprintf(out, ", at %s); %s block%s (%s) %s freed by interpreter teardown afterwards",
                rs_fmt_duration(a, r->program_end->time), rs_fmt_count(b, r->teardown_freed_blocks),
                r->teardown_freed_blocks == 1 ? "" : "s", rs_fmt_bytes(c, r->teardown_freed_bytes),
                r->teardown_freed_blocks == 1 ? "was" : "were");
    }
    fputc('\n', out);
    if (lk->runtime_blocks)
        fprintf(out, "kept by the C runtime, not counted: %s block%s, %s bytes\n",
                rs_fmt_count(a, lk->runtime_blocks), lk->runtime_blocks == 1 ? "" : "s",
                rs_fmt_count(b, lk->runtime_bytes));
    const struct rs_report_section *et = &r->end_of_trace;
    if (et->present) {
        fprintf(out, "still live at end of trace: %s block%s, %s bytes, from %s stack%s",
                rs_fmt_count(a, et->blocks), et->blocks == 1 ? "" : "s",
                rs_fmt_count(b, et->bytes), rs_fmt_count(c, et->ntotals),
                et->ntotals == 1 ? "" : "s");
        if (et->runtime_blocks)
            fprintf(out, " (and %s kept by the C runtime)", rs_fmt_count(d, et->runtime_blocks));
        fputc('\n', out);
    }
}

static const struct rs_report_thread_total *thread_total(const struct rs_report_section *s,
                                                         uint32_t tid)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        if (s->threads[i].tid == tid)
            return &s->threads[i];
    }
    return NULL;
}

static void put_threads(FILE *out, const struct rs_report *r)
{
    char a[RS_NUM_BUF], b[RS_NUM_BUF], c[RS_NUM_BUF], d[RS_NUM_BUF];
    if (!r->nthreads)
        return;
    fprintf(out, "\nThreads:\n  %-8s %10s %12s %14s %14s  name\n", "tid", "events",
            "allocations", "leaked blocks", "leaked bytes");
    for (size_t i = 0; i < r->nthreads; i++) {
        const struct rs_trace_thread *th = r->threads[i];
        const struct rs_thread_activity *act = rs_replay_thread(&r->replay, th->tid);
        const struct rs_report_thread_total *lk = thread_total(&r->leaked, th->tid);
        fprintf(out, "  %-8u %10s %12s %14s %14s  ", (unsigned)th->tid,
                rs_fmt_count(a, act ? act->events : 0), rs_fmt_count(b, act ? act->allocs : 0),
                rs_fmt_count(c, lk ? lk->blocks : 0), rs_fmt_count(d, lk ? lk->bytes : 0));
        const struct rs_text *name = rs_thread_name(th);
        if (name)
            put_text(out, name);
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
    const char *leaked = detached(r) ? "Live at detach"
                         : r->program_end || r->status == RS_TRACE_COMPLETE ? "Leaked at exit"
                                                                            : "Live at end of trace";
    const struct rs_report_section *lk = &r->leaked, *pk = &r->at_peak, *et = &r->end_of_trace;
    if (r->python)
        put_lines(out, r, leaked, lk);
    put_stacks(out, r, leaked, lk->stacks, lk->nstacks, lk->ntotals);
    if (r->python)
        put_lines(out, r, "Live at peak", pk);
    put_stacks(out, r, "Live at peak", pk->stacks, pk->nstacks, pk->ntotals);
    if (et->present)
        put_stacks(out, r, "Still live at end of trace (after teardown)", et->stacks,
                   et->nstacks, et->ntotals);
    if (lk->nruntime_totals)
        put_stacks(out, r, "Kept by the C runtime (not counted)", lk->runtime_stacks,
                   lk->nruntime_stacks, lk->nruntime_totals);
    rs_report_suspects_text(r->trace, r->suspects, out);
    put_threads(out, r);
    put_marks_and_notes(out, r);
}
