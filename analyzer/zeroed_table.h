/* Large tables whose pages are written before they are read. calloc's large blocks are
 * fresh mappings: a table probed before it is filled (a hash table, counters bumped in
 * place) first maps the zero page on each read, and the first write faults again and
 * copies. On a 5M-object trace that was twice the page faults of the analyzer's largest
 * tables. Populating the pages in one call, as huge pages where the kernel has them, also
 * spares the fault taken on each 4 kB page of an array filled in order: a 5M-object graph
 * is over 100,000 of them, and where a fault is slow (10 us measured in a VM) they cost
 * more than the work done in the pages. */
#ifndef REFSCOPE_ZEROED_TABLE_H
#define REFSCOPE_ZEROED_TABLE_H

#include <stddef.h>

/* Asks the kernel to back [p, p + len) with written pages now, huge pages for a large
 * range (no-ops where the advice is not known: the pages then come on first touch, as
 * they would anyway). */
void rs_prefault_write(void *p, size_t len);

/* calloc, with the pages of a large table prefaulted for writing. */
void *rs_calloc_table(size_t n, size_t size);

/* malloc of an array that will be written whole, its pages prefaulted. */
void *rs_malloc_table(size_t n, size_t size);

/* An array that will be written in order, grown from old_bytes to new_bytes: a new block,
 * its pages prefaulted, with p's old_bytes copied and p freed (NULL when out of memory, p
 * untouched). */
void *rs_realloc_table(void *p, size_t old_bytes, size_t new_bytes);

#endif
