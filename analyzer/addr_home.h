/* Where a block's or an object's address goes in the analyzer's address tables (the live
 * set, the sites pass's block table, a snapshot's address index). The addresses of one
 * 4 kB page get one run of 256 slots, at a place hashed from the page, in address order:
 * replay order and snapshot order are both close to address order (allocation order), so
 * consecutive lookups share the table's cache lines instead of missing on each, as a fully
 * hashed slot made nearly every probe do. */
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

/* The home slot in a table of a power-of-two size (mask = size - 1). */
static inline uint64_t rs_addr_home_pow2(uint64_t a, uint64_t mask)
{
    return ((rs_page_hash(a) >> 13) + rs_place_in_page(a)) & mask;
}

/* The home slot in a table of any size. */
static inline uint64_t rs_addr_home(uint64_t a, uint64_t cap)
{
    uint64_t run = (uint64_t)(((unsigned __int128)rs_page_hash(a) * cap) >> 64);
    uint64_t i = run + rs_place_in_page(a);
    return i < cap ? i : i - cap;
}

#endif
