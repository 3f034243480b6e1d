/* The control channel of an attach session: a unix stream socket (<prefix>.sock, in the
 * CLI's private per-uid directory) served by one thread that exists only in attach mode.
 * One request per connection, one line ("status", "snapshot LABEL", "detach"); the reply
 * is "ok" or "error MESSAGE", then key=value lines, and the connection closes. Only the
 * process's own user and root may talk to it (SO_PEERCRED). The thread also patches
 * libraries the program loads later. */
#define _GNU_SOURCE
#include "attach.h"

#include "python/py_attach.h"
#include "writer.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static _Atomic bool stop;
static _Atomic bool running; /* a control thread exists (the last session's may be ending) */
static unsigned snapshots;

/* How long `snapshot` waits for Python's attach (the GIL) before giving up. */
#define PYTHON_WAIT_NS (20ull * 1000 * 1000 * 1000)

struct reply {
    char text[8192];
    size_t len;
};

static void put(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->len += (size_t)n < sizeof r->text - r->len ? (size_t)n : sizeof r->text - r->len - 1;
}

static const char *state_name(void)
{
    switch (atomic_load(&rs_state)) {
    case RS_STATE_ACTIVE: return "active";
    case RS_STATE_FINISHED: return "finished";
    case RS_STATE_INERT: return "inert";
    }
    return "starting";
}

static void status(struct reply *r)
{
    const char *detail = NULL;
    int py = rs_py_attach_state(&detail);
    char native[400];
    rs_attach_native_status(native, sizeof native);
    put(r, "ok\npid=%d\ntrace=%s\nstate=%s\npython=%s%s%s\nnative=%s\nsnapshots=%u\n", (int)getpid(),
        rs_writer_path(), state_name(),
        py == RS_PYA_NONE ? "none" : py == RS_PYA_UNSUPPORTED ? "unsupported"
        : py == RS_PYA_PENDING ? "pending" : py == RS_PYA_ATTACHED ? "attached" : "ended",
        detail ? " " : "", detail ? detail : "", native, snapshots);
}

static void snapshot(struct reply *r, const char *label)
{
    const char *detail = NULL;
    int py = rs_py_attach_state(&detail);
    uint64_t deadline = rs_monotonic_ns() + PYTHON_WAIT_NS;
    while (py == RS_PYA_PENDING && rs_monotonic_ns() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        py = rs_py_attach_state(&detail);
    }
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE)
        put(r, "error the trace has ended (%s)\n", state_name());
    else if (py == RS_PYA_NONE)
        put(r, "error no CPython interpreter in this process: the trace is native-only, and "
               "object-graph snapshots need Python\n");
    else if (py == RS_PYA_UNSUPPORTED)
        put(r, "error %s: the trace is native-only, without object-graph snapshots\n",
            detail ? detail : "this Python is not supported");
    else if (py == RS_PYA_PENDING)
        put(r, "error Python did not let refscope in (the GIL was not released) within %llu s; "
               "try again\n", PYTHON_WAIT_NS / 1000000000ull);
    else if (py != RS_PYA_ATTACHED || !rs_py_attach_snapshot(label))
        put(r, "error the snapshot could not be taken (the interpreter is finishing)\n");
    else
        put(r, "ok\nsnapshot=%u\ntrace=%s\n", ++snapshots, rs_writer_path());
}

static void detach(struct reply *r)
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE) {
        put(r, "error the trace has already ended (%s)\n", state_name());
        return;
    }
    char summary[400];
    rs_attach_detach(summary, sizeof summary);
    put(r, "ok\ntrace=%s\nrestored=%s\n", rs_writer_path(), summary);
    atomic_store(&stop, true);
}

static void serve(int c)
{
    struct reply r = {.len = 0};
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != 0 && cred.uid != geteuid())) {
        put(&r, "error permission denied\n");
    } else {
        struct timeval tv = {5, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        char line[1024];
        size_t n = 0;
        while (n < sizeof line - 1) {
            ssize_t k = recv(c, line + n, sizeof line - 1 - n, 0);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            n += (size_t)k;
            if (memchr(line, '\n', n))
                break;
        }
        line[n] = 0;
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        if (strcmp(line, "status") == 0)
            status(&r);
        else if (strncmp(line, "snapshot", 8) == 0 && (line[8] == 0 || line[8] == ' '))
            snapshot(&r, line[8] ? line + 9 : "");
        else if (strcmp(line, "detach") == 0)
            detach(&r);
        else
            put(&r, "error unknown request\n");
    }
    for (size_t off = 0; off < r.len;) {
        ssize_t k = send(c, r.text + off, r.len - off, MSG_NOSIGNAL); /* never SIGPIPE */
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        off += (size_t)k;
    }
}

static void *control_main(void *unused)
{
    (void)unused;
    rs_tl_busy = 1;
    rs_tl_shim_thread = true;
    atomic_fetch_add(&rs_shim_threads, 1);
    prctl(PR_SET_NAME, "refscope-attach", 0, 0, 0);
    while (!atomic_load(&stop)) {
        struct pollfd p = {listen_fd, POLLIN, 0};
        int n = poll(&p, 1, 100);
        rs_attach_repatch_if_needed();
        if (n <= 0 || !(p.revents & POLLIN))
            continue;
        int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        serve(c);
        close(c);
    }
    /* detached: nothing of the session is left open */
    close(listen_fd);
    listen_fd = -1;
    unlink(sock_path);
    atomic_fetch_sub(&rs_shim_threads, 1);
    atomic_store(&running, false);
    return NULL;
}

bool rs_control_start(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        rs_log("control socket path too long: %s", path);
        return false;
    }
    for (int i = 0; i < 200 && atomic_load(&running); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&running)) {
        rs_log("the control thread of the last session has not ended");
        return false;
    }
    atomic_store(&stop, false);
    snapshots = 0;
    strcpy(addr.sun_path, path);
    strcpy(sock_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rs_log("cannot create the control socket: %s", strerror(errno));
        return false;
    }
    unlink(path); /* a stale one, from a session that ended with its process */
    /* the directory is the CLI's, mode 0700; the program's umask is not touched */
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    if (rc == 0)
        chmod(path, 0600);
    if (rc != 0 || listen(fd, 8) != 0) {
        rs_log("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return false;
    }
    listen_fd = fd;
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t t;
    atomic_store(&running, true);
    rc = pthread_create(&t, &attr, control_main, NULL);
    if (rc != 0)
        atomic_store(&running, false);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rc != 0) {
        rs_log("cannot start the control thread: %s", strerror(rc));
        close(fd);
        listen_fd = -1;
        unlink(path);
        return false;
    }
    return true;
}

void rs_control_after_fork_child(void)
{
    /* the socket is the parent's: close the child's copy, leave the file */
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
}
