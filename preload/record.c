/* The producer path shared by every hook: capture the stack, stamp the time, push one event
 * into the calling thread's ring. */
#include "python/py_attach.h"
#include "ring.h"
#include "sampling.h"
#include "rs_trace_format.h"
#include "stack_table.h"
#include "writer.h"

RS_HIDDEN _Atomic uint64_t rs_ringless_drops;

/* Always inlined: left to itself, GCC made it a call of its own once rs_record_free lost
 * its errno save (bench/native_churn.c 1M pairs: 738.7M instructions against 696.2M inlined). */
static inline __attribute__((always_inline)) void push(struct rs_ring *r, uint8_t tag, uint64_t time,
                                                       const void *addr, uint64_t size, uint32_t stack)
{
    if (RS_UNLIKELY(!r)) {
        atomic_fetch_add_explicit(&rs_ringless_drops, 1, memory_order_relaxed);
        return;
    }
    rs_writer_maybe_restart(time);
    rs_ring_push(r, tag, time, (uint64_t)(uintptr_t)addr, size, stack);
    rs_event_pushed(r);
}

void rs_record_alloc(uint8_t kind, const void *addr, uint64_t size, const void *hook_frame)
{
    uint8_t tag = RS_TAG_ALLOC;
    struct rs_ring *ring;
    if (rs_cfg.sample_bytes) {
        /* decided before any other work: most allocations are not sampled */
        rs_tl_busy++;
        ring = rs_ring_current();
        rs_tl_busy--;
        if (!ring || !rs_sample_alloc(ring, addr, size))
            return;
        tag = RS_TAG_SAMPLED_ALLOC;
    }
    int saved_errno = errno;
    rs_tl_busy++;
    ring = rs_ring_current();
    bool python_domain = kind == RS_ALLOC_PY_OBJ || kind == RS_ALLOC_PY_MEM;
    uint64_t words[RS_STACK_MAX_WORDS];
    uint32_t n = 0;
    /* Native frames for Python-domain allocations only on request: unwinding through the
     * eval loop costs far more than the allocation itself. */
    bool native_stack = rs_cfg.native_stacks && (!python_domain || rs_cfg.python_native);
    /* Tested here, not only inside: in a program without Python the call was 2 % of
     * native full tracking. */
    bool python_stack = python_domain || atomic_load_explicit(&rs_py_stacks_on, memory_order_relaxed);
    uint32_t stack;
    if (native_stack && !python_stack) {
        stack = rs_native_stack_id(ring, words, rs_cfg.stack_depth, kind != RS_ALLOC_MMAP, hook_frame);
    } else {
        if (native_stack)
            n = rs_native_stack_capture(ring, words, rs_cfg.stack_depth, kind != RS_ALLOC_MMAP, hook_frame);
        uint32_t py_room = RS_STACK_MAX_WORDS - n;
        if (py_room > 2 * rs_cfg.stack_depth)
            py_room = 2 * rs_cfg.stack_depth;
        if (python_stack && n == 0) {
            stack = rs_py_stack_id_current(python_domain, words, py_room);
        } else {
            if (python_stack)
                n += rs_py_capture_current(python_domain, words + n, py_room);
            stack = rs_stack_intern(ring, words, n);
        }
    }
    /* A new Python thread: learn its name while it lives. Asked twice, because a thread
     * allocates before threading registers it (Thread._bootstrap_inner). */
    if (python_domain && ring && ring->python_allocs < 1000 && (++ring->python_allocs == 1 || ring->python_allocs == 200))
        rs_py_request_resolve();
    push(ring, (uint8_t)(tag | kind), rs_event_time(ring), addr, size, stack);
    rs_tl_busy--;
    errno = saved_errno;
}

/* errno: nothing on this path sets it but the out-of-line slow ones (a ring claimed, a
 * full ring waited for, the writer restarted), which give the program's back themselves:
 * saving it here was 7 instructions a free (callgrind, bench/native_churn.c 1M pairs:
 * 703.2M -> 696.2M; Debian 3.11 bench/py_churn.py 100000: 789.7M -> 786.0M). */
void rs_record_free(uint8_t kind, const void *addr, uint64_t time)
{
    rs_tl_busy++;
    struct rs_ring *ring = rs_ring_current();
    if (!time)
        time = rs_event_time(ring); /* only now: most frees are not recorded when sampling */
    push(ring, (uint8_t)(RS_TAG_FREE | kind), time, addr, 0, RS_STACK_ID_NONE);
    rs_tl_busy--;
}

void rs_record_munmap(const void *addr, uint64_t length, uint64_t time)
{
    int saved_errno = errno;
    rs_tl_busy++;
    push(rs_ring_current(), RS_TAG_MUNMAP, time, addr, length, RS_STACK_ID_NONE);
    rs_tl_busy--;
    errno = saved_errno;
}
