#include "rs_trace_encode.h"

#include <zlib.h>

void rs_buf_bytes(struct rs_buf *b, const void *p, size_t n)
{
    if (n && rs_buf_reserve(b, n)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

void rs_buf_string(struct rs_buf *b, const char *s, size_t n)
{
    rs_buf_varint(b, n);
    rs_buf_bytes(b, s, n);
}

void rs_hdr_u64(struct rs_buf *fields, enum rs_header_field id, uint64_t v)
{
    uint8_t tmp[RS_VARINT_MAX];
    size_t n = rs_put_varint(tmp, v);
    rs_hdr_bytes(fields, id, tmp, n);
}

void rs_hdr_bytes(struct rs_buf *fields, enum rs_header_field id, const void *p, size_t n)
{
    rs_buf_varint(fields, (uint64_t)id);
    rs_buf_varint(fields, n);
    rs_buf_bytes(fields, p, n);
}

void rs_encode_file_header(struct rs_buf *out, const struct rs_buf *fields)
{
    if (!rs_buf_reserve(out, RS_FILE_HEADER_SIZE + fields->len))
        return;
    uint8_t *h = out->data + out->len;
    memcpy(h, RS_FILE_MAGIC, RS_FILE_MAGIC_LEN);
    rs_put_u16le(h + 8, RS_VERSION_MAJOR);
    rs_put_u16le(h + 10, RS_VERSION_MINOR);
    rs_put_u32le(h + 12, (uint32_t)fields->len);
    rs_put_u32le(h + 16, (uint32_t)crc32(0L, fields->data, (uInt)fields->len));
    rs_put_u32le(h + 20, 0);
    out->len += RS_FILE_HEADER_SIZE;
    rs_buf_bytes(out, fields->data, fields->len);
}

void rs_chunk_open(struct rs_chunk_writer *w, struct rs_buf *out, uint32_t tid, uint64_t base_time)
{
    w->out = out;
    w->tid = tid;
    w->base_time = base_time;
    w->last_time = base_time;
    w->last_addr = 0;
    w->header_at = out->len;
    w->open = true;
    if (rs_buf_reserve(out, RS_CHUNK_HEADER_SIZE))
        out->len += RS_CHUNK_HEADER_SIZE;
}

bool rs_chunk_close(struct rs_chunk_writer *w, uint32_t seq)
{
    struct rs_buf *out = w->out;
    w->open = false;
    if (out->failed)
        return false;
    size_t payload = out->len - w->header_at - RS_CHUNK_HEADER_SIZE;
    if (payload == 0) {
        out->len = w->header_at;
        return false;
    }
    uint8_t *h = out->data + w->header_at;
    struct rs_chunk_header ch = {
        .payload_len = (uint32_t)payload,
        .crc = 0,
        .tid = w->tid,
        .base_time = w->base_time,
        .seq = seq,
        .flags = 0,
    };
    rs_encode_chunk_header(h, &ch);
    uint32_t crc = (uint32_t)crc32(0L, h + RS_CHUNK_CRC_FROM,
                                   (uInt)(RS_CHUNK_HEADER_SIZE - RS_CHUNK_CRC_FROM + payload));
    rs_put_u32le(h + 8, crc);
    return true;
}

static inline void put_time_addr(struct rs_chunk_writer *w, uint64_t time, uint64_t addr)
{
    /* A time before the chunk's last one would wrap the unsigned delta; clamp, because the
     * ring is per thread and times only go backwards if the clock does. */
    uint64_t dt = time >= w->last_time ? time - w->last_time : 0;
    if (time > w->last_time)
        w->last_time = time;
    rs_buf_varint(w->out, dt);
    rs_buf_varint(w->out, rs_zigzag((int64_t)(addr - w->last_addr)));
    w->last_addr = addr;
}

void rs_rec_alloc(struct rs_chunk_writer *w, enum rs_alloc_kind kind, uint64_t time, uint64_t addr,
                  uint64_t size, uint32_t stack_id)
{
    rs_buf_byte(w->out, (uint8_t)(RS_TAG_ALLOC | (kind & RS_TAG_KIND_MASK)));
    put_time_addr(w, time, addr);
    rs_buf_varint(w->out, size);
    rs_buf_varint(w->out, stack_id);
}

void rs_rec_sampled_alloc(struct rs_chunk_writer *w, enum rs_alloc_kind kind, uint64_t time,
                          uint64_t addr, uint64_t size, uint32_t stack_id, uint64_t weight)
{
    rs_buf_byte(w->out, (uint8_t)(RS_TAG_SAMPLED_ALLOC | (kind & RS_TAG_KIND_MASK)));
    put_time_addr(w, time, addr);
    rs_buf_varint(w->out, size);
    rs_buf_varint(w->out, stack_id);
    rs_buf_varint(w->out, weight);
}

void rs_rec_free(struct rs_chunk_writer *w, enum rs_free_kind kind, uint64_t time, uint64_t addr)
{
    rs_buf_byte(w->out, (uint8_t)(RS_TAG_FREE | (kind & RS_TAG_KIND_MASK)));
    put_time_addr(w, time, addr);
}

void rs_rec_munmap(struct rs_chunk_writer *w, uint64_t time, uint64_t addr, uint64_t length)
{
    rs_buf_byte(w->out, RS_TAG_MUNMAP);
    put_time_addr(w, time, addr);
    rs_buf_varint(w->out, length);
}

/* Length prefixes are written as fixed 4-byte varints (padded with continuation bits) so
 * the body can be written first and the length patched in place. */
#define LEN_PREFIX_BYTES 4

size_t rs_rec_begin(struct rs_chunk_writer *w, enum rs_record_tag tag)
{
    rs_buf_byte(w->out, (uint8_t)tag);
    size_t at = w->out->len;
    if (rs_buf_reserve(w->out, LEN_PREFIX_BYTES))
        w->out->len += LEN_PREFIX_BYTES;
    return at;
}

void rs_rec_end(struct rs_chunk_writer *w, size_t begin)
{
    struct rs_buf *b = w->out;
    if (b->failed)
        return;
    size_t body = b->len - begin - LEN_PREFIX_BYTES;
    if (body >= (1u << 28)) { /* does not fit in 4 varint bytes: unreadable, so fail */
        b->failed = true;
        return;
    }
    uint8_t *p = b->data + begin;
    for (int i = 0; i < LEN_PREFIX_BYTES; i++) {
        p[i] = (uint8_t)((body >> (7 * i)) & 0x7f);
        if (i < LEN_PREFIX_BYTES - 1)
            p[i] |= 0x80;
    }
}

void rs_rec_stack(struct rs_chunk_writer *w, uint32_t id, const uint64_t *words, uint32_t nwords)
{
    size_t at = rs_rec_begin(w, RS_TAG_STACK);
    rs_buf_varint(w->out, id);
    rs_buf_varint(w->out, nwords);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < nwords; i++) {
        rs_buf_varint(w->out, rs_zigzag((int64_t)(words[i] - prev)));
        prev = words[i];
    }
    rs_rec_end(w, at);
}

void rs_rec_thread(struct rs_chunk_writer *w, uint32_t tid, uint32_t flags, const char *name)
{
    size_t at = rs_rec_begin(w, RS_TAG_THREAD);
    rs_buf_varint(w->out, tid);
    rs_buf_varint(w->out, flags);
    rs_buf_string(w->out, name, strlen(name));
    rs_rec_end(w, at);
}

void rs_rec_counters(struct rs_chunk_writer *w, uint32_t tid, uint64_t events, uint64_t waits,
                     uint64_t drops, uint64_t wait_ns)
{
    size_t at = rs_rec_begin(w, RS_TAG_COUNTERS);
    rs_buf_varint(w->out, tid);
    rs_buf_varint(w->out, events);
    rs_buf_varint(w->out, waits);
    rs_buf_varint(w->out, drops);
    rs_buf_varint(w->out, wait_ns);
    rs_rec_end(w, at);
}

void rs_rec_end_of_trace(struct rs_chunk_writer *w, uint64_t total_events, uint64_t total_drops,
                         uint64_t total_waits, uint64_t end_time, enum rs_end_reason reason)
{
    size_t at = rs_rec_begin(w, RS_TAG_END);
    rs_buf_varint(w->out, total_events);
    rs_buf_varint(w->out, total_drops);
    rs_buf_varint(w->out, total_waits);
    rs_buf_varint(w->out, end_time);
    rs_buf_varint(w->out, (uint64_t)reason);
    rs_rec_end(w, at);
}

void rs_rec_note(struct rs_chunk_writer *w, unsigned level, const char *text)
{
    size_t at = rs_rec_begin(w, RS_TAG_NOTE);
    rs_buf_varint(w->out, level);
    rs_buf_string(w->out, text, strlen(text));
    rs_rec_end(w, at);
}

void rs_rec_mark(struct rs_chunk_writer *w, uint64_t time, enum rs_mark_kind kind, const char *label)
{
    size_t at = rs_rec_begin(w, RS_TAG_MARK);
    rs_buf_varint(w->out, time);
    rs_buf_varint(w->out, (uint64_t)kind);
    rs_buf_string(w->out, label, strlen(label));
    rs_rec_end(w, at);
}

void rs_rec_modules_begin(struct rs_chunk_writer *w, uint64_t generation)
{
    size_t at = rs_rec_begin(w, RS_TAG_MODULES_BEGIN);
    rs_buf_varint(w->out, generation);
    rs_rec_end(w, at);
}

void rs_rec_module(struct rs_chunk_writer *w, const char *path, uint64_t load_bias,
                   const struct rs_module_segment *segs, uint32_t nsegs, const uint8_t *build_id,
                   size_t build_id_len)
{
    size_t at = rs_rec_begin(w, RS_TAG_MODULE);
    rs_buf_string(w->out, path, strlen(path));
    rs_buf_varint(w->out, load_bias);
    rs_buf_varint(w->out, nsegs);
    for (uint32_t i = 0; i < nsegs; i++) {
        rs_buf_varint(w->out, segs[i].vaddr);
        rs_buf_varint(w->out, segs[i].memsz);
        rs_buf_varint(w->out, segs[i].flags);
    }
    rs_buf_string(w->out, (const char *)build_id, build_id_len);
    rs_rec_end(w, at);
}

void rs_rec_modules_end(struct rs_chunk_writer *w, uint64_t generation)
{
    size_t at = rs_rec_begin(w, RS_TAG_MODULES_END);
    rs_buf_varint(w->out, generation);
    rs_rec_end(w, at);
}
