/* Counting a trace file's event records in a second thread while the reader goes on: a
 * trace read without its events (every command reads it so first) still steps over each
 * event record to count it, and that walk with the chunks' checksums was most of reading a
 * large trace, in one thread. The counter takes every other thread chunk (the 2nd, 4th...),
 * read from the file on its own (pread), checks its checksum and counts its events; the
 * reader, going through the chunks in order, takes its tally for those instead of doing
 * them, and does the others itself. A chunk the counter cannot vouch for (a checksum that
 * does not match, a record that is not an event, one cut short) the reader does itself, so
 * every error is found and reported as the reader alone would. */
#ifndef REFSCOPE_CHUNK_COUNTER_H
#define REFSCOPE_CHUNK_COUNTER_H

#include "trace_records.h"

#include <stdbool.h>
#include <stdint.h>

struct rs_chunk_counter;

/* Starts counting the chunks of fd's first file_size bytes from byte `at` (the first
 * chunk). NULL (the reader does every chunk) when the file is smaller than the size set
 * (16 MB), or when no thread or memory can be had. */
struct rs_chunk_counter *rs_chunk_counter_start(int fd, uint64_t at, uint64_t file_size);
/* For the reader's next thread chunk, in file order, at byte `at`: true with *tally when
 * the counter did it, false when the reader is to do it. */
bool rs_chunk_counter_take(struct rs_chunk_counter *c, uint64_t at, struct rs_event_tally *tally);
/* Stops the counter's thread (wherever it is) and frees it; NULL does nothing. */
void rs_chunk_counter_stop(struct rs_chunk_counter *c);
/* The file size from which a counter starts (tests set it to compare both ways). */
void rs_chunk_counter_set_min_bytes(uint64_t bytes);

#endif
