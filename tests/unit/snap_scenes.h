/* The crafted snapshots the snapshot tests share (test_snapshots.c, test_snap_cli.c). */
#ifndef REFSCOPE_SNAP_SCENES_H
#define REFSCOPE_SNAP_SCENES_H

#include "snap_scene.h"

enum { T_MODULE = 1, T_DICT, T_LIST, T_CONN, T_STR, T_FRAME, T_NODE, T_RES, T_LEAKY, T_BLOB };

static const struct sc_type types[] = {
    {T_MODULE, "builtins.module", RS_SNAPTYPE_GC},
    {T_DICT, "builtins.dict", RS_SNAPTYPE_GC},
    {T_LIST, "builtins.list", RS_SNAPTYPE_GC},
    {T_CONN, "__main__.Connection", RS_SNAPTYPE_GC | RS_SNAPTYPE_HEAP},
    {T_STR, "builtins.str", 0},
    {T_FRAME, "frame", 0},
    {T_NODE, "__main__.Node", RS_SNAPTYPE_GC | RS_SNAPTYPE_HEAP},
    {T_RES, "__main__.Resource", RS_SNAPTYPE_GC | RS_SNAPTYPE_HEAP | RS_SNAPTYPE_FINALIZER},
    {T_LEAKY, "ext.Leaky", RS_SNAPTYPE_GC},
    {T_BLOB, "ext.Blob", RS_SNAPTYPE_GC},
};

enum { L_DICT = 1, L_CACHE, L_PEER, L_CONN, L_GARBAGE, L_NEXT, L_QUOTE };
static const struct sc_label labels[] = {
    {L_DICT, RS_EDGE_SPECIAL, "__dict__"},
    {L_CACHE, RS_EDGE_ATTR, "_cache"},
    {L_PEER, RS_EDGE_ATTR, "peer"},
    {L_CONN, RS_EDGE_LOCAL, "conn"},
    {L_GARBAGE, RS_EDGE_ATTR, "garbage"},
    {L_NEXT, RS_EDGE_ATTR, "next"},
    {L_QUOTE, RS_EDGE_KEY, "'a\"b\\\\c\nd\x01'"},
};

#define GC RS_NODE_GC_TRACKED
#define ID(x) RS_EDGE_LABEL_ID(x)
#define IX(x) RS_EDGE_LABEL_INDEX(x)

/* Scene A: module __main__ -> its dict -> _cache list -> 3 Connections (-> a str each);
 * the main thread's frame -> a fourth Connection in a local. */
static const struct sc_node nodes_a[] = {
    {0x1000, T_MODULE, 72, 1, GC | RS_NODE_MODULE, 16, "__main__"},
    {0x2000, T_DICT, 1000, 1, GC, 16, "12 items"},
    {0x3000, T_LIST, 88, 1, GC, 16, "3 items"},
    {0x4000, T_CONN, 48, 1, GC, 16, NULL},
    {0x4100, T_CONN, 48, 1, GC, 16, NULL},
    {0x4200, T_CONN, 48, 1, GC, 16, NULL},
    {0x5000, T_STR, 60, 1, 0, 0, "10.0.0.1"},
    {0x5100, T_STR, 60, 1, 0, 0, "10.0.0.2"},
    {0x5200, T_STR, 60, 1, 0, 0, "10.0.0.3"},
    {0x9000, T_FRAME, 0, 0, RS_NODE_SYNTHETIC | RS_NODE_FRAME, 0, "handle"},
    {0x4300, T_CONN, 48, 1, GC, 16, NULL},
    {0x5300, T_STR, 60, 1, 0, 0, "10.0.0.4"},
};
static const struct sc_edge edges_a[] = {
    {0x1000, 0x2000, ID(L_DICT)},
    {0x2000, 0x3000, ID(L_CACHE)},
    {0x3000, 0x4000, IX(0)}, {0x3000, 0x4100, IX(1)}, {0x3000, 0x4200, IX(2)},
    {0x4000, 0x5000, ID(L_PEER)}, {0x4100, 0x5100, ID(L_PEER)}, {0x4200, 0x5200, ID(L_PEER)},
    {0x9000, 0x4300, ID(L_CONN)},
    {0x4300, 0x5300, ID(L_PEER)},
    {0x2000, 0xdead0000, ID(L_QUOTE)}, /* an object the shim did not record */
};
static const struct sc_root roots_a[] = {
    {0x1000, RS_ROOT_MODULE, "__main__"},
    {0x9000, RS_ROOT_THREAD, "MainThread"},
};
static const struct scene scene_a = {SC_ARRAY(types), SC_ARRAY(nodes_a), SC_ARRAY(edges_a),
                                     SC_ARRAY(labels), SC_ARRAY(roots_a)};

/* Scene B: a garbage 2-cycle, an uncollectable 3-cycle (one member in gc.garbage), a
 * leaked 2-cycle (one reference more than recorded), a reachable cycle, a leaked single
 * object, and a garbage object hanging off the garbage cycle. */
static const struct sc_node nodes_b[] = {
    {0x1000, T_MODULE, 72, 1, GC | RS_NODE_MODULE, 16, "__main__"},
    {0x1100, T_MODULE, 72, 1, GC | RS_NODE_MODULE, 16, "gc"},
    {0x1200, T_LIST, 56, 1, GC, 16, "1 items"},                  /* gc.garbage */
    {0xa100, T_NODE, 48, 1, GC, 16, NULL}, {0xa200, T_NODE, 48, 1, GC, 16, NULL},
    {0xa300, T_DICT, 100, 1, GC, 16, NULL},                       /* off the garbage cycle */
    {0xb100, T_RES, 40, 2, GC | RS_NODE_IN_GC_GARBAGE, 16, NULL},
    {0xb200, T_RES, 40, 1, GC, 16, NULL}, {0xb300, T_RES, 40, 1, GC, 16, NULL},
    {0xc100, T_LEAKY, 32, 2, GC, 16, NULL}, {0xc200, T_LEAKY, 32, 1, GC, 16, NULL},
    {0xd100, T_NODE, 48, 2, GC, 16, NULL}, {0xd200, T_NODE, 48, 1, GC, 16, NULL},
    {0xe100, T_BLOB, 24, 1, GC, 16, NULL},
    {0xe200, T_BLOB, 24, 3, GC | RS_NODE_IMMORTAL, 16, NULL},    /* immortal: never leaked */
};
static const struct sc_edge edges_b[] = {
    {0x1100, 0x1200, ID(L_GARBAGE)}, {0x1200, 0xb100, IX(0)},
    {0xa100, 0xa200, ID(L_NEXT)}, {0xa200, 0xa100, ID(L_NEXT)}, {0xa100, 0xa300, ID(L_DICT)},
    {0xb100, 0xb200, ID(L_NEXT)}, {0xb200, 0xb300, ID(L_NEXT)}, {0xb300, 0xb100, ID(L_NEXT)},
    {0xc100, 0xc200, ID(L_NEXT)}, {0xc200, 0xc100, ID(L_NEXT)},
    {0x1000, 0xd100, ID(L_CACHE)}, {0xd100, 0xd200, ID(L_NEXT)}, {0xd200, 0xd100, ID(L_NEXT)},
};
static const struct sc_root roots_b[] = {
    {0x1000, RS_ROOT_MODULE, "__main__"},
    {0x1100, RS_ROOT_MODULE, "gc"},
};
static const struct scene scene_b = {SC_ARRAY(types), SC_ARRAY(nodes_b), SC_ARRAY(edges_b),
                                     SC_ARRAY(labels), SC_ARRAY(roots_b)};

#endif
