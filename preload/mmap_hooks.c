/* Anonymous mappings are allocations too: CPython's arenas and many allocators' large
 * blocks come straight from mmap. File mappings are not recorded; munmap is recorded
 * whatever it unmaps, and the analyzer ignores ranges it never saw mapped. */
#define _GNU_SOURCE
#include "shim.h"

#include "owned_blocks.h"
#include "rs_trace_format.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    /* glibc's syscall() returns -1 and sets errno on failure */
    long p = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return p == -1 ? MAP_FAILED : (void *)p;
}

static void *mmap_impl(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (!rs_recording()) {
        void *p = raw_mmap(addr, len, prot, flags, fd, off);
        /* the shim's helpers (libunwind's caches) map memory too, and unmap it later
         * outside the shim: remember it as the shim's */
        if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) && rs_tl_busy && !rs_tl_passthrough &&
            atomic_load_explicit(&rs_state, memory_order_relaxed) == RS_STATE_ACTIVE)
            rs_owned_add(p);
        return p;
    }
    /* only a MAP_FIXED mapping records a time taken before the call */
    uint64_t before = (flags & MAP_FIXED) ? rs_event_time(rs_tl_ring) : 0;
    void *p = raw_mmap(addr, len, prot, flags, fd, off);
    if (p == MAP_FAILED)
        return p;
    if (flags & MAP_FIXED)
        rs_record_munmap(p, len, before); /* MAP_FIXED replaces whatever was there */
    if (flags & MAP_ANONYMOUS)
        rs_record_alloc(RS_ALLOC_MMAP, p, len, __builtin_frame_address(0));
    return p;
}

RS_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_impl(addr, len, prot, flags, fd, off);
}

RS_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_impl(addr, len, prot, flags, fd, off);
}

RS_EXPORT int munmap(void *addr, size_t len)
{
    if (!rs_owned_remove(addr) && rs_recording_frees())
        rs_record_munmap(addr, len, rs_event_time(rs_tl_ring));
    return (int)syscall(SYS_munmap, addr, len);
}

RS_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    uint64_t before = rs_event_time(rs_tl_ring);
    long p = syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
    if (p == -1)
        return MAP_FAILED;
    if (rs_recording()) {
        rs_record_munmap(old, old_len, before);
        rs_record_alloc(RS_ALLOC_MMAP, (void *)p, new_len, __builtin_frame_address(0));
    }
    return (void *)p;
}
