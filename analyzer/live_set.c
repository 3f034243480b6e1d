#include "live_set.h"

#include "addr_home.h"
#include "rs_trace_format.h"
#include "zeroed_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t end_of(uint64_t addr, uint64_t len)
{
    return addr + len < addr ? UINT64_MAX : addr + len;
}

/* The slot holding addr, or the empty slot where it would go. */
static struct rs_live_block *slot_of(const struct rs_live_set *s, uint64_t addr)
{
    for (uint64_t i = rs_addr_home(addr, s->cap);; i = i + 1 < s->cap ? i + 1 : 0) {
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

/* Empties slot i by backward shift (no tombstones, so lookups stay short). A block of the
 * other generation is waiting to be rehashed by grow: it stays where it is. */
static void take_out(struct rs_live_set *s, uint64_t i)
{
    for (;;) {
        s->slots[i].in_use = false;
        uint64_t j = i;
        for (;;) {
            j = j + 1 < s->cap ? j + 1 : 0;
            const struct rs_live_block *b = &s->slots[j];
            if (!b->in_use)
                return;
            if (b->gen != s->gen)
                continue;
            uint64_t k = rs_addr_home(b->addr, s->cap);
            /* Can slot j's block move to i? Only if its home k is not in (i, j]. */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            s->slots[i] = *b;
            i = j;
            break;
        }
    }
}

/* The table's mapping made cap slots long (mremap moves pages, it copies nothing); the new
 * slots are empty. */
static bool map_slots(struct rs_live_set *s, uint64_t cap)
{
    if (cap > SIZE_MAX / sizeof *s->slots)
        return false;
    size_t bytes = (size_t)cap * sizeof *s->slots;
    void *p = s->slots ? mremap(s->slots, s->map_bytes, bytes, MREMAP_MAYMOVE)
                       : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
    if (p == MAP_FAILED)
        return false;
    rs_prefault_write((char *)p + s->map_bytes, bytes - s->map_bytes);
    s->slots = p;
    s->cap = cap;
    s->map_bytes = bytes;
    return true;
}

/* Grows the table by half in place: mremap extends the mapping (moving pages, not copying
 * them), then every block of the old generation is taken out and put back at its place in
 * the larger table. Blocks not yet rehashed keep their slots (take_out leaves them), so the
 * table never exists twice: at ten million blocks that was 800 MB beside 400 MB. */
static bool grow(struct rs_live_set *s)
{
    uint64_t old = s->cap;
    if (!map_slots(s, old ? old + old / 2 : 4096))
        return false;
    s->gen = !s->gen;
    /* From the top down: a block's place in the larger table is about half as far again
     * from the start, above its old slot, so going up would pack the slots not yet visited
     * full and make every take_out there run to the end of one huge cluster. */
    for (uint64_t i = old; i-- > 0;) {
        struct rs_live_block b = s->slots[i];
        if (!b.in_use || b.gen == s->gen)
            continue;
        take_out(s, i);
        b.gen = s->gen;
        *slot_of(s, b.addr) = b;
    }
    return true;
}

bool rs_live_reserve(struct rs_live_set *s, uint64_t blocks)
{
    if (s->slots || blocks == 0)
        return true;
    return map_slots(s, blocks * 2 + 4096);
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

static const struct rs_live_region *region_of(const struct rs_live_set *s, uint64_t addr)
{
    for (size_t i = 0; i < s->nmmaps; i++)
        if (s->mmaps[i].addr == addr)
            return &s->mmaps[i];
    return NULL;
}

static void region_remove(struct rs_live_set *s, uint64_t addr)
{
    const struct rs_live_region *r = region_of(s, addr);
    if (r)
        s->mmaps[r - s->mmaps] = s->mmaps[--s->nmmaps];
}

/* Does region r overlap [lo, hi)? */
static bool region_overlaps(const struct rs_live_region *r, uint64_t lo, uint64_t hi)
{
    return r->addr < hi && lo < end_of(r->addr, r->size);
}

static void count_in(struct rs_live_set *s, const struct rs_live_block *b)
{
    if (s->account)
        s->account(s->account_arg, b, true);
    s->bytes += b->bytes;
    s->blocks += b->count;
    if (b->kind == RS_ALLOC_PY_OBJ || b->kind == RS_ALLOC_PY_MEM)
        s->py_bytes += b->bytes;
}

static void count_out(struct rs_live_set *s, const struct rs_live_block *b)
{
    if (s->account)
        s->account(s->account_arg, b, false);
    s->bytes -= b->bytes;
    s->blocks -= b->count;
    if (b->kind == RS_ALLOC_PY_OBJ || b->kind == RS_ALLOC_PY_MEM)
        s->py_bytes -= b->bytes;
    if (b->kind == RS_ALLOC_MMAP)
        region_remove(s, b->addr);
}

bool rs_live_add(struct rs_live_set *s, const struct rs_live_block *proto, uint64_t size,
                 bool *replaced)
{
    if ((!s->slots || (s->used + 1) * 4 > s->cap * 3) && !grow(s))
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
    b->gen = s->gen;
    count_in(s, b);
    /* out of memory leaves the set short of a region: the caller gives up on it */
    return b->kind != RS_ALLOC_MMAP || region_add(s, b->addr, size);
}

void rs_live_remove(struct rs_live_set *s, struct rs_live_block *b)
{
    count_out(s, b);
    s->used--;
    take_out(s, (uint64_t)(b - s->slots));
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
        if (region_overlaps(&s->mmaps[i], lo, hi))
            return true;
    return false;
}

static bool unmap_one(struct rs_live_set *s, struct rs_live_block *b, uint64_t size,
                      uint64_t lo, uint64_t hi, uint64_t *released)
{
    uint64_t a = b->addr, e = end_of(b->addr, size);
    struct rs_live_block keep = *b;
    rs_live_remove(s, b);
    uint64_t kept = 0;
    if (a < lo) { /* the head stays, at the same address */
        struct rs_live_block head = keep;
        head.bytes = scaled(keep.bytes, lo - a, size);
        if (!rs_live_add(s, &head, lo - a, NULL))
            return false;
        kept += head.bytes;
    }
    if (hi < e) { /* the tail stays, from the end of the hole */
        struct rs_live_block tail = keep;
        tail.addr = hi;
        tail.bytes = scaled(keep.bytes, e - hi, size);
        if (!rs_live_add(s, &tail, e - hi, NULL))
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
    /* Regions first, blocks after: changing one region may replace another (only in a
     * trace that contradicts itself, but then too without touching freed memory). */
    uint64_t *hits = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < s->nmmaps; i++) {
        const struct rs_live_region *r = &s->mmaps[i];
        if (region_overlaps(r, lo, hi)) {
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
        const struct rs_live_region *r = b && b->kind == RS_ALLOC_MMAP ? region_of(s, hits[i]) : NULL;
        if (r && region_overlaps(r, lo, hi))
            ok = unmap_one(s, b, r->size, lo, hi, released);
    }
    free(hits);
    return ok;
}

void rs_live_clear(struct rs_live_set *s)
{
    if (s->slots)
        munmap(s->slots, s->map_bytes);
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

_Static_assert(sizeof(struct rs_live_block) == 32, "a live block is 32 bytes (see live_set.h)");
