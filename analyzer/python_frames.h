/* Python frames of a stack. The trace's Python records (code objects, line tables) are not
 * decoded yet, so a Python frame is shown by its code id and offset; resolving it to a
 * function, file and line will happen here, and only here. */
#ifndef REFSCOPE_PYTHON_FRAMES_H
#define REFSCOPE_PYTHON_FRAMES_H

#include "frame.h"
#include "trace_model.h"

/* Fills `out` (whose strings it allocates) for code id `code` at instruction `offset`.
 * Returns false when out of memory. */
bool rs_python_frame_resolve(const struct rs_trace *t, uint64_t code, uint64_t offset,
                             struct rs_frame *out);

#endif
