#include "snap_scene.h"

#include "trace_reader.h"

#include <stdio.h>
#include <string.h>

static void write_edges(struct tb *b, const struct scene *s)
{
    struct rs_snap_batch eb;
    rs_snap_edges_open(&b->w, &eb);
    /* Each source once, its references in the scene's order. */
    for (size_t i = 0; i < s->nedges; i++) {
        bool first = true;
        for (size_t k = 0; k < i; k++) {
            if (s->edges[k].from == s->edges[i].from)
                first = false;
        }
        if (!first)
            continue;
        rs_snap_edge_source(&b->w, &eb, s->edges[i].from);
        for (size_t k = i; k < s->nedges; k++) {
            if (s->edges[k].from == s->edges[i].from)
                rs_snap_edge(&b->w, &eb, s->edges[k].to, s->edges[k].label);
        }
    }
    rs_snap_batch_close(&b->w, &eb);
}

void sc_write(struct tb *b, uint32_t id, uint64_t time, const char *label,
              const struct scene *s, size_t batch, int chunks, bool end)
{
    tb_chunk(b, RS_CHUNK_TID_META, time);
    rs_rec_snap_begin(&b->w, id, time, RS_SNAP_API, label);
    for (size_t i = 0; i < s->ntypes; i++)
        rs_rec_snap_type(&b->w, s->types[i].id, 0x100000 + s->types[i].id * 0x400,
                         s->types[i].name, s->types[i].flags, 16, 0);
    for (size_t i = 0; i < s->nlabels; i++)
        rs_rec_snap_label(&b->w, s->labels[i].id, (enum rs_edge_kind)s->labels[i].kind,
                          s->labels[i].text, strlen(s->labels[i].text));
    size_t per_chunk = chunks > 1 ? (s->nnodes + (size_t)chunks - 1) / (size_t)chunks : s->nnodes;
    size_t in_chunk = 0;
    struct rs_snap_batch nb;
    bool open = false;
    for (size_t i = 0; i < s->nnodes; i++) {
        if (chunks > 1 && in_chunk == per_chunk) {
            if (open)
                rs_snap_batch_close(&b->w, &nb);
            open = false;
            tb_chunk_end(b, 0);
            tb_chunk(b, RS_CHUNK_TID_META, time);
            rs_rec_note(&b->w, 0, "interleaved meta record");
            in_chunk = 0;
        }
        if (!open || (batch && nb.count >= batch)) {
            if (open)
                rs_snap_batch_close(&b->w, &nb);
            rs_snap_nodes_open(&b->w, &nb);
            open = true;
        }
        const struct sc_node *n = &s->nodes[i];
        struct rs_snap_node sn = {n->addr, n->type, n->size, n->refcnt, n->flags, n->pre,
                                  n->label, n->label ? strlen(n->label) : 0};
        rs_snap_node(&b->w, &nb, &sn);
        in_chunk++;
    }
    if (open)
        rs_snap_batch_close(&b->w, &nb);
    write_edges(b, s);
    for (size_t i = 0; i < s->nroots; i++)
        rs_rec_snap_root(&b->w, s->roots[i].addr, (enum rs_root_kind)s->roots[i].kind,
                         s->roots[i].name);
    if (end)
        rs_rec_snap_end(&b->w, id, s->nnodes, s->nedges, 1000);
    tb_chunk_end(b, 0);
}

void sc_py_code(struct tb *b, uint64_t code, const char *file, const char *qualname,
                uint64_t first_line)
{
    size_t at = rs_rec_begin(&b->w, RS_TAG_PY_CODE);
    rs_buf_varint(&b->buf, code);
    rs_buf_string(&b->buf, file, strlen(file));
    rs_buf_string(&b->buf, qualname, strlen(qualname));
    rs_buf_varint(&b->buf, first_line);
    rs_rec_end(&b->w, at);
}

void sc_py_line(struct tb *b, uint64_t code, uint64_t offset, uint64_t line)
{
    size_t at = rs_rec_begin(&b->w, RS_TAG_PY_LINE);
    rs_buf_varint(&b->buf, code);
    rs_buf_varint(&b->buf, offset);
    rs_buf_varint(&b->buf, line);
    rs_rec_end(&b->w, at);
}

void sc_py_stack(struct tb *b, const char *file)
{
    sc_py_code(b, 7, file, "handle", 20);
    sc_py_line(b, 7, 42, 21);
    uint64_t words[] = {0x401000, RS_STACKWORD_PY | 7, 42 | RS_PYOFFSET_ENTRY};
    rs_rec_stack(&b->w, SC_PY_STACK, 0, 0, words, 3);
}

struct rs_trace *sc_read(struct tb *b)
{
    struct rs_trace *t = NULL;
    struct rs_read_error err;
    if (rs_trace_read_buffer(b->buf.data, b->buf.len, "scene", &t, &err) != RS_READ_OK) {
        fprintf(stderr, "sc_read: %s\n", err.message);
        return NULL;
    }
    return t;
}
