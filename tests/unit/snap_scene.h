/* Crafted object-graph snapshots for tests: a scene is a list of types, objects,
 * references and roots, written with the common encoder as the shim writes them. */
#ifndef REFSCOPE_SNAP_SCENE_H
#define REFSCOPE_SNAP_SCENE_H

#include "trace_builder.h"

struct sc_type {
    uint32_t id;
    const char *name;
    uint32_t flags;
};

struct sc_node {
    uint64_t addr;
    uint32_t type;
    uint64_t size;
    uint64_t refcnt;
    uint32_t flags;
    uint32_t pre;
    const char *label;
};

struct sc_edge {
    uint64_t from, to;
    uint64_t label;          /* RS_EDGE_LABEL_* */
};

struct sc_label {
    uint32_t id;
    uint32_t kind;
    const char *text;
};

struct sc_root {
    uint64_t addr;
    uint32_t kind;
    const char *name;
};

struct scene {
    const struct sc_type *types;
    size_t ntypes;
    const struct sc_node *nodes;
    size_t nnodes;
    const struct sc_edge *edges;
    size_t nedges;
    const struct sc_label *labels;
    size_t nlabels;
    const struct sc_root *roots;
    size_t nroots;
};

#define SC_ARRAY(a) (a), (sizeof(a) / sizeof *(a))

/* Writes SNAP_BEGIN, the scene (objects in batches of `batch`, spread over several meta
 * chunks when `chunks` > 1), and SNAP_END unless `end` is false. */
void sc_write(struct tb *b, uint32_t id, uint64_t time, const char *label,
              const struct scene *s, size_t batch, int chunks, bool end);

/* Python code and line records, raw (the encoder has none). */
void sc_py_code(struct tb *b, uint64_t code, const char *file, const char *qualname,
                uint64_t first_line);
void sc_py_line(struct tb *b, uint64_t code, uint64_t offset, uint64_t line);
/* Stack SC_PY_STACK: a native frame, then handle() of `file` at line 21 (code 7, offset 42;
 * a Python program's allocation site "BASENAME:21 handle"). */
#define SC_PY_STACK 5
void sc_py_stack(struct tb *b, const char *file);

/* Reads the built trace from memory; NULL on failure (printed). */
struct rs_trace;
struct rs_trace *sc_read(struct tb *b);

#endif
