/* libFuzzer target over everything that reads a trace: the reader (from memory), the
 * replay, verify, and every analysis command of the CLI exactly as a user runs it (report
 * text, JSON and --native, verify, types with retained sizes (dominator tree), growth,
 * backrefs, cycles, graph, and html when it is built), on the input written to a memory
 * file. Output goes to /dev/null. Built by tests/fuzz/CMakeLists.txt with clang,
 * -fsanitize=fuzzer,address,undefined: any crash, leak, undefined behaviour or hang
 * (-timeout) is a finding.
 *
 * Two differential checks ride along: verify's replay must count the same frees of
 * unknown blocks and the same allocations over live blocks as the report's replay, and
 * a trace that reads from memory must read the same from a file. */
#include "commands.h"
#include "replay.h"
#include "snap_graph.h"
#include "trace_reader.h"
#include "verify.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Commands that may or may not be in this build (other work in progress). */
int rs_cmd_html(int argc, char **argv) __attribute__((weak));

static int trace_fd = -1;
static char trace_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Command output and error messages: libFuzzer keeps its own copy of stderr. */
    FILE *null_out = fopen("/dev/null", "w");
    if (!null_out)
        abort();
    stdout = null_out;
    stderr = null_out;
    trace_fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
    if (trace_fd < 0)
        abort();
    snprintf(trace_path, sizeof trace_path, "/proc/self/fd/%d", trace_fd);
    return 0;
}

static void cmd(int (*fn)(int, char **), const char *a0, const char *a1, const char *a2,
                const char *a3, const char *a4)
{
    char *argv[8];
    const char *src[] = {a0, trace_path, a1, a2, a3, a4, NULL};
    int argc = 0;
    for (int i = 0; src[i]; i++)
        argv[argc++] = (char *)src[i];
    argv[argc] = NULL;
    fn(argc, argv);
    fflush(stdout);
}

/* Mutations would almost never get past the checksums: a copy of the input with every
 * checksum and chunk number made right is what the analysis sees (the input as it is goes
 * through the reader too, for the checks themselves). */
static uint8_t *fixed_copy(const uint8_t *data, size_t size)
{
    uint8_t *d = malloc(size ? size : 1);
    if (!d)
        abort();
    memcpy(d, data, size);
    if (size < RS_FILE_HEADER_SIZE)
        return d;
    uint32_t body = rs_get_u32le(d + 12);
    if (body > size - RS_FILE_HEADER_SIZE)
        return d;
    rs_put_u32le(d + 16, rs_crc32(d + RS_FILE_HEADER_SIZE, body));
    size_t at = RS_FILE_HEADER_SIZE + body;
    uint32_t seq = 0;
    while (size - at >= RS_CHUNK_HEADER_SIZE && rs_get_u32le(d + at) == RS_CHUNK_MAGIC) {
        uint32_t len = rs_get_u32le(d + at + 4);
        if (len > RS_CHUNK_MAX_PAYLOAD || len > size - at - RS_CHUNK_HEADER_SIZE)
            break;
        rs_put_u32le(d + at + 24, seq++);
        rs_put_u32le(d + at + 8, rs_crc32(d + at + RS_CHUNK_CRC_FROM,
                                         RS_CHUNK_HEADER_SIZE - RS_CHUNK_CRC_FROM + len));
        at += RS_CHUNK_HEADER_SIZE + len;
    }
    return d;
}

static void differential(const struct rs_trace *t)
{
    struct rs_replay r;
    if (rs_replay_run(t, &r) != 0)
        return;
    struct rs_verify v;
    memset(&v, 0, sizeof v);
    v.path = "fuzz";
    if (rs_verify_trace(&v, t, NULL, NULL) == 0) {
        if (v.frees_before_trace + v.frees_of_freed != r.frees_unknown ||
            v.replaced != r.replaced || v.events != r.events) {
            fprintf(stdout, "verify and replay disagree\n");
            abort();
        }
    }
    rs_verify_free(&v);
    rs_replay_free(&r);
}

static void analyse(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rs_trace *t = NULL;
    struct rs_read_error err;
    if (rs_trace_read_buffer(data, size, "fuzz", &t, &err) != RS_READ_OK && t)
        abort(); /* an error must leave no trace */
    rs_trace_free(t);
    uint8_t *fixed = fixed_copy(data, size);
    analyse(fixed, size);
    free(fixed);
    return 0;
}

static void analyse(const uint8_t *data, size_t size)
{
    struct rs_trace *t = NULL;
    struct rs_read_error err;
    enum rs_read_status s = rs_trace_read_buffer(data, size, "fuzz", &t, &err);
    if (s != RS_READ_OK) {
        if (t)
            abort();
        return;
    }
    differential(t);
    uint64_t nevents = t->nevents;
    bool has_snapshots = t->snapshots && t->snapshots->n;
    rs_trace_free(t);

    if (ftruncate(trace_fd, 0) != 0 || pwrite(trace_fd, data, size, 0) != (ssize_t)size)
        abort();
    /* the file must read as the buffer did */
    if (rs_trace_read_file(trace_path, &t, &err) != RS_READ_OK || t->nevents != nevents)
        abort();
    rs_trace_free(t);

    cmd(rs_cmd_report, "report", NULL, NULL, NULL, NULL);
    cmd(rs_cmd_report, "report", "--json", "--top", "0", NULL);
    cmd(rs_cmd_report, "report", "--native", "--stack-depth", "0", NULL);
    cmd(rs_cmd_report, "report", "--thread", "1", "--json", NULL);
    cmd(rs_cmd_verify, "verify", NULL, NULL, NULL, NULL);
    cmd(rs_cmd_verify, "verify", "--json", NULL, NULL, NULL);
    cmd(rs_cmd_types, "types", "--retained", "--top", "0", NULL);
    if (has_snapshots) {
        cmd(rs_cmd_types, "types", "--json", "--no-frozen", NULL, NULL);
        cmd(rs_cmd_growth, "growth", "--decreases", "--top", "0", NULL);
        cmd(rs_cmd_growth, "growth", "--json", NULL, NULL, NULL);
        cmd(rs_cmd_backrefs, "backrefs", "--type", "dict", NULL, NULL);
        cmd(rs_cmd_backrefs, "backrefs", "--type", "Node", "--json", NULL);
        cmd(rs_cmd_backrefs, "backrefs", "--site", "leaky.py:7", "--max-depth", "5");
        cmd(rs_cmd_cycles, "cycles", "--all", NULL, NULL, NULL);
        cmd(rs_cmd_cycles, "cycles", "--json", "--top", "0", NULL);
        cmd(rs_cmd_graph, "graph", "--refs", "--type", "dict", NULL);
        cmd(rs_cmd_graph, "graph", "--backrefs", "--type", "Node", NULL);
    }
    if (rs_cmd_html)
        cmd(rs_cmd_html, "html", "-o", "-", NULL, NULL);
}
