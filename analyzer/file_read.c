#include "file_read.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

bool rs_pread_all(int fd, void *buf, size_t len, uint64_t at)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(at + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

const uint8_t *rs_pread_buffered(int fd, uint8_t **buf, size_t *cap, size_t len, uint64_t at)
{
    if (len > *cap) {
        uint8_t *b = realloc(*buf, len ? len : 1);
        if (!b)
            return NULL;
        *buf = b;
        *cap = len;
    }
    return rs_pread_all(fd, *buf, len, at) ? *buf : NULL;
}
