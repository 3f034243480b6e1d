/* Flame graphs of live allocations, for the HTML report: the allocation stacks of the
 * blocks live at one point, merged into a tree from the outermost frame in, each node
 * weighted by the bytes (and blocks) allocated under it. Python and native frames both
 * (the hybrid view: native frames, the eval loop's replaced by the Python frames it ran).
 *
 * Written as JSON for the page's script, bounded: a tree keeps its heaviest nodes (half its
 * max_nodes at most, the other half for the "other" nodes) and each node's dropped children become one "other" child, so the widths
 * still add up; how many frames were merged that way is written beside the tree. */
#ifndef REFSCOPE_FLAME_H
#define REFSCOPE_FLAME_H

#include "snap_dot.h" /* struct rs_strbuf */
#include "symbolize.h"

struct rs_flame;

/* Frame names are shared by all the trees of one rs_flame. NULL when out of memory. */
struct rs_flame *rs_flame_new(const struct rs_trace *t, struct rs_symbolizer *sym);
void rs_flame_free(struct rs_flame *f);

/* Starts a new tree (the ones before it are kept): `point` says when ("exit", "peak"),
 * `title` names its threads; at most max_nodes nodes of it are written (0: all). Returns
 * its index, or -1 when out of memory. */
int rs_flame_tree(struct rs_flame *f, const char *point, const char *title, size_t max_nodes);
/* Adds blocks allocated from a stack to the current tree. `leaf` labels a stack without
 * frames (stack id 0 or not in the trace). Returns 0, -1 when out of memory. */
int rs_flame_add(struct rs_flame *f, uint32_t stack_id, const char *leaf, uint64_t bytes,
                 uint64_t blocks);
/* The trees as one JSON object (names escaped for a <script> block):
 *   {"names": [...], "kinds": [0 python, 1 native, 2 other...],
 *    "trees": [{"point", "title", "bytes", "blocks", "nodes": [[parent, name, bytes, blocks]...],
 *               "merged": frames merged into "other" nodes, "total_nodes"}...]}
 * Nodes come parents first; node 0 is the root (parent -1). */
void rs_flame_json(struct rs_flame *f, struct rs_strbuf *b);

#endif
