/* Builds trace files in memory with the common encoder, the way the shim writes them, and
 * remembers where each chunk starts and ends so tests can cut and damage them precisely. */
#ifndef REFSCOPE_TRACE_BUILDER_H
#define REFSCOPE_TRACE_BUILDER_H

#include "rs_trace_encode.h"

#define TB_MAX_CHUNKS 256

struct tb {
    struct rs_buf buf;
    struct rs_chunk_writer w;
    uint32_t seq;
    size_t header_end;
    size_t chunk_start[TB_MAX_CHUNKS];
    size_t chunk_end[TB_MAX_CHUNKS];
    size_t chunk_events[TB_MAX_CHUNKS]; /* event records in each chunk, as told by callers */
    size_t nchunks;
};

void tb_init(struct tb *b);
void tb_free(struct tb *b);
/* A file header with typical fields (pid 4242, ppid 4241, exe /usr/bin/prog...). */
void tb_default_header(struct tb *b);
/* A file header with the given TLV body. */
void tb_header(struct tb *b, const struct rs_buf *fields);
void tb_chunk(struct tb *b, uint32_t tid, uint64_t base_time);
void tb_chunk_end(struct tb *b, size_t events);
/* A growable buffer for header fields. */
void tb_fields_init(struct rs_buf *fields);
void tb_fields_free(struct rs_buf *fields);
/* Writes the trace to a new temporary file; returns its path (caller frees and unlinks). */
char *tb_write_temp(const uint8_t *data, size_t len);

#endif
