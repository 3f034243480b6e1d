/* Large zeroed tables whose pages are written before they are read. calloc's large blocks
 * are fresh mappings: a table probed before it is filled (a hash table, counters bumped in
 * place) first maps the zero page on each read, and the first write faults again and
 * copies. On a 5M-object trace that was twice the page faults of the analyzer's largest
 * tables. */
#ifndef REFSCOPE_ZEROED_TABLE_H
#define REFSCOPE_ZEROED_TABLE_H

#include <stddef.h>

/* Asks the kernel to back [p, p + len) with written pages now (a no-op where the advice
 * is not known: the pages then come on first touch, as they would anyway). */
void rs_prefault_write(void *p, size_t len);

/* calloc, with the pages of a large table prefaulted for writing. */
void *rs_calloc_table(size_t n, size_t size);

#endif
