/* Configuration from REFSCOPE_* environment variables (documented in README.md). getenv
 * only: no allocation, safe before main. */
#include "shim.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

RS_HIDDEN struct rs_config rs_cfg;

static unsigned long env_ulong(const char *name, unsigned long dflt, unsigned long lo, unsigned long hi)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != 0 || v < lo || v > hi) {
        rs_log("ignoring %s=%s (expected a number from %lu to %lu)", name, s, lo, hi);
        return dflt;
    }
    return v;
}

static bool env_flag(const char *name, bool dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    return !(strcmp(s, "0") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0 ||
             strcmp(s, "false") == 0);
}

/* A signal by name (USR2, SIGUSR2) or number. */
static int env_signal(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    static const struct {
        const char *name;
        int sig;
    } known[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"HUP", SIGHUP}, {"PWR", SIGPWR},
                 {"URG", SIGURG}, {"WINCH", SIGWINCH}};
    const char *bare = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(bare, known[i].name) == 0)
            return known[i].sig;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end == 0 && v > 0 && v < 65 && v != SIGKILL && v != SIGSTOP)
        return (int)v;
    rs_log("ignoring %s=%s (expected a signal such as USR2)", name, s);
    return 0;
}

void rs_config_load(void)
{
    const char *out = getenv("REFSCOPE_OUTPUT");
    if (!out || !*out || strlen(out) >= sizeof rs_cfg.output_template)
        out = "refscope-%e-%p.rsc";
    strcpy(rs_cfg.output_template, out);
    rs_cfg.stack_depth = (unsigned)env_ulong("REFSCOPE_STACK_DEPTH", 64, 1, RS_STACK_MAX_WORDS_NATIVE);
    unsigned long ring = env_ulong("REFSCOPE_RING_EVENTS", 65536, 1024, 1u << 24);
    uint32_t pow2 = 1024;
    while (pow2 < ring)
        pow2 <<= 1;
    rs_cfg.ring_events = pow2;
    rs_cfg.max_stacks = (uint32_t)env_ulong("REFSCOPE_MAX_STACKS", 1u << 20, 1024, 1u << 26);
    const char *full = getenv("REFSCOPE_ON_FULL");
    rs_cfg.drop_on_full = full && strcmp(full, "drop") == 0;
    if (full && *full && strcmp(full, "drop") != 0 && strcmp(full, "wait") != 0)
        rs_log("ignoring REFSCOPE_ON_FULL=%s (expected wait or drop)", full);
    rs_cfg.native_stacks = env_flag("REFSCOPE_NATIVE_STACKS", true);
    rs_cfg.verbose = env_flag("REFSCOPE_VERBOSE", false);
    const char *unwind = getenv("REFSCOPE_UNWIND");
    rs_cfg.unwind = RS_UNWIND_RULES;
    if (unwind && strcmp(unwind, "libunwind") == 0)
        rs_cfg.unwind = RS_UNWIND_LIBUNWIND;
    else if (unwind && strcmp(unwind, "check") == 0)
        rs_cfg.unwind = RS_UNWIND_CHECK;
    else if (unwind && *unwind && strcmp(unwind, "rules") != 0)
        rs_log("ignoring REFSCOPE_UNWIND=%s (expected rules, libunwind or check)", unwind);
    rs_cfg.python = env_flag("REFSCOPE_PYTHON", true);
    rs_cfg.python_native = env_flag("REFSCOPE_PYTHON_NATIVE", false);
    const char *interval = getenv("REFSCOPE_SNAPSHOT_INTERVAL");
    if (interval && *interval) {
        char *end;
        double seconds = strtod(interval, &end);
        if (*end == 0 && seconds >= 0.01 && seconds <= 86400)
            rs_cfg.snapshot_interval_ms = (uint32_t)(seconds * 1000);
        else
            rs_log("ignoring REFSCOPE_SNAPSHOT_INTERVAL=%s (expected seconds, 0.01 or more)", interval);
    }
    rs_cfg.snapshot_signal = env_signal("REFSCOPE_SNAPSHOT_SIGNAL");
    rs_cfg.snapshot_gc_every = (uint32_t)env_ulong("REFSCOPE_SNAPSHOT_GC", 0, 0, 1u << 30);
    rs_cfg.sample_bytes = env_ulong("REFSCOPE_SAMPLE", 0, 0, (unsigned long)1 << 40);
    rs_cfg.root_pid = (pid_t)env_ulong("REFSCOPE_ROOT_PID", 0, 0, 1u << 30);
}
