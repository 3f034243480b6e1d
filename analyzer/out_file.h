/* Files the analyzer writes because the user named them (-o): opened so that a symbolic
 * link planted at that name is never followed (the name is the link, not its target), and
 * never into a directory, FIFO or device. An existing regular file the user named is
 * replaced. Traces themselves are written by the shim, which is stricter (preload/output.c:
 * never an existing file at all). */
#ifndef REFSCOPE_OUT_FILE_H
#define REFSCOPE_OUT_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Returns the open file (mode "w", emptied), or NULL with a one-line reason in err
 * ("PATH: why", PATH as given: escape it before showing it). */
FILE *rs_out_open(const char *path, char *err, size_t errcap);
/* Writes len bytes to path as rs_out_open opens it. Returns 0, or -1 with err. */
int rs_out_write(const char *path, const void *data, size_t len, char *err, size_t errcap);

/* Opens path for reading only when it is a regular file, without ever waiting (a FIFO
 * without a writer): the descriptor, or -1 with errno (EINVAL: not a regular file). For
 * paths read from a trace (module files to symbolize). */
int rs_open_regular(const char *path);
/* close(fd) unless it is closed already. */
void rs_close_if_open(int fd);

#endif
