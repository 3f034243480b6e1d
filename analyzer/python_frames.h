/* Python frames of a stack: a code id and an instruction offset, resolved through the
 * trace's PY_CODE records (and their line tables) and PY_LINE records to a function (the
 * code object's qualified name), a file and a line. */
#ifndef REFSCOPE_PYTHON_FRAMES_H
#define REFSCOPE_PYTHON_FRAMES_H

#include "frame.h"
#include "trace_model.h"

/* Fills `out` (whose strings it allocates) for code id `code` at instruction `offset`
 * (RS_PYOFFSET_ENTRY already removed). A code id the trace does not describe becomes
 * function "<python code #ID>" with no file; an offset whose line neither a PY_LINE record
 * nor the code's line table gives, line 0.
 * Returns false when out of memory. */
bool rs_python_frame_resolve(const struct rs_trace *t, uint64_t code, uint64_t offset,
                             struct rs_frame *out);

/* The trace describes a Python process: it has a PY_INTERP record, or any code object. */
bool rs_trace_is_python(const struct rs_trace *t);

/* A Python file as the outputs show it: its base name, with its directory's when the base
 * name alone says little (logging/__init__.py, not __init__.py). A suffix of `path`. */
const char *rs_python_file_shown(const char *path);

/* A frame's file as the outputs show it: rs_python_file_shown for a Python frame, the
 * base name for a native one; NULL when it has none. */
const char *rs_frame_file_shown(const struct rs_frame *f);

/* Is `path` a library's Python file (the standard library, an installed package, a
 * frozen module) rather than the program's own? */
bool rs_python_file_is_library(const char *path);

#endif
