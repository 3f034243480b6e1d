/* A lock-free set of block addresses (the shim's own blocks, the sampled ones), in two
 * tables. Probed at random, one table sized for the worst case would touch a fresh page
 * on nearly every insert, and each first touch is a page fault (two, with a TLB flush on
 * every CPU, when the page was read first): in a VM, tens of microseconds each, a dozen
 * milliseconds in a short sampled run. So addresses go to a small table whose pages are
 * mapped in at start-up, and to a large one, address space until used, only once the
 * small one is half full. An address is in one table or the other; a lookup tries both.
 * An address is added and removed by code ordered by the program's own synchronization
 * (malloc returns it, free gives it back), so the two never race for one address. */
#ifndef REFSCOPE_ADDR_SET_H
#define REFSCOPE_ADDR_SET_H

#include "shim.h"

struct rs_addr_set {
    _Atomic uintptr_t *near; /* mapped in at init */
    _Atomic uintptr_t *far;  /* pages touched as used */
    uint32_t near_mask, far_mask;
    _Atomic uint32_t near_live;
    _Atomic bool far_used;
};

/* Sizes are powers of two. false: not mapped; adds then fail. */
RS_HIDDEN bool rs_addr_set_init(struct rs_addr_set *s, uint32_t near_slots, uint32_t far_slots);
/* false: both tables are full (the address is not remembered). */
RS_HIDDEN bool rs_addr_set_add(struct rs_addr_set *s, uintptr_t p);
/* true: p was in the set, and is not any more. */
RS_HIDDEN bool rs_addr_set_remove(struct rs_addr_set *s, uintptr_t p);

#endif
