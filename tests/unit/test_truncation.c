/* A trace cut at every byte offset: inside the file header it is a clean error; inside the
 * chunk stream it is a partial trace keeping exactly the complete chunks. A file is read a
 * window at a time: a large one, cut anywhere, reads as its bytes in memory do. */
#include "test_util.h"
#include "trace_builder.h"
#include "trace_reader.h"
#include "chunk_counter.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TEST_GLOBALS;

static void build(struct tb *b)
{
    tb_default_header(b);
    static const uint64_t words[] = {0x401000, 0x401100};
    for (int c = 0; c < 6; c++) {
        if (c == 2) {
            tb_chunk(b, 0, 0);
            rs_rec_stack(&b->w, 1, 0, 0, words, 2);
            rs_rec_thread(&b->w, 7, RS_THREAD_MAIN, "main");
            tb_chunk_end(b, 0);
            continue;
        }
        uint32_t tid = c % 2 ? 7 : 8;
        tb_chunk(b, tid, 1000u * (unsigned)c);
        size_t n = 3 + (size_t)c;
        for (size_t i = 0; i < n; i++)
            rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 1000u * (unsigned)c + i, 0x10000 + 64 * i,
                         300 + i * 1000, 1);
        tb_chunk_end(b, n);
    }
    tb_chunk(b, 0, 0);
    rs_rec_end_of_trace(&b->w, 100, 0, 0, 9000, RS_END_EXIT);
    tb_chunk_end(b, 0);
}

/* Chunks of ~300 kB, so that several of them straddle the reader's 4 MB windows. */
static void large_file(void)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    for (unsigned c = 0; c < 40; c++) {
        tb_chunk(&b, 7 + c % 3, 1000u * c);
        size_t n = 50000 + c;
        for (size_t i = 0; i < n; i++)
            rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 1000u * c + i, 0x10000 + 64 * i, 32 + i % 7, 0);
        tb_chunk_end(&b, n);
    }
    CHECK(!b.buf.failed);
    CHECK(b.buf.len > (10u << 20));
    size_t cuts[] = {b.buf.len, b.chunk_start[17] + 1, b.chunk_end[13], (4u << 20) + 3,
                     (8u << 20) - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        char *path = tb_write_temp(b.buf.data, cuts[k]);
        CHECK(path != NULL);
        if (!path)
            break;
        struct rs_trace *mem = NULL, *file = NULL, *counted = NULL;
        struct rs_read_error e1, e2, e3;
        CHECK_EQ_U64(rs_trace_read_buffer(b.buf.data, cuts[k], "big.rsc", &mem, &e1), RS_READ_OK);
        CHECK_EQ_U64(rs_trace_read_file(path, &file, &e2), RS_READ_OK);
        CHECK_EQ_U64(rs_trace_read_file_no_events(path, &counted, &e3), RS_READ_OK);
        if (mem && file && counted) {
            CHECK_EQ_U64(file->nchunks, mem->nchunks);
            CHECK_EQ_U64(file->nevents, mem->nevents);
            CHECK_EQ_U64(file->partial, mem->partial);
            CHECK_EQ_U64(file->partial_at, mem->partial_at);
            CHECK_EQ_U64(file->file_size, cuts[k]);
            CHECK_EQ_U64(counted->nevents, mem->nevents);
            CHECK(counted->events_dropped && !file->events_dropped);
            const struct rs_trace_thread *tf = rs_trace_thread_find(file, 8);
            const struct rs_trace_thread *tm = rs_trace_thread_find(mem, 8);
            const struct rs_trace_thread *tc = rs_trace_thread_find(counted, 8);
            CHECK(tf && tm && tc);
            if (tf && tm && tc) {
                CHECK_EQ_U64(tf->nevents, tm->nevents);
                CHECK(tf->nevents > 0);
                CHECK(memcmp(tf->events, tm->events, tm->nevents * sizeof *tm->events) == 0);
                CHECK_EQ_U64(tc->nevents, 0);
            }
        }
        if (test_failures)
            fprintf(stderr, "  (large file cut at byte %zu)\n", cuts[k]);
        rs_trace_free(mem);
        rs_trace_free(file);
        rs_trace_free(counted);
        unlink(path);
        free(path);
    }
    tb_free(&b);
}

/* ---- every other thread chunk counted by a second thread (chunk_counter.h) -------------- */

enum counted_flaw { FLAW_NONE, FLAW_CHECKSUM, FLAW_CUT_RECORD };

/* 30 thread chunks of 3 threads with metadata chunks between them, allocations and frees
 * (the live count rises and falls), and a metadata record inside thread chunk 5 (one of
 * the counter's). A flaw goes into thread chunk 7 (the counter's too). */
static void build_counted(struct tb *b, enum counted_flaw flaw)
{
    tb_default_header(b);
    for (unsigned c = 0; c < 30; c++) {
        if (c % 4 == 0) {
            tb_chunk(b, 0, 1000u * c);
            rs_rec_thread(&b->w, 7 + c % 3, 0, "worker");
            tb_chunk_end(b, 0);
        }
        tb_chunk(b, 7 + c % 3, 1000u * c);
        size_t n = 400 + 37 * c, events = 0;
        for (size_t i = 0; i < n; i++, events++) {
            uint64_t addr = 0x100000 * (c % 3 + 1) + 64 * (i % 300);
            if (i % 3 == 2 && c % 5 != 4)
                rs_rec_free(&b->w, RS_FREE_FREE, 1000u * c + i, addr);
            else
                rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 1000u * c + i, addr, 32 + i % 7, 0);
            if (c == 5 && i == n / 2)
                rs_rec_note(&b->w, 0, "a note in a thread chunk");
        }
        if (c == 7 && flaw == FLAW_CUT_RECORD) {
            const uint8_t cut[] = {RS_TAG_ALLOC, 0x80, 0x80};
            rs_buf_bytes(&b->buf, cut, sizeof cut);
        }
        tb_chunk_end(b, events);
        if (c == 7 && flaw == FLAW_CHECKSUM)
            b->buf.data[b->chunk_end[b->nchunks - 1] - 5] ^= 0x01;
    }
    tb_chunk(b, 0, 90000);
    rs_rec_end_of_trace(&b->w, 100, 0, 0, 90000, RS_END_EXIT);
    tb_chunk_end(b, 0);
}

static enum rs_read_status read_counted(const char *path, bool counter, struct rs_trace **t,
                                        struct rs_read_error *err)
{
    rs_chunk_counter_set_min_bytes(counter ? 0 : UINT64_MAX);
    enum rs_read_status s = rs_trace_read_file_no_events(path, t, err);
    rs_chunk_counter_set_min_bytes(16u << 20);
    return s;
}

static void same_counts(const struct rs_trace *one, const struct rs_trace *two)
{
    CHECK_EQ_U64(two->nevents, one->nevents);
    CHECK_EQ_U64((uint64_t)two->live_in_file_order, (uint64_t)one->live_in_file_order);
    CHECK_EQ_U64(two->peak_live_estimate, one->peak_live_estimate);
    CHECK_EQ_U64(two->nchunks, one->nchunks);
    CHECK_EQ_U64(two->partial, one->partial);
    CHECK_EQ_U64(two->nnotes, one->nnotes);
    CHECK_EQ_U64(two->nthreads, one->nthreads);
    for (uint32_t tid = 7; tid <= 9; tid++) {
        const struct rs_trace_thread *a = rs_trace_thread_find(one, tid);
        const struct rs_trace_thread *b = rs_trace_thread_find(two, tid);
        CHECK(a && b);
        if (!a || !b)
            continue;
        CHECK_EQ_U64(b->nchunks, a->nchunks);
        CHECK(a->nchunks == b->nchunks &&
              memcmp(a->chunks, b->chunks, a->nchunks * sizeof *a->chunks) == 0);
    }
}

static void counted_in_two_threads(void)
{
    struct tb b;
    tb_init(&b);
    build_counted(&b, FLAW_NONE);
    CHECK(!b.buf.failed);
    struct rs_trace *all = NULL;
    struct rs_read_error e;
    CHECK_EQ_U64(rs_trace_read_buffer(b.buf.data, b.buf.len, "counted.rsc", &all, &e), RS_READ_OK);
    size_t cuts[] = {b.buf.len, b.chunk_start[20] + 40, b.chunk_end[17]};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        char *path = tb_write_temp(b.buf.data, cuts[k]);
        CHECK(path != NULL);
        if (!path)
            break;
        struct rs_trace *one = NULL, *two = NULL;
        struct rs_read_error e1, e2;
        CHECK_EQ_U64(read_counted(path, false, &one, &e1), RS_READ_OK);
        CHECK_EQ_U64(read_counted(path, true, &two, &e2), RS_READ_OK);
        if (one && two) {
            same_counts(one, two);
            CHECK_EQ_U64(two->partial, k == 1); /* the last cut is between chunks */
            if (k == 0 && all) { /* against the events decoded one by one */
                CHECK_EQ_U64(two->nevents, all->nevents);
                CHECK_EQ_U64(two->peak_live_estimate, all->peak_live_estimate);
                CHECK_EQ_U64(two->nnotes, 1);
            }
        }
        rs_trace_free(one);
        rs_trace_free(two);
        unlink(path);
        free(path);
    }
    rs_trace_free(all);
    tb_free(&b);

    /* A flaw in one of the counter's chunks: found and said as the reader alone says it. */
    for (int flaw = FLAW_CHECKSUM; flaw <= FLAW_CUT_RECORD; flaw++) {
        tb_init(&b);
        build_counted(&b, (enum counted_flaw)flaw);
        char *path = tb_write_temp(b.buf.data, b.buf.len);
        CHECK(path != NULL);
        if (!path)
            break;
        struct rs_trace *one = NULL, *two = NULL;
        struct rs_read_error e1, e2;
        enum rs_read_status s1 = read_counted(path, false, &one, &e1);
        enum rs_read_status s2 = read_counted(path, true, &two, &e2);
        CHECK_EQ_U64(s1, flaw == FLAW_CHECKSUM ? RS_READ_ERR_CHUNK_CORRUPT : RS_READ_ERR_RECORD_CORRUPT);
        CHECK_EQ_U64(s2, s1);
        CHECK_STR(e2.message, e1.message);
        CHECK_CONTAINS(e2.message, flaw == FLAW_CHECKSUM ? "checksum mismatch" : "event record cut short");
        rs_trace_free(one);
        rs_trace_free(two);
        unlink(path);
        free(path);
        tb_free(&b);
    }
}

int main(void)
{
    struct tb b;
    tb_init(&b);
    build(&b);
    CHECK(!b.buf.failed);
    CHECK_EQ_U64(b.nchunks, 7);

    for (size_t cut = 0; cut <= b.buf.len; cut++) {
        struct rs_trace *t = NULL;
        struct rs_read_error err;
        enum rs_read_status s = rs_trace_read_buffer(b.buf.data, cut, "cut.rsc", &t, &err);
        if (cut == 0) {
            CHECK_EQ_U64(s, RS_READ_ERR_EMPTY);
            CHECK_STR(err.message, "cut.rsc: file is empty");
        } else if (cut < b.header_end) {
            CHECK_EQ_U64(s, RS_READ_ERR_HEADER_TRUNCATED);
            CHECK_STR(err.message, "cut.rsc: truncated file header");
        } else {
            CHECK_EQ_U64(s, RS_READ_OK);
            if (!t)
                continue;
            size_t whole = 0, events = 0;
            while (whole < b.nchunks && b.chunk_end[whole] <= cut)
                events += b.chunk_events[whole++];
            bool at_boundary = cut == b.header_end || (whole && b.chunk_end[whole - 1] == cut);
            CHECK_EQ_U64(t->nchunks, whole);
            CHECK_EQ_U64(t->nevents, events);
            CHECK(t->partial == !at_boundary);
            if (!at_boundary)
                CHECK_EQ_U64(t->partial_at, b.chunk_start[whole]);
            CHECK(t->end.present == (whole == b.nchunks));
            CHECK(t->hdr.pid == 4242);
            if (test_failures) {
                fprintf(stderr, "  (cut at byte %zu)\n", cut);
                rs_trace_free(t);
                break;
            }
        }
        CHECK((s == RS_READ_OK) == (t != NULL));
        rs_trace_free(t);
    }

    /* Through a real file too: a cut in the middle of the fourth chunk. */
    size_t cut = b.chunk_start[3] + 40;
    char *path = tb_write_temp(b.buf.data, cut);
    CHECK(path != NULL);
    if (path) {
        struct rs_trace *t = NULL;
        struct rs_read_error err;
        CHECK_EQ_U64(rs_trace_read_file(path, &t, &err), RS_READ_OK);
        if (t) {
            CHECK(t->partial);
            CHECK_EQ_U64(t->partial_at, b.chunk_start[3]);
            CHECK_EQ_U64(t->nchunks, 3);
            CHECK_EQ_U64(t->nevents, b.chunk_events[0] + b.chunk_events[1]);
            CHECK(rs_trace_stack_find(t, 1) != NULL);
        }
        rs_trace_free(t);
        unlink(path);
        free(path);
    }

    tb_free(&b);
    large_file();
    counted_in_two_threads();
    return test_result("truncation");
}
