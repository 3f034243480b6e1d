/* Where a block's or an object's address goes in the analyzer's address tables (the live
 * set, the sites pass's block table, a snapshot's address index). The addresses of one
 * 4 kB page get one run of 256 slots (512 in the live set and a snapshot's index, below),
 * at a place hashed from the page, in address order: replay order and snapshot order are
 * both close to address order (allocation order), so consecutive lookups share the table's
 * cache lines instead of missing on each, as a fully hashed slot made nearly every probe
 * do. */
#ifndef REFSCOPE_ADDR_HOME_H
#define REFSCOPE_ADDR_HOME_H

#include <stdint.h>

/* A 64-bit hash of the address's page. */
static inline uint64_t rs_page_hash(uint64_t a)
{
    uint64_t page = a >> 12;
    page ^= page >> 31;
    return page * UINT64_C(0x9E3779B97F4A7C15);
}

/* The address's place in its page's run of slots. */
static inline uint64_t rs_place_in_page(uint64_t a)
{
    return (a >> 4) & 255;
}

/* The address's place in its page's run when the run is spread: 512 slots, a granule every
 * other slot. A densely filled page (pymalloc's pools of 16- and 32-byte objects fill every
 * granule) fills at most half of such a run, and the runs of pages whose places overlap
 * interleave; a dense run of 256 filled whole merges with its neighbours into one long
 * cluster once the table is about 2/3 full. */
static inline uint64_t rs_place_spread(uint64_t a)
{
    return rs_place_in_page(a) << 1;
}

/* The home slot in a table of a power-of-two size (mask = size - 1): a snapshot's address
 * index, whose slots are 4 bytes. Its runs are spread: with dense runs, probes of about 35
 * slots at the index's 2/3 (callgrind, report on 1M objects: 10.13G -> 8.19G instructions
 * spread, report 0.68 -> 0.44 s and types 0.12 -> 0.08 s; on 5M objects, whose index is
 * under half full, no change). */
static inline uint64_t rs_addr_home_pow2(uint64_t a, uint64_t mask)
{
    return ((rs_page_hash(a) >> 13) + rs_place_spread(a)) & mask;
}

/* The first slot of the address's page run in a table of cap slots. */
static inline uint64_t rs_run_start(uint64_t a, uint64_t cap)
{
    return (uint64_t)(((unsigned __int128)rs_page_hash(a) * cap) >> 64);
}

/* The home slot in a table of any size over 255 slots: the sites pass's block table, half
 * full, whose runs are dense (spread, its probes were as short and the 5M-object report
 * slower: a run's slots take more cache lines). */
static inline uint64_t rs_addr_home(uint64_t a, uint64_t cap)
{
    uint64_t i = rs_run_start(a, cap) + rs_place_in_page(a);
    return i < cap ? i : i - cap;
}

/* The home slot in a table of any size over 511 slots, runs spread: the live set, 2/3 full,
 * where dense runs made a replay walk 17.5 slots a lookup on the 5M-object trace and 21.9
 * on 1M churned Python objects; spread, 7.9 and 3.0, and the reports 2.24 -> 1.92 s and
 * 1.08 -> 0.63 s (medians of 6 and 5 interleaved runs; a native trace of one block reused
 * walks 1 slot either way). */
static inline uint64_t rs_addr_home_spread(uint64_t a, uint64_t cap)
{
    uint64_t i = rs_run_start(a, cap) + rs_place_spread(a);
    return i < cap ? i : i - cap;
}

#endif
