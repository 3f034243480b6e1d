/* The `refscope` module the shim provides to the profiled program (import refscope works
 * only under refscope), and the object-graph snapshots it triggers. */
#ifndef REFSCOPE_PY_MODULE_H
#define REFSCOPE_PY_MODULE_H

#include "py_api.h"

/* Constructor: `import refscope` as a builtin module. */
RS_HIDDEN void rs_py_module_register(void);
/* At attach: the snapshot signal handler. */
RS_HIDDEN void rs_py_module_install(void);
/* The snapshot every trace ends with (atexit, or before os._exit). GIL held. */
RS_HIDDEN void rs_py_module_final_snapshot(const char *label);
/* gc.callbacks hook: snapshots after every Kth full collection. */
RS_HIDDEN void rs_py_module_after_gc(PyObject *args);
/* Periodic work on the poll thread after attach (snapshot interval); returns at once when
 * there is none, which ends the thread. */
RS_HIDDEN void rs_py_module_poll_loop(_Atomic bool *stop);
RS_HIDDEN bool rs_py_module_wants_poll_thread(void);

#endif
