/* Python stacks: a walk of the interpreter's own frame chain (no frame objects created,
 * nothing allocated, safe inside allocator hooks), giving (code id, byte offset) pairs.
 * Code objects are interned into small ids; file, name and line are resolved later, with
 * the GIL held, outside any hook (py_resolve.c). */
#ifndef REFSCOPE_PY_FRAMES_H
#define REFSCOPE_PY_FRAMES_H

#include "py_api.h"

RS_HIDDEN bool rs_py_frames_init(void);
/* Appends the Python frames of thread state `tstate` to words (2 words per frame); returns
 * the number of words written. `gil_held`: the caller holds the GIL, so code objects seen
 * for the first time can be interned (and pinned with Py_IncRef); without it, frames of
 * code objects not interned yet are left out. */
RS_HIDDEN uint32_t rs_py_capture(void *tstate, bool gil_held, uint64_t *words, uint32_t max_words);
/* The interned id of the same stack (RS_STACK_ID_NONE for none), words its scratch space.
 * Faster than rs_py_capture and rs_stack_intern: the thread's memo of the frames below the
 * top one (ring.h) is checked before anything is read of the code objects. */
RS_HIDDEN uint32_t rs_py_stack_id(void *tstate, bool gil_held, uint64_t *words, uint32_t max_words);

/* The code table, for the resolver. */
RS_HIDDEN uint32_t rs_py_code_count(void);      /* ids run from 1 to count */
RS_HIDDEN PyObject *rs_py_code_object(uint32_t id);

#endif
