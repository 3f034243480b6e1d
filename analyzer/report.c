#include "report.h"

#include "escape.h"
#include "format_num.h"
#include "python_frames.h"
#include "report_suspects.h"
#include "runtime_blocks.h"
#include "snap_index.h"
#include "rs_uthash.h"

#include <ctype.h>
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
    case RS_MARK_SNAPSHOT_REQUEST: return "snapshot";
    case RS_MARK_PROGRAM_END: return "program_end";
    case RS_MARK_FATAL_SIGNAL: return "fatal_signal";
    }
    return "mark";
}

const struct rs_trace_mark *rs_fatal_signal_mark(const struct rs_trace *t)
{
    for (size_t i = t->nmarks; i-- > 0;)
        if (t->marks[i].kind == RS_MARK_FATAL_SIGNAL)
            return &t->marks[i];
    return NULL;
}

const struct rs_text *rs_thread_name(const struct rs_trace_thread *th)
{
    if (th->has_py_name && th->py_name.len)
        return &th->py_name;
    if (th->name.len)
        return &th->name;
    return NULL;
}

const char *rs_program_end_name(const struct rs_trace_mark *m)
{
    if (m->label.s && strcmp(m->label.s, "atexit") == 0)
        return "Python atexit";
    if (m->label.s && strcmp(m->label.s, "_exit") == 0)
        return "os._exit";
    return m->label.s ? m->label.s : "";
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* ---- threads ----------------------------------------------------------------------- */

static bool text_is(const struct rs_text *t, const char *s)
{
    return t->s && t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

static bool text_starts(const struct rs_text *t, const char *s)
{
    size_t n = strlen(s);
    return t->s && t->len >= n && memcmp(t->s, s, n) == 0;
}

static int by_tid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* --thread: a tid (all digits), else a name (Python's or the OS's) matched exactly, else a
 * name prefix (worker matches worker_0, worker_1...). Returns false when out of memory. */
static bool match_threads(struct rs_report *r, const char *q)
{
    const struct rs_trace *t = r->trace;
    r->filtered = true;
    r->tids = calloc(t->nthreads ? t->nthreads : 1, sizeof *r->tids);
    if (!r->tids)
        return false;
    bool digits = *q != '\0';
    for (const char *c = q; *c; c++)
        digits = digits && isdigit((unsigned char)*c);
    const struct rs_trace_thread *th, *tmp;
    if (digits) {
        unsigned long long v = strtoull(q, NULL, 10);
        HASH_ITER(hh, t->threads, th, tmp) {
            if (th->tid == v)
                r->tids[r->ntids++] = th->tid;
        }
    }
    for (int pass = 0; pass < 2 && r->ntids == 0; pass++) {
        HASH_ITER(hh, t->threads, th, tmp) {
            bool hit = pass == 0 ? text_is(&th->py_name, q) || text_is(&th->name, q)
                                 : text_starts(&th->py_name, q) || text_starts(&th->name, q);
            if (hit)
                r->tids[r->ntids++] = th->tid;
        }
    }
    qsort(r->tids, r->ntids, sizeof *r->tids, by_tid);
    return true;
}

static bool want_tid(const struct rs_report *r, uint32_t tid)
{
    if (!r->filtered)
        return true;
    return bsearch(&tid, r->tids, r->ntids, sizeof *r->tids, by_tid) != NULL;
}

static int main_then_tid(const void *a, const void *b)
{
    const struct rs_trace_thread *x = *(const struct rs_trace_thread *const *)a;
    const struct rs_trace_thread *y = *(const struct rs_trace_thread *const *)b;
    bool mx = x->flags & RS_THREAD_MAIN, my = y->flags & RS_THREAD_MAIN;
    if (mx != my)
        return mx ? -1 : 1;
    return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The threads to list: main first, then by tid; only the filter's. */
static bool list_threads(struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    r->threads = calloc(t->nthreads ? t->nthreads : 1, sizeof *r->threads);
    if (!r->threads)
        return false;
    struct rs_trace_thread *th, *tmp;
    HASH_ITER(hh, t->threads, th, tmp) {
        if (want_tid(r, th->tid))
            r->threads[r->nthreads++] = th;
    }
    qsort(r->threads, r->nthreads, sizeof *r->threads, main_then_tid);
    return true;
}

/* ---- runtime classification -------------------------------------------------------- */

struct rs_stack_class {
    uint32_t stack_id;
    bool runtime;
    const char *why;
    UT_hash_handle hh;
};

/* Whether the stack's blocks are the C runtime's (runtime_blocks.h); cached. -1: no
 * memory. */
static int stack_is_runtime(struct rs_report *r, uint32_t stack_id, const char **why)
{
    struct rs_stack_class *c = NULL;
    HASH_FIND(hh, r->classes, &stack_id, sizeof stack_id, c);
    if (!c) {
        if (!(c = calloc(1, sizeof *c)))
            return -1;
        c->stack_id = stack_id;
        const struct rs_trace_stack *st = rs_trace_stack_find(r->trace, stack_id);
        if (st) {
            struct rs_frames native;
            if (rs_symbolize_stack_view(r->sym, st->words, st->nwords, RS_VIEW_NATIVE_ONLY, 0,
                                        &native)) {
                free(c);
                return -1;
            }
            c->runtime = rs_runtime_stack(&native, &c->why);
            rs_frames_free(&native);
        }
        HASH_ADD(hh, r->classes, stack_id, sizeof c->stack_id, c);
    }
    *why = c->why;
    return c->runtime;
}

/* ---- sections ---------------------------------------------------------------------- */

static int total_by_size(const void *a, const void *b)
{
    const struct rs_stack_total *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks)
        return x->blocks > y->blocks ? -1 : 1;
    if (x->stack_id != y->stack_id)
        return x->stack_id < y->stack_id ? -1 : 1;
    return x->flags < y->flags ? -1 : x->flags > y->flags;
}

static enum rs_stack_view stack_view(const struct rs_report *r)
{
    return r->opt.native ? RS_VIEW_HYBRID : RS_VIEW_PYTHON;
}

static int symbolize_stacks(struct rs_report *r, const struct rs_stack_total *totals,
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
        if (rs_symbolize_stack_view(r->sym, st->words, st->nwords, stack_view(r),
                                    r->opt.stack_depth, &rs->frames))
            return -1;
    }
    return 0;
}

struct line_group {
    char *key;
    struct rs_report_line line;
    UT_hash_handle hh;
};

static int line_by_size(const void *a, const void *b)
{
    const struct rs_report_line *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks)
        return x->blocks > y->blocks ? -1 : 1;
    return x->kind < y->kind ? -1 : x->kind > y->kind;
}

/* The line a stack's blocks count for; its key (allocated) in *key. */
static int stack_line(struct rs_report *r, const struct rs_stack_total *tot,
                      struct rs_report_line *line, char **key)
{
    memset(line, 0, sizeof *line);
    *key = NULL;
    const struct rs_trace_stack *st = NULL;
    if (tot->stack_id == RS_STACK_ID_NONE) {
        line->kind = RS_LINE_NO_STACK;
        line->flags = tot->flags;
    } else if (!(st = rs_trace_stack_find(r->trace, tot->stack_id))) {
        line->kind = RS_LINE_UNKNOWN_STACK;
    } else {
        struct rs_frames f;
        if (rs_symbolize_stack_view(r->sym, st->words, st->nwords, RS_VIEW_PYTHON, 1, &f))
            return -1;
        if (f.n == 0) {
            line->kind = RS_LINE_NO_FRAMES;
        } else {
            line->frame = f.v[0];
            line->kind = f.v[0]->python ? RS_LINE_PYTHON : RS_LINE_NATIVE;
        }
        rs_frames_free(&f);
    }
    const struct rs_frame *fr = line->frame;
    int n;
    if (fr && fr->python && fr->py_code_known)
        n = asprintf(key, "p\x1f%s\x1f%s\x1f%d", fr->file ? fr->file : "", fr->function,
                     fr->line);
    else if (fr && fr->python) /* an unknown code object: its id is all there is */
        n = asprintf(key, "q\x1f%llu\x1f%d", (unsigned long long)fr->py_code, fr->line);
    else if (fr && fr->function)
        n = asprintf(key, "n\x1f%s\x1f%s\x1f%d\x1f%s", fr->function, fr->file ? fr->file : "",
                     fr->line, fr->module ? fr->module : "");
    else if (fr) /* no symbol: the address */
        n = asprintf(key, "a\x1f%llx", (unsigned long long)fr->address);
    else
        n = asprintf(key, "k%d\x1f%u", (int)line->kind, (unsigned)line->flags);
    if (n < 0) {
        *key = NULL;
        return -1;
    }
    return 0;
}

static int build_lines(struct rs_report *r, struct rs_report_section *s)
{
    struct line_group *groups = NULL, *g, *tmp;
    size_t count = 0;
    int rc = -1;
    for (size_t i = 0; i < s->ntotals; i++) {
        struct rs_report_line line;
        char *key;
        if (stack_line(r, &s->totals[i], &line, &key))
            goto done;
        HASH_FIND_STR(groups, key, g);
        if (g) {
            free(key);
        } else {
            if (!(g = calloc(1, sizeof *g))) {
                free(key);
                goto done;
            }
            g->key = key;
            g->line = line;
            HASH_ADD_KEYPTR(hh, groups, g->key, strlen(g->key), g);
            count++;
        }
        g->line.blocks = sat_add(g->line.blocks, s->totals[i].blocks);
        g->line.bytes = sat_add(g->line.bytes, s->totals[i].bytes);
        g->line.stacks++;
    }
    s->lines = calloc(count ? count : 1, sizeof *s->lines);
    if (!s->lines)
        goto done;
    HASH_ITER(hh, groups, g, tmp) s->lines[s->nlines++] = g->line;
    qsort(s->lines, s->nlines, sizeof *s->lines, line_by_size);
    s->nlines_shown = r->opt.top && s->nlines > r->opt.top ? r->opt.top : s->nlines;
    rc = 0;
done:
    HASH_ITER(hh, groups, g, tmp) {
        HASH_DEL(groups, g);
        free(g->key);
        free(g);
    }
    return rc;
}

static int thread_by_size(const void *a, const void *b)
{
    const struct rs_report_thread_total *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks)
        return x->blocks > y->blocks ? -1 : 1;
    return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* Appends to a totals array being built from groups sorted by stack id: merges with an
 * entry of the same stack and flags among the last ones. */
static void add_total(struct rs_stack_total *v, size_t *n, const struct rs_live_group *g)
{
    for (size_t k = *n; k-- > 0 && v[k].stack_id == g->stack_id;) {
        if (v[k].flags == g->flags) {
            v[k].blocks = sat_add(v[k].blocks, g->blocks);
            v[k].bytes = sat_add(v[k].bytes, g->bytes);
            return;
        }
    }
    v[(*n)++] = (struct rs_stack_total){.stack_id = g->stack_id, .flags = g->flags,
                                        .blocks = g->blocks, .bytes = g->bytes};
}

static int add_thread(struct rs_report_section *s, const struct rs_live_group *g, size_t cap)
{
    for (size_t k = 0; k < s->nthreads; k++) {
        if (s->threads[k].tid == g->tid) {
            s->threads[k].blocks = sat_add(s->threads[k].blocks, g->blocks);
            s->threads[k].bytes = sat_add(s->threads[k].bytes, g->bytes);
            return 0;
        }
    }
    if (s->nthreads >= cap)
        return -1;
    s->threads[s->nthreads++] = (struct rs_report_thread_total){g->tid, g->blocks, g->bytes};
    return 0;
}

/* The section for one point of the replay: its groups filtered by thread and, when
 * `split_runtime`, the C runtime's stacks set apart. */
static int build_section(struct rs_report *r, const struct rs_live_point *pt, bool split_runtime,
                         struct rs_report_section *s)
{
    memset(s, 0, sizeof *s);
    if (!pt->valid)
        return 0;
    s->present = true;
    s->time = pt->time;
    s->runtime_split = split_runtime;
    size_t cap = pt->ngroups ? pt->ngroups : 1;
    s->totals = calloc(cap, sizeof *s->totals);
    s->runtime_totals = calloc(cap, sizeof *s->runtime_totals);
    s->threads = calloc(cap, sizeof *s->threads);
    if (!s->totals || !s->runtime_totals || !s->threads)
        return -1;
    for (size_t i = 0; i < pt->ngroups; i++) {
        const struct rs_live_group *g = &pt->groups[i];
        if (!want_tid(r, g->tid))
            continue;
        const char *why = NULL;
        int runtime = split_runtime && g->stack_id != RS_STACK_ID_NONE
                          ? stack_is_runtime(r, g->stack_id, &why)
                          : 0;
        if (runtime < 0)
            return -1;
        if (runtime) {
            add_total(s->runtime_totals, &s->nruntime_totals, g);
            s->runtime_blocks = sat_add(s->runtime_blocks, g->blocks);
            s->runtime_bytes = sat_add(s->runtime_bytes, g->bytes);
            continue;
        }
        add_total(s->totals, &s->ntotals, g);
        s->blocks = sat_add(s->blocks, g->blocks);
        s->bytes = sat_add(s->bytes, g->bytes);
        if (add_thread(s, g, cap))
            return -1;
    }
    qsort(s->totals, s->ntotals, sizeof *s->totals, total_by_size);
    qsort(s->runtime_totals, s->nruntime_totals, sizeof *s->runtime_totals, total_by_size);
    qsort(s->threads, s->nthreads, sizeof *s->threads, thread_by_size);
    if (symbolize_stacks(r, s->totals, s->ntotals, &s->stacks, &s->nstacks) ||
        symbolize_stacks(r, s->runtime_totals, s->nruntime_totals, &s->runtime_stacks,
                         &s->nruntime_stacks))
        return -1;
    for (size_t i = 0; i < s->nruntime_stacks; i++) {
        const char *why = NULL;
        if (stack_is_runtime(r, s->runtime_stacks[i].total->stack_id, &why) < 0)
            return -1;
        s->runtime_stacks[i].runtime_why = why;
    }
    return build_lines(r, s);
}

static void free_stacks(struct rs_report_stack *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        rs_frames_free(&s[i].frames);
    free(s);
}

static void free_section(struct rs_report_section *s)
{
    free_stacks(s->stacks, s->nstacks);
    free_stacks(s->runtime_stacks, s->nruntime_stacks);
    free(s->totals);
    free(s->runtime_totals);
    free(s->lines);
    free(s->threads);
    memset(s, 0, sizeof *s);
}

/* ---- the report -------------------------------------------------------------------- */

static void gather_counts(struct rs_report *r)
{
    const struct rs_trace *t = r->trace;
    const struct rs_trace_thread *th, *tmp;
    HASH_ITER(hh, t->threads, th, tmp) {
        if (th->has_counters) {
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
    if (t->hdr.flags & RS_TRACE_FLAG_ATTACHED)
        rs_notes_add(&r->notes, RS_NOTE_INFO,
                     "refscope attached to the running process: blocks allocated before the "
                     "attach are not in the trace (their frees count as never seen allocated)%s",
                     t->end.present && t->end.reason == RS_END_DETACH
                         ? "; it detached at the end, so what is live at the end was live at detach"
                         : "");
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

/* Teardown counts for the filtered threads: the mark's blocks minus those of them still
 * live at the end. Without a filter, the replay's own. */
static void teardown_counts(struct rs_report *r)
{
    const struct rs_replay *p = &r->replay;
    if (!p->has_program_end)
        return;
    if (!r->filtered) {
        r->teardown_freed_blocks = p->teardown_freed_blocks;
        r->teardown_freed_bytes = p->teardown_freed_bytes;
        return;
    }
    uint64_t blocks = 0, bytes = 0;
    for (size_t i = 0; i < p->program_end.ngroups; i++) {
        const struct rs_live_group *g = &p->program_end.groups[i];
        if (want_tid(r, g->tid)) {
            blocks += g->blocks;
            bytes += g->bytes;
        }
    }
    for (size_t i = 0; i < p->survivors.ngroups; i++) {
        const struct rs_live_group *g = &p->survivors.groups[i];
        if (want_tid(r, g->tid)) {
            blocks -= blocks >= g->blocks ? g->blocks : blocks;
            bytes -= bytes >= g->bytes ? g->bytes : bytes;
        }
    }
    r->teardown_freed_blocks = blocks;
    r->teardown_freed_bytes = bytes;
}

static void *build_suspects(void *arg)
{
    struct rs_report *r = arg;
    r->suspects = rs_suspects_build(r->trace, r->path, r->suspects_sym);
    return NULL;
}

static bool want_suspects(const struct rs_report *r)
{
    return r->opt.suspects && r->trace->snapshots;
}

/* Starts building the suspects in a thread of their own, beside the replay (on 5M objects
 * the report went from 3.7 to about 2 s). They symbolize with a symbolizer of their own,
 * which adds to notes of their own as it loads modules, so the main thread can symbolize
 * its sections once the replay is done, without waiting for them: a trace of a Python
 * program has native frames there, and the interpreter's debug information took 0.05-0.08
 * s to load after the suspects on the 5M-object bench trace. Where no thread can be made,
 * they are built when joined. */
static void start_suspects(struct rs_report *r)
{
    if (want_suspects(r))
        r->suspects_running = pthread_create(&r->suspects_thread, NULL, build_suspects, r) == 0;
}

/* Waits for the suspects' thread, if one runs. */
static void wait_suspects(struct rs_report *r)
{
    if (r->suspects_running) {
        pthread_join(r->suspects_thread, NULL);
        r->suspects_running = false;
    }
}

/* The notes of the suspects' symbolizer come first, as they did when both shared one. */
static void join_suspects(struct rs_report *r)
{
    if (r->suspects_running)
        wait_suspects(r);
    else if (want_suspects(r) && !r->suspects)
        build_suspects(r);
    rs_notes_merge_front(&r->notes, &r->suspects_notes);
}

int rs_report_build(struct rs_report *r, const char *path, const struct rs_report_options *opt,
                    struct rs_read_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->opt = *opt;
    /* The replay and the snapshots' sites read the events back from the file as they go
     * (event_stream.h): held whole they were half of the report's memory. */
    if (rs_trace_read_file_streamed(path, &r->trace, err) != RS_READ_OK)
        return RS_REPORT_UNREADABLE;
    const struct rs_trace *t = r->trace;
    r->python = rs_trace_is_python(t);
    if (opt->thread) {
        if (!match_threads(r, opt->thread))
            goto nomem;
        if (r->ntids == 0) {
            char q[200];
            rs_escape_to(q, sizeof q, opt->thread, strlen(opt->thread));
            rs_report_free(r);
            memset(err, 0, sizeof *err);
            snprintf(err->message, sizeof err->message,
                     "no thread in the trace matches '%s' (a tid, a name or a name prefix)", q);
            return RS_REPORT_NO_THREAD;
        }
    }
    if (!list_threads(r))
        goto nomem;
    if (!(r->sym = rs_symbolizer_new(t, &r->notes)) ||
        (want_suspects(r) && !(r->suspects_sym = rs_symbolizer_new(t, &r->suspects_notes))))
        goto nomem;
    start_suspects(r);
    const struct rs_snap_info *since = opt->since_snapshot ? rs_snap_find(t, opt->since_snapshot)
                                                           : NULL;
    int replayed = rs_replay_run_timeline(t, &r->replay, opt->timeline, since ? &since->time : NULL);
    if (replayed == -2) {
        memset(err, 0, sizeof *err);
        err->status = RS_READ_ERR_CHUNK_CORRUPT;
        snprintf(err->message, sizeof err->message, "%s", r->replay.read_error);
        rs_report_free(r);
        return RS_REPORT_UNREADABLE;
    }
    if (replayed)
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

    const struct rs_replay *p = &r->replay;
    if (p->has_program_end) {
        r->program_end = &t->marks[p->program_end_mark];
        if (build_section(r, &p->program_end, true, &r->leaked) ||
            build_section(r, &p->end, true, &r->end_of_trace))
            goto nomem;
        teardown_counts(r);
    } else if (build_section(r, &p->end, true, &r->leaked)) {
        goto nomem;
    }
    if (build_section(r, &p->peak, false, &r->at_peak))
        goto nomem;
    join_suspects(r);
    add_notes(r);
    return 0;

nomem:
    rs_report_free(r);
    memset(err, 0, sizeof *err);
    err->status = RS_READ_ERR_NOMEM;
    size_t n = rs_escape_to(err->message, sizeof err->message - 20, path, strlen(path));
    snprintf(err->message + n, sizeof err->message - n, ": out of memory");
    return RS_REPORT_UNREADABLE;
}

void rs_report_free(struct rs_report *r)
{
    wait_suspects(r);
    rs_suspects_free(r->suspects);
    r->suspects = NULL;
    free_section(&r->leaked);
    free_section(&r->end_of_trace);
    free_section(&r->at_peak);
    struct rs_stack_class *c, *ct;
    HASH_ITER(hh, r->classes, c, ct) {
        HASH_DEL(r->classes, c);
        free(c);
    }
    rs_symbolizer_free(r->sym);
    r->sym = NULL;
    rs_symbolizer_free(r->suspects_sym);
    r->suspects_sym = NULL;
    rs_notes_free(&r->notes);
    rs_notes_free(&r->suspects_notes);
    rs_replay_free(&r->replay);
    free(r->threads);
    r->threads = NULL;
    free(r->tids);
    r->tids = NULL;
    rs_trace_free(r->trace);
    r->trace = NULL;
}
