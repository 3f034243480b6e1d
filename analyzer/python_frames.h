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

#endif
