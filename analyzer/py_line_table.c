/* Each decoder follows what PyCode_Addr2Line of the table's CPython versions does with it
 * (Objects/codeobject.c), so that a line found here is the line the shim would have asked
 * the interpreter for. */
#include "py_line_table.h"

#include "rs_trace_format.h"
#include "trace_model.h"

#include <stdbool.h>
#include <stdlib.h>

struct ranges {
    struct rs_py_line_range *v;
    size_t n, cap;
};

static int32_t line_value(int64_t line)
{
    return line > 0 && line <= INT32_MAX ? (int32_t)line : 0;
}

/* Offsets up to `end` (exclusive) are on `line`; an empty range adds nothing. */
static int put(struct ranges *r, uint64_t end, int64_t line)
{
    if (end > UINT32_MAX)
        return -1;
    if (end <= (r->n ? r->v[r->n - 1].end : 0))
        return 0;
    if (!rs_grow((void **)&r->v, &r->cap, r->n, sizeof *r->v))
        return -2;
    r->v[r->n++] = (struct rs_py_line_range){(uint32_t)end, line_value(line)};
    return 0;
}

/* 3.8-3.9: the line of an offset is the first line plus the deltas of every pair whose
 * address, summed from 0, is at or below it; past the table, the last line. */
static int decode_lnotab(struct ranges *r, const uint8_t *t, size_t len, int64_t line)
{
    uint64_t addr = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint64_t next = addr + t[i];
        int rc = put(r, next, line);
        if (rc)
            return rc;
        addr = next;
        line += (int8_t)t[i + 1];
    }
    return put(r, UINT32_MAX, line);
}

/* 3.10: each pair is a range of bytes and its line delta (-128: the range has no line,
 * the running line unchanged); empty ranges only move the line. Past the table, no line. */
static int decode_pairs(struct ranges *r, const uint8_t *t, size_t len, int64_t line)
{
    if (len % 2)
        return -1;
    uint64_t end = 0;
    for (size_t i = 0; i < len; i += 2) {
        end += t[i];
        int8_t delta = (int8_t)t[i + 1];
        bool none = delta == -128;
        if (!none)
            line += delta;
        int rc = put(r, end, none ? 0 : line);
        if (rc)
            return rc;
    }
    return 0;
}

/* The 6-bit groups of a location-table varint at t[*i]; -1 when it runs past the entry. */
static int64_t read_varint(const uint8_t *t, size_t len, size_t *i)
{
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 36; shift += 6) {
        if (*i >= len || (shift && t[*i] & 128))
            return -1;
        uint8_t b = t[(*i)++];
        value |= (uint64_t)(b & 63) << shift;
        if (!(b & 64))
            return (int64_t)value;
    }
    return -1;
}

/* 3.11+: an entry starts with a byte with its top bit set: bits 3-6 its code, bits 0-2 its
 * length in code units, less one. Codes 13 and 14 carry a signed varint line delta, 10-12
 * a delta of 0-2, 15 means no line (the running line unchanged); the rest stay on the
 * line. Column bytes follow, which the line does not need. Past the table, no line. */
static int decode_locations(struct ranges *r, const uint8_t *t, size_t len, int64_t line)
{
    uint64_t end = 0;
    size_t i = 0;
    while (i < len) {
        uint8_t head = t[i++];
        if (!(head & 128))
            return -1;
        unsigned code = (head >> 3) & 15;
        if (code == 13 || code == 14) {
            int64_t v = read_varint(t, len, &i);
            if (v < 0)
                return -1;
            line += v & 1 ? -(v >> 1) : v >> 1;
        } else if (code >= 10 && code <= 12) {
            line += code - 10;
        }
        end += ((head & 7) + 1) * 2;
        int rc = put(r, end, code == 15 ? 0 : line);
        if (rc)
            return rc;
        while (i < len && !(t[i] & 128))
            i++;
    }
    return 0;
}

int rs_py_line_table_decode(uint64_t format, const uint8_t *table, size_t len,
                            uint64_t first_line, struct rs_py_line_range **ranges, uint32_t *n)
{
    *ranges = NULL;
    *n = 0;
    if (format == RS_PY_LINES_NONE)
        return 0;
    if (first_line > INT32_MAX)
        return -1;
    struct ranges r = {0};
    int rc;
    switch (format) {
    case RS_PY_LINES_LNOTAB: rc = decode_lnotab(&r, table, len, (int64_t)first_line); break;
    case RS_PY_LINES_PAIRS: rc = decode_pairs(&r, table, len, (int64_t)first_line); break;
    case RS_PY_LINES_LOCATIONS: rc = decode_locations(&r, table, len, (int64_t)first_line); break;
    default: return -1;
    }
    if (rc) {
        free(r.v);
        return rc;
    }
    *ranges = r.v;
    *n = (uint32_t)r.n; /* a range a byte of the table at most; a record bounds the table */
    return 0;
}

uint32_t rs_py_line_at(const struct rs_py_line_range *ranges, uint32_t n, uint64_t offset)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ranges[mid].end > offset)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < n ? (uint32_t)ranges[lo].line : 0;
}
