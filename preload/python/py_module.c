#include "py_module.h"

#include "rs_trace_format.h"
#include "writer.h"

static PyObject *module_snapshot(PyObject *self, PyObject *args)
{
    (void)self;
    const char *label = "";
    if (!rs_py.PyArg_ParseTuple(args, "|z:snapshot", &label))
        return NULL;
    rs_writer_mark(RS_MARK_SNAPSHOT_REQUEST, label ? label : "");
    rs_py.Py_IncRef(rs_py.Py_None);
    return rs_py.Py_None;
}

static PyMethodDef snapshot_def = {"snapshot", module_snapshot, RS_METH_VARARGS,
                                   "snapshot(label=None): record the object graph now"};

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
}

void rs_py_module_final_snapshot(const char *label)
{
    (void)label;
}

void rs_py_module_after_gc(PyObject *args)
{
    (void)args;
}

void rs_py_module_poll_loop(_Atomic bool *stop)
{
    (void)stop;
}
