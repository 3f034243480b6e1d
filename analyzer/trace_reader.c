#include "trace_reader.h"

#include "chunk_counter.h"
#include "decode_cursor.h"
#include "escape.h"
#include "trace_records.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *rs_read_status_name(enum rs_read_status s)
{
    switch (s) {
    case RS_READ_OK: return "ok";
    case RS_READ_ERR_IO: return "io";
    case RS_READ_ERR_EMPTY: return "empty";
    case RS_READ_ERR_MAGIC: return "bad-magic";
    case RS_READ_ERR_VERSION: return "version";
    case RS_READ_ERR_HEADER_TRUNCATED: return "header-truncated";
    case RS_READ_ERR_HEADER_CORRUPT: return "header-corrupt";
    case RS_READ_ERR_CHUNK_CORRUPT: return "chunk-corrupt";
    case RS_READ_ERR_RECORD_CORRUPT: return "record-corrupt";
    case RS_READ_ERR_NOMEM: return "out-of-memory";
    }
    return "?";
}

static enum rs_read_status vfail(struct rs_read_error *err, const char *name,
                                 enum rs_read_status status, uint64_t offset, const char *fmt,
                                 va_list ap)
{
    err->status = status;
    err->offset = offset;
    size_t n = rs_escape_to(err->message, sizeof err->message, name, strlen(name));
    if (n + 2 < sizeof err->message) {
        memcpy(err->message + n, ": ", 3);
        n += 2;
        vsnprintf(err->message + n, sizeof err->message - n, fmt, ap);
    }
    return status;
}

__attribute__((format(printf, 5, 6))) static enum rs_read_status
fail(struct rs_read_error *err, const char *name, enum rs_read_status status, uint64_t offset,
     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, name, status, offset, fmt, ap);
    va_end(ap);
    return status;
}

enum rs_read_status rs_read_fail(struct rs_read_error *err, const char *name,
                                 enum rs_read_status status, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, name, status, offset, fmt, ap);
    va_end(ap);
    return status;
}

/* ---- file header --------------------------------------------------------------------- */

static bool field_varint(const uint8_t *p, size_t n, uint64_t *v)
{
    struct rs_cursor c = {p, p + n};
    return rs_cur_varint(&c, v) && c.p == c.end;
}

static bool set_argv(struct rs_trace_header *h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < h->argc; i++)
        rs_text_clear(&h->argv[i]);
    free(h->argv);
    h->argv = NULL;
    h->argc = 0;
    size_t cap = 0;
    size_t i = 0;
    while (i < n) {
        const uint8_t *nul = memchr(p + i, 0, n - i);
        size_t len = nul ? (size_t)(nul - (p + i)) : n - i; /* a last argument without its NUL
                                                               * is kept */
        if (!rs_grow((void **)&h->argv, &cap, h->argc, sizeof *h->argv))
            return false;
        h->argv[h->argc] = (struct rs_text){0};
        if (!rs_text_set(&h->argv[h->argc], p + i, len))
            return false;
        h->argc++;
        i += len + 1;
    }
    return true;
}

/* Returns 0, -1 when a known field does not decode, -2 when out of memory. */
static int parse_header_fields(struct rs_trace_header *h, const uint8_t *p, size_t n,
                               uint64_t *bad_field)
{
    struct rs_cursor c = {p, p + n};
    while (c.p < c.end) {
        uint64_t id;
        const uint8_t *v;
        size_t len;
        if (!rs_cur_varint(&c, &id) || !rs_cur_bytes(&c, &v, &len)) {
            *bad_field = 0;
            return -1;
        }
        *bad_field = id;
        uint64_t *num = NULL;
        struct rs_text *text = NULL;
        switch (id) {
        case RS_HDR_PID: num = &h->pid; break;
        case RS_HDR_PPID: num = &h->ppid; break;
        case RS_HDR_START_REALTIME: num = &h->start_realtime; break;
        case RS_HDR_START_MONOTONIC: num = &h->start_monotonic; break;
        case RS_HDR_CLOCK: num = &h->clock; break;
        case RS_HDR_STACK_DEPTH: num = &h->stack_depth; break;
        case RS_HDR_PAGE_SIZE: num = &h->page_size; break;
        case RS_HDR_FLAGS: num = &h->flags; break;
        case RS_HDR_SAMPLE_BYTES: num = &h->sample_bytes; break;
        case RS_HDR_EXE: text = &h->exe; break;
        case RS_HDR_HOSTNAME: text = &h->hostname; break;
        case RS_HDR_ARGV:
            if (!set_argv(h, v, len))
                return -2;
            break;
        default:
            continue; /* a field from a later minor version */
        }
        if (num && !field_varint(v, len, num))
            return -1;
        if (text && !rs_text_set(text, v, len))
            return -2;
        h->present |= UINT32_C(1) << id;
    }
    return 0;
}

static enum rs_read_status read_file_header(const uint8_t *data, size_t len, struct rs_trace *t,
                                            struct rs_read_error *err, size_t *body_end)
{
    const char *name = t->name;
    if (len == 0)
        return fail(err, name, RS_READ_ERR_EMPTY, 0, "file is empty");
    size_t m = len < RS_FILE_MAGIC_LEN ? len : RS_FILE_MAGIC_LEN;
    if (memcmp(data, RS_FILE_MAGIC, m) != 0)
        return fail(err, name, RS_READ_ERR_MAGIC, 0, "not a refscope trace (bad magic)");
    if (len < 12)
        return fail(err, name, RS_READ_ERR_HEADER_TRUNCATED, len, "truncated file header");
    t->hdr.version_major = rs_get_u16le(data + 8);
    t->hdr.version_minor = rs_get_u16le(data + 10);
    if (t->hdr.version_major != RS_VERSION_MAJOR)
        return fail(err, name, RS_READ_ERR_VERSION, 8,
                    "unsupported trace version %u.%u (this refscope reads %d.x)",
                    t->hdr.version_major, t->hdr.version_minor, RS_VERSION_MAJOR);
    if (len < RS_FILE_HEADER_SIZE)
        return fail(err, name, RS_READ_ERR_HEADER_TRUNCATED, len, "truncated file header");
    uint32_t body_len = rs_get_u32le(data + 12);
    uint32_t body_crc = rs_get_u32le(data + 16);
    if (body_len > RS_FILE_HEADER_MAX_BODY)
        return fail(err, name, RS_READ_ERR_HEADER_CORRUPT, 12,
                    "corrupt file header (header length %u over the limit of %u)", body_len,
                    RS_FILE_HEADER_MAX_BODY);
    if (len - RS_FILE_HEADER_SIZE < body_len)
        return fail(err, name, RS_READ_ERR_HEADER_TRUNCATED, len, "truncated file header");
    const uint8_t *body = data + RS_FILE_HEADER_SIZE;
    if (rs_crc32(body, body_len) != body_crc)
        return fail(err, name, RS_READ_ERR_HEADER_CORRUPT, 16,
                    "corrupt file header (checksum mismatch)");
    uint64_t bad_field = 0;
    int r = parse_header_fields(&t->hdr, body, body_len, &bad_field);
    if (r == -2)
        return fail(err, name, RS_READ_ERR_NOMEM, 0, "out of memory");
    if (r < 0)
        return fail(err, name, RS_READ_ERR_HEADER_CORRUPT, RS_FILE_HEADER_SIZE,
                    "corrupt file header (field %llu does not decode)",
                    (unsigned long long)bad_field);
    *body_end = RS_FILE_HEADER_SIZE + (size_t)body_len;
    return RS_READ_OK;
}

/* ---- the bytes of the file ------------------------------------------------------------ */

/* The trace's bytes, from memory or read from the file a window at a time: a large trace
 * is never held whole (it would double the analyzer's peak memory), and reading (not
 * mapping) means a trace still being written, or truncated meanwhile, cannot fault under
 * us. Offsets only grow, so each byte is read once. */
struct trace_bytes {
    const uint8_t *mem;         /* memory source: the whole trace */
    size_t mem_len;
    int fd;                     /* file source */
    uint8_t *buf;
    size_t cap, len;            /* buf holds file bytes [buf_at, buf_at + len) */
    uint64_t buf_at;
    uint64_t seen;              /* bytes of the file known to exist */
    /* A regular file is mapped a window at a time instead (buf is the window): read()
     * copied every byte out of the page cache, a fifth of an analysis of a large trace,
     * and a window keeps the mapped pages (counted in the resident size) few. Only the
     * size the file had when opened is mapped; refscope's writer only ever appends (a
     * file cut shorter while it is read would fault). */
    bool mapped;
    uint64_t file_size;         /* when it was opened: bytes appended since are not read */
};

/* Reads or maps at least this much at a time. */
#define TRACE_READ_WINDOW (4u << 20)
#define TRACE_MAP_WINDOW (32u << 20)

static void unmap_window(struct trace_bytes *b)
{
    if (b->mapped && b->buf)
        munmap(b->buf, b->cap);
    b->buf = NULL;
    b->cap = b->len = 0;
}

static const uint8_t *map_at(struct trace_bytes *b, uint64_t at, size_t want, size_t *avail,
                             const char *name, struct rs_read_error *err)
{
    unmap_window(b);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t from = at - at % page;
    uint64_t end = at + (want > TRACE_MAP_WINDOW ? want : TRACE_MAP_WINDOW);
    if (end > b->file_size)
        end = b->file_size;
    if (at >= end) {
        *avail = 0;
        b->buf_at = at;
        return (const uint8_t *)"";
    }
    void *p = mmap(NULL, (size_t)(end - from), PROT_READ, MAP_PRIVATE | MAP_POPULATE, b->fd,
                   (off_t)from);
    if (p == MAP_FAILED) {
        fail(err, name, errno == ENOMEM ? RS_READ_ERR_NOMEM : RS_READ_ERR_IO, at, "%s",
             strerror(errno));
        return NULL;
    }
    b->buf = p;
    b->cap = (size_t)(end - from);
    b->buf_at = from;
    b->len = b->cap;
    if (end > b->seen)
        b->seen = end;
    size_t left = (size_t)(end - at);
    *avail = left < want ? left : want;
    return b->buf + (at - from);
}

/* Makes file bytes [at, at + want) available. Returns a pointer to byte `at` with *avail
 * set to the bytes there (want, fewer only where the file ends), or NULL with err set. */
static const uint8_t *bytes_at(struct trace_bytes *b, uint64_t at, size_t want, size_t *avail,
                               const char *name, struct rs_read_error *err)
{
    if (b->mem) {
        size_t left = at < b->mem_len ? b->mem_len - (size_t)at : 0;
        *avail = left < want ? left : want;
        return b->mem + (left ? at : b->mem_len);
    }
    if (at >= b->buf_at && at - b->buf_at <= b->len && b->len - (at - b->buf_at) >= want) {
        *avail = want;
        return b->buf + (at - b->buf_at);
    }
    if (b->mapped)
        return map_at(b, at, want, avail, name, err);
    /* Keep the bytes from `at` on, then fill the rest of the buffer. */
    size_t keep = 0;
    if (at >= b->buf_at && at - b->buf_at < b->len) {
        keep = b->len - (size_t)(at - b->buf_at);
        memmove(b->buf, b->buf + (at - b->buf_at), keep);
    }
    size_t need = want > TRACE_READ_WINDOW ? want : TRACE_READ_WINDOW;
    if (b->cap < need) {
        uint8_t *nb = realloc(b->buf, need);
        if (!nb) {
            fail(err, name, RS_READ_ERR_NOMEM, at, "out of memory");
            return NULL;
        }
        b->buf = nb;
        b->cap = need;
    }
    if (at + keep != b->seen) { /* not where the last read() ended */
        fail(err, name, RS_READ_ERR_IO, at, "cannot go back in a file that is not seekable");
        return NULL;
    }
    b->buf_at = at;
    b->len = keep;
    /* Only a pipe or the like comes here (a regular file is mapped): it is read in order,
     * each byte once, so read() is where at + len is; pread() fails on a pipe. */
    while (b->len < want) {
        ssize_t r = read(b->fd, b->buf + b->len, b->cap - b->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fail(err, name, RS_READ_ERR_IO, at + b->len, "%s", strerror(errno));
            return NULL;
        }
        if (r == 0)
            break;
        b->len += (size_t)r;
    }
    if (at + b->len > b->seen)
        b->seen = at + b->len;
    *avail = b->len < want ? b->len : want;
    return b->buf;
}

/* ---- chunks -------------------------------------------------------------------------- */

/* The thread of a thread chunk, with the chunk added to its list; NULL when out of memory. */
static struct rs_trace_thread *add_thread_chunk(struct rs_trace *t, uint64_t at,
                                                const struct rs_chunk_header *ch)
{
    struct rs_trace_thread *th = rs_trace_thread_get(t, ch->tid);
    if (!th || !rs_grow((void **)&th->chunks, &th->chunks_cap, th->nchunks, sizeof *th->chunks))
        return NULL;
    th->chunks[th->nchunks++] =
        (struct rs_chunk_span){at, RS_CHUNK_HEADER_SIZE + (size_t)ch->payload_len};
    return th;
}

static enum rs_read_status read_records(const uint8_t *chunk, uint64_t at,
                                        const struct rs_chunk_header *ch, struct rs_trace *t,
                                        struct rs_read_error *err)
{
    struct rs_chunk_ctx ctx = {
        .trace = t,
        .tid = ch->tid,
        .time = ch->base_time,
        .addr = 0,
        .chunk = chunk,
        .chunk_at = at,
    };
    uint8_t here = RS_REC_IN_META;
    if (ch->tid != RS_CHUNK_TID_META) {
        here = RS_REC_IN_THREAD;
        if (!(ctx.thread = add_thread_chunk(t, at, ch)))
            return fail(err, t->name, RS_READ_ERR_NOMEM, at, "out of memory");
    }
    const uint8_t *payload = chunk + RS_CHUNK_HEADER_SIZE;
    struct rs_cursor c = {payload, payload + ch->payload_len};
    bool count_only = here == RS_REC_IN_THREAD && t->events_dropped;
    while (c.p < c.end) {
        const char *why = NULL;
        if (count_only && rs_count_events(t, &c.p, c.end, &why) != RS_REC_OK) {
            uint64_t bad_at = rs_chunk_file_offset(&ctx, c.p);
            return fail(err, t->name, RS_READ_ERR_RECORD_CORRUPT, bad_at,
                        "corrupt record at byte %llu (%s)", (unsigned long long)bad_at, why);
        }
        if (here == RS_REC_IN_THREAD && !count_only)
            rs_decode_event_run(&ctx, &c);
        if (c.p >= c.end)
            break;
        uint64_t rec_at = rs_chunk_file_offset(&ctx, c.p);
        ctx.rec_at = rec_at;
        uint8_t tag = *c.p++;
        const struct rs_record_handler *h = rs_record_handler(tag);
        int r = RS_REC_OK;
        if (tag < RS_TAG_LENGTH_PREFIXED) {
            /* A fixed-shape record this reader does not know cannot be skipped. */
            if (!h)
                return fail(err, t->name, RS_READ_ERR_RECORD_CORRUPT, rec_at,
                            "corrupt record at byte %llu (unknown event tag 0x%02x)",
                            (unsigned long long)rec_at, tag);
            if (!(h->where & here))
                return fail(err, t->name, RS_READ_ERR_RECORD_CORRUPT, rec_at,
                            "corrupt record at byte %llu (event record in the metadata chunk)",
                            (unsigned long long)rec_at);
            r = h->decode(&ctx, tag, &c, &why);
        } else {
            uint64_t body_len;
            if (!rs_cur_varint(&c, &body_len) || body_len > rs_cur_left(&c))
                return fail(err, t->name, RS_READ_ERR_RECORD_CORRUPT, rec_at,
                            "corrupt record at byte %llu (record length runs past its chunk)",
                            (unsigned long long)rec_at);
            struct rs_cursor body = {c.p, c.p + body_len};
            c.p = body.end;
            if (!h)
                continue; /* from a later minor version */
            if (!(h->where & here))
                return fail(err, t->name, RS_READ_ERR_RECORD_CORRUPT, rec_at,
                            "corrupt record at byte %llu (tag 0x%02x in the wrong chunk)",
                            (unsigned long long)rec_at, tag);
            r = h->decode(&ctx, tag, &body, &why);
        }
        if (r == RS_REC_NOMEM)
            return fail(err, t->name, RS_READ_ERR_NOMEM, rec_at, "out of memory");
        if (r != RS_REC_OK)
            return fail(err, t->name, RS_READ_ERR_RECORD_CORRUPT, rec_at,
                        "corrupt record at byte %llu (%s)", (unsigned long long)rec_at,
                        why ? why : "does not decode");
    }
    return RS_READ_OK;
}

/* Whatever is there of the magic must match, even in a header cut short. */
static bool chunk_magic_prefix_ok(const uint8_t *p, size_t left)
{
    uint8_t magic[4];
    rs_put_u32le(magic, RS_CHUNK_MAGIC);
    return memcmp(p, magic, left < 4 ? left : 4) == 0;
}

static enum rs_read_status checksum_mismatch(const struct rs_trace *t, uint64_t at,
                                            struct rs_read_error *err)
{
    return fail(err, t->name, RS_READ_ERR_CHUNK_CORRUPT, at,
                "corrupt chunk at byte %llu (checksum mismatch)", (unsigned long long)at);
}

enum rs_read_status rs_trace_read_chunk(struct rs_trace *t, const uint8_t *chunk, size_t len,
                                        uint64_t at, uint32_t tid, struct rs_read_error *err)
{
    memset(err, 0, sizeof *err);
    struct rs_chunk_header ch = {0};
    if (len < RS_CHUNK_HEADER_SIZE || rs_decode_chunk_header(chunk, &ch) != 0 ||
        len != RS_CHUNK_HEADER_SIZE + (size_t)ch.payload_len || ch.tid != tid)
        return fail(err, t->name, RS_READ_ERR_CHUNK_CORRUPT, at,
                    "the chunk at byte %llu is not the one read before (the file changed)",
                    (unsigned long long)at);
    if (rs_crc32(chunk + RS_CHUNK_CRC_FROM, len - RS_CHUNK_CRC_FROM) != ch.crc)
        return checksum_mismatch(t, at, err);
    return read_records(chunk, at, &ch, t, err);
}

static enum rs_read_status read_chunks_counted(struct trace_bytes *b, uint64_t at,
                                               struct rs_trace *t, struct rs_chunk_counter *counter,
                                               struct rs_read_error *err)
{
    uint32_t expected_seq = 0;
    for (;;) {
        size_t left;
        const uint8_t *p = bytes_at(b, at, RS_CHUNK_HEADER_SIZE, &left, t->name, err);
        if (!p)
            return err->status;
        if (left == 0)
            return RS_READ_OK;
        if (!chunk_magic_prefix_ok(p, left))
            return fail(err, t->name, RS_READ_ERR_CHUNK_CORRUPT, at,
                        "corrupt chunk at byte %llu (bad magic)", (unsigned long long)at);
        if (left < RS_CHUNK_HEADER_SIZE)
            goto partial;
        struct rs_chunk_header ch = {0};
        rs_decode_chunk_header(p, &ch);
        if (ch.payload_len > RS_CHUNK_MAX_PAYLOAD)
            return fail(err, t->name, RS_READ_ERR_CHUNK_CORRUPT, at,
                        "corrupt chunk at byte %llu (payload length %u over the limit)",
                        (unsigned long long)at, ch.payload_len);
        size_t whole = RS_CHUNK_HEADER_SIZE + (size_t)ch.payload_len;
        p = bytes_at(b, at, whole, &left, t->name, err);
        if (!p)
            return err->status;
        if (left < whole)
            goto partial;
        struct rs_event_tally counted;
        bool by_counter = ch.tid != RS_CHUNK_TID_META && rs_chunk_counter_take(counter, at, &counted);
        if (!by_counter && rs_crc32(p + RS_CHUNK_CRC_FROM, whole - RS_CHUNK_CRC_FROM) != ch.crc)
            return checksum_mismatch(t, at, err);
        if (ch.seq != expected_seq)
            return fail(err, t->name, RS_READ_ERR_CHUNK_CORRUPT, at,
                        "corrupt chunk at byte %llu (sequence number %u, expected %u)",
                        (unsigned long long)at, ch.seq, expected_seq);
        if (by_counter) {
            if (!add_thread_chunk(t, at, &ch))
                return fail(err, t->name, RS_READ_ERR_NOMEM, at, "out of memory");
            rs_trace_add_tally(t, &counted);
        } else {
            enum rs_read_status s = read_records(p, at, &ch, t, err);
            if (s != RS_READ_OK)
                return s;
        }
        expected_seq++;
        t->nchunks++;
        at += whole;
    }

partial:
    /* The writer was stopped while this chunk was being written: what came before is
     * whole and checked, so keep it. */
    t->partial = true;
    t->partial_at = at;
    return RS_READ_OK;
}

/* A file read without its events has every other thread chunk counted by a second thread
 * (chunk_counter.h): on the 5M-object bench trace counting the events was 0.09 s of the
 * 0.2 s the read took (perf), with nothing else running yet; `types` on it went from 0.43
 * to 0.38 s. */
static enum rs_read_status read_chunks(struct trace_bytes *b, uint64_t at, struct rs_trace *t,
                                       struct rs_read_error *err)
{
    struct rs_chunk_counter *counter =
        b->mapped && t->events_dropped ? rs_chunk_counter_start(b->fd, at, b->file_size) : NULL;
    enum rs_read_status s = read_chunks_counted(b, at, t, counter, err);
    rs_chunk_counter_stop(counter);
    return s;
}

/* Which events a read keeps in memory. */
enum keep_events {
    KEEP_ALL,
    KEEP_NONE,
    KEEP_UNLESS_REREADABLE, /* none from a regular file (they can be read back), else all */
};

static enum rs_read_status read_trace(struct trace_bytes *b, const char *name,
                                      enum keep_events keep, struct rs_trace **out,
                                      struct rs_read_error *err)
{
    *out = NULL;
    struct rs_trace *t = rs_trace_new(name);
    if (!t)
        return fail(err, name, RS_READ_ERR_NOMEM, 0, "out of memory");
    t->from_file = b->mapped;
    t->events_dropped = keep == KEEP_NONE || (keep == KEEP_UNLESS_REREADABLE && t->from_file);
    size_t len;
    const uint8_t *head = bytes_at(b, 0, RS_FILE_HEADER_SIZE + RS_FILE_HEADER_MAX_BODY, &len,
                                   name, err);
    size_t at = 0;
    enum rs_read_status s = head ? read_file_header(head, len, t, err, &at) : err->status;
    if (s == RS_READ_OK)
        s = read_chunks(b, at, t, err);
    if (s != RS_READ_OK) {
        rs_trace_free(t);
        return s;
    }
    t->file_size = b->mem ? b->mem_len : b->seen;
    *out = t;
    return RS_READ_OK;
}

enum rs_read_status rs_trace_read_buffer(const uint8_t *data, size_t len, const char *name,
                                         struct rs_trace **out, struct rs_read_error *err)
{
    memset(err, 0, sizeof *err);
    /* A non-NULL pointer even for an empty buffer: it marks the memory source. */
    static const uint8_t empty[1];
    struct trace_bytes b = {.mem = len ? data : empty, .mem_len = len, .fd = -1};
    return read_trace(&b, name, KEEP_ALL, out, err);
}

static enum rs_read_status read_file(const char *path, enum keep_events keep,
                                     struct rs_trace **out, struct rs_read_error *err)
{
    *out = NULL;
    memset(err, 0, sizeof *err);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, path, RS_READ_ERR_IO, 0, "%s", strerror(errno));
    struct trace_bytes b = {.fd = fd};
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        b.mapped = true;
        b.file_size = (uint64_t)st.st_size;
    }
    enum rs_read_status s = read_trace(&b, path, keep, out, err);
    if (b.mapped)
        unmap_window(&b);
    else
        free(b.buf);
    close(fd);
    return s;
}

enum rs_read_status rs_trace_read_file(const char *path, struct rs_trace **out,
                                       struct rs_read_error *err)
{
    return read_file(path, KEEP_ALL, out, err);
}

enum rs_read_status rs_trace_read_file_no_events(const char *path, struct rs_trace **out,
                                                 struct rs_read_error *err)
{
    return read_file(path, KEEP_NONE, out, err);
}

enum rs_read_status rs_trace_read_file_streamed(const char *path, struct rs_trace **out,
                                                struct rs_read_error *err)
{
    return read_file(path, KEEP_UNLESS_REREADABLE, out, err);
}
