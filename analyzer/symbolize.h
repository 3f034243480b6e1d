/* Offline symbolization of native stacks with libdwfl: the module maps recorded in the
 * trace say which file was loaded where, and the files on this machine give the symbols
 * and lines (with the functions inlined at each address, from DWARF). Python frames are
 * resolved with the trace's Python records (python_frames.h). Results are cached per
 * address. */
#ifndef REFSCOPE_SYMBOLIZE_H
#define REFSCOPE_SYMBOLIZE_H

#include "frame.h"
#include "notes.h"
#include "trace_model.h"

struct rs_symbolizer;

/* Problems with modules (missing on disk, another build) are added to `notes`, once per
 * module. NULL when out of memory. */
struct rs_symbolizer *rs_symbolizer_new(const struct rs_trace *t, struct rs_notes *notes);
void rs_symbolizer_free(struct rs_symbolizer *s);

/* How a stack is shown. */
enum rs_stack_view {
    /* The Python frames only, when the stack has any; else as RS_VIEW_NATIVE_ONLY. */
    RS_VIEW_PYTHON = 0,
    /* Native frames, each C frame of CPython's eval loop (_PyEval_EvalFrameDefault)
     * replaced by the Python frames it ran (see rs_symbolize_stack_view). */
    RS_VIEW_HYBRID = 1,
    /* Native frames only. */
    RS_VIEW_NATIVE_ONLY = 2,
};

/* A stack as shown: refscope's own frames dropped, allocator frames on top dropped, then
 * at most `max_depth` frames (0: all). The frames belong to the symbolizer. */
struct rs_frames {
    const struct rs_frame **v;
    size_t n;
    size_t omitted;          /* frames beyond max_depth */
    size_t python;           /* Python frames in the stack (shown or not) */
    enum rs_stack_view view; /* the view used: RS_VIEW_PYTHON only when there were Python
                              * frames, RS_VIEW_HYBRID only when there were both */
    bool splice_mismatch;    /* hybrid: the eval-loop frames and the groups of Python frames
                              * did not pair up, so all Python frames stand in place of the
                              * innermost eval-loop frame (or after the native frames) */
};

/* Native words are return addresses (even the innermost: the shim drops its own frames),
 * looked up one byte before. A word whose address has inlined code becomes several frames,
 * innermost first (rs_frame.inlined on all but the last).
 *
 * RS_VIEW_HYBRID: the Python frames form groups, each ending (outwards) with a frame whose
 * offset word has RS_PYOFFSET_ENTRY. With as many groups as eval-loop frames, the k-th
 * innermost group takes the place of the k-th innermost eval-loop frame; otherwise all
 * Python frames take the place of the innermost eval-loop frame (the others stay), or go
 * after the native frames when there is none, and splice_mismatch is set.
 * Returns 0, or -1 when out of memory. */
int rs_symbolize_stack_view(struct rs_symbolizer *s, const uint64_t *words, uint32_t nwords,
                            enum rs_stack_view view, unsigned max_depth, struct rs_frames *out);
/* RS_VIEW_PYTHON */
int rs_symbolize_stack(struct rs_symbolizer *s, const uint64_t *words, uint32_t nwords,
                       unsigned max_depth, struct rs_frames *out);
void rs_frames_free(struct rs_frames *f);

#endif
