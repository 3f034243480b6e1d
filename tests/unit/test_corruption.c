/* Damaged traces: every byte flipped, records crafted to lie about their sizes, bad
 * versions and magics. The reader must give the right error class (or, for the few fields
 * nothing can check, a valid parse) and never crash; the .asan build checks the "never". */
#include "test_util.h"
#include "trace_builder.h"
#include "trace_reader.h"
#include "replay.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

TEST_GLOBALS;

static enum rs_read_status parse(const uint8_t *data, size_t len, struct rs_read_error *err,
                                 struct rs_trace **out)
{
    struct rs_trace *t = NULL;
    enum rs_read_status s = rs_trace_read_buffer(data, len, "x.rsc", &t, err);
    CHECK((s == RS_READ_OK) == (t != NULL));
    if (out)
        *out = t;
    else
        rs_trace_free(t);
    return s;
}

/* ---- crafted chunks ------------------------------------------------------------------ */

/* A chunk with any payload and a correct checksum. */
static void raw_chunk(struct rs_buf *out, uint32_t tid, uint64_t base_time, uint32_t seq,
                      const void *payload, size_t len)
{
    uint8_t h[RS_CHUNK_HEADER_SIZE];
    struct rs_chunk_header ch = {(uint32_t)len, 0, tid, base_time, seq, 0};
    rs_encode_chunk_header(h, &ch);
    uLong crc = crc32(0L, h + RS_CHUNK_CRC_FROM, RS_CHUNK_HEADER_SIZE - RS_CHUNK_CRC_FROM);
    crc = crc32(crc, payload, (uInt)len);
    rs_put_u32le(h + 8, (uint32_t)crc);
    rs_buf_bytes(out, h, sizeof h);
    rs_buf_bytes(out, payload, len);
}

static void fix_chunk_crc(uint8_t *chunk)
{
    uint32_t len = rs_get_u32le(chunk + 4);
    uLong crc = crc32(0L, chunk + RS_CHUNK_CRC_FROM, RS_CHUNK_HEADER_SIZE - RS_CHUNK_CRC_FROM + len);
    rs_put_u32le(chunk + 8, (uint32_t)crc);
}

struct crafted {
    const char *what;
    uint32_t tid;
    uint64_t base_time;
    const char *payload;
    size_t len;
    enum rs_read_status expect;
    const char *message; /* expected to contain */
    size_t rec_at;       /* offset of the bad record in the payload */
};

#define P(s) s, sizeof(s) - 1

static const struct crafted crafted[] = {
    {"unknown event kind", 5, 0, P("\x07\x00\x00\x00\x00"), RS_READ_ERR_RECORD_CORRUPT,
     "(unknown event tag 0x07)", 0},
    {"munmap with kind bits", 5, 0, P("\x21\x00\x00\x00"), RS_READ_ERR_RECORD_CORRUPT,
     "unknown event tag 0x21", 0},
    {"free kind out of range", 5, 0, P("\x13\x00\x00"), RS_READ_ERR_RECORD_CORRUPT,
     "unknown event tag 0x13", 0},
    {"event in the meta chunk", 0, 0, P("\x00\x00\x00\x00\x00"), RS_READ_ERR_RECORD_CORRUPT,
     "event record in the metadata chunk", 0},
    {"alloc cut at chunk end", 5, 0, P("\x00\x01\x02"), RS_READ_ERR_RECORD_CORRUPT,
     "cut short", 0},
    {"tag alone", 5, 0, P("\x10"), RS_READ_ERR_RECORD_CORRUPT, "cut short", 0},
    {"11-byte varint", 5, 0, P("\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00"),
     RS_READ_ERR_RECORD_CORRUPT, "cut short", 0},
    /* the same with a free after it: 16 bytes from the tag on, read by the counting pass's
     * fast path (trace_records.c count_short_events) */
    {"11-byte varint, more after it", 5, 0,
     P("\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00\x10\x00\x00"),
     RS_READ_ERR_RECORD_CORRUPT, "cut short", 0},
    {"stack id over 32 bits", 5, 0, P("\x00\x00\x00\x00\x80\x80\x80\x80\x10"),
     RS_READ_ERR_RECORD_CORRUPT, "cut short", 0},
    {"time overflow", 5, UINT64_MAX, P("\x10\x01\x00"), RS_READ_ERR_RECORD_CORRUPT,
     "event time overflows", 0},
    {"time past 2^56 ns", 5, RS_EV_TIME_LIMIT - 1, P("\x10\x01\x00"),
     RS_READ_ERR_RECORD_CORRUPT, "event time overflows (over 2^56 ns)", 0},
    {"record longer than its chunk", 0, 0, P("\x47\x85\x80\x80\x00\x00"),
     RS_READ_ERR_RECORD_CORRUPT, "record length runs past its chunk", 0},
    {"record length not a varint", 0, 0, P("\x47\xff\xff"), RS_READ_ERR_RECORD_CORRUPT,
     "record length runs past its chunk", 0},
    {"stack with a huge frame count", 0, 0, P("\x40\x08\x01\x00\x00\xff\xff\xff\xff\x0f"),
     RS_READ_ERR_RECORD_CORRUPT, "impossible frame count", 0},
    {"stack over the frame cap", 0, 0, P("\x40\x05\x01\x00\x00\x81\x04"), RS_READ_ERR_RECORD_CORRUPT,
     "impossible frame count", 0},
    {"stack with a Python frame cut short", 0, 0, P("\x40\x05\x01\x00\x00\x01\x03"),
     RS_READ_ERR_RECORD_CORRUPT, "stack record cut short", 0},
    {"stack on an undefined base", 0, 0, P("\x40\x05\x01\x07\x01\x01\x02"),
     RS_READ_ERR_RECORD_CORRUPT, "not defined before it", 0},
    {"stack sharing without a base", 0, 0, P("\x40\x05\x01\x00\x01\x01\x02"),
     RS_READ_ERR_RECORD_CORRUPT, "without a base", 0},
    {"stack id 0", 0, 0, P("\x40\x04\x00\x00\x00\x00"), RS_READ_ERR_RECORD_CORRUPT, "reserved id 0", 0},
    {"note with a huge string", 0, 0, P("\x47\x03\x00\xff\x7f"), RS_READ_ERR_RECORD_CORRUPT,
     "note record cut short", 0},
    {"thread tid 0", 0, 0, P("\x41\x03\x00\x00\x00"), RS_READ_ERR_RECORD_CORRUPT, "tid 0", 0},
    {"thread tid over 32 bits", 0, 0, P("\x41\x08\x80\x80\x80\x80\x10\x00\x00\x00"),
     RS_READ_ERR_RECORD_CORRUPT, "thread record cut short", 0},
    {"module outside a map", 0, 0, P("\x43\x04\x00\x00\x00\x00"), RS_READ_ERR_RECORD_CORRUPT,
     "outside a module map", 0},
    {"module with a huge segment count", 0, 0, P("\x42\x01\x01\x43\x05\x00\x00\xff\xff\x03"),
     RS_READ_ERR_RECORD_CORRUPT, "impossible segment count", 3},
    {"module map end of another generation", 0, 0, P("\x42\x01\x01\x44\x01\x02"),
     RS_READ_ERR_RECORD_CORRUPT, "end without its beginning", 3},
    {"end record cut short", 0, 0, P("\x46\x02\x01\x02"), RS_READ_ERR_RECORD_CORRUPT,
     "end record cut short", 0},
    /* The same damage after four frees and with more records behind it: met by the run
     * decoder (trace_records.c rs_decode_event_run), which leaves the record to the
     * general decoders, so the error and its offset are the same. */
#define FREES4 "\x10\x01\x02\x10\x01\x02\x10\x01\x02\x10\x01\x02"
#define FREES14 FREES4 FREES4 FREES4 "\x10\x01\x02\x10\x01\x02"
    {"unknown event kind after a run", 5, 0, P(FREES4 "\x07\x00\x00\x00\x00" FREES14),
     RS_READ_ERR_RECORD_CORRUPT, "(unknown event tag 0x07)", 12},
    {"11-byte varint after a run", 5, 0,
     P(FREES4 "\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00" FREES14),
     RS_READ_ERR_RECORD_CORRUPT, "cut short", 12},
    {"stack id over 32 bits after a run", 5, 0,
     P(FREES4 "\x00\x00\x00\x00\x80\x80\x80\x80\x10" FREES14), RS_READ_ERR_RECORD_CORRUPT,
     "cut short", 12},
    {"time past 2^56 ns after a run", 5, RS_EV_TIME_LIMIT - 5, P(FREES4 "\x10\x01\x00" FREES14),
     RS_READ_ERR_RECORD_CORRUPT, "event time overflows (over 2^56 ns)", 12},
    /* Things a reader must accept. */
    {"unknown length-prefixed record", 0, 0, P("\x7e\x03\xff\xff\xff\x99\x00"), RS_READ_OK, NULL, 0},
    {"known record with appended fields", 0, 0, P("\x47\x05\x00\x01\x41\x09\x09"), RS_READ_OK,
     NULL, 0},
    {"empty stack", 0, 0, P("\x40\x04\x09\x00\x00\x00"), RS_READ_OK, NULL, 0},
};

static void check_crafted(void)
{
    for (size_t i = 0; i < sizeof crafted / sizeof *crafted; i++) {
        const struct crafted *c = &crafted[i];
        struct tb b;
        tb_init(&b);
        tb_default_header(&b);
        size_t at = b.buf.len;
        raw_chunk(&b.buf, c->tid, c->base_time, 0, c->payload, c->len);
        struct rs_read_error err;
        enum rs_read_status s = parse(b.buf.data, b.buf.len, &err, NULL);
        if (s != c->expect || (c->message && !strstr(err.message, c->message)))
            fprintf(stderr, "crafted case \"%s\": got %s: %s\n", c->what, rs_read_status_name(s),
                    err.message);
        CHECK_EQ_U64(s, c->expect);
        if (c->message) {
            CHECK_CONTAINS(err.message, c->message);
            /* The offset named is the bad record's. */
            char where[64];
            snprintf(where, sizeof where, "x.rsc: corrupt record at byte %zu ",
                     at + RS_CHUNK_HEADER_SIZE + c->rec_at);
            CHECK(strncmp(err.message, where, strlen(where)) == 0);
            if (strncmp(err.message, where, strlen(where)) != 0)
                fprintf(stderr, "  case \"%s\": %s\n", c->what, err.message);
        }
        tb_free(&b);
    }
}

/* A trace read without its events steps over event records uncounted-for damage aside: an
 * unknown tag or a record cut short is still an error at the same byte; what only decoding
 * finds (a time overflow, a stack id over 32 bits) is found when the events are replayed
 * from the file. */
static void check_crafted_counted(void)
{
    static const char *const also_counted[] = {
        "unknown event kind", "munmap with kind bits", "free kind out of range",
        "alloc cut at chunk end", "tag alone", "11-byte varint", "11-byte varint, more after it",
        "unknown event kind after a run", "11-byte varint after a run",
    };
    for (size_t i = 0; i < sizeof crafted / sizeof *crafted; i++) {
        const struct crafted *c = &crafted[i];
        if (c->tid == 0)
            continue;
        bool counted_error = false;
        for (size_t k = 0; k < sizeof also_counted / sizeof *also_counted; k++)
            counted_error |= strcmp(c->what, also_counted[k]) == 0;
        struct tb b;
        tb_init(&b);
        tb_default_header(&b);
        size_t at = b.buf.len;
        raw_chunk(&b.buf, c->tid, c->base_time, 0, c->payload, c->len);
        char *path = tb_write_temp(b.buf.data, b.buf.len);
        CHECK(path != NULL);
        struct rs_trace *t = NULL;
        struct rs_read_error err;
        enum rs_read_status s = path ? rs_trace_read_file_no_events(path, &t, &err) : RS_READ_OK;
        if (counted_error) {
            CHECK_EQ_U64(s, RS_READ_ERR_RECORD_CORRUPT);
            char where[64];
            snprintf(where, sizeof where, ": corrupt record at byte %zu ",
                     at + RS_CHUNK_HEADER_SIZE + c->rec_at);
            CHECK_CONTAINS(err.message, where);
            if (!strstr(err.message, where))
                fprintf(stderr, "  counted case \"%s\": %s\n", c->what, err.message);
        } else {
            CHECK_EQ_U64(s, RS_READ_OK);
            /* the cases after a run hold 4 + 1 + 14 event records, the others one */
            uint64_t nevents = strstr(c->what, "after a run") ? 19 : 1;
            CHECK(t && t->events_dropped && t->nevents == nevents);
            struct rs_replay r;
            CHECK_EQ_U64(t ? rs_replay_run(t, &r) : 0, (uint64_t)-2);
            CHECK_CONTAINS(t ? r.read_error : "", c->message);
            if (t)
                rs_replay_free(&r);
        }
        rs_trace_free(t);
        if (path)
            unlink(path);
        free(path);
        tb_free(&b);
    }
}

/* ---- chunk-level damage --------------------------------------------------------------- */

static void check_chunk_errors(void)
{
    struct tb b;
    struct rs_read_error err;
    char msg[128];

    /* The first chunk must be number 0. */
    tb_init(&b);
    tb_default_header(&b);
    raw_chunk(&b.buf, 0, 0, 1, "\x47\x02\x00\x00", 4);
    CHECK_EQ_U64(parse(b.buf.data, b.buf.len, &err, NULL), RS_READ_ERR_CHUNK_CORRUPT);
    snprintf(msg, sizeof msg, "x.rsc: corrupt chunk at byte %zu (sequence number 1, expected 0)",
             b.header_end);
    CHECK_STR(err.message, msg);
    CHECK_EQ_U64(err.offset, b.header_end);
    tb_free(&b);

    /* A repeated chunk number. */
    tb_init(&b);
    tb_default_header(&b);
    raw_chunk(&b.buf, 0, 0, 0, "\x47\x02\x00\x00", 4);
    size_t second = b.buf.len;
    raw_chunk(&b.buf, 0, 0, 0, "\x47\x02\x00\x00", 4);
    CHECK_EQ_U64(parse(b.buf.data, b.buf.len, &err, NULL), RS_READ_ERR_CHUNK_CORRUPT);
    snprintf(msg, sizeof msg, "corrupt chunk at byte %zu (sequence number 0, expected 1)", second);
    CHECK_CONTAINS(err.message, msg);
    tb_free(&b);

    /* A payload length over the limit is damage, not a cut. */
    tb_init(&b);
    tb_default_header(&b);
    raw_chunk(&b.buf, 0, 0, 0, "\x47\x02\x00\x00", 4);
    rs_put_u32le(b.buf.data + b.header_end + 4, RS_CHUNK_MAX_PAYLOAD + 1);
    CHECK_EQ_U64(parse(b.buf.data, b.buf.len, &err, NULL), RS_READ_ERR_CHUNK_CORRUPT);
    CHECK_CONTAINS(err.message, "over the limit");
    tb_free(&b);

    /* A checksum mismatch names the chunk's offset. */
    tb_init(&b);
    tb_default_header(&b);
    raw_chunk(&b.buf, 0, 0, 0, "\x47\x02\x00\x00", 4);
    size_t at = b.buf.len;
    raw_chunk(&b.buf, 0, 0, 1, "\x47\x02\x00\x00", 4);
    b.buf.data[b.buf.len - 1] ^= 1;
    CHECK_EQ_U64(parse(b.buf.data, b.buf.len, &err, NULL), RS_READ_ERR_CHUNK_CORRUPT);
    snprintf(msg, sizeof msg, "x.rsc: corrupt chunk at byte %zu (checksum mismatch)", at);
    CHECK_STR(err.message, msg);

    /* Bytes after the last chunk that are not a chunk: damage, whatever their length. */
    b.buf.data[b.buf.len - 1] ^= 1;
    rs_buf_bytes(&b.buf, "\0\0", 2);
    CHECK_EQ_U64(parse(b.buf.data, b.buf.len, &err, NULL), RS_READ_ERR_CHUNK_CORRUPT);
    CHECK_CONTAINS(err.message, "(bad magic)");
    /* ... while the start of a real chunk header is a cut. */
    b.buf.len -= 2;
    rs_buf_bytes(&b.buf, "RS", 2);
    struct rs_trace *t = NULL;
    CHECK_EQ_U64(parse(b.buf.data, b.buf.len, &err, &t), RS_READ_OK);
    CHECK(t && t->partial && t->partial_at == b.buf.len - 2 && t->nchunks == 2);
    rs_trace_free(t);
    tb_free(&b);
}

/* ---- file header damage -------------------------------------------------------------- */

static void check_header_errors(void)
{
    struct tb b;
    struct rs_read_error err;
    tb_init(&b);
    tb_default_header(&b);
    raw_chunk(&b.buf, 0, 0, 0, "\x47\x02\x00\x00", 4);
    uint8_t *d = b.buf.data;

    rs_put_u16le(d + 8, 2);
    CHECK_EQ_U64(parse(d, b.buf.len, &err, NULL), RS_READ_ERR_VERSION);
    CHECK_STR(err.message, "x.rsc: unsupported trace version 2.0 (this refscope reads 1.x)");
    rs_put_u16le(d + 8, 0);
    CHECK_EQ_U64(parse(d, b.buf.len, &err, NULL), RS_READ_ERR_VERSION);
    rs_put_u16le(d + 8, RS_VERSION_MAJOR);

    /* A later minor version reads fine. */
    rs_put_u16le(d + 10, 7);
    struct rs_trace *t = NULL;
    CHECK_EQ_U64(parse(d, b.buf.len, &err, &t), RS_READ_OK);
    CHECK(t && t->hdr.version_minor == 7);
    rs_trace_free(t);
    rs_put_u16le(d + 10, RS_VERSION_MINOR);

    d[0] = 'X';
    CHECK_EQ_U64(parse(d, b.buf.len, &err, NULL), RS_READ_ERR_MAGIC);
    CHECK_STR(err.message, "x.rsc: not a refscope trace (bad magic)");
    d[0] = 'R';
    d[6] = '\n'; /* "\r\n" turned into "\n\n" by a text-mode copy */
    CHECK_EQ_U64(parse(d, b.buf.len, &err, NULL), RS_READ_ERR_MAGIC);
    d[6] = '\r';
    CHECK_EQ_U64(parse((const uint8_t *)"{\"json\": 1}\n", 12, &err, NULL), RS_READ_ERR_MAGIC);
    CHECK_EQ_U64(parse((const uint8_t *)"RSC", 3, &err, NULL), RS_READ_ERR_HEADER_TRUNCATED);
    CHECK_EQ_U64(parse((const uint8_t *)"RSX", 3, &err, NULL), RS_READ_ERR_MAGIC);

    rs_put_u32le(d + 12, RS_FILE_HEADER_MAX_BODY + 1);
    CHECK_EQ_U64(parse(d, b.buf.len, &err, NULL), RS_READ_ERR_HEADER_CORRUPT);
    CHECK_CONTAINS(err.message, "over the limit");
    tb_free(&b);

    /* Header fields that do not decode, with a correct checksum. */
    static const struct {
        const char *body;
        size_t len;
    } bad_bodies[] = {
        {"\x01\x01\x80", 3},         /* pid: a varint that never ends */
        {"\x01\x02\x05\x05", 4},     /* pid: bytes after the varint */
        {"\x01\x00", 2},             /* pid: empty */
        {"\x06\x09/bin", 6},         /* exe: longer than the body */
        {"\x01", 1},                 /* a field id without a length */
    };
    for (size_t i = 0; i < sizeof bad_bodies / sizeof *bad_bodies; i++) {
        struct rs_buf f;
        tb_fields_init(&f);
        rs_buf_bytes(&f, bad_bodies[i].body, bad_bodies[i].len);
        tb_init(&b);
        tb_header(&b, &f);
        CHECK_EQ_U64(parse(b.buf.data, b.buf.len, &err, NULL), RS_READ_ERR_HEADER_CORRUPT);
        CHECK_CONTAINS(err.message, "corrupt file header");
        tb_free(&b);
        tb_fields_free(&f);
    }
}

/* ---- every byte flipped ---------------------------------------------------------------- */

static void build_sample(struct tb *b)
{
    static const uint64_t words[] = {0x401000, 0x401100, RS_STACKWORD_PY | 3, 7};
    static const struct rs_module_segment segs[] = {{0, 0x1000, 5}};
    tb_default_header(b);
    tb_chunk(b, 11, 100);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 100, 0x5000, 24, 1);
    rs_rec_sampled_alloc(&b->w, RS_ALLOC_CALLOC, 101, 0x5100, 24, 1, 4096);
    rs_rec_free(&b->w, RS_FREE_FREE, 102, 0x5000);
    rs_rec_munmap(&b->w, 103, 0x7000, 4096);
    tb_chunk_end(b, 4);
    tb_chunk(b, 0, 0);
    rs_rec_stack(&b->w, 1, 0, 0, words, 4);
    rs_rec_thread(&b->w, 11, RS_THREAD_MAIN, "main");
    rs_rec_modules_begin(&b->w, 1);
    rs_rec_module(&b->w, "/bin/x", 0x400000, segs, 1, (const uint8_t *)"\x01\x02", 2);
    rs_rec_modules_end(&b->w, 1);
    rs_rec_counters(&b->w, 11, 4, 0, 0, 0);
    rs_rec_note(&b->w, 1, "note");
    rs_rec_mark(&b->w, 5, RS_MARK_EXEC, "exec");
    rs_rec_end_of_trace(&b->w, 4, 0, 0, 200, RS_END_EXIT);
    tb_chunk_end(b, 0);
}

static int chunk_index(const struct tb *b, size_t off)
{
    for (size_t i = 0; i < b->nchunks; i++) {
        if (off >= b->chunk_start[i] && off < b->chunk_end[i])
            return (int)i;
    }
    return -1;
}

static void check_flips(void)
{
    struct tb b;
    tb_init(&b);
    build_sample(&b);
    CHECK(!b.buf.failed);
    uint8_t *copy = malloc(b.buf.len);
    static const uint8_t masks[] = {0x01, 0x80, 0xff, 0x55};
    for (size_t off = 0; off < b.buf.len; off++) {
        for (size_t k = 0; k < sizeof masks; k++) {
            memcpy(copy, b.buf.data, b.buf.len);
            copy[off] ^= masks[k];
            struct rs_read_error err;
            struct rs_trace *t = NULL;
            enum rs_read_status s = parse(copy, b.buf.len, &err, &t);
            bool ok;
            if (off < 8) {
                ok = s == RS_READ_ERR_MAGIC;
            } else if (off < 10) {
                ok = s == RS_READ_ERR_VERSION;
            } else if (off < 12 || (off >= 20 && off < 24)) { /* minor version, reserved */
                ok = s == RS_READ_OK && t->nevents == 4 && !t->partial;
            } else if (off < 16) { /* header length */
                ok = s == RS_READ_ERR_HEADER_CORRUPT || s == RS_READ_ERR_HEADER_TRUNCATED;
            } else if (off < b.header_end) { /* header checksum and body */
                ok = s == RS_READ_ERR_HEADER_CORRUPT;
            } else {
                int c = chunk_index(&b, off);
                size_t in = off - b.chunk_start[c >= 0 ? c : 0];
                if (c < 0)
                    ok = false;
                else if (in >= 4 && in < 8) /* a longer length looks like a cut */
                    ok = s == RS_READ_ERR_CHUNK_CORRUPT ||
                         (s == RS_READ_OK && t->partial && t->partial_at == b.chunk_start[c]);
                else
                    ok = s == RS_READ_ERR_CHUNK_CORRUPT;
            }
            if (!ok)
                fprintf(stderr, "flip 0x%02x at byte %zu: %s (%s)\n", masks[k], off,
                        rs_read_status_name(s), err.message);
            CHECK(ok);
            rs_trace_free(t);
        }
    }

    /* Flips inside payloads, checksum fixed up: now the record decoders see the damage.
     * Anything but a clean parse or a record error is wrong. */
    for (size_t c = 0; c < b.nchunks; c++) {
        for (size_t off = b.chunk_start[c] + RS_CHUNK_HEADER_SIZE; off < b.chunk_end[c]; off++) {
            for (size_t k = 0; k < sizeof masks; k++) {
                memcpy(copy, b.buf.data, b.buf.len);
                copy[off] ^= masks[k];
                fix_chunk_crc(copy + b.chunk_start[c]);
                struct rs_read_error err;
                enum rs_read_status s = parse(copy, b.buf.len, &err, NULL);
                if (s != RS_READ_OK && s != RS_READ_ERR_RECORD_CORRUPT)
                    fprintf(stderr, "payload flip at %zu: %s\n", off, err.message);
                CHECK(s == RS_READ_OK || s == RS_READ_ERR_RECORD_CORRUPT);
            }
        }
    }

    /* Random damage to several bytes at once, checksums fixed: never a crash. */
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned outcomes[RS_READ_ERR_NOMEM + 1] = {0};
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, b.buf.data, b.buf.len);
        int n = 1 + round % 6;
        for (int i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t c = (seed >> 33) % b.nchunks;
            size_t span = b.chunk_end[c] - b.chunk_start[c] - RS_CHUNK_HEADER_SIZE;
            size_t off = b.chunk_start[c] + RS_CHUNK_HEADER_SIZE + (seed >> 17) % span;
            copy[off] = (uint8_t)(seed >> 56);
        }
        for (size_t c = 0; c < b.nchunks; c++)
            fix_chunk_crc(copy + b.chunk_start[c]);
        struct rs_read_error err;
        enum rs_read_status s = parse(copy, b.buf.len, &err, NULL);
        CHECK(s == RS_READ_OK || s == RS_READ_ERR_RECORD_CORRUPT);
        outcomes[s]++;
    }
    /* Both outcomes happen, or the mutation is not reaching the decoders. */
    CHECK(outcomes[RS_READ_OK] > 0 && outcomes[RS_READ_ERR_RECORD_CORRUPT] > 0);
    free(copy);
    tb_free(&b);
}

int main(void)
{
    check_crafted();
    check_crafted_counted();
    check_chunk_errors();
    check_header_errors();
    check_flips();
    return test_result("corruption");
}
