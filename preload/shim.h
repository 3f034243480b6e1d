/* State shared by the files of librefscope.so. Everything here runs inside other people's
 * programs: no locks on the allocation fast path, no allocation through the interposed
 * malloc while inside it, nothing that can block a fork or an exit for long. */
#ifndef REFSCOPE_SHIM_H
#define REFSCOPE_SHIM_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define RS_HIDDEN __attribute__((visibility("hidden")))
/* The interposed functions: the only symbols librefscope.so exports. */
#define RS_EXPORT __attribute__((visibility("default")))
#define RS_LIKELY(x) __builtin_expect(!!(x), 1)
#define RS_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* initial-exec: the default TLS model may call __tls_get_addr, which can allocate. */
#define RS_TLS __thread __attribute__((tls_model("initial-exec")))

enum rs_shim_state {
    RS_STATE_UNINIT = 0,  /* constructor not run yet: calls pass straight through */
    RS_STATE_ACTIVE,      /* recording */
    RS_STATE_INERT,       /* never records in this process (disabled, AT_SECURE, no output) */
    RS_STATE_FINISHED,    /* the trace has its END record; later events are not recorded */
};

/* Native frames kept per stack at most (REFSCOPE_STACK_DEPTH caps at this). */
#define RS_STACK_MAX_WORDS_NATIVE 256

/* REFSCOPE_UNWIND: how native stacks are taken (native_stack.c). */
enum rs_unwind_mode {
    RS_UNWIND_RULES = 0, /* cached .eh_frame rules, libunwind where they do not apply */
    RS_UNWIND_LIBUNWIND, /* libunwind for every stack */
    RS_UNWIND_CHECK,     /* both, compared; the differences are counted at exit */
};

struct rs_config {
    char output_template[4096];
    unsigned stack_depth;     /* native frames kept per stack */
    uint32_t ring_events;     /* slots per thread ring, a power of two */
    uint32_t max_stacks;      /* distinct stacks the in-process table can hold */
    bool drop_on_full;        /* a full ring drops events instead of waiting */
    bool native_stacks;
    bool verbose;
    bool python;              /* hook CPython when the process is one */
    bool python_native;       /* Python-domain allocations also get native frames */
    uint8_t unwind;           /* enum rs_unwind_mode */
    uint32_t snapshot_interval_ms; /* 0: no periodic snapshots */
    int snapshot_signal;      /* 0: none */
    uint32_t snapshot_gc_every; /* snapshot after every Kth full collection (0: never) */
    uint64_t sample_bytes;    /* mean bytes between sampled allocations (0: record all) */
    pid_t root_pid;           /* the process `refscope run` started (0: unknown) */
};

extern RS_HIDDEN struct rs_config rs_cfg;
extern RS_HIDDEN _Atomic int rs_state;
extern RS_HIDDEN pid_t rs_pid;                /* pid the trace belongs to */
extern RS_HIDDEN uint64_t rs_start_ns;        /* CLOCK_MONOTONIC at trace start */

/* Set while the shim itself runs on this thread: allocations it makes (or that libunwind,
 * dlsym, the writer make for it) are not recorded, and re-entry cannot recurse. */
extern RS_HIDDEN RS_TLS int rs_tl_busy;
/* Set on refscope's own threads, so reports can tell them from the program's. */
extern RS_HIDDEN RS_TLS bool rs_tl_shim_thread;
/* How many of refscope's own threads are running (writer, Python poller). */
extern RS_HIDDEN _Atomic int rs_shim_threads;

static inline uint64_t rs_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Every timestamp of the trace comes from rs_now_ns. When the kernel's clocksource is the
 * TSC (synchronized across CPUs, constant rate), it reads the TSC and maps it to
 * CLOCK_MONOTONIC nanoseconds with one fixed rate measured at start-up: a fixed linear
 * map keeps the order of events across threads, at a third of clock_gettime's cost. */
struct rs_clock {
    bool tsc;
    uint64_t tsc0, ns0;
    uint64_t mult; /* ns per tick, << 32 */
};
extern RS_HIDDEN struct rs_clock rs_clock;
RS_HIDDEN void rs_clock_init(void);

static inline uint64_t rs_now_ns(void)
{
    if (RS_LIKELY(rs_clock.tsc)) {
        uint64_t ticks = __builtin_ia32_rdtsc() - rs_clock.tsc0;
        return rs_clock.ns0 + (uint64_t)(((unsigned __int128)ticks * rs_clock.mult) >> 32);
    }
    return rs_monotonic_ns();
}

/* Set while a recorded higher-level allocator (CPython's PyObject/PyMem domains) calls
 * the allocator below it: the inner calls (libc malloc, arena mmap) are the same memory
 * and must not be counted twice. */
extern RS_HIDDEN RS_TLS int rs_tl_passthrough;

/* Allocations are recorded unless the shim itself (or something on its behalf) makes
 * them, or they are the inside of an allocation already recorded. */
static inline bool rs_recording(void)
{
    return RS_LIKELY(atomic_load_explicit(&rs_state, memory_order_relaxed) == RS_STATE_ACTIVE) &&
           !rs_tl_busy && !rs_tl_passthrough;
}

/* Frees are recorded even when the shim's own work causes them (a decref in the Python
 * resolver may free the program's object); only the inside of a recorded free, and the
 * shim's own blocks (owned_blocks.h), are not. */
static inline bool rs_recording_frees(void)
{
    return RS_LIKELY(atomic_load_explicit(&rs_state, memory_order_relaxed) == RS_STATE_ACTIVE) &&
           !rs_tl_passthrough;
}

/* config.c */
RS_HIDDEN void rs_config_load(void);

/* log.c: one-line diagnostics on stderr, written with write(2) (no stdio, no malloc). */
RS_HIDDEN void rs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Where rs_log writes: stderr, or the session's log file in attach mode (-1: nowhere). */
extern RS_HIDDEN int rs_log_fd;
RS_HIDDEN void rs_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
RS_HIDDEN int rs_format(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* sysmem.c: memory for the shim's own structures, straight from the kernel. */
RS_HIDDEN void *rs_sys_map(size_t bytes);
/* Backed by huge pages where the kernel has them on advice: for memory written in order
 * or soon used whole (a ring, the stack arena, the middle stack table), where a fault per
 * 4 kB page (10 us each measured in a VM) costs more than the writes. Not for sparse
 * tables, whose every touched huge page would be memory kept. */
RS_HIDDEN void *rs_sys_map_huge(size_t bytes);
RS_HIDDEN void rs_sys_advise_huge(void *p, size_t bytes);
#define RS_HUGE_PAGE ((size_t)2 << 20)
/* Mapped with every page already in: for a table probed (read) before it is written, whose
 * pages would each map the zero page first, then fault again on the first write and flush
 * the TLB of every CPU the process runs on. */
RS_HIDDEN void *rs_sys_map_touched(size_t bytes);
RS_HIDDEN void rs_sys_unmap(void *p, size_t bytes);
RS_HIDDEN pid_t rs_gettid(void);

/* record.c: the producer side used by every hook. */
/* hook_frame: the frame of the hook the program called (its __builtin_frame_address), where
 * a native stack starts; NULL: the walk steps over the shim's frames from its own. */
RS_HIDDEN void rs_record_alloc(uint8_t kind, const void *addr, uint64_t size, const void *hook_frame);
RS_HIDDEN void rs_record_free(uint8_t kind, const void *addr, uint64_t time);
RS_HIDDEN void rs_record_munmap(const void *addr, uint64_t length, uint64_t time);

/* lifecycle.c */
RS_HIDDEN void rs_finish(int end_reason);
RS_HIDDEN bool rs_in_foreign_process(void);

/* fatal_signals.c: crash signals whose action is the default get a handler that has the
 * rings written out before the signal kills the process. */
RS_HIDDEN void rs_fatal_signals_install(void);

#endif
