#include "owned_blocks.h"

#define OWNED_SLOTS (1u << 16) /* live shim blocks are few: a couple per thread */
#define EMPTY 0u
#define TOMB 1u

RS_HIDDEN _Atomic uint32_t rs_owned_count;
RS_HIDDEN _Atomic uint8_t rs_owned_filter[1u << RS_OWNED_FILTER_BITS];
static _Atomic uintptr_t owned[OWNED_SLOTS];

static inline uint32_t slot_of(uintptr_t p)
{
    return (uint32_t)((p >> 4) * 0x9e3779b97f4a7c15u >> 48) & (OWNED_SLOTS - 1);
}

void rs_owned_add(const void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    rs_filter_add(rs_owned_filter, rs_filter_bucket(ptr, RS_OWNED_FILTER_BITS));
    for (uint32_t i = slot_of(p), n = 0; n < OWNED_SLOTS; n++, i = (i + 1) & (OWNED_SLOTS - 1)) {
        /* claimed without a read first: the table is .bss, and a read of a page never
         * written maps the zero page (rs_sys_map_touched says what that costs) */
        uintptr_t seen = EMPTY;
        if (atomic_compare_exchange_strong(&owned[i], &seen, p) ||
            (seen == TOMB && atomic_compare_exchange_strong(&owned[i], &seen, p))) {
            atomic_fetch_add(&rs_owned_count, 1);
            return;
        }
    }
    /* Full: the block's eventual free is then recorded as a free of an unknown block. */
}

bool rs_owned_remove_slow(const void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    for (uint32_t i = slot_of(p), n = 0; n < OWNED_SLOTS; n++, i = (i + 1) & (OWNED_SLOTS - 1)) {
        uintptr_t seen = atomic_load_explicit(&owned[i], memory_order_acquire);
        if (seen == EMPTY)
            return false;
        if (seen == p && atomic_compare_exchange_strong(&owned[i], &seen, TOMB)) {
            atomic_fetch_sub(&rs_owned_count, 1);
            rs_filter_remove(rs_owned_filter, rs_filter_bucket(ptr, RS_OWNED_FILTER_BITS));
            return true;
        }
    }
    return false;
}
