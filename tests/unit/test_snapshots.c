/* Object-graph snapshots: decoding, type statistics, growth, backreference chains,
 * dominators, cycles, DOT output, and corrupt snapshots, on crafted traces with values
 * checked by hand. */
#include "snap_scene.h"
#include "test_util.h"

#include "snap_analyze.h"
#include "snap_dot.h"
#include "snap_index.h"
#include "trace_reader.h"

#include <graphviz/cgraph.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

TEST_GLOBALS;

#include "snap_scenes.h"

static struct rs_trace *read_built(struct tb *b)
{
    struct rs_trace *t = sc_read(b);
    CHECK(t != NULL);
    return t;
}

static int load(struct tb *b, struct rs_trace *t, const struct rs_snap_info *si,
                struct rs_snap_graph *g, unsigned flags, char *err, size_t cap)
{
    struct rs_snap_source src;
    rs_snap_source_memory(&src, b->buf.data, b->buf.len);
    int rc = rs_snap_load(g, si, &src, flags, err, cap);
    rs_snap_source_close(&src);
    (void)t;
    return rc;
}

/* A trace of one complete snapshot of sc (id, time, label) in b, read back, with that
 * snapshot loaded into g with flags. NULL, b freed and a check failed, when it cannot be
 * read or loaded. */
static struct rs_trace *one_snapshot(struct tb *b, uint32_t id, uint64_t time, const char *label,
                                     const struct scene *sc, unsigned flags, struct rs_snap_graph *g)
{
    sc_write(b, id, time, label, sc, 0, 1, true);
    struct rs_trace *t = read_built(b);
    char err[256];
    if (t && load(b, t, rs_snap_last_complete(t), g, flags, err, sizeof err) != 0) {
        CHECK_STR(err, "");
        rs_trace_free(t);
        t = NULL;
    }
    if (!t)
        tb_free(b);
    return t;
}

static uint32_t node_at(const struct rs_snap_graph *g, uint64_t addr)
{
    return rs_snap_find_addr(g, addr);
}

static void test_decode_and_types(void)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    sc_write(&b, 1, 1000, "one", &scene_a, 4, 3, true);
    struct rs_trace *t = read_built(&b);
    if (!t)
        return;
    CHECK_EQ_U64(rs_snap_count_complete(t), 1);
    const struct rs_snap_info *si = rs_snap_last_complete(t);
    CHECK(si && si->id == 1 && si->nranges == 3);
    CHECK(rs_snap_find(t, "1") == si);
    CHECK(rs_snap_find(t, "one") == si);
    CHECK(rs_snap_find(t, "2") == NULL);
    struct rs_snap_graph g;
    char err[256] = "";
    CHECK_EQ_U64(load(&b, t, si, &g, RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS, err,
                      sizeof err), 0);
    CHECK_EQ_U64(g.n, 12);
    CHECK_EQ_U64(g.m, 10); /* the reference to 0xdead0000 is external */
    CHECK_EQ_U64(g.stats.external_edges, 1);
    CHECK_EQ_U64(g.nroots, 2);
    uint32_t list = node_at(&g, 0x3000);
    size_t llen;
    const char *l = rs_snap_label(&g, list, &llen);
    CHECK(llen == 7 && memcmp(l, "3 items", 7) == 0);
    CHECK_STR(rs_snap_type_name(&g, list), "builtins.list");
    CHECK_EQ_U64(g.out_len[list], 3);

    struct rs_type_stat *st;
    size_t n;
    CHECK_EQ_U64(rs_snap_type_stats(&g, NULL, true, &st, &n), 0);
    CHECK_EQ_U64(n, 4); /* str and frame are not GC-tracked */
    CHECK_STR(st[0].name, "__main__.Connection");
    CHECK_EQ_U64(st[0].count, 4);
    CHECK_EQ_U64(st[0].size, 192);
    free(st);

    struct rs_snap_domtree d;
    CHECK_EQ_U64(rs_snap_full_domtree(&g, &d), 0);
    /* Retained: a Connection 48 + its str 60; the list 88 + 3 x 108; the dict 1000 + 412;
     * the module 72 + 1412; the frame's Connection 108. */
    CHECK_EQ_U64(rs_snap_retained(&d, node_at(&g, 0x4100)), 108);
    CHECK_EQ_U64(rs_snap_retained(&d, list), 412);
    CHECK_EQ_U64(rs_snap_retained(&d, node_at(&g, 0x2000)), 1412);
    CHECK_EQ_U64(rs_snap_retained(&d, node_at(&g, 0x1000)), 1484);
    CHECK_EQ_U64(rs_snap_retained(&d, node_at(&g, 0x9000)), 108);
    CHECK_EQ_U64(rs_snap_idom(&d, node_at(&g, 0x4100)), list);
    CHECK_EQ_U64(rs_snap_idom(&d, node_at(&g, 0x1000)), RS_SNAP_SUPER);
    CHECK_EQ_U64(rs_snap_type_stats(&g, &d, true, &st, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(st[i].name, "__main__.Connection") == 0)
            CHECK_EQ_U64(st[i].retained, 432);
        if (strcmp(st[i].name, "builtins.dict") == 0)
            CHECK_EQ_U64(st[i].retained, 1412);
    }
    free(st);
    rs_snap_domtree_free(&d);
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);
}

/* A diamond and a nested type, checked by hand:
 *   R(1) -> A(2), B(4);  A -> C(8);  B -> C;  C -> D(16);  D -> E(32, a dict)
 *   idom(C) = R, idom(D) = C, idom(E) = D
 *   retained: E 32, D 48, C 56, A 2, B 4, R 63 */
static void test_dominators(void)
{
    static const struct sc_node nodes[] = {
        {0x100, T_MODULE, 1, 1, GC | RS_NODE_MODULE, 0, "root"},
        {0x200, T_NODE, 2, 1, GC, 0, "A"},
        {0x300, T_NODE, 4, 1, GC, 0, "B"},
        {0x400, T_NODE, 8, 2, GC, 0, "C"},
        {0x500, T_NODE, 16, 1, GC, 0, "D"},
        {0x600, T_DICT, 32, 1, GC, 0, "E"},
    };
    static const struct sc_edge edges[] = {
        {0x100, 0x200, 0}, {0x100, 0x300, 0}, {0x200, 0x400, 0}, {0x300, 0x400, 0},
        {0x400, 0x500, 0}, {0x500, 0x600, 0},
    };
    static const struct sc_root roots[] = {{0x100, RS_ROOT_MODULE, "root"}};
    static const struct scene sc = {SC_ARRAY(types), SC_ARRAY(nodes), SC_ARRAY(edges),
                                    NULL, 0, SC_ARRAY(roots)};
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    struct rs_snap_graph g;
    struct rs_trace *t = one_snapshot(&b, 7, 10, "", &sc, RS_SNAP_LOAD_EDGES, &g);
    if (!t)
        return;
    struct rs_snap_domtree d;
    CHECK_EQ_U64(rs_snap_full_domtree(&g, &d), 0);
    uint32_t R = node_at(&g, 0x100), A = node_at(&g, 0x200), B = node_at(&g, 0x300),
             C = node_at(&g, 0x400), D = node_at(&g, 0x500), E = node_at(&g, 0x600);
    CHECK_EQ_U64(rs_snap_idom(&d, C), R);
    CHECK_EQ_U64(rs_snap_idom(&d, D), C);
    CHECK_EQ_U64(rs_snap_idom(&d, E), D);
    CHECK_EQ_U64(rs_snap_idom(&d, A), R);
    CHECK_EQ_U64(rs_snap_retained(&d, E), 32);
    CHECK_EQ_U64(rs_snap_retained(&d, D), 48);
    CHECK_EQ_U64(rs_snap_retained(&d, C), 56);
    CHECK_EQ_U64(rs_snap_retained(&d, A), 2);
    CHECK_EQ_U64(rs_snap_retained(&d, B), 4);
    CHECK_EQ_U64(rs_snap_retained(&d, R), 63);
    /* Per type, nested objects of a type count once: Node = C's 56 + A 2 + B 4 (D is
     * inside C). */
    struct rs_type_stat *st;
    size_t n;
    CHECK_EQ_U64(rs_snap_type_stats(&g, &d, true, &st, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(st[i].name, "__main__.Node") == 0) {
            CHECK_EQ_U64(st[i].count, 4);
            CHECK_EQ_U64(st[i].size, 30);
            CHECK_EQ_U64(st[i].retained, 62);
        }
    }
    free(st);
    rs_snap_domtree_free(&d);
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);
}

static void check_edge(const struct rs_snap_edge_ref *e, uint32_t kind, const char *text,
                       uint64_t index)
{
    CHECK(e->found);
    CHECK_EQ_U64(e->kind, kind);
    if (text)
        CHECK_STR(e->text, text);
    else
        CHECK_EQ_U64(e->index, index);
}

static void test_backrefs(void)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    struct rs_snap_graph g;
    struct rs_trace *t = one_snapshot(&b, 1, 1000, "one", &scene_a,
                                      RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS, &g);
    if (!t)
        return;
    CHECK_EQ_U64(rs_snap_build_reverse(&g), 0);
    uint32_t in_all[16];
    uint8_t kind[16];
    rs_snap_in_degrees(&g, in_all, NULL);
    rs_snap_root_kinds(&g, in_all, kind);
    CHECK_EQ_U64(kind[node_at(&g, 0x1000)], RS_SROOT_MODULE);
    CHECK_EQ_U64(kind[node_at(&g, 0x9000)], RS_SROOT_THREAD);
    CHECK_EQ_U64(kind[node_at(&g, 0x3000)], RS_SROOT_NONE);

    /* One object: module -> dict -> list -> Connection. */
    uint32_t target = node_at(&g, 0x4100);
    struct rs_chain c;
    CHECK_EQ_U64(rs_snap_backref_chain(&g, kind, &target, 1, 0, &c), 0);
    CHECK_EQ_U64(c.n, 4);
    if (c.n == 4) {
        CHECK_EQ_U64(c.root_kind, RS_SROOT_MODULE);
        CHECK_EQ_U64(g.addr[c.nodes[0]], 0x1000);
        CHECK_EQ_U64(g.addr[c.nodes[1]], 0x2000);
        CHECK_EQ_U64(g.addr[c.nodes[2]], 0x3000);
        CHECK_EQ_U64(g.addr[c.nodes[3]], 0x4100);
        struct rs_snap_edge_ref e[3] = {{.from = c.nodes[0], .to = c.nodes[1]},
                                        {.from = c.nodes[1], .to = c.nodes[2]},
                                        {.from = c.nodes[2], .to = c.nodes[3]}};
        struct rs_snap_source src;
        char err[256];
        rs_snap_source_memory(&src, b.buf.data, b.buf.len);
        CHECK_EQ_U64(rs_snap_edge_labels(&g, &src, e, 3, err, sizeof err), 0);
        check_edge(&e[0], RS_EDGE_SPECIAL, "__dict__", 0);
        check_edge(&e[1], RS_EDGE_ATTR, "_cache", 0);
        check_edge(&e[2], RS_SNAP_EDGE_INDEX, NULL, 1);
        rs_snap_edge_refs_free(e, 3);
        rs_snap_source_close(&src);
    }
    rs_chain_free(&c);
    /* A depth limit too short for the module: no chain. */
    CHECK_EQ_U64(rs_snap_backref_chain(&g, kind, &target, 1, 2, &c), 0);
    CHECK_EQ_U64(c.n, 0);
    rs_chain_free(&c);

    /* All Connections at once: the closest to a root is the thread frame's local. */
    uint32_t all[4] = {node_at(&g, 0x4000), node_at(&g, 0x4100), node_at(&g, 0x4200),
                       node_at(&g, 0x4300)};
    CHECK_EQ_U64(rs_snap_backref_chain(&g, kind, all, 4, 0, &c), 0);
    CHECK_EQ_U64(c.n, 2);
    CHECK_EQ_U64(c.root_kind, RS_SROOT_THREAD);
    CHECK_EQ_U64(g.addr[c.target], 0x4300);
    rs_chain_free(&c);

    /* Held from C: an object with more references than recorded ones, nothing else. */
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);
}

#define GIB (UINT64_C(1) << 30)

static void test_growth(void)
{
    /* Three snapshots: Connections 0 -> 2 -> 4 (steady growth, allocated at
     * cache_leak.py:21 in handle; the fourth one 5 GiB, to count a size past 32 bits),
     * lists 3 -> 2 -> 1, one dict throughout. */
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, RS_CHUNK_TID_META, 0);
    sc_py_stack(&b, "/src/cache_leak.py");
    rs_rec_thread(&b.w, 100, RS_THREAD_MAIN, "main");
    tb_chunk_end(&b, 0);
    /* Allocation events: Connections at 0x4000 + 0x100 k (block = address - 16). */
    tb_chunk(&b, 100, 0);
    for (int k = 0; k < 4; k++)
        rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 1500 + 1000 * (uint64_t)(k / 2), 0x4000 + 0x100 * k - 16,
                     64, SC_PY_STACK);
    tb_chunk_end(&b, 4);
    for (int s = 0; s < 3; s++) {
        struct sc_node nodes[8];
        size_t nn = 0;
        nodes[nn++] = (struct sc_node){0x2000, T_DICT, 100, 0, GC, 16, NULL};
        for (int i = 0; i < 3 - s; i++)
            nodes[nn++] = (struct sc_node){0x3000 + 0x100 * (uint64_t)i, T_LIST, 50, 0, GC, 16, NULL};
        for (int i = 0; i < 2 * s; i++)
            nodes[nn++] = (struct sc_node){0x4000 + 0x100 * (uint64_t)i, T_CONN,
                                           i == 3 ? 5 * GIB : 48, 0, GC, 16, NULL};
        struct scene sc = {SC_ARRAY(types), nodes, nn, NULL, 0, NULL, 0, NULL, 0};
        sc_write(&b, (uint32_t)s + 1, 1000 + 1000 * (uint64_t)s, s == 0 ? "start" : "later",
                 &sc, 0, 1, true);
    }
    struct rs_trace *t = read_built(&b);
    if (!t)
        return;
    struct rs_snap_source src;
    rs_snap_source_memory(&src, b.buf.data, b.buf.len);
    struct rs_notes notes = {0};
    struct rs_symbolizer *sym = rs_symbolizer_new(t, &notes);
    struct rs_site_names *names = rs_site_names_new(t, sym);
    struct rs_growth gr;
    char err[256] = "";
    CHECK_EQ_U64(rs_growth_build(t, &src, names, &gr, &notes, err, sizeof err), 0);
    CHECK_EQ_U64(gr.nsnaps, 3);
    CHECK(gr.have_sites);
    bool seen_conn = false, seen_list = false, seen_site = false;
    for (size_t i = 0; i < gr.ntypes; i++) {
        const struct rs_growth_row *r = &gr.types[i];
        if (strcmp(r->key, "__main__.Connection") == 0) {
            seen_conn = true;
            CHECK_EQ_U64(r->count[0], 0);
            CHECK_EQ_U64(r->count[1], 2);
            CHECK_EQ_U64(r->count[2], 4);
            CHECK_EQ_U64(r->size[1], 96);
            CHECK_EQ_U64(r->size[2], 144 + 5 * GIB);
            CHECK(r->suspect);
        } else if (strcmp(r->key, "builtins.list") == 0) {
            seen_list = true;
            CHECK_EQ_U64(r->count[0], 3);
            CHECK_EQ_U64(r->count[2], 1);
            CHECK(!r->suspect);
        } else {
            CHECK(!r->suspect);
        }
    }
    CHECK(seen_conn && seen_list);
    for (size_t i = 0; i < gr.nsites; i++) {
        const struct rs_growth_row *r = &gr.sites[i];
        if (r->stack_id == SC_PY_STACK) {
            seen_site = true;
            CHECK_STR(r->key, "cache_leak.py:21 handle");
            CHECK_EQ_U64(r->count[1], 2);
            CHECK_EQ_U64(r->count[2], 4);
            CHECK_EQ_U64(r->size[2], 144 + 5 * GIB);
            CHECK(r->suspect);
            CHECK(r->site && !r->site->internal);
            CHECK(rs_site_matches(r->site, "cache_leak.py:21"));
            CHECK(rs_site_matches(r->site, "src/cache_leak.py:21"));
            CHECK(!rs_site_matches(r->site, "leak.py:21"));
            CHECK(!rs_site_matches(r->site, "cache_leak.py:22"));
        } else {
            CHECK_EQ_U64(r->stack_id, RS_SITE_UNKNOWN); /* dicts and lists: no events */
        }
    }
    CHECK(seen_site);
    rs_growth_free(&gr);
    rs_site_names_free(names);
    rs_symbolizer_free(sym);
    rs_notes_free(&notes);
    rs_snap_source_close(&src);
    rs_trace_free(t);
    tb_free(&b);

    const uint64_t up[] = {0, 300, 600, 900}, flat[] = {5, 5, 5}, two[] = {1, 2},
                   late[] = {9, 1, 2, 3}, plateau[] = {1, 2, 2}, dip[] = {1, 3, 2, 4},
                   warmup[] = {967, 1094, 1094, 1094, 1094, 1094},
                   noise[] = {10, 11, 10, 11, 12}, level[] = {1000, 1000, 1000, 1001, 1002},
                   bursts[] = {0, 100, 100, 200, 200, 300},
                   started_late[] = {100, 100, 100, 100, 150, 200},
                   around[] = {2307, 2343, 2343, 2363, 2331, 2331},
                   back_to_level[] = {2412, 2338, 2352, 2396, 2410, 2409};
    CHECK(rs_growth_is_suspect(up, 4));
    CHECK(!rs_growth_is_suspect(flat, 3));
    CHECK(!rs_growth_is_suspect(two, 2));
    CHECK(rs_growth_is_suspect(late, 4));       /* after a clean-up, counted from the low */
    CHECK(!rs_growth_is_suspect(plateau, 3));   /* rose once, then stayed */
    CHECK(!rs_growth_is_suspect(dip, 4));
    CHECK(!rs_growth_is_suspect(warmup, 6));    /* a cache filled once (re's, on 3.11) */
    CHECK(!rs_growth_is_suspect(noise, 5));     /* gains no larger than its drops */
    CHECK(!rs_growth_is_suspect(level, 5));     /* 2 more of 1,000 */
    CHECK(rs_growth_is_suspect(bursts, 6));     /* every other interval */
    CHECK(rs_growth_is_suspect(started_late, 6));
    CHECK(!rs_growth_is_suspect(around, 6));    /* up and down around a level */
    CHECK(!rs_growth_is_suspect(back_to_level, 6)); /* ints in flight after a dip (3.8) */
}

static void test_cycles(void)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    sc_write(&b, 3, 1000, "exit", &scene_b, 5, 1, true);
    struct rs_trace *t = read_built(&b);
    if (!t)
        return;
    struct rs_snap_graph g;
    char err[256];
    CHECK_EQ_U64(load(&b, t, rs_snap_last_complete(t), &g,
                      RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS, err, sizeof err), 0);
    struct rs_cycles cy;
    CHECK_EQ_U64(rs_snap_cycles(&g, NULL, NULL, false, &cy), 0);
    /* a100, a200, a300, b100, b200, b300, c100, c200, e100 */
    CHECK_EQ_U64(cy.unreachable, 9);
    CHECK_EQ_U64(cy.ncycles[RS_CYCLE_GARBAGE], 1);
    CHECK_EQ_U64(cy.in_cycles[RS_CYCLE_GARBAGE], 2);
    CHECK_EQ_U64(cy.size[RS_CYCLE_GARBAGE], 96);
    CHECK_EQ_U64(cy.ncycles[RS_CYCLE_UNCOLLECTABLE], 1);
    CHECK_EQ_U64(cy.in_cycles[RS_CYCLE_UNCOLLECTABLE], 3);
    CHECK_EQ_U64(cy.ncycles[RS_CYCLE_LEAKED], 1);
    CHECK_EQ_U64(cy.in_cycles[RS_CYCLE_LEAKED], 2);
    CHECK_EQ_U64(cy.ngroups, 3);
    if (cy.ngroups == 3) {
        CHECK_EQ_U64(cy.groups[0].cls, RS_CYCLE_UNCOLLECTABLE);
        CHECK(cy.groups[0].finalizer);
        CHECK_STR(cy.groups[0].types[0].name, "__main__.Resource");
        CHECK_EQ_U64(cy.groups[0].types[0].count, 3);
        CHECK_EQ_U64(cy.groups[1].cls, RS_CYCLE_LEAKED);
        CHECK_STR(cy.groups[1].types[0].name, "ext.Leaky");
        CHECK_EQ_U64(cy.groups[2].cls, RS_CYCLE_GARBAGE);
        CHECK_EQ_U64(cy.groups[2].members, 2);
        CHECK(!cy.groups[2].finalizer);
    }
    CHECK_EQ_U64(cy.nleaked, 1);
    CHECK_EQ_U64(cy.leaked_objects, 1);
    if (cy.nleaked)
        CHECK_STR(cy.leaked[0].name, "ext.Blob");
    rs_cycles_free(&cy);
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);

    /* Many equal cycles are one group. */
    struct sc_node many[200];
    struct sc_edge links[200];
    for (int i = 0; i < 100; i++) {
        many[2 * i] = (struct sc_node){0x10000 + 0x100 * (uint64_t)i, T_NODE, 48, 1, GC, 16, NULL};
        many[2 * i + 1] = (struct sc_node){0x80000 + 0x100 * (uint64_t)i, T_NODE, 48, 1, GC, 16, NULL};
        links[2 * i] = (struct sc_edge){many[2 * i].addr, many[2 * i + 1].addr, ID(L_NEXT)};
        links[2 * i + 1] = (struct sc_edge){many[2 * i + 1].addr, many[2 * i].addr, ID(L_NEXT)};
    }
    struct scene sc = {SC_ARRAY(types), SC_ARRAY(many), SC_ARRAY(links), SC_ARRAY(labels), NULL, 0};
    tb_init(&b);
    tb_default_header(&b);
    sc_write(&b, 1, 10, "", &sc, 64, 2, true);
    t = read_built(&b);
    if (!t)
        return;
    CHECK_EQ_U64(load(&b, t, rs_snap_last_complete(t), &g, RS_SNAP_LOAD_EDGES, err,
                      sizeof err), 0);
    CHECK_EQ_U64(rs_snap_cycles(&g, NULL, NULL, false, &cy), 0);
    CHECK_EQ_U64(cy.ngroups, 1);
    if (cy.ngroups)
        CHECK_EQ_U64(cy.groups[0].cycles, 100);
    CHECK_EQ_U64(cy.ncycles[RS_CYCLE_GARBAGE], 100);
    rs_cycles_free(&cy);
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);

    /* An object with a reference more than recorded, reached only through gc.garbage (a
     * list the roots reach, not walked through for them) and an object in it: the
     * interpreter's own, counted apart unless all are shown. The walk from the modules
     * (the interpreter's) has to go through the objects the roots reach to find it. */
    static const struct sc_node held[] = {
        {0x1100, T_MODULE, 72, 1, GC | RS_NODE_MODULE, 16, "gc"},
        {0x1200, T_LIST, 56, 1, GC, 16, "1 items"}, /* gc.garbage */
        {0xb100, T_RES, 40, 1, GC | RS_NODE_IN_GC_GARBAGE, 16, NULL},
        {0xc100, T_BLOB, 24, 2, GC, 16, NULL},
    };
    static const struct sc_edge held_edges[] = {
        {0x1100, 0x1200, ID(L_GARBAGE)}, {0x1200, 0xb100, IX(0)}, {0xb100, 0xc100, ID(L_NEXT)},
    };
    static const struct sc_root held_roots[] = {{0x1100, RS_ROOT_MODULE, "gc"}};
    struct scene hs = {SC_ARRAY(types), SC_ARRAY(held), SC_ARRAY(held_edges), SC_ARRAY(labels),
                       SC_ARRAY(held_roots)};
    tb_init(&b);
    tb_default_header(&b);
    sc_write(&b, 1, 10, "", &hs, 0, 1, true);
    t = read_built(&b);
    if (!t)
        return;
    CHECK_EQ_U64(load(&b, t, rs_snap_last_complete(t), &g, RS_SNAP_LOAD_EDGES, err,
                      sizeof err), 0);
    for (int all = 0; all < 2; all++) {
        CHECK_EQ_U64(rs_snap_cycles(&g, NULL, NULL, all, &cy), 0);
        CHECK_EQ_U64(cy.unreachable, 2);
        CHECK_EQ_U64(cy.nleaked, (uint64_t)all);
        CHECK_EQ_U64(cy.suppressed_objects, (uint64_t)!all);
        rs_cycles_free(&cy);
    }
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);
}

/* Weak references (RS_TAG_SNAP_WEAK) are not references: they change no cycle, and mark
 * as collectable only the weak references to garbage. */
static void test_weak_references(void)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    sc_write(&b, 3, 1000, "exit", &scene_b, 5, 1, false);
    tb_chunk(&b, RS_CHUNK_TID_META, 2000);
    /* d100 (reachable) weakly refers to a100 (garbage); gc.garbage's list to d200 (reachable);
     * an unrecorded object to a100 */
    const uint64_t pairs[] = {0xd100, 0xa100, 0x1200, 0xd200, 0xdead0000, 0xa100};
    rs_rec_snap_weak(&b.w, pairs, 3);
    rs_rec_snap_end(&b.w, 3, scene_b.nnodes, scene_b.nedges, 1000);
    tb_chunk_end(&b, 0);
    struct rs_trace *t = read_built(&b);
    if (!t)
        return;
    struct rs_snap_graph g;
    char err[256];
    CHECK_EQ_U64(load(&b, t, rs_snap_last_complete(t), &g, RS_SNAP_LOAD_EDGES, err, sizeof err), 0);
    CHECK_EQ_U64(g.nweak, 2);
    uint8_t *collectable = calloc(g.n, 1), *garbage = calloc(g.n, 1);
    CHECK_EQ_U64(rs_snap_collectable(&g, collectable), 0);
    CHECK(collectable[node_at(&g, 0xa100)]);
    CHECK(!collectable[node_at(&g, 0xd100)]);
    CHECK_EQ_U64(rs_snap_growth_excluded(&g, garbage), 0);
    CHECK(garbage[node_at(&g, 0xa100)]);
    CHECK(garbage[node_at(&g, 0xd100)]);
    CHECK(!garbage[node_at(&g, 0x1200)]);
    struct rs_cycles cy;
    CHECK_EQ_U64(rs_snap_cycles(&g, NULL, NULL, false, &cy), 0);
    CHECK_EQ_U64(cy.unreachable, 9); /* as without the weak references (test_cycles) */
    rs_cycles_free(&cy);
    free(collectable);
    free(garbage);
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);
}

/* What growth leaves out among the objects the collector does not track: those no module
 * or thread reaches (held by garbage, or by C state) and those an instance holds, itself
 * or through its attribute dict; not those a container a module reaches holds. */
static void test_growth_excluded_untracked(void)
{
    static const struct sc_node nodes[] = {
        {0x1000, T_MODULE, 72, 1, GC | RS_NODE_MODULE, 16, "__main__"},
        {0x2000, T_DICT, 1000, 1, GC, 16, "4 items"},
        {0x3000, T_LIST, 88, 1, GC, 16, "1 items"},                  /* a cache of ids */
        {0x3100, T_STR, 60, 1, 0, 0, "id-1"},
        {0x4000, T_CONN, 48, 1, GC, 16, NULL},                       /* an instance */
        {0x4100, T_STR, 60, 1, 0, 0, "10.0.0.1"},
        {0x4200, T_DICT, 100, 1, GC, 16, "1 items"},                 /* its attribute dict */
        {0x4300, T_STR, 60, 1, 0, 0, "peer"},
        {0xa100, T_NODE, 48, 1, GC, 16, NULL}, {0xa200, T_NODE, 48, 1, GC, 16, NULL},
        {0xa300, T_STR, 60, 1, 0, 0, "garbage's"},
        {0xc100, T_DICT, 100, 1, 0, 16, "1 items"},                  /* held from C */
        {0xc200, T_STR, 60, 1, 0, 0, "C state's"},
    };
    static const struct sc_edge edges[] = {
        {0x1000, 0x2000, ID(L_DICT)}, {0x2000, 0x3000, ID(L_CACHE)}, {0x3000, 0x3100, IX(0)},
        {0x2000, 0x4000, ID(L_CONN)}, {0x4000, 0x4100, ID(L_PEER)},
        {0x4000, 0x4200, ID(L_DICT)}, {0x4200, 0x4300, ID(L_PEER)},
        {0xa100, 0xa200, ID(L_NEXT)}, {0xa200, 0xa100, ID(L_NEXT)}, {0xa100, 0xa300, ID(L_NEXT)},
        {0xc100, 0xc200, ID(L_QUOTE)},
    };
    static const struct sc_root roots[] = {{0x1000, RS_ROOT_MODULE, "__main__"}};
    struct scene sc = {SC_ARRAY(types), SC_ARRAY(nodes), SC_ARRAY(edges), SC_ARRAY(labels),
                       SC_ARRAY(roots)};
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    struct rs_snap_graph g;
    struct rs_trace *t = one_snapshot(&b, 1, 1000, "exit", &sc, RS_SNAP_LOAD_EDGES, &g);
    if (!t)
        return;
    uint8_t *out = calloc(g.n, 1);
    CHECK_EQ_U64(rs_snap_growth_excluded(&g, out), 0);
    CHECK(!out[node_at(&g, 0x3100)]); /* in a list a module reaches: counted */
    CHECK(!out[node_at(&g, 0x4000)]);
    CHECK(out[node_at(&g, 0x4100)]);  /* the instance's */
    CHECK(out[node_at(&g, 0x4300)]);  /* in its attribute dict */
    CHECK(out[node_at(&g, 0xa100)]);  /* garbage */
    CHECK(out[node_at(&g, 0xa300)]);  /* only garbage holds it */
    CHECK(out[node_at(&g, 0xc100)]);  /* untracked, held from C */
    CHECK(out[node_at(&g, 0xc200)]);
    for (uint32_t v = 0; v < g.n; v++)
        CHECK(rs_growth_counts(&g, v)); /* no synthetic object here: all counted by type */
    free(out);
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);
}

/* The blocks of large containers' items (RS_TAG_SNAP_BUFFERS), read back per object; a
 * record cut short is an error, not a wrong answer. */
static void test_items_blocks(void)
{
    for (int cut = 0; cut < 2; cut++) {
        struct tb b;
        tb_init(&b);
        tb_default_header(&b);
        sc_write(&b, 3, 1000, "exit", &scene_a, 5, 1, false);
        tb_chunk(&b, RS_CHUNK_TID_META, 2000);
        const uint64_t pairs[] = {0x3000, 0x77000, 0xdead0000, 0x88000};
        if (cut) {
            size_t at = rs_rec_begin(&b.w, RS_TAG_SNAP_BUFFERS);
            rs_buf_varint(&b.buf, 2);
            rs_buf_varint(&b.buf, 0x3000);
            rs_rec_end(&b.w, at);
        } else {
            rs_rec_snap_buffers(&b.w, pairs, 2);
        }
        rs_rec_snap_end(&b.w, 3, scene_a.nnodes, scene_a.nedges, 1000);
        tb_chunk_end(&b, 0);
        struct rs_trace *t = read_built(&b);
        if (!t)
            return;
        struct rs_snap_graph g;
        char err[256] = "";
        struct rs_snap_source src;
        rs_snap_source_memory(&src, b.buf.data, b.buf.len);
        CHECK_EQ_U64(rs_snap_load(&g, rs_snap_last_complete(t), &src, 0, err, sizeof err), 0);
        const uint32_t nodes[] = {node_at(&g, 0x3000), node_at(&g, 0x2000)};
        uint64_t blocks[2] = {1, 1};
        int rc = rs_snap_items_blocks(&g, &src, nodes, 2, blocks, err, sizeof err);
        if (cut) {
            CHECK_EQ_U64(rc, (uint64_t)-1);
            CHECK_CONTAINS(err, "item block record cut short");
        } else {
            CHECK_EQ_U64(rc, 0);
            CHECK_EQ_U64(blocks[0], 0x77000);
            CHECK_EQ_U64(blocks[1], 0); /* no record for it */
        }
        rs_snap_graph_free(&g);
        rs_snap_source_close(&src);
        rs_trace_free(t);
        tb_free(&b);
    }
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static void test_dot(void)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    static const struct sc_node nodes[] = {
        {0x1000, T_MODULE, 72, 1, GC | RS_NODE_MODULE, 16, "__main__"},
        {0x2000, T_RES, 40, 1, GC, 16, "q\"uo\\te\nnew\x01line}{<>|"},
        {0x3000, T_STR, 40, 1, 0, 0, "\xff\xfe bad utf-8 \xe2\x80\xae rtl"},
    };
    static const struct sc_edge edges[] = {
        {0x1000, 0x2000, ID(L_QUOTE)}, {0x2000, 0x3000, IX(4)}, {0x2000, 0x1000, 0}};
    static const struct sc_root roots[] = {{0x1000, RS_ROOT_MODULE, "__main__"}};
    struct scene sc = {SC_ARRAY(types), SC_ARRAY(nodes), SC_ARRAY(edges), SC_ARRAY(labels),
                       SC_ARRAY(roots)};
    struct rs_snap_graph g;
    struct rs_trace *t = one_snapshot(&b, 1, 10, "", &sc, RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS, &g);
    if (!t)
        return;
    struct rs_snap_edge_ref refs[3] = {{.from = 0, .to = 1}, {.from = 1, .to = 2},
                                       {.from = 1, .to = 0}};
    char err[256];
    struct rs_snap_source src;
    rs_snap_source_memory(&src, b.buf.data, b.buf.len);
    CHECK_EQ_U64(rs_snap_edge_labels(&g, &src, refs, 3, err, sizeof err), 0);
    rs_snap_source_close(&src);
    check_edge(&refs[0], RS_EDGE_KEY, "'a\"b\\\\c\nd\x01'", 0);
    check_edge(&refs[1], RS_SNAP_EDGE_INDEX, NULL, 4);
    CHECK(refs[2].found && refs[2].kind == 0);
    struct rs_dot_node dn[3] = {{0, 0, true, "site \"x\" \\ y"}, {1, 1, false, NULL},
                                {2, 2, false, NULL}};
    struct rs_dot_edge de[3] = {{0, 1, &refs[0]}, {1, 2, &refs[1]}, {1, 0, &refs[2]}};
    struct rs_dot_more more[1] = {{1, 7, false}};
    struct rs_strbuf sb = {0};
    rs_dot_graph(&sb, &g, dn, 3, de, 3, more, 1, 2, "title \"q\"");
    CHECK(!sb.failed);
    CHECK_CONTAINS(sb.s, "fontcolor=red");
    CHECK_CONTAINS(sb.s, "7 more references");
    CHECK_CONTAINS(sb.s, "__del__");
    CHECK_CONTAINS(sb.s, "fillcolor=\"0.3,0.5,1.000\""); /* the module, green */
    CHECK_CONTAINS(sb.s, "q\\\"uo\\\\te\\\\nnew\\\\x01line}{<>|");
    CHECK_CONTAINS(sb.s, "label=\"[4]\"");
    Agraph_t *ag = agmemread(sb.s);
    CHECK(ag != NULL);
    if (ag) {
        CHECK_EQ_U64(agnnodes(ag), 4);
        CHECK_EQ_U64(agnedges(ag), 4);
        Agnode_t *n1 = agnode(ag, "o1", 0);
        CHECK(n1 != NULL);
        if (n1)
            CHECK_STR(agget(n1, "label"), "__main__.Resource\\nq\"uo\\\\te\\\\nnew\\\\x01line}{<>|\\n__del__");
        agclose(ag);
    }
    char *svg = tb_write_temp((const uint8_t *)"", 0), *png = tb_write_temp((const uint8_t *)"", 0);
    char svgp[4200], pngp[4200];
    snprintf(svgp, sizeof svgp, "%s.svg", svg);
    snprintf(pngp, sizeof pngp, "%s.png", png);
    CHECK_EQ_U64(rs_dot_render(sb.s, svgp, "svg", err, sizeof err), 0);
    CHECK_EQ_U64(rs_dot_render(sb.s, pngp, "png", err, sizeof err), 0);
    CHECK(file_size(svgp) > 500);
    CHECK(file_size(pngp) > 500);
    FILE *f = fopen(pngp, "rb");
    unsigned char magic[8] = {0};
    if (f) {
        CHECK_EQ_U64(fread(magic, 1, 8, f), 8);
        fclose(f);
    }
    CHECK(memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0);
    char head[4096] = "";
    f = fopen(svgp, "r");
    if (f) {
        size_t got = fread(head, 1, sizeof head - 1, f);
        head[got] = '\0';
        fclose(f);
    }
    CHECK_CONTAINS(head, "<svg");
    unlink(svgp);
    unlink(pngp);
    unlink(svg);
    unlink(png);
    free(svg);
    free(png);
    rs_sb_free(&sb);
    rs_snap_edge_refs_free(refs, 3);
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);
}

/* A snapshot whose content is one raw record (tag and body as given). */
static void raw_snapshot(struct tb *b, uint32_t id, uint8_t tag, const uint8_t *body,
                         size_t len, bool end)
{
    tb_chunk(b, RS_CHUNK_TID_META, 100);
    rs_rec_snap_begin(&b->w, id, 100 * id, RS_SNAP_API, "raw");
    rs_rec_snap_type(&b->w, 1, 0x1234, "builtins.list", RS_SNAPTYPE_GC, 40, 8);
    size_t at = rs_rec_begin(&b->w, (enum rs_record_tag)tag);
    rs_buf_bytes(&b->buf, body, len);
    rs_rec_end(&b->w, at);
    if (end)
        rs_rec_snap_end(&b->w, id, 1, 0, 0);
    tb_chunk_end(b, 0);
}

static int load_raw(uint8_t tag, const uint8_t *body, size_t len, char *err, size_t cap)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    raw_snapshot(&b, 1, tag, body, len, true);
    struct rs_trace *t = sc_read(&b);
    int rc = 99;
    if (t && rs_snap_last_complete(t)) {
        struct rs_snap_graph g;
        rc = load(&b, t, rs_snap_last_complete(t), &g, RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS,
                  err, cap);
        if (rc == 0)
            rs_snap_graph_free(&g);
    }
    rs_trace_free(t);
    tb_free(&b);
    return rc;
}

static void test_corrupt(void)
{
    char err[256];
    /* An object record claiming a million objects in a few bytes. */
    const uint8_t huge[] = {0xC0, 0x84, 0x3D, 0x02, 0x01, 0x10, 0x01, 0x01, 0x00, 0x00};
    err[0] = '\0';
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_NODES, huge, sizeof huge, err, sizeof err), (uint64_t)-1);
    CHECK_CONTAINS(err, "snapshot 1 is corrupt: object record");
    CHECK(strchr(err, '\n') == NULL);
    /* Two objects announced, one and a half present. */
    const uint8_t cut[] = {0x02, 0x80, 0x20, 0x01, 0x10, 0x01, 0x01, 0x00, 0x00,
                           0x80, 0x02, 0x01, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00};
    err[0] = '\0';
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_NODES, cut, sizeof cut - 9, err, sizeof err), (uint64_t)-1);
    CHECK_CONTAINS(err, "impossible count (2)");
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_NODES, cut, sizeof cut - 3, err, sizeof err), (uint64_t)-1);
    CHECK_CONTAINS(err, "object record cut short");
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_NODES, cut, sizeof cut - 1, err, sizeof err), 0);
    /* A label longer than its record. */
    const uint8_t badstr[] = {0x01, 0x80, 0x20, 0x01, 0x10, 0x01, 0x01, 0x00, 0x7F, 'x'};
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_NODES, badstr, sizeof badstr, err, sizeof err),
                 (uint64_t)-1);
    /* References: a source with an impossible target count. */
    const uint8_t edges[] = {0x01, 0x80, 0x20, 0xFF, 0xFF, 0x03, 0x02, 0x00};
    err[0] = '\0';
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_EDGES, edges, sizeof edges, err, sizeof err), (uint64_t)-1);
    CHECK_CONTAINS(err, "reference record");
    /* A type with the reserved id 0; a label with id 0. */
    const uint8_t type0[] = {0x00, 0x01, 0x01, 'x', 0x01, 0x10, 0x00};
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_TYPE, type0, sizeof type0, err, sizeof err), (uint64_t)-1);
    CHECK_CONTAINS(err, "reserved id 0");
    const uint8_t label0[] = {0x00, 0x01, 0x01, 'x'};
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_LABEL, label0, sizeof label0, err, sizeof err), (uint64_t)-1);
    /* A root cut short. */
    const uint8_t root[] = {0x80};
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_ROOT, root, sizeof root, err, sizeof err), (uint64_t)-1);
    /* Weak references: more pairs than bytes, a pair cut short, one naming no object. */
    const uint8_t weak_many[] = {0x05, 0x01}, weak_cut[] = {0x01, 0x80}, weak_ok[] = {0x01, 0x10, 0x20};
    err[0] = '\0';
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_WEAK, weak_many, sizeof weak_many, err, sizeof err), (uint64_t)-1);
    CHECK_CONTAINS(err, "weak reference record cut short");
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_WEAK, weak_cut, sizeof weak_cut, err, sizeof err), (uint64_t)-1);
    CHECK_EQ_U64(load_raw(RS_TAG_SNAP_WEAK, weak_ok, sizeof weak_ok, err, sizeof err), 0);

    /* Random bodies: every outcome is a clean success or error (ASan watches). */
    uint32_t seed = 12345;
    for (int i = 0; i < 3000; i++) {
        uint8_t body[48];
        size_t len = (size_t)(i % 48);
        for (size_t k = 0; k < len; k++) {
            seed = seed * 1103515245u + 12345u;
            body[k] = (uint8_t)(seed >> 16);
            if (i % 3 == 0)
                body[k] &= 0x0F; /* small varints: more records that decode far */
        }
        uint8_t tag = i % 6 == 5 ? (uint8_t)RS_TAG_SNAP_WEAK : (uint8_t)(RS_TAG_SNAP_TYPE + i % 6);
        int rc = load_raw(tag, body, len, err, sizeof err);
        CHECK(rc == 0 || rc == -1);
    }

    /* Snapshot 2 has no END: ignored; snapshot 1 is the last complete one. */
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    sc_write(&b, 1, 10, "first", &scene_a, 0, 1, true);
    sc_write(&b, 2, 20, "second", &scene_a, 0, 1, false);
    /* Snapshot 3 abandoned by snapshot 4, which ends; then an END of nothing. */
    sc_write(&b, 3, 30, "third", &scene_a, 0, 1, false);
    sc_write(&b, 4, 40, "fourth", &scene_a, 0, 2, true);
    tb_chunk(&b, RS_CHUNK_TID_META, 50);
    rs_rec_snap_end(&b.w, 9, 1, 1, 1);
    tb_chunk_end(&b, 0);
    struct rs_trace *t = sc_read(&b);
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ_U64(t->snapshots->n, 4);
        CHECK_EQ_U64(rs_snap_count_complete(t), 2);
        CHECK_EQ_U64(rs_snap_last_complete(t)->id, 4);
        CHECK(rs_snap_find(t, "2") == NULL);
        CHECK(rs_snap_find(t, "3") == NULL);
        CHECK_EQ_U64(t->snapshots->stray_ends, 1);
        struct rs_snap_graph g;
        CHECK_EQ_U64(load(&b, t, &t->snapshots->v[1], &g, 0, err, sizeof err), (uint64_t)-1);
        CHECK_CONTAINS(err, "snapshot 2 is incomplete");
        CHECK_EQ_U64(load(&b, t, rs_snap_last_complete(t), &g, RS_SNAP_LOAD_EDGES, err,
                          sizeof err), 0);
        CHECK_EQ_U64(g.n, 12);
        rs_snap_graph_free(&g);
        rs_trace_free(t);
    }
    tb_free(&b);

    /* A BEGIN record cut short is a corrupt trace (like any record). */
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, RS_CHUNK_TID_META, 0);
    size_t at = rs_rec_begin(&b.w, RS_TAG_SNAP_BEGIN);
    rs_buf_varint(&b.buf, 1);
    rs_rec_end(&b.w, at);
    tb_chunk_end(&b, 0);
    struct rs_read_error rerr;
    t = NULL;
    CHECK_EQ_U64(rs_trace_read_buffer(b.buf.data, b.buf.len, "x", &t, &rerr),
                 RS_READ_ERR_RECORD_CORRUPT);
    CHECK_CONTAINS(rerr.message, "snapshot begin record cut short");
    rs_trace_free(t);
    tb_free(&b);
}

/* The same address twice (the first record wins), a size over 4 GB, a type id without its
 * type record. */
static void test_odd_objects(void)
{
    static const struct sc_node nodes[] = {
        {0x100, T_LIST, 10, 1, GC, 16, "first"},
        {0x200, T_STR, UINT64_C(5000000000), 1, 0, 0, "huge"},
        {0x100, T_DICT, 20, 1, GC, 16, "second"},
        {0x300, 99, 30, 1, GC, 16, NULL},
        {0x400, T_STR, UINT64_C(6000000000), 1, 0, 0, NULL},
        {0x500, T_STR, UINT64_C(1) << 50, 1, 0, 0, NULL},
    };
    static const struct sc_edge edges[] = {{0x100, 0x200, 0}, {0x300, 0x400, 0}};
    struct scene sc = {SC_ARRAY(types), SC_ARRAY(nodes), SC_ARRAY(edges), NULL, 0, NULL, 0};
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    struct rs_snap_graph g;
    struct rs_trace *t = one_snapshot(&b, 1, 10, "", &sc,
                                      RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS | RS_SNAP_KEEP_INDEX, &g);
    if (!t)
        return;
    CHECK_EQ_U64(g.n, 5);
    CHECK_EQ_U64(g.stats.duplicate_nodes, 1);
    CHECK_EQ_U64(rs_snap_size(&g, node_at(&g, 0x500)), 0);
    CHECK_EQ_U64(g.stats.implausible_sizes, 1);
    CHECK_EQ_U64(g.stats.unknown_type_nodes, 1);
    uint32_t v = node_at(&g, 0x100);
    CHECK_STR(rs_snap_type_name(&g, v), "builtins.list");
    CHECK_EQ_U64(rs_snap_size(&g, node_at(&g, 0x200)), UINT64_C(5000000000));
    CHECK_EQ_U64(rs_snap_size(&g, node_at(&g, 0x400)), UINT64_C(6000000000));
    CHECK_STR(rs_snap_type_name(&g, node_at(&g, 0x300)), "<unknown type>");
    CHECK_EQ_U64(g.m, 2);
    struct rs_notes notes = {0};
    rs_snap_add_notes(&g, &notes);
    CHECK_EQ_U64(notes.n, 3);
    rs_notes_free(&notes);
    rs_snap_graph_free(&g);
    rs_trace_free(t);
    tb_free(&b);
}

/* ---- references decoded by two threads --------------------------------------------- */

#define SPLIT_NODES 3000u
#define SPLIT_CHUNKS 6u

static uint64_t split_addr(uint32_t i)
{
    return 0x100000 + (uint64_t)i * 32;
}

/* What each object's references must be: all of its targets in file order. */
struct split_model {
    uint32_t len[SPLIT_NODES];
    uint32_t to[SPLIT_NODES][24];
    uint64_t dangling, external, entries;
};

static void split_edge(struct tb *b, struct rs_snap_batch *eb, struct split_model *M, int32_t from,
                       uint64_t to_addr)
{
    rs_snap_edge(&b->w, eb, to_addr, RS_EDGE_LABEL_NONE);
    M->entries++;
    if (from < 0)
        return;
    uint64_t k = (to_addr - 0x100000) / 32;
    if (to_addr < 0x100000 || (to_addr - 0x100000) % 32 || k >= SPLIT_NODES) {
        M->external++;
        return;
    }
    M->to[from][M->len[from]++] = (uint32_t)k;
}

/* Objects in the first chunk, then references spread over SPLIT_CHUNKS chunks of two records
 * each: every object lists its own, one object (7) gets more in every chunk (lists to join
 * apart from the first), the last list of a record is continued by the first of the next
 * one, and some sources and targets are not objects. */
static void split_snapshot(struct tb *b, struct split_model *M, bool corrupt_late)
{
    memset(M, 0, sizeof *M);
    tb_chunk(b, RS_CHUNK_TID_META, 100);
    rs_rec_snap_begin(&b->w, 1, 100, RS_SNAP_API, "split");
    rs_rec_snap_type(&b->w, 1, 0x1234, "builtins.list", RS_SNAPTYPE_GC, 40, 8);
    struct rs_snap_batch nb;
    rs_snap_nodes_open(&b->w, &nb);
    for (uint32_t i = 0; i < SPLIT_NODES; i++) {
        struct rs_snap_node n = {split_addr(i), 1, 64, 1, RS_NODE_GC_TRACKED, 16, NULL, 0};
        rs_snap_node(&b->w, &nb, &n);
    }
    rs_snap_batch_close(&b->w, &nb);
    tb_chunk_end(b, 0);
    uint32_t per_record = SPLIT_NODES / (SPLIT_CHUNKS * 2);
    for (uint32_t c = 0; c < SPLIT_CHUNKS; c++) {
        tb_chunk(b, RS_CHUNK_TID_META, 100);
        rs_rec_note(&b->w, 0, "interleaved meta record");
        for (uint32_t r = 0; r < 2; r++) {
            uint32_t first = (c * 2 + r) * per_record;
            struct rs_snap_batch eb;
            rs_snap_edges_open(&b->w, &eb);
            if (first > 0) { /* the previous record's last list, continued */
                rs_snap_edge_source(&b->w, &eb, split_addr(first - 1));
                split_edge(b, &eb, M, (int32_t)first - 1, split_addr(first));
            }
            for (uint32_t i = first; i < first + per_record; i++) {
                rs_snap_edge_source(&b->w, &eb, split_addr(i));
                split_edge(b, &eb, M, (int32_t)i, split_addr((i + 1) % SPLIT_NODES));
                split_edge(b, &eb, M, (int32_t)i, split_addr((i * 7) % SPLIT_NODES));
                if (i % 97 == 0)
                    split_edge(b, &eb, M, (int32_t)i, 0x900000 + i * 16); /* not an object */
            }
            rs_snap_edge_source(&b->w, &eb, split_addr(7));
            split_edge(b, &eb, M, 7, split_addr(c * 2 + r));
            rs_snap_edge_source(&b->w, &eb, 0x800000 + c * 64 + r); /* not an object */
            M->dangling++;
            split_edge(b, &eb, M, -1, split_addr(1));
            rs_snap_batch_close(&b->w, &eb);
        }
        if (corrupt_late && c == SPLIT_CHUNKS - 1) {
            const uint8_t cut[] = {0x01, 0x80, 0x20, 0xFF, 0xFF, 0x03, 0x02, 0x00};
            size_t at = rs_rec_begin(&b->w, RS_TAG_SNAP_EDGES);
            rs_buf_bytes(&b->buf, cut, sizeof cut);
            rs_rec_end(&b->w, at);
        }
        tb_chunk_end(b, 0);
    }
    tb_chunk(b, RS_CHUNK_TID_META, 100);
    rs_rec_snap_end(&b->w, 1, SPLIT_NODES, 0, 0);
    tb_chunk_end(b, 0);
}

static int load_split(struct tb *b, const struct rs_trace *t, const char *path, bool two_threads,
                      struct rs_snap_graph *g, char *err, size_t cap)
{
    rs_snap_set_parallel_min_bytes(two_threads ? 0 : UINT64_MAX);
    struct rs_snap_source src;
    if (path)
        CHECK_EQ_U64(rs_snap_source_file(&src, path, t->file_size, err, cap), 0);
    else
        rs_snap_source_memory(&src, b->buf.data, b->buf.len);
    int rc = rs_snap_load(g, rs_snap_last_complete(t), &src, RS_SNAP_LOAD_EDGES, err, cap);
    rs_snap_source_close(&src);
    rs_snap_set_parallel_min_bytes(4u << 20);
    return rc;
}

static void check_split_graph(const struct rs_snap_graph *g, const struct split_model *M)
{
    CHECK_EQ_U64(g->n, SPLIT_NODES);
    CHECK_EQ_U64(g->stats.dangling_sources, M->dangling);
    CHECK_EQ_U64(g->stats.external_edges, M->external);
    CHECK_EQ_U64(g->stats.edge_entries, M->entries);
    uint64_t m = 0;
    for (uint32_t i = 0; i < SPLIT_NODES; i++) {
        uint32_t v = rs_snap_find_addr(g, split_addr(i));
        CHECK_EQ_U64(g->out_len[v], M->len[i]);
        m += M->len[i];
        for (uint32_t k = 0; k < M->len[i] && k < g->out_len[v]; k++) {
            if (g->addr[g->dst[g->out_start[v] + k]] != split_addr(M->to[i][k])) {
                CHECK_EQ_U64(g->addr[g->dst[g->out_start[v] + k]], split_addr(M->to[i][k]));
                return;
            }
        }
    }
    CHECK_EQ_U64(g->m, m);
}

static void test_references_in_two_threads(void)
{
    static struct split_model M;
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    split_snapshot(&b, &M, false);
    struct rs_trace *t = read_built(&b);
    char *path = tb_write_temp(b.buf.data, b.buf.len);
    CHECK(path != NULL);
    if (!t || !path)
        return;
    CHECK(rs_snap_last_complete(t)->nranges >= SPLIT_CHUNKS);
    CHECK_EQ_U64(M.len[7], 2 + SPLIT_CHUNKS * 2);
    for (int way = 0; way < 3; way++) {
        struct rs_snap_graph g;
        char err[256] = "";
        int rc = load_split(&b, t, way == 2 ? path : NULL, way != 0, &g, err, sizeof err);
        CHECK_EQ_U64(rc, 0);
        if (rc == 0) {
            check_split_graph(&g, &M);
            rs_snap_graph_free(&g);
        }
    }
    unlink(path);
    free(path);
    rs_trace_free(t);
    tb_free(&b);

    /* A corrupt record in the second thread's half: the same error either way. */
    tb_init(&b);
    tb_default_header(&b);
    split_snapshot(&b, &M, true);
    t = read_built(&b);
    if (!t)
        return;
    char one[256] = "", two[256] = "";
    struct rs_snap_graph g;
    CHECK_EQ_U64(load_split(&b, t, NULL, false, &g, one, sizeof one), (uint64_t)-1);
    CHECK_EQ_U64(load_split(&b, t, NULL, true, &g, two, sizeof two), (uint64_t)-1);
    CHECK_CONTAINS(two, "snapshot 1 is corrupt: reference record");
    CHECK_STR(two, one);
    rs_trace_free(t);
    tb_free(&b);
}

int main(void)
{
    test_decode_and_types();
    test_odd_objects();
    test_dominators();
    test_backrefs();
    test_growth();
    test_cycles();
    test_weak_references();
    test_growth_excluded_untracked();
    test_items_blocks();
    test_dot();
    test_corrupt();
    test_references_in_two_threads();
    return test_result("test_snapshots");
}
