/* Object graphs as Graphviz DOT, in objgraph's style: box nodes "type\nlabel", start
 * objects in red, fill shading from white to grey with the distance from them, modules in
 * green, edge labels, an "N more references" node where a fan-out is cut, a red border and
 * "__del__" on objects whose type has a finalizer. Rendering to SVG or PNG goes through
 * Graphviz's library, never the `dot` program. */
#ifndef REFSCOPE_SNAP_DOT_H
#define REFSCOPE_SNAP_DOT_H

#include "snap_graph.h"

#include <stddef.h>

struct rs_strbuf {
    char *s;
    size_t len, cap;
    bool failed;
};
void rs_sb_put(struct rs_strbuf *b, const char *s, size_t n);
void rs_sb_printf(struct rs_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text from the traced program inside a DOT double-quoted string: control characters,
 * bidirectional overrides and invalid UTF-8 shown as \xNN / \uNNNN, then `"` and `\`
 * escaped, so nothing in it can end the string or act as a DOT escape sequence. */
void rs_sb_dot_text(struct rs_strbuf *b, const char *s, size_t n);
void rs_sb_free(struct rs_strbuf *b);

struct rs_dot_node {
    uint32_t v;
    unsigned depth;          /* from the start objects */
    bool start;
    const char *site;        /* an extra line ("alloc: ..."), may be NULL */
};

struct rs_dot_edge {
    uint32_t from, to;       /* indexes in the nodes array */
    const struct rs_snap_edge_ref *label; /* may be NULL */
};

struct rs_dot_more {
    uint32_t at;             /* index in the nodes array */
    uint64_t count;
    bool backrefs;           /* the cut references point to `at` */
};

/* A whole digraph. max_depth shades the fill (0: all white). */
void rs_dot_graph(struct rs_strbuf *b, const struct rs_snap_graph *g,
                  const struct rs_dot_node *nodes, size_t nn, const struct rs_dot_edge *edges,
                  size_t ne, const struct rs_dot_more *more, size_t nmore, unsigned max_depth,
                  const char *title);

/* Renders DOT text to path in format "svg" or "png". Returns 0, or -1 with a message. */
int rs_dot_render(const char *dot, const char *path, const char *format, char *err,
                  size_t errcap);
/* The same into memory: *out (malloc'd, NUL-terminated) and *len. Returns 0, or -1 with a
 * message. */
int rs_dot_render_data(const char *dot, const char *format, char **out, size_t *len, char *err,
                       size_t errcap);

#endif
