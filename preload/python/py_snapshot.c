#include "py_snapshot.h"

#include "py_objects.h"
#include "py_resolve.h"
#include "ring.h"
#include "rs_trace_encode.h"
#include "writer.h"

#include <stdio.h>
#include <string.h>

/* ---- growable arrays and sets in the shim's own memory ----------------------------- */

struct u64_vec {
    uint64_t *v;
    size_t n, cap;
};

static __attribute__((noinline)) bool vec_grow(struct u64_vec *a)
{
    size_t cap = a->cap ? a->cap * 2 : 65536;
    uint64_t *v = rs_sys_map(cap * sizeof *v);
    if (!v)
        return false;
    if (a->v) {
        memcpy(v, a->v, a->n * sizeof *v);
        rs_sys_unmap(a->v, a->cap * sizeof *v);
    }
    a->v = v;
    a->cap = cap;
    return true;
}

/* Inline: a snapshot pushes several times per object and edge. */
static inline bool vec_push(struct u64_vec *a, uint64_t x)
{
    if (RS_UNLIKELY(a->n == a->cap) && !vec_grow(a))
        return false;
    a->v[a->n++] = x;
    return true;
}

static void vec_free(struct u64_vec *a)
{
    if (a->v)
        rs_sys_unmap(a->v, a->cap * sizeof *a->v);
    *a = (struct u64_vec){0};
}

/* Open addressing: key -> value (key 0 is empty); a set when it has no values (half the
 * memory touched per insert: the set of objects seen is the snapshot's biggest table). */
struct u64_map {
    uint64_t *keys;
    uint64_t *vals;
    size_t n, mask;
    bool is_set;
};

static inline size_t hash_slot(uint64_t k, size_t mask)
{
    return (size_t)((k * 0x9e3779b97f4a7c15u) >> 17) & mask;
}

/* Sets hold object addresses: the objects of one 4 kB page go to one run of slots at a
 * place hashed from the page, in address order, so an object and the referents allocated
 * next to it share cache lines of the table (a fully hashed slot made nearly every probe
 * of a million-object snapshot a cache miss). */
static inline size_t addr_slot(uint64_t k, size_t mask)
{
    return (hash_slot(k >> 12, mask) + ((k >> 4) & 255)) & mask;
}

static inline size_t map_slot(const struct u64_map *m, uint64_t k)
{
    return m->is_set ? addr_slot(k, m->mask) : hash_slot(k, m->mask);
}

static bool map_init(struct u64_map *m, size_t want)
{
    size_t cap = 1024;
    while (cap < want * 2)
        cap *= 2;
    m->keys = rs_sys_map_touched(cap * sizeof *m->keys);
    m->vals = m->is_set ? NULL : rs_sys_map(cap * sizeof *m->vals);
    m->n = 0;
    m->mask = cap - 1;
    return m->keys && (m->is_set || m->vals);
}

static bool set_init(struct u64_map *m, size_t want)
{
    m->is_set = true;
    return map_init(m, want);
}

static void map_free(struct u64_map *m)
{
    if (m->keys)
        rs_sys_unmap(m->keys, (m->mask + 1) * sizeof *m->keys);
    if (m->vals)
        rs_sys_unmap(m->vals, (m->mask + 1) * sizeof *m->vals);
    *m = (struct u64_map){.is_set = m->is_set};
}

static size_t map_index(const struct u64_map *m, uint64_t k)
{
    for (size_t i = map_slot(m, k);; i = (i + 1) & m->mask)
        if (m->keys[i] == k || m->keys[i] == 0)
            return i;
}

static uint64_t *map_find(const struct u64_map *m, uint64_t k)
{
    size_t i = map_index(m, k);
    return m->keys[i] ? &m->vals[i] : NULL;
}

static bool set_has(const struct u64_map *m, uint64_t k)
{
    return m->keys[map_index(m, k)] != 0;
}

static __attribute__((noinline)) bool map_grow(struct u64_map *m)
{
    struct u64_map bigger = {.is_set = m->is_set};
    if (!map_init(&bigger, (m->mask + 1)))
        return false;
    for (size_t i = 0; i <= m->mask; i++) {
        if (!m->keys[i])
            continue;
        size_t j = map_slot(&bigger, m->keys[i]);
        while (bigger.keys[j])
            j = (j + 1) & bigger.mask;
        bigger.keys[j] = m->keys[i];
        if (!m->is_set)
            bigger.vals[j] = m->vals[i];
        bigger.n++;
    }
    map_free(m);
    *m = bigger;
    return true;
}

/* Inserts k -> v unless present; returns true when inserted. Inline: the set of objects
 * seen takes an insert per reference. */
static inline bool map_insert(struct u64_map *m, uint64_t k, uint64_t v, bool *failed)
{
    if (RS_UNLIKELY((m->n + 1) * 2 > m->mask + 1) && !map_grow(m)) {
        *failed = true;
        return false;
    }
    size_t i = map_slot(m, k);
    for (; m->keys[i]; i = (i + 1) & m->mask)
        if (m->keys[i] == k)
            return false;
    m->keys[i] = k;
    if (!m->is_set)
        m->vals[i] = v;
    m->n++;
    return true;
}

/* ---- output: definitions, nodes and edges gathered apart, written as chunks ----------- */

#define FLUSH_BYTES (1u << 20)

struct out {
    struct rs_buf defs, nodes, edges;
    /* The parts of the chunk the writer thread is writing (rs_writer_meta_chunk_handoff):
     * a flush hands the current parts over and gathers on into these. */
    struct rs_buf spare[RS_WRITER_CHUNK_PARTS];
    struct rs_chunk_writer wd, wn, we;
    struct rs_snap_batch bn, be;
    uint64_t node_count, edge_count;
};

static bool out_grow(struct rs_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : (2u << 20);
    while (cap < need)
        cap *= 2;
    uint8_t *p = rs_sys_map(cap);
    if (!p)
        return false;
    if (b->data) {
        memcpy(p, b->data, b->len);
        rs_sys_unmap(b->data, b->cap);
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static void out_open_batches(struct out *o)
{
    rs_snap_nodes_open(&o->wn, &o->bn);
    rs_snap_edges_open(&o->we, &o->be);
}

static void out_init(struct out *o)
{
    memset(o, 0, sizeof *o);
    o->defs.grow = o->nodes.grow = o->edges.grow = out_grow;
    o->wd.out = &o->defs;
    o->wn.out = &o->nodes;
    o->we.out = &o->edges;
    out_open_batches(o);
}

/* Writes what is gathered as one chunk: definitions first, so a reader meets a type or
 * label before its use. */
static void out_flush(struct out *o)
{
    rs_snap_batch_close(&o->wn, &o->bn);
    rs_snap_batch_close(&o->we, &o->be);
    struct rs_buf *parts[RS_WRITER_CHUNK_PARTS] = {&o->defs, &o->nodes, &o->edges};
    const uint8_t *data[RS_WRITER_CHUNK_PARTS];
    size_t lens[RS_WRITER_CHUNK_PARTS], total = 0;
    unsigned n = 0;
    for (int i = 0; i < RS_WRITER_CHUNK_PARTS; i++) {
        if (!parts[i]->failed && parts[i]->len) {
            data[n] = parts[i]->data;
            lens[n++] = parts[i]->len;
            total += parts[i]->len;
        }
    }
    if (total && rs_writer_meta_chunk_handoff(data, lens, n)) {
        /* gather on into the buffers the writer thread has finished with */
        for (int i = 0; i < RS_WRITER_CHUNK_PARTS; i++) {
            struct rs_buf handed = *parts[i];
            parts[i]->data = o->spare[i].data;
            parts[i]->cap = o->spare[i].cap;
            o->spare[i] = handed;
        }
    }
    for (int i = 0; i < RS_WRITER_CHUNK_PARTS; i++) {
        parts[i]->len = 0;
        parts[i]->failed = false;
    }
    out_open_batches(o);
}

static void out_maybe_flush(struct out *o)
{
    if (o->nodes.len + o->edges.len + o->defs.len >= FLUSH_BYTES)
        out_flush(o);
}

static void out_free(struct out *o)
{
    rs_writer_handoff_wait();
    struct rs_buf *parts[] = {&o->defs, &o->nodes, &o->edges};
    for (int i = 0; i < RS_WRITER_CHUNK_PARTS; i++) {
        if (parts[i]->data)
            rs_sys_unmap(parts[i]->data, parts[i]->cap);
        if (o->spare[i].data)
            rs_sys_unmap(o->spare[i].data, o->spare[i].cap);
    }
}

/* ---- the snapshot's state ---------------------------------------------------------------- */

/* Most labels are met again and again at one address: a str object (an interned attribute
 * name or dict key) or a C string (a member's name, a literal), which stays put while the
 * snapshot runs, since nothing is freed meanwhile. Found there, a label skips the text's
 * copy, hash and lookup: callgrind, bench/py_heap.py 500000 on Debian 3.11, its two
 * snapshots 1,950M -> 1,692M instructions. */
#define LABEL_AT_SLOTS 1024

struct snap {
    struct out out;
    struct u64_map seen;     /* object address -> 1 */
    struct u64_map types;    /* type address -> type id */
    struct u64_map labels;   /* hash(kind, text) -> label id */
    struct u64_map garbage;  /* objects in gc.garbage */
    struct u64_vec work;     /* objects still to record */
    uint32_t next_type, next_label;
    const char *last_type; /* of the last type_id asked, its id, and whether it is a weak
                            * reference type */
    uint32_t last_type_id;
    bool last_type_weak;
    struct u64_vec weak;     /* (weak reference, referent) pairs */
    struct u64_vec items;    /* (object, the block of its items) pairs */
    uint64_t gc_lo, gc_hi;   /* lowest and highest address of the collector's objects */
    uint32_t synthetic_frame_type;
    bool failed;
    /* referents of the object being recorded */
    struct u64_vec refs;
    /* candidate labels: referent address -> label */
    struct u64_vec cand_ptr, cand_label;
    /* labels by where their text is (label_at) */
    struct label_at {
        const void *where;
        uint32_t kind;
        uint64_t label;
    } label_at[LABEL_AT_SLOTS];
};

/* weakref.ref, its proxies, and their subclasses (WeakMethod, KeyedRef...) */
static bool weak_reference_type(const char *type)
{
    for (int depth = 0; type && depth < 64; depth++, type = rs_field(type, TP_BASE)) {
        if (type == (const char *)rs_py.PyWeakref_RefType || type == (const char *)rs_py.PyWeakref_ProxyType ||
            type == (const char *)rs_py.PyWeakref_CallableProxyType)
            return true;
    }
    return false;
}

#define TYPE_WEAK ((uint64_t)1 << 32) /* in the types map, beside the id */

static uint32_t type_id(struct snap *s, const char *type)
{
    /* the collector's lists hold runs of objects of one type (made together) */
    if (type == s->last_type)
        return s->last_type_id;
    uint64_t *known = map_find(&s->types, (uint64_t)(uintptr_t)type);
    s->last_type = type;
    if (known) {
        s->last_type_weak = (*known & TYPE_WEAK) != 0;
        return s->last_type_id = (uint32_t)*known;
    }
    uint32_t id = s->last_type_id = ++s->next_type;
    s->last_type_weak = weak_reference_type(type);
    map_insert(&s->types, (uint64_t)(uintptr_t)type, id | (s->last_type_weak ? TYPE_WEAK : 0), &s->failed);
    char name[512];
    rs_type_name(type, name, sizeof name);
    rs_obj_note_type(type, name);
    unsigned long flags = rs_type_flags(type);
    uint32_t tf = 0;
    if (flags & TPFLAG_HAVE_GC)
        tf |= RS_SNAPTYPE_GC;
    if (flags & TPFLAG_HEAPTYPE)
        tf |= RS_SNAPTYPE_HEAP;
    if (rs_field(type, TP_FINALIZE))
        tf |= RS_SNAPTYPE_FINALIZER;
    if (rs_field(type, TP_DEL))
        tf |= RS_SNAPTYPE_LEGACY_DEL;
    if (rs_py_layout.minor >= 11 && (flags & TPFLAG_MANAGED_DICT))
        tf |= RS_SNAPTYPE_MANAGED_DICT;
    if (rs_type_is_container(type))
        tf |= RS_SNAPTYPE_CONTAINER;
    rs_rec_snap_type(&s->out.wd, id, (uint64_t)(uintptr_t)type, name, tf,
                     *(const uint64_t *)(type + TP_BASICSIZE), *(const uint64_t *)(type + TP_ITEMSIZE));
    return id;
}

static uint64_t hash_text(unsigned kind, const char *t, size_t n)
{
    uint64_t h = 1469598103934665603u ^ kind;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)t[i]) * 1099511628211u;
    return h ? h : 1;
}

static uint64_t label(struct snap *s, enum rs_edge_kind kind, const char *text, size_t n)
{
    uint64_t h = hash_text(kind, text, n);
    uint64_t *known = map_find(&s->labels, h);
    if (known)
        return RS_EDGE_LABEL_ID(*known);
    uint32_t id = ++s->next_label;
    map_insert(&s->labels, h, id, &s->failed);
    rs_rec_snap_label(&s->out.wd, id, kind, text, n);
    return RS_EDGE_LABEL_ID(id);
}

/* Where the label of text at `where` is filed: it is that label when `where` and `kind`
 * are the slot's. */
static struct label_at *label_at(struct snap *s, enum rs_edge_kind kind, const void *where)
{
    return &s->label_at[((uintptr_t)where ^ kind) * 0x9e3779b97f4a7c15u >> 54 & (LABEL_AT_SLOTS - 1)];
}

/* text: a literal or a member's name (it stays where it is) */
static uint64_t label_cstr(struct snap *s, enum rs_edge_kind kind, const char *text)
{
    struct label_at *at = label_at(s, kind, text);
    if (at->where == text && at->kind == kind)
        return at->label;
    *at = (struct label_at){text, kind, label(s, kind, text, strlen(text))};
    return at->label;
}

static uint64_t label_str_object(struct snap *s, enum rs_edge_kind kind, const void *str)
{
    struct label_at *at = label_at(s, kind, str);
    if (at->where == str && at->kind == kind)
        return at->label;
    char text[128];
    size_t n = rs_key_text(str, text, sizeof text);
    *at = (struct label_at){str, kind, label(s, kind, text, n)};
    return at->label;
}

/* Queues an object met as a referent, to be recorded once. */
static void meet(struct snap *s, const void *o)
{
    if (o && map_insert(&s->seen, (uint64_t)(uintptr_t)o, 1, &s->failed))
        vec_push(&s->work, (uint64_t)(uintptr_t)o);
}

static void emit_node(struct snap *s, const void *o, uint32_t extra_flags)
{
    const char *type = rs_type_of(o);
    uint32_t flags = extra_flags;
    if (rs_obj_immortal(o))
        flags |= RS_NODE_IMMORTAL;
    if (type == (const char *)rs_py.PyModule_Type)
        flags |= RS_NODE_MODULE;
    else if (rs_type_flags(type) & TPFLAG_TYPE_SUBCLASS)
        flags |= RS_NODE_TYPE;
    else if (type == (const char *)rs_py.PyFrame_Type)
        flags |= RS_NODE_FRAME;
    else if (type == (const char *)rs_py.PyFunction_Type)
        flags |= RS_NODE_FUNCTION;
    if (s->garbage.keys && set_has(&s->garbage, (uint64_t)(uintptr_t)o))
        flags |= RS_NODE_IN_GC_GARBAGE;
    char text[64];
    uint32_t tid = type_id(s, type); /* first: it names the types rs_obj_size looks for */
    if (rs_obj_bounded_cache(o))
        flags |= RS_NODE_BOUNDED_CACHE;
    uint64_t size = rs_obj_size(o);
    /* A large container's items: the block's allocation site is where it fills up. */
    const void *items = size >= RS_ITEMS_BLOCK_MIN ? rs_obj_items_block(o) : NULL;
    if (items) {
        vec_push(&s->items, (uint64_t)(uintptr_t)o);
        vec_push(&s->items, (uint64_t)(uintptr_t)items);
    }
    struct rs_snap_node n = {
        .addr = (uint64_t)(uintptr_t)o,
        .type_id = tid,
        .size = size,
        .refcnt = rs_obj_refcnt(o),
        .flags = flags,
        .preheader = rs_obj_preheader(o),
        .label = text,
        .label_len = rs_obj_label(o, text, sizeof text),
    };
    rs_snap_node(&s->out.wn, &s->out.bn, &n);
    s->out.node_count++;
}

/* ---- referents and their labels -------------------------------------------------------- */

static int collect_referent(PyObject *o, void *arg)
{
    struct snap *s = arg;
    if (o)
        vec_push(&s->refs, (uint64_t)(uintptr_t)o);
    return 0;
}

static void candidate(struct snap *s, const void *ptr, uint64_t lab)
{
    if (ptr) {
        vec_push(&s->cand_ptr, (uint64_t)(uintptr_t)ptr);
        vec_push(&s->cand_label, lab);
    }
}

static void field_candidate(struct snap *s, const void *o, unsigned off, const char *name)
{
    candidate(s, rs_field(o, off), label_cstr(s, RS_EDGE_SPECIAL, name));
}

static const char *tuple_item(const void *tuple, ssize_t i)
{
    if (!tuple || !(rs_type_flags(rs_type_of(tuple)) & TPFLAG_TUPLE_SUBCLASS) || i >= OB_SIZE(tuple))
        return NULL;
    return ((char *const *)((const char *)tuple + 24))[i];
}

/* Local variables of a frame: slot i of `localsplus` is named names[i]. */
static void locals_candidates(struct snap *s, char *const *localsplus, const void *names, ssize_t count)
{
    for (ssize_t i = 0; i < count; i++) {
        const char *name = tuple_item(names, i);
        if (localsplus[i] && name)
            candidate(s, localsplus[i], label_str_object(s, RS_EDGE_LOCAL, name));
    }
}

/* 3.11+: where an instance of a type with a managed dict keeps its attributes: its dict
 * (*dict) and its values array (*values, ordered like the type's cached keys; on 3.13 only
 * while valid), either NULL when absent. False when the type has no managed dict. */
static bool managed_dict_parts(const char *o, const char *type, const char **dict, const char **values)
{
    const struct rs_py_layout *L = &rs_py_layout;
    unsigned long flags = rs_type_flags(type);
    *dict = *values = NULL;
    if (L->minor < 11 || !(flags & TPFLAG_MANAGED_DICT))
        return false;
    char *const *slot = (char *const *)o - 3;
    if (L->minor == 11) {
        *dict = slot[0];
        *values = ((char *const *)o)[-4];
    } else if (L->minor == 12) {
        uintptr_t v = (uintptr_t)slot[0];
        if (v & 1)
            *values = (const char *)(v + 1);
        else
            *dict = (const char *)v;
    } else {
        *dict = slot[0];
        if (flags & TPFLAG_INLINE_VALUES) {
            const char *inline_values = o + *(const uint64_t *)(type + TP_BASICSIZE);
            if (inline_values[3]) /* valid */
                *values = inline_values + 8;
        }
    }
    return true;
}

/* 3.11+ instances keep their attributes in a values array ordered like the type's cached
 * keys, without a dict: name each value after its key. */
static void managed_dict_candidates(struct snap *s, const char *o, const char *type)
{
    const struct rs_py_layout *L = &rs_py_layout;
    const char *dict, *values;
    if (!managed_dict_parts(o, type, &dict, &values))
        return;
    if (dict)
        candidate(s, dict, label_cstr(s, RS_EDGE_SPECIAL, "__dict__"));
    if (!values)
        return;
    const char *keys = rs_field(type, L->ht_qualname + 8); /* ht_cached_keys */
    if (!keys)
        return;
    ssize_t nentries = *(const ssize_t *)(keys + 24);
    const char *entries = keys + 32 + ((size_t)1 << (uint8_t)keys[9]);
    for (ssize_t i = 0; i < nentries && i < 4096; i++) {
        const char *key = *(char *const *)(entries + 16 * i);
        const char *val = ((char *const *)values)[i];
        if (key && val)
            candidate(s, val, label_str_object(s, RS_EDGE_ATTR, key));
    }
}

/* 3.13: an object whose attributes are still in its inline values, after its __dict__ was
 * asked for, holds that dict (sharing the values), yet its tp_traverse visits the values
 * alone: without this reference the dict would look held from C. */
static const char *unvisited_managed_dict(const char *o, const char *type)
{
    const char *dict, *values;
    if (rs_py_layout.minor < 13 || !managed_dict_parts(o, type, &dict, &values))
        return NULL;
    return values ? dict : NULL; /* valid values: the dict is not visited */
}

/* A type's dict of its subclasses (weak references to them) is its own, yet type_traverse
 * does not visit it: without this reference the dict a class statement adds to its bases
 * would look held from C. On 3.12+ a static builtin type keeps an index there. */
static const char *unvisited_subclasses(const char *o, const char *type)
{
    if (!(rs_type_flags(type) & TPFLAG_TYPE_SUBCLASS) ||
        (rs_py_layout.minor >= 12 && !(rs_type_flags(o) & TPFLAG_HEAPTYPE)))
        return NULL;
    const char *d = rs_field(o, TP_SUBCLASSES);
    return d && rs_type_of(d) == (const char *)rs_py.PyDict_Type ? d : NULL;
}

/* A type's member descriptor (PyMemberDef), read from tp_members. */
struct member_def {
    const char *name;
    int type;
    ssize_t offset;
    int flags;
    const char *doc;
};
#define T_OBJECT 6
#define T_OBJECT_EX 16
#define MEMBER_RELATIVE_OFFSET 8 /* 3.12+ Py_RELATIVE_OFFSET: from the base's end */

/* Object members of the type and its bases: a heap type's __slots__, and a C type's own
 * (a property's fget, a partial's func, a buffered file's raw). */
static void members_candidates(struct snap *s, const char *o, const char *type)
{
    for (int depth = 0; type && depth < 64; depth++, type = rs_field(type, TP_BASE)) {
        const struct member_def *m = rs_field(type, TP_MEMBERS);
        for (; m && m->name; m++)
            if ((m->type == T_OBJECT || m->type == T_OBJECT_EX) && m->offset > 0 &&
                !(m->flags & MEMBER_RELATIVE_OFFSET))
                candidate(s, *(char *const *)(o + m->offset), label_cstr(s, RS_EDGE_ATTR, m->name));
    }
}

static void special_candidates(struct snap *s, const char *o, const char *type)
{
    const struct rs_py_layout *L = &rs_py_layout;
    unsigned long flags = rs_type_flags(type);
    candidate(s, type, label_cstr(s, RS_EDGE_SPECIAL, "__class__"));
    ssize_t dictoffset = *(const ssize_t *)(type + TP_DICTOFFSET);
    if (dictoffset > 0)
        field_candidate(s, o, (unsigned)dictoffset, "__dict__");
    managed_dict_candidates(s, o, type);
    if (flags & TPFLAG_BASE_EXC_SUBCLASS) {
        /* getters, not members: args, (3.11+ notes,) traceback, context, cause */
        unsigned tb = L->minor >= 11 ? 40 : 32;
        field_candidate(s, o, 24, "args");
        if (L->minor >= 11)
            field_candidate(s, o, 32, "__notes__");
        field_candidate(s, o, tb, "__traceback__");
        field_candidate(s, o, tb + 8, "__context__");
        field_candidate(s, o, tb + 16, "__cause__");
    }
    if (type == (const char *)rs_py.PyModule_Type) {
        field_candidate(s, o, 16, "__dict__");
    } else if (flags & TPFLAG_TYPE_SUBCLASS) {
        field_candidate(s, o, TP_DICT, "__dict__");
        field_candidate(s, o, TP_MRO, "__mro__");
        field_candidate(s, o, TP_BASES, "__bases__");
        field_candidate(s, o, TP_BASE, "__base__");
        field_candidate(s, o, TP_SUBCLASSES, "__subclasses__");
    } else if (type == (const char *)rs_py.PyFunction_Type) {
        field_candidate(s, o, L->func_code, "__code__");
        field_candidate(s, o, L->func_globals, "__globals__");
        field_candidate(s, o, L->func_defaults, "__defaults__");
        field_candidate(s, o, L->func_kwdefaults, "__kwdefaults__");
        field_candidate(s, o, L->func_closure, "__closure__");
        field_candidate(s, o, L->func_dict, "__dict__");
        field_candidate(s, o, L->func_module, "__module__");
        field_candidate(s, o, L->func_qualname, "__qualname__");
    } else if (type == (const char *)rs_py.PyMethod_Type) {
        field_candidate(s, o, 16, "__func__");
        field_candidate(s, o, 24, "__self__");
    } else if (type == (const char *)rs_py.PyCell_Type) {
        field_candidate(s, o, 16, "cell_contents");
    } else if (type == (const char *)rs_py.PyTraceBack_Type) {
        field_candidate(s, o, 16, "tb_next");
        field_candidate(s, o, 24, "tb_frame");
    } else if (type == (const char *)rs_py.PyFrame_Type) {
        if (L->minor <= 10) {
            field_candidate(s, o, 24, "f_back");
            field_candidate(s, o, 32, "f_code");
            field_candidate(s, o, 48, "f_globals");
            field_candidate(s, o, 56, "f_locals");
            const char *code = rs_field(o, 32);
            locals_candidates(s, (char *const *)(o + L->frame_localsplus), rs_field(code, L->co_localnames),
                              *(const int *)(code + L->co_nlocals));
        } else {
            field_candidate(s, o, 16, "f_back");
            const char *iframe = rs_field(o, 24); /* f_frame */
            const char *code = iframe ? rs_field(iframe, L->f_code) : NULL;
            if (code && rs_type_of(code) == (const char *)rs_py.PyCode_Type)
                locals_candidates(s, (char *const *)(iframe + L->frame_localsplus),
                                  rs_field(code, L->co_localnames), *(const int *)(code + L->co_nlocals));
        }
    }
    /* last: a label above names a pointer first (a type's __mro__ is also a member) */
    members_candidates(s, o, type);
}

static uint64_t label_for(struct snap *s, uint64_t target)
{
    for (size_t i = 0; i < s->cand_ptr.n; i++)
        if (s->cand_ptr.v[i] == target)
            return s->cand_label.v[i];
    return RS_EDGE_LABEL_NONE;
}

static void edge(struct snap *s, const void *target, uint64_t lab)
{
    rs_snap_edge(&s->out.we, &s->out.be, (uint64_t)(uintptr_t)target, lab);
    s->out.edge_count++;
    meet(s, target);
}

/* An object the collector does not track has no tp_traverse to ask, yet C types of that
 * kind do hold references (decimal's Context its flags and traps before 3.13, extension
 * types written without GC support): without edges, what they hold would look held from
 * C, a leaked reference. The words of the object's fixed part that are the addresses of
 * objects already met are taken as its references (nothing is read through them). Ints,
 * floats, strings and bytes are left out, their words being data (an id() kept in an int),
 * and so are types: a static type is shorter than the size its metatype gives.
 * source_written: the object's edge-source record is already out. */
static void field_edges(struct snap *s, const char *o, const char *type, bool source_written)
{
    if (type == (const char *)rs_py.PyFloat_Type ||
        (rs_type_flags(type) & (TPFLAG_LONG_SUBCLASS | TPFLAG_BYTES_SUBCLASS |
                                TPFLAG_UNICODE_SUBCLASS | TPFLAG_TYPE_SUBCLASS)))
        return;
    uint64_t size = *(const uint64_t *)(type + TP_BASICSIZE);
    bool source = source_written;
    for (uint64_t off = 16; off + 8 <= size && off < 4096; off += 8) {
        uint64_t word = *(const uint64_t *)(o + off);
        /* most words are numbers, outside the span of the collector's objects: turned away
         * before the lookup in the set (2M floats took the 2.3M-object pause 0.18 -> 0.38 s
         * with the lookup alone) */
        if (word < s->gc_lo || word > s->gc_hi || (word & 7) || word == (uint64_t)(uintptr_t)o ||
            !set_has(&s->seen, word))
            continue;
        if (!source) {
            rs_snap_edge_source(&s->out.we, &s->out.be, (uint64_t)(uintptr_t)o);
            source = true;
        }
        char name[32];
        int n = snprintf(name, sizeof name, "(C field +%u)", (unsigned)off);
        edge(s, (const void *)(uintptr_t)word, label(s, RS_EDGE_SPECIAL, name, (size_t)n));
    }
}

static void record_edges(struct snap *s, const char *o)
{
    const char *type = rs_type_of(o);
    rs_snap_edge_source(&s->out.we, &s->out.be, (uint64_t)(uintptr_t)o);
    if (type == (const char *)rs_py.PyDict_Type) {
        /* PyDict_Next, not tp_traverse: it names each value by its key, and reaches the
         * str keys that traversal skips. */
        ssize_t pos = 0;
        PyObject *k, *v;
        while (rs_py.PyDict_Next((PyObject *)o, &pos, &k, &v)) {
            edge(s, v, label_str_object(s, RS_EDGE_KEY, k));
            edge(s, k, label_cstr(s, RS_EDGE_DICT_KEY, "(key)"));
        }
        return;
    }
    if (type == (const char *)rs_py.PyList_Type || type == (const char *)rs_py.PyTuple_Type) {
        char *const *items = type == (const char *)rs_py.PyList_Type ? rs_field(o, 24)
                                                                    : (char *const *)(o + 24);
        ssize_t n = OB_SIZE(o);
        for (ssize_t i = 0; i < n; i++)
            if (items[i])
                edge(s, items[i], RS_EDGE_LABEL_INDEX(i));
        return;
    }
    int (*traverse)(const void *, int (*)(PyObject *, void *), void *) = rs_field(type, TP_TRAVERSE);
    if (!traverse)
        return;
    s->refs.n = 0;
    s->cand_ptr.n = s->cand_label.n = 0;
    traverse(o, collect_referent, s);
    const char *dict = unvisited_managed_dict(o, type);
    if (dict)
        vec_push(&s->refs, (uint64_t)(uintptr_t)dict);
    const char *subclasses = unvisited_subclasses(o, type);
    if (subclasses)
        vec_push(&s->refs, (uint64_t)(uintptr_t)subclasses);
    if (!s->refs.n && !s->last_type_weak) {
        /* A tracked object whose tp_traverse shows nothing may still hold references in its
         * C struct (3.8-3.11's io.StringIO keeps what was written in a list it does not
         * visit): its words are read as an untracked object's are. Not a weak reference's:
         * its referent is not its own. */
        field_edges(s, o, type, true);
        return;
    }
    if (s->refs.n)
        special_candidates(s, o, type);
    for (size_t i = 0; i < s->refs.n; i++)
        edge(s, (const void *)(uintptr_t)s->refs.v[i], label_for(s, s->refs.v[i]));
}

/* Code objects are not containers the collector knows, yet they hold their constants
 * (nested code, tuples, frozensets) and names: without these edges those objects would
 * look referenced from nowhere. */
static void record_code_edges(struct snap *s, const char *code)
{
    const struct rs_py_layout *L = &rs_py_layout;
    rs_snap_edge_source(&s->out.we, &s->out.be, (uint64_t)(uintptr_t)code);
    const char *consts = rs_field(code, L->co_consts), *names = rs_field(code, L->co_names);
    if (consts)
        edge(s, consts, label_cstr(s, RS_EDGE_SPECIAL, "co_consts"));
    if (names)
        edge(s, names, label_cstr(s, RS_EDGE_SPECIAL, "co_names"));
}

/* What a weak reference refers to (PyWeakReference.wr_object; None once the referent is
 * gone): not a reference, written apart from them. */
static void note_weak(struct snap *s, const char *o)
{
    const char *referent = rs_field(o, 16);
    if (referent && referent != (const char *)rs_py.Py_None) {
        vec_push(&s->weak, (uint64_t)(uintptr_t)o);
        vec_push(&s->weak, (uint64_t)(uintptr_t)referent);
    }
}

static void write_pairs(struct snap *s, const struct u64_vec *v,
                        void (*rec)(struct rs_chunk_writer *, const uint64_t *, size_t))
{
    for (size_t at = 0; at < v->n; at += 2 * 4096) {
        size_t pairs = (v->n - at) / 2 < 4096 ? (v->n - at) / 2 : 4096;
        rec(&s->out.wd, v->v + at, pairs);
        out_maybe_flush(&s->out);
    }
}

static void record_object(struct snap *s, const char *o, uint32_t flags)
{
    emit_node(s, o, flags); /* sets s->last_type_weak */
    if (s->last_type_weak)
        note_weak(s, o);
    if (rs_obj_is_gc(o))
        record_edges(s, o);
    else if (rs_type_of(o) == (const char *)rs_py.PyCode_Type)
        record_code_edges(s, o);
    else
        field_edges(s, o, rs_type_of(o), false);
    out_maybe_flush(&s->out);
}

/* ---- enumeration: the collector's own lists ------------------------------------------ */

static char *gc_state(void)
{
    if (rs_py_layout.minor == 8)
        return rs_py.PyRuntime + rs_py_layout.gcstate_in;
    char *interp = rs_py.PyInterpreterState_Main();
    return interp ? interp + rs_py_layout.gcstate_in : NULL;
}

#define GC_GENERATIONS_AT 24
#define GC_GENERATION_SIZE 24
#define GC_PERMANENT_AT 104

/* A generation list is circular through its head (a PyGC_Head inside the gc state); the
 * object follows each 16-byte PyGC_Head. */
static void gather_list(struct snap *s, char *head, struct u64_vec *objs, struct u64_vec *frozen)
{
    size_t guard = 0;
    for (char *g = *(char **)head; g && g != head && guard < ((size_t)1 << 32); g = *(char **)g, guard++) {
        const char *o = g + 16;
        if (map_insert(&s->seen, (uint64_t)(uintptr_t)o, 1, &s->failed))
            vec_push(frozen ? frozen : objs, (uint64_t)(uintptr_t)o);
    }
}

static size_t list_length(char *head)
{
    size_t n = 0;
    for (char *g = *(char **)head; g && g != head && n < ((size_t)1 << 32); g = *(char **)g)
        n++;
    return n;
}

/* Objects on the collector's lists: the table of objects seen is made big enough for them
 * and some of their untracked referents at once (growing it rehashes everything). */
static size_t tracked_objects(char *gcs)
{
    size_t n = list_length(gcs + GC_PERMANENT_AT);
    for (int g = 0; g < 3; g++)
        n += list_length(gcs + GC_GENERATIONS_AT + g * GC_GENERATION_SIZE);
    return n;
}

static void mark_gc_garbage(struct snap *s)
{
    PyObject *gc = rs_py.PyImport_ImportModule("gc");
    PyObject *garbage = gc ? rs_py.PyObject_GetAttrString(gc, "garbage") : NULL;
    if (garbage && (rs_type_flags(rs_type_of(garbage)) & TPFLAG_LIST_SUBCLASS)) {
        ssize_t n = OB_SIZE(garbage);
        char *const *items = rs_field(garbage, 24);
        if (n > 0 && set_init(&s->garbage, (size_t)n))
            for (ssize_t i = 0; i < n; i++)
                map_insert(&s->garbage, (uint64_t)(uintptr_t)items[i], 1, &s->failed);
    }
    if (!garbage)
        rs_py.PyErr_Clear();
    if (garbage)
        rs_py.Py_DecRef(garbage);
    if (gc)
        rs_py.Py_DecRef(gc);
}

/* ---- roots ------------------------------------------------------------------------------ */

static void module_roots(struct snap *s)
{
    PyObject *modules = rs_py.PySys_GetObject("modules");
    if (!modules || !(rs_type_flags(rs_type_of(modules)) & TPFLAG_DICT_SUBCLASS))
        return;
    ssize_t pos = 0;
    PyObject *k, *v;
    while (rs_py.PyDict_Next(modules, &pos, &k, &v)) {
        char name[256];
        int n = rs_str_utf8(k, name, sizeof name - 1);
        name[n > 0 ? n : 0] = 0;
        meet(s, v);
        rs_rec_snap_root(&s->out.wd, (uint64_t)(uintptr_t)v, RS_ROOT_MODULE, name);
    }
}

/* Name of the thread with this ident, from threading._active (no Python code runs: the
 * Thread's _name is a plain instance attribute). */
static void thread_name(uint64_t ident, uint64_t native, char *out, size_t max)
{
    snprintf(out, max, "thread %llu", (unsigned long long)native);
    PyObject *modules = rs_py.PySys_GetObject("modules");
    PyObject *threading = modules ? rs_py.PyDict_GetItemString(modules, "threading") : NULL;
    PyObject *active = threading ? rs_py.PyObject_GetAttrString(threading, "_active") : NULL;
    if (!active) {
        rs_py.PyErr_Clear();
        return;
    }
    ssize_t pos = 0;
    PyObject *k, *t;
    while (rs_py.PyDict_Next(active, &pos, &k, &t)) {
        if (rs_py.PyLong_AsUnsignedLongLong(k) != ident)
            continue;
        PyObject *name = rs_py.PyObject_GetAttrString(t, "_name");
        int n = name ? rs_str_utf8(name, out, max - 1) : -1;
        if (n >= 0)
            out[n] = 0;
        if (name)
            rs_py.Py_DecRef(name);
        break;
    }
    rs_py.PyErr_Clear();
    rs_py.Py_DecRef(active);
}

#define OWNED_BY_GENERATOR 1
#define OWNED_BY_CSTACK 3

/* 3.11+: interpreter frames are not objects; each running one becomes a synthetic node
 * whose edges are the frame's locals (named), its evaluation stack and its function. */
static void synthetic_frame(struct snap *s, const char *f, const char *thread)
{
    const struct rs_py_layout *L = &rs_py_layout;
    const char *code = rs_field(f, L->f_code);
    if (!code || rs_type_of(code) != (const char *)rs_py.PyCode_Type)
        return;
    char text[64];
    int n = rs_str_utf8(rs_field(code, L->co_name), text, 40);
    int line = rs_py.PyCode_Addr2Line((PyObject *)code,
                                      (int)((const char *)rs_field(f, L->f_instr) - (code + L->co_code_adaptive)));
    n = n < 0 ? 0 : n;
    n += snprintf(text + n, sizeof text - (size_t)n, ":%d", line);
    struct rs_snap_node node = {.addr = (uint64_t)(uintptr_t)f, .type_id = s->synthetic_frame_type,
                                .flags = RS_NODE_SYNTHETIC | RS_NODE_FRAME, .label = text,
                                .label_len = (size_t)n};
    rs_snap_node(&s->out.wn, &s->out.bn, &node);
    s->out.node_count++;
    rs_snap_edge_source(&s->out.we, &s->out.be, (uint64_t)(uintptr_t)f);
    char *const *localsplus = (char *const *)(f + L->frame_localsplus);
    int nlocals = *(const int *)(code + L->co_nlocals);
    const void *names = rs_field(code, L->co_localnames);
    for (int i = 0; i < nlocals; i++) {
        const char *name = tuple_item(names, i);
        if (localsplus[i])
            edge(s, localsplus[i], name ? label_str_object(s, RS_EDGE_LOCAL, name) : RS_EDGE_LABEL_NONE);
    }
    int stacktop = *(const int *)(f + 64);
    for (int i = nlocals; i < stacktop && i < nlocals + 4096; i++)
        if (localsplus[i])
            edge(s, localsplus[i], label_cstr(s, RS_EDGE_SPECIAL, "(evaluation stack)"));
    if (rs_field(f, (unsigned)L->iframe_locals))
        edge(s, rs_field(f, (unsigned)L->iframe_locals), label_cstr(s, RS_EDGE_SPECIAL, "f_locals"));
    if (rs_field(f, (unsigned)L->iframe_func))
        edge(s, rs_field(f, (unsigned)L->iframe_func), label_cstr(s, RS_EDGE_SPECIAL, "function"));
    if (rs_field(f, (unsigned)L->iframe_frame_obj))
        edge(s, rs_field(f, (unsigned)L->iframe_frame_obj), label_cstr(s, RS_EDGE_SPECIAL, "frame object"));
    rs_rec_snap_root(&s->out.wd, (uint64_t)(uintptr_t)f, RS_ROOT_THREAD, thread);
    out_maybe_flush(&s->out);
}

static void thread_roots(struct snap *s)
{
    const struct rs_py_layout *L = &rs_py_layout;
    void *interp = rs_py.PyInterpreterState_Main();
    if (L->minor >= 11) {
        s->synthetic_frame_type = ++s->next_type;
        rs_rec_snap_type(&s->out.wd, s->synthetic_frame_type, 0, "builtins.frame", 0, 0, 0);
    }
    for (char *ts = interp ? rs_py.PyInterpreterState_ThreadHead(interp) : NULL; ts;
         ts = rs_py.PyThreadState_Next(ts)) {
        uint64_t ident = *(const uint64_t *)(ts + L->ts_thread_id);
        uint64_t native = L->minor >= 11 ? *(const uint64_t *)(ts + L->ts_thread_id + 8) : 0;
        char name[128];
        thread_name(ident, native ? native : ident, name, sizeof name);
        if (L->minor <= 10) {
            for (char *f = rs_field(ts, L->ts_frame); f; f = rs_field(f, L->f_back)) {
                meet(s, f);
                rs_rec_snap_root(&s->out.wd, (uint64_t)(uintptr_t)f, RS_ROOT_THREAD, name);
            }
            continue;
        }
        char *f = L->minor >= 13 ? rs_field(ts, L->ts_frame)
                                 : (rs_field(ts, L->ts_cframe) ? rs_field(rs_field(ts, L->ts_cframe), L->cframe_current) : NULL);
        for (int depth = 0; f && depth < 100000; f = rs_field(f, L->f_back), depth++) {
            int owner = f[L->f_owner];
            if (owner == OWNED_BY_CSTACK)
                continue;
            const char *code = rs_field(f, L->f_code);
            if (!code || rs_type_of(code) != (const char *)rs_py.PyCode_Type)
                continue;
            const char *instr = rs_field(f, L->f_instr);
            if (owner != OWNED_BY_GENERATOR &&
                instr < code + L->co_code_adaptive + 2 * *(const int *)(code + L->co_firsttraceable))
                continue;
            synthetic_frame(s, f, name);
        }
    }
}

/* ---- the snapshot -------------------------------------------------------------------------- */

static uint32_t snapshot_count;

void rs_py_snapshot_new_trace(void)
{
    snapshot_count = 0; /* ids count from 1 in each trace */
}

bool rs_py_snapshot(enum rs_snap_trigger trigger, const char *label_text)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE || rs_py_work_in_progress)
        return false;
    char *gcs = gc_state();
    if (!gcs)
        return false;
    rs_py_work_in_progress = true;
    rs_tl_busy++;
    PyObject *etype, *evalue, *etb;
    rs_py.PyErr_Fetch(&etype, &evalue, &etb);
    uint64_t start = rs_now_ns_ordered(); /* the program's later events sort after it */
    static struct snap s;
    memset(&s, 0, sizeof s);
    uint32_t id = ++snapshot_count;
    out_init(&s.out);
    size_t tracked = tracked_objects(gcs);
    if (!set_init(&s.seen, tracked + tracked / 2 + 4096) || !map_init(&s.types, 1024) ||
        !map_init(&s.labels, 4096)) {
        rs_log("out of memory for a snapshot; skipped");
        goto done;
    }
    rs_rec_snap_begin(&s.out.wd, id, start > rs_start_ns ? start - rs_start_ns : 0, trigger, label_text);
    mark_gc_garbage(&s);

    struct u64_vec objs = {0}, frozen = {0};
    for (int g = 0; g < 3; g++)
        gather_list(&s, gcs + GC_GENERATIONS_AT + g * GC_GENERATION_SIZE, &objs, NULL);
    gather_list(&s, gcs + GC_PERMANENT_AT, &objs, &frozen);
    s.gc_lo = UINT64_MAX;
    for (size_t i = 0; i < objs.n + frozen.n; i++) {
        uint64_t a = i < objs.n ? objs.v[i] : frozen.v[i - objs.n];
        s.gc_lo = a < s.gc_lo ? a : s.gc_lo;
        s.gc_hi = a > s.gc_hi ? a : s.gc_hi;
    }
    for (size_t i = 0; i < objs.n; i++)
        record_object(&s, (const char *)(uintptr_t)objs.v[i], RS_NODE_GC_TRACKED);
    for (size_t i = 0; i < frozen.n; i++)
        record_object(&s, (const char *)(uintptr_t)frozen.v[i], RS_NODE_GC_TRACKED | RS_NODE_FROZEN);
    vec_free(&objs);
    vec_free(&frozen);
    module_roots(&s);
    thread_roots(&s);
    /* referents met along the way: leaves, and untracked containers (walked for theirs) */
    for (size_t i = 0; i < s.work.n; i++)
        record_object(&s, (const char *)(uintptr_t)s.work.v[i], 0);
    write_pairs(&s, &s.weak, rs_rec_snap_weak);
    write_pairs(&s, &s.items, rs_rec_snap_buffers);
    if (s.failed)
        rs_writer_note(1, "a snapshot ran out of memory for its tables and is incomplete");
    out_flush(&s.out);
    /* END alone in the last chunk: a snapshot cut short never looks complete */
    rs_rec_snap_end(&s.out.wd, id, s.out.node_count, s.out.edge_count, rs_now_ns() - start);
    out_flush(&s.out);
    rs_debug("snapshot %u (%s): %llu nodes, %llu edges in %.1f ms", id, label_text,
             (unsigned long long)s.out.node_count, (unsigned long long)s.out.edge_count,
             (double)(rs_now_ns() - start) / 1e6);
done:
    map_free(&s.seen);
    map_free(&s.types);
    map_free(&s.labels);
    map_free(&s.garbage);
    vec_free(&s.work);
    vec_free(&s.refs);
    vec_free(&s.cand_ptr);
    vec_free(&s.cand_label);
    vec_free(&s.weak);
    vec_free(&s.items);
    out_free(&s.out);
    rs_py.PyErr_Restore(etype, evalue, etb);
    rs_tl_busy--;
    rs_py_work_in_progress = false;
    return true;
}
