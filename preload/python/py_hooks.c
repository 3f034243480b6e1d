#include "py_hooks.h"

#include "owned_blocks.h"
#include "py_attach.h"
#include "rs_trace_format.h"

struct chain {
    PyMemAllocatorEx below; /* the allocator we replaced */
    uint8_t kind;           /* RS_ALLOC_PY_OBJ / RS_ALLOC_PY_MEM */
    int domain;
};

/* One chain per domain from the constructor, and a second one should start-up replace the
 * first (PYTHONMALLOC): a chain struct is never reused, so an allocator that wrapped the
 * first one (tracemalloc does) can never be made to call itself. */
static struct chain obj_chain = {.kind = RS_ALLOC_PY_OBJ, .domain = RS_PYMEM_DOMAIN_OBJ};
static struct chain mem_chain = {.kind = RS_ALLOC_PY_MEM, .domain = RS_PYMEM_DOMAIN_MEM};
static struct chain obj_chain_again = {.kind = RS_ALLOC_PY_OBJ, .domain = RS_PYMEM_DOMAIN_OBJ};
static struct chain mem_chain_again = {.kind = RS_ALLOC_PY_MEM, .domain = RS_PYMEM_DOMAIN_MEM};
static bool installed_early;
/* Set while probing whether an allocation in this domain still reaches our hook. */
static RS_TLS int probing_domain = -1;
static RS_TLS bool probe_reached;
/* Probes running (any thread's): while there is one, a sampled hook_malloc goes the way
 * that tells a probe it was reached. */
static _Atomic int probes_running;

static void *hook_malloc(void *ctx, size_t size)
{
    struct chain *c = ctx;
    if (RS_UNLIKELY(probing_domain == c->domain))
        probe_reached = true;
    if (RS_UNLIKELY(!atomic_load_explicit(&rs_py_attach_requested, memory_order_relaxed)))
        rs_py_request_attach();
    rs_tl_passthrough++;
    void *p = c->below.malloc(c->below.ctx, size);
    rs_tl_passthrough--;
    if (p)
        rs_note_alloc(c->kind, p, size);
    return p;
}

static void *hook_calloc(void *ctx, size_t n, size_t size)
{
    struct chain *c = ctx;
    rs_tl_passthrough++;
    void *p = c->below.calloc(c->below.ctx, n, size);
    rs_tl_passthrough--;
    if (p)
        rs_note_alloc(c->kind, p, (uint64_t)n * size);
    return p;
}

static void *hook_realloc(void *ctx, void *p, size_t size)
{
    struct chain *c = ctx;
    uint64_t before = p ? rs_event_time(rs_tl_ring) : 0;
    rs_tl_passthrough++;
    void *q = c->below.realloc(c->below.ctx, p, size);
    rs_tl_passthrough--;
    if (q) {
        if (p)
            rs_note_free(RS_FREE_PY, p, before);
        rs_note_alloc(c->kind, q, size);
    }
    return q;
}

static void hook_free(void *ctx, void *p)
{
    struct chain *c = ctx;
    if (p)
        rs_note_free(RS_FREE_PY, p, 0); /* the shim's own Python calls make blocks too */
    rs_tl_passthrough++;
    c->below.free(c->below.ctx, p);
    rs_tl_passthrough--;
}

/* The hooks installed when sampling. An allocation the countdown skips, and the free of a
 * block the filter turns away (most of them), only call the allocator below: the decision
 * is taken before that call, so nothing is left to do after it and no register is kept
 * across it (callgrind, Debian 3.11 bench/py_churn.py 100000 sampled: 54 -> 36
 * instructions a malloc hook, 34 -> 26 a free hook, 442.6M -> 429.4M for the run, plain
 * 365.8M). The rest go on to the hooks above. Separate hooks, chosen at installation,
 * because the test of the mode in the hooks above cost full tracking 6M of its 789M. */
static void *hook_malloc_sampled(void *ctx, size_t size)
{
    struct chain *c = ctx;
    if (RS_LIKELY(atomic_load_explicit(&rs_py_attach_requested, memory_order_relaxed) &&
                  !atomic_load_explicit(&probes_running, memory_order_relaxed) &&
                  rs_sample_skips_before(size))) {
        rs_tl_passthrough++;
        void *p = c->below.malloc(c->below.ctx, size);
        rs_tl_passthrough--;
        return p;
    }
    return hook_malloc(ctx, size);
}

static void *hook_calloc_sampled(void *ctx, size_t n, size_t size)
{
    struct chain *c = ctx;
    uint64_t bytes;
    if (RS_LIKELY(!__builtin_mul_overflow((uint64_t)n, (uint64_t)size, &bytes) &&
                  rs_sample_skips_before(bytes))) {
        rs_tl_passthrough++;
        void *p = c->below.calloc(c->below.ctx, n, size);
        rs_tl_passthrough--;
        return p;
    }
    return hook_calloc(ctx, n, size);
}

static void hook_free_sampled(void *ctx, void *p)
{
    struct chain *c = ctx;
    if (RS_LIKELY(!p || rs_sample_free_skips(p))) {
        rs_tl_passthrough++;
        c->below.free(c->below.ctx, p);
        rs_tl_passthrough--;
        return;
    }
    hook_free(ctx, p);
}

static void install(struct chain *c)
{
    bool sampled = rs_cfg.sample_bytes != 0;
    PyMemAllocatorEx ours = {c, sampled ? hook_malloc_sampled : hook_malloc,
                             sampled ? hook_calloc_sampled : hook_calloc, hook_realloc,
                             sampled ? hook_free_sampled : hook_free};
    rs_py.PyMem_GetAllocator(c->domain, &c->below);
    rs_py.PyMem_SetAllocator(c->domain, &ours);
}

void rs_py_hooks_install(void)
{
    install(&obj_chain);
    install(&mem_chain);
    installed_early = !rs_py.Py_IsInitialized();
}

/* Whether an allocation in the domain still passes through one of our hooks: start-up may
 * have replaced them (PYTHONMALLOC, -X dev) or wrapped them (-X tracemalloc), and only the
 * first needs them installed again. GIL held. */
static bool still_reached(int domain)
{
    atomic_fetch_add(&probes_running, 1);
    probing_domain = domain;
    probe_reached = false;
    void *p = domain == RS_PYMEM_DOMAIN_OBJ ? rs_py.PyObject_Malloc(1) : rs_py.PyMem_Malloc(1);
    probing_domain = -1;
    atomic_fetch_sub(&probes_running, 1);
    if (p)
        domain == RS_PYMEM_DOMAIN_OBJ ? rs_py.PyObject_Free(p) : rs_py.PyMem_Free(p);
    return probe_reached;
}

bool rs_py_hooks_verify(void)
{
    bool reinstalled = false;
    if (!still_reached(RS_PYMEM_DOMAIN_OBJ)) {
        install(&obj_chain_again);
        reinstalled = true;
    }
    if (!still_reached(RS_PYMEM_DOMAIN_MEM)) {
        install(&mem_chain_again);
        reinstalled = true;
    }
    if (reinstalled)
        installed_early = false;
    return reinstalled;
}

bool rs_py_hooks_early(void)
{
    return installed_early;
}

/* Puts back what `c` replaced, if c's hooks are what the domain calls now. */
static bool uninstall(struct chain *c)
{
    PyMemAllocatorEx now;
    rs_py.PyMem_GetAllocator(c->domain, &now);
    if (now.ctx != c || (now.malloc != hook_malloc && now.malloc != hook_malloc_sampled))
        return false;
    rs_py.PyMem_SetAllocator(c->domain, &c->below);
    return true;
}

bool rs_py_hooks_uninstall(void)
{
    bool obj = uninstall(&obj_chain_again) || uninstall(&obj_chain);
    bool mem = uninstall(&mem_chain_again) || uninstall(&mem_chain);
    return obj && mem;
}

void rs_py_hooks_ensure(void)
{
    /* A chain struct Python no longer reaches is referenced by no allocator: reusing it
     * cannot make one call itself. */
    if (!still_reached(RS_PYMEM_DOMAIN_OBJ))
        install(&obj_chain);
    if (!still_reached(RS_PYMEM_DOMAIN_MEM))
        install(&mem_chain);
    installed_early = false;
}
