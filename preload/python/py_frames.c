#include "py_frames.h"

#include "ring.h"
#include "rs_trace_format.h"

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

static inline uint32_t put_frame(uint64_t *words, uint32_t n, uint32_t id, int64_t offset, bool entry)
{
    if (offset < 0)
        offset = 0;
    words[n] = RS_STACKWORD_PY | id;
    words[n + 1] = ((uint64_t)offset & 0xffffffffu) | (entry ? RS_PYOFFSET_ENTRY : 0);
    return n + 2;
}

uint32_t rs_py_capture(void *tstate, bool gil_held, uint64_t *words, uint32_t max_words)
{
    if (!tstate || !slots)
        return 0;
    const struct rs_py_layout *L = &rs_py_layout;
    struct rs_ring *ring = rs_tl_ring;
    uint32_t n = 0;
    if (L->minor <= 10) {
        /* one eval-loop call per frame: every frame is an entry */
        for (char *f = rd_ptr(tstate, L->ts_frame); f && n + 2 <= max_words; f = rd_ptr(f, L->f_back)) {
            char *code = rd_ptr(f, L->f_code);
            const struct rs_code_cache_entry *known = cached_code(ring, code);
            uint32_t id = known ? known->id : is_live_code(code) ? intern_code(ring, code, 0, gil_held) : 0;
            if (!id)
                continue;
            int lasti = *(int *)(f + L->f_instr);
            n = put_frame(words, n, id, (int64_t)lasti * L->lasti_scale, true);
        }
        return n;
    }
    char *f = L->minor >= 13 ? rd_ptr(tstate, L->ts_frame)
                             : (rd_ptr(tstate, L->ts_cframe) ? rd_ptr(rd_ptr(tstate, L->ts_cframe), L->cframe_current) : NULL);
    for (; f && n + 2 <= max_words; f = rd_ptr(f, L->f_back)) {
        int owner = f[L->f_owner];
        if (owner == OWNED_BY_CSTACK)
            continue;
        char *code = rd_ptr(f, L->f_code);
        const struct rs_code_cache_entry *known = cached_code(ring, code);
        if (!known && !is_live_code(code))
            continue;
        char *first = code + L->co_code_adaptive;
        char *instr = rd_ptr(f, L->f_instr);
        int firsttraceable = known ? known->firsttraceable : *(int *)(code + L->co_firsttraceable);
        if (owner != OWNED_BY_GENERATOR && instr < first + 2 * firsttraceable)
            continue; /* incomplete: the frame has not started running */
        uint32_t id = known ? known->id : intern_code(ring, code, firsttraceable, gil_held);
        if (!id)
            continue;
        bool entry;
        if (L->f_is_entry >= 0) {
            entry = f[L->f_is_entry] != 0;
        } else {
            char *prev = rd_ptr(f, L->f_back);
            entry = !prev || prev[L->f_owner] == OWNED_BY_CSTACK;
        }
        n = put_frame(words, n, id, instr - first, entry);
    }
    return n;
}

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
