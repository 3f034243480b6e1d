#include "out_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The path as given: whoever prints the message escapes it. */
static FILE *fail(const char *path, const char *why, char *err, size_t errcap)
{
    snprintf(err, errcap, "%s: %s", path, why);
    return NULL;
}

FILE *rs_out_open(const char *path, char *err, size_t errcap)
{
    /* O_NONBLOCK: opening a FIFO for writing must not wait for a reader. Not O_TRUNC: what
     * is there is only emptied once it is known to be a regular file. */
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == ELOOP)
            return fail(path, "is a symbolic link: refusing to write through it", err, errcap);
        return fail(path, strerror(errno), err, errcap);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(path, "is not a regular file: refusing to write to it", err, errcap);
    }
    int flags = fcntl(fd, F_GETFL);
    if (ftruncate(fd, 0) != 0 || flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return fail(path, strerror(e), err, errcap);
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        return fail(path, strerror(e), err, errcap);
    }
    return f;
}

int rs_out_write(const char *path, const void *data, size_t len, char *err, size_t errcap)
{
    FILE *f = rs_out_open(path, err, errcap);
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    int e = errno;
    if (fclose(f) != 0 || n != len) {
        fail(path, strerror(n != len ? e : errno), err, errcap);
        return -1;
    }
    return 0;
}

int rs_open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

void rs_close_if_open(int fd)
{
    if (fd >= 0 && fcntl(fd, F_GETFD) != -1)
        close(fd);
}
