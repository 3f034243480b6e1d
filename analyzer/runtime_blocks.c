#include "runtime_blocks.h"

#include <string.h>

bool rs_runtime_is_loader(const char *b)
{
    if (!b)
        return false;
    return (strncmp(b, "ld-", 3) == 0 || strncmp(b, "ld64.so", 7) == 0 ||
            strncmp(b, "ld.so", 5) == 0) &&
           strstr(b, ".so") != NULL;
}

static bool is_glibc_module(const char *b)
{
    static const char *const prefixes[] = {"libc.so", "libc-", "libpthread.so", "libpthread-",
                                           "libdl.so", "libdl-"};
    if (!b)
        return false;
    if (rs_runtime_is_loader(b))
        return true;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        if (strncmp(b, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    }
    return false;
}

/* The function name without a symbol version (@GLIBC_2.2.5, @@GLIBC_2.34) or a compiler
 * suffix (.part.0, .isra.0, .cold, .localalias), into buf. */
static const char *base_function(const char *fn, char *buf, size_t cap)
{
    size_t n = strcspn(fn, "@.");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, fn, n);
    buf[n] = '\0';
    return buf;
}

static bool runtime_function(const char *name)
{
    static const char *const exact[] = {
        "_IO_file_doallocate", "setlocale",      "__wcsmbs_load_conv", "localtime",
        "localtime_r",         "__new_exitfn",   "__cxa_atexit",       "on_exit",
        "pthread_create",      "allocate_stack",
    };
    static const char *const prefixes[] = {"_nl_", "__gconv_", "tzset", "__tz", "_dl_"};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
        if (strcmp(name, exact[i]) == 0)
            return true;
    }
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    }
    return false;
}

bool rs_runtime_stack(const struct rs_frames *native, const char **why)
{
    if (native->n == 0)
        return false;
    const struct rs_frame *top = native->v[0];
    if (!top->python && rs_runtime_is_loader(top->module)) {
        *why = "allocated by the dynamic loader";
        return true;
    }
    /* Only the innermost run of glibc frames: further out is code that glibc called back
     * (a library constructor under _dl_init, a thread's start routine), whose allocations
     * are the program's. */
    for (size_t i = 0; i < native->n; i++) {
        const struct rs_frame *f = native->v[i];
        char buf[128];
        if (f->python || !is_glibc_module(f->module))
            break;
        if (f->function && runtime_function(base_function(f->function, buf, sizeof buf))) {
            *why = f->function;
            return true;
        }
    }
    return false;
}
