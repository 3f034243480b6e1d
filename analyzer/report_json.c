/* The report as JSON, schema "refscope.report/1" (docs/json-schema.md). Adding fields is
 * compatible; renaming, removing or changing the meaning of one needs a new schema name. */
#include "report.h"

#include "json_writer.h"

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
        rs_json_object_end(j);
    }
    rs_json_object_end(j);
}

static void put_section(struct rs_json *j, const char *key, const struct rs_report_stack *stacks,
                        size_t shown, size_t total, uint64_t blocks, uint64_t bytes)
{
    rs_json_key(j, key);
    rs_json_object_begin(j);
    key_u64(j, "blocks", blocks);
    key_u64(j, "bytes", bytes);
    key_u64(j, "stacks", total);
    rs_json_key(j, "by_stack");
    rs_json_array_begin(j);
    for (size_t i = 0; i < shown; i++) {
        const struct rs_report_stack *s = &stacks[i];
        rs_json_object_begin(j);
        key_u64(j, "stack_id", s->total->stack_id);
        key_u64(j, "blocks", s->total->blocks);
        key_u64(j, "bytes", s->total->bytes);
        rs_json_key(j, "known");
        rs_json_bool(j, s->known);
        rs_json_key(j, "frames");
        rs_json_array_begin(j);
        for (size_t k = 0; k < s->frames.n; k++)
            put_frame(j, s->frames.v[k]);
        rs_json_array_end(j);
        key_u64(j, "frames_omitted", s->frames.omitted);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
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
    const struct rs_trace *t = r->trace;
    rs_json_key(j, "threads");
    rs_json_array_begin(j);
    for (size_t i = 0; i < t->nthreads; i++) {
        const struct rs_trace_thread *th = r->threads[i];
        if (!th)
            continue;
        rs_json_object_begin(j);
        key_u64(j, "tid", th->tid);
        key_text(j, "name", &th->name, th->named);
        rs_json_key(j, "main");
        rs_json_bool(j, (th->flags & RS_THREAD_MAIN) != 0);
        rs_json_key(j, "exited");
        rs_json_bool(j, (th->flags & RS_THREAD_EXITED) != 0);
        key_u64(j, "flags", th->flags);
        key_u64(j, "events", th->nevents);
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
    const struct rs_replay *p = &r->replay;
    rs_json_key(&j, "leaked_at_exit");
    rs_json_bool(&j, r->status == RS_TRACE_COMPLETE);
    put_section(&j, "leaked", r->leaks, r->nleaks, p->nleaks, p->live_blocks, p->live_bytes);
    put_section(&j, "live_at_peak", r->at_peak, r->nat_peak, p->nat_peak, p->peak_blocks,
                p->peak_bytes);
    put_threads(&j, r);
    put_marks_and_notes(&j, r);
    rs_json_object_end(&j);
    rs_json_finish(&j);
}
