/* How to step from a frame to its caller, per program counter, read from the modules'
 * .eh_frame with libdw: the cache behind the native-stack fast path (native_stack.c).
 *
 * Why not libunwind on every allocation: unw_backtrace costs ~65 ns for a 4-frame stack on
 * the benchmark machine (context save, cursor set-up, a locked cache per frame), more than
 * everything else recorded per allocation together. Almost every frame of compiled x86-64
 * code follows one of a few simple rules (CFA = rsp or rbp + k, return address at CFA - 8,
 * the caller's rbp unchanged or saved at CFA + j); those rules are cached per thread, and
 * stepping is then two loads per frame. Anything else (signal frames, DWARF expressions,
 * code without CFI, a file that changed on disk) is marked unsupported and the whole stack
 * is taken with libunwind instead, so the result is always libunwind's. */
#ifndef REFSCOPE_UNWIND_RULES_H
#define REFSCOPE_UNWIND_RULES_H

#include "shim.h"

enum rs_unwind_cfa_base {
    RS_CFA_RSP = 1,
    RS_CFA_RBP = 2,
};

#define RS_RULE_RBP_SAVED 1u   /* the caller's rbp is at CFA + rbp_off */
#define RS_RULE_RBP_LOST 2u    /* the caller's rbp cannot be recovered */
#define RS_RULE_OUTERMOST 4u   /* no caller: the return address is undefined */
#define RS_RULE_UNSUPPORTED 8u /* take this stack with libunwind */

struct rs_unwind_rule {
    uint64_t pc; /* 0: empty slot */
    int32_t cfa_off;
    int16_t rbp_off;
    uint8_t cfa_base;
    uint8_t flags;
};

#define RS_UNWIND_CACHE_SLOTS 2048

/* The frames of a thread's last walk, to predict the next walk's rules (native_stack.c):
 * slots of `rules` below, valid while the generation is. */
#define RS_WALK_MEMO_FRAMES 80
struct rs_walk_memo {
    uint32_t n;
    uint32_t id;                                       /* of its stack, when known (0: not) */
    uint64_t sp[RS_WALK_MEMO_FRAMES];                  /* the frame's stack pointer */
    uint64_t lookup[RS_WALK_MEMO_FRAMES];              /* the pc its rule was looked up at */
    const struct rs_unwind_rule *rule[RS_WALK_MEMO_FRAMES]; /* its slot in the cache */
    /* Every word the walk read from the stack, in its order, so that the next walk can
     * check it would read the same (native_stack.c replays_last_walk): */
    uint64_t read_at[2 * RS_WALK_MEMO_FRAMES];
    uint64_t read_value[2 * RS_WALK_MEMO_FRAMES];
    uint32_t nreads;
    int max;                                /* the frames it was allowed */
    uint64_t start_bp;                      /* rbp at the first frame, when a rule used it */
    uint64_t highest;                       /* its highest frame address */
    bool start_bp_used;
    bool replayable;                        /* it reached the stack's end, every read kept */
};

/* One per thread (in its ring): rules are facts about the process's code, valid until a
 * module is unloaded (rs_unwind_generation changes). */
struct rs_unwind_cache {
    uint32_t generation;
    uint32_t memo_current;                  /* which memo holds the last walk */
    struct rs_walk_memo memo[2];            /* read the last walk's, write this walk's */
    struct rs_unwind_rule rules[RS_UNWIND_CACHE_SLOTS];
};

extern RS_HIDDEN _Atomic uint32_t rs_unwind_generation;

/* Loads libdw (RTLD_LOCAL, like libunwind). false: no rules, libunwind only. */
RS_HIDDEN bool rs_unwind_rules_init(void);
/* The rule at pc (the caller's pc - 1 above the first frame). false when another thread
 * is computing a rule: the caller uses libunwind for this stack rather than wait. */
RS_HIDDEN bool rs_unwind_rule_compute(uint64_t pc, struct rs_unwind_rule *out);
/* A module was unloaded: every cached rule may be stale. */
RS_HIDDEN void rs_unwind_modules_changed(void);

#endif
