/* The interposed C allocator. The real functions come from dlsym(RTLD_NEXT), so a program
 * with its own malloc (jemalloc, tcmalloc) keeps it. dlsym itself may call calloc/malloc:
 * while a thread resolves, its requests are served from a static bootstrap arena, whose
 * blocks are never passed to the real free. */
#define _GNU_SOURCE
#include "shim.h"

#include "owned_blocks.h"
#include "rs_trace_format.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct real_alloc {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
};

static struct real_alloc real;
static _Atomic bool real_ready;
static RS_TLS bool tl_resolving;

#define BOOTSTRAP_BYTES (256 * 1024)
static _Alignas(64) char bootstrap_arena[BOOTSTRAP_BYTES];
static _Atomic size_t bootstrap_used;

struct bootstrap_header {
    size_t size;
    size_t unused;
};

static bool is_bootstrap(const void *p)
{
    return (const char *)p >= bootstrap_arena && (const char *)p < bootstrap_arena + BOOTSTRAP_BYTES;
}

static void *bootstrap_alloc(size_t size, size_t align)
{
    if (align < 16)
        align = 16;
    for (;;) {
        size_t used = atomic_load(&bootstrap_used);
        size_t start = (used + sizeof(struct bootstrap_header) + align - 1) & ~(align - 1);
        size_t end = start + size;
        if (end > BOOTSTRAP_BYTES || end < start)
            return NULL;
        if (atomic_compare_exchange_weak(&bootstrap_used, &used, end)) {
            ((struct bootstrap_header *)(bootstrap_arena + start))[-1].size = size;
            return bootstrap_arena + start; /* static memory: already zero */
        }
    }
}

static size_t bootstrap_size(const void *p)
{
    return ((const struct bootstrap_header *)p)[-1].size;
}

#define RESOLVE(name) (*(void **)&r.name = dlsym(RTLD_NEXT, #name))

static void resolve_real(void)
{
    if (atomic_load_explicit(&real_ready, memory_order_acquire))
        return;
    struct real_alloc r;
    tl_resolving = true;
    RESOLVE(malloc);
    RESOLVE(free);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(memalign);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    RESOLVE(malloc_usable_size);
    tl_resolving = false;
    if (!r.malloc || !r.free || !r.calloc || !r.realloc) {
        static const char msg[] = "refscope: cannot find the real malloc; aborting\n";
        ssize_t unused = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)unused;
        abort();
    }
    real = r;
    atomic_store_explicit(&real_ready, true, memory_order_release);
}

RS_HIDDEN void rs_malloc_hooks_init(void)
{
    resolve_real();
}

/* true: the caller must serve the request from the bootstrap arena */
static inline bool need_bootstrap(void)
{
    if (RS_LIKELY(atomic_load_explicit(&real_ready, memory_order_acquire)))
        return false;
    if (tl_resolving)
        return true;
    resolve_real();
    return false;
}

/* The allocation recorded (or counted down): out of line, so that malloc's way for an
 * allocation the sampling countdown skips saves no register. */
static __attribute__((noinline)) void *malloc_noted(size_t size)
{
    void *p = real.malloc(size);
    if (RS_LIKELY(p != NULL))
        rs_note_alloc(RS_ALLOC_MALLOC, p, size);
    return p;
}

/* Sampling: an allocation the countdown skips (most of them) is decided before the call and
 * only jumps to the real malloc (rs_sample_skips_before). */
RS_EXPORT void *malloc(size_t size)
{
    if (RS_UNLIKELY(need_bootstrap()))
        return bootstrap_alloc(size, 16);
    if (rs_sample_skips_before(size))
        return real.malloc(size);
    return malloc_noted(size);
}

static __attribute__((noinline)) void free_noted(void *p)
{
    rs_note_free(RS_FREE_FREE, p, 0);
    real.free(p);
}

/* Sampling: the free of a block the filter turns away (most of them) only jumps to the real
 * free. */
RS_EXPORT void free(void *p)
{
    if (!p || RS_UNLIKELY(is_bootstrap(p)))
        return;
    if (RS_UNLIKELY(need_bootstrap()))
        return;
    if (rs_sample_free_skips(p)) {
        real.free(p);
        return;
    }
    free_noted(p);
}

RS_EXPORT void *calloc(size_t n, size_t size)
{
    if (RS_UNLIKELY(need_bootstrap())) {
        size_t bytes;
        if (__builtin_mul_overflow(n, size, &bytes))
            return NULL;
        return bootstrap_alloc(bytes, 16);
    }
    void *p = real.calloc(n, size);
    if (RS_LIKELY(p != NULL))
        rs_note_alloc(RS_ALLOC_CALLOC, p, (uint64_t)n * size);
    return p;
}

static void *realloc_impl(void *p, size_t size)
{
    if (RS_UNLIKELY(need_bootstrap() || (p && is_bootstrap(p)))) {
        void *q = (real_ready && !tl_resolving) ? malloc(size) : bootstrap_alloc(size, 16);
        if (q && p) {
            size_t old = bootstrap_size(p);
            memcpy(q, p, old < size ? old : size);
        }
        return q;
    }
    if (!p) {
        void *q = real.realloc(NULL, size);
        if (q)
            rs_note_alloc(RS_ALLOC_REALLOC, q, size);
        return q;
    }
    /* The old block is stamped before the real call: once realloc frees it, another thread
     * may get the same address, and its allocation must sort after this free. */
    uint64_t before = rs_event_time(rs_tl_ring);
    void *q = real.realloc(p, size);
    if (q) {
        rs_note_free(RS_FREE_REALLOC, p, before);
        rs_note_alloc(RS_ALLOC_REALLOC, q, size);
    } else if (size == 0) {
        rs_note_free(RS_FREE_REALLOC, p, before); /* glibc frees on realloc(p, 0) */
    }
    return q;
}

RS_EXPORT void *realloc(void *p, size_t size)
{
    return realloc_impl(p, size);
}

RS_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_impl(p, bytes);
}

RS_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (RS_UNLIKELY(need_bootstrap())) {
        void *p = bootstrap_alloc(size, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    int rc = real.posix_memalign(out, align, size);
    if (rc == 0)
        rs_note_alloc(RS_ALLOC_ALIGNED, *out, size);
    return rc;
}

RS_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (RS_UNLIKELY(need_bootstrap()))
        return bootstrap_alloc(size, align);
    void *p = real.aligned_alloc(align, size);
    if (p)
        rs_note_alloc(RS_ALLOC_ALIGNED, p, size);
    return p;
}

RS_EXPORT void *memalign(size_t align, size_t size)
{
    if (RS_UNLIKELY(need_bootstrap()))
        return bootstrap_alloc(size, align);
    void *p = real.memalign(align, size);
    if (p)
        rs_note_alloc(RS_ALLOC_ALIGNED, p, size);
    return p;
}

RS_EXPORT void *valloc(size_t size)
{
    if (RS_UNLIKELY(need_bootstrap()))
        return bootstrap_alloc(size, 4096);
    void *p = real.valloc(size);
    if (p)
        rs_note_alloc(RS_ALLOC_ALIGNED, p, size);
    return p;
}

RS_EXPORT void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded = (size + page - 1) & ~(page - 1);
    if (RS_UNLIKELY(need_bootstrap()))
        return bootstrap_alloc(rounded ? rounded : page, page);
    void *p = real.pvalloc(size);
    if (p)
        rs_note_alloc(RS_ALLOC_ALIGNED, p, rounded ? rounded : page);
    return p;
}

RS_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (is_bootstrap(p))
        return bootstrap_size(p);
    if (RS_UNLIKELY(need_bootstrap()))
        return 0;
    return real.malloc_usable_size ? real.malloc_usable_size(p) : 0;
}
