#include "python_frames.h"

#include <stdio.h>

bool rs_python_frame_resolve(const struct rs_trace *t, uint64_t code, uint64_t offset,
                             struct rs_frame *out)
{
    (void)t;
    out->python = true;
    out->py_code = code;
    out->py_offset = offset;
    return asprintf(&out->function, "<python code #%llu +%llu>", (unsigned long long)code,
                    (unsigned long long)offset) >= 0;
}
