#include "verify.h"

#include "escape.h"
#include "event_merge.h"
#include "format_num.h"
#include "json_writer.h"
#include "live_set.h"
#include "rs_uthash.h"
#include "snap_graph.h"
#include "zeroed_table.h"

#include <stdlib.h>
#include <string.h>

const char *rs_verify_status_name(enum rs_verify_status s)
{
    switch (s) {
    case RS_VERIFY_UNREADABLE: return "unreadable";
    case RS_VERIFY_COMPLETE: return "complete";
    case RS_VERIFY_PARTIAL: return "partial";
    case RS_VERIFY_INCOMPLETE: return "incomplete";
    }
    return "?";
}

static bool cut_short(const struct rs_verify *v)
{
    return v->status == RS_VERIFY_PARTIAL || v->status == RS_VERIFY_INCOMPLETE;
}

/* ---- a set of addresses (open addressing, linear probing, backward-shift deletion) --- */

struct addr_set {
    uint64_t *slot;          /* value + 1; 0 is empty (so address UINT64_MAX cannot be kept) */
    size_t mask;             /* capacity - 1, a power of two; 0 when not allocated */
    size_t n;
};

static size_t addr_hash(uint64_t a)
{
    a ^= a >> 33;
    a *= UINT64_C(0xff51afd7ed558ccd);
    a ^= a >> 33;
    return (size_t)a;
}

static bool set_grow(struct addr_set *s)
{
    size_t cap = s->mask ? (s->mask + 1) * 2 : 1024;
    if (cap > SIZE_MAX / sizeof *s->slot)
        return false;
    uint64_t *slot = rs_calloc_table(cap, sizeof *slot);
    if (!slot)
        return false;
    for (size_t i = 0; s->mask && i <= s->mask; i++) {
        if (!s->slot[i])
            continue;
        size_t j = addr_hash(s->slot[i] - 1) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = s->slot[i];
    }
    free(s->slot);
    s->slot = slot;
    s->mask = cap - 1;
    return true;
}

static bool set_has(const struct addr_set *s, uint64_t a)
{
    if (!s->mask || a == UINT64_MAX)
        return false;
    for (size_t i = addr_hash(a) & s->mask; s->slot[i]; i = (i + 1) & s->mask) {
        if (s->slot[i] == a + 1)
            return true;
    }
    return false;
}

/* Returns false when out of memory. */
static bool set_add(struct addr_set *s, uint64_t a)
{
    if (a == UINT64_MAX || set_has(s, a))
        return true;
    if ((s->n + 1) * 2 > (s->mask ? s->mask + 1 : 0) && !set_grow(s))
        return false;
    size_t i = addr_hash(a) & s->mask;
    while (s->slot[i])
        i = (i + 1) & s->mask;
    s->slot[i] = a + 1;
    s->n++;
    return true;
}

static void set_remove(struct addr_set *s, uint64_t a)
{
    if (!s->mask || a == UINT64_MAX)
        return;
    size_t i = addr_hash(a) & s->mask;
    while (s->slot[i] && s->slot[i] != a + 1)
        i = (i + 1) & s->mask;
    if (!s->slot[i])
        return;
    s->slot[i] = 0;
    s->n--;
    /* Move up the entries of the run after it that would no longer be found. */
    for (size_t j = (i + 1) & s->mask; s->slot[j]; j = (j + 1) & s->mask) {
        size_t home = addr_hash(s->slot[j] - 1) & s->mask;
        /* j's entry may stay unless its home lies cyclically in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            s->slot[i] = s->slot[j];
            s->slot[j] = 0;
            i = j;
        }
    }
}

static void set_free(struct addr_set *s)
{
    free(s->slot);
    memset(s, 0, sizeof *s);
}

/* ---- problems and notes ---------------------------------------------------------------- */

#define PROBLEM(v, ...) rs_notes_add(&(v)->problems, RS_NOTE_WARNING, __VA_ARGS__)
#define NOTE(v, ...) rs_notes_add(&(v)->notes, RS_NOTE_INFO, __VA_ARGS__)

static unsigned long long ull(uint64_t x)
{
    return (unsigned long long)x;
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* ---- the checks ------------------------------------------------------------------------ */

static void check_order(struct rs_verify *v, const struct rs_trace *t)
{
    const struct rs_trace_thread *th, *tmp;
    HASH_ITER(hh, t->threads, th, tmp) {
        if (th->nevents)
            v->threads++;
        v->events += th->nevents;
        uint64_t bad = 0, first_at = 0;
        for (size_t i = 1; i < th->nevents; i++) {
            if (th->events[i].time < th->events[i - 1].time) {
                if (!bad++)
                    first_at = i;
            }
        }
        if (bad) {
            v->order_violations += bad;
            PROBLEM(v,
                    "order: thread %u: %llu event%s earlier than the event before it "
                    "(first: event %llu at %llu ns, after one at %llu ns)",
                    (unsigned)th->tid, ull(bad), plural(bad), ull(first_at),
                    ull(th->events[first_at].time), ull(th->events[first_at - 1].time));
        }
    }
    if (v->events != t->nevents)
        PROBLEM(v, "events: the threads hold %llu events, the reader counted %llu",
                ull(v->events), ull(t->nevents));
}

struct first_seen {
    bool seen;
    uint32_t tid;
    uint64_t time;
    uint64_t addr;
};

static void remember(struct first_seen *f, uint32_t tid, const struct rs_trace_event *ev)
{
    if (f->seen)
        return;
    *f = (struct first_seen){true, tid, ev->time, ev->addr};
}

static int check_replay(struct rs_verify *v, const struct rs_trace *t)
{
    struct rs_live_set live = {0};
    struct addr_set freed = {0};   /* addresses allocated, then freed, not allocated since */
    if (!rs_live_reserve(&live, t->peak_live_estimate))
        return -1;
    struct rs_merge *m = rs_merge_new(t, rs_live_prefer, &live);
    int rc = 0;
    if (!m) {
        rs_live_clear(&live);
        return -1;
    }
    struct first_seen first_double = {0}, first_replaced = {0};
    const struct rs_trace_event *ev;
    const struct rs_trace_thread *th = NULL;
    while ((ev = rs_merge_next(m, &th))) {
        uint32_t tid = th->tid;
        uint64_t size = rs_ev_size(th, ev);
        switch (rs_ev_type(ev)) {
        case RS_EVENT_ALLOC:
        case RS_EVENT_SAMPLED_ALLOC: {
            v->allocs++;
            if (rs_ev_kind(ev) == RS_ALLOC_MMAP) {
                uint64_t dropped = 0;
                if (!rs_live_unmap(&live, ev->addr, size, &dropped)) {
                    rc = -1;
                    goto done;
                }
            }
            struct rs_live_block b = rs_live_block_of(ev, th);
            bool replaced;
            if (!rs_live_add(&live, &b, size, &replaced)) {
                rc = -1;
                goto done;
            }
            if (replaced) {
                v->replaced++;
                remember(&first_replaced, tid, ev);
            }
            set_remove(&freed, ev->addr);
            break;
        }
        case RS_EVENT_FREE: {
            v->frees++;
            if (ev->addr == 0) {
                v->frees_null++;
                break;
            }
            struct rs_live_block b;
            if (rs_live_take(&live, ev->addr, &b)) {
                v->frees_matched++;
                bool mmap_block = b.kind == RS_ALLOC_MMAP;
                if (!mmap_block && !set_add(&freed, ev->addr)) {
                    rc = -1;
                    goto done;
                }
            } else if (set_has(&freed, ev->addr)) {
                v->frees_of_freed++;
                remember(&first_double, tid, ev);
            } else {
                v->frees_before_trace++;
            }
            break;
        }
        case RS_EVENT_MUNMAP: {
            v->munmaps++;
            uint64_t released = 0;
            if (!rs_live_unmap(&live, ev->addr, size, &released)) {
                rc = -1;
                goto done;
            }
            if (!released)
                v->munmaps_untracked++;
            break;
        }
        }
    }
    v->live_blocks = live.blocks;
    v->live_bytes = live.bytes;
    if (v->replaced)
        PROBLEM(v,
                "replay: %llu allocation%s at an address still live (a free is missing; "
                "first: thread %u at %llu ns, address 0x%llx)",
                ull(v->replaced), plural(v->replaced), (unsigned)first_replaced.tid,
                ull(first_replaced.time), ull(first_replaced.addr));
    if (v->frees_of_freed)
        PROBLEM(v,
                "replay: %llu free%s of a block already freed and not allocated again (an "
                "allocation is missing; first: thread %u at %llu ns, address 0x%llx)",
                ull(v->frees_of_freed), plural(v->frees_of_freed), (unsigned)first_double.tid,
                ull(first_double.time), ull(first_double.addr));
    if (v->frees_before_trace)
        NOTE(v, "%llu free%s of blocks the trace never saw allocated: %s",
             ull(v->frees_before_trace), plural(v->frees_before_trace),
             v->fork_child ? "this process is a fork child, and the blocks it inherited were "
                             "allocated in its parent's trace"
                           : "allocated before tracing started (by the loader and "
                             "constructors that ran before refscope's) or by refscope itself");
    if (v->munmaps_untracked)
        NOTE(v, "%llu munmap%s released no recorded mapping (file mappings are not recorded; "
                "anonymous ones made before tracing started are not known)",
             ull(v->munmaps_untracked), plural(v->munmaps_untracked));
done:
    rs_merge_free(m);
    rs_live_clear(&live);
    set_free(&freed);
    return rc;
}

static void check_counters(struct rs_verify *v, const struct rs_trace *t)
{
    uint64_t counted_drops = 0;
    const struct rs_trace_thread *th, *tmp;
    uint64_t cut_mismatches = 0, cut_missing = 0, running_threads = 0;
    HASH_ITER(hh, t->threads, th, tmp) {
        uint64_t in_file = th->nevents;
        if (!th->has_counters) {
            if (!in_file)
                continue;
            if (cut_short(v))
                cut_missing++;
            else
                PROBLEM(v, "counters: thread %u has %llu events in the file and no counters "
                           "record", (unsigned)th->tid, ull(in_file));
            continue;
        }
        v->threads_counted++;
        v->counted_events += th->counters.events;
        counted_drops += th->counters.drops;
        uint64_t made = th->counters.events;
        if (made == in_file)
            continue;
        if (cut_short(v)) {
            cut_mismatches++;
            continue;
        }
        if (in_file < made && !(th->flags & RS_THREAD_EXITED)) {
            /* A thread still running while the process wrote its END record: the final
             * round drained its ring, then read its count, which includes what it made in
             * between. Those events were made during exit and are not in the file. */
            v->after_final_drain += made - in_file;
            running_threads++;
            continue;
        }
        v->counter_mismatches++;
        if (in_file < made)
            PROBLEM(v, "counters: thread %u made %llu events, %llu are in the file "
                       "(%llu lost)", (unsigned)th->tid, ull(made), ull(in_file),
                    ull(made - in_file));
        else
            PROBLEM(v, "counters: thread %u made %llu events, yet %llu are in the file",
                    (unsigned)th->tid, ull(made), ull(in_file));
    }
    if (cut_mismatches || cut_missing)
        NOTE(v, "counters: %llu thread%s' counts differ from their events in the file, as "
                "expected of a trace cut short (a round's events and its counts are not cut "
                "at the same place)",
             ull(cut_mismatches + cut_missing), plural(cut_mismatches + cut_missing));
    if (v->after_final_drain)
        NOTE(v, "counters: %llu event%s made by %llu thread%s still running at the end are "
                "not in the file (made after the final drain, during exit)",
             ull(v->after_final_drain), plural(v->after_final_drain), ull(running_threads),
             plural(running_threads));
    if (t->end.present) {
        v->end_events = t->end.total_events;
        v->drops = t->end.total_drops;
        if (t->end.total_events != t->nevents)
            PROBLEM(v, "end: the END record counts %llu events written, the file holds %llu",
                    ull(t->end.total_events), ull(t->nevents));
        if (t->end.total_drops < counted_drops)
            PROBLEM(v, "end: the END record counts %llu dropped events, the threads' counters "
                       "%llu", ull(t->end.total_drops), ull(counted_drops));
    } else {
        v->drops = counted_drops;
    }
    if (v->drops)
        NOTE(v, "%llu event%s dropped by the shim (full rings with REFSCOPE_ON_FULL=drop): "
                "counted, not in the file",
             ull(v->drops), plural(v->drops));
}

static int check_stacks(struct rs_verify *v, const struct rs_trace *t)
{
    v->stacks_defined = HASH_CNT(hh, t->stacks);
    struct addr_set ids = {0};
    uint64_t events_affected = 0;
    const struct rs_trace_thread *th, *tmp;
    HASH_ITER(hh, t->threads, th, tmp) {
        for (size_t i = 0; i < th->nevents; i++) {
            uint32_t id = th->events[i].stack_id;
            if (id == RS_STACK_ID_NONE)
                continue;
            bool known = set_has(&ids, id);
            if (!known) {
                if (!set_add(&ids, id)) {
                    set_free(&ids);
                    return -1;
                }
                v->stacks_referenced++;
            }
            if (!rs_trace_stack_find(t, id)) {
                events_affected++;
                if (!known)
                    v->stacks_undefined++;
            }
        }
    }
    set_free(&ids);
    if (v->stacks_undefined) {
        if (cut_short(v))
            NOTE(v, "stacks: %llu stack id%s named by %llu event%s are not defined: their "
                    "records were to follow the cut",
                 ull(v->stacks_undefined), plural(v->stacks_undefined), ull(events_affected),
                 plural(events_affected));
        else
            PROBLEM(v, "stacks: %llu stack id%s named by %llu event%s have no stack record",
                    ull(v->stacks_undefined), plural(v->stacks_undefined), ull(events_affected),
                    plural(events_affected));
    }
    return 0;
}

static void check_modules(struct rs_verify *v, const struct rs_trace *t)
{
    const struct rs_trace_module_map *m, *tmp;
    uint64_t unfinished = 0;
    HASH_ITER(hh, t->module_maps, m, tmp) {
        if (!m->complete)
            unfinished++;
    }
    if (!unfinished)
        return;
    if (cut_short(v))
        NOTE(v, "modules: %llu module map%s unfinished where the trace is cut",
             ull(unfinished), plural(unfinished));
    else
        PROBLEM(v, "modules: %llu module map%s without their end record", ull(unfinished),
                plural(unfinished));
}

static uint64_t snapshot_bytes(const struct rs_snap_info *si)
{
    uint64_t n = 0;
    for (size_t i = 0; i < si->nranges; i++)
        n += si->ranges[i].end - si->ranges[i].off;
    return n;
}

static int check_snapshots(struct rs_verify *v, const struct rs_trace *t,
                           struct rs_snap_source *src, const struct rs_verify_options *opt)
{
    const struct rs_snapshots *s = t->snapshots;
    if (!s)
        return 0;
    v->snapshots = s->n;
    if (s->stray_records)
        PROBLEM(v, "snapshots: %llu snapshot record%s outside any snapshot",
                ull(s->stray_records), plural(s->stray_records));
    if (s->stray_ends)
        PROBLEM(v, "snapshots: %llu snapshot end record%s without their beginning",
                ull(s->stray_ends), plural(s->stray_ends));
    for (size_t i = 0; i < s->n; i++) {
        const struct rs_snap_info *si = &s->v[i];
        if (!si->complete) {
            if (cut_short(v) && i + 1 == s->n)
                NOTE(v, "snapshot %u: cut short with the trace (no end record): ignored",
                     (unsigned)si->id);
            else
                PROBLEM(v, "snapshot %u: no end record", (unsigned)si->id);
            continue;
        }
        v->snapshots_complete++;
        if (!src)
            continue;
        uint64_t bytes = snapshot_bytes(si);
        if (opt && opt->max_snapshot_bytes && bytes > opt->max_snapshot_bytes) {
            char b[RS_NUM_BUF];
            NOTE(v, "snapshot %u: not loaded (%s of records)", (unsigned)si->id,
                 rs_fmt_bytes(b, bytes));
            continue;
        }
        struct rs_snap_graph g;
        char err[512];
        int rc = rs_snap_load(&g, si, src, RS_SNAP_LOAD_EDGES, err, sizeof err);
        if (rc == -2) {
            rs_snap_graph_free(&g);
            return -1;
        }
        if (rc != 0) {
            PROBLEM(v, "snapshot %u: %s", (unsigned)si->id, err);
            rs_snap_graph_free(&g);
            continue;
        }
        v->snapshots_checked++;
        uint64_t nodes = (uint64_t)g.n + g.stats.duplicate_nodes;
        uint64_t edges = g.stats.edge_entries;
        v->snapshot_nodes += nodes;
        v->snapshot_edges += edges;
        if (si->end_nodes != nodes)
            PROBLEM(v, "snapshot %u: its end record counts %llu objects, its records hold %llu",
                    (unsigned)si->id, ull(si->end_nodes), ull(nodes));
        if (si->end_edges != edges)
            PROBLEM(v, "snapshot %u: its end record counts %llu references, its records hold "
                       "%llu", (unsigned)si->id, ull(si->end_edges), ull(edges));
        if (g.stats.duplicate_nodes)
            PROBLEM(v, "snapshot %u: %llu object%s recorded twice", (unsigned)si->id,
                    ull(g.stats.duplicate_nodes), plural(g.stats.duplicate_nodes));
        rs_snap_graph_free(&g);
    }
    return 0;
}

int rs_verify_trace(struct rs_verify *v, const struct rs_trace *t, struct rs_snap_source *src,
                    const struct rs_verify_options *opt)
{
    v->status = t->partial ? RS_VERIFY_PARTIAL
                : t->end.present ? RS_VERIFY_COMPLETE : RS_VERIFY_INCOMPLETE;
    v->fork_child = (t->hdr.flags & RS_TRACE_FLAG_FORK_CHILD) != 0;
    v->pid = t->hdr.pid;
    v->ppid = t->hdr.ppid;
    v->file_size = t->file_size;
    v->partial_at = t->partial_at;
    v->end_reason = t->end.reason;
    v->chunks = t->nchunks;
    check_order(v, t);
    if (check_replay(v, t) || check_stacks(v, t))
        return -1;
    check_counters(v, t);
    check_modules(v, t);
    if (check_snapshots(v, t, src, opt))
        return -1;
    if (v->status == RS_VERIFY_PARTIAL)
        NOTE(v, "the file ends inside the chunk at byte %llu (the writer was stopped): "
                "everything before it was checked",
             ull(v->partial_at));
    else if (v->status == RS_VERIFY_INCOMPLETE)
        NOTE(v, "the trace has no END record: the process did not finish (killed, crashed, "
                "or still running); its chunks were checked");
    return 0;
}

int rs_verify_file(struct rs_verify *v, const char *path, const struct rs_verify_options *opt)
{
    memset(v, 0, sizeof *v);
    v->path = path;
    struct rs_trace *t = NULL;
    enum rs_read_status s = rs_trace_read_file(path, &t, &v->read_error);
    if (s == RS_READ_ERR_NOMEM)
        return -1;
    if (s != RS_READ_OK) {
        v->status = RS_VERIFY_UNREADABLE;
        PROBLEM(v, "read: %s", v->read_error.message);
        return 0;
    }
    struct rs_snap_source src;
    struct rs_snap_source *srcp = NULL;
    if (t->snapshots && t->snapshots->n) {
        char err[512];
        if (rs_snap_source_file(&src, path, t->file_size, err, sizeof err) == 0)
            srcp = &src;
        else
            PROBLEM(v, "snapshots: %s", err);
    }
    int rc = rs_verify_trace(v, t, srcp, opt);
    if (srcp)
        rs_snap_source_close(srcp);
    rs_trace_free(t);
    return rc;
}

bool rs_verify_consistent(const struct rs_verify *v)
{
    return v->status != RS_VERIFY_UNREADABLE && v->problems.n == 0;
}

void rs_verify_free(struct rs_verify *v)
{
    rs_notes_free(&v->problems);
    rs_notes_free(&v->notes);
}

/* ---- output ---------------------------------------------------------------------------- */

static const char *end_reason_name(uint64_t r)
{
    switch (r) {
    case RS_END_EXIT: return "exit";
    case RS_END__EXIT: return "_exit";
    case RS_END_EXEC: return "exec";
    case RS_END_DETACH: return "detach";
    case RS_END_PYTHON_ATEXIT: return "Python atexit";
    }
    return "unknown";
}

void rs_verify_write_text(const struct rs_verify *v, FILE *out)
{
    char a[RS_NUM_BUF], b[RS_NUM_BUF], c[RS_NUM_BUF], d[RS_NUM_BUF], e[RS_NUM_BUF];
    rs_fput_escaped(out, v->path, strlen(v->path));
    bool ok = rs_verify_consistent(v);
    if (v->status == RS_VERIFY_UNREADABLE) {
        fputs(": NOT CONSISTENT (unreadable)\n", out);
    } else if (ok) {
        if (v->status == RS_VERIFY_COMPLETE)
            fputs(": consistent\n", out);
        else if (v->status == RS_VERIFY_PARTIAL)
            fprintf(out, ": consistent up to the cut at byte %llu (partial trace)\n",
                    ull(v->partial_at));
        else
            fputs(": consistent up to its last chunk (incomplete trace: no END record)\n", out);
    } else {
        fprintf(out, ": NOT CONSISTENT (%llu problem%s)\n", ull(v->problems.n),
                plural(v->problems.n));
    }
    for (size_t i = 0; i < v->problems.n; i++) {
        fputs("  problem: ", out);
        rs_fput_escaped(out, v->problems.items[i].text, strlen(v->problems.items[i].text));
        fputc('\n', out);
    }
    if (v->status == RS_VERIFY_UNREADABLE)
        return;
    fprintf(out, "  trace:     pid %llu", ull(v->pid));
    if (v->fork_child)
        fprintf(out, ", forked from traced pid %llu", ull(v->ppid));
    fprintf(out, "; %s", rs_verify_status_name(v->status));
    if (v->status == RS_VERIFY_COMPLETE)
        fprintf(out, " (ended by %s)", end_reason_name(v->end_reason));
    fprintf(out, "; %s\n", rs_fmt_bytes(a, v->file_size));
    fprintf(out, "  chunks:    %s checked (magic, length, checksum, sequence)\n",
            rs_fmt_count(a, v->chunks));
    fprintf(out, "  events:    %s in %s thread%s, each thread's in time order%s\n",
            rs_fmt_count(a, v->events), rs_fmt_count(b, v->threads), plural(v->threads),
            v->order_violations ? " (NOT)" : "");
    fprintf(out, "  replay:    %s allocations, %s frees: %s matched, %s of free(NULL), "
                 "%s before tracing\n",
            rs_fmt_count(a, v->allocs), rs_fmt_count(b, v->frees),
            rs_fmt_count(c, v->frees_matched), rs_fmt_count(d, v->frees_null),
            rs_fmt_count(e, v->frees_before_trace));
    fprintf(out, "             %s of freed blocks, %s over live blocks; %s blocks live at "
                 "the end\n",
            rs_fmt_count(a, v->frees_of_freed), rs_fmt_count(b, v->replaced),
            rs_fmt_count(c, v->live_blocks));
    fprintf(out, "  counters:  %s thread%s counted %s events; %s dropped",
            rs_fmt_count(a, v->threads_counted), plural(v->threads_counted),
            rs_fmt_count(b, v->counted_events), rs_fmt_count(c, v->drops));
    if (v->status == RS_VERIFY_COMPLETE)
        fprintf(out, "; END says %s written", rs_fmt_count(d, v->end_events));
    fputc('\n', out);
    fprintf(out, "  stacks:    %s defined, %s referenced, %s undefined\n",
            rs_fmt_count(a, v->stacks_defined), rs_fmt_count(b, v->stacks_referenced),
            rs_fmt_count(c, v->stacks_undefined));
    if (v->snapshots)
        fprintf(out, "  snapshots: %s (%s complete, %s checked: %s objects, %s references)\n",
                rs_fmt_count(a, v->snapshots), rs_fmt_count(b, v->snapshots_complete),
                rs_fmt_count(c, v->snapshots_checked), rs_fmt_count(d, v->snapshot_nodes),
                rs_fmt_count(e, v->snapshot_edges));
    for (size_t i = 0; i < v->notes.n; i++) {
        fputs("  note: ", out);
        rs_fput_escaped(out, v->notes.items[i].text, strlen(v->notes.items[i].text));
        fputc('\n', out);
    }
}

static void json_notes(struct rs_json *j, const char *key, const struct rs_notes *n)
{
    rs_json_key(j, key);
    rs_json_array_begin(j);
    for (size_t i = 0; i < n->n; i++)
        rs_json_cstring(j, n->items[i].text);
    rs_json_array_end(j);
}

#define U64(key, val)          \
    do {                       \
        rs_json_key(&j, key);  \
        rs_json_u64(&j, val);  \
    } while (0)

void rs_verify_write_json(const struct rs_verify *v, FILE *out)
{
    struct rs_json j;
    rs_json_init(&j, out);
    rs_json_object_begin(&j);
    rs_json_key(&j, "schema");
    rs_json_cstring(&j, "refscope.verify/1");
    rs_json_key(&j, "file");
    rs_json_cstring(&j, v->path);
    rs_json_key(&j, "consistent");
    rs_json_bool(&j, rs_verify_consistent(v));
    rs_json_key(&j, "status");
    rs_json_cstring(&j, rs_verify_status_name(v->status));
    json_notes(&j, "problems", &v->problems);
    json_notes(&j, "notes", &v->notes);
    if (v->status != RS_VERIFY_UNREADABLE) {
        U64("pid", v->pid);
        U64("ppid", v->ppid);
        rs_json_key(&j, "fork_child");
        rs_json_bool(&j, v->fork_child);
        U64("file_size", v->file_size);
        rs_json_key(&j, "partial_at");
        if (v->status == RS_VERIFY_PARTIAL)
            rs_json_u64(&j, v->partial_at);
        else
            rs_json_null(&j);
        rs_json_key(&j, "end_reason");
        if (v->status == RS_VERIFY_COMPLETE)
            rs_json_cstring(&j, end_reason_name(v->end_reason));
        else
            rs_json_null(&j);
        U64("chunks", v->chunks);
        U64("threads", v->threads);
        U64("events", v->events);
        U64("order_violations", v->order_violations);
        rs_json_key(&j, "replay");
        rs_json_object_begin(&j);
        U64("allocations", v->allocs);
        U64("frees", v->frees);
        U64("frees_null", v->frees_null);
        U64("frees_matched", v->frees_matched);
        U64("frees_before_trace", v->frees_before_trace);
        U64("frees_of_freed", v->frees_of_freed);
        U64("replaced_live", v->replaced);
        U64("munmaps", v->munmaps);
        U64("munmaps_untracked", v->munmaps_untracked);
        U64("live_blocks", v->live_blocks);
        U64("live_bytes", v->live_bytes);
        rs_json_object_end(&j);
        rs_json_key(&j, "counters");
        rs_json_object_begin(&j);
        U64("threads", v->threads_counted);
        U64("events", v->counted_events);
        U64("mismatches", v->counter_mismatches);
        U64("after_final_drain", v->after_final_drain);
        U64("dropped", v->drops);
        rs_json_key(&j, "end_events");
        if (v->status == RS_VERIFY_COMPLETE)
            rs_json_u64(&j, v->end_events);
        else
            rs_json_null(&j);
        rs_json_object_end(&j);
        rs_json_key(&j, "stacks");
        rs_json_object_begin(&j);
        U64("defined", v->stacks_defined);
        U64("referenced", v->stacks_referenced);
        U64("undefined", v->stacks_undefined);
        rs_json_object_end(&j);
        rs_json_key(&j, "snapshots");
        rs_json_object_begin(&j);
        U64("total", v->snapshots);
        U64("complete", v->snapshots_complete);
        U64("checked", v->snapshots_checked);
        U64("objects", v->snapshot_nodes);
        U64("references", v->snapshot_edges);
        rs_json_object_end(&j);
    }
    rs_json_object_end(&j);
    rs_json_finish(&j);
}
