#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "modules.h"
#include "ring.h"
#include "rs_trace_format.h"
#include "stack_table.h"
#include "unwind_rules.h"

#include <dlfcn.h>
#include <libunwind.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

typedef int (*unw_backtrace_fn)(void **, int);
static unw_backtrace_fn unwind_backtrace;
static uintptr_t self_lo, self_hi;
static bool rules_ready;

/* REFSCOPE_UNWIND=check: every stack is taken both ways and compared. */
static _Atomic uint64_t checked_stacks, differing_stacks, fallback_stacks;

/* libunwind is loaded with RTLD_LOCAL rather than linked: it exports _Unwind_* and a weak
 * backtrace(), which a preloaded dependency would impose on every program (C++ exception
 * handling included). Loaded locally, only we see it. The soname is the one Debian's
 * libunwind-dev links against. */
void rs_native_stack_init(void)
{
    rs_tl_busy++;
    void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (lib) {
        unwind_backtrace = (unw_backtrace_fn)dlsym(lib, "unw_backtrace");
        int (*set_policy)(unw_addr_space_t, unw_caching_policy_t) =
            (int (*)(unw_addr_space_t, unw_caching_policy_t))dlsym(lib, STR(unw_set_caching_policy));
        unw_addr_space_t *local = (unw_addr_space_t *)dlsym(lib, STR(unw_local_addr_space));
        if (set_policy && local)
            set_policy(*local, UNW_CACHE_PER_THREAD);
    }
    if (!unwind_backtrace)
        rs_log("libunwind.so.8 not found: native stacks are not recorded");
#if defined(__x86_64__)
    rules_ready = unwind_backtrace && rs_cfg.unwind != RS_UNWIND_LIBUNWIND && rs_unwind_rules_init();
    if (unwind_backtrace && rs_cfg.unwind != RS_UNWIND_LIBUNWIND && !rules_ready)
        rs_debug("libdw.so.1 not loaded: native stacks come from libunwind alone");
#endif
    rs_modules_self_range(&self_lo, &self_hi);
    rs_tl_busy--;
}

#if defined(__x86_64__)
static inline uint32_t cache_slot(uint64_t pc)
{
    return (uint32_t)((pc * 0x9e3779b97f4a7c15u) >> 40) & (RS_UNWIND_CACHE_SLOTS - 1);
}

static inline const struct rs_unwind_rule *rule_at(struct rs_unwind_cache *c, uint64_t pc, bool may_compute)
{
    struct rs_unwind_rule *slot = &c->rules[cache_slot(pc)];
    if (RS_LIKELY(slot->pc == pc))
        return slot;
    struct rs_unwind_rule r;
    if (!may_compute || !rs_unwind_rule_compute(pc, &r))
        return NULL;
    *slot = r;
    return slot;
}

/* A walk that looks beyond this many bytes above its start has lost its way. */
#define MAX_STACK_SPAN ((uint64_t)1 << 30)

/* The shim is built with frame pointers, so its own frames (this one, the recorder's, the
 * hook's) are stepped over by the rbp chain, without a rule lookup each: the first return
 * address outside the shim is the program's frame, and the registers there are the
 * frame's CFA and the rbp saved in it. The chain is entered at the hook's frame when the
 * hook handed it down (start: 0 when not), which spares stepping the frames between (three
 * of four from malloc). On anything odd the walk starts here instead. */
static inline void skip_own_frames(uint64_t floor, uint64_t start, uint64_t *pc, uint64_t *sp, uint64_t *bp,
                                   uint64_t *lookup)
{
    uint64_t fp = start ? start : *bp;
    for (int depth = 0; depth < 16; depth++) {
        if (fp < *sp || (fp & 7) || fp - floor > MAX_STACK_SPAN)
            return;
        const uint64_t *frame = (const uint64_t *)fp;
        uint64_t ra = frame[1];
        if (ra < self_lo || ra >= self_hi) {
            if (!ra)
                return;
            *pc = ra;
            *sp = fp + 16;
            *bp = frame[0];
            *lookup = ra - 1;
            return;
        }
        if (frame[0] <= fp)
            return;
        fp = frame[0];
    }
}

/* The rule of the frame at (sp, lookup), predicted from the thread's last walk: consecutive
 * stacks of a thread share their outer frames, at the same stack addresses. The rules
 * cache is probed at a slot hashed from the pc just loaded from the stack, so each frame's
 * probe waited for the load before it; the last walk's slot for the frame at the same sp
 * is known at once, and only its pc is compared (a rule is a function of the pc alone: a
 * slot taken over by another pc just fails the test). The stack reads stay the ones the
 * walk makes anyway, at addresses computed from this walk's own state. *cursor moves up
 * the last walk as sp grows (frames are in increasing sp order). 3-frame stacks: no
 * change; 20 frames: about 5 % less time per allocation. */
static inline const struct rs_unwind_rule *predicted_rule(const struct rs_walk_memo *last, uint32_t *cursor,
                                                          uint64_t sp, uint64_t lookup)
{
    uint32_t m = *cursor;
    while (m < last->n && last->sp[m] < sp)
        m++;
    *cursor = m;
    if (m < last->n && last->sp[m] == sp && last->rule[m]->pc == lookup)
        return last->rule[m];
    return NULL;
}

/* Whether a walk starting at (sp, lookup, bp) would be the thread's last walk, found
 * without walking: a walk is a function of its start, the rules (each a function of its
 * pc, for as long as the memo lives) and the words it reads from the stack, so finding
 * the last walk's words again, in its order, is the walk (each address comes from words
 * already found the same, as the walk's would). bench/native_churn.c, 1M pairs, callgrind:
 * 298 -> 179 instructions a stack where walk_with_rules stepped every frame (229 when the
 * replay looked up each frame's rule again); 10M pairs 4.45x -> 4.03x plain. */
static inline bool replays_last_walk(const struct rs_walk_memo *last, uint64_t floor, uint64_t sp,
                                     uint64_t lookup, uint64_t bp, int max)
{
    if (!last->id || !last->replayable || last->max != max || last->sp[0] != sp ||
        last->lookup[0] != lookup || (last->start_bp_used && last->start_bp != bp) ||
        last->highest - floor > MAX_STACK_SPAN)
        return false;
    for (uint32_t i = 0; i < last->nreads; i++)
        if (*(const uint64_t *)last->read_at[i] != last->read_value[i])
            return false;
    return true;
}

/* Steps frame by frame with the cached rules. -1: a frame needs libunwind. The registers
 * are read here, in this function's own frame, where the rules describe them should the
 * shim's frames not be skipped (they are then cut off afterwards). *same: every frame was
 * the last walk's frame at the same place (stack pointer and pc), and there were as many:
 * the stack is the last walk's. The words it reads are kept for replays_last_walk. */
__attribute__((noinline)) static int walk_with_rules(struct rs_unwind_cache *c, uint64_t *ips, int max,
                                                     bool may_compute, bool *same, const void *hook_frame)
{
    uint64_t pc, sp, bp;
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=&r"(pc), "=&r"(sp), "=&r"(bp));
    const uint64_t floor = sp;
    bool bp_known = true;
    uint64_t lookup = pc;
    skip_own_frames(floor, (uint64_t)(uintptr_t)hook_frame, &pc, &sp, &bp, &lookup);
    /* restrict: the two memos are apart, and this walk's stores must not make the last
     * walk's fields be read again */
    const struct rs_walk_memo *restrict last = &c->memo[c->memo_current];
    struct rs_walk_memo *restrict next = &c->memo[!c->memo_current];
    const uint32_t last_n = last->n;
    const uint64_t start_bp = bp;
    bool bp_is_start = true, start_bp_used = false;
    bool at_end = false;
    uint32_t nreads = 0;
    uint32_t cursor = 0;
    int n = 0;
    bool same_so_far = true; /* every frame so far is the last walk's at the same depth */
    while (n < max) {
        uint32_t i = (uint32_t)n;
        ips[n++] = pc;
        const struct rs_unwind_rule *r;
        if (same_so_far && i < last_n && last->sp[i] == sp && last->lookup[i] == lookup) {
            r = last->rule[i];
            if (r->pc != lookup)
                r = NULL; /* its slot went to another pc since */
        } else {
            same_so_far = false;
            r = predicted_rule(last, &cursor, sp, lookup);
        }
        if (!r)
            r = rule_at(c, lookup, may_compute);
        if (!r || (r->flags & RS_RULE_UNSUPPORTED))
            return -1;
        if (i < RS_WALK_MEMO_FRAMES) {
            next->sp[i] = sp;
            next->lookup[i] = lookup;
            next->rule[i] = r;
        }
        if (r->flags & RS_RULE_OUTERMOST) {
            at_end = true;
            break;
        }
        uint64_t base = sp;
        if (r->cfa_base == RS_CFA_RBP) {
            if (!bp_known)
                return -1;
            start_bp_used |= bp_is_start;
            base = bp;
        }
        uint64_t cfa = base + (uint64_t)(int64_t)r->cfa_off;
        /* a caller's frame is above its callee's, and its slots are aligned */
        if (cfa <= sp || (cfa & 7) || cfa - floor > MAX_STACK_SPAN)
            return -1;
        uint64_t ra = *(const uint64_t *)(cfa - 8);
        if (i < RS_WALK_MEMO_FRAMES) {
            next->read_at[nreads] = cfa - 8;
            next->read_value[nreads++] = ra;
        }
        if (r->flags & RS_RULE_RBP_SAVED) {
            uint64_t at = cfa + (uint64_t)(int64_t)r->rbp_off;
            bp = *(const uint64_t *)at;
            bp_known = true;
            bp_is_start = false;
            if (i < RS_WALK_MEMO_FRAMES) {
                next->read_at[nreads] = at;
                next->read_value[nreads++] = bp;
            }
        } else if (r->flags & RS_RULE_RBP_LOST) {
            bp_known = false;
            bp_is_start = false;
        }
        sp = cfa;
        pc = ra;
        if (!pc) {
            at_end = true;
            break;
        }
        lookup = pc - 1; /* the call instruction: a call may be a function's last */
    }
    next->n = n < RS_WALK_MEMO_FRAMES ? (uint32_t)n : RS_WALK_MEMO_FRAMES;
    next->id = 0;
    next->replayable = at_end && n <= RS_WALK_MEMO_FRAMES;
    next->nreads = nreads;
    next->max = max;
    next->start_bp = start_bp;
    next->start_bp_used = start_bp_used;
    next->highest = sp;
    *same = same_so_far && (uint32_t)n == last_n && n <= RS_WALK_MEMO_FRAMES;
    c->memo_current = !c->memo_current;
    return n;
}
#endif

/* Frames to take for max_words kept: the shim's own frames come first and are cut. */
static inline int frames_wanted(uint32_t max_words)
{
    return (int)(max_words > RS_STACK_MAX_WORDS ? RS_STACK_MAX_WORDS : max_words) + 16;
}

static uint32_t copy_without_self(void *const *ips, int n, uint64_t *words, uint32_t max_words)
{
    int first = 0;
    while (first < n && (uintptr_t)ips[first] >= self_lo && (uintptr_t)ips[first] < self_hi)
        first++;
    uint32_t out = 0;
    for (int i = first; i < n && out < max_words; i++)
        words[out++] = (uint64_t)(uintptr_t)ips[i];
    return out;
}

static uint32_t capture_with_libunwind(uint64_t *words, uint32_t max_words)
{
    void *ips[RS_STACK_MAX_WORDS + 16];
    int n = unwind_backtrace(ips, frames_wanted(max_words));
    return copy_without_self(ips, n, words, max_words);
}

#if defined(__x86_64__)
static void compare_with_libunwind(const uint64_t *fast, uint32_t nfast, uint32_t max_words)
{
    uint64_t slow[RS_STACK_MAX_WORDS];
    uint32_t nslow = capture_with_libunwind(slow, max_words);
    atomic_fetch_add_explicit(&checked_stacks, 1, memory_order_relaxed);
    if (nslow == nfast && memcmp(slow, fast, nfast * sizeof *fast) == 0)
        return;
    if (atomic_fetch_add_explicit(&differing_stacks, 1, memory_order_relaxed) < 3) {
        uint32_t i = 0;
        while (i < nfast && i < nslow && fast[i] == slow[i])
            i++;
        rs_log("unwind check: stacks differ at frame %u: %u frames (%#llx) against libunwind's %u (%#llx)", i,
               nfast, i < nfast ? (unsigned long long)fast[i] : 0ull, nslow,
               i < nslow ? (unsigned long long)slow[i] : 0ull);
    }
}
#endif

/* The calling thread's native stack into words, as rs_native_stack_capture. With `known`
 * (not NULL) a stack the thread's last walk found too is not copied: its id, when that
 * walk's stack was interned by rs_native_stack_id, is put in *known and 0 returned; and
 * *walked is the memo of this walk (NULL when libunwind took the stack), to file its id. */
__attribute__((always_inline)) static inline uint32_t capture(struct rs_ring *ring, uint64_t *words,
                                                             uint32_t max_words, bool may_compute,
                                                             const void *hook_frame, uint32_t *known,
                                                             struct rs_walk_memo **walked)
{
    if (walked)
        *walked = NULL;
    if (!unwind_backtrace)
        return 0;
#if defined(__x86_64__)
    if (RS_LIKELY(rules_ready && ring)) {
        struct rs_unwind_cache *c = &ring->unwind;
        uint32_t generation = atomic_load_explicit(&rs_unwind_generation, memory_order_acquire);
        if (RS_UNLIKELY(c->generation != generation)) {
            memset(c->rules, 0, sizeof c->rules);
            c->memo[0].n = c->memo[1].n = 0;
            c->memo[0].replayable = c->memo[1].replayable = false;
            c->generation = generation;
        }
        if (RS_UNLIKELY(!ring->libunwind_ready) && may_compute) {
            /* libunwind's thread-local cache is allocated on its first call in a thread
             * (malloc, in __tls_get_addr): make that call here, not in a signal handler
             * that interrupted malloc and calls mmap. */
            void *first[1];
            unwind_backtrace(first, 1);
            ring->libunwind_ready = true;
        }
        void *ips[RS_STACK_MAX_WORDS + 16];
        bool same;
        uint32_t last_id = c->memo[c->memo_current].id;
        int n = walk_with_rules(c, (uint64_t *)ips, frames_wanted(max_words), may_compute, &same,
                                hook_frame);
        if (RS_LIKELY(n >= 0)) {
            if (walked)
                *walked = &c->memo[c->memo_current];
            if (known && same && last_id) {
                *known = last_id;
                return 0;
            }
            uint32_t out = copy_without_self(ips, n, words, max_words);
            if (RS_UNLIKELY(rs_cfg.unwind == RS_UNWIND_CHECK) && ring->libunwind_ready)
                compare_with_libunwind(words, out, max_words);
            return out;
        }
        if (RS_UNLIKELY(rs_cfg.unwind == RS_UNWIND_CHECK))
            atomic_fetch_add_explicit(&fallback_stacks, 1, memory_order_relaxed);
        if (RS_UNLIKELY(!ring->libunwind_ready))
            return 0; /* an mmap before this thread's first malloc: no stack rather than a deadlock */
    }
#else
    (void)ring, (void)may_compute, (void)known, (void)hook_frame;
#endif
    return capture_with_libunwind(words, max_words);
}

uint32_t rs_native_stack_capture(struct rs_ring *ring, uint64_t *words, uint32_t max_words, bool may_compute,
                                 const void *hook_frame)
{
    return capture(ring, words, max_words, may_compute, hook_frame, NULL, NULL);
}

#if defined(__x86_64__)
/* The last walk's stack id when a walk entering at the hook's frame would be that walk
 * (replays_last_walk), found before the walker and its frame are set up; 0: not known so.
 * Its floor (for the walk's 1 GB bound on frame addresses) is this frame's, a few hundred
 * bytes above the walker's. native_churn 1M pairs: 851 -> 763 instructions a pair. */
__attribute__((always_inline)) static inline uint32_t replayed_stack_id(struct rs_ring *ring, uint32_t max_words,
                                                                       const void *hook_frame)
{
    if (!hook_frame || !ring || !rules_ready) /* rules_ready: libunwind is loaded too */
        return 0;
    const struct rs_unwind_cache *c = &ring->unwind;
    if (c->generation != atomic_load_explicit(&rs_unwind_generation, memory_order_acquire))
        return 0;
    uint64_t floor;
    __asm__ volatile("mov %%rsp, %0" : "=r"(floor));
    uint64_t pc = 0, sp = floor, bp = 0, lookup = 0;
    skip_own_frames(floor, (uint64_t)(uintptr_t)hook_frame, &pc, &sp, &bp, &lookup);
    const struct rs_walk_memo *last = &c->memo[c->memo_current];
    return pc && replays_last_walk(last, floor, sp, lookup, bp, frames_wanted(max_words)) ? last->id : 0;
}
#endif

/* In a loop the stack is the last one: a walk that meets the last walk's frames at every
 * step gives its id without copying and interning the words again (bench/native_churn.c,
 * 1M pairs, callgrind: 1,228 -> 1,065 instructions a pair, the writer's included). */
uint32_t rs_native_stack_id(struct rs_ring *ring, uint64_t *words, uint32_t max_words, bool may_compute,
                            const void *hook_frame)
{
    bool check = rs_cfg.unwind == RS_UNWIND_CHECK; /* every stack is compared with libunwind's */
#if defined(__x86_64__)
    uint32_t replayed = check ? 0 : replayed_stack_id(ring, max_words, hook_frame);
    if (replayed)
        return replayed;
#endif
    uint32_t known = 0;
    struct rs_walk_memo *walked;
    uint32_t n = capture(ring, words, max_words, may_compute, hook_frame, check ? NULL : &known, &walked);
    uint32_t id = known ? known : rs_stack_intern(ring, words, n);
    if (walked)
        walked->id = id;
    return id;
}

void rs_native_stack_report(void)
{
    if (rs_cfg.unwind == RS_UNWIND_CHECK)
        rs_log("unwind check: %llu stacks compared with libunwind, %llu differ; %llu taken by libunwind",
               (unsigned long long)atomic_load(&checked_stacks), (unsigned long long)atomic_load(&differing_stacks),
               (unsigned long long)atomic_load(&fallback_stacks));
}
