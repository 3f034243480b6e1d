/* CPython support, seen from the rest of the shim. */
#ifndef REFSCOPE_PY_ATTACH_H
#define REFSCOPE_PY_ATTACH_H

#include "shim.h"

/* Constructor: in a CPython process, hook the allocator domains now and start the thread
 * that attaches once the interpreter is initialized. */
RS_HIDDEN void rs_py_init(void);
/* Appends the calling thread's Python frames to a stack being captured. `python_domain`:
 * the caller is a PyObject/PyMem hook (the thread holds the GIL). */
RS_HIDDEN uint32_t rs_py_capture_current(bool python_domain, uint64_t *words, uint32_t max_words);
extern RS_HIDDEN _Atomic bool rs_py_stacks_on;
/* Before the trace ends for `reason` (an rs_end_reason): last resolution while Python can
 * still run. */
RS_HIDDEN void rs_py_before_finish(int reason);
RS_HIDDEN void rs_py_after_fork_child(void);
/* From a Python allocator hook on the main thread, until it has been asked once: attach
 * (pending call) as soon as the interpreter is initialized. */
extern RS_HIDDEN _Atomic bool rs_py_attach_requested;
RS_HIDDEN void rs_py_request_attach(void);
/* From an allocator hook: have the resolver run soon, between bytecodes. */
RS_HIDDEN void rs_py_request_resolve(void);

#endif
