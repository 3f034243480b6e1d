/* The snapshot commands as a user runs them: text and JSON output, -o files, exit codes
 * and one-line errors. argv[1]: the refscope executable. */
#include "snap_scenes.h"
#include "test_util.h"

#include <graphviz/cgraph.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TEST_GLOBALS;

static const char *refscope;
static char workdir[4096];

struct result {
    int code;
    char out[131072];
    char err[8192];
};

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

static void run(const char *const *args, struct result *r)
{
    char out_path[4200], err_path[4200];
    snprintf(out_path, sizeof out_path, "%s/.stdout", workdir);
    snprintf(err_path, sizeof err_path, "%s/.stderr", workdir);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(workdir) != 0 || !freopen(out_path, "w", stdout) ||
            !freopen(err_path, "w", stderr))
            _exit(90);
        const char *argv[64] = {refscope};
        for (size_t i = 0; args[i] && i < 62; i++)
            argv[i + 1] = args[i];
        execv(refscope, (char **)argv);
        _exit(91);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    slurp(out_path, r->out, sizeof r->out);
    slurp(err_path, r->err, sizeof r->err);
    if (getenv("VERBOSE"))
        fprintf(stderr, "--- %s %s ...: %d\n%s%s", args[0], args[1] ? args[1] : "", r->code,
                r->out, r->err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void save(struct tb *b, const char *name)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", workdir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fwrite(b->buf.data, 1, b->buf.len, f);
        fclose(f);
    }
}

static size_t size_of(const char *name)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", workdir, name);
    return stat(p, &st) == 0 ? (size_t)st.st_size : 0;
}

static void build_traces(void)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, RS_CHUNK_TID_META, 0);
    sc_py_stack(&b, "/src/cache_leak.py");
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 100, 0);
    for (int k = 0; k < 4; k++)
        rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 500, 0x4000 + 0x100 * (uint64_t)k - 16, 64,
                     SC_PY_STACK);
    /* The leaked objects of scene B were made by the program's Python code too (else they
     * would pass for the interpreter's own). */
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 600, 0xc100 - 16, 64, SC_PY_STACK);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 600, 0xc200 - 16, 64, SC_PY_STACK);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 600, 0xe100 - 16, 64, SC_PY_STACK);
    tb_chunk_end(&b, 7);
    sc_write(&b, 1, 1000, "start", &scene_a, 0, 1, true);
    sc_write(&b, 2, 2000, "later", &scene_b, 0, 1, true);
    save(&b, "ab.rsc");
    tb_free(&b);

    tb_init(&b);
    tb_default_header(&b);
    sc_write(&b, 1, 1000, "ok", &scene_a, 0, 1, true);
    /* A snapshot whose object record lies about its count. */
    tb_chunk(&b, RS_CHUNK_TID_META, 2000);
    rs_rec_snap_begin(&b.w, 2, 2000, RS_SNAP_API, "bad");
    size_t at = rs_rec_begin(&b.w, RS_TAG_SNAP_NODES);
    rs_buf_varint(&b.buf, 1000000);
    rs_buf_varint(&b.buf, 5);
    rs_rec_end(&b.w, at);
    rs_rec_snap_end(&b.w, 2, 1000000, 0, 0);
    /* And one the process never finished. */
    rs_rec_snap_begin(&b.w, 3, 3000, RS_SNAP_EXIT, "cut");
    tb_chunk_end(&b, 0);
    save(&b, "bad.rsc");
    tb_free(&b);

    tb_init(&b);
    tb_default_header(&b);
    save(&b, "none.rsc");
    tb_free(&b);
}

static void test_types(void)
{
    static struct result r;
    run(ARGS("types", "ab.rsc", "--snapshot", "1"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "snapshot 1 \"start\" (api");
    CHECK_CONTAINS(r.out, "\n  __main__.Connection                                 4    192 bytes\n");
    run(ARGS("types", "ab.rsc", "--snapshot=start", "--retained", "--json"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "\"schema\": \"refscope.types/1\"");
    CHECK_CONTAINS(r.out, "\"name\": \"__main__.Connection\",\n      \"short_name\": \"Connection\",\n"
                          "      \"count\": 4,\n      \"size\": 192,\n      \"retained\": 432");
    run(ARGS("types", "ab.rsc"), &r); /* the last snapshot: scene B */
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "snapshot 2 \"later\"");
    run(ARGS("types", "ab.rsc", "--snapshot", "9"), &r);
    CHECK_EQ_U64(r.code, 1);
    CHECK_STR(r.err, "refscope: types: no complete snapshot '9' in the trace (snapshots: 1, 2)\n");
    run(ARGS("types", "none.rsc"), &r);
    CHECK_EQ_U64(r.code, 1);
    CHECK_CONTAINS(r.err, "no complete object-graph snapshot");
    run(ARGS("types"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("types", "ab.rsc", "--top", "x"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("types", "--help"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "refscope.types/1");
}

static void test_corrupt_cli(void)
{
    static struct result r;
    run(ARGS("types", "bad.rsc", "--snapshot", "2"), &r);
    CHECK_EQ_U64(r.code, 1);
    CHECK_CONTAINS(r.err, "refscope: types: snapshot 2 is corrupt: object record with an "
                          "impossible count (1000000)");
    CHECK(strchr(r.err, '\n') == r.err + strlen(r.err) - 1); /* one line */
    run(ARGS("cycles", "bad.rsc", "--snapshot", "3"), &r);
    CHECK_EQ_U64(r.code, 1);
    /* The default is the last complete snapshot: the corrupt one. */
    run(ARGS("backrefs", "bad.rsc", "--type", "list"), &r);
    CHECK_EQ_U64(r.code, 1);
    run(ARGS("types", "bad.rsc", "--snapshot", "ok"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "snapshot 3 is incomplete (the process stopped while writing it) "
                          "and was ignored");
}

static void test_backrefs_cli(void)
{
    static struct result r;
    run(ARGS("backrefs", "ab.rsc", "--snapshot", "1", "--addr", "0x4100"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "Shortest chain (3 references), root: a module in sys.modules:\n\n"
                          "module __main__\n"
                          "  --[__dict__]--> dict (12 items)\n"
                          "  --[_cache]--> list (3 items)\n"
                          "  --[1]--> __main__.Connection  (alloc: cache_leak.py:21 handle)\n");
    CHECK_CONTAINS(r.out, "would free 108 bytes");
    run(ARGS("backrefs", "ab.rsc", "--snapshot", "1", "--type", "Connection", "-o", "chain.dot"),
        &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "4 objects match type Connection");
    CHECK_CONTAINS(r.out, "root: a frame of thread 'MainThread'");
    CHECK_CONTAINS(r.out, "frame (handle)\n  --[conn]--> __main__.Connection");
    CHECK(size_of("chain.dot") > 100);
    run(ARGS("backrefs", "ab.rsc", "--snapshot", "1", "--site", "cache_leak.py:21", "--json"),
        &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "\"schema\": \"refscope.backrefs/1\"");
    CHECK_CONTAINS(r.out, "\"matches\": 4");
    CHECK_CONTAINS(r.out, "\"kind\": \"thread\",\n    \"name\": \"MainThread\"");
    CHECK_CONTAINS(r.out, "\"text\": \"cache_leak.py:21 handle\"");
    CHECK_CONTAINS(r.out, "\"retained\": 108");
    run(ARGS("backrefs", "ab.rsc", "--type", "Nothing"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "0 objects match type Nothing");
    run(ARGS("backrefs", "ab.rsc"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("backrefs", "ab.rsc", "--addr", "zz"), &r);
    CHECK_EQ_U64(r.code, 2);
}

static void test_cycles_cli(void)
{
    static struct result r;
    run(ARGS("cycles", "ab.rsc", "-o", "cycles.svg"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "Uncollectable (held by gc.garbage): 1 cycle, 3 objects, 120 bytes");
    CHECK_CONTAINS(r.out, "  #1   1 cycle of 3 objects, 120 bytes in all  [__del__]\n"
                          "      types: 3 __main__.Resource\n");
    CHECK_CONTAINS(r.out, "Leaked (kept alive by references no recorded object holds): 1 cycle");
    CHECK_CONTAINS(r.out, "Cyclic garbage (the collector would free it): 1 cycle, 2 objects");
    CHECK_CONTAINS(r.out, "1  ext.Blob, 24 bytes");
    CHECK(size_of("cycles.svg") > 500);
    CHECK(!strstr(r.out, "interpreter's own"));
    run(ARGS("cycles", "ab.rsc", "--json"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "\"schema\": \"refscope.cycles/1\"");
    CHECK_CONTAINS(r.out, "\"garbage\": {\n      \"cycles\": 1,\n      \"objects\": 2,\n"
                          "      \"size\": 96\n");
    run(ARGS("cycles", "ab.rsc", "--snapshot", "1"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "Cyclic garbage (the collector would free it): none");
    CHECK_CONTAINS(r.out, "Leaked references (single objects no module or thread reaches, with "
                          "more references than known objects hold): none");
}

static void test_graph_cli(void)
{
    static struct result r;
    run(ARGS("graph", "ab.rsc", "--snapshot", "1", "--refs", "--type", "list", "--too-many", "2"),
        &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "digraph ObjectGraph {");
    CHECK_CONTAINS(r.out, "1 more reference\"");
    Agraph_t *g = agmemread(r.out);
    CHECK(g != NULL);
    if (g) {
        /* list, 2 Connections, their 2 strs, "1 more" */
        CHECK_EQ_U64(agnnodes(g), 6);
        agclose(g);
    }
    run(ARGS("graph", "ab.rsc", "--snapshot", "1", "--backrefs", "--addr", "0x4000",
             "-o", "g.png"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK(size_of("g.png") > 500);
    run(ARGS("graph", "ab.rsc", "--backrefs", "--addr", "0x4000", "-o", "g.pdf"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("graph", "ab.rsc", "--type", "list"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("graph", "ab.rsc", "--refs", "--type", "NoSuch"), &r);
    CHECK_EQ_U64(r.code, 1);
}

static void test_growth_cli(void)
{
    static struct result r;
    run(ARGS("growth", "ab.rsc"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "Types that grew:");
    CHECK_CONTAINS(r.out, "__main__.Node");
    run(ARGS("growth", "ab.rsc", "--decreases", "--json"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "\"schema\": \"refscope.growth/1\"");
    CHECK_CONTAINS(r.out, "\"name\": \"__main__.Connection\",\n      \"count_from\": 4,\n"
                          "      \"count_to\": 0,\n      \"count_change\": -4");
}

static void test_report_suspects(void)
{
    static struct result r;
    run(ARGS("report", "ab.rsc"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "Leak suspects (object-graph snapshots: 2; details from snapshot 2):\n"
                          "#1   ext.Leaky: leaked (held by references no recorded object holds) "
                          "(0 -> 2)\n     2 objects, 64 bytes, retaining 64 bytes\n"
                          "     allocated at cache_leak.py:21 handle (2 of them)\n");
    run(ARGS("report", "ab.rsc", "--json"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "\"leak_suspects\": [\n    {\n      \"type\": \"ext.Leaky\",\n"
                          "      \"reasons\": [\n        \"leaked\"\n      ],");
    CHECK_CONTAINS(r.out, "\"leak_suspects_note\": null");
    run(ARGS("report", "none.rsc", "--json"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "\"leak_suspects\": []");
}

/* refscope check's leaked-bytes in a sampled Python trace: a C-allocator block sampled with
 * no stack at all and left at the end is the interpreter's start-up or teardown (as the
 * report names it), which the "interpreter" suppression takes; one allocated under the
 * program's Python code is an extension's. (Such a start-up block, sampled now and then,
 * failed clean programs.) */
static void build_leaked_bytes_trace(const char *name, uint32_t stack)
{
    struct tb b;
    tb_init(&b);
    struct rs_buf f;
    tb_fields_init(&f);
    rs_hdr_u64(&f, RS_HDR_PID, 4242);
    rs_hdr_bytes(&f, RS_HDR_EXE, "/usr/bin/python3", 16);
    rs_hdr_u64(&f, RS_HDR_SAMPLE_BYTES, 4096);
    tb_header(&b, &f);
    tb_fields_free(&f);
    tb_chunk(&b, RS_CHUNK_TID_META, 0);
    sc_py_stack(&b, "/src/app.py");
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 100, 0);
    rs_rec_sampled_alloc(&b.w, RS_ALLOC_PY_OBJ, 400, 0x80000, 64, 0, 4096);
    rs_rec_sampled_alloc(&b.w, RS_ALLOC_MALLOC, 500, 0x90000, 48, stack, 4096);
    tb_chunk_end(&b, 2);
    save(&b, name);
    tb_free(&b);
}

static void test_check_leaked_bytes(void)
{
    static struct result r;
    build_leaked_bytes_trace("nostack.rsc", 0);
    build_leaked_bytes_trace("app.rsc", SC_PY_STACK);
    run(ARGS("check", "nostack.rsc"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "pass: leaked-bytes");
    run(ARGS("check", "app.rsc"), &r);
    CHECK_EQ_U64(r.code, 1);
    CHECK_CONTAINS(r.out, "FAIL leaked-bytes: 4,096 bytes left allocated at exit (limit 0) in 1 "
                          "site: largest: 4,096 bytes in 85 blocks at app.py:21 handle");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_snap_cli REFSCOPE\n");
        return 2;
    }
    refscope = realpath(argv[1], NULL);
    if (!refscope) {
        perror("realpath");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(workdir, sizeof workdir, "%s/refscope-snap-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(workdir)) {
        perror("mkdtemp");
        return 1;
    }
    build_traces();
    test_types();
    test_corrupt_cli();
    test_backrefs_cli();
    test_cycles_cli();
    test_graph_cli();
    test_growth_cli();
    test_report_suspects();
    test_check_leaked_bytes();
    const char *names[] = {"ab.rsc", "bad.rsc", "none.rsc", "nostack.rsc", "app.rsc", "chain.dot",
                           "cycles.svg", "g.png", ".stdout", ".stderr"};
    for (size_t i = 0; !getenv("KEEP") && i < sizeof names / sizeof *names; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", workdir, names[i]);
        unlink(p);
    }
    rmdir(workdir);
    free((void *)refscope);
    return test_result("snap_cli");
}
