/* Attach mode: librefscope.so loaded into a running process by `refscope attach` (gdb calls
 * dlopen at a safe point; see analyzer/cmd_attach.c), rather than preloaded.
 *
 * The CLI sets REFSCOPE_ATTACH=<session prefix> (and REFSCOPE_OUTPUT) in the process's
 * environment before the dlopen and removes them afterwards. The constructor then:
 *   - sends refscope's own messages to <prefix>.log instead of the program's stderr;
 *   - opens the trace (header flag RS_TRACE_FLAG_ATTACHED) and starts the writer;
 *   - redirects the program's GOT slots of the interposed functions (got_patch.h);
 *   - leaves CPython's allocator hooks to the Python thread, which installs them with the
 *     GIL held (py_attach.c), since the interpreter is already running;
 *   - listens on the unix socket <prefix>.sock for the CLI's commands (control.c).
 * `detach` puts everything back: Python's allocators (when refscope's are still on top),
 * the GOT slots, and stops refscope's threads after the END record (RS_END_DETACH). The
 * library stays loaded (-z nodelete), inert. */
#ifndef REFSCOPE_ATTACH_H
#define REFSCOPE_ATTACH_H

#include "shim.h"

extern RS_HIDDEN bool rs_attach_mode;

/* Constructor, first thing: notices attach mode and opens the session's log file. */
RS_HIDDEN void rs_attach_early(void);
/* Constructor, once the trace is open, the writer runs and Python support started:
 * GOT patching and the control channel. On failure the trace ends at once. */
RS_HIDDEN void rs_attach_start(void);
/* A process forked while attached is not traced: its calls pass through refscope's hooks,
 * which record nothing, and it keeps none of refscope's descriptors. */
RS_HIDDEN void rs_attach_after_fork_child(void);

/* control.c */
RS_HIDDEN bool rs_control_start(const char *socket_path);
/* The session prefix (<dir>/<pid as the CLI sees it>). */
RS_HIDDEN const char *rs_attach_prefix(void);
/* Detach, run by the control thread: returns a one-line summary of what was restored. */
RS_HIDDEN void rs_attach_detach(char *summary, size_t cap);
/* Native tracking state, for `status`. */
RS_HIDDEN void rs_attach_native_status(char *out, size_t cap);
/* From the control thread's loop: patch objects loaded since the last pass. */
RS_HIDDEN void rs_attach_repatch_if_needed(void);
RS_HIDDEN void rs_control_after_fork_child(void);

#endif
