/* The report as JSON, schema "refscope.report/1" (docs/json-schema.md). Adding fields is
 * compatible; renaming, removing or changing the meaning of one needs a new schema name. */
#include "report.h"

#include "json_writer.h"
#include "report_suspects.h"

#include <string.h>

static void key_text(struct rs_json *j, const char *key, const struct rs_text *t, bool present)
{
    rs_json_key(j, key);
    if (present)
        rs_json_string(j, t->s ? t->s : "", t->len);
    else
        rs_json_null(j);
}

static void key_u64(struct rs_json *j, const char *key, uint64_t v)
{
    rs_json_key(j, key);
    rs_json_u64(j, v);
}

static void key_opt_u64(struct rs_json *j, const char *key, bool present, uint64_t v)
{
    rs_json_key(j, key);
    if (present)
        rs_json_u64(j, v);
    else
        rs_json_null(j);
}

/* Addresses are strings: JSON numbers lose precision past 2^53 in most readers. */
static void key_hex(struct rs_json *j, const char *key, bool present, uint64_t v)
{
    char buf[24];
    rs_json_key(j, key);
    if (!present) {
        rs_json_null(j);
        return;
    }
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
    rs_json_cstring(j, buf);
}

static void put_frame(struct rs_json *j, const struct rs_frame *f)
{
    rs_json_object_begin(j);
    rs_json_key(j, "kind");
    rs_json_cstring(j, f->python ? "python" : "native");
    rs_json_key(j, "function");
    rs_json_cstring(j, f->function);
    rs_json_key(j, "file");
    rs_json_cstring(j, f->file);
    key_opt_u64(j, "line", f->line > 0, (uint64_t)f->line);
    rs_json_key(j, "module");
    rs_json_cstring(j, f->module);
    rs_json_key(j, "module_path");
    rs_json_cstring(j, f->module_path);
    key_hex(j, "address", !f->python, f->address);
    key_hex(j, "module_offset", !f->python && f->module, f->module_offset);
    if (f->python) {
        rs_json_key(j, "python");
        rs_json_object_begin(j);
        key_u64(j, "code", f->py_code);
        key_u64(j, "offset", f->py_offset);
        rs_json_key(j, "code_known");
        rs_json_bool(j, f->py_code_known);
        key_opt_u64(j, "first_line", f->py_code_known && f->py_first_line, f->py_first_line);
        rs_json_object_end(j);
    } else {
        rs_json_key(j, "inlined");
        rs_json_bool(j, f->inlined);
    }
    rs_json_object_end(j);
}

static const char *view_name(enum rs_stack_view v)
{
    switch (v) {
    case RS_VIEW_PYTHON: return "python";
    case RS_VIEW_HYBRID: return "hybrid";
    case RS_VIEW_NATIVE_ONLY: return "native";
    }
    return "native";
}

static const char *no_stack_label(const struct rs_report *r, uint32_t flags)
{
    if (!r->python)
        return "no stack recorded";
    return flags & RS_GROUP_AFTER_PROGRAM_END ? "no stack: interpreter teardown"
                                              : "no stack: interpreter start-up";
}

static void put_thread_ref(struct rs_json *j, const struct rs_report *r, uint32_t tid)
{
    key_u64(j, "tid", tid);
    const struct rs_trace_thread *th = rs_trace_thread_find(r->trace, tid);
    const struct rs_text *name = th ? rs_thread_name(th) : NULL;
    rs_json_key(j, "name");
    if (name)
        rs_json_string(j, name->s, name->len);
    else
        rs_json_null(j);
}

static void put_stacks(struct rs_json *j, const struct rs_report *r,
                       const struct rs_report_stack *stacks, size_t shown)
{
    rs_json_array_begin(j);
    for (size_t i = 0; i < shown; i++) {
        const struct rs_report_stack *s = &stacks[i];
        rs_json_object_begin(j);
        key_u64(j, "stack_id", s->total->stack_id);
        key_u64(j, "blocks", s->total->blocks);
        key_u64(j, "bytes", s->total->bytes);
        rs_json_key(j, "known");
        rs_json_bool(j, s->known);
        rs_json_key(j, "label");
        if (s->total->stack_id == RS_STACK_ID_NONE)
            rs_json_cstring(j, no_stack_label(r, s->total->flags));
        else if (!s->known)
            rs_json_cstring(j, "stack not in the trace");
        else
            rs_json_null(j);
        rs_json_key(j, "view");
        rs_json_cstring(j, s->known ? view_name(s->frames.view) : NULL);
        key_u64(j, "python_frames", s->frames.python);
        rs_json_key(j, "splice_mismatch");
        rs_json_bool(j, s->frames.splice_mismatch);
        if (s->runtime_why) {
            rs_json_key(j, "runtime_reason");
            rs_json_cstring(j, s->runtime_why);
        }
        rs_json_key(j, "frames");
        rs_json_array_begin(j);
        for (size_t k = 0; k < s->frames.n; k++)
            put_frame(j, s->frames.v[k]);
        rs_json_array_end(j);
        key_u64(j, "frames_omitted", s->frames.omitted);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
}

static void put_lines(struct rs_json *j, const struct rs_report *r,
                      const struct rs_report_section *sec)
{
    static const char *const kinds[] = {
        [RS_LINE_PYTHON] = "python",           [RS_LINE_NATIVE] = "native",
        [RS_LINE_NO_STACK] = "no_stack",       [RS_LINE_UNKNOWN_STACK] = "unknown_stack",
        [RS_LINE_NO_FRAMES] = "no_frames",
    };
    rs_json_array_begin(j);
    for (size_t i = 0; i < sec->nlines_shown; i++) {
        const struct rs_report_line *l = &sec->lines[i];
        const struct rs_frame *f = l->frame;
        rs_json_object_begin(j);
        rs_json_key(j, "kind");
        rs_json_cstring(j, kinds[l->kind]);
        rs_json_key(j, "function");
        rs_json_cstring(j, f ? f->function : NULL);
        rs_json_key(j, "file");
        rs_json_cstring(j, f ? f->file : NULL);
        key_opt_u64(j, "line", f && f->line > 0, f ? (uint64_t)f->line : 0);
        rs_json_key(j, "module");
        rs_json_cstring(j, f ? f->module : NULL);
        rs_json_key(j, "label");
        rs_json_cstring(j, l->kind == RS_LINE_NO_STACK ? no_stack_label(r, l->flags)
                           : l->kind == RS_LINE_UNKNOWN_STACK ? "stack not in the trace"
                           : l->kind == RS_LINE_NO_FRAMES
                               ? "no frames outside refscope and the allocator"
                               : NULL);
        key_u64(j, "blocks", l->blocks);
        key_u64(j, "bytes", l->bytes);
        key_u64(j, "stacks", l->stacks);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
}

static void put_section(struct rs_json *j, const struct rs_report *r, const char *key,
                        const struct rs_report_section *sec, const char *basis)
{
    rs_json_key(j, key);
    if (!sec->present) {
        rs_json_null(j);
        return;
    }
    rs_json_object_begin(j);
    if (basis) {
        rs_json_key(j, "basis");
        rs_json_cstring(j, basis);
    }
    key_u64(j, "time_ns", sec->time);
    key_u64(j, "blocks", sec->blocks);
    key_u64(j, "bytes", sec->bytes);
    key_u64(j, "stacks", sec->ntotals);
    rs_json_key(j, "by_stack");
    put_stacks(j, r, sec->stacks, sec->nstacks);
    key_u64(j, "lines", sec->nlines);
    rs_json_key(j, "by_line");
    put_lines(j, r, sec);
    rs_json_key(j, "by_thread");
    rs_json_array_begin(j);
    for (size_t i = 0; i < sec->nthreads; i++) {
        rs_json_object_begin(j);
        put_thread_ref(j, r, sec->threads[i].tid);
        key_u64(j, "blocks", sec->threads[i].blocks);
        key_u64(j, "bytes", sec->threads[i].bytes);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
    rs_json_key(j, "runtime");
    if (sec->runtime_split) {
        rs_json_object_begin(j);
        key_u64(j, "blocks", sec->runtime_blocks);
        key_u64(j, "bytes", sec->runtime_bytes);
        key_u64(j, "stacks", sec->nruntime_totals);
        rs_json_key(j, "by_stack");
        put_stacks(j, r, sec->runtime_stacks, sec->nruntime_stacks);
        rs_json_object_end(j);
    } else {
        rs_json_null(j);
    }
    if (sec == &r->leaked && r->program_end) {
        rs_json_key(j, "freed_by_teardown");
        rs_json_object_begin(j);
        key_u64(j, "blocks", r->teardown_freed_blocks);
        key_u64(j, "bytes", r->teardown_freed_bytes);
        rs_json_object_end(j);
    }
    rs_json_object_end(j);
}

static void put_python(struct rs_json *j, const struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    rs_json_key(j, "python");
    if (!r->python) {
        rs_json_null(j);
        return;
    }
    const struct rs_trace_py_interp *py = &t->py;
    rs_json_object_begin(j);
    key_text(j, "version", &py->version, py->present);
    rs_json_key(j, "version_info");
    if (py->present) {
        char v[48];
        snprintf(v, sizeof v, "%llu.%llu.%llu", (unsigned long long)(py->hexversion >> 16),
                 (unsigned long long)((py->hexversion >> 8) & 0xff),
                 (unsigned long long)(py->hexversion & 0xff));
        rs_json_cstring(j, v);
    } else {
        rs_json_null(j);
    }
    key_opt_u64(j, "hexversion", py->present, py->hexversion);
    rs_json_key(j, "hooks_early");
    rs_json_bool(j, (py->flags & RS_PY_HOOKS_EARLY) != 0);
    rs_json_key(j, "native_stacks");
    rs_json_bool(j, (py->flags & RS_PY_NATIVE_STACKS) != 0);
    key_u64(j, "code_objects", HASH_COUNT(t->py_codes));
    rs_json_object_end(j);
}

static void put_filter(struct rs_json *j, const struct rs_report *r)
{
    rs_json_key(j, "stack_view");
    rs_json_cstring(j, r->opt.native ? "hybrid" : "python");
    rs_json_key(j, "thread_filter");
    if (!r->filtered) {
        rs_json_null(j);
        return;
    }
    rs_json_object_begin(j);
    rs_json_key(j, "query");
    rs_json_cstring(j, r->opt.thread);
    rs_json_key(j, "tids");
    rs_json_array_begin(j);
    for (size_t i = 0; i < r->ntids; i++)
        rs_json_u64(j, r->tids[i]);
    rs_json_array_end(j);
    rs_json_object_end(j);
}

static void put_program_end(struct rs_json *j, const struct rs_report *r)
{
    rs_json_key(j, "program_end");
    if (!r->program_end) {
        rs_json_null(j);
        return;
    }
    rs_json_object_begin(j);
    key_u64(j, "time_ns", r->program_end->time);
    key_text(j, "label", &r->program_end->label, true);
    rs_json_object_end(j);
}

static void put_trace(struct rs_json *j, const struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    static const char *const status[] = {"complete", "partial", "incomplete"};
    char version[32];
    rs_json_key(j, "trace");
    rs_json_object_begin(j);
    rs_json_key(j, "status");
    rs_json_cstring(j, status[r->status]);
    snprintf(version, sizeof version, "%u.%u", t->hdr.version_major, t->hdr.version_minor);
    rs_json_key(j, "format_version");
    rs_json_cstring(j, version);
    key_u64(j, "file_size", t->file_size);
    key_u64(j, "chunks", t->nchunks);
    key_opt_u64(j, "partial_at_byte", t->partial, t->partial_at);
    rs_json_key(j, "end_reason");
    rs_json_cstring(j, t->end.present ? rs_end_reason_name(t->end.reason) : NULL);
    const struct rs_trace_mark *fatal = rs_fatal_signal_mark(t);
    rs_json_key(j, "fatal_signal");
    if (fatal)
        rs_json_string(j, fatal->label.s, fatal->label.len);
    else
        rs_json_null(j);
    rs_json_object_end(j);
}

static void put_program(struct rs_json *j, const struct rs_report *r)
{
    const struct rs_trace_header *h = &r->trace->hdr;
    rs_json_key(j, "program");
    rs_json_object_begin(j);
    key_text(j, "exe", &h->exe, rs_header_has(h, RS_HDR_EXE));
    rs_json_key(j, "argv");
    rs_json_array_begin(j);
    for (size_t i = 0; i < h->argc; i++)
        rs_json_string(j, h->argv[i].s, h->argv[i].len);
    rs_json_array_end(j);
    key_opt_u64(j, "pid", rs_header_has(h, RS_HDR_PID), h->pid);
    key_opt_u64(j, "ppid", rs_header_has(h, RS_HDR_PPID), h->ppid);
    key_text(j, "hostname", &h->hostname, rs_header_has(h, RS_HDR_HOSTNAME));
    key_opt_u64(j, "start_realtime_ns", rs_header_has(h, RS_HDR_START_REALTIME),
                h->start_realtime);
    key_u64(j, "duration_ns", r->duration_ns);
    rs_json_key(j, "forked_child");
    rs_json_bool(j, (h->flags & RS_TRACE_FLAG_FORK_CHILD) != 0);
    key_opt_u64(j, "stack_depth", rs_header_has(h, RS_HDR_STACK_DEPTH), h->stack_depth);
    key_opt_u64(j, "page_size", rs_header_has(h, RS_HDR_PAGE_SIZE), h->page_size);
    key_u64(j, "sample_bytes", h->sample_bytes);
    key_u64(j, "flags", h->flags);
    rs_json_object_end(j);
}

static void put_events(struct rs_json *j, const struct rs_report *r)
{
    const struct rs_replay *p = &r->replay;
    const struct rs_trace *t = r->trace;
    rs_json_key(j, "events");
    rs_json_object_begin(j);
    key_u64(j, "in_file", t->nevents);
    key_u64(j, "allocations", p->allocs);
    key_u64(j, "bytes_allocated", p->alloc_bytes);
    key_u64(j, "frees", p->frees);
    key_u64(j, "bytes_freed", p->freed_bytes);
    key_u64(j, "frees_unknown", p->frees_unknown);
    key_u64(j, "munmaps", p->munmap_records);
    key_u64(j, "bytes_unmapped", p->unmapped_bytes);
    key_u64(j, "replaced_live", p->replaced);
    rs_json_key(j, "sampled");
    rs_json_bool(j, t->hdr.sample_bytes != 0);
    key_opt_u64(j, "recorded_by_shim", t->end.present, t->end.total_events);
    key_u64(j, "lost", r->lost);
    rs_json_key(j, "counts_exact");
    rs_json_bool(j, r->counts_exact);
    key_u64(j, "waits", r->waits);
    key_u64(j, "wait_ns", r->wait_ns);
    rs_json_object_end(j);

    rs_json_key(j, "peak");
    rs_json_object_begin(j);
    key_u64(j, "bytes", p->peak_bytes);
    key_u64(j, "blocks", p->peak_blocks);
    key_u64(j, "time_ns", p->peak_time);
    rs_json_object_end(j);
}

static void put_threads(struct rs_json *j, const struct rs_report *r)
{
    rs_json_key(j, "threads");
    rs_json_array_begin(j);
    for (size_t i = 0; i < r->nthreads; i++) {
        const struct rs_trace_thread *th = r->threads[i];
        const struct rs_text *name = rs_thread_name(th);
        rs_json_object_begin(j);
        key_u64(j, "tid", th->tid);
        rs_json_key(j, "name");
        if (name)
            rs_json_string(j, name->s, name->len);
        else
            rs_json_null(j);
        key_text(j, "os_name", &th->name, th->name.len > 0);
        key_text(j, "python_name", &th->py_name, th->has_py_name);
        rs_json_key(j, "main");
        rs_json_bool(j, (th->flags & RS_THREAD_MAIN) != 0);
        rs_json_key(j, "exited");
        rs_json_bool(j, (th->flags & RS_THREAD_EXITED) != 0);
        key_u64(j, "flags", th->flags);
        const struct rs_thread_activity *act = rs_replay_thread(&r->replay, th->tid);
        key_u64(j, "events", act ? act->events : 0);
        key_u64(j, "allocations", act ? act->allocs : 0);
        key_u64(j, "bytes_allocated", act ? act->alloc_bytes : 0);
        key_u64(j, "frees", act ? act->frees : 0);
        key_u64(j, "bytes_freed", act ? act->freed_bytes : 0);
        uint64_t lb = 0, ly = 0, pb = 0, py = 0;
        for (size_t k = 0; k < r->leaked.nthreads; k++) {
            if (r->leaked.threads[k].tid == th->tid) {
                lb = r->leaked.threads[k].blocks;
                ly = r->leaked.threads[k].bytes;
            }
        }
        for (size_t k = 0; k < r->at_peak.nthreads; k++) {
            if (r->at_peak.threads[k].tid == th->tid) {
                pb = r->at_peak.threads[k].blocks;
                py = r->at_peak.threads[k].bytes;
            }
        }
        key_u64(j, "leaked_blocks", lb);
        key_u64(j, "leaked_bytes", ly);
        key_u64(j, "peak_blocks", pb);
        key_u64(j, "peak_bytes", py);
        rs_json_key(j, "counters");
        if (th->has_counters) {
            rs_json_object_begin(j);
            key_u64(j, "events", th->counters.events);
            key_u64(j, "waits", th->counters.waits);
            key_u64(j, "drops", th->counters.drops);
            key_u64(j, "wait_ns", th->counters.wait_ns);
            rs_json_object_end(j);
        } else {
            rs_json_null(j);
        }
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
}

static void put_marks_and_notes(struct rs_json *j, const struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    rs_json_key(j, "marks");
    rs_json_array_begin(j);
    for (size_t i = 0; i < t->nmarks; i++) {
        rs_json_object_begin(j);
        key_u64(j, "time_ns", t->marks[i].time);
        rs_json_key(j, "kind");
        rs_json_cstring(j, rs_mark_kind_name(t->marks[i].kind));
        key_u64(j, "kind_id", t->marks[i].kind);
        key_text(j, "label", &t->marks[i].label, true);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);

    rs_json_key(j, "notes");
    rs_json_array_begin(j);
    for (size_t i = 0; i < t->nnotes; i++) {
        rs_json_object_begin(j);
        rs_json_key(j, "level");
        rs_json_cstring(j, t->notes[i].level ? "warning" : "info");
        rs_json_key(j, "source");
        rs_json_cstring(j, "trace");
        key_text(j, "text", &t->notes[i].text, true);
        rs_json_object_end(j);
    }
    for (size_t i = 0; i < r->notes.n; i++) {
        rs_json_object_begin(j);
        rs_json_key(j, "level");
        rs_json_cstring(j, r->notes.items[i].level == RS_NOTE_WARNING ? "warning" : "info");
        rs_json_key(j, "source");
        rs_json_cstring(j, "analyzer");
        rs_json_key(j, "text");
        rs_json_cstring(j, r->notes.items[i].text);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
}

void rs_report_write_json(const struct rs_report *r, FILE *out)
{
    struct rs_json j;
    rs_json_init(&j, out);
    rs_json_object_begin(&j);
    rs_json_key(&j, "schema");
    rs_json_cstring(&j, "refscope.report/1");
    rs_json_key(&j, "file");
    rs_json_cstring(&j, r->path);
    put_trace(&j, r);
    put_program(&j, r);
    put_events(&j, r);
    put_python(&j, r);
    put_filter(&j, r);
    rs_json_key(&j, "leaked_at_exit");
    rs_json_bool(&j, r->status == RS_TRACE_COMPLETE || r->program_end != NULL);
    put_program_end(&j, r);
    put_section(&j, r, "leaked", &r->leaked, r->program_end ? "program_end" : "end_of_trace");
    put_section(&j, r, "live_at_end_of_trace", &r->end_of_trace, NULL);
    put_section(&j, r, "live_at_peak", &r->at_peak, NULL);
    rs_report_suspects_json(r->trace, r->suspects, &j);
    put_threads(&j, r);
    put_marks_and_notes(&j, r);
    rs_json_object_end(&j);
    rs_json_finish(&j);
}
