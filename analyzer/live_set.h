/* The blocks live at a point of the replay, by address. Anonymous mmap regions are also
 * kept on a list of their own, because munmap works on address ranges, not on blocks. */
#ifndef REFSCOPE_LIVE_SET_H
#define REFSCOPE_LIVE_SET_H

#include "addr_home.h"
#include "trace_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A block as the set's users see it (the table keeps it packed: struct rs_live_slot). */
struct rs_live_block {
    uint64_t addr;
    uint64_t bytes;       /* bytes it stands for: its size, or a sample's weight */
    uint32_t count;       /* blocks it stands for: 1, or a sample's estimate (saturated) */
    uint32_t group;       /* the caller's (the replay's: stack, thread, flags) */
    uint8_t kind;         /* rs_alloc_kind */
};

/* A block in the table: 16 bytes. `meta` holds whether the slot is in use, the growth that
 * placed it (live_set.c grow), the kind, and the bytes when they fit in RS_LIVE_SLOT_BYTES
 * bits and the block stands for one block; any other block is "wide": its bytes and count
 * are in a side table (blocks of 64 MB or more, and samples, are few). */
struct rs_live_slot {
    uint64_t addr;
    uint32_t group;
    uint32_t meta;
};
#define RS_LIVE_SLOT_BYTES 26

/* Told of every block the set counts in (in) or out (replaced, freed, unmapped, or a piece
 * of a mapping put back). */
typedef void rs_live_account_fn(void *arg, const struct rs_live_block *b, bool in);

struct rs_live_region {
    uint64_t addr, size;
};

struct rs_live_wide; /* live_set.c */

/* Open addressing with the blocks in the slots: a lookup is one or two cache lines, where
 * a chained table of separately allocated blocks missed two or three times (half of
 * `refscope report`'s time on a million live blocks). With ten million live blocks the
 * table is most of the report's memory, and its first touch most of the report's system
 * time, so a slot is 16 bytes (a block's time, stack and thread are not kept: an mmap
 * region's size is on the region list, and the replay counts blocks by group as they come
 * and go; 32-byte slots took 640 MB for the 5M-object benchmark), the table is at most 3/4
 * full and grows by half in place (live_set.c grow), never holding an old and a new table
 * at once. A zeroed set is empty. */
struct rs_live_set {
    struct rs_live_slot *slots;   /* an anonymous mapping of map_bytes */
    uint64_t cap;
    uint64_t used;
    size_t map_bytes;
    bool gen;                     /* of the blocks placed since the last growth */
    struct rs_live_wide *wide;    /* bytes and count of the wide blocks, by address */
    rs_live_account_fn *account;  /* may be NULL */
    void *account_arg;
    struct rs_live_region *mmaps; /* the RS_ALLOC_MMAP blocks' ranges, in no order */
    size_t nmmaps, mmaps_cap;
    uint64_t bytes;     /* sum of `bytes` (modulo 2^64: absurd sizes wrap, they do not trap) */
    uint64_t blocks;    /* sum of `count` */
    uint64_t py_bytes;  /* of `bytes`, the Python domains' (RS_ALLOC_PY_OBJ, RS_ALLOC_PY_MEM) */
};

/* The block an allocation event of thread th makes, standing for itself (a sample's
 * weight and count are the caller's to set). */
static inline struct rs_live_block rs_live_block_of(const struct rs_trace_event *ev,
                                                    const struct rs_trace_thread *th)
{
    return (struct rs_live_block){
        .addr = ev->addr,
        .bytes = rs_ev_size(th, ev),
        .count = 1,
        .kind = rs_ev_kind(ev),
    };
}

/* A hint that addr will be looked up soon (see rs_merge_ahead). Always inlined: GCC finds
 * a function that only prefetches free of side effects and drops its calls. */
__attribute__((always_inline)) static inline void rs_live_prefetch(const struct rs_live_set *s,
                                                                   uint64_t addr)
{
    if (s->slots)
        __builtin_prefetch(&s->slots[rs_addr_home_spread(addr, s->cap)]);
}

/* Room for `blocks` blocks with the table 2/3 full, in an empty set (a set already in use
 * is left as it is). Growing rehashes every block, again at each step: a replay that
 * knows about how many blocks it will hold at most sizes the table once. Not the 3/4 that
 * triggers growth: the runs of slots of neighbouring pages (addr_home.h) merge into long
 * clusters in a fuller table, 28 slots walked per lookup on average at 3/4 (7 at 1/2) in a
 * replay of 20M events, 5.25 -> 4.58 s for the report (runs of 256 slots then; spread runs
 * walk 7.9 at 2/3). Not half full either: the report
 * replays beside its snapshot analysis (report.c), and on the 5M-object benchmark the two
 * peaked at 2.01 times the trace with the table half full, 1.95 at 2/3, the replay as fast
 * (2.07 s against 1.99 s, 7 runs: more slots walked, fewer pages to clear). False when out
 * of memory. */
bool rs_live_reserve(struct rs_live_set *s, uint64_t blocks);

/* Whether a block lives at addr. */
bool rs_live_has(const struct rs_live_set *s, uint64_t addr);
/* Adds a copy of `b`; a block already at that address is dropped first (and *replaced,
 * when not NULL, says so). `size` is the block's real size, kept only for an mmap region.
 * False when out of memory. */
bool rs_live_add(struct rs_live_set *s, const struct rs_live_block *b, uint64_t size,
                 bool *replaced);
/* Removes the block at addr into *out (its free). False when none lives there. */
bool rs_live_take(struct rs_live_set *s, uint64_t addr, struct rs_live_block *out);
/* Releases [addr, addr + len) from the live mmap regions, shrinking, splitting or removing
 * the ones it overlaps. Adds the bytes released to *released. False when out of memory. */
bool rs_live_unmap(struct rs_live_set *s, uint64_t addr, uint64_t len, uint64_t *released);
bool rs_live_overlaps_mmap(const struct rs_live_set *s, uint64_t addr, uint64_t len);
void rs_live_clear(struct rs_live_set *s);
/* The merge's tie-break (rs_merge_prefer_fn, arg: the live set) for replays of the live set:
 * of events at the same instant, the one that fits the state goes first (a free of a live
 * block, an allocation at a free address). */
bool rs_live_prefer(const struct rs_trace_event *ev, const struct rs_trace_thread *thread,
                    void *arg);

#endif
