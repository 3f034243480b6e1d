#include "output.h"

#include "attach.h"
#include "rs_trace_encode.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char *program_invocation_short_name;

/* Expands %p (pid), %e (program name) and %% in the template. */
static bool expand_template(char *out, size_t cap, const char *tmpl, bool *had_pid)
{
    size_t n = 0;
    *had_pid = false;
    for (const char *p = tmpl; *p; p++) {
        char piece[64];
        const char *add = piece;
        if (*p == '%' && p[1] == 'p') {
            rs_format(piece, sizeof piece, "%d", (int)rs_pid);
            *had_pid = true;
            p++;
        } else if (*p == '%' && p[1] == 'e') {
            add = program_invocation_short_name ? program_invocation_short_name : "prog";
            p++;
        } else if (*p == '%' && p[1] == '%') {
            piece[0] = '%', piece[1] = 0;
            p++;
        } else {
            piece[0] = *p, piece[1] = 0;
        }
        size_t len = strlen(add);
        if (n + len + 1 > cap)
            return false;
        memcpy(out + n, add, len);
        n += len;
    }
    out[n] = 0;
    return true;
}

/* path "dir/name.ext" + "-tag" -> "dir/name-tag.ext" (no extension: appended). */
static bool insert_before_extension(char *path, size_t cap, const char *tag)
{
    char *slash = strrchr(path, '/');
    char *dot = strrchr(slash ? slash : path, '.');
    if (dot == (slash ? slash + 1 : path))
        dot = NULL; /* a dot file is a name, not an extension */
    size_t len = strlen(path), tlen = strlen(tag);
    if (len + tlen + 1 > cap)
        return false;
    size_t at = dot ? (size_t)(dot - path) : len;
    memmove(path + at + tlen, path + at, len - at + 1);
    memcpy(path + at, tag, tlen);
    return true;
}

int rs_output_create(char *path, size_t cap, bool fork_child)
{
    bool had_pid;
    char base[4096];
    if (!expand_template(base, sizeof base, rs_cfg.output_template, &had_pid)) {
        rs_log("output path template is too long; profiling disabled");
        return -1;
    }
    /* Without %p, processes other than the one `refscope run` started (fork children,
     * LD_PRELOAD inherited by subprocesses) get their pid in the name. */
    if (!had_pid && (fork_child || (rs_cfg.root_pid && rs_cfg.root_pid != rs_pid))) {
        char tag[32];
        rs_format(tag, sizeof tag, ".%d", (int)rs_pid);
        insert_before_extension(base, sizeof base, tag);
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (strlen(base) + 16 > cap)
            break;
        strcpy(path, base);
        if (attempt > 0) {
            char tag[32];
            rs_format(tag, sizeof tag, ".%d", attempt);
            insert_before_extension(path, cap, tag);
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST) {
            rs_log("cannot create trace file %s: %s; profiling disabled", path, strerror(errno));
            return -1;
        }
    }
    rs_log("cannot create trace file %s: too many files with that name; profiling disabled", base);
    return -1;
}

static size_t read_small_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    return n;
}

void rs_output_header(struct rs_buf *out, bool fork_child)
{
    /* Static: called only from the constructor and a fork child, one thread at a time. */
    static char scratch[65536];
    static uint8_t field_space[65536 + 8192];
    struct rs_buf fields = {.data = field_space, .cap = sizeof field_space};
    struct rs_buf *f = &fields;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    uint64_t realtime = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;

    rs_hdr_u64(f, RS_HDR_PID, (uint64_t)rs_pid);
    rs_hdr_u64(f, RS_HDR_PPID, (uint64_t)getppid());
    rs_hdr_u64(f, RS_HDR_START_REALTIME, realtime - (rs_now_ns() - rs_start_ns));
    rs_hdr_u64(f, RS_HDR_START_MONOTONIC, rs_start_ns);
    rs_hdr_u64(f, RS_HDR_CLOCK, CLOCK_MONOTONIC);
    rs_hdr_u64(f, RS_HDR_STACK_DEPTH, rs_cfg.native_stacks ? rs_cfg.stack_depth : 0);
    rs_hdr_u64(f, RS_HDR_PAGE_SIZE, (uint64_t)sysconf(_SC_PAGESIZE));
    rs_hdr_u64(f, RS_HDR_SAMPLE_BYTES, rs_cfg.sample_bytes);
    rs_hdr_u64(f, RS_HDR_FLAGS, (fork_child ? RS_TRACE_FLAG_FORK_CHILD : 0) |
                                    (rs_cfg.drop_on_full ? RS_TRACE_FLAG_DROP_ON_FULL : 0) |
                                    (rs_attach_mode ? RS_TRACE_FLAG_ATTACHED : 0));
    ssize_t n = readlink("/proc/self/exe", scratch, sizeof scratch - 1);
    if (n > 0)
        rs_hdr_bytes(f, RS_HDR_EXE, scratch, (size_t)n);
    if (gethostname(scratch, 256) == 0)
        rs_hdr_bytes(f, RS_HDR_HOSTNAME, scratch, strnlen(scratch, 256));
    /* The argument list is kept to what fits the header's fixed buffer. */
    size_t args = read_small_file("/proc/self/cmdline", scratch, sizeof scratch);
    if (args)
        rs_hdr_bytes(f, RS_HDR_ARGV, scratch, args);
    rs_encode_file_header(out, &fields);
}

bool rs_output_move_aside(char *path, size_t cap)
{
    char aside[4096];
    for (int attempt = 0; attempt < 100; attempt++) {
        if (strlen(path) + 32 > sizeof aside)
            return false;
        strcpy(aside, path);
        char tag[32];
        if (attempt)
            rs_format(tag, sizeof tag, ".pre-exec.%d", attempt + 1);
        else
            rs_format(tag, sizeof tag, ".pre-exec");
        insert_before_extension(aside, sizeof aside, tag);
        if (access(aside, F_OK) == 0)
            continue;
        if (rename(path, aside) != 0)
            return false;
        if (strlen(aside) < cap)
            strcpy(path, aside);
        return true;
    }
    return false;
}

void rs_output_move_back(char *path, const char *original)
{
    if (rename(path, original) == 0)
        strcpy(path, original);
}
