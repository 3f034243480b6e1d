/* Stands in for librefscope.so in tests of `refscope run`: it does what the real one does
 * with the environment it is given (expands REFSCOPE_OUTPUT and creates that file), and
 * nothing else. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void fake_shim(void)
{
    const char *t = getenv("REFSCOPE_OUTPUT");
    if (!t)
        return;
    char path[4096];
    size_t n = 0;
    for (; *t && n + 24 < sizeof path; t++) {
        if (t[0] == '%' && t[1] == 'p') {
            n += (size_t)snprintf(path + n, sizeof path - n, "%d", (int)getpid());
            t++;
        } else if (t[0] == '%' && t[1] == '%') {
            path[n++] = '%';
            t++;
        } else {
            path[n++] = *t;
        }
    }
    path[n] = '\0';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, "RSCOPE\r\n", 8) != 8)
            _exit(99);
        close(fd);
    }
}
