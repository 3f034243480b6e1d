/* Encoding side of the trace format (rs_trace_format.h): builds the file header, chunks and
 * records into a growable byte buffer. Used by the shim's writer and by tests that craft
 * traces. It never calls malloc itself: the buffer's owner supplies `grow`, so the shim can
 * back it with mmap and stay out of the allocator it interposes. */
#ifndef REFSCOPE_TRACE_ENCODE_H
#define REFSCOPE_TRACE_ENCODE_H

#include "rs_trace_format.h"

#include <stdbool.h>

struct rs_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    /* Makes room for at least `need` bytes in total; returns false when it cannot. */
    bool (*grow)(struct rs_buf *buf, size_t need);
    bool failed; /* a grow failed: the contents are incomplete and must not be written */
};

static inline bool rs_buf_reserve(struct rs_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra <= b->cap)
        return true;
    if (!b->grow || !b->grow(b, b->len + extra)) {
        b->failed = true;
        return false;
    }
    return true;
}

static inline void rs_buf_varint(struct rs_buf *b, uint64_t v)
{
    if (rs_buf_reserve(b, RS_VARINT_MAX))
        b->len += rs_put_varint(b->data + b->len, v);
}

static inline void rs_buf_byte(struct rs_buf *b, uint8_t v)
{
    if (rs_buf_reserve(b, 1))
        b->data[b->len++] = v;
}

void rs_buf_bytes(struct rs_buf *b, const void *p, size_t n);
/* varint length, then the bytes */
void rs_buf_string(struct rs_buf *b, const char *s, size_t n);

/* File header. `fields` is a TLV body built with rs_hdr_* below. */
void rs_encode_file_header(struct rs_buf *out, const struct rs_buf *fields);
void rs_hdr_u64(struct rs_buf *fields, enum rs_header_field id, uint64_t v);
void rs_hdr_bytes(struct rs_buf *fields, enum rs_header_field id, const void *p, size_t n);

/* A chunk is opened, filled with records, then closed (which writes its length and crc).
 * Chunks do not nest. */
struct rs_chunk_writer {
    struct rs_buf *out;
    size_t header_at;
    uint32_t tid;
    uint64_t base_time;
    uint64_t last_time;
    uint64_t last_addr;
    bool open;
};

void rs_chunk_open(struct rs_chunk_writer *w, struct rs_buf *out, uint32_t tid, uint64_t base_time);
/* Closes the chunk with sequence number `seq`. An empty chunk is dropped (returns false). */
bool rs_chunk_close(struct rs_chunk_writer *w, uint32_t seq);

/* Event records. Times are ns since trace start and must not decrease within a chunk. */
void rs_rec_alloc(struct rs_chunk_writer *w, enum rs_alloc_kind kind, uint64_t time, uint64_t addr,
                  uint64_t size, uint32_t stack_id);
void rs_rec_sampled_alloc(struct rs_chunk_writer *w, enum rs_alloc_kind kind, uint64_t time,
                          uint64_t addr, uint64_t size, uint32_t stack_id, uint64_t weight);
void rs_rec_free(struct rs_chunk_writer *w, enum rs_free_kind kind, uint64_t time, uint64_t addr);
void rs_rec_munmap(struct rs_chunk_writer *w, uint64_t time, uint64_t addr, uint64_t length);

/* Length-prefixed records: begin returns a position that end() patches with the length. */
size_t rs_rec_begin(struct rs_chunk_writer *w, enum rs_record_tag tag);
void rs_rec_end(struct rs_chunk_writer *w, size_t begin);

/* `words` are the stack's innermost words not shared with stack `base` (whose outermost
 * `shared` words complete it). */
void rs_rec_stack(struct rs_chunk_writer *w, uint32_t id, uint32_t base, uint32_t shared,
                  const uint64_t *words, uint32_t nwords);
void rs_rec_thread(struct rs_chunk_writer *w, uint32_t tid, uint32_t flags, const char *name);
void rs_rec_counters(struct rs_chunk_writer *w, uint32_t tid, uint64_t events, uint64_t waits,
                     uint64_t drops, uint64_t wait_ns);
void rs_rec_end_of_trace(struct rs_chunk_writer *w, uint64_t total_events, uint64_t total_drops,
                         uint64_t total_waits, uint64_t end_time, enum rs_end_reason reason);
void rs_rec_note(struct rs_chunk_writer *w, unsigned level, const char *text);
void rs_rec_mark(struct rs_chunk_writer *w, uint64_t time, enum rs_mark_kind kind, const char *label);

struct rs_module_segment {
    uint64_t vaddr;
    uint64_t memsz;
    uint32_t flags;
};
void rs_rec_modules_begin(struct rs_chunk_writer *w, uint64_t generation);
void rs_rec_module(struct rs_chunk_writer *w, const char *path, uint64_t load_bias,
                   const struct rs_module_segment *segs, uint32_t nsegs, const uint8_t *build_id,
                   size_t build_id_len);
void rs_rec_modules_end(struct rs_chunk_writer *w, uint64_t generation);


/* Snapshot records. Nodes and edges are batched: open a batch, add, close. */
void rs_rec_snap_begin(struct rs_chunk_writer *w, uint32_t id, uint64_t time, enum rs_snap_trigger trigger,
                       const char *label);
void rs_rec_snap_type(struct rs_chunk_writer *w, uint32_t type_id, uint64_t type_addr, const char *name,
                      uint32_t flags, uint64_t basicsize, uint64_t itemsize);
void rs_rec_snap_label(struct rs_chunk_writer *w, uint32_t label_id, enum rs_edge_kind kind, const char *text,
                       size_t text_len);
void rs_rec_snap_root(struct rs_chunk_writer *w, uint64_t addr, enum rs_root_kind kind, const char *name);
/* pairs: npairs x (weak reference, its referent), as RS_TAG_SNAP_WEAK has them */
void rs_rec_snap_weak(struct rs_chunk_writer *w, const uint64_t *pairs, size_t npairs);
/* pairs: npairs x (object, the block of its items), as RS_TAG_SNAP_BUFFERS has them */
void rs_rec_snap_buffers(struct rs_chunk_writer *w, const uint64_t *pairs, size_t npairs);
void rs_rec_snap_end(struct rs_chunk_writer *w, uint32_t id, uint64_t nodes, uint64_t edges, uint64_t pause_ns);

struct rs_snap_node {
    uint64_t addr;
    uint32_t type_id;
    uint64_t size;
    uint64_t refcnt;
    uint32_t flags;
    uint32_t preheader;
    const char *label;
    size_t label_len;
};

/* A batch record (SNAP_NODES or SNAP_EDGES) being filled: its count is patched at close. */
struct rs_snap_batch {
    size_t record_at;
    size_t count_at;
    uint64_t count;
    uint64_t last_addr;
    /* edges: the source being filled */
    size_t targets_count_at;
    uint64_t targets;
    uint64_t last_target;
};

void rs_snap_nodes_open(struct rs_chunk_writer *w, struct rs_snap_batch *b);
void rs_snap_node(struct rs_chunk_writer *w, struct rs_snap_batch *b, const struct rs_snap_node *n);
void rs_snap_edges_open(struct rs_chunk_writer *w, struct rs_snap_batch *b);
void rs_snap_edge_source(struct rs_chunk_writer *w, struct rs_snap_batch *b, uint64_t source);
void rs_snap_edge(struct rs_chunk_writer *w, struct rs_snap_batch *b, uint64_t target, uint64_t label);
/* Closes a batch; an empty one is removed. */
void rs_snap_batch_close(struct rs_chunk_writer *w, struct rs_snap_batch *b);

#endif
