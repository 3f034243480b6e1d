/* The slice of the CPython C API the shim uses, resolved at run time with dlsym (the
 * library never links libpython: one binary serves 3.8 to 3.13, shared and static builds),
 * plus the per-version layout of the interpreter structures it reads directly. */
#ifndef REFSCOPE_PY_API_H
#define REFSCOPE_PY_API_H

#include "shim.h"

typedef struct rs_pyobject PyObject; /* opaque: fields are read through layout offsets */
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);

typedef struct {
    const char *ml_name;
    PyCFunction ml_meth;
    int ml_flags;
    const char *ml_doc;
} PyMethodDef;
#define RS_METH_VARARGS 0x0001
#define RS_METH_NOARGS 0x0004
#define RS_METH_O 0x0008
#define RS_METH_FASTCALL 0x0080

typedef struct {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
    void *(*realloc)(void *ctx, void *ptr, size_t new_size);
    void (*free)(void *ctx, void *ptr);
} PyMemAllocatorEx;
enum { RS_PYMEM_DOMAIN_RAW = 0, RS_PYMEM_DOMAIN_MEM = 1, RS_PYMEM_DOMAIN_OBJ = 2 };

struct rs_py_api {
    const char *(*Py_GetVersion)(void);
    int (*Py_IsInitialized)(void);
    int (*Py_IsFinalizing)(void); /* _Py_IsFinalizing before 3.13 */
    void (*PyMem_GetAllocator)(int, PyMemAllocatorEx *);
    void (*PyMem_SetAllocator)(int, PyMemAllocatorEx *);
    int (*PyGILState_Ensure)(void);
    void (*PyGILState_Release)(int);
    int (*PyGILState_Check)(void);
    void *(*PyGILState_GetThisThreadState)(void);
    void *(*ThreadState_UncheckedGet)(void); /* _PyThreadState_UncheckedGet / PyThreadState_GetUnchecked */
    void *(*PyEval_SaveThread)(void);
    void (*PyEval_RestoreThread)(void *);
    PyObject *(*PyImport_ImportModule)(const char *);
    PyObject *(*PyObject_GetAttrString)(PyObject *, const char *);
    int (*PyObject_SetAttrString)(PyObject *, const char *, PyObject *);
    PyObject *(*PyObject_CallFunctionObjArgs)(PyObject *, ...);
    PyObject *(*PyObject_Call)(PyObject *, PyObject *, PyObject *);
    void *(*PyObject_Malloc)(size_t);
    void (*PyObject_Free)(void *);
    void *(*PyMem_Malloc)(size_t);
    void (*PyMem_Free)(void *);
    PyObject *(*PyTuple_New)(ssize_t);
    PyObject *(*PyDict_New)(void);
    PyObject *(*PyCFunction_NewEx)(PyMethodDef *, PyObject *, PyObject *);
    void (*Py_IncRef)(PyObject *);
    void (*Py_DecRef)(PyObject *);
    int (*PyCode_Addr2Line)(PyObject *, int);
    const char *(*PyUnicode_AsUTF8AndSize)(PyObject *, ssize_t *);
    int (*PyBytes_AsStringAndSize)(PyObject *, char **, ssize_t *);
    PyObject *(*PyUnicode_FromString)(const char *);
    int (*PyList_Append)(PyObject *, PyObject *);
    PyObject *(*PyErr_Occurred)(void);
    void (*PyErr_Clear)(void);
    void (*PyErr_Fetch)(PyObject **, PyObject **, PyObject **);
    void (*PyErr_Restore)(PyObject *, PyObject *, PyObject *);
    unsigned long long (*PyLong_AsUnsignedLongLong)(PyObject *);
    PyObject *(*PyLong_FromLong)(long);
    int (*PyDict_Next)(PyObject *, ssize_t *, PyObject **, PyObject **);
    PyObject *(*PyDict_GetItemString)(PyObject *, const char *);
    int (*PyDict_SetItemString)(PyObject *, const char *, PyObject *);
    PyObject *(*PyModule_New)(const char *);
    int (*PyImport_AppendInittab)(const char *, PyObject *(*)(void));
    PyObject *(*PyModule_Create2)(void *def, int api_version);
    int (*PyModule_AddFunctions)(PyObject *, PyMethodDef *);
    PyObject *(*PySys_GetObject)(const char *);
    PyObject *(*PyObject_GetIter)(PyObject *);
    PyObject *(*PyIter_Next)(PyObject *);
    int (*PyArg_ParseTuple)(PyObject *, const char *, ...);
    int (*Py_AddPendingCall)(int (*)(void *), void *);
    int (*PyEval_AddPendingCall_any)(void *interp, int (*)(void *), void *, int); /* 3.12+ */
    void *(*PyInterpreterState_Main)(void);
    PyObject *PyCode_Type;
    PyObject *Py_None;
    void (*PyErr_SetString)(PyObject *, const char *);
    PyObject **PyExc_TypeError;
    /* for snapshots */
    PyObject *PyModule_Type, *PyFrame_Type, *PyFunction_Type, *PyMethod_Type, *PyCell_Type,
        *PyDict_Type, *PyList_Type, *PyTuple_Type, *PyUnicode_Type, *PyBytes_Type, *PyLong_Type,
        *PySet_Type, *PyFrozenSet_Type, *PyFloat_Type, *PyWeakref_RefType, *PyWeakref_ProxyType,
        *PyWeakref_CallableProxyType, *PyByteArray_Type, *PyTraceBack_Type;
    char *PyRuntime; /* _PyRuntime */
    void *(*PyInterpreterState_ThreadHead)(void *);
    void *(*PyThreadState_Next)(void *);
    long long (*PyLong_AsLongLongAndOverflow)(PyObject *, int *);
};

/* Offsets into interpreter structures for the running version (notes/cpython.md §3.2). */
struct rs_py_layout {
    int minor;                /* 8..13 */
    /* thread state -> innermost frame */
    unsigned ts_frame;        /* 3.8-3.10 tstate->frame, 3.13 tstate->current_frame */
    unsigned ts_cframe;       /* 3.11/3.12: tstate->cframe */
    unsigned cframe_current;  /* 3.11/3.12: cframe->current_frame */
    /* frames */
    unsigned f_code;          /* code (or f_executable) */
    unsigned f_back;          /* previous */
    unsigned f_instr;         /* 3.8-3.10 f_lasti (int), 3.11+ instruction pointer */
    unsigned lasti_scale;     /* 3.8-3.9: 1 (bytes), 3.10: 2 (code units) */
    int f_owner;              /* 3.11+: owner byte; -1 before */
    int f_is_entry;           /* 3.11: is_entry byte; -1 otherwise */
    /* code objects */
    unsigned co_code_adaptive;
    unsigned co_firsttraceable;
    unsigned co_filename;
    unsigned co_name;
    unsigned co_firstlineno;
    /* snapshots (measured with offsetof against each version's headers) */
    unsigned ts_thread_id;      /* PyThreadState.thread_id (pthread ident) */
    unsigned gcstate_in;        /* 3.8: offset of gc state in _PyRuntime; 3.9+: in the interpreter */
    unsigned ht_qualname;       /* PyHeapTypeObject.ht_qualname; ht_cached_keys follows */
    unsigned frame_localsplus;  /* 3.8-3.10 PyFrameObject.f_localsplus; 3.11+ interpreter frame */
    unsigned co_nlocals;        /* 3.8-3.10: int co_nlocals; 3.11+: int co_nlocalsplus */
    unsigned co_localnames;     /* 3.8-3.10: co_varnames; 3.11+: co_localsplusnames */
    unsigned co_consts, co_names;
    int iframe_locals;          /* 3.11+: f_locals of an interpreter frame; -1 before */
    int iframe_func;            /* 3.11+: f_func / f_funcobj */
    int iframe_frame_obj;       /* 3.11+: frame_obj */
    unsigned func_code, func_globals, func_defaults, func_kwdefaults, func_closure, func_dict,
        func_module, func_qualname;
    unsigned str_ascii_size;    /* sizeof(PyASCIIObject) */
    unsigned str_compact_size;  /* sizeof(PyCompactUnicodeObject) */
};

extern RS_HIDDEN struct rs_py_api rs_py;
extern RS_HIDDEN struct rs_py_layout rs_py_layout;
extern RS_HIDDEN int rs_py_micro;

/* Resolves the API and picks the layout. false when this is not a CPython process, or one
 * the shim does not support (after one line on stderr). */
RS_HIDDEN bool rs_py_api_init(void);
RS_HIDDEN bool rs_py_is_finalizing(void);

#define RS_PY_TYPE(o) (*(PyObject **)((char *)(o) + 8))
#define RS_PY_REFCNT(o) (*(ssize_t *)(o))

#endif
