/* Object-graph snapshots: every gc-tracked object (frozen ones too, walked from the
 * collector's own generation lists), its referents through tp_traverse with labelled
 * edges, the non-gc referents once as leaves, and the roots (modules, running threads'
 * frames). One pass with the GIL held, written straight into the trace in chunks; no
 * Python objects are built and no Python code runs. */
#ifndef REFSCOPE_PY_SNAPSHOT_H
#define REFSCOPE_PY_SNAPSHOT_H

#include "py_api.h"

#include "rs_trace_format.h"

/* GIL held, not inside an allocator hook. Returns false when the snapshot was skipped. */
RS_HIDDEN bool rs_py_snapshot(enum rs_snap_trigger trigger, const char *label);
/* A new trace in the same process (attached again): snapshot ids start over. */
RS_HIDDEN void rs_py_snapshot_new_trace(void);

#endif
