#include "trace_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static bool grow(struct rs_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

void tb_fields_init(struct rs_buf *fields)
{
    *fields = (struct rs_buf){.grow = grow};
}

void tb_fields_free(struct rs_buf *fields)
{
    free(fields->data);
    fields->data = NULL;
}

void tb_init(struct tb *b)
{
    memset(b, 0, sizeof *b);
    b->buf.grow = grow;
}

void tb_free(struct tb *b)
{
    free(b->buf.data);
    b->buf.data = NULL;
}

void tb_header(struct tb *b, const struct rs_buf *fields)
{
    rs_encode_file_header(&b->buf, fields);
    b->header_end = b->buf.len;
}

void tb_default_header(struct tb *b)
{
    struct rs_buf f;
    tb_fields_init(&f);
    rs_hdr_u64(&f, RS_HDR_PID, 4242);
    rs_hdr_u64(&f, RS_HDR_PPID, 4241);
    rs_hdr_u64(&f, RS_HDR_START_REALTIME, 1700000000000000000ull);
    rs_hdr_u64(&f, RS_HDR_START_MONOTONIC, 123456789);
    rs_hdr_bytes(&f, RS_HDR_EXE, "/usr/bin/prog", 13);
    rs_hdr_bytes(&f, RS_HDR_ARGV, "prog\0-x\0", 8);
    rs_hdr_u64(&f, RS_HDR_STACK_DEPTH, 64);
    tb_header(b, &f);
    tb_fields_free(&f);
}

void tb_chunk(struct tb *b, uint32_t tid, uint64_t base_time)
{
    if (b->nchunks < TB_MAX_CHUNKS)
        b->chunk_start[b->nchunks] = b->buf.len;
    rs_chunk_open(&b->w, &b->buf, tid, base_time);
}

void tb_chunk_end(struct tb *b, size_t events)
{
    if (rs_chunk_close(&b->w, b->seq)) {
        b->seq++;
        if (b->nchunks < TB_MAX_CHUNKS) {
            b->chunk_end[b->nchunks] = b->buf.len;
            b->chunk_events[b->nchunks] = events;
            b->nchunks++;
        }
    }
}

char *tb_write_temp(const uint8_t *data, size_t len)
{
    const char *dir = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/refscope-test-XXXXXX", dir && *dir ? dir : "/tmp") < 0)
        return NULL;
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0) {
            close(fd);
            unlink(path);
            free(path);
            return NULL;
        }
        off += (size_t)w;
    }
    close(fd);
    return path;
}
