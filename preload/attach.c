/* Attach mode: start and end of a session in a running process (see attach.h). */
#define _GNU_SOURCE
#include "attach.h"

#include "got_patch.h"
#include "modules.h"
#include "owned_blocks.h"
#include "python/py_attach.h"
#include "ring.h"
#include "rs_trace_format.h"
#include "sampling.h"
#include "stack_table.h"
#include "writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

RS_HIDDEN bool rs_attach_mode;

static char prefix[4000];
static pthread_mutex_t native_lock = PTHREAD_MUTEX_INITIALIZER;
static bool native_on;
static unsigned native_passes;
static struct rs_got_stats native_last; /* the first pass (the whole process) */
static unsigned native_total, native_skipped;
/* The last session ended with a complete detach: another may start (rs_attach_again). */
static _Atomic bool detached_ok;

const char *rs_attach_prefix(void)
{
    return prefix;
}

void rs_attach_early(void)
{
    const char *v = getenv("REFSCOPE_ATTACH");
    if (!v || !*v)
        return;
    rs_attach_mode = true;
    size_t n = strlen(v);
    if (n >= sizeof prefix - 8)
        n = sizeof prefix - 8; /* the CLI never sends one so long; sockets would fail */
    memcpy(prefix, v, n);
    prefix[n] = 0;
    char path[sizeof prefix];
    rs_format(path, sizeof path, "%s.log", prefix);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    /* Without it, messages go nowhere rather than into the program's own stderr. */
    rs_log_fd = fd;
}

static void native_pass(void)
{
    struct rs_got_stats st;
    rs_got_patch(&st);
    pthread_mutex_lock(&native_lock);
    if (!native_passes++)
        native_last = st;
    native_total = st.total;
    native_skipped += st.skipped;
    pthread_mutex_unlock(&native_lock);
    if (st.interposed[0]) {
        char note[300];
        rs_format(note, sizeof note,
                  "attach: not patched, another allocator defines them: %s; those calls are not "
                  "recorded", st.interposed);
        rs_log("%s", note);
        rs_writer_note(1, note);
    }
    rs_debug("attach: %u GOT slots patched in %u objects (%u left alone)", st.patched, st.objects,
             st.skipped);
}

void rs_attach_start(void)
{
    pthread_mutex_lock(&native_lock);
    native_passes = native_skipped = native_total = 0;
    memset(&native_last, 0, sizeof native_last);
    pthread_mutex_unlock(&native_lock);
    char sock[sizeof prefix + 8];
    rs_format(sock, sizeof sock, "%s.sock", prefix);
    if (!rs_control_start(sock)) {
        rs_log("no control channel: refscope stops here (nothing was changed in the program)");
        rs_finish(RS_END_DETACH);
        return;
    }
    pthread_mutex_lock(&native_lock);
    native_on = true;
    pthread_mutex_unlock(&native_lock);
    native_pass();
}

void rs_attach_repatch_if_needed(void)
{
    bool on;
    pthread_mutex_lock(&native_lock);
    on = native_on;
    pthread_mutex_unlock(&native_lock);
    if (on && atomic_load(&rs_state) == RS_STATE_ACTIVE && rs_got_modules_changed())
        native_pass();
}

void rs_attach_native_status(char *out, size_t cap)
{
    pthread_mutex_lock(&native_lock);
    rs_format(out, cap, "%u GOT slots patched in %u objects (%u left alone)%s%s", native_total,
              native_last.objects, native_skipped, native_last.interposed[0] ? "; not patched: " : "",
              native_last.interposed);
    pthread_mutex_unlock(&native_lock);
}

/* The rings hold most of refscope's memory (REFSCOPE_RING_EVENTS slots per thread): their
 * pages go back to the kernel. The mappings stay, so a thread still finishing a hook
 * (it read the state just before detach) writes into a fresh zero page, never a hole. */
static void release_rings(void)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (struct rs_ring *r = rs_ring_list(); r; r = r->next) {
        uintptr_t lo = ((uintptr_t)r->slots + page - 1) & ~(page - 1);
        uintptr_t hi = ((uintptr_t)(r->slots + r->capacity)) & ~(page - 1);
        if (hi > lo)
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
    }
}

void rs_attach_detach(char *summary, size_t cap)
{
    rs_tl_busy++;
    char py[200];
    /* Python first, GIL held: its allocators, its callbacks, a last resolution. */
    rs_py_attach_detach(py, sizeof py);
    pthread_mutex_lock(&native_lock);
    native_on = false;
    pthread_mutex_unlock(&native_lock);
    unsigned restored = rs_got_restore();
    char note[300];
    rs_format(note, sizeof note, "detached: %u GOT slot%s restored%s%s", restored,
              restored == 1 ? "" : "s", py[0] ? "; " : "", py);
    rs_writer_note(0, note);
    rs_finish(RS_END_DETACH);
    rs_py_attach_stop_thread();
    rs_writer_detach();
    release_rings();
    rs_format(summary, cap, "%s", note);
    int fd = rs_log_fd;
    rs_log_fd = -1;
    if (fd >= 0)
        close(fd);
    atomic_store(&detached_ok, true);
    rs_tl_busy--;
}

void rs_attach_after_fork_child(void)
{
    atomic_store(&rs_state, RS_STATE_INERT);
    rs_writer_after_fork_child(); /* closes the parent's trace descriptor */
    rs_py_attach_after_fork_child();
    rs_control_after_fork_child();
    int fd = rs_log_fd;
    rs_log_fd = -1;
    if (fd >= 0)
        close(fd);
}

/* ---- attached again ------------------------------------------------------------------ */

/* Why a new session cannot start, into the new session's log (the CLI shows it). */
static void refuse(const char *why)
{
    const char *v = getenv("REFSCOPE_ATTACH");
    char path[sizeof prefix + 8];
    if (!v || rs_format(path, sizeof path, "%s.log", v) >= (int)sizeof path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    char line[400];
    int n = rs_format(line, sizeof line, "refscope: %s\n", why);
    ssize_t unused = write(fd, line, n > 0 && n < (int)sizeof line ? (size_t)n : strlen(line));
    (void)unused;
    close(fd);
}

/* Everything the previous session left in the rings is dropped; each live thread's ring
 * starts over, and its THREAD record is written again in the new trace. No producer runs:
 * the state is not ACTIVE. */
static void reset_rings(void)
{
    for (struct rs_ring *r = rs_ring_list(); r; r = r->next) {
        uint64_t head = rs_ring_discard(r);
        r->head_at_claim = head;
        atomic_store(&r->waits, 0);
        atomic_store(&r->wait_ns, 0);
        atomic_store(&r->drops, 0);
        r->counters_written = 0;
        r->last_head_seen = head;
        r->liveness_checked_ns = 0;
        r->name_seq_written = atomic_load(&r->name_seq) - 1;
    }
}

/* The entry point of `refscope attach` into a process refscope was attached to before and
 * detached from: the library is loaded, its constructor will not run again. Called by gdb
 * at a safe point, like dlopen, with the new session's environment set; not exported (the
 * CLI finds it in the library's symbol table). Returns non-NULL when the session started. */
RS_HIDDEN __attribute__((used, noinline)) void *rs_attach_again(const char *unused, int unused2)
{
    (void)unused, (void)unused2;
    if (!rs_attach_mode) {
        refuse("refscope runs in this process since it started (refscope run or LD_PRELOAD): "
               "there is nothing to attach");
        return NULL;
    }
    if (getpid() != rs_pid) {
        refuse("this process was forked from an attached one: refscope cannot attach to it");
        return NULL;
    }
    if (!atomic_load(&detached_ok) || atomic_load(&rs_state) != RS_STATE_FINISHED) {
        refuse("the previous refscope session in this process did not end with a detach");
        return NULL;
    }
    rs_tl_busy++;
    atomic_store(&detached_ok, false);
    rs_attach_early();
    rs_config_load();
    rs_clock_init();
    rs_start_ns = rs_now_ns();
    reset_rings();
    rs_stack_table_after_fork_child(); /* every stack is written again when used */
    rs_modules_after_fork_child();
    rs_owned_init();
    if (rs_cfg.native_stacks)
        rs_native_stack_init();
    if (rs_cfg.sample_bytes && !rs_sampling_init(rs_cfg.sample_bytes))
        rs_cfg.sample_bytes = 0;
    /* while the new file opens, hooks pass through (UNINIT), as before the constructor */
    atomic_store(&rs_state, RS_STATE_UNINIT);
    if (!rs_writer_reopen()) {
        atomic_store(&rs_state, RS_STATE_FINISHED);
        atomic_store(&detached_ok, true);
        rs_tl_busy--;
        return NULL;
    }
    atomic_store(&rs_state, RS_STATE_ACTIVE);
    rs_debug("tracing pid %d into %s (attached again)", (int)rs_pid, rs_writer_path());
    rs_writer_start_thread();
    rs_py_attach_again();
    rs_attach_start();
    rs_tl_busy--;
    return atomic_load(&rs_state) == RS_STATE_ACTIVE ? (void *)rs_writer_path() : NULL;
}
