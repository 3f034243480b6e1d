/* exec, _exit and dlclose: the points where a process's trace must be flushed (or its
 * module map written) before the image that recorded it goes away. */
#define _GNU_SOURCE
#include "shim.h"
#include "unwind_rules.h"

#include "rs_trace_format.h"
#include "writer.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <string.h>
#include <unistd.h>

#define REAL(name) \
    static __typeof__(&name) real_##name; \
    if (!real_##name) { \
        rs_tl_busy++; \
        *(void **)&real_##name = dlsym(RTLD_NEXT, #name); \
        rs_tl_busy--; \
    }

/* The trace ends before exec replaces the image (the new image, if it inherits
 * LD_PRELOAD, starts a trace of its own under the same name). If exec fails, the trace
 * goes on. */
static bool moved_aside;
extern char **environ;

/* Whether the image about to be exec'd will load refscope again (and so write a trace of
 * its own under our name): LD_PRELOAD still names librefscope and refscope is not
 * disabled. */
static bool exec_will_trace(char *const envp[])
{
    bool preloaded = false, disabled = false;
    for (char *const *e = envp ? envp : environ; e && *e; e++) {
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0 && strstr(*e, "librefscope"))
            preloaded = true;
        else if (strncmp(*e, "REFSCOPE_DISABLE=", 17) == 0 && (*e)[17] && (*e)[17] != '0')
            disabled = true;
    }
    return preloaded && !disabled;
}

static bool before_exec(const char *path, char *const envp[])
{
    if (atomic_load(&rs_state) != RS_STATE_ACTIVE || rs_in_foreign_process())
        return false;
    rs_writer_mark(RS_MARK_EXEC, path ? path : "");
    rs_finish(RS_END_EXEC);
    moved_aside = exec_will_trace(envp) && rs_writer_move_aside();
    return true;
}

static void after_failed_exec(bool finished, const char *path)
{
    if (!finished)
        return;
    int saved = errno;
    if (moved_aside)
        rs_writer_move_back();
    atomic_store(&rs_state, RS_STATE_ACTIVE);
    char note[512];
    rs_format(note, sizeof note, "exec of %s failed; tracing resumed", path ? path : "?");
    rs_writer_note(1, note);
    rs_writer_resume_thread();
    errno = saved;
}

RS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    REAL(execve);
    bool finished = before_exec(path, envp);
    int rc = real_execve(path, argv, envp);
    after_failed_exec(finished, path);
    return rc;
}

RS_EXPORT int execv(const char *path, char *const argv[])
{
    REAL(execv);
    bool finished = before_exec(path, NULL);
    int rc = real_execv(path, argv);
    after_failed_exec(finished, path);
    return rc;
}

RS_EXPORT int execvp(const char *file, char *const argv[])
{
    REAL(execvp);
    bool finished = before_exec(file, NULL);
    int rc = real_execvp(file, argv);
    after_failed_exec(finished, file);
    return rc;
}

RS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    REAL(execvpe);
    bool finished = before_exec(file, envp);
    int rc = real_execvpe(file, argv, envp);
    after_failed_exec(finished, file);
    return rc;
}

RS_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    REAL(fexecve);
    bool finished = before_exec("(fexecve)", envp);
    int rc = real_fexecve(fd, argv, envp);
    after_failed_exec(finished, "(fexecve)");
    return rc;
}

/* The execl* family are variadic in front of execv*: gather the arguments and go through
 * the hooks above (glibc's own execl* call execve internally, past any interposer). */
static size_t count_args(const char *arg0, va_list ap)
{
    size_t n = 1;
    if (arg0)
        while (va_arg(ap, char *))
            n++;
    return n;
}

static char **fill_args(char **argv, size_t n, const char *arg0, va_list ap)
{
    argv[0] = (char *)arg0;
    for (size_t i = 1; i < n; i++)
        argv[i] = va_arg(ap, char *);
    argv[n] = NULL;
    if (arg0)
        (void)va_arg(ap, char *); /* the terminating NULL */
    return argv;
}

#define EXECL_BODY(first, arg, call, with_env) \
    va_list ap, count; \
    va_start(ap, arg); \
    va_copy(count, ap); \
    size_t n = count_args(arg, count); \
    va_end(count); \
    char *argv[n + 1]; \
    fill_args(argv, n, arg, ap); \
    char **envp = with_env ? va_arg(ap, char **) : NULL; \
    va_end(ap); \
    (void)envp; \
    return call;

RS_EXPORT int execl(const char *path, const char *arg, ...)
{
    EXECL_BODY(path, arg, execv(path, argv), 0)
}

RS_EXPORT int execlp(const char *file, const char *arg, ...)
{
    EXECL_BODY(file, arg, execvp(file, argv), 0)
}

RS_EXPORT int execle(const char *path, const char *arg, ...)
{
    EXECL_BODY(path, arg, execve(path, argv, envp), 1)
}

/* os._exit() and every multiprocessing fork child end here: no atexit, no destructors. */
static __attribute__((noreturn)) void exit_now(int status)
{
    if (!rs_in_foreign_process())
        rs_finish(RS_END__EXIT);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

RS_EXPORT void _exit(int status)
{
    exit_now(status);
}

/* Not through _exit: attached (not preloaded), refscope's own call would bind to libc's. */
RS_EXPORT void _Exit(int status)
{
    exit_now(status);
}

RS_EXPORT int dlclose(void *handle)
{
    REAL(dlclose);
    /* Write the module map (and the stacks that point into this library) while the
     * library is still mapped. */
    if (rs_recording())
        rs_writer_sync();
    int rc = real_dlclose(handle);
    rs_unwind_modules_changed(); /* its code's unwind rules may now describe another's */
    return rc;
}
