/* Offline symbolization of native stacks with libdwfl: the module maps recorded in the
 * trace say which file was loaded where, and the files on this machine give the symbols
 * and lines. Results are cached per address. */
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

/* A stack as shown: refscope's own frames dropped, allocator frames on top dropped, then
 * at most `max_depth` frames (0: all). The frames belong to the symbolizer. */
struct rs_frames {
    const struct rs_frame **v;
    size_t n;
    size_t omitted;          /* frames beyond max_depth */
};

/* Returns 0, or -1 when out of memory. */
int rs_symbolize_stack(struct rs_symbolizer *s, const uint64_t *words, uint32_t nwords,
                       unsigned max_depth, struct rs_frames *out);
void rs_frames_free(struct rs_frames *f);

#endif
