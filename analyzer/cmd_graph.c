/* refscope graph FILE (--refs | --backrefs) (--type T | --addr 0x..) [--snapshot N]
 *                     [--max-depth N] [--too-many N] [-o OUT.dot|.svg|.png] */
#include "cmd_snap.h"

#include "snap_dot.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "Usage: refscope graph FILE (--refs | --backrefs) (--type T | --addr 0xADDR)\n"
    "                      [--snapshot N] [--max-depth N] [--too-many N] [-o OUT]\n"
    "\n"
    "Draws the objects around some objects, like objgraph.show_refs / show_backrefs: what\n"
    "they refer to (--refs) or what refers to them (--backrefs), up to --max-depth\n"
    "references away. Boxes show type and label; the start objects have a red font, fill\n"
    "darkens with the distance, modules are green, objects whose type has a finalizer have\n"
    "a red border and \"__del__\". Where an object has more than --too-many references, the\n"
    "rest become one \"N more references\" box.\n"
    "\n"
    "  --type T         start from the objects of type T (at most --too-many of them)\n"
    "  --addr 0xADDR    start from the object at that address\n"
    "  --snapshot N     the snapshot, by id or label (default: the last complete one)\n"
    "  --max-depth N    references followed from the start (default 3)\n"
    "  --too-many N     references drawn per object (default 10)\n"
    "  -o OUT           .dot writes Graphviz text, .svg and .png render (default: DOT text on\n"
    "                   standard output)\n"
    "\n"
    "Exit status: 0 success, 1 unreadable or corrupt trace or snapshot, or no object\n"
    "matches, 2 usage error.\n";

int rs_cmd_graph(int argc, char **argv)
{
    const char *cmd = "graph", *file = NULL, *snapshot = NULL, *type = NULL, *addr = NULL;
    const char *out = NULL, *value;
    unsigned max_depth = 3, too_many = 10;
    int mode = 0; /* 1 refs, 2 backrefs */
    struct snap_session s = {.cmd = cmd};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (arg[0] != '-') {
            if (file)
                return rs_usage_error(cmd, "more than one trace file given ('%s')", arg);
            file = arg;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help, stdout);
            return RS_EXIT_OK;
        } else if (strcmp(arg, "--refs") == 0 || strcmp(arg, "--backrefs") == 0) {
            int want = arg[2] == 'r' ? 1 : 2;
            if (mode && mode != want)
                return rs_usage_error(cmd, "give --refs or --backrefs, not both");
            mode = want;
        } else if ((m = rs_option_value(argc, argv, &i, "--snapshot", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--snapshot needs an id or a label");
            snapshot = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--type", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "--type needs a type name");
            type = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--addr", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--addr needs an address");
            addr = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--max-depth", &value)) != 0) {
            int rc = snap_parse_uint(&s, "--max-depth", m < 0 ? NULL : value, 100, &max_depth);
            if (rc)
                return rc;
        } else if ((m = rs_option_value(argc, argv, &i, "--too-many", &value)) != 0) {
            int rc = snap_parse_uint(&s, "--too-many", m < 0 ? NULL : value, 100000, &too_many);
            if (rc)
                return rc;
            if (too_many == 0)
                return rs_usage_error(cmd, "--too-many must be at least 1");
        } else if ((m = rs_option_value(argc, argv, &i, "-o", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "-o needs a file name");
            if (snap_check_out(cmd, value))
                return RS_EXIT_USAGE;
            out = value;
        } else {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!file)
        return rs_usage_error(cmd, "missing the trace file");
    if (!mode)
        return rs_usage_error(cmd, "give --refs or --backrefs");
    if (!type == !addr)
        return rs_usage_error(cmd, "give one of --type or --addr");
    uint64_t want_addr = 0;
    if (addr) {
        char *end;
        want_addr = strtoull(addr, &end, 16);
        if (*end || !*addr)
            return rs_usage_error(cmd, "--addr takes a hexadecimal address, not '%s'", addr);
    }
    int rc = snap_open(&s, cmd, file);
    if (rc)
        return snap_finish(&s, rc);
    const struct rs_snap_info *si = snap_pick(&s, snapshot);
    if (!si)
        return snap_finish(&s, RS_EXIT_FAILURE);
    struct rs_snap_graph g;
    if ((rc = snap_load(&s, si, RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS, &g)))
        return snap_finish(&s, rc);
    if (mode == 2 && rs_snap_build_reverse(&g)) {
        rs_snap_graph_free(&g);
        return snap_finish(&s, snap_fail(&s, "out of memory"));
    }
    uint32_t *slot = calloc(g.n ? g.n : 1, sizeof *slot); /* dot index + 1 */
    uint8_t *type_match = type ? rs_snap_types_matching(&g, type) : NULL;
    struct rs_dot_node *nodes = NULL;
    struct rs_dot_edge *edges = NULL;
    struct rs_snap_edge_ref *refs = NULL;
    struct rs_dot_more *more = NULL;
    size_t nn = 0, ne = 0, nmore = 0, ncap = 0, ecap = 0, mcap = 0, matches = 0;
    rc = RS_EXIT_OK;
    if (!slot || (type && !type_match))
        goto nomem;
    for (uint32_t v = 0; v < g.n; v++) {
        bool match = type ? type_match[g.type[v]] : g.addr[v] == want_addr;
        if (!match)
            continue;
        if (matches++ >= too_many)
            continue;
        if (!rs_grow((void **)&nodes, &ncap, nn, sizeof *nodes))
            goto nomem;
        nodes[nn] = (struct rs_dot_node){v, 0, true, NULL};
        slot[v] = (uint32_t)++nn;
    }
    if (!matches) {
        rc = snap_fail(&s, "no object matches %s '%s' in snapshot %u", type ? "type" : "address",
                       type ? type : addr, (unsigned)si->id);
        goto out;
    }
    if (matches > too_many)
        rs_notes_add(&s.notes, RS_NOTE_INFO, "%zu objects match: the first %u are drawn",
                     matches, too_many);
    /* Breadth first: nodes[] is the queue. */
    for (size_t q = 0; q < nn; q++) {
        uint32_t v = nodes[q].v;
        unsigned depth = nodes[q].depth;
        if (depth >= max_depth)
            continue;
        if (mode == 2 && (g.flags[v] & RS_NODE_MODULE) && !nodes[q].start)
            continue; /* a root: what refers to a module is not the question */
        uint32_t lo = mode == 1 ? g.out_start[v] : g.in_off[v];
        uint32_t hi = mode == 1 ? g.out_start[v] + g.out_len[v] : g.in_off[v + 1];
        uint64_t drawn = 0;
        for (uint32_t e = lo; e < hi; e++) {
            if (drawn >= too_many)
                break;
            uint32_t w = mode == 1 ? g.dst[e] : g.src[e];
            drawn++;
            if (!slot[w]) {
                if (!rs_grow((void **)&nodes, &ncap, nn, sizeof *nodes))
                    goto nomem;
                nodes[nn] = (struct rs_dot_node){w, depth + 1, false, NULL};
                slot[w] = (uint32_t)++nn;
            }
            if (!rs_grow((void **)&edges, &ecap, ne, sizeof *edges))
                goto nomem;
            uint32_t a = (uint32_t)q, b = slot[w] - 1;
            edges[ne++] = mode == 1 ? (struct rs_dot_edge){a, b, NULL}
                                    : (struct rs_dot_edge){b, a, NULL};
        }
        if (hi - lo > drawn) {
            if (!rs_grow((void **)&more, &mcap, nmore, sizeof *more))
                goto nomem;
            more[nmore++] = (struct rs_dot_more){(uint32_t)q, hi - lo - drawn, mode == 2};
        }
    }
    refs = calloc(ne ? ne : 1, sizeof *refs);
    if (!refs)
        goto nomem;
    for (size_t i = 0; i < ne; i++) {
        refs[i].from = nodes[edges[i].from].v;
        refs[i].to = nodes[edges[i].to].v;
        edges[i].label = &refs[i];
    }
    if (rs_snap_edge_labels(&g, &s.src, refs, ne, s.err, sizeof s.err)) {
        rc = snap_fail(&s, "%s", s.err);
        goto out;
    }
    struct rs_strbuf sb = {0};
    rs_dot_graph(&sb, &g, nodes, nn, edges, ne, more, nmore, max_depth, NULL);
    if (sb.failed) {
        rs_sb_free(&sb);
        goto nomem;
    }
    if (out)
        rc = snap_write_graph(&s, out, sb.s, sb.len);
    else
        fwrite(sb.s, 1, sb.len, stdout);
    rs_sb_free(&sb);
    if (rc == RS_EXIT_OK && s.notes.n)
        for (size_t i = 0; i < s.notes.n; i++)
            fprintf(stderr, "refscope: graph: %s\n", s.notes.items[i].text);
    goto out;
nomem:
    rc = snap_fail(&s, "out of memory");
out:
    rs_snap_edge_refs_free(refs, ne);
    free(refs);
    free(edges);
    free(nodes);
    free(more);
    free(slot);
    free(type_match);
    rs_snap_graph_free(&g);
    return snap_finish(&s, rc);
}
