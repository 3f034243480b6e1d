/* Snapshot triggers: the `refscope` module's snapshot(), the final snapshot, every Kth
 * full collection, a signal, a period. */
#include "py_module.h"

#include "py_resolve.h"
#include "py_snapshot.h"
#include "rs_trace_format.h"
#include "writer.h"

#include <signal.h>
#include <string.h>

/* METH_FASTCALL: no argument tuple, which would be alive (held from C) in the snapshot this
 * call takes and look like a leaked reference of the caller's. */
static PyObject *module_snapshot(PyObject *self, PyObject *const *args, ssize_t nargs)
{
    (void)self;
    const char *label = NULL;
    if (nargs > 1) {
        rs_py.PyErr_SetString(*rs_py.PyExc_TypeError, "snapshot() takes at most 1 argument");
        return NULL;
    }
    if (nargs == 1 && args[0] != rs_py.Py_None) {
        ssize_t n;
        if (!(label = rs_py.PyUnicode_AsUTF8AndSize(args[0], &n)))
            return NULL;
    }
    rs_py_snapshot(RS_SNAP_API, label ? label : "");
    rs_py.Py_IncRef(rs_py.Py_None);
    return rs_py.Py_None;
}

static _Atomic bool signal_pending;

static void on_snapshot_signal(int sig)
{
    (void)sig;
    atomic_store(&signal_pending, true);
}

/* PyModuleDef, laid out as in every CPython 3.8-3.13 (moduleobject.h), without Python.h. */
struct module_def {
    /* PyModuleDef_Base */
    ssize_t ob_refcnt;
    void *ob_type;
    void *m_init;
    ssize_t m_index;
    void *m_copy;
    /* PyModuleDef */
    const char *m_name;
    const char *m_doc;
    ssize_t m_size;
    PyMethodDef *m_methods;
    void *m_slots, *m_traverse, *m_clear, *m_free;
};

/* Everything recorded so far reaches the file now (a test runner analyses it mid-run). */
static PyObject *module_flush(PyObject *self, PyObject *unused)
{
    (void)self, (void)unused;
    rs_tl_busy++;
    rs_py_resolve();
    rs_writer_sync();
    rs_tl_busy--;
    rs_py.Py_IncRef(rs_py.Py_None);
    return rs_py.Py_None;
}

static PyObject *module_trace_path(PyObject *self, PyObject *unused)
{
    (void)self, (void)unused;
    return rs_py.PyUnicode_FromString(rs_writer_path());
}

static PyMethodDef module_methods[] = {
    {"snapshot", (PyCFunction)(void (*)(void))module_snapshot, RS_METH_FASTCALL,
     "snapshot(label=None): record the object graph now (in the refscope trace)"},
    {"flush", module_flush, RS_METH_NOARGS,
     "flush(): write everything recorded so far to the trace file"},
    {"trace_path", module_trace_path, RS_METH_NOARGS,
     "trace_path(): the path of this process's trace file"},
    {NULL, NULL, 0, NULL},
};

static struct module_def module_def = {
    .ob_refcnt = 1,
    .m_index = 0,
    .m_name = "refscope",
    .m_doc = "Provided by refscope to programs running under it (refscope run / LD_PRELOAD).",
    .m_size = -1,
    .m_methods = module_methods,
};

#define PYTHON_API_VERSION 1013 /* unchanged from 3.2 to 3.13 */

static PyObject *init_refscope_module(void)
{
    return rs_py.PyModule_Create2(&module_def, PYTHON_API_VERSION);
}

/* From the constructor, before Py_Initialize: `import refscope` then works from the first
 * line of the program, whenever the attach thread gets the GIL. */
void rs_py_module_register(void)
{
    if (!rs_py.Py_IsInitialized() && rs_py.PyImport_AppendInittab("refscope", init_refscope_module) != 0)
        rs_log("could not provide the refscope module");
}

void rs_py_module_install(void)
{
    if (rs_cfg.snapshot_signal) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_snapshot_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(rs_cfg.snapshot_signal, &sa, NULL);
    }
}

void rs_py_module_final_snapshot(const char *label)
{
    rs_py_snapshot(strcmp(label, "_exit") == 0 ? RS_SNAP__EXIT : RS_SNAP_EXIT, label);
}

static uint32_t full_collections;

static uint64_t info_count(PyObject *info, const char *key)
{
    PyObject *v = rs_py.PyDict_GetItemString(info, key);
    uint64_t n = v ? rs_py.PyLong_AsUnsignedLongLong(v) : 0;
    if (rs_py.PyErr_Occurred()) {
        rs_py.PyErr_Clear();
        n = 0;
    }
    return n;
}

void rs_py_module_after_gc(PyObject *args)
{
    const char *phase = NULL;
    PyObject *info = NULL;
    if (!rs_py.PyArg_ParseTuple(args, "sO", &phase, &info)) {
        rs_py.PyErr_Clear();
        return;
    }
    if (strcmp(phase, "stop") != 0)
        return;
    PyObject *gen = rs_py.PyDict_GetItemString(info, "generation");
    if (!gen || rs_py.PyLong_AsUnsignedLongLong(gen) != 2) {
        rs_py.PyErr_Clear();
        return;
    }
    /* full collections on the timeline (the younger ones are too many to mark) */
    char mark[96];
    rs_format(mark, sizeof mark, "collected %llu, uncollectable %llu",
              (unsigned long long)info_count(info, "collected"),
              (unsigned long long)info_count(info, "uncollectable"));
    rs_writer_mark(RS_MARK_GC, mark);
    if (rs_cfg.snapshot_gc_every && ++full_collections % rs_cfg.snapshot_gc_every == 0) {
        char label[64];
        rs_format(label, sizeof label, "after full collection %u", full_collections);
        rs_py_snapshot(RS_SNAP_GC, label);
    }
}

bool rs_py_module_wants_poll_thread(void)
{
    return rs_cfg.snapshot_interval_ms || rs_cfg.snapshot_signal;
}

/* When the periodic snapshot after one that ended at `end` and held the program for
 * `pause` ns is due: the interval counts from the end, not the start, and is stretched to
 * PAUSE_SHARE - 1 pauses, so that a heap whose snapshot takes longer than the interval does
 * not have them run back to back (seen: 2 s snapshots of a growing 8M-object heap every
 * 2 s left the program 2% of its time, and 110 snapshots wrote 20 GB in 6 minutes). */
#define PAUSE_SHARE 5 /* snapshots hold the program a fifth of the time at most */

static uint64_t next_periodic(uint64_t end, uint64_t pause)
{
    uint64_t wait = (uint64_t)rs_cfg.snapshot_interval_ms * 1000000u;
    if (pause > UINT64_MAX / PAUSE_SHARE)
        pause = UINT64_MAX / PAUSE_SHARE;
    if (wait < pause * (PAUSE_SHARE - 1))
        wait = pause * (PAUSE_SHARE - 1);
    return end + wait;
}

/* On the poll thread (no GIL held): wakes every 10 ms for a signal, takes the GIL for
 * periodic and signalled snapshots, until told to stop. */
void rs_py_module_poll_loop(_Atomic bool *stop)
{
    if (!rs_py_module_wants_poll_thread())
        return;
    uint64_t next = rs_now_ns() + (uint64_t)rs_cfg.snapshot_interval_ms * 1000000u;
    uint32_t periodic = 0, signalled = 0;
    while (!atomic_load(stop) && atomic_load(&rs_state) == RS_STATE_ACTIVE) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        uint64_t now = rs_now_ns();
        bool by_signal = atomic_exchange(&signal_pending, false);
        bool by_time = rs_cfg.snapshot_interval_ms && now >= next;
        if (!by_signal && !by_time)
            continue;
        if (atomic_load(stop) || rs_py_is_finalizing())
            break;
        int gil = rs_py.PyGILState_Ensure();
        uint64_t paused_at = rs_now_ns();
        if (!atomic_load(stop)) {
            char label[64];
            if (by_signal)
                rs_format(label, sizeof label, "signal %u", ++signalled);
            else
                rs_format(label, sizeof label, "every %.3g s, #%u", rs_cfg.snapshot_interval_ms / 1000.0, ++periodic);
            rs_py_snapshot(by_signal ? RS_SNAP_SIGNAL : RS_SNAP_INTERVAL, label);
        }
        rs_py.PyGILState_Release(gil);
        uint64_t end = rs_now_ns();
        if (by_time)
            next = next_periodic(end, end - paused_at);
    }
}
