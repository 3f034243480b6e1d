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
/* The interned id of the calling thread's Python stack alone (RS_STACK_ID_NONE for
 * none); words is scratch space of RS_STACK_MAX_WORDS. */
RS_HIDDEN uint32_t rs_py_stack_id_current(bool python_domain, uint64_t *words, uint32_t max_words);
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

/* Attach mode (attach.h): the interpreter was running before refscope was loaded. */
enum rs_py_attach_state {
    RS_PYA_NONE = 0,        /* not a CPython process */
    RS_PYA_UNSUPPORTED = 1, /* CPython, but not one refscope supports: native-only */
    RS_PYA_PENDING = 2,     /* waiting for the GIL to install the allocator hooks */
    RS_PYA_ATTACHED = 3,
    RS_PYA_ENDED = 4,       /* finalizing, or detached */
};
/* *detail: the version ("CPython 3.11.2"), or why it is not supported. */
RS_HIDDEN int rs_py_attach_state(const char **detail);
/* From a thread not holding the GIL (the control thread): a snapshot (RS_SNAP_ATTACH). */
RS_HIDDEN bool rs_py_attach_snapshot(const char *label);
/* From a thread not holding the GIL: a last resolution, then CPython's allocators put back
 * (when refscope's are still on top of the chain; else they stay, passing through) and
 * refscope's callbacks unregistered. `out`: what was done, for the trace's note. */
RS_HIDDEN void rs_py_attach_detach(char *out, size_t cap);
/* After the trace's end: the Python thread is stopped (and joined when it can be). */
RS_HIDDEN void rs_py_attach_stop_thread(void);
RS_HIDDEN void rs_py_attach_after_fork_child(void);
/* Attached again after a detach: the Python thread attaches once more. */
RS_HIDDEN void rs_py_attach_again(void);

#endif
