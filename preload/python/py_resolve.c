#include "py_resolve.h"

#include "py_frames.h"
#include "py_hooks.h"
#include "rs_trace_encode.h"
#include "stack_table.h"
#include "writer.h"

#include <string.h>

/* Grown as lines are resolved rather than mapped whole: the table is probed at random,
 * so every resolved line would touch (fault in, zero) a page of its own. */
#define PAIR_SLOTS_FIRST (1u << 14)
#define PAIR_SLOTS_MAX (1u << 22)

static uint64_t *resolved_pairs; /* (code id << 32 | offset) + 1; 0 = empty */
static uint32_t pair_slots, pair_count;
static uint32_t stacks_done = 1;
static uint32_t codes_done = 1;
static struct rs_buf scratch;
RS_HIDDEN bool rs_py_work_in_progress; /* GIL-protected */

#define THREAD_NAMES 1024
static struct {
    uint32_t tid;
    uint64_t name_hash;
} thread_names[THREAD_NAMES];

static bool scratch_grow(struct rs_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : (64u << 10);
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

bool rs_py_resolve_init(void)
{
    resolved_pairs = rs_sys_map(PAIR_SLOTS_FIRST * sizeof *resolved_pairs);
    pair_slots = PAIR_SLOTS_FIRST;
    scratch.grow = scratch_grow;
    return resolved_pairs != NULL;
}

static uint32_t pair_home(uint64_t key, uint32_t slots)
{
    return (uint32_t)(key * 0x9e3779b97f4a7c15u >> 40) & (slots - 1);
}

static void pairs_grow(void)
{
    uint32_t slots = pair_slots * 4;
    uint64_t *grown = slots <= PAIR_SLOTS_MAX ? rs_sys_map(slots * sizeof *grown) : NULL;
    if (!grown)
        return; /* stays crowded: lines are then resolved again, never lost */
    for (uint32_t i = 0; i < pair_slots; i++) {
        uint64_t key = resolved_pairs[i];
        if (!key)
            continue;
        uint32_t j = pair_home(key, slots);
        while (grown[j])
            j = (j + 1) & (slots - 1);
        grown[j] = key;
    }
    rs_sys_unmap(resolved_pairs, pair_slots * sizeof *resolved_pairs);
    resolved_pairs = grown;
    pair_slots = slots;
}

/* true when the pair was not known yet (and is now) */
static bool pair_is_new(uint64_t key)
{
    key += 1;
    if (pair_count >= pair_slots / 2)
        pairs_grow();
    uint32_t i = pair_home(key, pair_slots);
    for (uint32_t n = 0; n < 64; n++, i = (i + 1) & (pair_slots - 1)) {
        uint64_t seen = resolved_pairs[i];
        if (seen == key)
            return false;
        if (seen == 0) {
            resolved_pairs[i] = key;
            pair_count++;
            return true;
        }
    }
    return true; /* crowded: resolve again rather than lose the line */
}

static struct rs_chunk_writer scratch_writer(void)
{
    scratch.len = 0;
    scratch.failed = false;
    return (struct rs_chunk_writer){.out = &scratch};
}

static void flush_scratch(void)
{
    if (!scratch.failed && scratch.len)
        rs_writer_meta_log(scratch.data, scratch.len);
    scratch.len = 0;
}

/* A str attribute as UTF-8, or `fallback`. */
static const char *str_attr(PyObject *obj, const char *name, PyObject **hold, const char *fallback)
{
    *hold = rs_py.PyObject_GetAttrString(obj, name);
    if (!*hold) {
        rs_py.PyErr_Clear();
        return fallback;
    }
    ssize_t n;
    const char *s = rs_py.PyUnicode_AsUTF8AndSize(*hold, &n);
    if (!s) {
        rs_py.PyErr_Clear();
        return fallback;
    }
    return s;
}

static long long_attr(PyObject *obj, const char *name)
{
    PyObject *v = rs_py.PyObject_GetAttrString(obj, name);
    if (!v) {
        rs_py.PyErr_Clear();
        return 0;
    }
    unsigned long long x = rs_py.PyLong_AsUnsignedLongLong(v);
    rs_py.Py_DecRef(v);
    if (rs_py.PyErr_Occurred()) {
        rs_py.PyErr_Clear();
        return 0;
    }
    return (long)x;
}

/* Set once a code object's line table could not be read: lines are then resolved here,
 * pair by pair (PY_LINE), for every stack. */
static bool resolve_lines_here;

/* The code's line table, for the analyzer to find the line of every offset: asking
 * PyCode_Addr2Line for each (code, offset) pair of the stacks walked the table from its
 * start each time, with the GIL held (callgrind, Debian 3.11, a start-up importing a
 * dozen stdlib packages: 210M instructions, a fifth of all refscope added). false: the
 * table could not be read (nothing written). */
static bool put_line_table(struct rs_buf *out, PyObject *code)
{
    int minor = rs_py_layout.minor;
    PyObject *table = rs_py.PyObject_GetAttrString(code, minor <= 9 ? "co_lnotab" : "co_linetable");
    char *bytes;
    ssize_t len;
    if (!table || rs_py.PyBytes_AsStringAndSize(table, &bytes, &len) != 0) {
        rs_py.PyErr_Clear();
        if (table)
            rs_py.Py_DecRef(table);
        return false;
    }
    rs_buf_varint(out, minor <= 9 ? RS_PY_LINES_LNOTAB : minor == 10 ? RS_PY_LINES_PAIRS : RS_PY_LINES_LOCATIONS);
    rs_buf_string(out, bytes, (size_t)len);
    rs_py.Py_DecRef(table);
    return true;
}

static void describe_codes(struct rs_chunk_writer *w, uint32_t upto)
{
    for (; codes_done <= upto; codes_done++) {
        PyObject *code = rs_py_code_object(codes_done);
        size_t at = rs_rec_begin(w, RS_TAG_PY_CODE);
        rs_buf_varint(w->out, codes_done);
        if (!code) {
            rs_buf_string(w->out, "<unknown>", 9);
            rs_buf_string(w->out, "<code object freed before it was resolved>", 42);
            rs_buf_varint(w->out, 0);
        } else {
            PyObject *file_obj, *name_obj;
            const char *file = str_attr(code, "co_filename", &file_obj, "<unknown>");
            const char *name = str_attr(code, rs_py_layout.minor >= 11 ? "co_qualname" : "co_name",
                                        &name_obj, "<unknown>");
            rs_buf_string(w->out, file, strlen(file));
            rs_buf_string(w->out, name, strlen(name));
            rs_buf_varint(w->out, (uint64_t)long_attr(code, "co_firstlineno"));
            if (!put_line_table(w->out, code) && !resolve_lines_here) {
                resolve_lines_here = true;
                stacks_done = 1; /* stacks passed over may hold this code */
            }
            if (file_obj)
                rs_py.Py_DecRef(file_obj);
            if (name_obj)
                rs_py.Py_DecRef(name_obj);
        }
        rs_rec_end(w, at);
    }
}

static void resolve_lines(struct rs_chunk_writer *w, uint32_t codes_known)
{
    uint32_t end = rs_stack_table_next_id();
    if (!resolve_lines_here) {
        stacks_done = end;
        return;
    }
    for (; stacks_done < end; stacks_done++) {
        uint32_t n = 0;
        bool pending;
        const uint64_t *words = rs_stack_table_get(stacks_done, &n, &pending);
        if (pending)
            break;
        bool later = false;
        for (uint32_t i = 0; words && i + 1 < n; i++) {
            if (!(words[i] & RS_STACKWORD_PY))
                continue;
            uint32_t code_id = (uint32_t)(words[i] & 0xffffffffu);
            uint32_t offset = (uint32_t)(words[i + 1] & 0xffffffffu);
            i++;
            if (code_id > codes_known) {
                later = true;
                break;
            }
            if (!pair_is_new(((uint64_t)code_id << 32) | offset))
                continue;
            PyObject *code = rs_py_code_object(code_id);
            int line = code ? rs_py.PyCode_Addr2Line(code, (int)offset) : 0;
            size_t at = rs_rec_begin(w, RS_TAG_PY_LINE);
            rs_buf_varint(w->out, code_id);
            rs_buf_varint(w->out, offset);
            rs_buf_varint(w->out, line > 0 ? (uint64_t)line : 0);
            rs_rec_end(w, at);
        }
        if (later)
            break;
    }
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211u;
    return h;
}

/* Thread names as Python knows them (threading.Thread.name, keyed by native_id), for
 * threads that are alive now. Only if the program imported threading itself. */
static void name_threads(struct rs_chunk_writer *w)
{
    PyObject *modules = rs_py.PySys_GetObject("modules"); /* borrowed */
    PyObject *threading = modules ? rs_py.PyDict_GetItemString(modules, "threading") : NULL;
    if (!threading)
        return;
    PyObject *active = rs_py.PyObject_GetAttrString(threading, "_active");
    if (!active) {
        rs_py.PyErr_Clear();
        return;
    }
    ssize_t pos = 0;
    PyObject *key, *thread;
    while (rs_py.PyDict_Next(active, &pos, &key, &thread)) {
        long tid = long_attr(thread, "native_id");
        PyObject *name_obj;
        /* _name, not the name property: no Python code may run here */
        const char *name = str_attr(thread, "_name", &name_obj, NULL);
        if (tid > 0 && name) {
            uint64_t h = hash_str(name);
            unsigned slot = (unsigned)tid % THREAD_NAMES;
            if (thread_names[slot].tid != (uint32_t)tid || thread_names[slot].name_hash != h) {
                thread_names[slot].tid = (uint32_t)tid;
                thread_names[slot].name_hash = h;
                rs_rec_thread(w, (uint32_t)tid, RS_THREAD_PYTHON_NAME, name);
            }
        }
        if (name_obj)
            rs_py.Py_DecRef(name_obj);
    }
    rs_py.Py_DecRef(active);
}

void rs_py_resolve(void)
{
    /* Python calls made here could let a pending call or a gc callback in, which would
     * resolve again into the same scratch buffer. */
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE || rs_py_work_in_progress)
        return;
    rs_py_work_in_progress = true;
    rs_tl_busy++;
    PyObject *type, *value, *tb;
    rs_py.PyErr_Fetch(&type, &value, &tb);
    struct rs_chunk_writer w = scratch_writer();
    uint32_t codes_known = rs_py_code_count();
    describe_codes(&w, codes_known);
    resolve_lines(&w, codes_known);
    name_threads(&w);
    flush_scratch();
    rs_py.PyErr_Restore(type, value, tb);
    rs_tl_busy--;
    rs_py_work_in_progress = false;
}

void rs_py_emit_interpreter(void)
{
    rs_tl_busy++;
    struct rs_chunk_writer w = scratch_writer();
    const char *version = rs_py.Py_GetVersion();
    int major = 3, minor = rs_py_layout.minor;
    size_t at = rs_rec_begin(&w, RS_TAG_PY_INTERP);
    rs_buf_string(w.out, version, strlen(version));
    rs_buf_varint(w.out, ((uint64_t)major << 16) | ((uint64_t)minor << 8) | (uint64_t)rs_py_micro);
    rs_buf_varint(w.out, (rs_py_hooks_early() ? RS_PY_HOOKS_EARLY : 0) |
                             (rs_cfg.python_native ? RS_PY_NATIVE_STACKS : 0));
    rs_rec_end(&w, at);
    flush_scratch();
    rs_tl_busy--;
}
