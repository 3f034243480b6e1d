/* A C extension with a reference leak: keep(obj) takes a reference it never gives back
 * (Py_INCREF without Py_DECREF), as a buggy extension would. And two holders of a reference
 * in a C field that no tp_traverse shows, which is not leaked: Holder, a type without GC
 * support, as extension types written without it are; Hider, tracked, whose tp_traverse
 * does not visit it. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *held;
} Holder;

static PyObject *holder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *obj;
    (void)kwargs;
    if (!PyArg_ParseTuple(args, "O", &obj))
        return NULL;
    Holder *h = (Holder *)type->tp_alloc(type, 0);
    if (h) {
        Py_INCREF(obj);
        h->held = obj;
    }
    return (PyObject *)h;
}

static void holder_dealloc(PyObject *self)
{
    Py_XDECREF(((Holder *)self)->held);
    Py_TYPE(self)->tp_free(self);
}

/* Hider(obj): tracked by the collector, yet its tp_traverse does not visit obj (as 3.11's
 * io.StringIO does not visit the list of what was written to it): a reference the
 * collector cannot see, not a leaked one. */
static int hider_traverse(PyObject *self, visitproc visit, void *arg)
{
    (void)self, (void)visit, (void)arg;
    return 0;
}

static void hider_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_XDECREF(((Holder *)self)->held);
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject hider_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "leakext.Hider",
    .tp_basicsize = sizeof(Holder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = holder_new,
    .tp_dealloc = hider_dealloc,
    .tp_traverse = hider_traverse,
};

static PyTypeObject holder_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "leakext.Holder",
    .tp_basicsize = sizeof(Holder),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = holder_new,
    .tp_dealloc = holder_dealloc,
};

static PyObject *keep(PyObject *self, PyObject *obj)
{
    (void)self;
    Py_INCREF(obj);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"keep", keep, METH_O, "leak a reference to obj"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "leakext", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_leakext(void)
{
    if (PyType_Ready(&holder_type) < 0 || PyType_Ready(&hider_type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&holder_type);
    Py_INCREF(&hider_type);
    if (PyModule_AddObject(m, "Holder", (PyObject *)&holder_type) < 0 ||
        PyModule_AddObject(m, "Hider", (PyObject *)&hider_type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
