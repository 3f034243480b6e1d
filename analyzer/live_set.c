#include "live_set.h"

#include "addr_home.h"
#include "rs_trace_format.h"

#include <stdlib.h>
#include <string.h>

static uint64_t end_of(uint64_t addr, uint64_t len)
{
    return addr + len < addr ? UINT64_MAX : addr + len;
}

/* The slot holding addr, or the empty slot where it would go. */
static struct rs_live_block *slot_of(const struct rs_live_set *s, uint64_t addr)
{
    for (uint64_t i = rs_addr_home_pow2(addr, s->mask);; i = (i + 1) & s->mask) {
        struct rs_live_block *b = &s->slots[i];
        if (!b->in_use || b->addr == addr)
            return b;
    }
}

struct rs_live_block *rs_live_find(const struct rs_live_set *s, uint64_t addr)
{
    if (!s->slots)
        return NULL;
    struct rs_live_block *b = slot_of(s, addr);
    return b->in_use ? b : NULL;
}

static bool grow(struct rs_live_set *s)
{
    uint64_t cap = s->slots ? (s->mask + 1) * 2 : 4096;
    struct rs_live_block *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    struct rs_live_set bigger = {.slots = slots, .mask = cap - 1};
    for (uint64_t i = 0; s->slots && i <= s->mask; i++)
        if (s->slots[i].in_use)
            *slot_of(&bigger, s->slots[i].addr) = s->slots[i];
    free(s->slots);
    s->slots = slots;
    s->mask = cap - 1;
    return true;
}

static bool region_add(struct rs_live_set *s, uint64_t addr, uint64_t size)
{
    if (s->nmmaps == s->mmaps_cap) {
        size_t cap = s->mmaps_cap ? s->mmaps_cap * 2 : 16;
        struct rs_live_region *r = realloc(s->mmaps, cap * sizeof *r);
        if (!r)
            return false;
        s->mmaps = r;
        s->mmaps_cap = cap;
    }
    s->mmaps[s->nmmaps++] = (struct rs_live_region){addr, size};
    return true;
}

static void region_remove(struct rs_live_set *s, uint64_t addr)
{
    for (size_t i = 0; i < s->nmmaps; i++) {
        if (s->mmaps[i].addr == addr) {
            s->mmaps[i] = s->mmaps[--s->nmmaps];
            return;
        }
    }
}

static void count_in(struct rs_live_set *s, const struct rs_live_block *b)
{
    s->bytes += b->bytes;
    s->blocks += b->count;
    if (b->kind == RS_ALLOC_PY_OBJ || b->kind == RS_ALLOC_PY_MEM)
        s->py_bytes += b->bytes;
}

static void count_out(struct rs_live_set *s, const struct rs_live_block *b)
{
    s->bytes -= b->bytes;
    s->blocks -= b->count;
    if (b->kind == RS_ALLOC_PY_OBJ || b->kind == RS_ALLOC_PY_MEM)
        s->py_bytes -= b->bytes;
    if (b->kind == RS_ALLOC_MMAP)
        region_remove(s, b->addr);
}

bool rs_live_add(struct rs_live_set *s, const struct rs_live_block *proto, bool *replaced)
{
    if ((!s->slots || (s->used + 1) * 10 > (s->mask + 1) * 7) && !grow(s))
        return false;
    struct rs_live_block *b = slot_of(s, proto->addr);
    if (replaced)
        *replaced = b->in_use;
    if (b->in_use)
        count_out(s, b);
    else
        s->used++;
    *b = *proto;
    b->in_use = true;
    count_in(s, b);
    /* out of memory leaves the set short of a region: the caller gives up on it */
    return b->kind != RS_ALLOC_MMAP || region_add(s, b->addr, b->size);
}

/* Deletion with backward shift: no tombstones, so lookups stay short. */
void rs_live_remove(struct rs_live_set *s, struct rs_live_block *b)
{
    count_out(s, b);
    s->used--;
    uint64_t i = (uint64_t)(b - s->slots);
    for (;;) {
        s->slots[i].in_use = false;
        uint64_t j = i;
        for (;;) {
            j = (j + 1) & s->mask;
            if (!s->slots[j].in_use)
                return;
            uint64_t k = rs_addr_home_pow2(s->slots[j].addr, s->mask);
            /* Can slot j's block move to i? Only if its home k is not in (i, j]. */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            s->slots[i] = s->slots[j];
            i = j;
            break;
        }
    }
}

struct rs_live_block *rs_live_next(const struct rs_live_set *s, const struct rs_live_block *prev)
{
    if (!s->slots)
        return NULL;
    for (uint64_t i = prev ? (uint64_t)(prev - s->slots) + 1 : 0; i <= s->mask; i++)
        if (s->slots[i].in_use)
            return &s->slots[i];
    return NULL;
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
    for (size_t i = 0; i < s->nmmaps; i++)
        if (s->mmaps[i].addr < hi && lo < end_of(s->mmaps[i].addr, s->mmaps[i].size))
            return true;
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
        if (!rs_live_add(s, &head, NULL))
            return false;
        kept += head.bytes;
    }
    if (hi < e) { /* the tail stays, from the end of the hole */
        struct rs_live_block tail = keep;
        tail.addr = hi;
        tail.size = e - hi;
        tail.bytes = scaled(keep.bytes, tail.size, keep.size);
        if (!rs_live_add(s, &tail, NULL))
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
    for (size_t i = 0; i < s->nmmaps; i++) {
        const struct rs_live_region *r = &s->mmaps[i];
        if (r->addr < hi && lo < end_of(r->addr, r->size)) {
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
            hits[n++] = r->addr;
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

void rs_live_reset(struct rs_live_set *s)
{
    if (s->slots)
        memset(s->slots, 0, (s->mask + 1) * sizeof *s->slots);
    s->used = 0;
    s->nmmaps = 0;
    s->bytes = s->blocks = s->py_bytes = 0;
}

void rs_live_clear(struct rs_live_set *s)
{
    free(s->slots);
    free(s->mmaps);
    memset(s, 0, sizeof *s);
}

bool rs_live_prefer(const struct rs_trace_event *ev, const struct rs_trace_thread *thread,
                    void *arg)
{
    const struct rs_live_set *live = arg;
    switch (rs_ev_type(ev)) {
    case RS_EVENT_FREE:
        return rs_live_find(live, ev->addr) != NULL;
    case RS_EVENT_MUNMAP:
        return rs_live_overlaps_mmap(live, ev->addr, rs_ev_size(thread, ev));
    default:
        return rs_live_find(live, ev->addr) == NULL;
    }
}

_Static_assert(sizeof(struct rs_live_block) == 48, "a live block is 48 bytes (see live_set.h)");
