/* Where a block's or an object's address goes in the analyzer's address tables (the live
 * set, the sites pass's block table, a snapshot's address index). The addresses of one
 * 4 kB page get one run of 256 slots (512 in a snapshot's index, below), at a place hashed
 * from the page, in address order: replay order and snapshot order are both close to
 * address order (allocation order), so consecutive lookups share the table's cache lines
 * instead of missing on each, as a fully hashed slot made nearly every probe do. */
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

/* The home slot in a table of a power-of-two size (mask = size - 1): a snapshot's address
 * index, whose slots are 4 bytes. Its page runs are 512 slots, a granule every other slot:
 * with 256 the runs of densely filled pages merged into long clusters at the index's 2/3
 * (probes of about 35 slots; callgrind, report on 1M objects: 10.13G -> 8.19G instructions
 * at 512, report 0.68 -> 0.44 s and types 0.12 -> 0.08 s; on 5M objects, whose index is
 * under half full, no change). Spreading the 16-byte-slot tables the same way cut their
 * instructions too, but made the 5M report slower (more cache lines per run). */
static inline uint64_t rs_addr_home_pow2(uint64_t a, uint64_t mask)
{
    return ((rs_page_hash(a) >> 13) + (rs_place_in_page(a) << 1)) & mask;
}

/* The home slot in a table of any size. */
static inline uint64_t rs_addr_home(uint64_t a, uint64_t cap)
{
    uint64_t run = (uint64_t)(((unsigned __int128)rs_page_hash(a) * cap) >> 64);
    uint64_t i = run + rs_place_in_page(a);
    return i < cap ? i : i - cap;
}

#endif
