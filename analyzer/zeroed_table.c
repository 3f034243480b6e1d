#include "zeroed_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Below this, calloc's memory comes from the heap, mostly written already. */
#define PREFAULT_MIN (1u << 20)

void rs_prefault_write(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
    /* madvise wants a page-aligned start: the partial first page is left to fault. */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t end = (uintptr_t)p + len;
    if (end > from)
        (void)madvise((void *)from, end - from, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)len;
#endif
}

void *rs_calloc_table(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p && n && size <= SIZE_MAX / n && n * size >= PREFAULT_MIN)
        rs_prefault_write(p, n * size);
    return p;
}
