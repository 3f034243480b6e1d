/* The trace file: its name (from REFSCOPE_OUTPUT) and its header. */
#ifndef REFSCOPE_OUTPUT_H
#define REFSCOPE_OUTPUT_H

#include "shim.h"

struct rs_buf;

/* Creates the file (O_EXCL|O_NOFOLLOW, mode 0600) and returns its descriptor, or -1 after
 * one line on stderr. Never overwrites: a taken name gets a numbered variant. */
RS_HIDDEN int rs_output_create(char *path, size_t cap, bool fork_child);
RS_HIDDEN void rs_output_header(struct rs_buf *out, bool fork_child);
/* Before exec: the finished trace moves aside (NAME.pre-exec.rsc, numbered if taken) so
 * the image exec'd takes NAME: `refscope run -o NAME -- wrapper-script` then names the
 * program the user cares about. Returns false when it stayed in place. */
RS_HIDDEN bool rs_output_move_aside(char *path, size_t cap);
RS_HIDDEN void rs_output_move_back(char *path, const char *original);

#endif
