/* A trace cut at every byte offset: inside the file header it is a clean error; inside the
 * chunk stream it is a partial trace keeping exactly the complete chunks. */
#include "test_util.h"
#include "trace_builder.h"
#include "trace_reader.h"

#include <stdlib.h>
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
    return test_result("truncation");
}
