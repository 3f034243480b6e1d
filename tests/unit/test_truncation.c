/* A trace cut at every byte offset: inside the file header it is a clean error; inside the
 * chunk stream it is a partial trace keeping exactly the complete chunks. A file is read a
 * window at a time: a large one, cut anywhere, reads as its bytes in memory do. */
#include "test_util.h"
#include "trace_builder.h"
#include "trace_reader.h"

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
    return test_result("truncation");
}
