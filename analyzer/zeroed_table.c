#include "zeroed_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Below this, the memory comes from the heap, mostly written already. */
#define PREFAULT_MIN (1u << 20)
/* Huge pages for ranges holding at least two of them: a range's partial huge pages at
 * either end stay small pages. */
#define HUGE_PAGE ((uintptr_t)2 << 20)
#define HUGE_MIN (2 * HUGE_PAGE)
/* Pages populated by one call (a multiple of the huge page). */
#define POPULATE_STEP (8 * HUGE_PAGE)

void rs_prefault_write(void *p, size_t len)
{
    if (len < PREFAULT_MIN)
        return;
    uintptr_t start = (uintptr_t)p, end = start + len;
#ifdef MADV_HUGEPAGE
    /* Measured on 400 MB here: touched page by page 1.04 s, populated 0.54 s, as huge
     * pages then populated 0.03 s while the VM had that much memory at hand (beyond a few
     * hundred MB its first touch of memory costs about 1 s per GB whichever way). */
    uintptr_t huge_from = (start + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t huge_end = end & ~(HUGE_PAGE - 1);
    if (len >= HUGE_MIN && huge_end > huge_from)
        (void)madvise((void *)huge_from, huge_end - huge_from, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
    /* madvise wants a page-aligned start: the partial first page is left to fault. In steps:
     * the call holds the process's memory lock, and another thread's mmap or munmap waits
     * for it (the report's replay beside its snapshot analysis waited up to 0.4 s for one
     * 240 MB table). */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (uintptr_t from = (start + page - 1) & ~(page - 1); from < end; from += POPULATE_STEP) {
        uintptr_t to = end - from > POPULATE_STEP ? from + POPULATE_STEP : end;
        (void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
    }
#else
    (void)end;
#endif
}

static size_t bytes_of(size_t n, size_t size)
{
    return n && size > SIZE_MAX / n ? 0 : n * size;
}

void *rs_malloc_table(size_t n, size_t size)
{
    size_t bytes = bytes_of(n, size);
    void *p = bytes || !n || !size ? malloc(bytes ? bytes : 1) : NULL;
    if (p)
        rs_prefault_write(p, bytes);
    return p;
}

/* Zeroed after the prefault: calloc would clear a block reused from the heap first, page
 * by page, through the faults the prefault is there to spare. */
void *rs_calloc_table(size_t n, size_t size)
{
    void *p = rs_malloc_table(n, size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

/* Moved by hand, not by realloc: its copy would fault the new block's pages in one by one
 * before they could be prefaulted. */
void *rs_realloc_table(void *p, size_t old_bytes, size_t new_bytes)
{
    if (new_bytes <= old_bytes)
        return p;
    char *q = rs_malloc_table(new_bytes, 1);
    if (!q)
        return NULL;
    if (p)
        memcpy(q, p, old_bytes);
    free(p);
    return q;
}
