#include "shim.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Raw system calls: the shim's own memory must not pass through the mmap it interposes. */
static void *map_anonymous(size_t bytes, int extra_flags)
{
    long p = syscall(SYS_mmap, NULL, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extra_flags, -1, 0);
    if (p == -1) /* glibc's syscall() returns -1 and sets errno on failure */
        return NULL;
    return (void *)p;
}

void *rs_sys_map(size_t bytes)
{
    return map_anonymous(bytes, 0);
}

/* Sampling records about one allocation in a thousand: a ring or the stack arena then
 * fills so slowly that a huge page is 2 MB to clear (about 2 ms in a VM) for a few kB
 * written, and small pages cost less. */
void rs_sys_advise_huge(void *p, size_t bytes)
{
    if (rs_cfg.sample_bytes)
        return;
    (void)syscall(SYS_madvise, p, bytes, MADV_HUGEPAGE);
}

void *rs_sys_map_huge(size_t bytes)
{
    void *p = map_anonymous(bytes, 0);
    if (p)
        rs_sys_advise_huge(p, bytes);
    return p;
}

void *rs_sys_map_touched(size_t bytes)
{
    return map_anonymous(bytes, MAP_POPULATE);
}

void rs_sys_unmap(void *p, size_t bytes)
{
    syscall(SYS_munmap, p, bytes);
}

pid_t rs_gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}
