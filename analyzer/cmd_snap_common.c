#include "cmd_snap.h"

#include "out_file.h"

#include "escape.h"
#include "format_num.h"
#include "snap_dot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int snap_fail(struct snap_session *s, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "refscope: %s: ", s->cmd);
    rs_fput_escaped(stderr, msg, strlen(msg));
    fputc('\n', stderr);
    return RS_EXIT_FAILURE;
}

/* Without the events: a command that needs them (for the sites) reads them back from the
 * file as it replays them (event_stream.h), so it never holds them all. */
int snap_open(struct snap_session *s, const char *cmd, const char *path)
{
    memset(s, 0, sizeof *s);
    s->cmd = cmd;
    s->path = path;
    struct rs_read_error err;
    if (rs_trace_read_file_streamed(path, &s->trace, &err) != RS_READ_OK) {
        fprintf(stderr, "refscope: %s\n", err.message);
        return RS_EXIT_FAILURE;
    }
    const struct rs_snapshots *ss = s->trace->snapshots;
    for (size_t i = 0; ss && i < ss->n; i++) {
        if (!ss->v[i].complete)
            rs_notes_add(&s->notes, RS_NOTE_WARNING,
                         "snapshot %u is incomplete (the process stopped while writing it) "
                         "and was ignored", (unsigned)ss->v[i].id);
    }
    if (ss && ss->stray_records)
        rs_notes_add(&s->notes, RS_NOTE_WARNING,
                     "%llu snapshot record(s) outside any snapshot were ignored",
                     (unsigned long long)ss->stray_records);
    if (ss && ss->stray_ends)
        rs_notes_add(&s->notes, RS_NOTE_WARNING,
                     "%llu snapshot end record(s) without their beginning were ignored",
                     (unsigned long long)ss->stray_ends);
    if (rs_snap_source_file(&s->src, path, s->trace->file_size, s->err, sizeof s->err) != 0)
        return snap_fail(s, "%s", s->err);
    s->src_open = true;
    return 0;
}

int snap_open_sites(struct snap_session *s)
{
    if (s->names || s->trace->nevents == 0)
        return 0;
    s->sym = rs_symbolizer_new(s->trace, &s->notes);
    s->names = s->sym ? rs_site_names_new(s->trace, s->sym) : NULL;
    if (!s->names)
        return snap_fail(s, "out of memory");
    return 0;
}

const struct rs_snap_info *snap_pick(struct snap_session *s, const char *spec)
{
    const struct rs_snap_info *si = spec ? rs_snap_find(s->trace, spec)
                                         : rs_snap_last_complete(s->trace);
    if (si)
        return si;
    if (!spec) {
        snap_fail(s, "the trace has no complete object-graph snapshot (it was recorded "
                     "without Python, or the process stopped before writing one)");
        return NULL;
    }
    char list[256] = "";
    size_t used = 0;
    const struct rs_snapshots *ss = s->trace->snapshots;
    for (size_t i = 0; ss && i < ss->n && used + 16 < sizeof list; i++) {
        if (ss->v[i].complete)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%u", used ? ", " : "",
                                     (unsigned)ss->v[i].id);
    }
    snap_fail(s, "no complete snapshot '%s' in the trace (snapshots: %s)", spec,
              used ? list : "none");
    return NULL;
}

int snap_load(struct snap_session *s, const struct rs_snap_info *si, unsigned flags,
              struct rs_snap_graph *g)
{
    if (rs_snap_load(g, si, &s->src, flags, s->err, sizeof s->err) != 0)
        return snap_fail(s, "%s", s->err);
    rs_snap_add_notes(g, &s->notes);
    return 0;
}

int snap_sites_of(struct snap_session *s, const struct rs_snap_graph *g, const uint32_t *nodes,
                  size_t n, uint32_t **site_out)
{
    *site_out = NULL;
    if (!s->names)
        return 0;
    uint32_t *site = malloc((g->n ? g->n : 1) * sizeof *site);
    uint64_t *block = malloc((n ? n : 1) * sizeof *block);
    if (!site || !block) {
        free(site);
        free(block);
        return snap_fail(s, "out of memory");
    }
    for (uint32_t v = 0; v < g->n; v++)
        site[v] = RS_SITE_UNKNOWN;
    for (size_t i = 0; i < n; i++)
        block[i] = rs_snap_block_of(g, nodes[i]);
    int rc = 0;
    /* With no object to look up, the events are not read again. */
    struct rs_site_query q = {g->info->time, block, (uint32_t)n};
    if (n > 0 && rs_sites_of_blocks(s->trace, &q, 1, s->err, sizeof s->err) != 0)
        rc = snap_fail(s, "%s", s->err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        site[nodes[i]] = rs_answer_site(block[i]);
    free(block);
    if (rc)
        free(site);
    else
        *site_out = site;
    return rc;
}

int snap_load_with_sites(struct snap_session *s, const struct rs_snap_info *si, unsigned flags,
                         struct rs_snap_graph *g, uint32_t **site)
{
    *site = NULL;
    uint32_t *out = NULL, n = 0;
    if (s->names) {
        struct rs_snap_graph objects;
        if (rs_snap_load(&objects, si, &s->src, 0, s->err, sizeof s->err) != 0)
            return snap_fail(s, "%s", s->err);
        n = objects.n;
        uint64_t *block = rs_snap_blocks(&objects);
        rs_snap_graph_free(&objects);
        if (!block)
            return snap_fail(s, "out of memory");
        struct rs_site_query q = {si->time, block, n};
        if (rs_sites_of_blocks(s->trace, &q, 1, s->err, sizeof s->err) != 0) {
            free(block);
            return snap_fail(s, "%s", s->err);
        }
        out = malloc((n ? n : 1) * sizeof *out);
        for (uint32_t v = 0; out && v < n; v++)
            out[v] = rs_answer_site(block[v]);
        free(block);
        if (!out)
            return snap_fail(s, "out of memory");
    }
    int rc = snap_load(s, si, flags, g);
    if (rc == 0 && out && g->n != n) { /* the objects are numbered in file order */
        rs_snap_graph_free(g);
        rc = snap_fail(s, "snapshot %u read twice differently", (unsigned)si->id);
    }
    if (rc) {
        free(out);
        return rc;
    }
    *site = out;
    return 0;
}

void snap_close(struct snap_session *s)
{
    if (s->src_open)
        rs_snap_source_close(&s->src);
    rs_site_names_free(s->names);
    rs_symbolizer_free(s->sym);
    rs_notes_free(&s->notes);
    rs_trace_free(s->trace);
    memset(s, 0, sizeof *s);
}

int snap_finish(struct snap_session *s, int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "refscope: %s: writing the output: %s\n", s->cmd, strerror(errno));
        status = RS_EXIT_FAILURE;
    }
    snap_close(s);
    return status;
}

const struct rs_site_name *snap_site(struct snap_session *s, uint32_t stack)
{
    return s->names ? rs_site_name(s->names, stack) : NULL;
}

int snap_parse_uint(struct snap_session *s, const char *opt, const char *value, unsigned max,
                    unsigned *out)
{
    if (!value)
        return rs_usage_error(s->cmd, "%s needs a number", opt);
    if (!rs_parse_unsigned(value, max, out))
        return rs_usage_error(s->cmd, "%s takes a number from 0 to %u, not '%s'", opt, max,
                              value);
    return 0;
}

/* ---- showing things ---------------------------------------------------------------- */

void snap_put_info(FILE *out, const struct rs_snap_info *si)
{
    char a[RS_NUM_BUF];
    fprintf(out, "snapshot %u", (unsigned)si->id);
    if (si->label.len) {
        fputs(" \"", out);
        rs_fput_escaped(out, si->label.s, si->label.len);
        fputc('"', out);
    }
    fprintf(out, " (%s, at %s)", rs_snap_trigger_name(si->trigger),
            rs_fmt_duration(a, si->time));
}

void snap_json_hex(struct rs_json *j, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
    rs_json_key(j, key);
    rs_json_cstring(j, buf);
}

void snap_json_info(struct rs_json *j, const char *key, const struct rs_snap_info *si,
                    const struct rs_snap_graph *g)
{
    if (key)
        rs_json_key(j, key);
    rs_json_object_begin(j);
    rs_json_key(j, "id");
    rs_json_u64(j, si->id);
    rs_json_key(j, "label");
    rs_json_string(j, si->label.s ? si->label.s : "", si->label.len);
    rs_json_key(j, "trigger");
    rs_json_cstring(j, rs_snap_trigger_name(si->trigger));
    rs_json_key(j, "time_ns");
    rs_json_u64(j, si->time);
    rs_json_key(j, "pause_ns");
    rs_json_u64(j, si->pause_ns);
    if (g) {
        rs_json_key(j, "objects");
        rs_json_u64(j, g->n);
        rs_json_key(j, "references");
        if (g->has_edges)
            rs_json_u64(j, g->m);
        else
            rs_json_null(j);
    }
    rs_json_object_end(j);
}

const char *snap_root_name(const struct rs_snap_graph *g, uint32_t v, size_t *len)
{
    for (size_t i = 0; i < g->nroots; i++) {
        if (g->roots[i].node == v) {
            *len = g->roots[i].name_len;
            return g->strings + g->roots[i].name;
        }
    }
    *len = 0;
    return "";
}

void snap_node_text(char *buf, size_t cap, const struct rs_snap_graph *g, uint32_t v,
                    bool short_names)
{
    size_t llen, used;
    const char *label = rs_snap_label(g, v, &llen);
    if (g->flags[v] & RS_NODE_MODULE) {
        if (!llen)
            label = snap_root_name(g, v, &llen);
        used = (size_t)snprintf(buf, cap, "module ");
        if (used < cap)
            rs_escape_to(buf + used, cap - used, label, llen);
        return;
    }
    const char *type = rs_type_display(rs_snap_type_name(g, v), short_names);
    used = rs_escape_to(buf, cap, type, strlen(type));
    if (llen && used + 4 < cap) {
        memcpy(buf + used, " (", 3);
        used += 2;
        used += rs_escape_to(buf + used, cap - used - 1, label, llen);
        if (used + 2 <= cap) {
            buf[used++] = ')';
            buf[used] = '\0';
        }
    }
}

void snap_put_node(FILE *out, const struct rs_snap_graph *g, uint32_t v, bool short_names)
{
    char buf[512];
    snap_node_text(buf, sizeof buf, g, v, short_names);
    fputs(buf, out);
}

void snap_json_node(struct rs_json *j, const struct rs_snap_graph *g, uint32_t v)
{
    size_t llen;
    const char *label = rs_snap_label(g, v, &llen);
    snap_json_hex(j, "address", g->addr[v]);
    rs_json_key(j, "type");
    rs_json_cstring(j, rs_snap_type_name(g, v));
    rs_json_key(j, "label");
    rs_json_string(j, label, llen);
    rs_json_key(j, "size");
    rs_json_u64(j, rs_snap_size(g, v));
    rs_json_key(j, "refcnt");
    if (g->flags[v] & (RS_NODE_IMMORTAL | RS_NODE_SYNTHETIC))
        rs_json_null(j);
    else
        rs_json_u64(j, g->refcnt[v]);
    rs_json_key(j, "gc_tracked");
    rs_json_bool(j, (g->flags[v] & RS_NODE_GC_TRACKED) != 0);
    rs_json_key(j, "flags");
    rs_json_u64(j, g->flags[v]);
}

void snap_json_site(struct rs_json *j, const char *key, const struct rs_site_name *n)
{
    rs_json_key(j, key);
    if (!n) {
        rs_json_null(j);
        return;
    }
    rs_json_object_begin(j);
    rs_json_key(j, "stack_id");
    if (n->stack_id == RS_SITE_UNKNOWN)
        rs_json_null(j);
    else
        rs_json_u64(j, n->stack_id);
    rs_json_key(j, "text");
    rs_json_cstring(j, n->text);
    const struct rs_frame *f = n->frame;
    rs_json_key(j, "function");
    rs_json_cstring(j, f ? f->function : NULL);
    rs_json_key(j, "file");
    rs_json_cstring(j, f ? f->file : NULL);
    rs_json_key(j, "line");
    if (f && f->line > 0)
        rs_json_u64(j, (uint64_t)f->line);
    else
        rs_json_null(j);
    rs_json_key(j, "python");
    rs_json_bool(j, f && f->python);
    rs_json_object_end(j);
}

const char *snap_edge_kind_name(uint32_t kind)
{
    switch (kind) {
    case RS_EDGE_ATTR: return "attr";
    case RS_EDGE_KEY: return "key";
    case RS_EDGE_LOCAL: return "local";
    case RS_EDGE_SPECIAL: return "special";
    case RS_EDGE_DICT_KEY: return "dict_key";
    case RS_SNAP_EDGE_INDEX: return "index";
    }
    return "none";
}

void snap_put_edge(FILE *out, const struct rs_snap_edge_ref *e)
{
    if (!e || !e->found || (e->kind != RS_SNAP_EDGE_INDEX && !e->len)) {
        fputs("-->", out);
        return;
    }
    fputs("--[", out);
    if (e->kind == RS_SNAP_EDGE_INDEX)
        fprintf(out, "%llu", (unsigned long long)e->index);
    else
        rs_fput_escaped(out, e->text, e->len);
    fputs("]-->", out);
}

void snap_json_edge(struct rs_json *j, const char *key, const struct rs_snap_edge_ref *e)
{
    rs_json_key(j, key);
    if (!e) {
        rs_json_null(j);
        return;
    }
    rs_json_object_begin(j);
    rs_json_key(j, "kind");
    rs_json_cstring(j, e->found ? snap_edge_kind_name(e->kind) : "none");
    rs_json_key(j, "text");
    if (e->found && e->kind != RS_SNAP_EDGE_INDEX && e->len)
        rs_json_string(j, e->text, e->len);
    else
        rs_json_null(j);
    rs_json_key(j, "index");
    if (e->found && e->kind == RS_SNAP_EDGE_INDEX)
        rs_json_u64(j, e->index);
    else
        rs_json_null(j);
    rs_json_object_end(j);
}

void snap_put_notes(FILE *out, const struct snap_session *s)
{
    if (!s->notes.n)
        return;
    fputs("\nNotes:\n", out);
    for (size_t i = 0; i < s->notes.n; i++) {
        fputs(s->notes.items[i].level == RS_NOTE_WARNING ? "  warning: " : "  ", out);
        rs_fput_escaped(out, s->notes.items[i].text, strlen(s->notes.items[i].text));
        fputc('\n', out);
    }
}

void snap_json_notes(struct rs_json *j, const struct snap_session *s)
{
    rs_json_key(j, "notes");
    rs_json_array_begin(j);
    for (size_t i = 0; i < s->notes.n; i++) {
        rs_json_object_begin(j);
        rs_json_key(j, "level");
        rs_json_cstring(j, s->notes.items[i].level == RS_NOTE_WARNING ? "warning" : "info");
        rs_json_key(j, "text");
        rs_json_cstring(j, s->notes.items[i].text);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int snap_check_out(const char *cmd, const char *path)
{
    if (ends_with(path, ".dot") || ends_with(path, ".gv") || ends_with(path, ".svg") ||
        ends_with(path, ".png"))
        return 0;
    return rs_usage_error(cmd, "-o takes a file ending in .dot, .svg or .png, not '%s'", path);
}

int snap_write_graph(struct snap_session *s, const char *path, const char *dot, size_t len)
{
    /* Written through rs_out_write (out_file.h): never through a symbolic link. */
    if (ends_with(path, ".dot") || ends_with(path, ".gv")) {
        if (rs_out_write(path, dot, len, s->err, sizeof s->err) != 0)
            return snap_fail(s, "cannot write %s", s->err);
        return 0;
    }
    const char *format = ends_with(path, ".svg") ? "svg" : ends_with(path, ".png") ? "png" : NULL;
    if (!format)
        return rs_usage_error(s->cmd, "-o takes a file ending in .dot, .svg or .png, not '%s'",
                              path);
    char *data = NULL;
    size_t n = 0;
    if (rs_dot_render_data(dot, format, &data, &n, s->err, sizeof s->err) != 0)
        return snap_fail(s, "%s: %s", path, s->err);
    int rc = rs_out_write(path, data, n, s->err, sizeof s->err);
    free(data);
    if (rc != 0)
        return snap_fail(s, "cannot write %s", s->err);
    return 0;
}
