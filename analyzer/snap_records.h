/* Decoders of the snapshot records (RS_TAG_SNAP_*) for the record table: they index where
 * each snapshot's records are (snap_index.h); the records themselves are decoded later. */
#ifndef REFSCOPE_SNAP_RECORDS_H
#define REFSCOPE_SNAP_RECORDS_H

#include "trace_records.h"

int rs_decode_snap_begin(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                         const char **why);
int rs_decode_snap_content(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                           const char **why);
int rs_decode_snap_end(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                       const char **why);

#endif
