/* One object-graph snapshot in memory, decoded from the trace file on demand.
 *
 * Objects are numbered 0..n-1 in file order and held in parallel compact arrays; edges are
 * arrays of u32 node numbers (CSR-like). An object graph of N objects and E references
 * takes about 28 N + 4 E bytes (plus 8 N for the out-edge index and 4 N + 4 E for the
 * reverse edges when built), labels of objects aside. Edge labels are not kept: they are
 * looked up in the file for the few edges shown (rs_snap_edge_labels).
 *
 * Everything in the file is checked before use: a snapshot that does not decode is an
 * error with a one-line message, never a crash, and no count from the file sizes an
 * allocation unless the bytes present could hold that many items. */
#ifndef REFSCOPE_SNAP_GRAPH_H
#define REFSCOPE_SNAP_GRAPH_H

#include "notes.h"
#include "snap_index.h"

#include <stdbool.h>
#include <stdint.h>

#define RS_SNAP_NONE UINT32_MAX

/* qsort that accepts an empty (even NULL) array. */
static inline void rs_qsort(void *base, size_t n, size_t size,
                            int (*cmp)(const void *, const void *))
{
    extern void qsort(void *, size_t, size_t, int (*)(const void *, const void *));
    if (n > 1)
        qsort(base, n, size, cmp);
}

/* Where snapshot records are read from: the trace file (read again, piece by piece) or a
 * trace already in memory. */
struct rs_snap_source {
    const uint8_t *mem;
    size_t mem_len;
    int fd;
    uint8_t *buf;
    size_t cap;
};

/* Opens `path` again. `min_size`: the size the trace had when it was read (the file may
 * only have grown since). Returns 0, or -1 with a message in err. */
int rs_snap_source_file(struct rs_snap_source *s, const char *path, uint64_t min_size,
                        char *err, size_t errcap);
void rs_snap_source_memory(struct rs_snap_source *s, const uint8_t *data, size_t len);
void rs_snap_source_close(struct rs_snap_source *s);

struct rs_snap_type {
    uint32_t id;                /* as numbered in the snapshot; 0 for the unknown type */
    uint32_t flags;             /* RS_SNAPTYPE_* */
    uint64_t addr;
    uint64_t basicsize, itemsize;
    uint64_t name;              /* offset of the NUL-terminated name in g->strings */
    uint32_t name_len;
};

struct rs_snap_edge_label {
    uint32_t id;
    uint32_t kind;              /* rs_edge_kind */
    uint64_t text;              /* offset in g->strings */
    uint32_t len;
};

struct rs_snap_root {
    uint32_t node;              /* RS_SNAP_NONE when no recorded object has that address */
    uint32_t kind;              /* rs_root_kind */
    uint64_t addr;
    uint64_t name;              /* offset in g->strings */
    uint32_t name_len;
};

struct rs_snap_stats {
    uint64_t duplicate_nodes;   /* a second record of an address: the first is kept */
    uint64_t unknown_type_nodes;/* type id without a type record */
    uint64_t dangling_sources;  /* edge lists of addresses that are not recorded objects */
    uint64_t external_edges;    /* references to addresses that are not recorded objects */
    uint64_t unresolved_roots;
    uint64_t dropped_labels;    /* object labels not kept (over 4 GB of labels) */
    uint64_t duplicate_types;
    uint64_t implausible_sizes; /* over RS_SNAP_MAX_SIZE: counted as 0 */
    uint64_t edge_entries;      /* references read (with RS_SNAP_LOAD_EDGES), kept or not:
                                 * what the snapshot's END record counts */
};

/* No object is a terabyte: a larger size is a misread __sizeof__. */
#define RS_SNAP_MAX_SIZE (UINT64_C(1) << 40)

enum rs_snap_load_flags {
    RS_SNAP_LOAD_EDGES = 1 << 0,
    RS_SNAP_LOAD_LABELS = 1 << 1, /* the objects' labels */
    RS_SNAP_KEEP_INDEX = 1 << 2,  /* keep the address index for rs_snap_find_addr */
};

struct rs_snap_graph {
    const struct rs_snap_info *info;
    uint32_t n;
    uint64_t *addr;
    uint32_t *type;             /* index in types[] (0: unknown type) */
    uint32_t *size;             /* bytes; UINT32_MAX: see rs_snap_size */
    uint32_t *refcnt;           /* saturated at UINT32_MAX */
    uint16_t *flags;            /* RS_NODE_* */
    uint16_t *preheader;        /* saturated at UINT16_MAX (then: unknown) */
    uint32_t *label;            /* offset in ltext of a length byte and the bytes; 0: none */
    uint8_t *ltext;
    size_t ltext_len, ltext_cap;
    struct rs_snap_big { uint32_t node; uint64_t size; } *big; /* sizes >= 4 GB */
    size_t nbig, big_cap;

    struct rs_snap_type *types;
    uint32_t ntypes;
    struct rs_snap_edge_label *elabels; /* by id */
    size_t nelabels;
    struct rs_snap_root *roots;
    size_t nroots;
    /* What the weak references among the objects refer to (both recorded objects): not
     * references, kept apart from the edges. */
    struct rs_snap_weak { uint32_t ref, target; } *weak;
    size_t nweak;
    char *strings;
    size_t strings_len, strings_cap;

    /* Out-edges of v: dst[out_start[v] .. out_start[v] + out_len[v]), in file order. */
    bool has_edges;
    uint32_t *out_start, *out_len;
    uint32_t *dst;
    uint64_t m;
    /* In-edges of v (rs_snap_build_reverse): src[in_off[v] .. in_off[v + 1]). */
    uint32_t *in_off;
    uint32_t *src;

    uint32_t *hash;             /* address index: node + 1 per slot, 0 empty */
    uint64_t hmask;

    struct rs_snap_stats stats;
    unsigned load_flags;
};

/* Returns 0; -1 when the snapshot does not decode (message in err: "snapshot N: ...");
 * -2 when out of memory (message too). */
int rs_snap_load(struct rs_snap_graph *g, const struct rs_snap_info *info,
                 struct rs_snap_source *src, unsigned flags, char *err, size_t errcap);
/* Adds the references to g, loaded without them and with RS_SNAP_KEEP_INDEX: a caller that
 * needs the objects first holds them alone meanwhile. The index is kept after only with
 * RS_SNAP_KEEP_INDEX in flags. Returns as rs_snap_load; on failure g has its objects and no
 * references. */
int rs_snap_load_edges(struct rs_snap_graph *g, struct rs_snap_source *src, unsigned flags,
                       char *err, size_t errcap);
/* The size of a snapshot's records from which its references are decoded by two threads
 * (4 MB; tests set it to compare both ways on small snapshots). */
void rs_snap_set_parallel_min_bytes(uint64_t bytes);
void rs_snap_graph_free(struct rs_snap_graph *g);
/* Things worth saying about how the snapshot decoded (duplicates, unknown types...). */
void rs_snap_add_notes(const struct rs_snap_graph *g, struct rs_notes *notes);

static inline uint64_t rs_snap_size(const struct rs_snap_graph *g, uint32_t v)
{
    extern uint64_t rs_snap_big_size(const struct rs_snap_graph *g, uint32_t v);
    return g->size[v] == UINT32_MAX ? rs_snap_big_size(g, v) : g->size[v];
}

static inline const char *rs_snap_type_name(const struct rs_snap_graph *g, uint32_t v)
{
    return g->strings + g->types[g->type[v]].name;
}

/* The object's label (not NUL-terminated). */
static inline const char *rs_snap_label(const struct rs_snap_graph *g, uint32_t v, size_t *len)
{
    if (!g->label || !g->label[v]) {
        *len = 0;
        return "";
    }
    *len = g->ltext[g->label[v]];
    return (const char *)g->ltext + g->label[v] + 1;
}

/* RS_SNAP_NONE when no recorded object is at addr. Uses the index when kept, else scans. */
uint32_t rs_snap_find_addr(const struct rs_snap_graph *g, uint64_t addr);

/* Builds in_off/src. Returns 0, -1 when out of memory. */
int rs_snap_build_reverse(struct rs_snap_graph *g);

/* Labels of chosen edges, looked up in the file. For each i < n, the label of the first
 * edge from[i] -> to[i] is written to kind[i] (rs_edge_kind, 0 none, RS_SNAP_EDGE_INDEX for
 * an index) and text[i] (malloc'd, "" when none; NULL when out of memory), index[i] for an
 * index. Returns 0, -1 corrupt (err), -2 out of memory. */
#define RS_SNAP_EDGE_INDEX 100
struct rs_snap_edge_ref {
    uint32_t from, to;
    uint32_t kind;
    uint64_t index;
    char *text;
    size_t len;
    bool found;
};
int rs_snap_edge_labels(const struct rs_snap_graph *g, struct rs_snap_source *src,
                        struct rs_snap_edge_ref *edges, size_t n, char *err, size_t errcap);
void rs_snap_edge_refs_free(struct rs_snap_edge_ref *edges, size_t n);

/* The labels of chosen objects, read from the file into a graph loaded without them
 * (rs_snap_label then answers for these; a graph loaded with its labels is left as it
 * is). Returns 0, -1 corrupt (err), -2 out of memory. */
int rs_snap_node_labels(struct rs_snap_graph *g, struct rs_snap_source *src,
                        const uint32_t *nodes, size_t n, char *err, size_t errcap);

/* The blocks that hold the items of objects nodes[0..n) (RS_TAG_SNAP_BUFFERS: a list's
 * items, a bytearray's bytes...; n small), read from the file in one pass: blocks[k] = 0
 * when the snapshot names none (small or not a container, or written before the record
 * existed). Returns 0, -1 corrupt (err). */
int rs_snap_items_blocks(const struct rs_snap_graph *g, struct rs_snap_source *src,
                         const uint32_t *nodes, size_t n, uint64_t *blocks, char *err,
                         size_t errcap);

#endif
