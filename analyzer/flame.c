#include "flame.h"

#include "html_escape.h"
#include "python_frames.h"
#include "rs_uthash.h"

#include <stdlib.h>
#include <string.h>

enum { KIND_PYTHON = 0, KIND_NATIVE = 1, KIND_OTHER = 2 };

struct name {
    char *text;
    uint32_t id;
    uint8_t kind;
    UT_hash_handle hh;
};

/* A stack's frames as name ids, outermost first (cached per stack id). */
struct stack_names {
    uint32_t stack_id;
    uint32_t *ids;
    size_t n;
    UT_hash_handle hh;
};

struct node {
    uint32_t parent;
    uint32_t name;
    uint32_t depth;
    uint64_t bytes, blocks;
};

struct child_key {
    uint32_t parent, name;
};

struct child {
    struct child_key key;
    uint32_t node;
    UT_hash_handle hh;
};

struct tree {
    size_t max_nodes;
    char *point;
    char *title;
    struct node *v;
    size_t n, cap;
    struct child *children;
};

struct rs_flame {
    const struct rs_trace *trace;
    struct rs_symbolizer *sym;
    struct name *by_text;
    struct name **names; /* by id */
    size_t nnames, names_cap;
    struct stack_names *stacks;
    struct tree *trees;
    size_t ntrees;
};

struct rs_flame *rs_flame_new(const struct rs_trace *t, struct rs_symbolizer *sym)
{
    struct rs_flame *f = calloc(1, sizeof *f);
    if (f) {
        f->trace = t;
        f->sym = sym;
    }
    return f;
}

static void free_tree(struct tree *t)
{
    struct child *c, *tmp;
    HASH_ITER(hh, t->children, c, tmp) {
        HASH_DEL(t->children, c);
        free(c);
    }
    free(t->v);
    free(t->title);
    free(t->point);
}

void rs_flame_free(struct rs_flame *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ntrees; i++)
        free_tree(&f->trees[i]);
    free(f->trees);
    struct name *n, *ntmp;
    HASH_ITER(hh, f->by_text, n, ntmp) {
        HASH_DEL(f->by_text, n);
        free(n->text);
        free(n);
    }
    free(f->names);
    struct stack_names *s, *stmp;
    HASH_ITER(hh, f->stacks, s, stmp) {
        HASH_DEL(f->stacks, s);
        free(s->ids);
        free(s);
    }
    free(f);
}

/* The id of a name, interned; UINT32_MAX when out of memory. */
static uint32_t intern(struct rs_flame *f, const char *text, uint8_t kind)
{
    struct name *n = NULL;
    HASH_FIND_STR(f->by_text, text, n);
    if (n)
        return n->id;
    if (f->nnames == f->names_cap) {
        size_t cap = f->names_cap ? f->names_cap * 2 : 256;
        struct name **v = realloc(f->names, cap * sizeof *v);
        if (!v)
            return UINT32_MAX;
        f->names = v;
        f->names_cap = cap;
    }
    if (!(n = calloc(1, sizeof *n)) || !(n->text = strdup(text))) {
        free(n);
        return UINT32_MAX;
    }
    n->id = (uint32_t)f->nnames;
    n->kind = kind;
    f->names[f->nnames++] = n;
    HASH_ADD_KEYPTR(hh, f->by_text, n->text, strlen(n->text), n);
    return n->id;
}


/* "function (file.py:12)", "function (in libfoo.so)", "libfoo.so+0x1234". */
static char *frame_text(const struct rs_frame *fr)
{
    char *s = NULL;
    int n;
    const char *fn = fr->function;
    const char *file = rs_frame_file_shown(fr);
    if (fn && file && fr->line > 0)
        n = asprintf(&s, "%s (%s:%d)", fn, file, fr->line);
    else if (fn && file)
        n = asprintf(&s, "%s (%s)", fn, file);
    else if (fn && fr->module)
        n = asprintf(&s, "%s (in %s)", fn, fr->module);
    else if (fn)
        n = asprintf(&s, "%s", fn);
    else if (fr->module)
        n = asprintf(&s, "%s+0x%llx", fr->module, (unsigned long long)fr->module_offset);
    else
        n = asprintf(&s, "0x%llx", (unsigned long long)fr->address);
    return n < 0 ? NULL : s;
}

static struct stack_names *stack_of(struct rs_flame *f, uint32_t stack_id, const char *leaf)
{
    struct stack_names *s = NULL;
    HASH_FIND(hh, f->stacks, &stack_id, sizeof stack_id, s);
    if (s)
        return s;
    if (!(s = calloc(1, sizeof *s)))
        return NULL;
    s->stack_id = stack_id;
    const struct rs_trace_stack *st =
        stack_id != RS_STACK_ID_NONE ? rs_trace_stack_find(f->trace, stack_id) : NULL;
    struct rs_frames fr = {0};
    if (st && f->sym &&
        rs_symbolize_stack_view(f->sym, st->words, st->nwords, RS_VIEW_HYBRID, 0, &fr)) {
        free(s);
        return NULL;
    }
    s->ids = calloc(fr.n ? fr.n : 1, sizeof *s->ids);
    bool ok = s->ids != NULL;
    for (size_t i = 0; ok && i < fr.n; i++) {
        const struct rs_frame *x = fr.v[fr.n - 1 - i]; /* outermost first */
        char *text = frame_text(x);
        uint32_t id = text ? intern(f, text, x->python ? KIND_PYTHON : KIND_NATIVE) : UINT32_MAX;
        free(text);
        ok = id != UINT32_MAX;
        s->ids[i] = id;
    }
    s->n = fr.n;
    rs_frames_free(&fr);
    if (ok && s->n == 0) { /* no frames: one node saying so */
        uint32_t id = intern(f, leaf ? leaf : "(no frames)", KIND_OTHER);
        ok = id != UINT32_MAX;
        s->ids[0] = id;
        s->n = 1;
    }
    if (!ok) {
        free(s->ids);
        free(s);
        return NULL;
    }
    HASH_ADD(hh, f->stacks, stack_id, sizeof s->stack_id, s);
    return s;
}

static int64_t add_node(struct tree *t, uint32_t parent, uint32_t name, uint32_t depth)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct node *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n] = (struct node){parent, name, depth, 0, 0};
    return (int64_t)t->n++;
}

int rs_flame_tree(struct rs_flame *f, const char *point, const char *title, size_t max_nodes)
{
    struct tree *v = realloc(f->trees, (f->ntrees + 1) * sizeof *v);
    if (!v)
        return -1;
    f->trees = v;
    struct tree *t = &f->trees[f->ntrees];
    memset(t, 0, sizeof *t);
    t->max_nodes = max_nodes;
    uint32_t root = intern(f, "all", KIND_OTHER);
    if (root == UINT32_MAX || !(t->title = strdup(title)) || !(t->point = strdup(point)) ||
        add_node(t, UINT32_MAX, root, 0) < 0) {
        free(t->title);
        free(t->point);
        free(t->v);
        return -1;
    }
    return (int)f->ntrees++;
}

int rs_flame_add(struct rs_flame *f, uint32_t stack_id, const char *leaf, uint64_t bytes,
                 uint64_t blocks)
{
    if (!f->ntrees)
        return -1;
    struct tree *t = &f->trees[f->ntrees - 1];
    struct stack_names *s = stack_of(f, stack_id, leaf);
    if (!s)
        return -1;
    uint32_t at = 0;
    t->v[0].bytes += bytes;
    t->v[0].blocks += blocks;
    for (size_t i = 0; i < s->n; i++) {
        struct child_key key = {at, s->ids[i]};
        struct child *c = NULL;
        HASH_FIND(hh, t->children, &key, sizeof key, c);
        if (!c) {
            int64_t nn = add_node(t, at, s->ids[i], t->v[at].depth + 1);
            if (nn < 0 || !(c = calloc(1, sizeof *c)))
                return -1;
            c->key = key;
            c->node = (uint32_t)nn;
            HASH_ADD(hh, t->children, key, sizeof c->key, c);
        }
        at = c->node;
        t->v[at].bytes += bytes;
        t->v[at].blocks += blocks;
    }
    return 0;
}

struct order {
    uint32_t node;
    uint64_t bytes;
    uint32_t depth;
};

static int heaviest_first(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* Which nodes of a tree are written. */
struct selection {
    struct order *o;         /* heaviest first; the first `keep` are written */
    size_t keep, merged;
    uint32_t *newid;
    uint64_t *dropped_bytes, *dropped_blocks;
    uint32_t *dropped_count;
};

static void selection_free(struct selection *s)
{
    free(s->o);
    free(s->newid);
    free(s->dropped_bytes);
    free(s->dropped_blocks);
    free(s->dropped_count);
}

static int select_nodes(const struct tree *t, size_t max_nodes, struct selection *s)
{
    /* The heaviest nodes: a parent is never lighter than its child, and comes first on a
     * tie (smaller depth), so the nodes kept always include their parents. Half the
     * budget at most goes to real frames, the rest to the "other" nodes. */
    memset(s, 0, sizeof *s);
    s->o = calloc(t->n, sizeof *s->o);
    s->newid = malloc(t->n * sizeof *s->newid);
    s->dropped_bytes = calloc(t->n, sizeof *s->dropped_bytes);
    s->dropped_blocks = calloc(t->n, sizeof *s->dropped_blocks);
    s->dropped_count = calloc(t->n, sizeof *s->dropped_count);
    if (!s->o || !s->newid || !s->dropped_bytes || !s->dropped_blocks || !s->dropped_count)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        s->o[i] = (struct order){(uint32_t)i, t->v[i].bytes, t->v[i].depth};
        s->newid[i] = UINT32_MAX;
    }
    rs_qsort(s->o, t->n, sizeof *s->o, heaviest_first);
    s->keep = max_nodes && t->n > max_nodes ? (max_nodes > 2 ? max_nodes / 2 : 1) : t->n;
    for (size_t i = 0; i < s->keep; i++)
        s->newid[s->o[i].node] = (uint32_t)i;
    for (size_t i = s->keep; i < t->n; i++) {
        uint32_t v = s->o[i].node, p = t->v[v].parent;
        if (p != UINT32_MAX && s->newid[p] != UINT32_MAX) { /* a kept node's child */
            s->dropped_bytes[p] += t->v[v].bytes;
            s->dropped_blocks[p] += t->v[v].blocks;
            s->dropped_count[p]++;
        }
        s->merged++;
    }
    return 0;
}

static void tree_json(const struct tree *t, const struct selection *s, const uint32_t *name_out,
                      uint32_t other_name, struct rs_strbuf *b)
{
    rs_sb_printf(b, "{\"point\":");
    rs_html_json_string(b, t->point, strlen(t->point), 40);
    rs_sb_printf(b, ",\"title\":");
    rs_html_json_string(b, t->title, strlen(t->title), 200);
    rs_sb_printf(b, ",\"bytes\":%llu,\"blocks\":%llu,\"total_nodes\":%zu,\"merged\":%zu,"
                    "\"nodes\":[",
                 (unsigned long long)t->v[0].bytes, (unsigned long long)t->v[0].blocks, t->n,
                 s->merged);
    for (size_t i = 0; i < s->keep; i++) {
        uint32_t v = s->o[i].node, p = t->v[v].parent;
        rs_sb_printf(b, "%s[%lld,%u,%llu,%llu]", i ? "," : "",
                     p == UINT32_MAX ? -1LL : (long long)s->newid[p], name_out[t->v[v].name],
                     (unsigned long long)t->v[v].bytes, (unsigned long long)t->v[v].blocks);
    }
    for (size_t i = 0; i < s->keep; i++) {
        uint32_t v = s->o[i].node;
        if (s->dropped_count[v])
            rs_sb_printf(b, ",[%u,%u,%llu,%llu]", s->newid[v], other_name,
                         (unsigned long long)s->dropped_bytes[v],
                         (unsigned long long)s->dropped_blocks[v]);
    }
    rs_sb_put(b, "]}", 2);
}

void rs_flame_json(struct rs_flame *f, struct rs_strbuf *b)
{
    uint32_t other = intern(f, "(smaller frames, merged)", KIND_OTHER);
    struct selection *sel = calloc(f->ntrees ? f->ntrees : 1, sizeof *sel);
    uint32_t *name_out = malloc((f->nnames ? f->nnames : 1) * sizeof *name_out);
    if (other == UINT32_MAX || !sel || !name_out) {
        b->failed = true;
        goto out;
    }
    /* Only the names of the nodes written, renumbered. */
    for (size_t i = 0; i < f->nnames; i++)
        name_out[i] = UINT32_MAX;
    uint32_t nout = 0;
    name_out[other] = nout++;
    for (size_t k = 0; k < f->ntrees; k++) {
        if (select_nodes(&f->trees[k], f->trees[k].max_nodes, &sel[k])) {
            b->failed = true;
            goto out;
        }
        for (size_t i = 0; i < sel[k].keep; i++) {
            uint32_t name = f->trees[k].v[sel[k].o[i].node].name;
            if (name_out[name] == UINT32_MAX)
                name_out[name] = nout++;
        }
    }
    uint32_t *order = malloc((nout ? nout : 1) * sizeof *order);
    if (!order) {
        b->failed = true;
        goto out;
    }
    for (size_t i = 0; i < f->nnames; i++)
        if (name_out[i] != UINT32_MAX)
            order[name_out[i]] = (uint32_t)i;
    rs_sb_put(b, "{\"names\":[", 10);
    for (uint32_t i = 0; i < nout; i++) {
        if (i)
            rs_sb_put(b, ",", 1);
        const char *text = f->names[order[i]]->text;
        rs_html_json_string(b, text, strlen(text), 400);
    }
    rs_sb_put(b, "],\"kinds\":[", 11);
    for (uint32_t i = 0; i < nout; i++)
        rs_sb_printf(b, "%s%u", i ? "," : "", f->names[order[i]]->kind);
    rs_sb_put(b, "],\"trees\":[", 11);
    for (size_t k = 0; k < f->ntrees; k++) {
        if (k)
            rs_sb_put(b, ",", 1);
        tree_json(&f->trees[k], &sel[k], name_out, name_out[other], b);
    }
    rs_sb_put(b, "]}", 2);
    free(order);
out:
    for (size_t k = 0; sel && k < f->ntrees; k++)
        selection_free(&sel[k]);
    free(sel);
    free(name_out);
}
