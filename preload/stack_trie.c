#include "stack_trie.h"

#include "rs_trace_encode.h"

#include <string.h>

struct node {
    uint32_t parent;
    uint32_t stack;  /* a stack whose path goes through this node */
    uint32_t depth;  /* words from the outermost end to here, this node's frame included */
    uint32_t unused;
    uint64_t w0, w1; /* the frame: one native word, or a Python frame's two words */
};

static struct node *nodes; /* node 0 is the root */
static uint32_t nnodes, nodes_cap;
static uint32_t *slots;    /* open addressing: node index, 0 = empty */
static uint32_t slot_mask;

static uint64_t frame_key(uint32_t parent, uint64_t w0, uint64_t w1)
{
    uint64_t h = (parent + 1) * 0x9e3779b97f4a7c15u;
    h ^= w0 * 0xff51afd7ed558ccdu;
    h = (h ^ (h >> 29)) * 0xc4ceb9fe1a85ec53u;
    h ^= w1;
    return h ^ (h >> 32);
}

static uint32_t find_child(uint32_t parent, uint64_t w0, uint64_t w1)
{
    if (!slots)
        return 0;
    for (uint32_t i = (uint32_t)frame_key(parent, w0, w1) & slot_mask;; i = (i + 1) & slot_mask) {
        uint32_t n = slots[i];
        if (!n)
            return 0;
        if (nodes[n].parent == parent && nodes[n].w0 == w0 && nodes[n].w1 == w1)
            return n;
    }
}

static bool grow(void)
{
    if (nnodes + 1 < nodes_cap && (uint64_t)(nnodes + 1) * 2 < (uint64_t)slot_mask + 1)
        return true;
    uint32_t cap = nodes_cap ? nodes_cap * 2 : 65536;
    struct node *n = rs_sys_map((size_t)cap * sizeof *n);
    uint32_t *s = rs_sys_map_touched((size_t)cap * 2 * sizeof *s); /* probed before written */
    if (!n || !s) {
        if (n)
            rs_sys_unmap(n, (size_t)cap * sizeof *n);
        if (s)
            rs_sys_unmap(s, (size_t)cap * 2 * sizeof *s);
        return false;
    }
    if (nodes) {
        memcpy(n, nodes, (size_t)nnodes * sizeof *n);
        rs_sys_unmap(nodes, (size_t)nodes_cap * sizeof *nodes);
        rs_sys_unmap(slots, ((size_t)slot_mask + 1) * sizeof *slots);
    } else {
        nnodes = 1; /* the root */
    }
    nodes = n;
    nodes_cap = cap;
    slots = s;
    slot_mask = cap * 2 - 1;
    for (uint32_t i = 1; i < nnodes; i++) {
        uint32_t j = (uint32_t)frame_key(nodes[i].parent, nodes[i].w0, nodes[i].w1) & slot_mask;
        while (slots[j])
            j = (j + 1) & slot_mask;
        slots[j] = i;
    }
    return true;
}

static void add_child(uint32_t parent, uint64_t w0, uint64_t w1, uint32_t stack, uint32_t depth)
{
    if (!grow())
        return; /* later stacks then share less: still correct */
    uint32_t n = nnodes++;
    nodes[n] = (struct node){parent, stack, depth, 0, w0, w1};
    uint32_t j = (uint32_t)frame_key(parent, w0, w1) & slot_mask;
    while (slots[j])
        j = (j + 1) & slot_mask;
    slots[j] = n;
}

void rs_stack_trie_emit(struct rs_chunk_writer *w, uint32_t id, const uint64_t *words, uint32_t n)
{
    /* frame boundaries, innermost first */
    uint32_t starts[RS_STACK_MAX_WORDS], nframes = 0;
    for (uint32_t i = 0; i < n; i++) {
        starts[nframes++] = i;
        if ((words[i] & RS_STACKWORD_PY) && i + 1 < n)
            i++;
    }
    /* walk down from the outermost frame while the path is known */
    uint32_t node = 0, depth = 0, f = nframes;
    while (f > 0) {
        uint32_t s = starts[f - 1], len = (f < nframes ? starts[f] : n) - s;
        uint32_t child = find_child(node, words[s], len == 2 ? words[s + 1] : 0);
        if (!child)
            break;
        node = child;
        depth += len;
        f--;
    }
    uint32_t inner_words = f > 0 ? (f < nframes ? starts[f] : n) : 0;
    rs_rec_stack(w, id, node ? nodes[node].stack : 0, node ? depth : 0, words, inner_words);
    /* the rest of the path, so later stacks can share it */
    while (f > 0) {
        uint32_t s = starts[f - 1], len = (f < nframes ? starts[f] : n) - s;
        uint64_t w0 = words[s], w1 = len == 2 ? words[s + 1] : 0;
        depth += len;
        add_child(node, w0, w1, id, depth);
        node = find_child(node, w0, w1);
        if (!node)
            break;
        f--;
    }
}

void rs_stack_trie_reset(void)
{
    if (nodes) {
        rs_sys_unmap(nodes, (size_t)nodes_cap * sizeof *nodes);
        rs_sys_unmap(slots, ((size_t)slot_mask + 1) * sizeof *slots);
    }
    nodes = NULL;
    slots = NULL;
    nnodes = nodes_cap = slot_mask = 0;
}
