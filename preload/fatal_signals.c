/* A program that dies of a crash signal (SIGSEGV, SIGABRT...) takes the rings' unwritten
 * events with it: up to a writer round's worth, and far more when the writer lags behind
 * busy threads. Where such a signal would kill the process anyway (its action is the
 * default one), refscope's handler first has the rings written out, with a mark naming the
 * signal, then lets the signal kill the process as it would have: same signal, same core
 * dump.
 *
 * To the program this handler is the default action: sigaction() reports it as SIG_DFL
 * (Python's signal.getsignal says SIG_DFL, as without refscope), and setting SIG_DFL puts
 * it back, so a handler that chains to the one it replaced and restores it before dying
 * (Python's faulthandler) still has the rings written. A handler the program installs
 * replaces it, as it would replace the default. signal() goes to the C library's own
 * sigaction, not through here: it sees this handler's address, which works as a handler. */
#define _GNU_SOURCE
#include "shim.h"

#include "attach.h"
#include "writer.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

/* Bounds the handler's wait for the round: the dying thread may hold a lock the round
 * needs, and a crash must not turn into a hang. */
#define DEATH_FLUSH_TIMEOUT_NS (2ull * 1000 * 1000 * 1000)

static const struct {
    int sig;
    const char *name;
} crash_signals[] = {
    {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGILL, "SIGILL"},
    {SIGFPE, "SIGFPE"},   {SIGABRT, "SIGABRT"},
};

static __typeof__(&sigaction) real_sigaction;
static bool installed; /* the handler has been installed for the signals left at default */
static struct sigaction crash_action;

/* NULL: not one of the crash signals */
static const char *crash_signal_name(int sig)
{
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
        if (crash_signals[i].sig == sig)
            return crash_signals[i].name;
    return NULL;
}

/* The C library's sigaction, looked up once (the program may call sigaction before
 * refscope starts). */
static void resolve_real_sigaction(void)
{
    if (real_sigaction)
        return;
    rs_tl_busy++;
    *(void **)&real_sigaction = dlsym(RTLD_NEXT, "sigaction");
    rs_tl_busy--;
}

/* info and context are not used: signal() callers may install it as a one-argument handler. */
static void on_crash_signal(int sig, siginfo_t *info, void *context)
{
    (void)info;
    (void)context;
    int saved_errno = errno;
    const char *name = crash_signal_name(sig);
    if (atomic_load(&rs_state) == RS_STATE_ACTIVE && !rs_in_foreign_process() && name)
        rs_writer_flush_before_death(name, DEATH_FLUSH_TIMEOUT_NS);
    /* The default action again (SA_RESETHAND did it, unless signal() installed this
     * handler); the signal is blocked until this handler returns, and then kills the
     * process (a fault would also come back when the instruction runs again). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    real_sigaction(sig, &dfl, NULL);
    raise(sig);
    errno = saved_errno;
}

void rs_fatal_signals_install(void)
{
    if (rs_attach_mode) /* a running program's dispositions are its own business */
        return;
    resolve_real_sigaction();
    if (!real_sigaction)
        return;
    memset(&crash_action, 0, sizeof crash_action);
    crash_action.sa_sigaction = on_crash_signal;
    sigfillset(&crash_action.sa_mask);
    /* SA_ONSTACK: a stack overflow can only be handled on the program's alternate stack,
     * if it has one */
    crash_action.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        struct sigaction old;
        if (real_sigaction(crash_signals[i].sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
            !(old.sa_flags & SA_SIGINFO)) /* not inherited as ignored */
            real_sigaction(crash_signals[i].sig, &crash_action, NULL);
    }
    installed = true;
}

RS_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    resolve_real_sigaction();
    if (!installed || !crash_signal_name(sig))
        return real_sigaction(sig, act, old);
    if (act && act->sa_handler == SIG_DFL)
        act = &crash_action;
    int rc = real_sigaction(sig, act, old);
    if (rc == 0 && old && old->sa_sigaction == on_crash_signal) {
        memset(old, 0, sizeof *old);
        old->sa_handler = SIG_DFL;
    }
    return rc;
}
