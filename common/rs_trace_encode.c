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
    rs_put_u32le(h + 16, rs_crc32(fields->data, fields->len));
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
    uint32_t crc = rs_crc32(h + RS_CHUNK_CRC_FROM, RS_CHUNK_HEADER_SIZE - RS_CHUNK_CRC_FROM + payload);
    rs_put_u32le(h + 8, crc);
    return true;
}

/* Records written by the million (events, snapshot nodes and edges) are written through
 * one pointer after one check for room: the checks, loads and stores of the buffer's
 * length per field were a third of the writer's work per event (callgrind,
 * bench/native_churn.c). buf_room: room for `max` bytes at the end, at *p (false: none,
 * the buffer is marked failed); buf_end: the buffer ends where the writing stopped. */
static inline bool buf_room(struct rs_buf *b, size_t max, uint8_t **p)
{
    if (!rs_buf_reserve(b, max))
        return false;
    *p = b->data + b->len;
    return true;
}

static inline void buf_end(struct rs_buf *b, const uint8_t *end)
{
    b->len = (size_t)(end - b->data);
}

/* Room for the longest event: a tag and five varints. */
#define EVENT_RECORD_MAX (1 + 5 * RS_VARINT_MAX)

static inline uint8_t *event_begin(struct rs_chunk_writer *w, uint8_t tag)
{
    uint8_t *p;
    if (!buf_room(w->out, EVENT_RECORD_MAX, &p))
        return NULL;
    *p = tag;
    return p + 1;
}

static inline uint8_t *put_time_addr(struct rs_chunk_writer *w, uint8_t *p, uint64_t time, uint64_t addr)
{
    /* A time before the chunk's last one would wrap the unsigned delta; clamp, because the
     * ring is per thread and times only go backwards if the clock does. */
    uint64_t dt = time >= w->last_time ? time - w->last_time : 0;
    if (time > w->last_time)
        w->last_time = time;
    p += rs_put_varint(p, dt);
    p += rs_put_varint(p, rs_zigzag((int64_t)(addr - w->last_addr)));
    w->last_addr = addr;
    return p;
}

/* An allocation's fields after its tag; NULL when there is no room. */
static inline uint8_t *put_alloc(struct rs_chunk_writer *w, uint8_t tag, uint64_t time, uint64_t addr,
                                 uint64_t size, uint32_t stack_id)
{
    uint8_t *p = event_begin(w, tag);
    if (!p)
        return NULL;
    p = put_time_addr(w, p, time, addr);
    p += rs_put_varint(p, size);
    return p + rs_put_varint(p, stack_id);
}

void rs_rec_alloc(struct rs_chunk_writer *w, enum rs_alloc_kind kind, uint64_t time, uint64_t addr,
                  uint64_t size, uint32_t stack_id)
{
    uint8_t *p = put_alloc(w, (uint8_t)(RS_TAG_ALLOC | (kind & RS_TAG_KIND_MASK)), time, addr, size, stack_id);
    if (p)
        buf_end(w->out, p);
}

void rs_rec_sampled_alloc(struct rs_chunk_writer *w, enum rs_alloc_kind kind, uint64_t time,
                          uint64_t addr, uint64_t size, uint32_t stack_id, uint64_t weight)
{
    uint8_t *p = put_alloc(w, (uint8_t)(RS_TAG_SAMPLED_ALLOC | (kind & RS_TAG_KIND_MASK)), time, addr,
                           size, stack_id);
    if (p)
        buf_end(w->out, p + rs_put_varint(p, weight));
}

void rs_rec_free(struct rs_chunk_writer *w, enum rs_free_kind kind, uint64_t time, uint64_t addr)
{
    uint8_t *p = event_begin(w, (uint8_t)(RS_TAG_FREE | (kind & RS_TAG_KIND_MASK)));
    if (!p)
        return;
    buf_end(w->out, put_time_addr(w, p, time, addr));
}

void rs_rec_munmap(struct rs_chunk_writer *w, uint64_t time, uint64_t addr, uint64_t length)
{
    uint8_t *p = event_begin(w, RS_TAG_MUNMAP);
    if (!p)
        return;
    p = put_time_addr(w, p, time, addr);
    p += rs_put_varint(p, length);
    buf_end(w->out, p);
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

void rs_rec_stack(struct rs_chunk_writer *w, uint32_t id, uint32_t base, uint32_t shared,
                  const uint64_t *words, uint32_t nwords)
{
    size_t at = rs_rec_begin(w, RS_TAG_STACK);
    rs_buf_varint(w->out, id);
    rs_buf_varint(w->out, base);
    rs_buf_varint(w->out, shared);
    size_t nframes_at = w->out->len;
    uint32_t nframes = 0;
    /* the frame count goes first: written as a fixed 3-byte varint and patched */
    if (rs_buf_reserve(w->out, 3))
        w->out->len += 3;
    uint64_t prev_ip = 0;
    for (uint32_t i = 0; i < nwords; i++, nframes++) {
        if ((words[i] & RS_STACKWORD_PY) && i + 1 < nwords) {
            uint64_t code = words[i] & ~RS_STACKWORD_PY, off = words[i + 1];
            rs_buf_varint(w->out, (code << 1) | 1);
            rs_buf_varint(w->out, ((off & 0xffffffffu) << 1) | ((off & RS_PYOFFSET_ENTRY) ? 1 : 0));
            i++;
        } else {
            rs_buf_varint(w->out, rs_zigzag((int64_t)(words[i] - prev_ip)) << 1);
            prev_ip = words[i];
        }
    }
    if (!w->out->failed) {
        uint8_t *p = w->out->data + nframes_at;
        p[0] = (uint8_t)((nframes & 0x7f) | 0x80);
        p[1] = (uint8_t)(((nframes >> 7) & 0x7f) | 0x80);
        p[2] = (uint8_t)((nframes >> 14) & 0x7f);
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

void rs_rec_snap_begin(struct rs_chunk_writer *w, uint32_t id, uint64_t time, enum rs_snap_trigger trigger,
                       const char *label)
{
    size_t at = rs_rec_begin(w, RS_TAG_SNAP_BEGIN);
    rs_buf_varint(w->out, id);
    rs_buf_varint(w->out, time);
    rs_buf_varint(w->out, (uint64_t)trigger);
    rs_buf_string(w->out, label, strlen(label));
    rs_rec_end(w, at);
}

void rs_rec_snap_type(struct rs_chunk_writer *w, uint32_t type_id, uint64_t type_addr, const char *name,
                      uint32_t flags, uint64_t basicsize, uint64_t itemsize)
{
    size_t at = rs_rec_begin(w, RS_TAG_SNAP_TYPE);
    rs_buf_varint(w->out, type_id);
    rs_buf_varint(w->out, type_addr);
    rs_buf_string(w->out, name, strlen(name));
    rs_buf_varint(w->out, flags);
    rs_buf_varint(w->out, basicsize);
    rs_buf_varint(w->out, itemsize);
    rs_rec_end(w, at);
}

void rs_rec_snap_label(struct rs_chunk_writer *w, uint32_t label_id, enum rs_edge_kind kind, const char *text,
                       size_t text_len)
{
    size_t at = rs_rec_begin(w, RS_TAG_SNAP_LABEL);
    rs_buf_varint(w->out, label_id);
    rs_buf_varint(w->out, (uint64_t)kind);
    rs_buf_string(w->out, text, text_len);
    rs_rec_end(w, at);
}

void rs_rec_snap_root(struct rs_chunk_writer *w, uint64_t addr, enum rs_root_kind kind, const char *name)
{
    size_t at = rs_rec_begin(w, RS_TAG_SNAP_ROOT);
    rs_buf_varint(w->out, addr);
    rs_buf_varint(w->out, (uint64_t)kind);
    rs_buf_string(w->out, name, strlen(name));
    rs_rec_end(w, at);
}

static void rec_pairs(struct rs_chunk_writer *w, uint8_t tag, const uint64_t *pairs,
                      size_t npairs)
{
    size_t at = rs_rec_begin(w, tag);
    rs_buf_varint(w->out, npairs);
    for (size_t i = 0; i < 2 * npairs; i++)
        rs_buf_varint(w->out, pairs[i]);
    rs_rec_end(w, at);
}

void rs_rec_snap_weak(struct rs_chunk_writer *w, const uint64_t *pairs, size_t npairs)
{
    rec_pairs(w, RS_TAG_SNAP_WEAK, pairs, npairs);
}

void rs_rec_snap_buffers(struct rs_chunk_writer *w, const uint64_t *pairs, size_t npairs)
{
    rec_pairs(w, RS_TAG_SNAP_BUFFERS, pairs, npairs);
}

void rs_rec_snap_end(struct rs_chunk_writer *w, uint32_t id, uint64_t nodes, uint64_t edges, uint64_t pause_ns)
{
    size_t at = rs_rec_begin(w, RS_TAG_SNAP_END);
    rs_buf_varint(w->out, id);
    rs_buf_varint(w->out, nodes);
    rs_buf_varint(w->out, edges);
    rs_buf_varint(w->out, pause_ns);
    rs_rec_end(w, at);
}

/* Counts are patched in place, so they are written as fixed 5-byte varints. */
#define COUNT_BYTES 5
_Static_assert(COUNT_BYTES == 5, "patch_count writes five bytes");

static size_t reserve_count(struct rs_buf *b)
{
    size_t at = b->len;
    if (rs_buf_reserve(b, COUNT_BYTES))
        b->len += COUNT_BYTES;
    return at;
}

static void patch_count(struct rs_buf *b, size_t at, uint64_t v)
{
    if (b->failed)
        return;
    if (v >= (UINT64_C(1) << 35)) {
        b->failed = true;
        return;
    }
    uint8_t *d = b->data + at;
    d[0] = (uint8_t)(v | 0x80);
    d[1] = (uint8_t)(v >> 7 | 0x80);
    d[2] = (uint8_t)(v >> 14 | 0x80);
    d[3] = (uint8_t)(v >> 21 | 0x80);
    d[4] = (uint8_t)(v >> 28 & 0x7f);
}

static void batch_open(struct rs_chunk_writer *w, struct rs_snap_batch *b, enum rs_record_tag tag)
{
    memset(b, 0, sizeof *b);
    b->record_at = rs_rec_begin(w, tag);
    b->count_at = reserve_count(w->out);
}

void rs_snap_nodes_open(struct rs_chunk_writer *w, struct rs_snap_batch *b)
{
    batch_open(w, b, RS_TAG_SNAP_NODES);
}

void rs_snap_node(struct rs_chunk_writer *w, struct rs_snap_batch *b, const struct rs_snap_node *n)
{
    size_t label_len = n->label ? n->label_len : 0;
    uint8_t *p;
    if (!buf_room(w->out, 7 * RS_VARINT_MAX + label_len, &p))
        return;
    p += rs_put_varint(p, rs_zigzag((int64_t)(n->addr - b->last_addr)));
    b->last_addr = n->addr;
    p += rs_put_varint(p, n->type_id);
    p += rs_put_varint(p, n->size);
    p += rs_put_varint(p, n->refcnt);
    p += rs_put_varint(p, n->flags);
    p += rs_put_varint(p, n->preheader);
    p += rs_put_varint(p, label_len);
    if (label_len)
        memcpy(p, n->label, label_len);
    buf_end(w->out, p + label_len);
    b->count++;
}

void rs_snap_edges_open(struct rs_chunk_writer *w, struct rs_snap_batch *b)
{
    batch_open(w, b, RS_TAG_SNAP_EDGES);
}

static void end_source(struct rs_chunk_writer *w, struct rs_snap_batch *b)
{
    if (b->targets_count_at)
        patch_count(w->out, b->targets_count_at, b->targets);
    b->targets_count_at = 0;
}

void rs_snap_edge_source(struct rs_chunk_writer *w, struct rs_snap_batch *b, uint64_t source)
{
    end_source(w, b);
    uint8_t *p;
    if (!buf_room(w->out, RS_VARINT_MAX + COUNT_BYTES, &p))
        return;
    p += rs_put_varint(p, rs_zigzag((int64_t)(source - b->last_addr)));
    b->last_addr = source;
    b->targets_count_at = (size_t)(p - w->out->data);
    buf_end(w->out, p + COUNT_BYTES);
    b->targets = 0;
    b->last_target = source;
    b->count++;
}

void rs_snap_edge(struct rs_chunk_writer *w, struct rs_snap_batch *b, uint64_t target, uint64_t label)
{
    uint8_t *p;
    if (!buf_room(w->out, 2 * RS_VARINT_MAX, &p))
        return;
    p += rs_put_varint(p, rs_zigzag((int64_t)(target - b->last_target)));
    b->last_target = target;
    p += rs_put_varint(p, label);
    buf_end(w->out, p);
    b->targets++;
}

void rs_snap_batch_close(struct rs_chunk_writer *w, struct rs_snap_batch *b)
{
    end_source(w, b);
    if (b->count == 0) {
        w->out->len = b->record_at - 1; /* drop the tag too */
        return;
    }
    patch_count(w->out, b->count_at, b->count);
    rs_rec_end(w, b->record_at);
}
