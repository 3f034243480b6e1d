/* Reading a file's bytes at an offset with pread, whole or not at all: the snapshot loader
 * and the trace's chunk counter read the trace file that way, each thread with a buffer of
 * its own on a shared descriptor. */
#ifndef REFSCOPE_FILE_READ_H
#define REFSCOPE_FILE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes [at, at + len) of fd into buf. False when the file ends before or a read fails. */
bool rs_pread_all(int fd, void *buf, size_t len, uint64_t at);
/* The same into *buf, first grown to len bytes when *cap (its size) is smaller. Returns
 * *buf, or NULL: out of memory (errno ENOMEM) or as rs_pread_all. */
const uint8_t *rs_pread_buffered(int fd, uint8_t **buf, size_t *cap, size_t len, uint64_t at);

#endif
