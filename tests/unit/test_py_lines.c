/* Python lines from the code objects' line tables (PY_CODE records): each of CPython's
 * three table formats decoded as PyCode_Addr2Line reads it (tables written by hand from
 * the format's rules: negative deltas, ranges without a line, empty ranges, multi-byte
 * deltas, past the end), malformed tables refused, and a crafted trace whose frames get
 * their lines from the table unless a PY_LINE record gives the pair's line. */
#include "test_util.h"
#include "trace_builder.h"
#include "py_line_table.h"
#include "python_frames.h"
#include "trace_reader.h"

#include <stdlib.h>
#include <unistd.h>

TEST_GLOBALS;

struct probe {
    uint64_t offset;
    uint32_t line;
};

static void check_lines(uint64_t format, const uint8_t *table, size_t len, uint64_t first,
                        const struct probe *probes, size_t n)
{
    struct rs_py_line_range *r;
    uint32_t nr;
    CHECK_EQ_U64(rs_py_line_table_decode(format, table, len, first, &r, &nr), 0);
    for (size_t i = 0; i < n; i++) {
        uint32_t got = rs_py_line_at(r, nr, probes[i].offset);
        if (got != probes[i].line)
            fprintf(stderr, "format %llu offset %llu: wanted line %u, got %u\n",
                    (unsigned long long)format, (unsigned long long)probes[i].offset,
                    probes[i].line, got);
        CHECK_EQ_U64(got, probes[i].line);
    }
    free(r);
}

static void check_malformed(uint64_t format, const uint8_t *table, size_t len)
{
    struct rs_py_line_range *r = (void *)1;
    uint32_t nr = 7;
    CHECK_EQ_U64(rs_py_line_table_decode(format, table, len, 1, &r, &nr), -1);
    CHECK(r == NULL && nr == 0);
}

/* 3.8-3.9 co_lnotab: a line counts from the first pair whose summed address is at or
 * below the offset; past the table, the last line. */
static void test_lnotab(void)
{
    const uint8_t t[] = {0, 1, 6, 2, 4, 0xff, 0, 3, 0, 0xfe};
    const struct probe p[] = {{0, 11}, {5, 11}, {6, 13}, {9, 13}, {10, 13}, {500, 13}};
    /* at 10: -1, +3, -2 together */
    check_lines(RS_PY_LINES_LNOTAB, t, sizeof t, 10, p, sizeof p / sizeof *p);
    const struct probe none[] = {{0, 4}, {100, 4}};
    check_lines(RS_PY_LINES_LNOTAB, NULL, 0, 4, none, 2);
}

/* 3.10 co_linetable: (bytes, line delta) pairs; -128: no line; an empty range only moves
 * the line; past the table, no line. */
static void test_pairs(void)
{
    const uint8_t t[] = {4, 0, 0, 2, 6, 1, 2, 0x80, 4, 0xff};
    const struct probe p[] = {{0, 20}, {3, 20}, {4, 23}, {9, 23}, {10, 0}, {11, 0},
                              {12, 22}, {15, 22}, {16, 0}};
    check_lines(RS_PY_LINES_PAIRS, t, sizeof t, 20, p, sizeof p / sizeof *p);
    const uint8_t odd[] = {4, 0, 2};
    check_malformed(RS_PY_LINES_PAIRS, odd, sizeof odd);
}

/* 3.11+ location table. */
static void test_locations(void)
{
    const uint8_t t[] = {
        0xE9, 0x02,                   /* no columns, +1, 2 units: [0, 4) line 31 */
        0x80, 0x05,                   /* short form, 1 unit: [4, 6) same line */
        0xDA, 0x01, 0x02,             /* one line +1, 3 units: [6, 12) line 32 */
        0xF8,                         /* no location, 1 unit: [12, 14) no line */
        0xF0, 0x07, 0x00, 0x01, 0x02, /* long form, -3, 1 unit: [14, 16) line 29 */
        0xE8, 0x48, 0x03,             /* no columns, +100 in two groups: [16, 18) line 129 */
    };
    const struct probe p[] = {{0, 31}, {3, 31}, {4, 31}, {6, 32}, {11, 32}, {12, 0},
                              {13, 0}, {14, 29}, {16, 129}, {17, 129}, {18, 0}};
    check_lines(RS_PY_LINES_LOCATIONS, t, sizeof t, 30, p, sizeof p / sizeof *p);
    const uint8_t cut[] = {0xE8, 0x48};
    check_malformed(RS_PY_LINES_LOCATIONS, cut, sizeof cut);
    const uint8_t headless[] = {0x05, 0xE9, 0x02};
    check_malformed(RS_PY_LINES_LOCATIONS, headless, sizeof headless);
    const uint8_t t2[] = {0x80};
    check_malformed(99, t2, sizeof t2);
    /* a first line no code object has: the table cannot be read from it, unless there is
     * none to read (an older trace's record) */
    struct rs_py_line_range *r;
    uint32_t nr;
    CHECK_EQ_U64(rs_py_line_table_decode(RS_PY_LINES_LOCATIONS, t2, sizeof t2, UINT64_C(1) << 40, &r, &nr), -1);
    CHECK_EQ_U64(rs_py_line_table_decode(RS_PY_LINES_NONE, NULL, 0, UINT64_C(1) << 40, &r, &nr), 0);
    CHECK(r == NULL && nr == 0);
}

static void py_code(struct rs_chunk_writer *w, uint64_t id, uint64_t first_line, uint64_t format,
                    const uint8_t *table, size_t len)
{
    size_t at = rs_rec_begin(w, RS_TAG_PY_CODE);
    rs_buf_varint(w->out, id);
    rs_buf_string(w->out, "/app/m.py", 9);
    rs_buf_string(w->out, "f", 1);
    rs_buf_varint(w->out, first_line);
    if (table) {
        rs_buf_varint(w->out, format);
        rs_buf_string(w->out, (const char *)table, len);
    }
    rs_rec_end(w, at);
}

static char *trace_with(const uint8_t *table, size_t len)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 0, 0);
    py_code(&b.w, 1, 30, RS_PY_LINES_LOCATIONS, table, len);
    py_code(&b.w, 2, 7, 0, NULL, 0); /* an older trace's record: no table */
    size_t at = rs_rec_begin(&b.w, RS_TAG_PY_LINE);
    rs_buf_varint(b.w.out, 1);
    rs_buf_varint(b.w.out, 6);
    rs_buf_varint(b.w.out, 77);
    rs_rec_end(&b.w, at);
    tb_chunk_end(&b, 0);
    char *path = tb_write_temp(b.buf.data, b.buf.len);
    tb_free(&b);
    CHECK(path != NULL);
    return path;
}

static uint64_t line_of(const struct rs_trace *t, uint64_t code, uint64_t offset)
{
    struct rs_frame f;
    memset(&f, 0, sizeof f);
    CHECK(rs_python_frame_resolve(t, code, offset, &f));
    uint64_t line = (uint64_t)f.line;
    free(f.file);
    free(f.function);
    return line;
}

static void test_trace(void)
{
    const uint8_t table[] = {0xE9, 0x02, 0xDA, 0x01, 0x02};
    char *path = trace_with(table, sizeof table);
    struct rs_trace *t = NULL;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_trace_read_file(path, &t, &err), RS_READ_OK);
    if (t) {
        CHECK_EQ_U64(line_of(t, 1, 0), 31);
        CHECK_EQ_U64(line_of(t, 1, 4), 32);
        CHECK_EQ_U64(line_of(t, 1, 6), 77); /* the PY_LINE record's */
        CHECK_EQ_U64(line_of(t, 1, 10), 0); /* past the table */
        CHECK_EQ_U64(line_of(t, 2, 4), 0);  /* no table, no record */
        rs_trace_free(t);
    }
    unlink(path);
    free(path);

    const uint8_t bad[] = {0xE8, 0x48};
    path = trace_with(bad, sizeof bad);
    t = NULL;
    CHECK_EQ_U64(rs_trace_read_file(path, &t, &err), RS_READ_ERR_RECORD_CORRUPT);
    CHECK_CONTAINS(err.message, "malformed line table");
    rs_trace_free(t);
    unlink(path);
    free(path);
}

int main(void)
{
    test_lnotab();
    test_pairs();
    test_locations();
    test_trace();
    return test_result("py_lines");
}
