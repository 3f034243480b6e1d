/* Getting control inside the interpreter (notes/cpython.md §1): a thread polls
 * Py_IsInitialized, takes the GIL with PyGILState_Ensure and installs what needs Python:
 * an atexit callback (the last point with a working interpreter), a gc callback, an
 * at-fork child callback and the `refscope` module. Only builtin modules are touched:
 * the first callback runs while `site` is still importing. */
#define _GNU_SOURCE
#include "py_attach.h"

#include "attach.h"
#include "py_api.h"
#include "py_frames.h"
#include "py_hooks.h"
#include "py_module.h"
#include "py_resolve.h"
#include "py_snapshot.h"
#include "rs_trace_format.h"
#include "writer.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

RS_HIDDEN _Atomic bool rs_py_stacks_on;
/* Python-domain hooks walk frames from the start: their caller holds the GIL, and its
 * thread state is valid. libc allocations wait for the attach (rs_py_stacks_on):
 * PyGILState_GetThisThreadState is not safe before the interpreter is initialized. */
static _Atomic bool python_domain_stacks_on;
static bool python_present;
static _Atomic bool attached;
/* The thread that ran the constructor: the one that will initialize Python, normally. */
static pthread_t main_thread;
RS_HIDDEN _Atomic bool rs_py_attach_requested;
static _Atomic bool finalizing; /* our atexit callback has run */
static pthread_t poll_thread;
static _Atomic bool poll_thread_live;
static _Atomic bool poll_stop;
static uint64_t last_resolve_ns;
static _Atomic bool resolve_call_pending;
/* A new thread wants its Python name learnt while it lives (see rs_py_request_resolve). */
static _Atomic bool names_wanted;
/* Attach mode: a CPython refscope does not support (native-only), and why. */
static bool python_unsupported;
static char python_detail[120];
/* Attach mode: `refscope detach` has begun; the poll thread must not attach any more. */
static _Atomic bool detaching;

#define RESOLVE_EVERY_NS (100 * 1000 * 1000)

/* The thread state whose frames an allocation's stack comes from, NULL for none. Inlined:
 * it runs per recorded allocation, and most of its work was the call's (callgrind,
 * bench/py_churn.py 200000 on Debian's 3.11: 1,544M -> 1,509M instructions). */
__attribute__((always_inline)) static inline void *current_tstate(bool python_domain, bool *gil_held)
{
    if (python_domain) {
        *gil_held = true;
        if (!atomic_load_explicit(&python_domain_stacks_on, memory_order_relaxed))
            return NULL;
        return rs_py.ThreadState_UncheckedGet();
    }
    /* A libc allocation: this thread may not hold the GIL, but its own frames are stable
     * while it is inside a call. */
    if (!atomic_load_explicit(&rs_py_stacks_on, memory_order_relaxed))
        return NULL;
    void *tstate = rs_py.PyGILState_GetThisThreadState();
    *gil_held = tstate && rs_py.PyGILState_Check();
    return tstate;
}

uint32_t rs_py_capture_current(bool python_domain, uint64_t *words, uint32_t max_words)
{
    bool gil_held;
    void *tstate = current_tstate(python_domain, &gil_held);
    return tstate ? rs_py_capture(tstate, gil_held, words, max_words) : 0;
}

uint32_t rs_py_stack_id_current(bool python_domain, uint64_t *words, uint32_t max_words)
{
    bool gil_held;
    void *tstate = current_tstate(python_domain, &gil_held);
    return tstate ? rs_py_stack_id(tstate, gil_held, words, max_words) : RS_STACK_ID_NONE;
}

static PyObject *none(void)
{
    rs_py.Py_IncRef(rs_py.Py_None);
    return rs_py.Py_None;
}

static void stop_poll_thread_releasing_gil(void)
{
    if (!atomic_load(&poll_thread_live))
        return;
    atomic_store(&poll_stop, true);
    /* The poll thread may be waiting for the GIL we hold. */
    void *ts = rs_py.PyEval_SaveThread();
    pthread_join(poll_thread, NULL);
    rs_py.PyEval_RestoreThread(ts);
    atomic_store(&poll_thread_live, false);
}

/* atexit: runs at the start of Py_FinalizeEx, interpreter intact. */
static PyObject *on_atexit(PyObject *self, PyObject *unused)
{
    (void)self, (void)unused;
    if (atomic_exchange(&finalizing, true))
        return none();
    rs_tl_busy++;
    stop_poll_thread_releasing_gil();
    rs_writer_mark(RS_MARK_PROGRAM_END, "atexit");
    rs_py_resolve();
    rs_py_module_final_snapshot("exit");
    /* Python frames are no longer walked: finalization tears down what they point to. */
    atomic_store(&rs_py_stacks_on, false);
    atomic_store(&python_domain_stacks_on, false);
    rs_writer_sync();
    rs_tl_busy--;
    return none();
}

/* gc.callbacks: a cheap, frequent, safe point with the GIL held in allocation-heavy
 * programs. */
static PyObject *on_gc(PyObject *self, PyObject *args)
{
    (void)self, (void)args;
    if (atomic_load(&finalizing))
        return none(); /* gc.callbacks fire once more during finalization */
    rs_tl_busy++;
    rs_py_module_after_gc(args);
    uint64_t now = rs_now_ns();
    /* a collection runs in the thread that allocates: often the new thread itself, and
     * before 3.12 pending calls only ever run on the main thread */
    if (atomic_exchange(&names_wanted, false) || now - last_resolve_ns > RESOLVE_EVERY_NS) {
        last_resolve_ns = now;
        rs_py_resolve();
    }
    rs_tl_busy--;
    return none();
}

static PyObject *on_fork_child(PyObject *self, PyObject *unused)
{
    (void)self, (void)unused;
    rs_tl_busy++;
    rs_py_resolve();
    rs_tl_busy--;
    return none();
}

static int resolve_pending_call(void *unused)
{
    (void)unused;
    atomic_store(&resolve_call_pending, false);
    if (!atomic_load(&finalizing) && atomic_load(&rs_state) == RS_STATE_ACTIVE) {
        rs_tl_busy++;
        rs_py_resolve();
        rs_tl_busy--;
    }
    return 0;
}

/* Asks for a resolution soon from a point where Python cannot run (an allocator hook
 * seeing a new thread, say): a pending call runs between bytecodes. Never once
 * finalization may have started (pending calls then crash 3.8-3.12). */
RS_HIDDEN void rs_py_request_resolve(void)
{
    if (!atomic_load(&attached) || atomic_load(&finalizing) || rs_py_is_finalizing())
        return;
    atomic_store(&names_wanted, true);
    if (atomic_exchange(&resolve_call_pending, true))
        return;
    int rc;
    if (rs_py.PyEval_AddPendingCall_any && rs_py.PyInterpreterState_Main)
        rc = rs_py.PyEval_AddPendingCall_any(rs_py.PyInterpreterState_Main(), resolve_pending_call, NULL, 0);
    else
        rc = rs_py.Py_AddPendingCall(resolve_pending_call, NULL);
    if (rc != 0)
        atomic_store(&resolve_call_pending, false);
}

static PyMethodDef atexit_def = {"_refscope_atexit", on_atexit, RS_METH_NOARGS, NULL};
static PyMethodDef gc_def = {"_refscope_gc_callback", on_gc, RS_METH_VARARGS, NULL};
static PyMethodDef fork_def = {"_refscope_after_fork_child", on_fork_child, RS_METH_NOARGS, NULL};

enum how { CALL, APPEND, CALL_KEYWORD };

/* module.attr(fn), module.attr.append(fn) or module.attr(keyword=fn). false on failure
 * (the Python error is cleared: the program must never see one of ours). */
static bool register_callable(const char *module, const char *attr, enum how how, PyMethodDef *def,
                              const char *keyword)
{
    bool ok = false;
    PyObject *mod = rs_py.PyImport_ImportModule(module);
    PyObject *fn = rs_py.PyCFunction_NewEx(def, NULL, NULL);
    PyObject *target = mod ? rs_py.PyObject_GetAttrString(mod, attr) : NULL;
    if (fn && target) {
        if (how == APPEND) {
            ok = rs_py.PyList_Append(target, fn) == 0;
        } else {
            PyObject *args = NULL, *kw = NULL, *r = NULL;
            if (how == CALL) {
                r = rs_py.PyObject_CallFunctionObjArgs(target, fn, NULL);
            } else if ((args = rs_py.PyTuple_New(0)) && (kw = rs_py.PyDict_New()) &&
                       rs_py.PyDict_SetItemString(kw, keyword, fn) == 0) {
                r = rs_py.PyObject_Call(target, args, kw);
            }
            ok = r != NULL;
            if (r)
                rs_py.Py_DecRef(r);
            if (args)
                rs_py.Py_DecRef(args);
            if (kw)
                rs_py.Py_DecRef(kw);
        }
    }
    if (!ok) {
        rs_py.PyErr_Clear();
        rs_log("could not register with %s.%s; some Python support is missing", module, attr);
    }
    if (target)
        rs_py.Py_DecRef(target);
    if (fn)
        rs_py.Py_DecRef(fn);
    if (mod)
        rs_py.Py_DecRef(mod);
    return ok;
}

/* GIL held, from the poll thread. */
static void attach(void)
{
    rs_tl_busy++;
    if (rs_attach_mode)
        rs_py_hooks_ensure(); /* the interpreter runs: only now, with the GIL held */
    else if (rs_py_hooks_verify())
        rs_debug("Python replaced the allocator hooks at start-up (PYTHONMALLOC/-X dev): chained again");
    rs_py_emit_interpreter();
    register_callable("atexit", "register", CALL, &atexit_def, NULL);
    register_callable("gc", "callbacks", APPEND, &gc_def, NULL);
    /* attached, a fork child is not traced (attach.h): nothing to do in it, and an at-fork
     * callback could not be unregistered at detach */
    if (!rs_attach_mode)
        register_callable("posix", "register_at_fork", CALL_KEYWORD, &fork_def, "after_in_child");
    rs_py_module_install();
    atomic_store(&rs_py_stacks_on, true);
    atomic_store(&attached, true);
    rs_py_resolve();
    rs_tl_busy--;
}

static int attach_pending_call(void *unused)
{
    (void)unused;
    if (!atomic_load(&attached) && !atomic_load(&finalizing) && !rs_py_is_finalizing() &&
        atomic_load(&rs_state) == RS_STATE_ACTIVE)
        attach();
    return 0;
}

/* From a PyObject/PyMem hook (GIL held). Once the interpreter is initialized, the main
 * thread asks itself, through a pending call, to attach between two bytecodes: a safe
 * point, and a prompt one on every version (3.9-3.12 only delay pending calls added by
 * other threads). The poll thread remains for interpreters started elsewhere. */
void rs_py_request_attach(void)
{
    if (!pthread_equal(pthread_self(), main_thread) || !rs_py.Py_IsInitialized() ||
        rs_py_is_finalizing() || atomic_exchange(&rs_py_attach_requested, true))
        return;
    if (rs_py.Py_AddPendingCall(attach_pending_call, NULL) != 0)
        atomic_store(&rs_py_attach_requested, false);
}

static void poll_thread_done(void *unused)
{
    (void)unused;
    atomic_fetch_sub(&rs_shim_threads, 1);
}

/* How long the poll thread leaves the main thread to attach by itself. */
#define ATTACH_GRACE_NS (200 * 1000 * 1000)

static void *poll_main(void *unused)
{
    (void)unused;
    rs_tl_busy = 1;
    rs_tl_shim_thread = true;
    atomic_fetch_add(&rs_shim_threads, 1);
    /* counted down even if PyGILState_Ensure ends this thread (it does during
     * finalization) */
    pthread_cleanup_push(poll_thread_done, NULL);
    prctl(PR_SET_NAME, "refscope-python", 0, 0, 0);
    /* 1 ms at first (the interpreter starts in milliseconds), slower for programs that
     * initialize Python late, if ever; then a grace period for the main thread's own
     * attach, which is safer than taking the GIL from here. */
    uint64_t initialized_at = 0;
    for (unsigned i = 0; !atomic_load(&poll_stop) && !atomic_load(&attached); i++) {
        if (!initialized_at && rs_py.Py_IsInitialized())
            initialized_at = rs_now_ns();
        /* attached to a running interpreter, no hook of ours runs on the main thread */
        if (initialized_at && (rs_attach_mode || rs_now_ns() - initialized_at > ATTACH_GRACE_NS))
            break;
        struct timespec ts = {0, i < 1000 ? 1000 * 1000 : 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!atomic_load(&poll_stop) && !atomic_load(&attached) && !rs_py_is_finalizing() &&
        atomic_load(&rs_state) == RS_STATE_ACTIVE) {
        int gil = rs_py.PyGILState_Ensure();
        if (!atomic_load(&finalizing) && !atomic_load(&attached) && !rs_py_is_finalizing() &&
            !atomic_load(&detaching) && atomic_load(&rs_state) == RS_STATE_ACTIVE)
            attach();
        rs_py.PyGILState_Release(gil);
    }
    if (atomic_load(&attached))
        rs_py_module_poll_loop(&poll_stop);
    pthread_cleanup_pop(1);
    return NULL;
}

static void start_poll_thread(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    atomic_store(&poll_stop, false);
    if (pthread_create(&poll_thread, NULL, poll_main, NULL) == 0)
        atomic_store(&poll_thread_live, true);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void rs_py_init(void)
{
    if (!rs_cfg.python)
        return;
    if (!rs_py_api_init()) {
        if (rs_py.Py_GetVersion) {
            const char *v = rs_py.Py_GetVersion();
            python_unsupported = true;
            rs_format(python_detail, sizeof python_detail,
                      "CPython %.*s is not supported (refscope supports CPython 3.8 to 3.13, "
                      "default builds)", (int)strcspn(v, " "), v);
        }
        return;
    }
    if (!rs_py_frames_init() || !rs_py_resolve_init()) {
        rs_log("cannot map Python tables: Python allocation sites are not recorded");
        python_unsupported = true;
        rs_format(python_detail, sizeof python_detail, "out of memory for refscope's Python tables");
        return;
    }
    python_present = true;
    main_thread = pthread_self();
    if (rs_attach_mode) {
        /* The interpreter is running: hooks go in from the poll thread, GIL held. No
         * allocator hook may ask for the preload-mode attach. */
        atomic_store(&rs_py_attach_requested, true);
        if (rs_cfg.snapshot_signal)
            rs_log("REFSCOPE_SNAPSHOT_SIGNAL is ignored when attached: use refscope snapshot");
        rs_cfg.snapshot_signal = 0;
        const char *v = rs_py.Py_GetVersion();
        rs_format(python_detail, sizeof python_detail, "CPython %.*s", (int)strcspn(v, " "), v);
    } else {
        rs_py_hooks_install();
        rs_py_module_register();
    }
    atomic_store(&python_domain_stacks_on, true);
    start_poll_thread();
}

void rs_py_before_finish(int reason)
{
    if (!python_present || !atomic_load(&attached) || atomic_load(&finalizing))
        return;
    /* os._exit() (multiprocessing's fork children end so): Python is intact and this
     * thread holds the GIL, called from Python code, not from inside a hook. */
    if (reason == RS_END__EXIT && rs_py.Py_IsInitialized() && !rs_py_is_finalizing() &&
        rs_py.PyGILState_Check()) {
        atomic_store(&finalizing, true);
        rs_tl_busy++;
        rs_writer_mark(RS_MARK_PROGRAM_END, "_exit");
        rs_py_resolve();
        rs_py_module_final_snapshot("_exit");
        rs_tl_busy--;
    }
    atomic_store(&rs_py_stacks_on, false);
    atomic_store(&python_domain_stacks_on, false);
}

void rs_py_after_fork_child(void)
{
    if (!python_present)
        return;
    main_thread = pthread_self(); /* the forking thread is the child's only one */
    atomic_store(&resolve_call_pending, false);
    /* The poll thread does not exist here: start it again if it still has work. */
    bool was_live = atomic_exchange(&poll_thread_live, false);
    if ((was_live && !atomic_load(&attached)) || (atomic_load(&attached) && rs_py_module_wants_poll_thread()))
        start_poll_thread();
}

/* ---- attach mode (attach.h) ---------------------------------------------------------- */

int rs_py_attach_state(const char **detail)
{
    *detail = python_detail[0] ? python_detail : NULL;
    if (!python_present)
        return python_unsupported ? RS_PYA_UNSUPPORTED : RS_PYA_NONE;
    if (atomic_load(&finalizing) || atomic_load(&detaching) || rs_py_is_finalizing())
        return RS_PYA_ENDED;
    return atomic_load(&attached) ? RS_PYA_ATTACHED : RS_PYA_PENDING;
}

static bool usable(void)
{
    return atomic_load(&attached) && !atomic_load(&finalizing) && !atomic_load(&detaching) &&
           !rs_py_is_finalizing() && atomic_load(&rs_state) == RS_STATE_ACTIVE;
}

/* How long a snapshot request waits for refscope's own Python work (a resolve, another
 * snapshot) that let the GIL go half-way. */
#define SNAPSHOT_WAIT_NS (2 * 1000 * 1000 * 1000ull)

bool rs_py_attach_snapshot(const char *label)
{
    if (!python_present || !usable())
        return false;
    bool ok = false;
    uint64_t deadline = rs_monotonic_ns() + SNAPSHOT_WAIT_NS;
    for (;;) {
        int gil = rs_py.PyGILState_Ensure();
        /* Just after the attach, refscope's own Python work (the first resolve, most
         * likely) was found to have let the GIL go half-way, and this thread got it: the
         * snapshot found that work in progress and gave up (attach.python_service failed
         * so about one batch of its seven tests in five). Wait for it instead. */
        bool busy = rs_py_work_in_progress;
        if (!busy && usable()) {
            rs_tl_busy++;
            rs_writer_mark(RS_MARK_SNAPSHOT_REQUEST, label);
            rs_py_resolve();
            ok = rs_py_snapshot(RS_SNAP_ATTACH, label);
            rs_tl_busy--;
        }
        rs_py.PyGILState_Release(gil);
        if (!busy || !usable() || rs_monotonic_ns() > deadline)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (ok)
        rs_writer_sync();
    return ok;
}

/* module.attr(fn), or module.attr.method(fn): undoes a register_callable. */
static bool unregister_callable(const char *module, const char *attr, const char *method, PyMethodDef *def)
{
    bool ok = false;
    PyObject *mod = rs_py.PyImport_ImportModule(module);
    PyObject *fn = rs_py.PyCFunction_NewEx(def, NULL, NULL); /* equal to the registered one */
    PyObject *holder = mod ? rs_py.PyObject_GetAttrString(mod, attr) : NULL;
    PyObject *target = holder && method ? rs_py.PyObject_GetAttrString(holder, method) : NULL;
    PyObject *call = method ? target : holder;
    if (fn && call) {
        PyObject *r = rs_py.PyObject_CallFunctionObjArgs(call, fn, NULL);
        ok = r != NULL;
        if (r)
            rs_py.Py_DecRef(r);
    }
    if (!ok)
        rs_py.PyErr_Clear();
    if (target)
        rs_py.Py_DecRef(target);
    if (holder)
        rs_py.Py_DecRef(holder);
    if (fn)
        rs_py.Py_DecRef(fn);
    if (mod)
        rs_py.Py_DecRef(mod);
    return ok;
}

void rs_py_attach_detach(char *out, size_t cap)
{
    out[0] = 0;
    if (!python_present)
        return;
    if (!atomic_load(&attached) || atomic_load(&finalizing) || rs_py_is_finalizing()) {
        atomic_store(&detaching, true);
        return;
    }
    int gil = rs_py.PyGILState_Ensure();
    /* under the GIL: the poll thread's attach and this cannot interleave */
    atomic_store(&detaching, true);
    if (atomic_load(&attached) && !atomic_load(&finalizing)) {
        rs_tl_busy++;
        rs_py_resolve();
        bool restored = rs_py_hooks_uninstall();
        bool callbacks = unregister_callable("atexit", "unregister", NULL, &atexit_def) &
                         unregister_callable("gc", "callbacks", "remove", &gc_def);
        atomic_store(&rs_py_stacks_on, false);
        atomic_store(&python_domain_stacks_on, false);
        rs_tl_busy--;
        rs_format(out, cap, "%s%s",
                  restored ? "Python allocators restored"
                           : "Python allocators left passing through (a hook installed after "
                             "refscope's is above them)",
                  callbacks ? "" : "; a Python callback could not be unregistered (it does nothing now)");
    }
    rs_py.PyGILState_Release(gil);
}

void rs_py_attach_stop_thread(void)
{
    if (!atomic_load(&poll_thread_live))
        return;
    atomic_store(&poll_stop, true);
    /* It may still wait for the GIL: not forever. A thread not joined ends by itself. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    if (pthread_timedjoin_np(poll_thread, NULL, &deadline) == 0)
        atomic_store(&poll_thread_live, false);
}

void rs_py_attach_after_fork_child(void)
{
    /* the poll thread does not exist here; it must never be joined */
    atomic_store(&poll_thread_live, false);
    atomic_store(&resolve_call_pending, false);
}

void rs_py_attach_again(void)
{
    if (!python_present || atomic_load(&finalizing) || rs_py_is_finalizing())
        return;
    if (atomic_load(&poll_thread_live)) {
        rs_py_attach_stop_thread(); /* the last one was still waiting for the GIL */
        if (atomic_load(&poll_thread_live)) {
            rs_log("the Python thread of the last session has not ended: Python is not tracked");
            return;
        }
    }
    atomic_store(&attached, false);
    atomic_store(&detaching, false);
    atomic_store(&resolve_call_pending, false);
    atomic_store(&python_domain_stacks_on, true);
    rs_py_snapshot_new_trace();
    start_poll_thread();
}
