/* CPython's allocator domains (PyObject_Malloc and PyMem_Malloc families), hooked by
 * chaining: each hook calls the allocator it replaced, then records. */
#ifndef REFSCOPE_PY_HOOKS_H
#define REFSCOPE_PY_HOOKS_H

#include "py_api.h"

/* From the constructor, before Py_Initialize (allowed by PEP 445). */
RS_HIDDEN void rs_py_hooks_install(void);
/* After start-up, GIL held: PYTHONMALLOC or -X dev replace allocators at pre-init; chain
 * again if ours are gone. Returns true when they had to be re-installed. */
RS_HIDDEN bool rs_py_hooks_verify(void);
RS_HIDDEN bool rs_py_hooks_early(void);
/* Attach mode, at detach, GIL held: puts back the allocators refscope's hooks replaced, in
 * each domain where a hook of refscope's is still on top. false when one is not (another
 * hook was installed over it): that one stays, passing calls through. */
RS_HIDDEN bool rs_py_hooks_uninstall(void);
/* Attach mode, GIL held, the interpreter running: installs the hooks in each domain where
 * an allocation does not reach one of refscope's already (the first attach, or again after
 * a detach that restored the allocators; hooks left passing through record again). */
RS_HIDDEN void rs_py_hooks_ensure(void);

#endif
