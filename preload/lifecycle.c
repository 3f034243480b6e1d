/* Start-up, fork and shutdown of the shim. */
#define _GNU_SOURCE
#include "shim.h"

#include "attach.h"
#include "modules.h"
#include "owned_blocks.h"
#include "python/py_attach.h"
#include "rs_trace_format.h"
#include "ring.h"
#include "sampling.h"
#include "stack_table.h"
#include "writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

RS_HIDDEN _Atomic int rs_state;
RS_HIDDEN pid_t rs_pid;
RS_HIDDEN uint64_t rs_start_ns;
RS_HIDDEN RS_TLS int rs_tl_busy;
RS_HIDDEN RS_TLS int rs_tl_passthrough;
RS_HIDDEN RS_TLS bool rs_tl_shim_thread;
RS_HIDDEN _Atomic int rs_shim_threads;

RS_HIDDEN void rs_malloc_hooks_init(void);

/* A vfork child (or a raw clone) shares or copies our memory without passing through the
 * fork handlers: it must leave the parent's trace alone. */
bool rs_in_foreign_process(void)
{
    return getpid() != rs_pid;
}

void rs_finish(int end_reason)
{
    rs_py_before_finish(end_reason);
    rs_native_stack_report();
    rs_writer_finish(end_reason);
}

static void before_fork(void)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE || rs_in_foreign_process())
        return;
    rs_tl_busy++;
    rs_writer_before_fork();
    rs_tl_busy--;
}

static void after_fork_parent(void)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE || rs_in_foreign_process())
        return;
    rs_writer_after_fork_parent();
}

static void after_fork_child(void)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE)
        return;
    rs_tl_busy++;
    if (rs_attach_mode) {
        rs_attach_after_fork_child();
        rs_tl_busy--;
        return;
    }
    rs_pid = getpid();
    rs_start_ns = rs_now_ns();
    rs_ring_after_fork_child();
    rs_stack_table_after_fork_child();
    rs_modules_after_fork_child();
    rs_writer_after_fork_child();
    rs_py_after_fork_child();
    rs_tl_busy--;
}

__attribute__((constructor(101))) static void rs_init(void)
{
    rs_malloc_hooks_init();
    /* setuid/setgid/capability programs: the environment is the caller's, not to be
     * trusted to choose where this process writes. */
    if (getauxval(AT_SECURE)) {
        atomic_store(&rs_state, RS_STATE_INERT);
        return;
    }
    rs_attach_early();
    rs_tl_busy++;
    rs_config_load();
    const char *disable = getenv("REFSCOPE_DISABLE");
    if (disable && *disable && *disable != '0') {
        atomic_store(&rs_state, RS_STATE_INERT);
        rs_tl_busy--;
        return;
    }
    rs_pid = getpid();
    rs_clock_init();
    rs_start_ns = rs_now_ns();
    rs_ring_parking_init();
    rs_modules_init();
    rs_owned_init();
    if (rs_cfg.native_stacks)
        rs_native_stack_init();
    if (rs_cfg.sample_bytes && !rs_sampling_init(rs_cfg.sample_bytes)) {
        rs_log("cannot map the sampling tables: every allocation is recorded");
        rs_cfg.sample_bytes = 0;
    }
    if (!rs_stack_table_init(rs_cfg.max_stacks))
        rs_log("cannot map the stack table: stacks are not recorded");
    if (!rs_writer_open(false)) {
        atomic_store(&rs_state, RS_STATE_INERT);
        rs_tl_busy--;
        return;
    }
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    atomic_store(&rs_state, RS_STATE_ACTIVE);
    rs_debug("tracing pid %d into %s", (int)rs_pid, rs_writer_path());
    rs_writer_start_thread();
    rs_fatal_signals_install();
    rs_py_init();
    if (rs_attach_mode)
        rs_attach_start();
    rs_tl_busy--;
}

__attribute__((destructor)) static void rs_fini(void)
{
    if (!rs_in_foreign_process())
        rs_finish(RS_END_EXIT);
}
