#include "owned_blocks.h"

#include "addr_set.h"

/* Live shim blocks are few: a couple per thread, more while a snapshot is taken. */
#define NEAR_SLOTS (1u << 12)
#define FAR_SLOTS (1u << 16)

RS_HIDDEN _Atomic uint32_t rs_owned_count;
RS_HIDDEN _Atomic uint8_t rs_block_filter[1u << RS_BLOCK_FILTER_BITS];
static struct rs_addr_set owned;

void rs_owned_init(void)
{
    if (!rs_addr_set_init(&owned, NEAR_SLOTS, FAR_SLOTS))
        rs_log("cannot map the table of the shim's own blocks: their frees are recorded as unknown");
}

void rs_owned_add(const void *ptr)
{
    rs_filter_add(ptr);
    if (rs_addr_set_add(&owned, (uintptr_t)ptr))
        atomic_fetch_add(&rs_owned_count, 1);
    else /* full: the block's eventual free is then recorded as a free of an unknown block */
        rs_filter_remove(ptr);
}

bool rs_owned_remove_slow(const void *ptr)
{
    if (!rs_addr_set_remove(&owned, (uintptr_t)ptr))
        return false;
    atomic_fetch_sub(&rs_owned_count, 1);
    rs_filter_remove(ptr);
    return true;
}
