/* The refscope CLI as a user meets it: exit codes, one-line errors, and `run` (with a
 * stand-in library) passing on environment, exit status and signals.
 * argv[1]: the refscope executable; argv[2]: the stand-in librefscope.so. */
#include "test_util.h"
#include "trace_builder.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TEST_GLOBALS;

static const char *refscope;
static const char *fake_lib;
static char workdir[4096];

struct result {
    int status;           /* raw wait status */
    int code;             /* exit code, or -1 when killed */
    char out[65536];
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

/* Runs refscope with `args` (NULL-terminated) in the work directory, with the stand-in
 * library, plus "NAME=value" settings from `env`. If `signal_after_ms`, sends the listed
 * signals to refscope after that delay. */
static void run_full(const char *const *args, const char *const *env, int signal_after_ms,
                     const int *signals, struct result *r)
{
    char out_path[4200], err_path[4200];
    snprintf(out_path, sizeof out_path, "%s/.stdout", workdir);
    snprintf(err_path, sizeof err_path, "%s/.stderr", workdir);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(workdir) != 0 || !freopen(out_path, "w", stdout) ||
            !freopen(err_path, "w", stderr))
            _exit(90);
        setenv("REFSCOPE_LIBRARY", fake_lib, 1);
        unsetenv("LD_PRELOAD");
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        const char *argv[64] = {refscope};
        for (size_t i = 0; args[i] && i < 62; i++)
            argv[i + 1] = args[i];
        execv(refscope, (char **)argv);
        _exit(91);
    }
    if (signal_after_ms) {
        struct timespec ts = {0, signal_after_ms * 1000000L};
        nanosleep(&ts, NULL);
        for (size_t i = 0; signals[i]; i++) {
            kill(pid, signals[i]);
            nanosleep(&ts, NULL);
        }
    }
    waitpid(pid, &r->status, 0);
    r->code = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
    slurp(out_path, r->out, sizeof r->out);
    slurp(err_path, r->err, sizeof r->err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void run(const char *const *args, struct result *r)
{
    run_full(args, NULL, 0, NULL, r);
}

/* `refscope report -` with `data` written into a pipe on its standard input: a file that
 * cannot be mapped, nor read twice. */
static void run_report_piped(const void *data, size_t len, struct result *r)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    int saved = dup(0);
    dup2(fds[0], 0);
    close(fds[0]);
    CHECK(len < 65536); /* fits the pipe: written before the reader starts */
    CHECK(write(fds[1], data, len) == (ssize_t)len);
    close(fds[1]);
    run(ARGS("report", "-"), r);
    dup2(saved, 0);
    close(saved);
}


static bool exists(const char *name)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", workdir, name);
    return stat(p, &st) == 0;
}

static void write_file(const char *name, const void *data, size_t len)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", workdir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static void usage_and_dispatch(void)
{
    static struct result r;
    run(ARGS("--help"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "Usage: refscope COMMAND");
    CHECK_CONTAINS(r.out, "report");
    run(ARGS("--version"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "refscope 0.1.0 (trace format 1.0)");

    const char *const none[] = {NULL};
    run(none, &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_CONTAINS(r.err, "Usage: refscope");
    run(ARGS("frobnicate"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_STR(r.err, "refscope: unknown command 'frobnicate' (see 'refscope --help')\n");
    run(ARGS("--frob"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("report"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_STR(r.err, "refscope: report: missing the trace file (see 'refscope report --help')\n");
    run(ARGS("report", "a.rsc", "--top", "x"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_CONTAINS(r.err, "--top takes a number, not 'x'");
    run(ARGS("report", "a.rsc", "--top"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("report", "a.rsc", "--stack-depth=9999"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("report", "a.rsc", "--color"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_CONTAINS(r.err, "unknown option '--color'");
    run(ARGS("report", "a.rsc", "b.rsc"), &r);
    CHECK_EQ_U64(r.code, 2);
    run(ARGS("report", "--help"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "--stack-depth N");
    run(ARGS("help", "run"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "Usage: refscope run");
    run(ARGS("run"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_CONTAINS(r.err, "missing the command to run");
    run(ARGS("run", "--bogus", "true"), &r);
    CHECK_EQ_U64(r.code, 2);
}

static void report_files(void)
{
    static struct result r;
    run(ARGS("report", "missing.rsc"), &r);
    CHECK_EQ_U64(r.code, 1);
    CHECK_STR(r.err, "refscope: missing.rsc: No such file or directory\n");

    write_file("empty.rsc", "", 0);
    run(ARGS("report", "empty.rsc"), &r);
    CHECK_EQ_U64(r.code, 1);
    CHECK_STR(r.err, "refscope: empty.rsc: file is empty\n");

    write_file("text.rsc", "hello\n", 6);
    run(ARGS("report", "text.rsc"), &r);
    CHECK_EQ_U64(r.code, 1);
    CHECK_STR(r.err, "refscope: text.rsc: not a refscope trace (bad magic)\n");

    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 7, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 10, 0x1000, 1234, 0);
    tb_chunk_end(&b, 1);
    tb_chunk(&b, 0, 0);
    rs_rec_end_of_trace(&b.w, 1, 0, 0, 20, RS_END_EXIT);
    tb_chunk_end(&b, 0);
    write_file("good.rsc", b.buf.data, b.buf.len);
    b.buf.data[b.buf.len - 1] ^= 1;
    write_file("bad.rsc", b.buf.data, b.buf.len);
    char want[128];
    snprintf(want, sizeof want,
             "refscope: bad.rsc: corrupt chunk at byte %zu (checksum mismatch)\n",
             b.chunk_start[1]);

    run(ARGS("report", "good.rsc"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_STR(r.err, "");
    CHECK_CONTAINS(r.out, "leaked at exit: 1 block, 1,234 bytes, from 1 stack\n");
    run(ARGS("report", "--json", "good.rsc"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK(strncmp(r.out, "{\n  \"schema\": \"refscope.report/1\",", 34) == 0);
    CHECK_CONTAINS(r.out, "\"bytes\": 1234,");
    run(ARGS("report", "bad.rsc"), &r);
    CHECK_EQ_U64(r.code, 1);
    CHECK_STR(r.err, want);
    b.buf.data[b.buf.len - 1] ^= 1;
    run_report_piped(b.buf.data, b.buf.len, &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_STR(r.err, "");
    CHECK_CONTAINS(r.out, "leaked at exit: 1 block, 1,234 bytes, from 1 stack\n");
    tb_free(&b);

    /* --native and --thread */
    run(ARGS("report", "good.rsc", "--native"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "leaked at exit: 1 block, 1,234 bytes, from 1 stack\n");
    run(ARGS("report", "good.rsc", "--thread=7"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.out, "thread filter: only blocks allocated by thread (tid 7)\n");
    CHECK_CONTAINS(r.out, "leaked at exit: 1 block, 1,234 bytes, from 1 stack\n");
    run(ARGS("report", "good.rsc", "--thread", "8"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_STR(r.out, "");
    CHECK_CONTAINS(r.err, "refscope: report: no thread in the trace matches '8'");
    run(ARGS("report", "good.rsc", "--thread"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_CONTAINS(r.err, "--thread needs a tid or a thread name");
    run(ARGS("report", "--help"), &r);
    CHECK_CONTAINS(r.out, "--native");
    CHECK_CONTAINS(r.out, "--thread T");
}

static void run_command(void)
{
    static struct result r;
    char want[8192];

    /* Exit status, and where the trace went. */
    run(ARGS("run", "-o", "out.rsc", "--", "sh", "-c", "exit 3"), &r);
    CHECK_EQ_U64(r.code, 3);
    CHECK_STR(r.err, "refscope: trace written to out.rsc\n");
    CHECK(exists("out.rsc"));

    /* It exists now: refused, unless --force. */
    run(ARGS("run", "-o", "out.rsc", "true"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_STR(r.err, "refscope: out.rsc: already exists (use --force to overwrite it)\n");
    run(ARGS("run", "-q", "--force", "-o", "out.rsc", "true"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_STR(r.err, "");
    run(ARGS("run", "-o", "/nonexistent/dir/x.rsc", "true"), &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_CONTAINS(r.err, "refscope: cannot write traces to directory /nonexistent/dir: ");

    /* The environment the command gets; % in a literal name is escaped for the shim. */
    const char *const env[] = {"LD_PRELOAD=/opt/other.so", "ASAN_OPTIONS=verify_asan_link_order=0",
                               NULL};
    run_full(ARGS("run", "-o", "a%p.rsc", "sh", "-c",
                  "printf '%s|%s|%s|%s' \"$LD_PRELOAD\" \"$REFSCOPE_OUTPUT\" "
                  "\"$REFSCOPE_ROOT_PID\" \"$$\" > env.txt"),
             env, 0, NULL, &r);
    CHECK_EQ_U64(r.code, 0);
    char envtxt[8192];
    char p[4200];
    snprintf(p, sizeof p, "%s/env.txt", workdir);
    slurp(p, envtxt, sizeof envtxt);
    char *lib = realpath(fake_lib, NULL);
    snprintf(want, sizeof want, "%s:/opt/other.so|%s/a%%%%p.rsc|", lib, workdir);
    free(lib);
    CHECK(strncmp(envtxt, want, strlen(want)) == 0);
    if (strncmp(envtxt, want, strlen(want)) != 0)
        fprintf(stderr, "env.txt: %s\nwanted prefix: %s\n", envtxt, want);
    char *pids = strrchr(envtxt, '|');
    if (pids) { /* REFSCOPE_ROOT_PID is the command's own pid */
        *pids = '\0';
        char *root = strrchr(envtxt, '|');
        CHECK(root && strcmp(root + 1, pids + 1) == 0);
    }
    CHECK(exists("a%p.rsc"));

    /* Default names, and traces of child processes. */
    run(ARGS("run", "--", "sh", "-c", "sh -c true; true"), &r);
    CHECK_EQ_U64(r.code, 0);
    CHECK_CONTAINS(r.err, "refscope: trace written to refscope-sh-");
    CHECK_CONTAINS(r.err, "refscope: 1 more trace file from child processes: refscope-sh-");
    int traces = 0;
    DIR *d = opendir(workdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        traces += strncmp(e->d_name, "refscope-sh-", 12) == 0;
    if (d)
        closedir(d);
    CHECK_EQ_U64(traces, 2);

    /* A % in the directory is not a template directive either. */
    char saved[4096];
    snprintf(saved, sizeof saved, "%s", workdir);
    int wn = snprintf(workdir, sizeof workdir, "%s/pct%%p", saved);
    CHECK(wn > 0 && (size_t)wn < sizeof workdir);
    CHECK(mkdir(workdir, 0700) == 0);
    run(ARGS("run", "sh", "-c", "printf '%s' \"$REFSCOPE_OUTPUT\" > out.txt"), &r);
    CHECK_EQ_U64(r.code, 0);
    snprintf(p, sizeof p, "%s/out.txt", workdir);
    slurp(p, envtxt, sizeof envtxt);
    snprintf(want, sizeof want, "%s/pct%%%%p/refscope-sh-%%p.rsc", saved);
    CHECK_STR(envtxt, want);
    CHECK_CONTAINS(r.err, "refscope: trace written to refscope-sh-");
    unlink(p);
    DIR *pd = opendir(workdir);
    struct dirent *pe;
    while (pd && (pe = readdir(pd))) {
        if (pe->d_name[0] != '.') {
            char q[8400];
            snprintf(q, sizeof q, "%s/%s", workdir, pe->d_name);
            unlink(q);
        }
    }
    if (pd)
        closedir(pd);
    rmdir(workdir);
    snprintf(workdir, sizeof workdir, "%s", saved);

    /* A command that cannot run. */
    run(ARGS("run", "-o", "never.rsc", "/nonexistent/cmd", "arg"), &r);
    CHECK_EQ_U64(r.code, 127);
    CHECK_STR(r.err, "refscope: cannot run /nonexistent/cmd: No such file or directory\n");
    CHECK(!exists("never.rsc"));

    /* Death by signal is passed on as such. */
    run(ARGS("run", "-q", "-o", "sig.rsc", "--force", "sh", "-c", "kill -TERM $$"), &r);
    CHECK(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM);

    /* SIGINT sent to refscope alone is ignored; SIGUSR1 is passed to the command. */
    const int sigs[] = {SIGINT, SIGUSR1, 0};
    run_full(ARGS("run", "-q", "-o", "fwd.rsc", "sh", "-c",
                  "trap 'exit 42' USR1; while :; do sleep 0.02; done"),
             NULL, 300, sigs, &r);
    CHECK_EQ_U64(r.code, 42);

    /* No library, no run. */
    const char *const nolib[] = {"REFSCOPE_LIBRARY=/nonexistent/librefscope.so", NULL};
    run_full(ARGS("run", "true"), nolib, 0, NULL, &r);
    CHECK_EQ_U64(r.code, 2);
    CHECK_CONTAINS(r.err, "refscope: cannot find librefscope.so (looked for "
                          "/nonexistent/librefscope.so");
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4400];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_cli REFSCOPE FAKE_LIBREFSCOPE\n");
        return 2;
    }
    refscope = realpath(argv[1], NULL); /* the tests run in another directory */
    fake_lib = realpath(argv[2], NULL);
    if (!refscope || !fake_lib) {
        perror("realpath");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(workdir, sizeof workdir, "%s/refscope-cli-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(workdir)) {
        perror("mkdtemp");
        return 1;
    }
    usage_and_dispatch();
    report_files();
    run_command();
    remove_tree(workdir);
    return test_result("cli");
}
