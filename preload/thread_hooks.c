/* Thread names, as the program sets them, so the report can name its threads. */
#define _GNU_SOURCE
#include "ring.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <string.h>
#include <unistd.h>

RS_EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
    static int (*real_setname)(pthread_t, const char *);
    if (!real_setname) {
        rs_tl_busy++;
        *(void **)&real_setname = dlsym(RTLD_NEXT, "pthread_setname_np");
        rs_tl_busy--;
        if (!real_setname)
            return ENOSYS;
    }
    int rc = real_setname(thread, name);
    if (rc == 0 && rs_recording()) {
        rs_tl_busy++;
        struct rs_ring *r = pthread_equal(thread, pthread_self()) ? rs_ring_current()
                                                                  : rs_ring_find_thread(thread);
        if (r)
            rs_ring_set_name(r, name);
        rs_tl_busy--;
    }
    return rc;
}

RS_EXPORT int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long),
                  a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    long rc = syscall(SYS_prctl, option, a2, a3, a4, a5);
    if (rc == 0 && option == PR_SET_NAME && a2 && rs_recording()) {
        rs_tl_busy++;
        char name[RS_THREAD_NAME_MAX]; /* as rs_ring_set_name may read, though 16 are used */
        size_t n = strnlen((const char *)a2, 16);
        memcpy(name, (const char *)a2, n);
        name[n] = 0;
        struct rs_ring *r = rs_ring_current();
        if (r)
            rs_ring_set_name(r, name);
        rs_tl_busy--;
    }
    return (int)rc;
}
