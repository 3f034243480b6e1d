#include "py_frames.h"

#include "ring.h"
#include "rs_trace_format.h"
#include "stack_table.h"

#include <string.h>

/* frame owners, 3.11+ */
#define OWNED_BY_GENERATOR 1
#define OWNED_BY_CSTACK 3

#define CODE_SLOTS (1u << 18)
#define MAX_CODES (CODE_SLOTS / 2)

struct code_slot {
    _Atomic uintptr_t code;
    _Atomic uint32_t id;
};

struct code_info {
    PyObject *code; /* pinned: one reference held for the life of the process */
};

static struct code_slot *slots;
static struct code_info *infos; /* by id */
static _Atomic uint32_t next_code_id = 1;

bool rs_py_frames_init(void)
{
    slots = rs_sys_map(CODE_SLOTS * sizeof *slots);
    infos = rs_sys_map((MAX_CODES + 1) * sizeof *infos);
    return slots && infos;
}

/* gil_held: the caller may intern a new code object (and pin it with Py_IncRef, which
 * needs the GIL). Without it, only code objects already interned (hence pinned, hence
 * alive at the same address) are found; others are left out of the stack. */
static uint32_t code_id(PyObject *code, bool gil_held)
{
    uintptr_t key = (uintptr_t)code;
    uint32_t i = (uint32_t)((key >> 4) * 0x9e3779b97f4a7c15u >> 40) & (CODE_SLOTS - 1);
    for (uint32_t n = 0; n < CODE_SLOTS; n++, i = (i + 1) & (CODE_SLOTS - 1)) {
        /* With the GIL, claimed without a read first (stack_table.c says why) */
        uintptr_t seen = 0;
        if (!gil_held)
            seen = atomic_load_explicit(&slots[i].code, memory_order_acquire);
        if (seen == 0) {
            if (!gil_held)
                return 0;
            if (!atomic_compare_exchange_strong(&slots[i].code, &seen, key)) {
                if (seen != key)
                    continue;
            } else {
                uint32_t id = atomic_fetch_add(&next_code_id, 1);
                if (id > MAX_CODES) {
                    atomic_store_explicit(&slots[i].id, UINT32_MAX, memory_order_release);
                    return 0;
                }
                struct code_info *ci = &infos[id];
                ci->code = code;
                /* Keeps the id's meaning: the object cannot be freed and its address
                 * reused by another code object while the trace refers to it. */
                rs_py.Py_IncRef(code);
                atomic_store_explicit(&slots[i].id, id, memory_order_release);
                return id;
            }
        }
        if (seen != key)
            continue;
        uint32_t id;
        unsigned spins = 0;
        while ((id = atomic_load_explicit(&slots[i].id, memory_order_acquire)) == 0 && ++spins < (1u << 22))
            ;
        return id == UINT32_MAX ? 0 : id;
    }
    return 0;
}

static inline char *rd_ptr(const char *base, unsigned off)
{
    return *(char *const *)(base + off);
}

/* A code object whose refcount has reached zero is being deallocated (a frame being
 * cleared still points to it while its teardown allocates): pinning it then would not
 * keep it, and the id would name freed memory. 3.12+ keep an immortal object's count
 * negative as an int32. */
static inline bool is_live_code(const char *code)
{
    if (!code || RS_PY_TYPE(code) != rs_py.PyCode_Type)
        return false;
    int64_t rc = RS_PY_REFCNT(code);
    return rs_py_layout.minor >= 12 ? (int32_t)rc != 0 : rc > 0;
}

/* The thread's cache of interned code objects (ring.h). A hit reads nothing of the code
 * object: once interned it is pinned, so still alive and still a code object, and its
 * first traceable instruction never changes. A thread's frames reach the same few code
 * objects at every allocation, yet their headers are out of the cache by the next one. */
static inline struct rs_code_cache_entry *code_cache_slot(struct rs_ring *ring, const char *code)
{
    return &ring->code_cache[((uintptr_t)code >> 4) & (RS_CODE_CACHE_SLOTS - 1)];
}

static inline const struct rs_code_cache_entry *cached_code(struct rs_ring *ring, const char *code)
{
    if (!ring || !code)
        return NULL;
    const struct rs_code_cache_entry *e = code_cache_slot(ring, code);
    return e->code == (uintptr_t)code ? e : NULL;
}

/* A miss: the id of a live code object (interned now if it may be), cached. 0: none. */
static uint32_t intern_code(struct rs_ring *ring, const char *code, int firsttraceable, bool gil_held)
{
    uint32_t id = code_id((PyObject *)code, gil_held);
    if (id && ring) {
        struct rs_code_cache_entry *e = code_cache_slot(ring, code);
        e->code = (uintptr_t)code;
        e->id = id;
        e->firsttraceable = firsttraceable;
    }
    return id;
}

static inline void put_frame(uint64_t word[2], uint32_t id, int64_t offset, bool entry)
{
    if (offset < 0)
        offset = 0;
    word[0] = RS_STACKWORD_PY | id;
    word[1] = ((uint64_t)offset & 0xffffffffu) | (entry ? RS_PYOFFSET_ENTRY : 0);
}

/* What a walk makes of one frame. */
enum frame_use {
    FRAME_KEPT,         /* gives two words */
    FRAME_SKIPPED,      /* a C-stack frame: gives none, and its key says so for good */
    FRAME_SKIPPED_NOW,  /* gives none this time (code not interned, frame not started) */
};

/* How the interpreter's frames say what fixes their words (frame_key). */
enum frame_layout {
    FRAMES_CODE_OFFSET,   /* 3.8-3.10 */
    FRAMES_ENTRY_BYTE,    /* 3.11: an is_entry byte */
    FRAMES_ENTRY_BELOW,   /* 3.12+: an entry frame is the one above a C-stack frame */
};

static inline enum frame_layout frame_layout_of(const struct rs_py_layout *L)
{
    return L->minor <= 10 ? FRAMES_CODE_OFFSET : L->f_is_entry >= 0 ? FRAMES_ENTRY_BYTE : FRAMES_ENTRY_BELOW;
}

/* key: what fixes the frame's words, without reading its code object. 3.11+: the
 * instruction pointer (into the code's own bytes: an interned code is pinned, so no other
 * code ever lies there) and the owner; on 3.11 also the is_entry byte, which lies just
 * before the owner, both read in one load. 3.12+ has no such byte: a frame is an entry
 * when the frame below it is a C-stack frame or there is none, which the key leaves to the
 * key of the frame below (parents_match_of compares both; walk_frames keeps no memo whose
 * last frame's entry a frame it did not keep decides). Before 3.11: the code and the
 * offset. Always inlined with `kind` a constant where it runs per frame of a memo hit, so
 * that a frame there costs its loads and compares alone. */
__attribute__((always_inline)) static inline void frame_key_of(const struct rs_py_layout *L,
                                                               enum frame_layout kind, char *f,
                                                               uint64_t key[2])
{
    if (kind == FRAMES_CODE_OFFSET) {
        key[0] = (uintptr_t)rd_ptr(f, L->f_code);
        key[1] = (uint32_t) * (int *)(f + L->f_instr);
        return;
    }
    if (kind == FRAMES_ENTRY_BYTE) {
        uint16_t entry_and_owner;
        memcpy(&entry_and_owner, f + L->f_is_entry, sizeof entry_and_owner);
        key[0] = (uintptr_t)rd_ptr(f, L->f_instr);
        key[1] = entry_and_owner;
        return;
    }
    int owner = (unsigned char)f[L->f_owner];
    key[0] = owner == OWNED_BY_CSTACK ? 0 : (uintptr_t)rd_ptr(f, L->f_instr);
    key[1] = (unsigned)owner;
}

/* The owner and the entry flag of a frame whose key frame_key_of gave (f: the frame). */
__attribute__((always_inline)) static inline int key_owner(enum frame_layout kind, const uint64_t key[2])
{
    return kind == FRAMES_ENTRY_BYTE ? (int)(key[1] >> 8) : (int)(key[1] & 0xff);
}

__attribute__((always_inline)) static inline bool frame_is_entry(const struct rs_py_layout *L,
                                                                 enum frame_layout kind, char *f,
                                                                 const uint64_t key[2])
{
    if (kind == FRAMES_ENTRY_BYTE)
        return (key[1] & 0xff) != 0;
    char *prev = rd_ptr(f, L->f_back);
    return !prev || (unsigned char)prev[L->f_owner] == OWNED_BY_CSTACK;
}

static inline void frame_key(const struct rs_py_layout *L, char *f, uint64_t key[2])
{
    frame_key_of(L, frame_layout_of(L), f, key);
}

/* The words of frame f, whose key frame_key_of gave. */
__attribute__((always_inline)) static inline enum frame_use frame_words_of(const struct rs_py_layout *L,
                                                                          enum frame_layout kind,
                                                                          struct rs_ring *ring, char *f,
                                                                          bool gil_held, uint64_t word[2],
                                                                          const uint64_t key[2])
{
    char *code = rd_ptr(f, L->f_code);
    if (kind == FRAMES_CODE_OFFSET) {
        /* one eval-loop call per frame: every frame is an entry */
        const struct rs_code_cache_entry *known = cached_code(ring, code);
        uint32_t id = known ? known->id : is_live_code(code) ? intern_code(ring, code, 0, gil_held) : 0;
        if (!id)
            return FRAME_SKIPPED_NOW;
        put_frame(word, id, (int64_t)(int32_t)key[1] * L->lasti_scale, true);
        return FRAME_KEPT;
    }
    int owner = key_owner(kind, key);
    if (owner == OWNED_BY_CSTACK)
        return FRAME_SKIPPED;
    bool entry = frame_is_entry(L, kind, f, key);
    char *instr = (char *)(uintptr_t)key[0];
    const struct rs_code_cache_entry *known = cached_code(ring, code);
    if (!known && !is_live_code(code))
        return FRAME_SKIPPED_NOW;
    char *first = code + L->co_code_adaptive;
    int firsttraceable = known ? known->firsttraceable : *(int *)(code + L->co_firsttraceable);
    if (owner != OWNED_BY_GENERATOR && instr < first + 2 * firsttraceable)
        return FRAME_SKIPPED_NOW; /* incomplete: the frame has not started running */
    uint32_t id = known ? known->id : intern_code(ring, code, firsttraceable, gil_held);
    if (!id)
        return FRAME_SKIPPED_NOW;
    put_frame(word, id, instr - first, entry);
    return FRAME_KEPT;
}

static inline enum frame_use frame_words(const struct rs_py_layout *L, struct rs_ring *ring, char *f,
                                         bool gil_held, uint64_t word[2], const uint64_t key[2])
{
    return frame_words_of(L, frame_layout_of(L), ring, f, gil_held, word, key);
}

__attribute__((always_inline)) static inline char *top_frame_of(const struct rs_py_layout *L,
                                                               enum frame_layout kind, void *tstate)
{
    if (kind == FRAMES_CODE_OFFSET || (kind == FRAMES_ENTRY_BELOW && L->minor >= 13))
        return rd_ptr(tstate, L->ts_frame);
    char *cframe = rd_ptr(tstate, L->ts_cframe);
    return cframe ? rd_ptr(cframe, L->cframe_current) : NULL;
}

static inline char *top_frame(const struct rs_py_layout *L, void *tstate)
{
    return top_frame_of(L, frame_layout_of(L), tstate);
}

/* The words of frame f and the frames below it, appended at words[n] while there is room
 * for two more; returns the new count. With a memo, each frame's key is kept in it too,
 * memo->cut set when frames were left over for want of room (the frames walked fix the
 * words all the same), and *whole cleared when the memo cannot stand for these frames: a
 * frame whose words its key does not fix, or more frames than it holds. */
static uint32_t walk_frames(const struct rs_py_layout *L, struct rs_ring *ring, char *f, bool gil_held,
                            uint64_t *words, uint32_t n, uint32_t max_words, struct rs_py_memo *memo,
                            bool *whole)
{
    uint64_t key[2];
    uint32_t nkeys = 0;
    for (; f && n + 2 <= max_words; f = rd_ptr(f, L->f_back)) {
        frame_key(L, f, key);
        enum frame_use use = frame_words(L, ring, f, gil_held, words + n, key);
        if (use == FRAME_KEPT)
            n += 2;
        if (!memo)
            continue;
        if (use == FRAME_SKIPPED_NOW || nkeys + 2 > RS_PY_MEMO_WORDS) {
            *whole = false;
        } else {
            memo->keys[nkeys] = key[0];
            memo->keys[nkeys + 1] = key[1];
            nkeys += 2;
        }
    }
    if (memo) {
        memo->nkeys = nkeys;
        memo->cut = f != NULL;
        /* 3.12+: the last frame's entry flag is the owner of one not kept */
        if (memo->cut && frame_layout_of(L) == FRAMES_ENTRY_BELOW)
            *whole = false;
    }
    return n;
}

uint32_t rs_py_capture(void *tstate, bool gil_held, uint64_t *words, uint32_t max_words)
{
    if (!tstate || !slots)
        return 0;
    const struct rs_py_layout *L = &rs_py_layout;
    return walk_frames(L, rs_tl_ring, top_frame(L, tstate), gil_held, words, 0, max_words, NULL, NULL);
}

/* The low bits of the instruction pointer (3.11+) or offset first: a loop's allocations
 * lie a few instructions apart in one code object. x ^ x >> 1 is one to one. */
static inline unsigned top_slot(const uint64_t key[2])
{
    return (unsigned)((key[0] >> 1) ^ key[1] ^ (key[1] >> 1)) & (RS_PY_MEMO_TOPS - 1);
}

__attribute__((always_inline)) static inline bool parents_match_of(const struct rs_py_layout *L,
                                                                   enum frame_layout kind,
                                                                   const struct rs_py_memo *m, char *below)
{
    uint64_t key[2];
    uint32_t k = 0;
    for (char *p = below; p; p = rd_ptr(p, L->f_back), k += 2) {
        if (k == m->nkeys)
            return m->cut; /* the frames left over were beyond the room then, and are now */
        frame_key_of(L, kind, p, key);
        if (key[0] != m->keys[k] || key[1] != m->keys[k + 1])
            return false;
    }
    return k == m->nkeys;
}

/* Files the id of a stack under its top frame's key, when the key fixes that frame's words
 * (its code is pinned, or it gives none for good). */
static void remember_top(struct rs_py_memo *m, const uint64_t top_key[2], enum frame_use top_use, uint32_t id)
{
    if (id == RS_STACK_ID_NONE || top_use == FRAME_SKIPPED_NOW)
        return;
    unsigned s = top_slot(top_key);
    m->tops[s].key0 = top_key[0];
    m->tops[s].key1 = top_key[1];
    m->tops[s].generation = m->generation;
    m->tops[s].id = id;
}

/* The stack id of tstate's frames, for one frame layout: the layout is a constant in each
 * copy, so that a memo hit (every frame below the top compared, the top frame's key looked
 * up) costs its loads and compares alone. callgrind on Debian's 3.11: bench/py_threads.py
 * 1 4 (about eight frames below the top) 283 -> 253 instructions per stack when the frames
 * below alone were compared so; with the top frame too, bench/py_threads.py 4,739M ->
 * 4,669M instructions in all, bench/py_churn.py 200000 1,513M -> 1,503M. */
__attribute__((always_inline)) static inline uint32_t stack_id_of(const struct rs_py_layout *L,
                                                                 enum frame_layout kind, struct rs_ring *ring,
                                                                 void *tstate, bool gil_held, uint64_t *words,
                                                                 uint32_t max_words)
{
    char *f = top_frame_of(L, kind, tstate);
    if (!f || max_words < 2)
        return RS_STACK_ID_NONE;
    struct rs_py_memo *m = &ring->py_memo[((uintptr_t)f * 0x9e3779b97f4a7c15u) >> 62 & (RS_PY_MEMOS - 1)];
    uint64_t top_key[2];
    frame_key_of(L, kind, f, top_key);
    char *below = rd_ptr(f, L->f_back);
    bool below_known = m->valid && m->max_words == max_words && parents_match_of(L, kind, m, below);
    if (below_known) {
        unsigned s = top_slot(top_key);
        if (m->tops[s].generation == m->generation && m->tops[s].key0 == top_key[0] && m->tops[s].key1 == top_key[1])
            return m->tops[s].id;
    }
    enum frame_use top_use = frame_words_of(L, kind, ring, f, gil_held, words, top_key);
    uint32_t top_n = top_use == FRAME_KEPT ? 2 : 0;
    /* A memo cut for room holds the frames below that fitted beside a top frame's two
     * words: a top frame that gives none leaves room for one more. */
    if (below_known && !(m->cut && top_n != m->top_n)) {
        memcpy(words + top_n, m->words, m->nwords * sizeof *words);
        uint32_t id = rs_stack_intern(ring, words, top_n + m->nwords);
        remember_top(m, top_key, top_use, id);
        return id;
    }
    /* The frames below changed: walked as rs_py_capture walks them, and remembered if every
     * one of them gives the same words whenever its key comes back and they leave room for
     * any top frame's two. */
    bool whole = true;
    uint32_t n = walk_frames(L, ring, below, gil_held, words, top_n, max_words, m, &whole);
    uint32_t id = rs_stack_intern(ring, words, n);
    m->valid = whole && n - top_n + 2 <= max_words;
    if (!m->valid)
        return id; /* rare: frames of code not interned, more frames than the memo holds,
                    * or a top frame without words on a stack cut for room */
    m->nwords = n - top_n;
    m->top_n = top_n;
    memcpy(m->words, words + top_n, m->nwords * sizeof *words);
    m->max_words = max_words;
    if (++m->generation == 0)
        m->generation = 1;
    remember_top(m, top_key, top_use, id);
    return id;
}

static uint32_t stack_id_any_layout(void *tstate, bool gil_held, uint64_t *words, uint32_t max_words)
{
    struct rs_ring *ring = rs_tl_ring;
    if (!ring)
        return rs_stack_intern(NULL, words, rs_py_capture(tstate, gil_held, words, max_words));
    if (!tstate || !slots)
        return RS_STACK_ID_NONE;
    const struct rs_py_layout *L = &rs_py_layout;
    switch (frame_layout_of(L)) {
    case FRAMES_CODE_OFFSET: return stack_id_of(L, FRAMES_CODE_OFFSET, ring, tstate, gil_held, words, max_words);
    case FRAMES_ENTRY_BYTE: return stack_id_of(L, FRAMES_ENTRY_BYTE, ring, tstate, gil_held, words, max_words);
    case FRAMES_ENTRY_BELOW: return stack_id_of(L, FRAMES_ENTRY_BELOW, ring, tstate, gil_held, words, max_words);
    }
    return RS_STACK_ID_NONE;
}

#ifndef RS_PY_MEMO_CHECK
uint32_t rs_py_stack_id(void *tstate, bool gil_held, uint64_t *words, uint32_t max_words)
{
    return stack_id_any_layout(tstate, gil_held, words, max_words);
}
#else
/* A test build (librefscope_memocheck.so, tests/integration/test_py_stack_memo.py): each
 * stack the memos give is checked against a walk of every frame, and the counts are
 * printed when the process exits. */
#include <stdio.h>
#include <unistd.h>

static _Atomic uint64_t memo_checked, memo_differ;

uint32_t rs_py_stack_id(void *tstate, bool gil_held, uint64_t *words, uint32_t max_words)
{
    uint32_t id = stack_id_any_layout(tstate, gil_held, words, max_words);
    if (rs_tl_ring && tstate && slots) {
        uint64_t walked[RS_STACK_MAX_WORDS];
        uint32_t n = rs_py_capture(tstate, gil_held, walked, max_words);
        memo_checked++;
        memo_differ += rs_stack_intern(rs_tl_ring, walked, n) != id;
    }
    return id;
}

__attribute__((destructor)) static void memo_check_report(void)
{
    char line[128];
    int n = snprintf(line, sizeof line, "refscope memo check: %llu stacks checked, %llu differ\n",
                     (unsigned long long)memo_checked, (unsigned long long)memo_differ);
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}
#endif

uint32_t rs_py_code_count(void)
{
    uint32_t n = atomic_load(&next_code_id) - 1;
    return n > MAX_CODES ? MAX_CODES : n;
}

PyObject *rs_py_code_object(uint32_t id)
{
    if (id == 0 || id > rs_py_code_count())
        return NULL;
    return infos[id].code;
}
