#include "py_hooks.h"

#include "owned_blocks.h"
#include "rs_trace_format.h"

struct chain {
    PyMemAllocatorEx below; /* the allocator we replaced */
    uint8_t kind;           /* RS_ALLOC_PY_OBJ / RS_ALLOC_PY_MEM */
    int domain;
};

static struct chain obj_chain = {.kind = RS_ALLOC_PY_OBJ, .domain = RS_PYMEM_DOMAIN_OBJ};
static struct chain mem_chain = {.kind = RS_ALLOC_PY_MEM, .domain = RS_PYMEM_DOMAIN_MEM};
static bool installed_early;

static void *hook_malloc(void *ctx, size_t size)
{
    struct chain *c = ctx;
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
    uint64_t before = p ? rs_now_ns() : 0;
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
        rs_note_free(RS_FREE_PY, p, rs_now_ns());
    rs_tl_passthrough++;
    c->below.free(c->below.ctx, p);
    rs_tl_passthrough--;
}

static void install(struct chain *c)
{
    PyMemAllocatorEx ours = {c, hook_malloc, hook_calloc, hook_realloc, hook_free};
    rs_py.PyMem_GetAllocator(c->domain, &c->below);
    rs_py.PyMem_SetAllocator(c->domain, &ours);
}

void rs_py_hooks_install(void)
{
    install(&obj_chain);
    install(&mem_chain);
    installed_early = !rs_py.Py_IsInitialized();
}

static bool still_ours(struct chain *c)
{
    PyMemAllocatorEx now;
    rs_py.PyMem_GetAllocator(c->domain, &now);
    return now.malloc == hook_malloc && now.ctx == c;
}

bool rs_py_hooks_verify(void)
{
    bool reinstalled = false;
    struct chain *chains[] = {&obj_chain, &mem_chain};
    for (int i = 0; i < 2; i++) {
        if (!still_ours(chains[i])) {
            install(chains[i]);
            reinstalled = true;
        }
    }
    if (reinstalled)
        installed_early = false;
    return reinstalled;
}

bool rs_py_hooks_early(void)
{
    return installed_early;
}
