#include "live_set.h"

#include "addr_home.h"
#include "rs_trace_format.h"
#include "rs_uthash.h"
#include "zeroed_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t end_of(uint64_t addr, uint64_t len)
{
    return addr + len < addr ? UINT64_MAX : addr + len;
}

/* meta: in use (bit 31), generation (30), kind (27-29), wide (26), bytes (0-25). */
#define META_IN_USE (UINT32_C(1) << 31)
#define META_GEN (UINT32_C(1) << 30)
#define META_KIND_SHIFT 27
#define META_WIDE (UINT32_C(1) << RS_LIVE_SLOT_BYTES)
#define META_BYTES (META_WIDE - 1)

_Static_assert(RS_TAG_KIND_MASK < 8, "a block's kind fits in meta's 3 bits");

struct rs_live_wide {
    uint64_t addr;
    uint64_t bytes;
    uint32_t count;
    UT_hash_handle hh;
};

static bool in_use(const struct rs_live_slot *b)
{
    return b->meta & META_IN_USE;
}

static bool gen_of(const struct rs_live_slot *b)
{
    return (b->meta & META_GEN) != 0;
}

static uint8_t kind_of(const struct rs_live_slot *b)
{
    return (uint8_t)((b->meta >> META_KIND_SHIFT) & 7);
}

static struct rs_live_wide *wide_of(const struct rs_live_set *s, uint64_t addr)
{
    struct rs_live_wide *w = NULL;
    HASH_FIND(hh, s->wide, &addr, sizeof addr, w);
    return w;
}

static struct rs_live_block view_of(const struct rs_live_set *s, const struct rs_live_slot *b)
{
    struct rs_live_block v = {.addr = b->addr, .group = b->group, .kind = kind_of(b)};
    const struct rs_live_wide *w;
    if (!(b->meta & META_WIDE)) {
        v.bytes = b->meta & META_BYTES;
        v.count = 1;
    } else if ((w = wide_of(s, b->addr)) != NULL) {
        v.bytes = w->bytes;
        v.count = w->count;
    }
    return v;
}

static void forget_wide(struct rs_live_set *s, const struct rs_live_slot *b)
{
    struct rs_live_wide *w;
    if ((b->meta & META_WIDE) && (w = wide_of(s, b->addr)) != NULL) {
        HASH_DEL(s->wide, w);
        free(w);
    }
}

/* The slot holding addr, or the empty slot where it would go. */
static struct rs_live_slot *slot_of(const struct rs_live_set *s, uint64_t addr)
{
    for (uint64_t i = rs_addr_home_spread(addr, s->cap);; i = i + 1 < s->cap ? i + 1 : 0) {
        struct rs_live_slot *b = &s->slots[i];
        if (!in_use(b) || b->addr == addr)
            return b;
    }
}

static struct rs_live_slot *find(const struct rs_live_set *s, uint64_t addr)
{
    if (!s->slots)
        return NULL;
    struct rs_live_slot *b = slot_of(s, addr);
    return in_use(b) ? b : NULL;
}

bool rs_live_has(const struct rs_live_set *s, uint64_t addr)
{
    return find(s, addr) != NULL;
}

/* Empties slot i by backward shift (no tombstones, so lookups stay short). A block of the
 * other generation is waiting to be rehashed by grow: it stays where it is. */
static void take_out(struct rs_live_set *s, uint64_t i)
{
    for (;;) {
        s->slots[i].meta &= ~META_IN_USE;
        uint64_t j = i;
        for (;;) {
            j = j + 1 < s->cap ? j + 1 : 0;
            const struct rs_live_slot *b = &s->slots[j];
            if (!in_use(b))
                return;
            if (gen_of(b) != s->gen)
                continue;
            uint64_t k = rs_addr_home_spread(b->addr, s->cap);
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
#ifdef MADV_HUGEPAGE
    /* The whole mapping, before rs_prefault_write advises the huge pages inside it: advice
     * on part of a mapping splits it in two, and mremap fails (EFAULT) on a range that
     * spans two, which made the first growth report "out of memory". */
    if (!s->slots)
        (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
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
        struct rs_live_slot b = s->slots[i];
        if (!in_use(&b) || gen_of(&b) == s->gen)
            continue;
        take_out(s, i);
        b.meta ^= META_GEN;
        *slot_of(s, b.addr) = b;
    }
    return true;
}

bool rs_live_reserve(struct rs_live_set *s, uint64_t blocks)
{
    if (s->slots || blocks == 0)
        return true;
    return map_slots(s, blocks + blocks / 2 + 4096);
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

/* Drops the block in slot b (in use; v: its view_of), as freed. */
static void remove_slot(struct rs_live_set *s, struct rs_live_slot *b,
                        const struct rs_live_block *v)
{
    count_out(s, v);
    forget_wide(s, b);
    s->used--;
    take_out(s, (uint64_t)(b - s->slots));
}

bool rs_live_add(struct rs_live_set *s, const struct rs_live_block *proto, uint64_t size,
                 bool *replaced)
{
    if ((!s->slots || (s->used + 1) * 4 > s->cap * 3) && !grow(s))
        return false;
    struct rs_live_slot *b = slot_of(s, proto->addr);
    bool was = in_use(b);
    if (replaced)
        *replaced = was;
    if (was) {
        struct rs_live_block old = view_of(s, b);
        count_out(s, &old);
        forget_wide(s, b);
    }
    uint32_t meta = META_IN_USE | (s->gen ? META_GEN : 0) |
                    (uint32_t)(proto->kind & 7) << META_KIND_SHIFT;
    if (proto->count == 1 && proto->bytes <= META_BYTES) {
        meta |= (uint32_t)proto->bytes;
    } else {
        struct rs_live_wide *w = malloc(sizeof *w);
        if (!w) {
            if (was) { /* the old block is gone: its slot must not stay in use */
                s->used--;
                take_out(s, (uint64_t)(b - s->slots));
            }
            return false;
        }
        *w = (struct rs_live_wide){.addr = proto->addr, .bytes = proto->bytes,
                                   .count = proto->count};
        HASH_ADD(hh, s->wide, addr, sizeof w->addr, w);
        meta |= META_WIDE;
    }
    if (!was)
        s->used++;
    *b = (struct rs_live_slot){.addr = proto->addr, .group = proto->group, .meta = meta};
    count_in(s, proto);
    /* out of memory leaves the set short of a region: the caller gives up on it */
    return proto->kind != RS_ALLOC_MMAP || region_add(s, proto->addr, size);
}

bool rs_live_take(struct rs_live_set *s, uint64_t addr, struct rs_live_block *out)
{
    struct rs_live_slot *b = find(s, addr);
    if (!b)
        return false;
    *out = view_of(s, b);
    remove_slot(s, b, out);
    return true;
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

static bool unmap_one(struct rs_live_set *s, struct rs_live_slot *b, uint64_t size,
                      uint64_t lo, uint64_t hi, uint64_t *released)
{
    uint64_t a = b->addr, e = end_of(b->addr, size);
    struct rs_live_block keep = view_of(s, b);
    remove_slot(s, b, &keep);
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
        struct rs_live_slot *b = find(s, hits[i]);
        const struct rs_live_region *r = b && kind_of(b) == RS_ALLOC_MMAP ? region_of(s, hits[i]) : NULL;
        if (r && region_overlaps(r, lo, hi))
            ok = unmap_one(s, b, r->size, lo, hi, released);
    }
    free(hits);
    return ok;
}

void rs_live_clear(struct rs_live_set *s)
{
    struct rs_live_wide *w, *tmp;
    HASH_ITER(hh, s->wide, w, tmp) {
        HASH_DEL(s->wide, w);
        free(w);
    }
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
        return rs_live_has(live, ev->addr);
    case RS_EVENT_MUNMAP:
        return rs_live_overlaps_mmap(live, ev->addr, rs_ev_size(thread, ev));
    default:
        return !rs_live_has(live, ev->addr);
    }
}

_Static_assert(sizeof(struct rs_live_slot) == 16, "a live block is 16 bytes in the table (see live_set.h)");
