/* refscope verify's checks (verify.c), one crafted trace per kind of problem: a trace that
 * is consistent, then each inconsistency verify must name (and only that one), and what a
 * cut or a fork explains (notes, not problems). */
#include "snap_graph.h"
#include "snap_scenes.h"
#include "test_util.h"
#include "trace_reader.h"
#include "verify.h"

#include <stdlib.h>

TEST_GLOBALS;

enum damage {
    NONE,
    DOUBLE_FREE,       /* a free of a block freed already: an allocation is missing */
    REPLACED,          /* an allocation over a live block: a free is missing */
    OUT_OF_ORDER,      /* a thread's second chunk starts before its first one's end */
    LOST,              /* an exited thread counted more events than the file holds */
    EXTRA,             /* ... fewer than the file holds */
    END_TOTAL,         /* the END record counts another total */
    NO_STACK,          /* an event names a stack never defined */
    SNAP_COUNT,        /* a snapshot's END counts more objects than its records hold */
    SNAP_OPEN,         /* a snapshot without its END in a complete trace */
    RUNNING,           /* a thread still running at the end made events after the drain */
    NO_END,            /* no END record: incomplete */
};

static void build(struct tb *b, enum damage d, bool fork_child)
{
    if (fork_child) {
        struct rs_buf f;
        tb_fields_init(&f);
        rs_hdr_u64(&f, RS_HDR_PID, 5000);
        rs_hdr_u64(&f, RS_HDR_PPID, 4999);
        rs_hdr_u64(&f, RS_HDR_FLAGS, RS_TRACE_FLAG_FORK_CHILD);
        tb_header(b, &f);
        tb_fields_free(&f);
    } else {
        tb_default_header(b);
    }
    static const uint64_t words[] = {0x401000, 0x401100};
    tb_chunk(b, 0, 0);
    rs_rec_stack(&b->w, 1, 0, 0, words, 2);
    rs_rec_thread(&b->w, 7, RS_THREAD_MAIN, "main");
    tb_chunk_end(b, 0);

    /* thread 7: a0 a1 a2, frees a0; thread 8 frees a1 (cross-thread), frees a block from
     * before tracing, then allocates a3 */
    tb_chunk(b, 7, 100);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 100, 0x1000, 10, 1);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 110, 0x2000, 20, d == NO_STACK ? 9 : 1);
    rs_rec_alloc(&b->w, RS_ALLOC_CALLOC, 120, 0x3000, 30, 0);
    rs_rec_free(&b->w, RS_FREE_FREE, 130, 0x1000);
    if (d == DOUBLE_FREE)
        rs_rec_free(&b->w, RS_FREE_FREE, 135, 0x1000);
    if (d == REPLACED)
        rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 135, 0x3000, 30, 1);
    tb_chunk_end(b, 4);
    tb_chunk(b, 8, 200);
    rs_rec_free(&b->w, RS_FREE_FREE, 200, 0x2000);
    rs_rec_free(&b->w, RS_FREE_FREE, 210, 0x9000);
    rs_rec_free(&b->w, RS_FREE_FREE, 215, 0);
    tb_chunk_end(b, 3);
    uint64_t t = d == OUT_OF_ORDER ? 150 : 220;
    tb_chunk(b, 8, t);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, t, 0x1000, 10, 1);
    tb_chunk_end(b, 1);

    tb_chunk(b, 0, 0);
    uint64_t n7 = 4 + (d == DOUBLE_FREE || d == REPLACED);
    rs_rec_counters(&b->w, 7, n7 + (d == RUNNING ? 2 : 0), 0, 0, 0);
    rs_rec_counters(&b->w, 8, d == LOST ? 6 : d == EXTRA ? 3 : 4, 0, 0, 0);
    rs_rec_thread(&b->w, 8, RS_THREAD_EXITED, "worker");
    tb_chunk_end(b, 0);

    if (d == SNAP_COUNT || d == SNAP_OPEN) {
        sc_write(b, 1, 300, "s", &scene_a, 0, 1, d != SNAP_OPEN);
        if (d == SNAP_COUNT) {
            tb_chunk(b, 0, 0);
            rs_rec_snap_begin(&b->w, 2, 400, RS_SNAP_API, "lies");
            rs_rec_snap_end(&b->w, 2, 5, 0, 0);
            tb_chunk_end(b, 0);
        }
    }
    if (d != NO_END) {
        tb_chunk(b, 0, 0);
        rs_rec_end_of_trace(&b->w, (d == END_TOTAL ? 99 : n7 + 4), 0, 0, 1000, RS_END_EXIT);
        tb_chunk_end(b, 0);
    }
}

static struct rs_verify check_trace(enum damage d, bool fork_child, size_t cut)
{
    struct tb b;
    tb_init(&b);
    build(&b, d, fork_child);
    struct rs_trace *t = NULL;
    struct rs_read_error err;
    struct rs_verify v = {0};
    v.path = "t.rsc";
    size_t len = cut ? cut : b.buf.len;
    CHECK_EQ_U64(rs_trace_read_buffer(b.buf.data, len, "t.rsc", &t, &err), RS_READ_OK);
    if (t) {
        struct rs_snap_source src;
        rs_snap_source_memory(&src, b.buf.data, len);
        CHECK_EQ_U64(rs_verify_trace(&v, t, &src, NULL), 0);
        rs_snap_source_close(&src);
        rs_trace_free(t);
    }
    tb_free(&b);
    return v;
}

static bool has(const struct rs_notes *n, const char *what)
{
    for (size_t i = 0; i < n->n; i++)
        if (strstr(n->items[i].text, what))
            return true;
    return false;
}

static void one_problem(enum damage d, const char *what)
{
    struct rs_verify v = check_trace(d, false, 0);
    CHECK(!rs_verify_consistent(&v));
    CHECK_EQ_U64(v.problems.n, 1);
    if (v.problems.n)
        CHECK_CONTAINS(v.problems.items[0].text, what);
    rs_verify_free(&v);
}

int main(void)
{
    /* consistent */
    struct rs_verify v = check_trace(NONE, false, 0);
    CHECK(rs_verify_consistent(&v));
    CHECK_EQ_U64(v.status, RS_VERIFY_COMPLETE);
    CHECK_EQ_U64(v.events, 8);
    CHECK_EQ_U64(v.allocs, 4);
    CHECK_EQ_U64(v.frees, 4);
    CHECK_EQ_U64(v.frees_matched, 2);
    CHECK_EQ_U64(v.frees_null, 1);
    CHECK_EQ_U64(v.frees_before_trace, 1);
    CHECK_EQ_U64(v.live_blocks, 2);
    CHECK_EQ_U64(v.counted_events, 8);
    CHECK_EQ_U64(v.end_events, 8);
    CHECK_EQ_U64(v.stacks_referenced, 1);
    CHECK(has(&v.notes, "allocated before tracing started"));
    rs_verify_free(&v);

    /* a fork child: the same free is explained by the fork */
    v = check_trace(NONE, true, 0);
    CHECK(rs_verify_consistent(&v));
    CHECK(v.fork_child);
    CHECK(has(&v.notes, "fork child"));
    rs_verify_free(&v);

    one_problem(DOUBLE_FREE, "already freed");
    one_problem(REPLACED, "still live");
    one_problem(OUT_OF_ORDER, "order: thread 8");
    one_problem(LOST, "thread 8 made 6 events, 4 are in the file (2 lost)");
    one_problem(EXTRA, "thread 8 made 3 events, yet 4 are in the file");
    one_problem(END_TOTAL, "END record counts 99 events written, the file holds 8");
    one_problem(NO_STACK, "no stack record");
    one_problem(SNAP_OPEN, "snapshot 1: no end record");

    v = check_trace(SNAP_COUNT, false, 0);
    CHECK(!rs_verify_consistent(&v));
    CHECK_EQ_U64(v.snapshots_checked, 2);
    CHECK(has(&v.problems, "snapshot 2: its end record counts 5 objects, its records hold 0"));
    CHECK(!has(&v.problems, "snapshot 1"));
    rs_verify_free(&v);

    /* thread 7 still running at the end: its extra count is explained, not a problem */
    v = check_trace(RUNNING, false, 0);
    CHECK(rs_verify_consistent(&v));
    CHECK_EQ_U64(v.after_final_drain, 2);
    CHECK(has(&v.notes, "still running"));
    rs_verify_free(&v);

    /* no END: incomplete, consistent up to its last chunk */
    v = check_trace(NO_END, false, 0);
    CHECK(rs_verify_consistent(&v));
    CHECK_EQ_U64(v.status, RS_VERIFY_INCOMPLETE);
    rs_verify_free(&v);

    /* cut inside the last chunk: partial, consistent up to the cut; an open snapshot and
     * counts that differ are what the cut explains */
    struct tb b;
    tb_init(&b);
    build(&b, SNAP_OPEN, false);
    size_t cut = b.chunk_start[b.nchunks - 1] + 10;
    tb_free(&b);
    v = check_trace(SNAP_OPEN, false, cut);
    CHECK_EQ_U64(v.status, RS_VERIFY_PARTIAL);
    CHECK(rs_verify_consistent(&v));
    CHECK(has(&v.notes, "cut short with the trace"));
    rs_verify_free(&v);

    /* an unreadable file: one problem, the reader's message */
    CHECK_EQ_U64(rs_verify_file(&v, "/nonexistent/trace.rsc", NULL), 0);
    CHECK_EQ_U64(v.status, RS_VERIFY_UNREADABLE);
    CHECK(!rs_verify_consistent(&v));
    CHECK(has(&v.problems, "read: /nonexistent/trace.rsc"));
    rs_verify_free(&v);
    return test_result("test_verify");
}
