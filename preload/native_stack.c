#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "modules.h"
#include "rs_trace_format.h"
#include "stack_table.h"

#include <dlfcn.h>
#include <libunwind.h>

#define STR_(x) #x
#define STR(x) STR_(x)

typedef int (*unw_backtrace_fn)(void **, int);
static unw_backtrace_fn unwind_backtrace;
static uintptr_t self_lo, self_hi;

/* libunwind is loaded with RTLD_LOCAL rather than linked: it exports _Unwind_* and a weak
 * backtrace(), which a preloaded dependency would impose on every program (C++ exception
 * handling included). Loaded locally, only we see it. The soname is the one Debian's
 * libunwind-dev links against. */
void rs_native_stack_init(void)
{
    rs_tl_busy++;
    void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (lib) {
        unwind_backtrace = (unw_backtrace_fn)dlsym(lib, "unw_backtrace");
        int (*set_policy)(unw_addr_space_t, unw_caching_policy_t) =
            (int (*)(unw_addr_space_t, unw_caching_policy_t))dlsym(lib, STR(unw_set_caching_policy));
        unw_addr_space_t *local = (unw_addr_space_t *)dlsym(lib, STR(unw_local_addr_space));
        if (set_policy && local)
            set_policy(*local, UNW_CACHE_PER_THREAD);
    }
    if (!unwind_backtrace)
        rs_log("libunwind.so.8 not found: native stacks are not recorded");
    rs_modules_self_range(&self_lo, &self_hi);
    rs_tl_busy--;
}

uint32_t rs_native_stack_capture(uint64_t *words, uint32_t max_words)
{
    if (!unwind_backtrace)
        return 0;
    void *ips[RS_STACK_MAX_WORDS + 16];
    unsigned want = max_words + 16 > RS_STACK_MAX_WORDS + 16 ? RS_STACK_MAX_WORDS + 16 : max_words + 16;
    int n = unwind_backtrace(ips, (int)want);
    int first = 0;
    while (first < n && (uintptr_t)ips[first] >= self_lo && (uintptr_t)ips[first] < self_hi)
        first++;
    uint32_t out = 0;
    for (int i = first; i < n && out < max_words; i++)
        words[out++] = (uint64_t)(uintptr_t)ips[i];
    return out;
}
