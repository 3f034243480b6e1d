#include "writer.h"

#include "modules.h"
#include "output.h"
#include "ring.h"
#include "sampling.h"
#include "rs_trace_encode.h"
#include "stack_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Events per chunk: bounds what a trace cut short can lose to one chunk's worth. */
#define EVENTS_PER_CHUNK 16384
/* A round writes what it has gathered once the buffer holds this much. */
#define FLUSH_AT (4u << 20)
#define IDLE_SLEEP_MAX_NS (10 * 1000 * 1000)
#define BUSY_SLEEP_NS (500 * 1000)
/* After a fork the parent's writer restarts this long after the fork returned. */
#define RESTART_AFTER_FORK_NS (5 * 1000 * 1000)
#define FINISH_LOCK_TIMEOUT_NS (2ull * 1000 * 1000 * 1000)

static int out_fd = -1;
static dev_t out_dev;
static ino_t out_ino;
static char out_path[4096];
static uint32_t chunk_seq;
static struct rs_buf wbuf;

static _Atomic pid_t lock_owner;
static pthread_t writer_thread;
static _Atomic bool writer_thread_live;
static _Atomic int writer_stop;
static _Atomic uint32_t writer_wake;
RS_HIDDEN _Atomic uint64_t rs_writer_restart_at_ns;
/* Rounds asked for by a thread in a fatal signal's handler, and the last one the writer
 * thread has done (see rs_writer_flush_before_death). */
static _Atomic uint32_t death_rounds_asked, death_rounds_done;

/* writer-owned totals, for the END record */
static uint64_t events_written;
static uint64_t retired_drops, retired_waits;
extern RS_HIDDEN _Atomic uint64_t rs_ringless_drops;

#define MAX_PENDING_META 32
struct pending_meta {
    int kind; /* 0 note, 1 mark */
    unsigned level_or_mark;
    uint64_t time;
    char text[240];
};
static struct pending_meta pending[MAX_PENDING_META];
static unsigned pending_count;

static void add_pending(int kind, unsigned level_or_mark, const char *text, uint64_t timeout_ns);

/* A meta chunk handed to the writer thread (rs_writer_meta_chunk_handoff): EMPTY -> FULL
 * by the giver; FULL -> WRITING by whichever thread writes it (the writer thread, or the
 * giver itself when the writer thread is stopping); WRITING -> EMPTY once written. */
enum { HANDOFF_EMPTY, HANDOFF_FULL, HANDOFF_WRITING };
static _Atomic uint32_t handoff_state;
static const uint8_t *handoff_parts[RS_WRITER_CHUNK_PARTS];
static size_t handoff_lens[RS_WRITER_CHUNK_PARTS];
static unsigned handoff_n;
static void write_handoff(void);

static struct rs_buf meta_log;
static size_t meta_log_written;

static bool buf_grow(struct rs_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : (1u << 20);
    while (cap < need)
        cap *= 2;
    uint8_t *p = rs_sys_map(cap);
    if (!p)
        return false;
    if (b->data) {
        memcpy(p, b->data, b->len);
        rs_sys_unmap(b->data, b->cap);
    }
    b->data = p;
    b->cap = cap;
    return true;
}

/* ---- the writer lock: owner tid, so a thread never waits on itself --------------- */

static bool lock_acquire(uint64_t timeout_ns)
{
    pid_t me = rs_gettid();
    if (atomic_load_explicit(&lock_owner, memory_order_relaxed) == me)
        return false;
    uint64_t deadline = timeout_ns ? rs_now_ns() + timeout_ns : 0;
    for (unsigned spins = 0;; spins++) {
        pid_t expected = 0;
        if (atomic_compare_exchange_weak_explicit(&lock_owner, &expected, me, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
        if (deadline && rs_now_ns() > deadline)
            return false;
        if (spins < 100) {
            sched_yield();
        } else {
            struct timespec ts = {0, 100 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

static void lock_release(void)
{
    atomic_store_explicit(&lock_owner, 0, memory_order_release);
}

/* ---- output ------------------------------------------------------------------------ */

static void stop_tracing(const char *why, int err, bool tell_program)
{
    atomic_store(&rs_state, RS_STATE_FINISHED);
    if (tell_program)
        rs_log("writing trace %s failed (%s: %s); profiling stopped", out_path, why, strerror(err));
    else
        rs_debug("writing trace %s stopped (%s: %s)", out_path, why, strerror(err));
}

static bool output_still_ours(void)
{
    struct stat st;
    if (fstat(out_fd, &st) != 0 || st.st_dev != out_dev || st.st_ino != out_ino) {
        /* The program closed or replaced our descriptor (daemons close every fd): writing
         * on would put trace bytes into someone else's file. */
        /* Said only when verbose: such programs (subprocess children closing fds before
         * exec, daemons) compare their stderr, and the trace says it is incomplete. */
        stop_tracing("the trace file descriptor was closed by the program", EBADF, false);
        return false;
    }
    return true;
}

static void flush_buf(void)
{
    if (wbuf.failed) {
        stop_tracing("out of memory for the write buffer", ENOMEM, true);
        wbuf.failed = false;
        wbuf.len = 0;
        return;
    }
    if (wbuf.len == 0 || out_fd < 0)
        return;
    if (!output_still_ours()) {
        wbuf.len = 0;
        return;
    }
    size_t off = 0;
    while (off < wbuf.len) {
        ssize_t n = write(out_fd, wbuf.data + off, wbuf.len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            stop_tracing("write", errno, true);
            break;
        }
        off += (size_t)n;
    }
    wbuf.len = 0;
}

/* ---- a round ------------------------------------------------------------------------ */

static uint64_t rel_time(uint64_t t)
{
    return t > rs_start_ns ? t - rs_start_ns : 0;
}

static void encode_event(struct rs_chunk_writer *w, const struct rs_event *ev)
{
    uint8_t tag = ev->tag;
    uint64_t t = rel_time(ev->time);
    if ((tag & ~RS_TAG_KIND_MASK) == RS_TAG_ALLOC)
        rs_rec_alloc(w, tag & RS_TAG_KIND_MASK, t, ev->addr, ev->size, ev->stack_id);
    else if ((tag & ~RS_TAG_KIND_MASK) == RS_TAG_SAMPLED_ALLOC)
        rs_rec_sampled_alloc(w, tag & RS_TAG_KIND_MASK, t, ev->addr, ev->size, ev->stack_id,
                             rs_sample_weight(ev->size));
    else if ((tag & ~RS_TAG_KIND_MASK) == RS_TAG_FREE)
        rs_rec_free(w, tag & RS_TAG_KIND_MASK, t, ev->addr);
    else if (tag == RS_TAG_MUNMAP)
        rs_rec_munmap(w, t, ev->addr, ev->size);
}

/* Returns the number of events drained. */
static uint64_t drain_ring(struct rs_ring *r)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t drained = 0;
    while (tail != head) {
        uint64_t n = head - tail;
        if (n > EVENTS_PER_CHUNK)
            n = EVENTS_PER_CHUNK;
        struct rs_chunk_writer w;
        const struct rs_event *first = &r->slots[tail & (r->capacity - 1)];
        rs_chunk_open(&w, &wbuf, r->tid, rel_time(first->time));
        for (uint64_t i = 0; i < n; i++)
            encode_event(&w, &r->slots[(tail + i) & (r->capacity - 1)]);
        if (rs_chunk_close(&w, chunk_seq))
            chunk_seq++;
        tail += n;
        drained += n;
        atomic_store_explicit(&r->tail, tail, memory_order_release);
        atomic_store_explicit(&r->writer_asked, 0, memory_order_relaxed);
        if (wbuf.len >= FLUSH_AT)
            flush_buf();
    }
    events_written += drained;
    return drained;
}

/* How often an idle ring's thread is checked for being alive. */
#define LIVENESS_CHECK_NS (100 * 1000 * 1000)

static bool thread_is_gone(struct rs_ring *r, uint64_t now, bool final)
{
    if (final) /* the last round: every thread that is gone gets its exit recorded */
        return (pid_t)r->tid != rs_gettid() && syscall(SYS_tgkill, rs_pid, r->tid, 0) != 0 && errno == ESRCH;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head != r->last_head_seen) {
        r->last_head_seen = head;
        return false;
    }
    if (now - r->liveness_checked_ns < LIVENESS_CHECK_NS)
        return false;
    r->liveness_checked_ns = now;
    return syscall(SYS_tgkill, rs_pid, r->tid, 0) != 0 && errno == ESRCH;
}

static void emit_thread_meta(struct rs_chunk_writer *w, struct rs_ring *r, bool force_counters)
{
    uint32_t seq = atomic_load_explicit(&r->name_seq, memory_order_acquire);
    if (seq != r->name_seq_written) {
        r->name_seq_written = seq;
        rs_rec_thread(w, r->tid, r->thread_flags, r->name);
    }
    uint64_t events = atomic_load_explicit(&r->head, memory_order_relaxed) - r->head_at_claim;
    uint64_t waits = atomic_load_explicit(&r->waits, memory_order_relaxed);
    uint64_t drops = atomic_load_explicit(&r->drops, memory_order_relaxed);
    uint64_t sum = events + waits * 3 + drops * 7;
    if (force_counters || sum != r->counters_written) {
        r->counters_written = sum;
        rs_rec_counters(w, r->tid, events, waits, drops,
                        atomic_load_explicit(&r->wait_ns, memory_order_relaxed));
    }
}

/* One round under the writer lock. Returns true when a ring was more than half full, a
 * sign to come back soon. */
static bool round_locked(bool final, int end_reason)
{
    bool busy = false;
    /* a thread that reuses one clock reading (rs_event_time) reads the clock again after
     * each round: its times are at most a round stale */
    uint64_t now = rs_now_ns_ordered();
    struct rs_ring *retired[64];
    unsigned nretired = 0;

    for (struct rs_ring *r = rs_ring_list(); r; r = r->next) {
        int st = atomic_load_explicit(&r->state, memory_order_acquire);
        if (st != RS_RING_ACTIVE && st != RS_RING_RETIRING)
            continue;
        uint64_t n = drain_ring(r);
        if (n > r->capacity / 2)
            busy = true;
        if (st == RS_RING_ACTIVE && n == 0 && thread_is_gone(r, now, final)) {
            drain_ring(r); /* whatever it pushed before it went */
            st = RS_RING_RETIRING;
        } else if (n) {
            r->idle_rounds = 0;
        } else if (st == RS_RING_ACTIVE && !final) {
            rs_ring_try_park(r);
        }
        if (st == RS_RING_RETIRING && nretired < 64)
            retired[nretired++] = r;
    }

    struct rs_chunk_writer w;
    rs_chunk_open(&w, &wbuf, RS_CHUNK_TID_META, 0);
    rs_stack_table_emit(&w);
    if (rs_modules_changed())
        rs_modules_emit(&w);
    for (struct rs_ring *r = rs_ring_list(); r; r = r->next) {
        int st = atomic_load_explicit(&r->state, memory_order_acquire);
        if (st == RS_RING_ACTIVE || st == RS_RING_RETIRING)
            emit_thread_meta(&w, r, final);
    }
    for (unsigned i = 0; i < nretired; i++) {
        struct rs_ring *r = retired[i];
        rs_rec_thread(&w, r->tid, r->thread_flags | RS_THREAD_EXITED, r->name);
        retired_drops += atomic_load_explicit(&r->drops, memory_order_relaxed);
        retired_waits += atomic_load_explicit(&r->waits, memory_order_relaxed);
        rs_ring_retire(r);
        atomic_store_explicit(&r->state, RS_RING_FREE, memory_order_release);
    }
    for (unsigned i = 0; i < pending_count; i++) {
        if (pending[i].kind == 0)
            rs_rec_note(&w, pending[i].level_or_mark, pending[i].text);
        else
            rs_rec_mark(&w, pending[i].time, pending[i].level_or_mark, pending[i].text);
    }
    pending_count = 0;
    if (meta_log.len > meta_log_written) {
        rs_buf_bytes(&wbuf, meta_log.data + meta_log_written, meta_log.len - meta_log_written);
        meta_log_written = meta_log.len;
    }
    if (final) {
        uint64_t drops = retired_drops + atomic_load(&rs_ringless_drops), waits = retired_waits;
        for (struct rs_ring *r = rs_ring_list(); r; r = r->next) {
            int st = atomic_load_explicit(&r->state, memory_order_acquire);
            if (st != RS_RING_ACTIVE && st != RS_RING_RETIRING)
                continue;
            drops += atomic_load_explicit(&r->drops, memory_order_relaxed);
            waits += atomic_load_explicit(&r->waits, memory_order_relaxed);
        }
        rs_rec_end_of_trace(&w, events_written, drops, waits, rel_time(rs_now_ns()),
                            (enum rs_end_reason)end_reason);
    }
    if (rs_chunk_close(&w, chunk_seq))
        chunk_seq++;
    flush_buf();
    return busy;
}

/* ---- the thread ------------------------------------------------------------------------ */

/* seen: writer_wake before the round, so that a wake asked during the round is not lost. */
static void writer_sleep(uint64_t ns, uint32_t seen)
{
    if (atomic_load(&writer_stop) || atomic_load(&handoff_state) == HANDOFF_FULL)
        return;
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    syscall(SYS_futex, &writer_wake, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}

void rs_writer_wake(void)
{
    atomic_fetch_add(&writer_wake, 1);
    syscall(SYS_futex, &writer_wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* The state letter of /proc/<path>/stat (R, S, Z...), or 0. */
static char task_state(const char *path)
{
    char buf[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold anything */
    return p && p[1] == ' ' ? p[2] : 0;
}

/* Whether every thread of the program has ended and only refscope's remain. The main
 * thread is looked at first: while it lives, the answer is no, for one read. */
static bool only_refscope_threads_left(void)
{
    char state = task_state("/proc/self/stat");
    if (state != 'Z' && state != 'X')
        return false;
    int live = 0;
    DIR *dir = opendir("/proc/self/task");
    if (!dir)
        return false;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%.255s/stat", e->d_name);
        char st = task_state(path);
        if (st && st != 'Z' && st != 'X')
            live++;
    }
    closedir(dir);
    return live > 0 && live <= atomic_load(&rs_shim_threads);
}

#define ALONE_CHECK_NS (100 * 1000 * 1000)

static void *writer_main(void *unused)
{
    (void)unused;
    rs_tl_busy = 1; /* nothing this thread allocates is the program's */
    rs_tl_shim_thread = true;
    atomic_fetch_add(&rs_shim_threads, 1);
    prctl(PR_SET_NAME, "refscope-writer", 0, 0, 0);
    uint64_t sleep_ns = BUSY_SLEEP_NS, alone_checked = rs_now_ns();
    bool alone = false;
    while (!atomic_load(&writer_stop) && atomic_load(&rs_state) == RS_STATE_ACTIVE) {
        /* Every program thread may end with pthread_exit (a fork child of a non-main
         * thread does): the process would then live on for refscope's threads alone. */
        uint64_t now = rs_now_ns();
        if (now - alone_checked > ALONE_CHECK_NS) {
            alone_checked = now;
            if (only_refscope_threads_left()) {
                alone = true;
                break;
            }
        }
        uint32_t wake_seen = atomic_load(&writer_wake);
        write_handoff();
        if (!lock_acquire(0))
            break;
        uint32_t death_asked = atomic_load(&death_rounds_asked);
        bool busy = false;
        if (atomic_load(&rs_state) == RS_STATE_ACTIVE)
            busy = round_locked(false, 0);
        lock_release();
        if (death_asked != atomic_load(&death_rounds_done)) {
            atomic_store(&death_rounds_done, death_asked);
            syscall(SYS_futex, &death_rounds_done, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
        }
        if (busy)
            sleep_ns = BUSY_SLEEP_NS / 4;
        else if (sleep_ns < IDLE_SLEEP_MAX_NS)
            sleep_ns *= 2;
        writer_sleep(sleep_ns, wake_seen);
    }
    write_handoff();
    atomic_fetch_sub(&rs_shim_threads, 1);
    if (alone) {
        /* finish as exit() would have: this thread's return then ends the process */
        atomic_store(&writer_thread_live, false);
        rs_finish(RS_END_EXIT);
    }
    return NULL;
}

void rs_writer_start_thread(void)
{
    if (atomic_load(&writer_thread_live) || atomic_load(&rs_state) != RS_STATE_ACTIVE)
        return;
    rs_tl_busy++;
    /* The writer must never take the program's signals: block all while it inherits. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    atomic_store(&writer_stop, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&writer_thread, &attr, writer_main, NULL) == 0)
        atomic_store(&writer_thread_live, true);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    rs_tl_busy--;
}

/* Ends the writer thread, if there is one, and waits for it. */
static void stop_thread(void)
{
    if (atomic_load(&writer_thread_live)) {
        atomic_store(&writer_stop, 1);
        rs_writer_wake();
        pthread_join(writer_thread, NULL);
        atomic_store(&writer_thread_live, false);
    }
}

void rs_writer_resume_thread(void)
{
    /* The trace was finished (exec): its thread has left its loop, or is leaving it, and
     * a new one takes over; producers would otherwise wait for a writer that is gone. */
    stop_thread();
    rs_writer_start_thread();
}

bool rs_writer_running(void)
{
    return atomic_load_explicit(&writer_thread_live, memory_order_relaxed);
}

void rs_writer_restart_due(uint64_t at)
{
    int saved_errno = errno; /* from a recorded free, which does not keep it itself */
    if (atomic_compare_exchange_strong(&rs_writer_restart_at_ns, &at, 0))
        rs_writer_start_thread();
    errno = saved_errno;
}

/* A round from the calling thread, if the writer lock comes within timeout_ns. */
static bool drain_within(uint64_t timeout_ns)
{
    if (!lock_acquire(timeout_ns))
        return false;
    rs_tl_busy++;
    if (atomic_load(&rs_state) == RS_STATE_ACTIVE)
        round_locked(false, 0);
    rs_tl_busy--;
    lock_release();
    return atomic_load(&rs_state) == RS_STATE_ACTIVE;
}

bool rs_writer_drain_here(void)
{
    return drain_within(FINISH_LOCK_TIMEOUT_NS);
}

void rs_writer_sync(void)
{
    if (atomic_load(&rs_state) == RS_STATE_ACTIVE)
        rs_writer_drain_here();
}

void rs_writer_flush_before_death(const char *signal_name, uint64_t timeout_ns)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE)
        return;
    uint64_t deadline = rs_now_ns() + timeout_ns;
    rs_tl_busy++;
    add_pending(1, RS_MARK_FATAL_SIGNAL, signal_name, timeout_ns);
    if (!atomic_load(&writer_thread_live) || rs_tl_shim_thread) {
        /* no writer thread to ask (a fork child before its first event): this thread
         * drains, unless it is in the middle of a round itself */
        uint64_t now = rs_now_ns();
        if (now < deadline)
            drain_within(deadline - now);
        rs_tl_busy--;
        return;
    }
    /* The writer thread does the round: this thread may have died holding a lock that the
     * round needs (the loader's, the heap's); the wait is bounded, the process dies anyway. */
    uint32_t want = atomic_fetch_add(&death_rounds_asked, 1) + 1;
    rs_writer_wake();
    for (;;) {
        uint32_t done = atomic_load(&death_rounds_done);
        uint64_t now = rs_now_ns();
        if ((int32_t)(done - want) >= 0 || now >= deadline)
            break;
        uint64_t left = deadline - now < 10000000u ? deadline - now : 10000000u;
        struct timespec ts = {0, (long)left};
        syscall(SYS_futex, &death_rounds_done, FUTEX_WAIT_PRIVATE, done, &ts, NULL, 0);
    }
    rs_tl_busy--;
}

void rs_writer_finish(int end_reason)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE)
        return;
    rs_tl_busy++;
    if (lock_acquire(FINISH_LOCK_TIMEOUT_NS)) {
        if (atomic_load(&rs_state) == RS_STATE_ACTIVE) {
            atomic_store(&writer_stop, 1);
            round_locked(true, end_reason);
            if (atomic_load(&rs_state) == RS_STATE_ACTIVE)
                atomic_store(&rs_state, RS_STATE_FINISHED);
        }
        lock_release();
        rs_writer_wake();
    } else {
        atomic_store(&rs_state, RS_STATE_FINISHED);
    }
    rs_tl_busy--;
}

void rs_writer_detach(void)
{
    stop_thread();
    if (lock_acquire(FINISH_LOCK_TIMEOUT_NS)) {
        if (out_fd >= 0)
            close(out_fd);
        out_fd = -1;
        lock_release();
    }
}

bool rs_writer_reopen(void)
{
    if (atomic_load(&writer_thread_live))
        return false;
    if (wbuf.data)
        rs_sys_unmap(wbuf.data, wbuf.cap);
    meta_log_written = 0;
    atomic_store(&writer_stop, 0);
    atomic_store(&rs_writer_restart_at_ns, 0);
    return rs_writer_open(false);
}

static void add_pending(int kind, unsigned level_or_mark, const char *text, uint64_t timeout_ns)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE)
        return;
    rs_tl_busy++;
    if (lock_acquire(timeout_ns)) {
        if (pending_count < MAX_PENDING_META) {
            struct pending_meta *p = &pending[pending_count++];
            p->kind = kind;
            p->level_or_mark = level_or_mark;
            p->time = rel_time(rs_now_ns_ordered());
            size_t n = strnlen(text, sizeof p->text - 1);
            memcpy(p->text, text, n);
            p->text[n] = 0;
        }
        lock_release();
    }
    rs_tl_busy--;
}

void rs_writer_meta_log(const uint8_t *records, size_t len)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE || len == 0)
        return;
    rs_tl_busy++;
    if (lock_acquire(FINISH_LOCK_TIMEOUT_NS)) {
        if (!meta_log.grow)
            meta_log.grow = buf_grow;
        rs_buf_bytes(&meta_log, records, len);
        lock_release();
    }
    rs_tl_busy--;
}

void rs_writer_meta_chunk(const uint8_t *const *parts, const size_t *lens, unsigned n)
{
    rs_tl_busy++;
    if (atomic_load(&rs_state) == RS_STATE_ACTIVE && lock_acquire(FINISH_LOCK_TIMEOUT_NS)) {
        struct rs_chunk_writer chunk;
        rs_chunk_open(&chunk, &wbuf, RS_CHUNK_TID_META, 0);
        for (unsigned i = 0; i < n; i++)
            rs_buf_bytes(&wbuf, parts[i], lens[i]);
        if (rs_chunk_close(&chunk, chunk_seq))
            chunk_seq++;
        flush_buf();
        lock_release();
    }
    rs_tl_busy--;
}

/* ---- a meta chunk handed to the writer thread ------------------------------------------ */

static bool writer_will_take(void)
{
    return atomic_load(&writer_thread_live) && !atomic_load(&writer_stop) &&
           atomic_load(&rs_state) == RS_STATE_ACTIVE;
}

/* Writes the chunk handed over, if there is one and no other thread has taken it. */
static void write_handoff(void)
{
    uint32_t full = HANDOFF_FULL;
    if (!atomic_compare_exchange_strong_explicit(&handoff_state, &full, HANDOFF_WRITING,
                                                 memory_order_acquire, memory_order_relaxed))
        return;
    rs_writer_meta_chunk(handoff_parts, handoff_lens, handoff_n);
    atomic_store_explicit(&handoff_state, HANDOFF_EMPTY, memory_order_release);
    syscall(SYS_futex, &handoff_state, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

bool rs_writer_meta_chunk_handoff(const uint8_t *const *parts, const size_t *lens, unsigned n)
{
    rs_writer_handoff_wait();
    if (n > RS_WRITER_CHUNK_PARTS || !writer_will_take()) {
        rs_writer_meta_chunk(parts, lens, n);
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        handoff_parts[i] = parts[i];
        handoff_lens[i] = lens[i];
    }
    handoff_n = n;
    atomic_store_explicit(&handoff_state, HANDOFF_FULL, memory_order_release);
    rs_writer_wake();
    return true;
}

#define HANDOFF_RECHECK_NS (10 * 1000 * 1000)

void rs_writer_handoff_wait(void)
{
    for (;;) {
        uint32_t state = atomic_load_explicit(&handoff_state, memory_order_acquire);
        if (state == HANDOFF_EMPTY)
            return;
        if (state == HANDOFF_FULL && !writer_will_take()) {
            write_handoff(); /* the writer thread is leaving: do it here */
            continue;
        }
        /* Woken when it is written; looked at again now and then in case the writer
         * thread was stopped meanwhile. */
        struct timespec ts = {0, HANDOFF_RECHECK_NS};
        syscall(SYS_futex, &handoff_state, FUTEX_WAIT_PRIVATE, state, &ts, NULL, 0);
    }
}

void rs_writer_note(unsigned level, const char *text)
{
    add_pending(0, level, text, FINISH_LOCK_TIMEOUT_NS);
}

void rs_writer_mark(int kind, const char *label)
{
    add_pending(1, (unsigned)kind, label, FINISH_LOCK_TIMEOUT_NS);
}

/* ---- opening ------------------------------------------------------------------------- */

bool rs_writer_open(bool fork_child)
{
    wbuf = (struct rs_buf){.grow = buf_grow};
    chunk_seq = 0;
    events_written = retired_drops = retired_waits = 0;
    pending_count = 0;
    out_fd = rs_output_create(out_path, sizeof out_path, fork_child);
    if (out_fd < 0)
        return false;
    struct stat st;
    if (fstat(out_fd, &st) == 0) {
        out_dev = st.st_dev;
        out_ino = st.st_ino;
    }
    rs_output_header(&wbuf, fork_child);
    flush_buf();
    return atomic_load(&rs_state) != RS_STATE_FINISHED;
}

const char *rs_writer_path(void)
{
    return out_path;
}

static char path_before_move[4096];

bool rs_writer_move_aside(void)
{
    strcpy(path_before_move, out_path);
    return output_still_ours() && rs_output_move_aside(out_path, sizeof out_path);
}

void rs_writer_move_back(void)
{
    rs_output_move_back(out_path, path_before_move);
}

/* ---- fork ------------------------------------------------------------------------------ */

void rs_writer_before_fork(void)
{
    stop_thread();
    /* Hold the lock across fork so the child never inherits it mid-round. */
    lock_acquire(FINISH_LOCK_TIMEOUT_NS);
}

void rs_writer_after_fork_parent(void)
{
    lock_release();
    if (atomic_load(&rs_state) == RS_STATE_ACTIVE)
        atomic_store(&rs_writer_restart_at_ns, rs_now_ns() + RESTART_AFTER_FORK_NS);
}

void rs_writer_after_fork_child(void)
{
    atomic_store(&lock_owner, 0);
    atomic_store(&writer_thread_live, false);
    atomic_store(&writer_stop, 0);
    /* A chunk handed over by a thread the child does not have: its snapshot is not the
     * child's (the child's trace starts anew). */
    atomic_store(&handoff_state, HANDOFF_EMPTY);
    if (out_fd >= 0)
        close(out_fd);
    out_fd = -1;
    /* The child's buffer is a copy of the parent's mapping: start a fresh one. */
    wbuf = (struct rs_buf){.grow = buf_grow};
    meta_log_written = 0;
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE)
        return;
    if (!rs_writer_open(true)) {
        atomic_store(&rs_state, RS_STATE_INERT);
        return;
    }
    /* Starting a thread inside fork's child handler is fragile; the first event does it. */
    atomic_store(&rs_writer_restart_at_ns, 1);
}
