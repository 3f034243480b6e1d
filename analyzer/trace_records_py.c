/* The Python records: the interpreter (PY_INTERP), code objects by id with their line
 * tables (PY_CODE) and the line of (code id, offset) pairs of codes without one (PY_LINE).
 * A record repeated for the same id or pair replaces the earlier one. */
#include "trace_records_py.h"

#include <stdlib.h>
#include <string.h>

#define CORRUPT(reason)          \
    do {                         \
        *why = (reason);         \
        return RS_REC_CORRUPT;   \
    } while (0)

int rs_decode_py_interp(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                        const char **why)
{
    (void)tag;
    const uint8_t *version;
    size_t len;
    uint64_t hexversion, flags;
    if (!rs_cur_bytes(c, &version, &len) || !rs_cur_varint(c, &hexversion) ||
        !rs_cur_varint(c, &flags))
        CORRUPT("python interpreter record cut short");
    struct rs_trace_py_interp *py = &ctx->trace->py;
    if (!rs_text_set(&py->version, version, len))
        return RS_REC_NOMEM;
    py->hexversion = hexversion;
    py->flags = flags;
    py->present = true;
    return RS_REC_OK;
}

int rs_decode_py_code(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                      const char **why)
{
    (void)tag;
    uint64_t id, first_line;
    const uint8_t *file, *name;
    size_t file_len, name_len;
    if (!rs_cur_varint(c, &id) || !rs_cur_bytes(c, &file, &file_len) ||
        !rs_cur_bytes(c, &name, &name_len) || !rs_cur_varint(c, &first_line))
        CORRUPT("python code record cut short");
    uint64_t line_format = RS_PY_LINES_NONE;
    const uint8_t *table = NULL;
    size_t table_len = 0;
    if (rs_cur_left(c) && (!rs_cur_varint(c, &line_format) || !rs_cur_bytes(c, &table, &table_len)))
        CORRUPT("python code record's line table cut short");
    struct rs_py_line_range *lines;
    uint32_t nlines;
    int decoded = rs_py_line_table_decode(line_format, table, table_len, first_line, &lines, &nlines);
    if (decoded == -2)
        return RS_REC_NOMEM;
    if (decoded)
        CORRUPT("python code record with a malformed line table");
    struct rs_trace *t = ctx->trace;
    struct rs_trace_py_code *pc = NULL;
    HASH_FIND(hh, t->py_codes, &id, sizeof id, pc);
    bool added = false;
    if (!pc) {
        if (!(pc = calloc(1, sizeof *pc))) {
            free(lines);
            return RS_REC_NOMEM;
        }
        pc->id = id;
        added = true;
    }
    if (!rs_text_set(&pc->filename, file, file_len) ||
        !rs_text_set(&pc->qualname, name, name_len)) {
        free(lines);
        if (added) {
            rs_text_clear(&pc->filename);
            free(pc);
        }
        return RS_REC_NOMEM;
    }
    pc->first_line = first_line;
    free(pc->lines);
    pc->lines = lines;
    pc->nlines = nlines;
    if (added)
        HASH_ADD(hh, t->py_codes, id, sizeof pc->id, pc);
    return RS_REC_OK;
}

int rs_decode_py_line(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                      const char **why)
{
    (void)tag;
    struct rs_trace_py_line_key key;
    uint64_t line;
    memset(&key, 0, sizeof key);
    if (!rs_cur_varint(c, &key.code) || !rs_cur_varint(c, &key.offset) ||
        !rs_cur_varint(c, &line))
        CORRUPT("python line record cut short");
    struct rs_trace *t = ctx->trace;
    struct rs_trace_py_line *pl = NULL;
    HASH_FIND(hh, t->py_lines, &key, sizeof key, pl);
    if (!pl) {
        if (!(pl = calloc(1, sizeof *pl)))
            return RS_REC_NOMEM;
        pl->key = key;
        HASH_ADD(hh, t->py_lines, key, sizeof pl->key, pl);
    }
    pl->line = line;
    return RS_REC_OK;
}

void rs_trace_python_free(struct rs_trace *t)
{
    struct rs_trace_py_code *pc, *pct;
    HASH_ITER(hh, t->py_codes, pc, pct) {
        HASH_DEL(t->py_codes, pc);
        rs_text_clear(&pc->filename);
        rs_text_clear(&pc->qualname);
        free(pc->lines);
        free(pc);
    }
    struct rs_trace_py_line *pl, *plt;
    HASH_ITER(hh, t->py_lines, pl, plt) {
        HASH_DEL(t->py_lines, pl);
        free(pl);
    }
    rs_text_clear(&t->py.version);
    memset(&t->py, 0, sizeof t->py);
}
