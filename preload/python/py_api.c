#define _GNU_SOURCE
#include "py_api.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

RS_HIDDEN struct rs_py_api rs_py;
RS_HIDDEN struct rs_py_layout rs_py_layout;
RS_HIDDEN int rs_py_micro;

#define SYM(field, name) (*(void **)&rs_py.field = dlsym(RTLD_DEFAULT, name))

/* Layouts measured with offsetof() against each version's own headers (default builds,
 * 64-bit); see ../shared notes, cpython.md §3.2. */
#define FUNC_3_8 .func_code = 16, .func_globals = 24, .func_defaults = 32, .func_kwdefaults = 40, \
                 .func_closure = 48, .func_dict = 72, .func_module = 88, .func_qualname = 104
#define FUNC_3_10 .func_code = 48, .func_globals = 16, .func_defaults = 56, .func_kwdefaults = 64, \
                  .func_closure = 72, .func_dict = 88, .func_module = 104, .func_qualname = 40

static const struct rs_py_layout layouts[] = {
    {.minor = 8, .ts_frame = 24, .f_code = 32, .f_back = 24, .f_instr = 104, .lasti_scale = 1,
     .f_owner = -1, .f_is_entry = -1, .co_filename = 104, .co_name = 112, .co_firstlineno = 40,
     .ts_thread_id = 176, .gcstate_in = 344, .ht_qualname = 864, .frame_localsplus = 360,
     .co_nlocals = 28, .co_localnames = 72, .co_consts = 56, .co_names = 64, .iframe_locals = -1, .iframe_func = -1,
     .iframe_frame_obj = -1, FUNC_3_8, .str_ascii_size = 48, .str_compact_size = 72},
    {.minor = 9, .ts_frame = 24, .f_code = 32, .f_back = 24, .f_instr = 104, .lasti_scale = 1,
     .f_owner = -1, .f_is_entry = -1, .co_filename = 104, .co_name = 112, .co_firstlineno = 40,
     .ts_thread_id = 176, .gcstate_in = 616, .ht_qualname = 856, .frame_localsplus = 360,
     .co_nlocals = 28, .co_localnames = 72, .co_consts = 56, .co_names = 64, .iframe_locals = -1, .iframe_func = -1,
     .iframe_frame_obj = -1, FUNC_3_8, .str_ascii_size = 48, .str_compact_size = 72},
    {.minor = 10, .ts_frame = 24, .f_code = 32, .f_back = 24, .f_instr = 96, .lasti_scale = 2,
     .f_owner = -1, .f_is_entry = -1, .co_filename = 104, .co_name = 112, .co_firstlineno = 40,
     .ts_thread_id = 176, .gcstate_in = 616, .ht_qualname = 864, .frame_localsplus = 352,
     .co_nlocals = 28, .co_localnames = 72, .co_consts = 56, .co_names = 64, .iframe_locals = -1, .iframe_func = -1,
     .iframe_frame_obj = -1, FUNC_3_10, .str_ascii_size = 48, .str_compact_size = 72},
    {.minor = 11, .ts_cframe = 56, .cframe_current = 8, .f_code = 32, .f_back = 48, .f_instr = 56,
     .f_is_entry = 68, .f_owner = 68 + 1 /* after is_entry: py_frames.c loads both at once */,
     .co_code_adaptive = 184, .co_firsttraceable = 168,
     .co_filename = 112, .co_name = 120, .co_firstlineno = 72, .ts_thread_id = 152,
     .gcstate_in = 648, .ht_qualname = 864, .frame_localsplus = 72, .co_nlocals = 76,
     .co_localnames = 96, .co_consts = 24, .co_names = 32, .iframe_locals = 24, .iframe_func = 0, .iframe_frame_obj = 40, FUNC_3_10,
     .str_ascii_size = 48, .str_compact_size = 72},
    {.minor = 12, .ts_cframe = 56, .cframe_current = 0, .f_code = 0, .f_back = 8, .f_instr = 56,
     .f_owner = 70, .f_is_entry = -1, .co_code_adaptive = 192, .co_firsttraceable = 176,
     .co_filename = 112, .co_name = 120, .co_firstlineno = 68, .ts_thread_id = 136,
     .gcstate_in = 112, .ht_qualname = 872, .frame_localsplus = 72, .co_nlocals = 72,
     .co_localnames = 96, .co_consts = 24, .co_names = 32, .iframe_locals = 40, .iframe_func = 16, .iframe_frame_obj = 48, FUNC_3_10,
     .str_ascii_size = 40, .str_compact_size = 56},
    {.minor = 13, .ts_frame = 72, .f_code = 0, .f_back = 8, .f_instr = 56, .f_owner = 70,
     .f_is_entry = -1, .co_code_adaptive = 200, .co_firsttraceable = 184, .co_filename = 112,
     .co_name = 120, .co_firstlineno = 68, .ts_thread_id = 152, .gcstate_in = 7400,
     .ht_qualname = 872, .frame_localsplus = 72, .co_nlocals = 72, .co_localnames = 96, .co_consts = 24,
     .co_names = 32,
     .iframe_locals = 40, .iframe_func = 16, .iframe_frame_obj = 48, FUNC_3_10,
     .str_ascii_size = 40, .str_compact_size = 56},
};

static bool unsupported(const char *version, const char *why)
{
    char v[32];
    size_t n = strcspn(version, " ");
    snprintf(v, sizeof v, "%.*s", (int)(n < 20 ? n : 20), version);
    rs_log("Python %s is not supported (%s): Python allocation sites are not recorded, native "
           "tracking goes on", v, why);
    return false;
}

bool rs_py_api_init(void)
{
    SYM(Py_GetVersion, "Py_GetVersion");
    SYM(Py_IsInitialized, "Py_IsInitialized");
    if (!rs_py.Py_GetVersion || !rs_py.Py_IsInitialized)
        return false; /* not a Python process: stay out of its way */
    const char *version = rs_py.Py_GetVersion();
    int major = 0, minor = 0, micro = 0;
    if (sscanf(version, "%d.%d.%d", &major, &minor, &micro) < 2)
        return unsupported(version, "unrecognised version string");
    if (major != 3 || minor < 8 || minor > 13)
        return unsupported(version, "refscope supports CPython 3.8 to 3.13");
    if (dlsym(RTLD_DEFAULT, "_Py_MergeZeroLocalRefcount"))
        return unsupported(version, "free-threaded build");
    if (dlsym(RTLD_DEFAULT, "_Py_PrintReferences"))
        return unsupported(version, "--with-trace-refs build");
    if (dlsym(RTLD_DEFAULT, "_Py_NegativeRefcount") || dlsym(RTLD_DEFAULT, "_Py_RefTotal"))
        return unsupported(version, "debug build");
    rs_py_layout = layouts[minor - 8];
    rs_py_micro = micro;

    SYM(Py_IsFinalizing, minor >= 13 ? "Py_IsFinalizing" : "_Py_IsFinalizing");
    SYM(PyMem_GetAllocator, "PyMem_GetAllocator");
    SYM(PyMem_SetAllocator, "PyMem_SetAllocator");
    SYM(PyGILState_Ensure, "PyGILState_Ensure");
    SYM(PyGILState_Release, "PyGILState_Release");
    SYM(PyGILState_Check, "PyGILState_Check");
    SYM(PyGILState_GetThisThreadState, "PyGILState_GetThisThreadState");
    SYM(ThreadState_UncheckedGet, minor >= 13 ? "PyThreadState_GetUnchecked" : "_PyThreadState_UncheckedGet");
    SYM(PyEval_SaveThread, "PyEval_SaveThread");
    SYM(PyEval_RestoreThread, "PyEval_RestoreThread");
    SYM(PyImport_ImportModule, "PyImport_ImportModule");
    SYM(PyObject_GetAttrString, "PyObject_GetAttrString");
    SYM(PyObject_SetAttrString, "PyObject_SetAttrString");
    SYM(PyObject_CallFunctionObjArgs, "PyObject_CallFunctionObjArgs");
    SYM(PyObject_Call, "PyObject_Call");
    SYM(PyObject_Malloc, "PyObject_Malloc");
    SYM(PyObject_Free, "PyObject_Free");
    SYM(PyMem_Malloc, "PyMem_Malloc");
    SYM(PyMem_Free, "PyMem_Free");
    SYM(PyTuple_New, "PyTuple_New");
    SYM(PyDict_New, "PyDict_New");
    SYM(PyCFunction_NewEx, "PyCFunction_NewEx");
    SYM(Py_IncRef, "Py_IncRef");
    SYM(Py_DecRef, "Py_DecRef");
    SYM(PyCode_Addr2Line, "PyCode_Addr2Line");
    SYM(PyUnicode_AsUTF8AndSize, "PyUnicode_AsUTF8AndSize");
    SYM(PyBytes_AsStringAndSize, "PyBytes_AsStringAndSize");
    SYM(PyUnicode_FromString, "PyUnicode_FromString");
    SYM(PyList_Append, "PyList_Append");
    SYM(PyErr_Occurred, "PyErr_Occurred");
    SYM(PyErr_Clear, "PyErr_Clear");
    SYM(PyErr_Fetch, "PyErr_Fetch");
    SYM(PyErr_Restore, "PyErr_Restore");
    SYM(PyLong_AsUnsignedLongLong, "PyLong_AsUnsignedLongLong");
    SYM(PyLong_FromLong, "PyLong_FromLong");
    SYM(PyDict_Next, "PyDict_Next");
    SYM(PyDict_GetItemString, "PyDict_GetItemString");
    SYM(PyDict_SetItemString, "PyDict_SetItemString");
    SYM(PyModule_New, "PyModule_New");
    SYM(PyImport_AppendInittab, "PyImport_AppendInittab");
    SYM(PyModule_Create2, "PyModule_Create2");
    SYM(PyModule_AddFunctions, "PyModule_AddFunctions");
    SYM(PySys_GetObject, "PySys_GetObject");
    SYM(PyObject_GetIter, "PyObject_GetIter");
    SYM(PyIter_Next, "PyIter_Next");
    SYM(PyArg_ParseTuple, "PyArg_ParseTuple");
    SYM(Py_AddPendingCall, "Py_AddPendingCall");
    if (minor >= 12)
        SYM(PyEval_AddPendingCall_any, "_PyEval_AddPendingCall");
    SYM(PyInterpreterState_Main, "PyInterpreterState_Main");
    SYM(PyCode_Type, "PyCode_Type");
    SYM(Py_None, "_Py_NoneStruct");
    SYM(PyErr_SetString, "PyErr_SetString");
    SYM(PyExc_TypeError, "PyExc_TypeError");
    SYM(PyModule_Type, "PyModule_Type");
    SYM(PyFrame_Type, "PyFrame_Type");
    SYM(PyFunction_Type, "PyFunction_Type");
    SYM(PyMethod_Type, "PyMethod_Type");
    SYM(PyCell_Type, "PyCell_Type");
    SYM(PyDict_Type, "PyDict_Type");
    SYM(PyList_Type, "PyList_Type");
    SYM(PyTuple_Type, "PyTuple_Type");
    SYM(PyUnicode_Type, "PyUnicode_Type");
    SYM(PyBytes_Type, "PyBytes_Type");
    SYM(PyLong_Type, "PyLong_Type");
    SYM(PySet_Type, "PySet_Type");
    SYM(PyFrozenSet_Type, "PyFrozenSet_Type");
    SYM(PyFloat_Type, "PyFloat_Type");
    SYM(PyWeakref_RefType, "_PyWeakref_RefType");
    SYM(PyWeakref_ProxyType, "_PyWeakref_ProxyType");
    SYM(PyWeakref_CallableProxyType, "_PyWeakref_CallableProxyType");
    SYM(PyByteArray_Type, "PyByteArray_Type");
    SYM(PyTraceBack_Type, "PyTraceBack_Type");
    SYM(PyRuntime, "_PyRuntime");
    SYM(PyInterpreterState_ThreadHead, "PyInterpreterState_ThreadHead");
    SYM(PyThreadState_Next, "PyThreadState_Next");
    SYM(PyLong_AsLongLongAndOverflow, "PyLong_AsLongLongAndOverflow");

    void **fields = (void **)&rs_py;
    size_t nfields = sizeof rs_py / sizeof(void *);
    for (size_t i = 0; i < nfields; i++) {
        if (!fields[i] && &fields[i] != (void **)&rs_py.PyEval_AddPendingCall_any)
            return unsupported(version, "a C API function is missing");
    }
    return true;
}

bool rs_py_is_finalizing(void)
{
    return rs_py.Py_IsFinalizing && rs_py.Py_IsFinalizing();
}
