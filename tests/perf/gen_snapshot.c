/* Writes a synthetic trace with one large object-graph snapshot, for timing the snapshot
 * commands: gen_snapshot N OUT [--events]. About N objects (60% GC-tracked containers and
 * instances in a tree under 200 modules with 10% cross references, a few cycles and some
 * garbage; 40% str leaves), 3 references per container, the objects' allocation events
 * with --events. */
#include "rs_trace_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct rs_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 1 << 20;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

static FILE *out;
static struct rs_buf buf = {.grow = grow};
static struct rs_chunk_writer w;
static uint32_t seq;

static void flush_chunk(void)
{
    rs_chunk_close(&w, seq++);
    fwrite(buf.data, 1, buf.len, out);
    buf.len = 0;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return fprintf(stderr, "usage: gen_snapshot N OUT [--events]\n"), 2;
    uint64_t n = strtoull(argv[1], NULL, 10);
    bool events = argc > 3 && strcmp(argv[3], "--events") == 0;
    out = fopen(argv[2], "wb");
    if (!out || n < 1000)
        return 1;
    struct rs_buf hdr = {.grow = grow};
    rs_hdr_u64(&hdr, RS_HDR_PID, 1);
    rs_encode_file_header(&buf, &hdr);
    fwrite(buf.data, 1, buf.len, out);
    buf.len = 0;

    uint64_t ngc = n * 6 / 10, nmod = 200;
    /* Address of object i: spread over a heap, in an order unlike the numbering. */
#define ADDR(i) (UINT64_C(0x7f0000000000) + ((((uint64_t)(i)) * 2654435761u) % (n * 4)) * 16)
    rs_chunk_open(&w, &buf, RS_CHUNK_TID_META, 0);
    uint64_t words[] = {0x401000, RS_STACKWORD_PY | 1, 10};
    rs_rec_stack(&w, 1, 0, 0, words, 3);
    rs_rec_thread(&w, 2, RS_THREAD_MAIN, "main");
    flush_chunk();
    if (events) {
        rs_chunk_open(&w, &buf, 2, 0);
        for (uint64_t i = 0; i < n; i++) {
            rs_rec_alloc(&w, RS_ALLOC_PY_OBJ, 10 + i, ADDR(i) - 16, 64, 1);
            if (buf.len > (8u << 20)) {
                flush_chunk();
                rs_chunk_open(&w, &buf, 2, 10 + i);
            }
        }
        flush_chunk();
    }
    uint64_t t0 = 10 + n + 100;
    rs_chunk_open(&w, &buf, RS_CHUNK_TID_META, t0);
    rs_rec_snap_begin(&w, 1, t0, RS_SNAP_EXIT, "exit");
    const char *tnames[] = {"builtins.module", "builtins.dict", "builtins.list", "app.Item",
                            "builtins.tuple", "builtins.str"};
    for (uint32_t k = 0; k < 6; k++)
        rs_rec_snap_type(&w, k + 1, 0x500000 + k * 0x400, tnames[k], k < 5 ? RS_SNAPTYPE_GC : 0,
                         48, 0);
    for (uint32_t k = 1; k <= 64; k++) {
        char name[16];
        snprintf(name, sizeof name, "attr%u", k);
        rs_rec_snap_label(&w, k, RS_EDGE_ATTR, name, strlen(name));
    }
    struct rs_snap_batch b;
    uint64_t i = 0;
    while (i < n) {
        rs_snap_nodes_open(&w, &b);
        for (uint64_t k = 0; k < 4096 && i < n; k++, i++) {
            char label[24];
            struct rs_snap_node nd = {ADDR(i), 6, 49 + i % 40, 1, 0, 0, label, 0};
            if (i < nmod) {
                nd.type_id = 1;
                nd.flags = RS_NODE_GC_TRACKED | RS_NODE_MODULE;
                nd.label_len = (size_t)snprintf(label, sizeof label, "mod%llu", (unsigned long long)i);
            } else if (i < ngc) {
                nd.type_id = 2 + (uint32_t)(i % 4);
                nd.flags = RS_NODE_GC_TRACKED;
                nd.preheader = 16;
                nd.size = 56 + (i % 7) * 8;
                if (nd.type_id == 3)
                    nd.label_len = (size_t)snprintf(label, sizeof label, "3 items");
            } else {
                nd.label_len = (size_t)snprintf(label, sizeof label, "s%llu", (unsigned long long)i);
            }
            rs_snap_node(&w, &b, &nd);
        }
        rs_snap_batch_close(&w, &b);
        if (buf.len > (4u << 20)) {
            flush_chunk();
            rs_chunk_open(&w, &buf, RS_CHUNK_TID_META, t0);
        }
    }
    /* References: a tree over the GC objects (child c of node p = 3p + 1 + c among them),
     * their leaves, 10% random cross references; the last 1% of GC objects hang off
     * nothing (garbage) with pairs referring to each other. */
    uint64_t garbage_from = ngc - ngc / 100;
    uint64_t refs = 0;
    i = 0;
    while (i < ngc) {
        rs_snap_edges_open(&w, &b);
        for (uint64_t k = 0; k < 2048 && i < ngc; k++, i++) {
            rs_snap_edge_source(&w, &b, ADDR(i));
            if (i >= garbage_from) {
                rs_snap_edge(&w, &b, ADDR(i ^ 1), RS_EDGE_LABEL_ID(1));
                refs++;
                continue;
            }
            for (uint64_t c = 0; c < 3; c++) {
                uint64_t child = 3 * i + 1 + c;
                if (child < garbage_from) {
                    rs_snap_edge(&w, &b, ADDR(child), RS_EDGE_LABEL_INDEX(c));
                    refs++;
                }
            }
            uint64_t leaf = ngc + (i % (n - ngc));
            rs_snap_edge(&w, &b, ADDR(leaf), RS_EDGE_LABEL_ID(1 + i % 64));
            refs++;
            if (rnd() % 10 == 0) {
                rs_snap_edge(&w, &b, ADDR(rnd() % garbage_from), RS_EDGE_LABEL_ID(2));
                refs++;
            }
        }
        rs_snap_batch_close(&w, &b);
        if (buf.len > (4u << 20)) {
            flush_chunk();
            rs_chunk_open(&w, &buf, RS_CHUNK_TID_META, t0);
        }
    }
    for (uint64_t m = 0; m < nmod; m++) {
        char name[16];
        snprintf(name, sizeof name, "mod%llu", (unsigned long long)m);
        rs_rec_snap_root(&w, ADDR(m), RS_ROOT_MODULE, name);
    }
    rs_rec_snap_end(&w, 1, n, refs, 12345);
    rs_rec_end_of_trace(&w, 0, 0, 0, t0 + 1000, RS_END_EXIT);
    flush_chunk();
    fclose(out);
    fprintf(stderr, "%llu objects, %llu references\n", (unsigned long long)n,
            (unsigned long long)refs);
    return 0;
}
