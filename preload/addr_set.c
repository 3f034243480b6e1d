#include "addr_set.h"

#define EMPTY 0u
#define TOMB 1u
/* An insert into the small table gives up after NEAR_PROBES slots and takes the large one;
 * into the large one, after FAR_PROBES (the set is then full for that address). A removal
 * reads no further than an insert went: tombstones are only reused where a probe meets
 * them, so a table can end up without empty slots, and a miss would read all of it. */
#define NEAR_PROBES 32u
#define FAR_PROBES 256u

static inline uint32_t home_slot(uintptr_t p, uint32_t mask)
{
    return (uint32_t)((p >> 4) * 0x9e3779b97f4a7c15u >> 40) & mask;
}

static inline uint32_t probes_in(uint32_t mask, uint32_t probes)
{
    return mask < probes ? mask + 1 : probes;
}

bool rs_addr_set_init(struct rs_addr_set *s, uint32_t near_slots, uint32_t far_slots)
{
    if (s->near)
        return true;
    _Atomic uintptr_t *far = rs_sys_map((size_t)far_slots * sizeof *far);
    _Atomic uintptr_t *near = rs_sys_map_touched((size_t)near_slots * sizeof *near);
    if (!far || !near)
        return false;
    s->near_mask = near_slots - 1;
    s->far_mask = far_slots - 1;
    s->far = far;
    s->near = near; /* last: it says the set is ready */
    return true;
}

/* A slot is claimed without a read first: in the large table, a read of a page never
 * written maps the zero page, and the write that follows faults again. */
static bool claim(_Atomic uintptr_t *slot, uintptr_t p)
{
    uintptr_t seen = EMPTY;
    return atomic_compare_exchange_strong(slot, &seen, p) ||
           (seen == TOMB && atomic_compare_exchange_strong(slot, &seen, p));
}

bool rs_addr_set_add(struct rs_addr_set *s, uintptr_t p)
{
    if (!s->near)
        return false;
    if (atomic_load_explicit(&s->near_live, memory_order_relaxed) <= s->near_mask / 2) {
        uint32_t probes = probes_in(s->near_mask, NEAR_PROBES);
        for (uint32_t i = home_slot(p, s->near_mask), n = 0; n < probes; n++, i = (i + 1) & s->near_mask)
            if (claim(&s->near[i], p)) {
                atomic_fetch_add_explicit(&s->near_live, 1, memory_order_relaxed);
                return true;
            }
    }
    if (!atomic_load_explicit(&s->far_used, memory_order_relaxed))
        atomic_store(&s->far_used, true);
    uint32_t probes = probes_in(s->far_mask, FAR_PROBES);
    for (uint32_t i = home_slot(p, s->far_mask), n = 0; n < probes; n++, i = (i + 1) & s->far_mask)
        if (claim(&s->far[i], p))
            return true;
    return false;
}

static bool remove_from(_Atomic uintptr_t *table, uint32_t mask, uint32_t probes, uintptr_t p)
{
    for (uint32_t i = home_slot(p, mask), n = 0; n < probes; n++, i = (i + 1) & mask) {
        uintptr_t seen = atomic_load_explicit(&table[i], memory_order_acquire);
        if (seen == EMPTY)
            return false;
        if (seen == p && atomic_compare_exchange_strong(&table[i], &seen, TOMB))
            return true;
    }
    return false;
}

bool rs_addr_set_remove(struct rs_addr_set *s, uintptr_t p)
{
    if (!s->near)
        return false;
    if (remove_from(s->near, s->near_mask, probes_in(s->near_mask, NEAR_PROBES), p)) {
        atomic_fetch_sub_explicit(&s->near_live, 1, memory_order_relaxed);
        return true;
    }
    return atomic_load_explicit(&s->far_used, memory_order_acquire) &&
           remove_from(s->far, s->far_mask, probes_in(s->far_mask, FAR_PROBES), p);
}
