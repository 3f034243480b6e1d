/* The drawings the snapshot commands and the HTML report share, as DOT (snap_dot.h): a
 * backref chain, and the example cycle of each class of unreachable cycles. */
#ifndef REFSCOPE_SNAP_DRAW_H
#define REFSCOPE_SNAP_DRAW_H

#include "snap_analyze.h"
#include "snap_dot.h"

/* A chain of n objects, root first, the object it leads to last (in red), shaded by the
 * distance from it. edges[i] labels the reference from nodes[i] to nodes[i + 1] (n - 1 of
 * them; its from/to are not used). sites[i] (NULL, or NULL entries) is an extra line per
 * object. With max_nodes (0: no limit) below n, only the last max_nodes objects are drawn
 * and a node above them says how many references were left out. */
void rs_chain_dot(struct rs_strbuf *b, const struct rs_snap_graph *g, const uint32_t *nodes,
                  size_t n, const struct rs_snap_edge_ref *edges, const char *const *sites,
                  size_t max_nodes, const char *title);

/* The example cycle of each group (at most max_members of its members, 0: all) with the
 * references among the members drawn, their labels looked up in the file. `site` (per
 * object) and `names` may be NULL (no sites shown). Returns 0, -1 when the snapshot does
 * not decode (message in err), -2 when out of memory. */
int rs_cycles_dot(struct rs_strbuf *b, const struct rs_snap_graph *g, struct rs_snap_source *src,
                  const struct rs_cycle_group *groups, size_t ngroups, size_t max_members,
                  const uint32_t *site, struct rs_site_names *names, const char *title,
                  char *err, size_t errcap);

#endif
