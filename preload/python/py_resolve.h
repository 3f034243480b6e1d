/* Turns what the hooks recorded cheaply (code object ids, thread ids) into what a report
 * shows (file, qualified name and line table of each code object, thread name); the
 * analyzer finds the line of each byte offset in the code's table. Runs with the GIL held,
 * outside any allocator hook: at start-up, from gc callbacks (throttled), from a pending
 * call when a new thread shows up, at exit and before os._exit. */
#ifndef REFSCOPE_PY_RESOLVE_H
#define REFSCOPE_PY_RESOLVE_H

#include "py_api.h"

RS_HIDDEN bool rs_py_resolve_init(void);
/* Set while the resolver or a snapshot runs (GIL held): neither may start inside the other
 * through a callback that Python runs meanwhile. */
extern RS_HIDDEN bool rs_py_work_in_progress;
RS_HIDDEN void rs_py_resolve(void);
RS_HIDDEN void rs_py_emit_interpreter(void);

#endif
