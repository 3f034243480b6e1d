/* What the snapshot commands (types, growth, backrefs, cycles, graph) share: opening the
 * trace, choosing a snapshot, and showing objects, sites and notes. */
#ifndef REFSCOPE_CMD_SNAP_H
#define REFSCOPE_CMD_SNAP_H

#include "commands.h"
#include "json_writer.h"
#include "snap_analyze.h"
#include "trace_reader.h"

#include <stdio.h>

struct snap_session {
    const char *cmd;
    const char *path;
    struct rs_trace *trace;
    struct rs_snap_source src;
    bool src_open;
    struct rs_notes notes;
    struct rs_symbolizer *sym;
    struct rs_site_names *names; /* NULL when the trace has no allocation events */
    char err[512];
};

/* Reads the trace without keeping its events (a replay for the sites reads them back from
 * the file). Returns 0, or an exit status after printing the error. */
int snap_open(struct snap_session *s, const char *cmd, const char *path);
/* Symbolizer and site names (when the trace has events). Returns 0 or an exit status. */
int snap_open_sites(struct snap_session *s);
/* The snapshot named by spec (id or label; NULL: the last complete one); NULL after
 * printing why. */
const struct rs_snap_info *snap_pick(struct snap_session *s, const char *spec);
/* Loads it. Returns 0 or an exit status after printing the error. */
int snap_load(struct snap_session *s, const struct rs_snap_info *si, unsigned flags,
              struct rs_snap_graph *g);
/* snap_load, and the site of every object (*site, by object number; NULL when the trace
 * has no sites). The sites are found from the objects alone, before the edges are loaded:
 * the replay's table and the whole graph are never held together. Returns 0 or an exit
 * status after printing the error. */
int snap_load_with_sites(struct snap_session *s, const struct rs_snap_info *si, unsigned flags,
                         struct rs_snap_graph *g, uint32_t **site);
/* The site of every object of g (*site, by object number; NULL when the trace has no
 * sites), known for `nodes` (n of them) and RS_SITE_UNKNOWN for the others: a replay that
 * follows their blocks alone, for a command that shows a few objects after loading the
 * whole graph. Returns 0 or an exit status after printing the error. */
int snap_sites_of(struct snap_session *s, const struct rs_snap_graph *g, const uint32_t *nodes,
                  size_t n, uint32_t **site);
void snap_close(struct snap_session *s);
/* "refscope: CMD: message" on stderr; returns RS_EXIT_FAILURE. */
int snap_fail(struct snap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The site of an object (stack id or RS_SITE_UNKNOWN), NULL names: no sites. */
const struct rs_site_name *snap_site(struct snap_session *s, uint32_t stack);

/* 'snapshot 3 "after round 1" (api, 0.523 s)' */
void snap_put_info(FILE *out, const struct rs_snap_info *si);
/* The snapshot object of docs/json-schema.md under `key` (NULL: an array's element), with
 * its object and reference counts when g is given. */
void snap_json_info(struct rs_json *j, const char *key, const struct rs_snap_info *si,
                    const struct rs_snap_graph *g);
/* "module __main__", "list (3 items)", "__main__.Connection", escaped. */
void snap_put_node(FILE *out, const struct rs_snap_graph *g, uint32_t v, bool short_names);
/* The same into buf (escaped for a terminal), for DOT and tables. */
void snap_node_text(char *buf, size_t cap, const struct rs_snap_graph *g, uint32_t v,
                    bool short_names);
void snap_json_node(struct rs_json *j, const struct rs_snap_graph *g, uint32_t v);
void snap_json_site(struct rs_json *j, const char *key, const struct rs_site_name *n);
void snap_put_edge(FILE *out, const struct rs_snap_edge_ref *e);
void snap_json_edge(struct rs_json *j, const char *key, const struct rs_snap_edge_ref *e);
const char *snap_edge_kind_name(uint32_t kind);
void snap_put_notes(FILE *out, const struct snap_session *s);
void snap_json_notes(struct rs_json *j, const struct snap_session *s);
void snap_json_hex(struct rs_json *j, const char *key, uint64_t v);
/* Thread name of a thread root, module name of a module root ("" if none). */
const char *snap_root_name(const struct rs_snap_graph *g, uint32_t v, size_t *len);

/* Parses a number option; returns 0 or an exit status. */
int snap_parse_uint(struct snap_session *s, const char *opt, const char *value, unsigned max,
                    unsigned *out);
/* Writes the DOT text to path: .dot as is, .svg/.png rendered by Graphviz. Returns 0 or an
 * exit status. */
int snap_write_graph(struct snap_session *s, const char *path, const char *dot, size_t len);
/* Checks an -o file name before any work: 0, or RS_EXIT_USAGE after saying why. */
int snap_check_out(const char *cmd, const char *path);
/* Ends a command: flushes stdout. */
int snap_finish(struct snap_session *s, int status);

#endif
