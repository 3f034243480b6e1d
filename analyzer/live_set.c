#include "live_set.h"

#include "rs_trace_format.h"

#include <stdlib.h>
#include <string.h>

/* Replay order is close to address order: blocks of one 4 kB page get neighbouring buckets
 * (at a place hashed from the page), so consecutive lookups share cache lines. Every
 * HASH_ macro on these tables is in this file, so they all agree on it. */
#undef HASH_FUNCTION
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = addr_hash(keyptr))

static unsigned addr_hash(const void *key)
{
    uint64_t a;
    memcpy(&a, key, sizeof a);
    uint64_t page = a >> 12;
    page ^= page >> 31;
    return (unsigned)((page * UINT64_C(0x9E3779B97F4A7C15)) >> 24) + (unsigned)((a >> 4) & 255);
}

static uint64_t end_of(uint64_t addr, uint64_t len)
{
    return addr + len < addr ? UINT64_MAX : addr + len;
}

struct rs_live_block *rs_live_find(const struct rs_live_set *s, uint64_t addr)
{
    struct rs_live_block *b = NULL;
    HASH_FIND(hh, s->by_addr, &addr, sizeof addr, b);
    return b;
}

static void link_block(struct rs_live_set *s, struct rs_live_block *b)
{
    HASH_ADD(hh, s->by_addr, addr, sizeof b->addr, b);
    if (b->kind == RS_ALLOC_MMAP)
        HASH_ADD(mm, s->mmaps, addr, sizeof b->addr, b);
    s->bytes += b->bytes;
    s->blocks += b->count;
    if (b->kind == RS_ALLOC_PY_OBJ || b->kind == RS_ALLOC_PY_MEM)
        s->py_bytes += b->bytes;
}

static void unlink_block(struct rs_live_set *s, struct rs_live_block *b)
{
    HASH_DELETE(hh, s->by_addr, b);
    if (b->kind == RS_ALLOC_MMAP)
        HASH_DELETE(mm, s->mmaps, b);
    s->bytes -= b->bytes;
    s->blocks -= b->count;
    if (b->kind == RS_ALLOC_PY_OBJ || b->kind == RS_ALLOC_PY_MEM)
        s->py_bytes -= b->bytes;
}

bool rs_live_add(struct rs_live_set *s, const struct rs_live_block *proto)
{
    struct rs_live_block *old = rs_live_find(s, proto->addr);
    if (old)
        rs_live_remove(s, old);
    struct rs_live_block *b = malloc(sizeof *b);
    if (!b)
        return false;
    *b = *proto;
    link_block(s, b);
    return true;
}

void rs_live_remove(struct rs_live_set *s, struct rs_live_block *b)
{
    unlink_block(s, b);
    free(b);
}

/* A piece of a sampled region stands for the same share of the sample's bytes. */
static uint64_t scaled(uint64_t bytes, uint64_t part, uint64_t whole)
{
    if (whole == 0 || bytes == whole)
        return part;
    return (uint64_t)((unsigned __int128)bytes * part / whole);
}

bool rs_live_overlaps_mmap(const struct rs_live_set *s, uint64_t addr, uint64_t len)
{
    uint64_t lo = addr, hi = end_of(addr, len);
    for (const struct rs_live_block *b = s->mmaps; b; b = b->mm.next) {
        if (b->addr < hi && lo < end_of(b->addr, b->size))
            return true;
    }
    return false;
}

static bool unmap_one(struct rs_live_set *s, struct rs_live_block *b, uint64_t lo, uint64_t hi,
                      uint64_t *released)
{
    uint64_t a = b->addr, e = end_of(b->addr, b->size);
    struct rs_live_block keep = *b;
    rs_live_remove(s, b);
    uint64_t kept = 0;
    if (a < lo) { /* the head stays, at the same address */
        struct rs_live_block head = keep;
        head.size = lo - a;
        head.bytes = scaled(keep.bytes, head.size, keep.size);
        if (!rs_live_add(s, &head))
            return false;
        kept += head.bytes;
    }
    if (hi < e) { /* the tail stays, from the end of the hole */
        struct rs_live_block tail = keep;
        tail.addr = hi;
        tail.size = e - hi;
        tail.bytes = scaled(keep.bytes, tail.size, keep.size);
        if (!rs_live_add(s, &tail))
            return false;
        kept += tail.bytes;
    }
    *released += keep.bytes > kept ? keep.bytes - kept : 0;
    return true;
}

bool rs_live_unmap(struct rs_live_set *s, uint64_t addr, uint64_t len, uint64_t *released)
{
    if (len == 0)
        return true;
    uint64_t lo = addr, hi = end_of(addr, len);
    /* Addresses first, blocks after: changing one region may replace another (only in a
     * trace that contradicts itself, but then too without touching freed memory). */
    uint64_t *hits = NULL;
    size_t n = 0, cap = 0;
    for (const struct rs_live_block *b = s->mmaps; b; b = b->mm.next) {
        if (b->addr < hi && lo < end_of(b->addr, b->size)) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                uint64_t *nh = realloc(hits, ncap * sizeof *hits);
                if (!nh) {
                    free(hits);
                    return false;
                }
                hits = nh;
                cap = ncap;
            }
            hits[n++] = b->addr;
        }
    }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        struct rs_live_block *b = rs_live_find(s, hits[i]);
        if (b && b->kind == RS_ALLOC_MMAP && b->addr < hi && lo < end_of(b->addr, b->size))
            ok = unmap_one(s, b, lo, hi, released);
    }
    free(hits);
    return ok;
}

void rs_live_clear(struct rs_live_set *s)
{
    struct rs_live_block *b, *tmp;
    HASH_CLEAR(mm, s->mmaps); /* the second table's own memory; blocks go below */
    HASH_ITER(hh, s->by_addr, b, tmp) {
        HASH_DELETE(hh, s->by_addr, b);
        free(b);
    }
    s->bytes = 0;
    s->blocks = 0;
    s->py_bytes = 0;
}
