#include "snap_records.h"

#include "snap_index.h"

#include <stdlib.h>
#include <string.h>

static struct rs_snapshots *index_of(struct rs_trace *t)
{
    if (!t->snapshots)
        t->snapshots = calloc(1, sizeof *t->snapshots);
    return t->snapshots;
}

int rs_decode_snap_begin(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                         const char **why)
{
    (void)tag;
    uint32_t id;
    uint64_t time, trigger;
    const uint8_t *label;
    size_t len;
    if (!rs_cur_u32(c, &id) || !rs_cur_varint(c, &time) || !rs_cur_varint(c, &trigger) ||
        !rs_cur_bytes(c, &label, &len)) {
        *why = "snapshot begin record cut short";
        return RS_REC_CORRUPT;
    }
    struct rs_snapshots *s = index_of(ctx->trace);
    if (!s || !rs_grow((void **)&s->v, &s->cap, s->n, sizeof *s->v))
        return RS_REC_NOMEM;
    /* A snapshot still open here was abandoned (the writer started another): it stays,
     * incomplete, and is ignored by the commands. */
    struct rs_snap_info *si = &s->v[s->n];
    memset(si, 0, sizeof *si);
    si->id = id;
    si->time = time;
    si->trigger = trigger;
    si->begin_at = ctx->rec_at;
    if (!rs_text_set(&si->label, label, len))
        return RS_REC_NOMEM;
    s->n++;
    s->open = true;
    return RS_REC_OK;
}

int rs_decode_snap_content(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                           const char **why)
{
    (void)tag;
    (void)why;
    struct rs_snapshots *s = index_of(ctx->trace);
    if (!s)
        return RS_REC_NOMEM;
    if (!s->open) {
        s->stray_records++;
        return RS_REC_OK;
    }
    struct rs_snap_info *si = &s->v[s->n - 1];
    uint64_t chunk = ctx->trace->nchunks; /* counts the chunks before this one */
    uint64_t end = rs_chunk_file_offset(ctx, c->end);
    if (si->nranges && si->ranges[si->nranges - 1].chunk == chunk) {
        si->ranges[si->nranges - 1].end = end;
        return RS_REC_OK;
    }
    if (!rs_grow((void **)&si->ranges, &si->ranges_cap, si->nranges, sizeof *si->ranges))
        return RS_REC_NOMEM;
    si->ranges[si->nranges++] = (struct rs_snap_range){ctx->rec_at, end, chunk};
    return RS_REC_OK;
}

int rs_decode_snap_end(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                       const char **why)
{
    (void)tag;
    uint32_t id;
    uint64_t nodes, edges, pause;
    if (!rs_cur_u32(c, &id) || !rs_cur_varint(c, &nodes) || !rs_cur_varint(c, &edges) ||
        !rs_cur_varint(c, &pause)) {
        *why = "snapshot end record cut short";
        return RS_REC_CORRUPT;
    }
    struct rs_snapshots *s = index_of(ctx->trace);
    if (!s)
        return RS_REC_NOMEM;
    if (!s->open || s->v[s->n - 1].id != id) {
        s->stray_ends++;
        return RS_REC_OK;
    }
    struct rs_snap_info *si = &s->v[s->n - 1];
    si->complete = true;
    si->end_nodes = nodes;
    si->end_edges = edges;
    si->pause_ns = pause;
    s->open = false;
    return RS_REC_OK;
}

/* ---- the index ------------------------------------------------------------------------ */

void rs_snapshots_free(struct rs_snapshots *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        rs_text_clear(&s->v[i].label);
        free(s->v[i].ranges);
    }
    free(s->v);
    free(s);
}

size_t rs_snap_count_complete(const struct rs_trace *t)
{
    size_t n = 0;
    for (size_t i = 0; t->snapshots && i < t->snapshots->n; i++)
        n += t->snapshots->v[i].complete;
    return n;
}

const struct rs_snap_info *rs_snap_last_complete(const struct rs_trace *t)
{
    for (size_t i = t->snapshots ? t->snapshots->n : 0; i > 0; i--) {
        if (t->snapshots->v[i - 1].complete)
            return &t->snapshots->v[i - 1];
    }
    return NULL;
}

const struct rs_snap_info *rs_snap_find(const struct rs_trace *t, const char *spec)
{
    if (!t->snapshots)
        return NULL;
    char *end = NULL;
    unsigned long long id = strtoull(spec, &end, 10);
    bool numeric = *spec >= '0' && *spec <= '9' && end && *end == '\0';
    /* The last of equal ids or labels: a program may reuse a label. */
    for (size_t i = t->snapshots->n; i > 0; i--) {
        const struct rs_snap_info *si = &t->snapshots->v[i - 1];
        if (!si->complete)
            continue;
        if (numeric && si->id == id)
            return si;
    }
    for (size_t i = t->snapshots->n; i > 0; i--) {
        const struct rs_snap_info *si = &t->snapshots->v[i - 1];
        if (si->complete && strlen(spec) == si->label.len &&
            memcmp(spec, si->label.s, si->label.len) == 0)
            return si;
    }
    return NULL;
}

const char *rs_snap_trigger_name(uint64_t trigger)
{
    switch (trigger) {
    case RS_SNAP_EXIT: return "exit";
    case RS_SNAP__EXIT: return "_exit";
    case RS_SNAP_SIGNAL: return "signal";
    case RS_SNAP_INTERVAL: return "interval";
    case RS_SNAP_GC: return "gc";
    case RS_SNAP_API: return "api";
    case RS_SNAP_ATTACH: return "attach";
    }
    return "unknown";
}
