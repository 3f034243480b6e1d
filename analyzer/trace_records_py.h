/* Decoders of the Python records (RS_TAG_PY_*), plugged into trace_records.c's table. */
#ifndef REFSCOPE_TRACE_RECORDS_PY_H
#define REFSCOPE_TRACE_RECORDS_PY_H

#include "trace_records.h"

int rs_decode_py_interp(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                        const char **why);
int rs_decode_py_code(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                      const char **why);
int rs_decode_py_line(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                      const char **why);

#endif
