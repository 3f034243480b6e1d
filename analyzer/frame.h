/* One frame of a displayed stack, native or Python. */
#ifndef REFSCOPE_FRAME_H
#define REFSCOPE_FRAME_H

#include <stdbool.h>
#include <stdint.h>

struct rs_frame {
    bool python;
    uint64_t address;        /* native: the stack word (a return address for outer frames) */
    char *function;          /* NULL when unknown */
    char *file;              /* source file as the debug info names it; NULL when unknown */
    int line;                /* 0 when unknown */
    const char *module;      /* basename of the module; NULL when no module contains it */
    const char *module_path; /* path as the trace names it */
    uint64_t module_offset;  /* address - load bias, when the module is known */
    uint64_t py_code;        /* Python: code object id */
    uint64_t py_offset;      /* Python: instruction offset in it */
    bool py_code_known;      /* Python: the trace has a PY_CODE record for py_code */
    uint64_t py_first_line;  /* Python: the code object's first line (0: unknown) */
    bool inlined;            /* native: a function inlined at this address (the frames of
                              * one address share it; the outermost is the real function) */
};

#endif
