/* A C extension with a reference leak: keep(obj) takes a reference it never gives back
 * (Py_INCREF without Py_DECREF), as a buggy extension would. */
#include <Python.h>

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
    return PyModule_Create(&module);
}
