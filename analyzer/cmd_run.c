/* refscope run [-o FILE] [--force] [-q] [--] COMMAND [ARGS...]
 *
 * Runs COMMAND with librefscope.so preloaded and waits for it, standing in for it as a
 * shell would: the same exit status (the same signal, when it died of one), terminal
 * signals left to the command, termination signals passed on to it. */
#include "commands.h"

#include "check_cli.h"
#include "escape.h"
#include "trace_path.h"
#include "rs_uthash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#define LIBRARY_NAME "librefscope.so"
#define TEMPLATE_MAX 4096 /* the shim's output_template buffer */

static const char help[] =
    "Usage: refscope run [-o FILE] [--force] [-q] [--] COMMAND [ARGS...]\n"
    "       refscope run [-o FILE] [--force] [-q] --check [CHECK OPTIONS] -- COMMAND...\n"
    "\n"
    "Runs COMMAND with refscope recording its allocations and frees, and those of the\n"
    "processes it starts. Each process writes its own trace: by default\n"
    "refscope-<command>-<pid>.rsc in the current directory.\n"
    "\n"
    "  -o, --output FILE  write the trace of COMMAND's process to FILE (used literally)\n"
    "  -f, --force        overwrite FILE if it exists\n"
    "  -q, --quiet        do not say where the traces were written\n"
    "  --check            then check the trace as `refscope check` does, with the options\n"
    "                     up to -- (see `refscope check --help`)\n"
    "\n"
    "With --check, the exit status is COMMAND's when it failed (or died of a signal),\n"
    "else the check's: 0 the trace passes, 1 it fails, 2 and up errors.\n"
    "The exit status is COMMAND's (127 when it cannot be run); 2 when refscope refuses to\n"
    "start (bad usage, FILE exists, the directory is not writable, " LIBRARY_NAME "\n"
    "not found). REFSCOPE_LIBRARY, when set, names the library to preload instead of the\n"
    "one installed beside refscope.\n";

struct run_options {
    const char *output;
    bool force;
    bool quiet;
    char **command;
    struct rs_check_cli *check; /* --check */
};

/* ---- paths --------------------------------------------------------------------------- */

static char *join(const char *a, const char *b, const char *c)
{
    char *s = NULL;
    return asprintf(&s, "%s%s%s", a, b, c) < 0 ? NULL : s;
}

static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return strdup(path); /* relative it stays: it still works if nothing changes dir */
    return join(cwd, "/", path);
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void print_path_error(const char *what, const char *path, const char *detail)
{
    fprintf(stderr, "refscope: %s", what);
    rs_fput_escaped(stderr, path, strlen(path));
    if (detail)
        fprintf(stderr, ": %s", detail);
    fputc('\n', stderr);
}

/* librefscope.so lives in ../lib relative to the refscope executable, in the build tree
 * and when installed alike. */
static char *find_library(void)
{
    const char *env = getenv("REFSCOPE_LIBRARY");
    char *want = NULL;
    if (env && *env) {
        want = strdup(env);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "refscope: cannot find %s: /proc/self/exe: %s\n", LIBRARY_NAME,
                    strerror(errno));
            return NULL;
        }
        self[n] = '\0';
        char *dir = rs_dir_of(self);
        want = dir ? join(dir, "/../lib/", LIBRARY_NAME) : NULL;
        free(dir);
    }
    if (!want) {
        fputs("refscope: out of memory\n", stderr);
        return NULL;
    }
    char *real = realpath(want, NULL);
    if (!real || access(real, R_OK) != 0) {
        fputs("refscope: cannot find " LIBRARY_NAME " (looked for ", stderr);
        rs_fput_escaped(stderr, want, strlen(want));
        fputs("; REFSCOPE_LIBRARY can name it)\n", stderr);
        free(real);
        free(want);
        return NULL;
    }
    free(want);
    if (strpbrk(real, " :")) { /* LD_PRELOAD splits on both */
        print_path_error("cannot preload ", real, "the path contains a space or a colon");
        free(real);
        return NULL;
    }
    return real;
}

/* ---- output files -------------------------------------------------------------------- */

struct output {
    char *template;      /* for REFSCOPE_OUTPUT: absolute, % escaped where literal */
    char *dir;           /* where the traces go */
    char *root_prefix;   /* the root trace is <root_prefix><pid><root_suffix> ... */
    const char *root_suffix;
    char *literal;       /* ... or exactly this with -o */
    char *match_prefix;  /* names of trace files of this run start with this */
};

static void output_free(struct output *o)
{
    free(o->template);
    free(o->dir);
    free(o->root_prefix);
    free(o->literal);
    free(o->match_prefix);
}

static int check_dir(const char *dir)
{
    if (access(dir, W_OK | X_OK) != 0) {
        print_path_error("cannot write traces to directory ", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int plan_output(const struct run_options *opt, struct output *o)
{
    memset(o, 0, sizeof *o);
    if (opt->output) {
        o->literal = absolute(opt->output);
        if (!o->literal || !(o->dir = rs_dir_of(o->literal)) ||
            !(o->template = rs_escape_percent(o->literal)))
            goto nomem;
        const char *base = base_of(o->literal);
        const char *dot = strrchr(base, '.');
        o->match_prefix = dot && dot != base ? strndup(base, (size_t)(dot - base)) : strdup(base);
        if (!o->match_prefix)
            goto nomem;
    } else {
        /* refscope-<command>-%p.rsc in the current directory, given to the shim as an
         * absolute path so that a process which changes directory writes it there too. */
        const char *cmd = base_of(opt->command[0]);
        char cwd[PATH_MAX];
        if (!*cmd)
            cmd = "command";
        if (!getcwd(cwd, sizeof cwd)) {
            fprintf(stderr, "refscope: cannot tell the current directory: %s\n", strerror(errno));
            return -1;
        }
        o->root_suffix = ".rsc";
        if (!(o->dir = strdup(cwd)) || !(o->match_prefix = join("refscope-", cmd, "-")) ||
            !(o->root_prefix = join(cwd, "/", o->match_prefix)))
            goto nomem;
        char *escaped = rs_escape_percent(o->root_prefix);
        o->template = escaped ? join(escaped, "%p", o->root_suffix) : NULL;
        free(escaped);
        if (!o->template)
            goto nomem;
    }
    if (strlen(o->template) >= TEMPLATE_MAX) {
        fprintf(stderr, "refscope: the output path is too long\n");
        return -1;
    }
    if (check_dir(o->dir) != 0)
        return -1;
    struct stat st;
    if (o->literal && lstat(o->literal, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            print_path_error("", opt->output, "is a directory");
            return -1;
        }
        if (!opt->force) {
            print_path_error("", opt->output, "already exists (use --force to overwrite it)");
            return -1;
        }
        if (unlink(o->literal) != 0) {
            print_path_error("cannot remove ", opt->output, strerror(errno));
            return -1;
        }
    }
    return 0;
nomem:
    fputs("refscope: out of memory\n", stderr);
    return -1;
}

static char *root_file(const struct output *o, pid_t pid)
{
    if (o->literal)
        return strdup(o->literal);
    char *s = NULL;
    return asprintf(&s, "%s%d%s", o->root_prefix, (int)pid, o->root_suffix) < 0 ? NULL : s;
}

/* Trace files of child processes are found by name: those that match this run's prefix
 * and were not there before it started. */
struct seen_name {
    char *name;
    UT_hash_handle hh;
};

static void list_matching(const struct output *o, struct seen_name **set)
{
    DIR *d = opendir(o->dir);
    if (!d)
        return;
    struct dirent *e;
    size_t plen = strlen(o->match_prefix);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, o->match_prefix, plen) != 0)
            continue;
        struct seen_name *s = NULL;
        HASH_FIND_STR(*set, e->d_name, s);
        if (s)
            continue;
        s = calloc(1, sizeof *s);
        if (!s || !(s->name = strdup(e->d_name))) {
            free(s);
            break;
        }
        HASH_ADD_KEYPTR(hh, *set, s->name, strlen(s->name), s);
    }
    closedir(d);
}

static void free_names(struct seen_name **set)
{
    struct seen_name *s, *tmp;
    HASH_ITER(hh, *set, s, tmp) {
        HASH_DEL(*set, s);
        free(s->name);
        free(s);
    }
}

static int by_name(struct seen_name *a, struct seen_name *b)
{
    return strcmp(a->name, b->name);
}

/* `shown` is the root file as the user would name it: as given with -o, else relative to
 * the current directory, where the default template puts it. */
static void tell_where(const struct output *o, const char *root, const char *shown,
                       struct seen_name **before)
{
    struct stat st;
    if (stat(root, &st) == 0)
        print_path_error("trace written to ", shown, NULL);
    else
        print_path_error("no trace was written to ", shown, NULL);

    struct seen_name *after = NULL, *s, *tmp;
    list_matching(o, &after);
    const char *root_base = base_of(root);
    HASH_ITER(hh, after, s, tmp) {
        struct seen_name *old = NULL;
        HASH_FIND_STR(*before, s->name, old);
        if (old || strcmp(s->name, root_base) == 0) {
            HASH_DEL(after, s);
            free(s->name);
            free(s);
        }
    }
    unsigned n = HASH_COUNT(after);
    if (n) {
        HASH_SORT(after, by_name);
        fprintf(stderr, "refscope: %u more trace file%s from child processes:", n,
                n == 1 ? "" : "s");
        unsigned shown = 0;
        HASH_ITER(hh, after, s, tmp) {
            if (shown++ == 5) {
                fprintf(stderr, " ... (%u more)", n - 5);
                break;
            }
            fputc(' ', stderr);
            rs_fput_escaped(stderr, s->name, strlen(s->name));
        }
        fputc('\n', stderr);
    }
    free_names(&after);
}

/* ---- the child ----------------------------------------------------------------------- */

static int child_environment(const char *library, const char *template)
{
    const char *old = getenv("LD_PRELOAD");
    char *preload = old && *old ? join(library, ":", old) : strdup(library);
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (!preload || setenv("LD_PRELOAD", preload, 1) || setenv("REFSCOPE_OUTPUT", template, 1) ||
        setenv("REFSCOPE_ROOT_PID", pid, 1))
        return -1;
    free(preload);
    return 0;
}

static void write_errno(int fd, int err)
{
    while (write(fd, &err, sizeof err) < 0 && errno == EINTR) {
    }
}

/* ---- waiting --------------------------------------------------------------------------- */

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
    int saved = errno;
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
    errno = saved;
}

static const int ignored_signals[] = {SIGINT, SIGQUIT};
static const int forwarded_signals[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
#define NIGNORED (sizeof ignored_signals / sizeof *ignored_signals)
#define NFORWARDED (sizeof forwarded_signals / sizeof *forwarded_signals)

struct saved_signals {
    struct sigaction ignored[NIGNORED];
    struct sigaction forwarded[NFORWARDED];
};

/* The terminal sends SIGINT and SIGQUIT to the whole foreground process group, so the
 * command gets them anyway: refscope stays to report how it ended. */
static void take_signals(struct saved_signals *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    for (size_t i = 0; i < NIGNORED; i++)
        sigaction(ignored_signals[i], &sa, &saved->ignored[i]);
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaction(forwarded_signals[i], &sa, &saved->forwarded[i]);
}

static void restore_signals(const struct saved_signals *saved)
{
    for (size_t i = 0; i < NIGNORED; i++)
        sigaction(ignored_signals[i], &saved->ignored[i], NULL);
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaction(forwarded_signals[i], &saved->forwarded[i], NULL);
}

/* Dies of the same signal, so that whoever started refscope sees what it would have seen
 * of the command itself. No core file: it would be refscope's, not the command's. */
static int die_like(int sig)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    return 128 + sig; /* a signal whose default is not to die */
}

/* ---- run ------------------------------------------------------------------------------ */

static int parse(int argc, char **argv, struct run_options *opt)
{
    const char *cmd = "run";
    memset(opt, 0, sizeof *opt);
    int i;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value;
        int m;
        if (arg[0] != '-')
            break;
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help, stdout);
            return 0;
        } else if (strcmp(arg, "--force") == 0 || strcmp(arg, "-f") == 0) {
            opt->force = true;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            opt->quiet = true;
        } else if (strcmp(arg, "--check") == 0) {
            int end = i + 1;
            while (end < argc && strcmp(argv[end], "--") != 0)
                end++;
            if (end >= argc)
                return rs_usage_error(cmd, "--check: put -- between its options and the command");
            int rc = rs_check_cli_parse("check", end - i - 1, argv + i + 1, false,
                                        &opt->check);
            if (rc >= 0)
                return rc;
            i = end + 1;
            break;
        } else if ((m = rs_option_value(argc, argv, &i, "--output", &value)) != 0 ||
                   (m = rs_option_value(argc, argv, &i, "-o", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "%s needs a file name", arg);
            opt->output = value;
        } else {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (i >= argc) {
        rs_check_cli_free(opt->check);
        opt->check = NULL;
        return rs_usage_error(cmd, "missing the command to run");
    }
    opt->command = argv + i;
    return -1;
}

int rs_cmd_run(int argc, char **argv)
{
    struct run_options opt;
    int rc = parse(argc, argv, &opt);
    if (rc >= 0)
        return rc;

    char *library = find_library();
    if (!library) {
        rs_check_cli_free(opt.check);
        return RS_EXIT_USAGE;
    }
    struct output out;
    struct seen_name *before = NULL;
    if (plan_output(&opt, &out) != 0) {
        output_free(&out);
        free(library);
        return RS_EXIT_USAGE;
    }
    if (!opt.quiet)
        list_matching(&out, &before);

    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        fprintf(stderr, "refscope: pipe: %s\n", strerror(errno));
        rc = RS_EXIT_FAILURE;
        goto done;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "refscope: fork: %s\n", strerror(errno));
        close(errpipe[0]);
        close(errpipe[1]);
        rc = RS_EXIT_FAILURE;
        goto done;
    }
    if (pid == 0) {
        close(errpipe[0]);
        if (child_environment(library, out.template) == 0)
            execvp(opt.command[0], opt.command);
        write_errno(errpipe[1], errno); /* the pipe closes by itself when exec works */
        _exit(RS_EXIT_CANNOT_RUN);
    }
    close(errpipe[1]);
    child_pid = pid;
    struct saved_signals saved;
    take_signals(&saved);

    int exec_errno = 0;
    ssize_t got;
    do {
        got = read(errpipe[0], &exec_errno, sizeof exec_errno);
    } while (got < 0 && errno == EINTR);
    close(errpipe[0]);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "refscope: waitpid: %s\n", strerror(errno));
            status = RS_EXIT_FAILURE << 8;
            break;
        }
    }
    child_pid = 0;
    restore_signals(&saved);

    if (got == (ssize_t)sizeof exec_errno) {
        fputs("refscope: cannot run ", stderr);
        rs_fput_escaped(stderr, opt.command[0], strlen(opt.command[0]));
        fprintf(stderr, ": %s\n", strerror(exec_errno));
        rc = RS_EXIT_CANNOT_RUN;
        goto done;
    }
    if (!opt.quiet) {
        char *root = root_file(&out, pid);
        if (root)
            tell_where(&out, root, opt.output ? opt.output : base_of(root), &before);
        free(root);
    }
    /* --check: the command's own failure wins, then the check's verdict. */
    int check_rc = RS_EXIT_OK;
    if (opt.check) {
        char *root = root_file(&out, pid);
        check_rc = root ? rs_check_cli_run(opt.check, root) : RS_CHECK_ERROR;
        free(root);
    }
    if (WIFSIGNALED(status)) {
        fflush(NULL);
        rc = die_like(WTERMSIG(status));
    } else {
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : RS_EXIT_FAILURE;
        if (rc == 0)
            rc = check_rc;
    }

done:
    rs_check_cli_free(opt.check);
    free_names(&before);
    output_free(&out);
    free(library);
    return rc;
}
