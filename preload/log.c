#include "shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

RS_HIDDEN int rs_log_fd = STDERR_FILENO;

int rs_format(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n;
}

static void vlog(const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "refscope: ");
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    int fd = rs_log_fd;
    if (fd < 0)
        return;
    ssize_t unused = write(fd, line, (size_t)n);
    (void)unused;
}

void rs_log(const char *fmt, ...)
{
    rs_tl_busy++;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    rs_tl_busy--;
}

void rs_debug(const char *fmt, ...)
{
    if (!rs_cfg.verbose)
        return;
    rs_tl_busy++;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    rs_tl_busy--;
}
