/* A bounded read position over bytes from a trace file. Every read checks the bound, so
 * decoders built on it cannot run past a record, a chunk or the file, whatever the bytes
 * say. */
#ifndef REFSCOPE_DECODE_CURSOR_H
#define REFSCOPE_DECODE_CURSOR_H

#include "rs_trace_format.h"

#include <stdbool.h>

struct rs_cursor {
    const uint8_t *p;
    const uint8_t *end;
};

static inline size_t rs_cur_left(const struct rs_cursor *c)
{
    return (size_t)(c->end - c->p);
}

static inline bool rs_cur_varint(struct rs_cursor *c, uint64_t *v)
{
    return rs_get_varint(&c->p, c->end, v) == 0;
}

/* Ids, tids and the like are 32-bit in the writer: a larger value can only be damage. */
static inline bool rs_cur_u32(struct rs_cursor *c, uint32_t *v)
{
    uint64_t x;
    if (!rs_cur_varint(c, &x) || x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

/* A varint length, then that many bytes, which must all be inside the cursor. */
static inline bool rs_cur_bytes(struct rs_cursor *c, const uint8_t **bytes, size_t *len)
{
    uint64_t n;
    if (!rs_cur_varint(c, &n) || n > rs_cur_left(c))
        return false;
    *bytes = c->p;
    *len = (size_t)n;
    c->p += n;
    return true;
}

#endif
