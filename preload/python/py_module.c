/* Snapshot triggers: the `refscope` module's snapshot(), the final snapshot, every Kth
 * full collection, a signal, a period. */
#include "py_module.h"

#include "py_snapshot.h"
#include "rs_trace_format.h"
#include "writer.h"

#include <signal.h>
#include <string.h>

static PyObject *module_snapshot(PyObject *self, PyObject *args)
{
    (void)self;
    const char *label = NULL;
    if (!rs_py.PyArg_ParseTuple(args, "|z:snapshot", &label))
        return NULL;
    rs_py_snapshot(RS_SNAP_API, label ? label : "");
    rs_py.Py_IncRef(rs_py.Py_None);
    return rs_py.Py_None;
}

static PyMethodDef snapshot_def = {"snapshot", module_snapshot, RS_METH_VARARGS,
                                   "snapshot(label=None): record the object graph now"};

static _Atomic bool signal_pending;

static void on_snapshot_signal(int sig)
{
    (void)sig;
    atomic_store(&signal_pending, true);
}

void rs_py_module_install(void)
{
    PyObject *modules = rs_py.PySys_GetObject("modules"); /* borrowed */
    PyObject *mod = rs_py.PyModule_New("refscope");
    PyObject *fn = mod ? rs_py.PyCFunction_NewEx(&snapshot_def, mod, NULL) : NULL;
    if (!modules || !fn || rs_py.PyObject_SetAttrString(mod, "snapshot", fn) != 0 ||
        rs_py.PyDict_SetItemString(modules, "refscope", mod) != 0) {
        rs_py.PyErr_Clear();
        rs_log("could not provide the refscope module");
    }
    if (fn)
        rs_py.Py_DecRef(fn);
    if (mod)
        rs_py.Py_DecRef(mod);
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

void rs_py_module_after_gc(PyObject *args)
{
    if (!rs_cfg.snapshot_gc_every)
        return;
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
    if (++full_collections % rs_cfg.snapshot_gc_every == 0) {
        char label[64];
        rs_format(label, sizeof label, "after full collection %u", full_collections);
        rs_py_snapshot(RS_SNAP_GC, label);
    }
}

bool rs_py_module_wants_poll_thread(void)
{
    return rs_cfg.snapshot_interval_ms || rs_cfg.snapshot_signal;
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
        if (by_time)
            next = now + (uint64_t)rs_cfg.snapshot_interval_ms * 1000000u;
        if (atomic_load(stop) || rs_py_is_finalizing())
            break;
        int gil = rs_py.PyGILState_Ensure();
        if (!atomic_load(stop)) {
            char label[64];
            if (by_signal)
                rs_format(label, sizeof label, "signal %u", ++signalled);
            else
                rs_format(label, sizeof label, "every %.3g s, #%u", rs_cfg.snapshot_interval_ms / 1000.0, ++periodic);
            rs_py_snapshot(by_signal ? RS_SNAP_SIGNAL : RS_SNAP_INTERVAL, label);
        }
        rs_py.PyGILState_Release(gil);
    }
}
