/* refscope attach PID | detach PID | snapshot PID
 *
 * attach loads librefscope.so into a running process through gdb (Debian's package):
 * gdb attaches, waits for one thread to be at a safe point, and from that thread sets the
 * session's configuration in the environment, calls dlopen (the library's constructor,
 * in attach mode, opens the trace, redirects the GOT slots and starts its threads), puts
 * the environment back and detaches. Why gdb rather than a ptrace injector of our own:
 * gdb already gets right what such an injector must (all threads stopped and resumed,
 * system calls interrupted and restarted, inferior calls with the ABI's stack alignment and
 * red zone, signals arriving meanwhile passed on, the call undone if a signal stops it), on
 * every kernel; the CLI computes every address itself (from the ELF files of the process's
 * libc and /proc/PID/maps) so gdb needs no symbols or debug information.
 *
 * Safe points, in order:
 *   1. a thread waiting in a blocking system call made from libc (accept, poll,
 *      epoll_wait, nanosleep, read...): it holds no allocator or loader lock;
 *      a server spends most of its time so, and nothing in the program is modified;
 *   2. otherwise, breakpoints at the entry of libc's malloc, free, calloc and realloc and
 *      of CPython's PyEval_SaveThread (no allocator lock is held on entry; the GIL, held
 *      there, is not needed by the constructor), for a few seconds;
 *   3. otherwise, the threads are interrupted and looked at again for (1).
 *
 * The session then runs through a unix socket in /tmp/refscope-<uid> (mode 0700, owned by
 * the process's user): commands status, snapshot LABEL and detach (preload/control.c). */
#include "commands.h"

#include "escape.h"
#include "trace_path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIBRARY_NAME "librefscope.so"
/* How long gdb may take for the whole injection before it is interrupted, then killed. */
#define INJECT_TIMEOUT_S 60
/* How long the breakpoints at safe entries wait for a hit. */
#define SAFE_POINT_WAIT_S 3
/* Replies to snapshot may wait for the GIL (the shim gives up after 20 s). */
#define REQUEST_TIMEOUT_S 120

static const char attach_help[] =
    "Usage: refscope attach PID [--duration S | --until-signal] [--snapshot-every S]\n"
    "                           [--no-wait] [-o FILE] [--force] [-q]\n"
    "\n"
    "Loads refscope into the running process PID (through gdb) and records its allocations\n"
    "from that moment: CPython's allocator domains (CPython 3.8 to 3.13) and the native\n"
    "allocator (malloc & co, mmap), through the program's GOT. A snapshot of the object graph\n"
    "is taken at once and at the end; objects allocated before the attach show the site\n"
    "\"before attach\". Then refscope detaches: the process goes on as it was.\n"
    "\n"
    "  --duration S        detach after S seconds\n"
    "  --until-signal      detach on SIGINT or SIGTERM (Ctrl-C); the default\n"
    "  --snapshot-every S  also take a snapshot every S seconds\n"
    "  --no-wait           return once attached and snapshotted: the session runs until\n"
    "                      'refscope detach PID' (snapshots: 'refscope snapshot PID')\n"
    "  -o, --output FILE   the trace file (default: refscope-<program>-<pid>.rsc here); the\n"
    "                      process itself writes it, so its user must be able to\n"
    "  -f, --force         overwrite FILE if it exists\n"
    "  -q, --quiet         print nothing but errors\n"
    "\n"
    "Needs gdb, and ptrace permission: the same user as the process (or CAP_SYS_PTRACE) and\n"
    "kernel.yama.ptrace_scope allowing it. Exit status: 0 success, 1 the attach or the\n"
    "session failed, 2 refscope cannot attach (usage, permission, static binary...).\n"
    "REFSCOPE_* settings in refscope's environment (REFSCOPE_STACK_DEPTH...) are passed on.\n";

static const char detach_help[] =
    "Usage: refscope detach PID\n"
    "\n"
    "Ends the refscope session in process PID (started by 'refscope attach'): the trace is\n"
    "finished, CPython's allocators and the GOT slots are put back and refscope's threads\n"
    "stop. The library stays loaded, inert.\n";

static const char snapshot_help[] =
    "Usage: refscope snapshot PID [--label L]\n"
    "\n"
    "Takes a snapshot of the object graph of process PID, into the trace of its refscope\n"
    "session (started by 'refscope attach'). CPython processes only.\n";

/* ---- small helpers ------------------------------------------------------------------ */

static bool quiet;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    if (quiet)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("refscope: ", stderr);
    rs_fput_escaped(stderr, msg, strlen(msg));
    fputc('\n', stderr);
}

/* One line on stderr, whatever -q says. */
static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int status, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    fputs("refscope: ", stderr);
    rs_fput_escaped(stderr, msg, strlen(msg));
    fputc('\n', stderr);
    return status;
}

/* snprintf that says whether everything fitted (paths: a cut one must not be used). */
static bool fmt(char *out, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static bool fmt(char *out, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(out, cap, f, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static bool parse_pid(const char *s, pid_t *pid)
{
    unsigned v;
    if (!rs_parse_unsigned(s, INT_MAX, &v) || v == 0)
        return false;
    *pid = (pid_t)v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 1e7)
        return false;
    *out = v;
    return true;
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    return n;
}

/* Did the process start with refscope preloaded (LD_PRELOAD in its initial environment)? */
static bool started_preloaded(pid_t pid)
{
    char path[64], env[65536];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    size_t n = read_file(path, env, sizeof env);
    for (size_t i = 0; i < n; i += strlen(env + i) + 1)
        if (strncmp(env + i, "LD_PRELOAD=", 11) == 0 && strstr(env + i, LIBRARY_NAME))
            return true;
    return false;
}

/* ---- the process ------------------------------------------------------------------- */

struct proc {
    pid_t pid;
    char comm[64];
    char exe[PATH_MAX];
    long uid[4], gid[4]; /* real, effective, saved, fs */
    pid_t tracer;
    unsigned long long start_time; /* field 22 of /proc/PID/stat: tells a reused pid */
};

static bool status_field(const char *status, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *line = status; line && *line;) {
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t len = strcspn(v, "\n");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = 0;
            return true;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return false;
}

static unsigned long long start_time_of(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (!read_file(path, buf, sizeof buf))
        return 0;
    const char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    /* fields after the command: state is field 3, start time field 22 */
    unsigned long long v = 0;
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (field == 22)
        v = strtoull(p, NULL, 10);
    return v;
}

/* false: no such process */
static bool read_proc(pid_t pid, struct proc *pr)
{
    memset(pr, 0, sizeof *pr);
    pr->pid = pid;
    char path[64], status[8192], v[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (!read_file(path, status, sizeof status))
        return false;
    if (status_field(status, "Name", v, sizeof v))
        fmt(pr->comm, sizeof pr->comm, "%s", v);
    if (status_field(status, "Uid", v, sizeof v))
        sscanf(v, "%ld %ld %ld %ld", &pr->uid[0], &pr->uid[1], &pr->uid[2], &pr->uid[3]);
    if (status_field(status, "Gid", v, sizeof v))
        sscanf(v, "%ld %ld %ld %ld", &pr->gid[0], &pr->gid[1], &pr->gid[2], &pr->gid[3]);
    if (status_field(status, "TracerPid", v, sizeof v))
        pr->tracer = (pid_t)atoi(v);
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, pr->exe, sizeof pr->exe - 1);
    pr->exe[n > 0 ? n : 0] = 0;
    pr->start_time = start_time_of(pid);
    return true;
}

static bool same_process(const struct proc *pr)
{
    return kill(pr->pid, 0) == 0 || errno == EPERM ? start_time_of(pr->pid) == pr->start_time : false;
}

/* ---- ptrace permission ----------------------------------------------------------------- */

static int yama_scope(void)
{
    char buf[32];
    if (!read_file("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof buf))
        return -1;
    return atoi(buf);
}

static bool have_cap_sys_ptrace(void)
{
    char status[8192], v[64];
    if (!read_file("/proc/self/status", status, sizeof status) || !status_field(status, "CapEff", v, sizeof v))
        return false;
    unsigned long long caps = strtoull(v, NULL, 16);
    return (caps >> 19) & 1; /* CAP_SYS_PTRACE */
}

/* The kernel's own answer, from a child that becomes the tracer for a moment (PTRACE_SEIZE
 * does not stop the process; the child's exit ends the tracing). 0 or an errno. */
static int probe_ptrace(pid_t pid)
{
    fflush(NULL);
    pid_t child = fork();
    if (child < 0)
        return errno;
    if (child == 0) {
        int rc = ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0 ? 0 : errno;
        _exit(rc & 0xff);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : EPERM;
}

static int ptrace_refused(const struct proc *pr, int err)
{
    int scope = yama_scope();
    bool cap = have_cap_sys_ptrace();
    long me = (long)geteuid();
    char scope_text[160];
    if (scope < 0)
        snprintf(scope_text, sizeof scope_text, "kernel.yama.ptrace_scope: not present on this kernel");
    else
        snprintf(scope_text, sizeof scope_text, "kernel.yama.ptrace_scope is %d", scope);
    const char *cap_text = cap ? "refscope has CAP_SYS_PTRACE" : "refscope lacks CAP_SYS_PTRACE";
    char why[1024];
    bool other_user = pr->uid[0] != me || pr->uid[1] != me || pr->uid[2] != me;
    if (err == ESRCH) {
        return fail(RS_EXIT_USAGE, "cannot attach to process %d: it is gone", (int)pr->pid);
    } else if (scope == 3) {
        snprintf(why, sizeof why, "%s: no process may be traced, not even by root, until the next "
                 "boot (%s)", scope_text, cap_text);
    } else if (other_user && !cap) {
        snprintf(why, sizeof why, "process %d runs as uid %ld and refscope as uid %ld: tracing "
                 "another user's process needs CAP_SYS_PTRACE (run refscope as root) (%s)",
                 (int)pr->pid, pr->uid[1], me, scope_text);
    } else if (scope == 2 && !cap) {
        snprintf(why, sizeof why, "%s: only processes with CAP_SYS_PTRACE may trace (run refscope "
                 "as root)", scope_text);
    } else if (scope == 1 && !cap) {
        snprintf(why, sizeof why, "%s: a process may only trace its own descendants without "
                 "CAP_SYS_PTRACE (run refscope as root, or 'sysctl kernel.yama.ptrace_scope=0')",
                 scope_text);
    } else {
        snprintf(why, sizeof why, "denied by the kernel although %s and %s: a security module "
                 "(AppArmor, SELinux), a process that made itself non-dumpable, or a container "
                 "without CAP_SYS_PTRACE (%s)", scope_text, cap_text, strerror(err));
    }
    return fail(RS_EXIT_USAGE, "cannot attach to process %d (%s): ptrace not permitted: %s",
                (int)pr->pid, pr->comm, why);
}

/* ---- the process's memory map and ELF files ---------------------------------------- */

struct mapping {
    unsigned long lo, hi, off;
    char perms[8];
    char *path;
};

struct maps {
    struct mapping *v;
    size_t n;
};

static void maps_free(struct maps *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].path);
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

static bool read_maps(pid_t pid, struct maps *m)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char *line = NULL;
    size_t cap = 0, vcap = 0;
    while (getline(&line, &cap, f) > 0) {
        struct mapping mp = {0};
        int pos = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &mp.lo, &mp.hi, mp.perms, &mp.off, &pos) < 4)
            continue;
        char *p = line + pos;
        p[strcspn(p, "\n")] = 0;
        if (*p != '/')
            continue; /* only files matter here */
        if (m->n == vcap) {
            vcap = vcap ? vcap * 2 : 256;
            struct mapping *nv = realloc(m->v, vcap * sizeof *nv);
            if (!nv)
                break;
            m->v = nv;
        }
        mp.path = strdup(p);
        if (!mp.path)
            break;
        m->v[m->n++] = mp;
    }
    free(line);
    fclose(f);
    return true;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The first mapping whose file's base name starts with prefix. */
static const struct mapping *find_mapping(const struct maps *m, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < m->n; i++)
        if (strncmp(base_name(m->v[i].path), prefix, n) == 0)
            return &m->v[i];
    return NULL;
}

/* The executable range of a file's mappings. */
static bool exec_range(const struct maps *m, const char *path, unsigned long *lo, unsigned long *hi)
{
    *lo = ULONG_MAX;
    *hi = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->v[i].path, path) != 0 || m->v[i].perms[2] != 'x')
            continue;
        if (m->v[i].lo < *lo)
            *lo = m->v[i].lo;
        if (m->v[i].hi > *hi)
            *hi = m->v[i].hi;
    }
    return *hi > *lo;
}

struct sym_want {
    const char *name;
    unsigned long addr; /* run-time address, 0 when not found */
};

struct elf_facts {
    bool opened;
    bool dynamic;       /* has PT_DYNAMIC / PT_INTERP */
    bool has_symtab;    /* not stripped */
    unsigned long base; /* load bias in the process */
};

/* Opens the process's view of the file (its root: containers), falling back to ours. */
static int open_target_file(pid_t pid, const char *path)
{
    char via[PATH_MAX + 64];
    snprintf(via, sizeof via, "/proc/%d/root%s", (int)pid, path);
    int fd = open(via, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : open(path, O_RDONLY | O_CLOEXEC);
}

/* Looks the wanted functions up in the file's dynamic symbols (default versions first) and
 * works out its load bias from where the process mapped it. */
static void elf_lookup_in(pid_t pid, const struct maps *m, const char *path, struct sym_want *want,
                          size_t nwant, struct elf_facts *facts, bool want_local)
{
    memset(facts, 0, sizeof *facts);
    elf_version(EV_CURRENT);
    int fd = open_target_file(pid, path);
    if (fd < 0)
        return;
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    GElf_Ehdr eh;
    if (!e || !gelf_getehdr(e, &eh)) {
        if (e)
            elf_end(e);
        close(fd);
        return;
    }
    facts->opened = true;
    size_t nph = 0;
    elf_getphdrnum(e, &nph);
    unsigned long first_load = ULONG_MAX;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph))
            continue;
        if (ph.p_type == PT_DYNAMIC || ph.p_type == PT_INTERP)
            facts->dynamic = true;
        if (ph.p_type == PT_LOAD && first_load == ULONG_MAX)
            first_load = ph.p_vaddr & ~(ph.p_align ? ph.p_align - 1 : 0);
    }
    unsigned long lowest = ULONG_MAX;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].path, path) == 0 && m->v[i].off == 0 && m->v[i].lo < lowest)
            lowest = m->v[i].lo;
    facts->base = eh.e_type == ET_EXEC || lowest == ULONG_MAX || first_load == ULONG_MAX
                      ? 0 : lowest - first_load;
    Elf_Scn *scn = NULL, *dynsym = NULL, *versym = NULL, *symtab = NULL;
    while ((scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_SYMTAB) {
            facts->has_symtab = true;
            symtab = scn;
        } else if (sh.sh_type == SHT_DYNSYM)
            dynsym = scn;
        else if (sh.sh_type == SHT_GNU_versym)
            versym = scn;
    }
    GElf_Shdr sh;
    Elf_Data *data = dynsym ? elf_getdata(dynsym, NULL) : NULL;
    Elf_Data *vdata = versym ? elf_getdata(versym, NULL) : NULL;
    if (data && gelf_getshdr(dynsym, &sh) && sh.sh_entsize) {
        size_t n = sh.sh_size / sh.sh_entsize;
        bool hidden_pick[64] = {false};
        for (size_t i = 0; i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(data, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value)
                continue;
            int type = GELF_ST_TYPE(s.st_info);
            if (type != STT_FUNC && type != STT_GNU_IFUNC)
                continue;
            const char *name = elf_strptr(e, sh.sh_link, s.st_name);
            if (!name)
                continue;
            GElf_Versym ver = 0;
            bool hidden = vdata && gelf_getversym(vdata, (int)i, &ver) && (ver & 0x8000);
            for (size_t k = 0; k < nwant && k < 64; k++) {
                if (strcmp(name, want[k].name) != 0)
                    continue;
                /* the default version wins over an old (hidden) one */
                if (!want[k].addr || (hidden_pick[k] && !hidden)) {
                    want[k].addr = facts->base + s.st_value;
                    hidden_pick[k] = hidden;
                }
            }
        }
    }
    /* refscope's own hidden functions are only in its symbol table */
    data = symtab ? elf_getdata(symtab, NULL) : NULL;
    if (want_local && data && gelf_getshdr(symtab, &sh) && sh.sh_entsize) {
        size_t n = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(data, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value ||
                GELF_ST_TYPE(s.st_info) != STT_FUNC)
                continue;
            const char *name = elf_strptr(e, sh.sh_link, s.st_name);
            for (size_t k = 0; name && k < nwant; k++)
                if (!want[k].addr && strcmp(name, want[k].name) == 0)
                    want[k].addr = facts->base + s.st_value;
        }
    }
    elf_end(e);
    close(fd);
}

static void elf_lookup(pid_t pid, const struct maps *m, const char *path, struct sym_want *want,
                       size_t nwant, struct elf_facts *facts)
{
    elf_lookup_in(pid, m, path, want, nwant, facts, false);
}

/* ---- the session directory and socket --------------------------------------------------- */

struct session {
    char dir[PATH_MAX];
    char prefix[PATH_MAX]; /* dir/pid */
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char log[PATH_MAX + 8];
    char script[PATH_MAX + 16];
};

static void session_paths(struct session *s, long uid, pid_t pid)
{
    /* short and fixed: the socket's path must fit sun_path */
    fmt(s->dir, sizeof s->dir, "/tmp/refscope-%ld", uid);
    fmt(s->prefix, sizeof s->prefix, "%s/%d", s->dir, (int)pid);
    fmt(s->sock, sizeof s->sock, "%s.sock", s->prefix);
    fmt(s->log, sizeof s->log, "%s.log", s->prefix);
    fmt(s->script, sizeof s->script, "%s.gdb.py", s->prefix);
}

/* The private per-uid directory, made (owned by the process's user) or checked. */
static int session_dir(const struct session *s, long uid, long gid)
{
    if (mkdir(s->dir, 0700) == 0) {
        if ((long)geteuid() != uid && chown(s->dir, (uid_t)uid, (gid_t)gid) != 0)
            return fail(RS_EXIT_FAILURE, "cannot give %s to uid %ld: %s", s->dir, uid, strerror(errno));
    } else if (errno != EEXIST) {
        return fail(RS_EXIT_FAILURE, "cannot create %s: %s", s->dir, strerror(errno));
    }
    struct stat st;
    if (lstat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode) || (long)st.st_uid != uid ||
        (st.st_mode & 077))
        return fail(RS_EXIT_FAILURE, "%s is not a private directory of uid %ld (mode 0700): "
                    "remove it and try again", s->dir, uid);
    return 0;
}

/* One request, the whole reply (NUL-terminated). -1 when the socket cannot be reached. */
static int request(const char *sock, const char *line, char *reply, size_t cap, int timeout_s)
{
    reply[0] = 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    char out[1200];
    int n = snprintf(out, sizeof out, "%s\n", line);
    if (send(fd, out, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    double deadline = now_s() + timeout_s;
    while (len + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0)
            break;
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t k = recv(fd, reply + len, cap - 1 - len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    reply[len] = 0;
    close(fd);
    return len ? 0 : -1;
}

static bool reply_ok(const char *reply)
{
    return strncmp(reply, "ok\n", 3) == 0;
}

/* The message of an "error ..." reply. */
static const char *reply_error(const char *reply, char *buf, size_t cap)
{
    if (strncmp(reply, "error ", 6) != 0) {
        snprintf(buf, cap, "no reply from the process");
        return buf;
    }
    snprintf(buf, cap, "%.*s", (int)strcspn(reply + 6, "\n"), reply + 6);
    return buf;
}

static const char *reply_get(const char *reply, const char *key, char *buf, size_t cap)
{
    size_t n = strlen(key);
    for (const char *line = reply; line && *line;) {
        if (strncmp(line, key, n) == 0 && line[n] == '=') {
            snprintf(buf, cap, "%.*s", (int)strcspn(line + n + 1, "\n"), line + n + 1);
            return buf;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    buf[0] = 0;
    return buf;
}

/* ---- gdb ------------------------------------------------------------------------------- */

/* The driver gdb runs (its Python API); the parameters P come first. */
static const char gdb_driver[] =
    "import gdb, threading\n"
    "def H(h): return bytes.fromhex(h)\n"
    "def out(s):\n"
    "    gdb.write('REFSCOPE-RESULT %s\\n' % s)\n"
    "    gdb.flush()\n"
    "def info(s):\n"
    "    gdb.write('REFSCOPE-INFO %s\\n' % s)\n"
    "def U(e): return int(gdb.parse_and_eval(e)) & 0xffffffffffffffff\n"
    "def call(fn, *a):\n"
    "    t = ','.join(['unsigned long'] * len(a)) or 'void'\n"
    "    return U('((unsigned long (*)(%s))%d)(%s)' % (t, fn, ','.join('%dUL' % (x & 0xffffffffffffffff) for x in a)))\n"
    "def inf(): return gdb.selected_inferior()\n"
    "def cstr(addr):\n"
    "    if not addr: return None\n"
    "    got = b''\n"
    "    while len(got) < 65536:\n"
    "        try: chunk = bytes(inf().read_memory(addr + len(got), 64))\n"
    "        except gdb.MemoryError: break\n"
    "        i = chunk.find(b'\\0')\n"
    "        if i >= 0: return got + chunk[:i]\n"
    "        got += chunk\n"
    "    return got\n"
    "def blocked():\n"
    "    for th in sorted(inf().threads(), key=lambda t: t.num):\n"
    "        if not th.is_valid(): continue\n"
    "        th.switch()\n"
    "        try:\n"
    "            nr = int(gdb.parse_and_eval('$orig_rax')); pc = U('$pc')\n"
    "        except gdb.error: continue\n"
    "        if nr in P['blocking'] and P['libc_lo'] <= pc < P['libc_hi']:\n"
    "            info('safe point: thread %d (LWP %d) waiting in system call %d' % (th.num, th.ptid[1], nr))\n"
    "            return th\n"
    "    return None\n"
    "def breakpoints():\n"
    "    bps = [gdb.Breakpoint('*%d' % a, internal=True) for a in P['safe']]\n"
    "    st = {'running': True}\n"
    "    def fire():\n"
    "        if st['running']:\n"
    "            st['running'] = False\n"
    "            gdb.execute('interrupt')\n"
    "    t = threading.Timer(P['wait'], lambda: gdb.post_event(fire))\n"
    "    t.start()\n"
    "    try:\n"
    "        gdb.execute('continue')\n"
    "    finally:\n"
    "        st['running'] = False\n"
    "        t.cancel()\n"
    "        for b in bps: b.delete()\n"
    "    if not inf().pid: raise RuntimeError('the process ended')\n"
    "    th = gdb.selected_thread()\n"
    "    if th is not None and U('$pc') in P['safe']:\n"
    "        info('safe point: thread %d (LWP %d) at the entry of %s' % (th.num, th.ptid[1], P['names'].get(U('$pc'), '?')))\n"
    "        return th\n"
    "    return blocked()\n"
    "def inject(th):\n"
    "    th.switch()\n"
    "    blob = bytearray(); offs = []\n"
    "    def add(b):\n"
    "        offs.append(len(blob)); blob.extend(b + b'\\0')\n"
    "    add(H(P['lib']))\n"
    "    for n, v in P['env']: add(H(n)); add(H(v))\n"
    "    size = 1 << 16\n"
    "    mem = call(P['mmap'], 0, size, 3, 0x22, -1, 0)\n"
    "    if mem in (0, 0xffffffffffffffff): raise RuntimeError('mmap failed in the process')\n"
    "    err = None; handle = 0\n"
    "    try:\n"
    "        inf().write_memory(mem, bytes(blob))\n"
    "        env = [(mem + offs[1 + 2 * i], mem + offs[2 + 2 * i]) for i in range(len(P['env']))]\n"
    "        old = [cstr(call(P['getenv'], n)) for n, v in env]\n"
    "        try:\n"
    "            for n, v in env:\n"
    "                if call(P['setenv'], n, v, 1) & 0xffffffff: raise RuntimeError('setenv failed in the process')\n"
    "            handle = call(P['dlopen'], mem + offs[0], P['dlflags'])\n"
    "            if not handle and P['again']: err = b'refscope did not start again in the process'\n"
    "            elif not handle:\n"
    "                err = b'dlopen failed: ' + (cstr(call(P['dlerror'])) if P['dlerror'] else b'it returned NULL')\n"
    "        finally:\n"
    "            # the environment as it was\n"
    "            pos = (len(blob) + 15) & ~15\n"
    "            for (n, v), o in zip(env, old):\n"
    "                if o is None or pos + len(o) + 1 > size: call(P['unsetenv'], n)\n"
    "                else:\n"
    "                    inf().write_memory(mem + pos, o + b'\\0'); call(P['setenv'], n, mem + pos, 1); pos += len(o) + 1\n"
    "    finally:\n"
    "        call(P['munmap'], mem, size)\n"
    "    if err is not None: raise RuntimeError((err or b'').decode('utf-8', 'replace'))\n"
    "    return handle\n"
    "try:\n"
    "    gdb.execute('set pagination off')\n"
    "    gdb.execute('set confirm off')\n"
    "    gdb.execute('set unwindonsignal on')\n"
    "    gdb.execute('handle all nostop noprint pass')\n"
    "    if not inf().pid: raise RuntimeError('gdb could not attach')\n"
    "    th = blocked()\n"
    "    if th is None and P['safe']: th = breakpoints()\n"
    "    if th is None: raise RuntimeError('no thread reached a safe point within %g s (no blocking system call, no call to malloc, free or PyEval_SaveThread): try again' % P['wait'])\n"
    "    h = inject(th)\n"
    "    out('ok %#x' % h)\n"
    "except Exception as e:\n"
    "    out('error %s' % str(e).replace('\\n', ' '))\n"
    "try:\n"
    "    if inf().pid: gdb.execute('detach')\n"
    "except Exception:\n"
    "    pass\n";

/* x86-64 system calls during which a thread holds no lock of libc's (it waits for I/O, a
 * timer, a child or a signal). */
static const int blocking_syscalls[] = {
    0 /* read */, 7 /* poll */, 23 /* select */, 34 /* pause */, 35 /* nanosleep */,
    43 /* accept */, 45 /* recvfrom */, 47 /* recvmsg */, 61 /* wait4 */,
    128 /* rt_sigtimedwait */, 130 /* rt_sigsuspend */, 230 /* clock_nanosleep */,
    232 /* epoll_wait */, 247 /* waitid */, 270 /* pselect6 */, 271 /* ppoll */,
    281 /* epoll_pwait */, 288 /* accept4 */, 299 /* recvmmsg */, 441 /* epoll_pwait2 */,
};

static void put_hex(FILE *f, const char *s)
{
    fputc('\'', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fprintf(f, "%02x", *p);
    fputc('\'', f);
}

struct inject_plan {
    pid_t pid;
    const char *library;
    const char *env[32][2];
    size_t nenv;
    unsigned long libc_lo, libc_hi;
    unsigned long mmap_, munmap_, getenv_, setenv_, unsetenv_, dlopen_, dlerror_;
    unsigned long dlflags;
    bool again; /* the library is loaded: dlopen_ is its rs_attach_again */
    unsigned long safe[8];
    const char *safe_names[8];
    size_t nsafe;
};

static bool write_script(const char *path, const struct inject_plan *ip)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    fprintf(f, "P = {'lib': ");
    put_hex(f, ip->library);
    fprintf(f, ", 'env': [");
    for (size_t i = 0; i < ip->nenv; i++) {
        fputc('(', f);
        put_hex(f, ip->env[i][0]);
        fputc(',', f);
        put_hex(f, ip->env[i][1]);
        fputs("),", f);
    }
    fprintf(f, "], 'libc_lo': %lu, 'libc_hi': %lu, 'mmap': %lu, 'munmap': %lu, 'getenv': %lu, "
            "'setenv': %lu, 'unsetenv': %lu, 'dlopen': %lu, 'dlerror': %lu, 'dlflags': %lu, "
            "'wait': %d, 'again': %s, 'blocking': {",
            ip->libc_lo, ip->libc_hi, ip->mmap_, ip->munmap_, ip->getenv_, ip->setenv_,
            ip->unsetenv_, ip->dlopen_, ip->dlerror_, ip->dlflags, SAFE_POINT_WAIT_S,
            ip->again ? "True" : "False");
    for (size_t i = 0; i < sizeof blocking_syscalls / sizeof *blocking_syscalls; i++)
        fprintf(f, "%d,", blocking_syscalls[i]);
    fprintf(f, "}, 'safe': [");
    for (size_t i = 0; i < ip->nsafe; i++)
        fprintf(f, "%lu,", ip->safe[i]);
    fprintf(f, "], 'names': {");
    for (size_t i = 0; i < ip->nsafe; i++)
        fprintf(f, "%lu: '%s',", ip->safe[i], ip->safe_names[i]);
    fprintf(f, "}}\n");
    fputs(gdb_driver, f);
    return fclose(f) == 0;
}

static char *find_gdb(void)
{
    const char *env = getenv("REFSCOPE_GDB");
    if (env && *env)
        return access(env, X_OK) == 0 ? strdup(env) : NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char *copy = strdup(path), *save = NULL;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save)) {
        char cand[PATH_MAX];
        snprintf(cand, sizeof cand, "%s/gdb", *dir ? dir : ".");
        if (access(cand, X_OK) == 0) {
            free(copy);
            return strdup(cand);
        }
    }
    free(copy);
    return NULL;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* Runs gdb on the script. Returns 0 when the library was loaded; else 1 with `err` set. */
static int run_gdb(const char *gdb, const struct session *s, pid_t pid, char *err, size_t errcap,
                   char *infos, size_t infocap)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(err, errcap, "pipe: %s", strerror(errno));
        return 1;
    }
    char pidtext[24];
    snprintf(pidtext, sizeof pidtext, "%d", (int)pid);
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        snprintf(err, errcap, "fork: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return 1;
    }
    if (child == 0) {
        setpgid(0, 0); /* a Ctrl-C at the terminal must not reach gdb mid-injection */
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        unsetenv("DEBUGINFOD_URLS");
        /* --readnever: no debug information is needed, and reading it is most of the time
         * the process stays stopped */
        execl(gdb, gdb, "-batch", "-nx", "-q", "--readnever", "-iex", "set auto-load off", "-iex",
              "set auto-solib-add off", "-iex", "set debuginfod enabled off", "-p", pidtext,
              "-x", s->script, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    char out[65536];
    size_t len = 0;
    double start = now_s();
    int stage = 0; /* 1: SIGINT sent, 2: SIGKILL sent */
    for (;;) {
        double elapsed = now_s() - start;
        if (stage == 0 && elapsed > INJECT_TIMEOUT_S) {
            kill(child, SIGINT); /* gdb interrupts the call and undoes it (unwindonsignal) */
            stage = 1;
        } else if (stage == 1 && elapsed > INJECT_TIMEOUT_S + 10) {
            kill(child, SIGKILL);
            stage = 2;
        }
        struct pollfd p = {pipefd[0], POLLIN, 0};
        int r = poll(&p, 1, 200);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t k = read(pipefd[0], out + len, sizeof out - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len += (size_t)k;
        if (len >= sizeof out - 1)
            len = 0; /* only the end matters: the result comes last */
    }
    close(pipefd[0]);
    out[len] = 0;
    if (getenv("REFSCOPE_ATTACH_DEBUG")) /* gdb's whole output, for bug reports */
        fprintf(stderr, "---- gdb ----\n%s---- end of gdb ----\n", out);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !strstr(out, "REFSCOPE-")) {
        snprintf(err, errcap, "cannot run %s", gdb);
        return 1;
    }
    infos[0] = 0;
    for (const char *line = out; line && *line;) {
        size_t n = strcspn(line, "\n");
        if (strncmp(line, "REFSCOPE-INFO ", 14) == 0) {
            size_t used = strlen(infos);
            snprintf(infos + used, infocap - used, "%.*s", (int)(n - 14), line + 14);
        }
        line = line[n] ? line + n + 1 : NULL;
    }
    const char *res = strstr(out, "REFSCOPE-RESULT ");
    if (res) {
        res += 16;
        if (strncmp(res, "ok", 2) == 0)
            return 0;
        const char *msg = strncmp(res, "error ", 6) == 0 ? res + 6 : res;
        snprintf(err, errcap, "%.*s", (int)strcspn(msg, "\n"), msg);
        return 1;
    }
    if (stage)
        snprintf(err, errcap, "gdb did not finish within %d s and was stopped", INJECT_TIMEOUT_S);
    else {
        /* gdb's own complaint: its last line that says something */
        const char *last = NULL;
        for (const char *line = out; line && *line;) {
            size_t n = strcspn(line, "\n");
            if (n > 0 && line[0] != '[' && strncmp(line, "REFSCOPE-", 9) != 0)
                last = line;
            line = line[n] ? line + n + 1 : NULL;
        }
        if (last)
            snprintf(err, errcap, "gdb: %.*s", (int)strcspn(last, "\n"), last);
        else
            snprintf(err, errcap, "gdb ended without a result (status %d)",
                     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    return 1;
}

/* ---- attach --------------------------------------------------------------------------- */

struct attach_options {
    pid_t pid;
    double duration;
    double every;
    bool no_wait;
    bool force;
    const char *output;
};

/* The REFSCOPE_* settings passed on to the process (not those attach decides). */
static const char *const passed_on[] = {
    "REFSCOPE_STACK_DEPTH", "REFSCOPE_NATIVE_STACKS", "REFSCOPE_PYTHON", "REFSCOPE_PYTHON_NATIVE",
    "REFSCOPE_RING_EVENTS", "REFSCOPE_ON_FULL", "REFSCOPE_MAX_STACKS", "REFSCOPE_SAMPLE",
    "REFSCOPE_VERBOSE", "REFSCOPE_SNAPSHOT_INTERVAL", "REFSCOPE_SNAPSHOT_GC",
};

static char *find_library(void)
{
    const char *env = getenv("REFSCOPE_LIBRARY");
    char want[PATH_MAX];
    if (env && *env) {
        snprintf(want, sizeof want, "%s", env);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return NULL;
        self[n] = 0;
        char *dir = rs_dir_of(self);
        snprintf(want, sizeof want, "%s/../lib/" LIBRARY_NAME, dir ? dir : ".");
        free(dir);
    }
    char *real = realpath(want, NULL);
    if (real && access(real, R_OK) != 0) {
        free(real);
        real = NULL;
    }
    if (!real)
        fail(RS_EXIT_USAGE, "cannot find " LIBRARY_NAME " (looked for %s; REFSCOPE_LIBRARY can name it)", want);
    return real;
}

/* Where the trace goes: an absolute path the process can create. */
static int plan_output(const struct attach_options *opt, const struct proc *pr, char *out, size_t cap)
{
    char cwd[PATH_MAX];
    if ((!opt->output || opt->output[0] != '/') && !getcwd(cwd, sizeof cwd))
        return fail(RS_EXIT_USAGE, "cannot tell the current directory: %s", strerror(errno));
    bool fits;
    if (opt->output && opt->output[0] == '/')
        fits = fmt(out, cap, "%s", opt->output);
    else if (opt->output)
        fits = fmt(out, cap, "%s/%s", cwd, opt->output);
    else
        fits = fmt(out, cap, "%s/refscope-%s-%d.rsc", cwd, pr->comm[0] ? pr->comm : "process",
                   (int)pr->pid);
    if (!fits || strlen(out) >= 4000) /* the shim's template buffer */
        return fail(RS_EXIT_USAGE, "the output path is too long");
    struct stat st;
    if (lstat(out, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return fail(RS_EXIT_USAGE, "%s is a directory", out);
        if (!opt->force && opt->output)
            return fail(RS_EXIT_USAGE, "%s already exists (use --force to overwrite it)", out);
        if (!opt->output && !opt->force)
            return fail(RS_EXIT_USAGE, "%s already exists (use -o FILE, or --force)", out);
        if (unlink(out) != 0)
            return fail(RS_EXIT_USAGE, "cannot remove %s: %s", out, strerror(errno));
    }
    char *dir = rs_dir_of(out);
    if (!dir)
        return fail(RS_EXIT_FAILURE, "out of memory");
    int rc = 0;
    if (access(dir, W_OK | X_OK) != 0) {
        rc = fail(RS_EXIT_USAGE, "cannot write traces to directory %s: %s", dir, strerror(errno));
    } else if (pr->uid[1] != 0 && pr->uid[1] != (long)geteuid() && stat(dir, &st) == 0) {
        /* the process creates the file: can its user? (roughly: owner, group, others) */
        bool can = ((long)st.st_uid == pr->uid[1] && (st.st_mode & S_IWUSR)) ||
                   ((long)st.st_gid == pr->gid[1] && (st.st_mode & S_IWGRP)) || (st.st_mode & S_IWOTH);
        if (!can)
            rc = fail(RS_EXIT_USAGE, "process %d runs as uid %ld, which cannot create files in %s: "
                      "choose -o FILE in a directory it can write", (int)pr->pid, pr->uid[1], dir);
    }
    free(dir);
    return rc;
}

static int snapshot_now(const struct session *s, const char *label, bool python, bool *python_gone)
{
    if (!python)
        return 0;
    char line[600], reply[8192], buf[512];
    snprintf(line, sizeof line, "snapshot %s", label);
    if (request(s->sock, line, reply, sizeof reply, REQUEST_TIMEOUT_S) != 0) {
        say("snapshot '%s' not taken: the session does not answer", label);
        return 1;
    }
    if (!reply_ok(reply)) {
        say("snapshot '%s' not taken: %s", label, reply_error(reply, buf, sizeof buf));
        if (strstr(reply, "has ended") || strstr(reply, "finishing"))
            *python_gone = true;
        return 1;
    }
    say("snapshot %s taken (%s)", reply_get(reply, "snapshot", buf, sizeof buf), label);
    return 0;
}

static int detach_session(const struct session *s, pid_t pid, bool verbose)
{
    char reply[8192], buf[1024];
    if (request(s->sock, "detach", reply, sizeof reply, REQUEST_TIMEOUT_S) != 0)
        return fail(RS_EXIT_FAILURE, "no refscope session answers in process %d (%s)", (int)pid,
                    errno == ENOENT ? "none was started, or it has ended" : strerror(errno));
    if (!reply_ok(reply))
        return fail(RS_EXIT_FAILURE, "detach from process %d failed: %s", (int)pid,
                    reply_error(reply, buf, sizeof buf));
    if (verbose) {
        char restored[600];
        say("detached from process %d (%s)", (int)pid, reply_get(reply, "restored", restored, sizeof restored));
        say("trace written to %s", reply_get(reply, "trace", buf, sizeof buf));
    }
    unlink(s->log);
    return 0;
}

static void print_log(const struct session *s)
{
    char text[8192];
    if (!read_file(s->log, text, sizeof text))
        return;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl++ = 0;
        if (*line)
            fprintf(stderr, "refscope: (in the process) %s\n",
                    strncmp(line, "refscope: ", 10) == 0 ? line + 10 : line);
        line = nl;
    }
}

static int parse_attach(int argc, char **argv, struct attach_options *opt)
{
    const char *cmd = "attach";
    memset(opt, 0, sizeof *opt);
    bool until_signal = false, have_pid = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value;
        int m;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(attach_help, stdout);
            return RS_EXIT_OK;
        } else if (strcmp(arg, "--until-signal") == 0) {
            until_signal = true;
        } else if (strcmp(arg, "--no-wait") == 0) {
            opt->no_wait = true;
        } else if (strcmp(arg, "--force") == 0 || strcmp(arg, "-f") == 0) {
            opt->force = true;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            quiet = true;
        } else if ((m = rs_option_value(argc, argv, &i, "--duration", &value)) != 0) {
            if (m < 0 || !parse_seconds(value, &opt->duration))
                return rs_usage_error(cmd, "--duration needs a number of seconds");
        } else if ((m = rs_option_value(argc, argv, &i, "--snapshot-every", &value)) != 0) {
            if (m < 0 || !parse_seconds(value, &opt->every) || opt->every < 0.1)
                return rs_usage_error(cmd, "--snapshot-every needs a number of seconds (0.1 or more)");
        } else if ((m = rs_option_value(argc, argv, &i, "--output", &value)) != 0 ||
                   (m = rs_option_value(argc, argv, &i, "-o", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "%s needs a file name", arg);
            opt->output = value;
        } else if (arg[0] == '-') {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        } else if (!have_pid) {
            if (!parse_pid(arg, &opt->pid))
                return rs_usage_error(cmd, "'%s' is not a process id", arg);
            have_pid = true;
        } else {
            return rs_usage_error(cmd, "unexpected argument '%s'", arg);
        }
    }
    if (!have_pid)
        return rs_usage_error(cmd, "missing the process id");
    if ((opt->duration > 0) + until_signal + opt->no_wait > 1)
        return rs_usage_error(cmd, "--duration, --until-signal and --no-wait exclude each other");
    return -1;
}

/* Everything that can be told before touching the process. Fills the plan. */
static int check_target(const struct attach_options *opt, struct proc *pr, struct maps *m,
                        struct inject_plan *ip, bool *python_hint)
{
    pid_t pid = opt->pid;
    if (pid == getpid())
        return fail(RS_EXIT_USAGE, "refscope cannot attach to itself");
    if (!read_proc(pid, pr))
        return fail(RS_EXIT_USAGE, "cannot attach to process %d: there is no such process", (int)pid);
    if (pr->tracer)
        return fail(RS_EXIT_USAGE, "cannot attach to process %d (%s): it is already traced by "
                    "process %d (a debugger or strace): only one tracer at a time", (int)pid,
                    pr->comm, (int)pr->tracer);
    int err = probe_ptrace(pid);
    if (err)
        return ptrace_refused(pr, err);
    if (!read_maps(pid, m))
        return fail(RS_EXIT_USAGE, "cannot read /proc/%d/maps: %s", (int)pid, strerror(errno));
    /* secure execution: the shim would stay inert */
    char auxv_path[64];
    snprintf(auxv_path, sizeof auxv_path, "/proc/%d/auxv", (int)pid);
    unsigned long auxv[512];
    int afd = open(auxv_path, O_RDONLY | O_CLOEXEC);
    if (afd >= 0) {
        ssize_t n = read(afd, auxv, sizeof auxv);
        close(afd);
        for (ssize_t i = 0; i + 1 < n / (ssize_t)sizeof *auxv; i += 2)
            if (auxv[i] == 23 /* AT_SECURE */ && auxv[i + 1])
                return fail(RS_EXIT_USAGE, "cannot attach to process %d (%s): it runs with secure "
                            "execution (setuid, setgid or file capabilities), where refscope never "
                            "records", (int)pid, pr->comm);
    }
    const struct mapping *libc = find_mapping(m, "libc.so.6");
    if (!libc)
        libc = find_mapping(m, "libc-2.");
    struct elf_facts exe_facts;
    struct sym_want py_want[] = {{"PyEval_SaveThread", 0}, {"Py_GetVersion", 0}};
    elf_lookup(pid, m, pr->exe, py_want, 2, &exe_facts);
    if (!libc) {
        if (exe_facts.opened && !exe_facts.dynamic)
            return fail(RS_EXIT_USAGE, "cannot attach to process %d (%s): %s is statically linked: "
                        "there is no dynamic loader in it to load refscope into", (int)pid, pr->comm, pr->exe);
        return fail(RS_EXIT_USAGE, "cannot attach to process %d (%s): no glibc (libc.so.6) in its "
                    "address space: refscope can only be loaded into programs linked with glibc",
                    (int)pid, pr->comm);
    }
    if (!exec_range(m, libc->path, &ip->libc_lo, &ip->libc_hi))
        return fail(RS_EXIT_USAGE, "cannot find libc's code in process %d", (int)pid);
    struct sym_want want[] = {{"dlopen", 0}, {"dlerror", 0}, {"setenv", 0}, {"unsetenv", 0},
                              {"getenv", 0}, {"mmap", 0}, {"munmap", 0}, {"malloc", 0},
                              {"free", 0}, {"calloc", 0}, {"realloc", 0}, {"__libc_dlopen_mode", 0}};
    struct elf_facts libc_facts;
    elf_lookup(pid, m, libc->path, want, sizeof want / sizeof *want, &libc_facts);
    if (!libc_facts.opened)
        return fail(RS_EXIT_USAGE, "cannot read process %d's libc (%s)", (int)pid, libc->path);
    ip->dlopen_ = want[0].addr;
    ip->dlerror_ = want[1].addr;
    ip->dlflags = 2; /* RTLD_NOW */
    if (!ip->dlopen_) {
        /* glibc before 2.34: dlopen is in libdl, when the program loaded it */
        const struct mapping *libdl = find_mapping(m, "libdl.so");
        if (libdl) {
            struct sym_want dl[] = {{"dlopen", 0}, {"dlerror", 0}};
            struct elf_facts f;
            elf_lookup(pid, m, libdl->path, dl, 2, &f);
            ip->dlopen_ = dl[0].addr;
            ip->dlerror_ = dl[1].addr;
        }
        if (!ip->dlopen_ && want[11].addr) {
            ip->dlopen_ = want[11].addr;
            ip->dlerror_ = 0;
            ip->dlflags = 2 | 0x80000000u; /* RTLD_NOW | __RTLD_DLOPEN */
        }
    }
    ip->setenv_ = want[2].addr;
    ip->unsetenv_ = want[3].addr;
    ip->getenv_ = want[4].addr;
    ip->mmap_ = want[5].addr;
    ip->munmap_ = want[6].addr;
    for (size_t i = 0; i < 7; i++) {
        if (i != 1 && !want[i].addr && !(i == 0 && ip->dlopen_))
            return fail(RS_EXIT_USAGE, "cannot attach to process %d (%s): its libc (%s) has no dynamic "
                        "symbol '%s' (stripped of its dynamic symbols, or not glibc)", (int)pid,
                        pr->comm, libc->path, want[i].name);
    }
    static const char *const safe_names[] = {"malloc", "free", "calloc", "realloc"};
    for (size_t i = 0; i < 4; i++)
        if (want[7 + i].addr) {
            ip->safe_names[ip->nsafe] = safe_names[i];
            ip->safe[ip->nsafe++] = want[7 + i].addr;
        }
    /* CPython: PyEval_SaveThread, in the executable or in a libpython */
    unsigned long save_thread = py_want[0].addr;
    *python_hint = py_want[1].addr != 0;
    const struct mapping *libpython = find_mapping(m, "libpython3");
    if (!save_thread && libpython) {
        struct sym_want lp[] = {{"PyEval_SaveThread", 0}, {"Py_GetVersion", 0}};
        struct elf_facts f;
        elf_lookup(pid, m, libpython->path, lp, 2, &f);
        save_thread = lp[0].addr;
        *python_hint = *python_hint || lp[1].addr;
    }
    if (save_thread) {
        ip->safe_names[ip->nsafe] = "PyEval_SaveThread";
        ip->safe[ip->nsafe++] = save_thread;
    }
    if (exe_facts.opened && !exe_facts.has_symtab && getenv("REFSCOPE_VERBOSE"))
        say("note: %s is stripped: its own native frames show as addresses but for its exported "
            "functions", pr->exe);
    return 0;
}

static void take_signals(struct sigaction *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &saved[0]);
    sigaction(SIGTERM, &sa, &saved[1]);
    sigaction(SIGHUP, &sa, &saved[2]);
}

static void restore_signals(const struct sigaction *saved)
{
    sigaction(SIGINT, &saved[0], NULL);
    sigaction(SIGTERM, &saved[1], NULL);
    sigaction(SIGHUP, &saved[2], NULL);
}

int rs_cmd_attach(int argc, char **argv)
{
    struct attach_options opt;
    int rc = parse_attach(argc, argv, &opt);
    if (rc >= 0)
        return rc;
#if !defined(__x86_64__)
    return fail(RS_EXIT_USAGE, "refscope attach supports x86-64 only");
#endif
    char *gdb = find_gdb();
    if (!gdb)
        return fail(RS_EXIT_USAGE, "refscope attach needs gdb (Debian package 'gdb'; REFSCOPE_GDB "
                    "can name it): not found in PATH");
    char *library = find_library();
    struct proc pr;
    struct maps m = {0};
    struct inject_plan ip;
    memset(&ip, 0, sizeof ip);
    bool python_hint = false;
    struct session s;
    char output[PATH_MAX];
    char *escaped = NULL;
    struct sigaction saved[3];
    bool signals_taken = false;
    if (!library) {
        rc = RS_EXIT_USAGE;
        goto done;
    }
    if ((rc = check_target(&opt, &pr, &m, &ip, &python_hint)) != 0)
        goto done;
    if ((rc = plan_output(&opt, &pr, output, sizeof output)) != 0)
        goto done;
    session_paths(&s, pr.uid[1], opt.pid);
    if (strlen(s.sock) + 1 >= sizeof s.sock) {
        rc = fail(RS_EXIT_USAGE, "the session path %s is too long", s.sock);
        goto done;
    }
    if ((rc = session_dir(&s, pr.uid[1], pr.gid[1])) != 0)
        goto done;
    char reply[8192], buf[1024];
    if (request(s.sock, "status", reply, sizeof reply, 5) == 0) {
        rc = fail(RS_EXIT_USAGE, "process %d already has a refscope session (trace %s): use "
                  "'refscope snapshot %d' or 'refscope detach %d'", (int)opt.pid,
                  reply_get(reply, "trace", buf, sizeof buf), (int)opt.pid, (int)opt.pid);
        goto done;
    }
    const struct mapping *loaded = find_mapping(&m, LIBRARY_NAME);
    if (loaded && started_preloaded(opt.pid)) {
        rc = fail(RS_EXIT_USAGE, "refscope traces process %d (%s) since it started (refscope run "
                  "or LD_PRELOAD): there is nothing to attach; its trace is written as configured "
                  "there", (int)opt.pid, pr.comm);
        goto done;
    }
    if (loaded) {
        /* attached before and detached: the library's entry point for a new session (it
         * refuses, with its reason in the log, when it was preloaded instead) */
        struct sym_want again = {"rs_attach_again", 0};
        struct elf_facts f;
        elf_lookup_in(opt.pid, &m, loaded->path, &again, 1, &f, true);
        if (!again.addr) {
            rc = fail(RS_EXIT_USAGE, "refscope is already loaded in process %d (%s), and its "
                      "library (%s) has no symbol table to start a new session with", (int)opt.pid,
                      pr.comm, loaded->path);
            goto done;
        }
        ip.dlopen_ = again.addr;
        ip.dlerror_ = 0;
        ip.again = true;
        say("refscope is loaded in process %d already (an earlier attach): starting a new session",
            (int)opt.pid);
    }
    unlink(s.sock); /* stale: its process ended */
    unlink(s.log);

    escaped = rs_escape_percent(output);
    if (!escaped) {
        rc = fail(RS_EXIT_FAILURE, "out of memory");
        goto done;
    }
    ip.pid = opt.pid;
    ip.library = library;
    ip.env[ip.nenv][0] = "REFSCOPE_ATTACH";
    ip.env[ip.nenv++][1] = s.prefix;
    ip.env[ip.nenv][0] = "REFSCOPE_OUTPUT";
    ip.env[ip.nenv++][1] = escaped;
    for (size_t i = 0; i < sizeof passed_on / sizeof *passed_on; i++) {
        const char *v = getenv(passed_on[i]);
        if (v && ip.nenv < 32) {
            ip.env[ip.nenv][0] = passed_on[i];
            ip.env[ip.nenv++][1] = v;
        }
    }
    if (!write_script(s.script, &ip)) {
        rc = fail(RS_EXIT_FAILURE, "cannot write %s: %s", s.script, strerror(errno));
        goto done;
    }
    take_signals(saved);
    signals_taken = true;
    char err[2048], infos[1024];
    double t0 = now_s();
    int g = run_gdb(gdb, &s, opt.pid, err, sizeof err, infos, sizeof infos);
    unlink(s.script);
    if (g != 0) {
        print_log(&s);
        rc = fail(RS_EXIT_FAILURE, "cannot attach to process %d (%s): %s", (int)opt.pid, pr.comm, err);
        goto done;
    }
    if (infos[0] && getenv("REFSCOPE_VERBOSE"))
        say("%s", infos);
    if (request(s.sock, "status", reply, sizeof reply, 10) != 0 || !reply_ok(reply)) {
        print_log(&s);
        rc = fail(RS_EXIT_FAILURE, "refscope was loaded into process %d but did not start (its "
                  "messages, if any, are above)", (int)opt.pid);
        goto done;
    }
    char python[300], native[500];
    reply_get(reply, "python", python, sizeof python);
    reply_get(reply, "native", native, sizeof native);
    print_log(&s);
    say("attached to process %d (%s) in %.1f s: tracing into %s", (int)opt.pid, pr.comm,
        now_s() - t0, output);
    say("native allocations: %s", native);
    bool is_python = strncmp(python, "pending", 7) == 0 || strncmp(python, "attached", 8) == 0;
    if (!is_python) {
        const char *detail = strchr(python, ' ');
        say("process %d is not a CPython 3.8-3.13 interpreter%s%s: native-only trace, without "
            "object-graph snapshots", (int)opt.pid, detail ? ": " : "", detail ? detail + 1 : "");
    }
    bool python_gone = false;
    int snap_failures = snapshot_now(&s, "attach", is_python, &python_gone);
    if (opt.no_wait) {
        say("the session runs on: 'refscope snapshot %d' takes a snapshot, 'refscope detach %d' "
            "ends it", (int)opt.pid, (int)opt.pid);
        rc = RS_EXIT_OK;
        goto done;
    }
    /* the session */
    double start = now_s(), next = opt.every > 0 ? start + opt.every : 0;
    unsigned periodic = 0;
    bool ended = false;
    if (!opt.duration)
        say("detaching on Ctrl-C (SIGINT) or SIGTERM");
    while (!got_signal) {
        double t = now_s();
        if (opt.duration > 0 && t - start >= opt.duration)
            break;
        if (!same_process(&pr)) {
            ended = true;
            break;
        }
        if (next && t >= next && is_python && !python_gone) {
            char label[64];
            snprintf(label, sizeof label, "every %g s, #%u", opt.every, ++periodic);
            snap_failures += snapshot_now(&s, label, true, &python_gone);
            next = now_s() + opt.every;
        }
        sleep_s(0.05);
    }
    if (ended) {
        say("process %d has ended: its trace ends with it, in %s", (int)opt.pid, output);
        unlink(s.sock);
        unlink(s.log);
        rc = RS_EXIT_OK;
        goto done;
    }
    if (request(s.sock, "status", reply, sizeof reply, 10) == 0 && reply_ok(reply) &&
        strcmp(reply_get(reply, "state", buf, sizeof buf), "active") != 0) {
        say("the trace has already ended (%s): %s", buf, output);
        rc = RS_EXIT_OK;
        goto done;
    }
    if (is_python && !python_gone)
        snap_failures += snapshot_now(&s, "detach", true, &python_gone);
    rc = detach_session(&s, opt.pid, true);
    (void)snap_failures;
done:
    if (signals_taken)
        restore_signals(saved);
    maps_free(&m);
    free(escaped);
    free(library);
    free(gdb);
    return rc;
}

/* ---- detach and snapshot -------------------------------------------------------------- */

/* The session of a process, by the user it runs as. */
static int find_session(const char *cmd, pid_t pid, struct session *s)
{
    struct proc pr;
    if (!read_proc(pid, &pr))
        return fail(RS_EXIT_USAGE, "%s: there is no process %d", cmd, (int)pid);
    session_paths(s, pr.uid[1], pid);
    struct stat st;
    if (stat(s->sock, &st) != 0)
        return fail(RS_EXIT_FAILURE, "%s: process %d has no refscope session (%s): start one with "
                    "'refscope attach %d'", cmd, (int)pid, errno == EACCES ? "permission denied" : "none found",
                    (int)pid);
    return 0;
}

static int parse_pid_args(const char *cmd, const char *help, int argc, char **argv, pid_t *pid,
                          const char **label)
{
    bool have = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value;
        int m;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help, stdout);
            return RS_EXIT_OK;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            quiet = true;
        } else if (label && (m = rs_option_value(argc, argv, &i, "--label", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--label needs a value");
            if (strlen(value) > 200 || strpbrk(value, "\n\r"))
                return rs_usage_error(cmd, "--label: at most 200 characters, one line");
            *label = value;
        } else if (arg[0] == '-') {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        } else if (!have) {
            if (!parse_pid(arg, pid))
                return rs_usage_error(cmd, "'%s' is not a process id", arg);
            have = true;
        } else {
            return rs_usage_error(cmd, "unexpected argument '%s'", arg);
        }
    }
    if (!have)
        return rs_usage_error(cmd, "missing the process id");
    return -1;
}

int rs_cmd_detach(int argc, char **argv)
{
    pid_t pid = 0;
    int rc = parse_pid_args("detach", detach_help, argc, argv, &pid, NULL);
    if (rc >= 0)
        return rc;
    struct session s;
    if ((rc = find_session("detach", pid, &s)) != 0)
        return rc;
    return detach_session(&s, pid, true);
}

int rs_cmd_snapshot(int argc, char **argv)
{
    pid_t pid = 0;
    const char *label = NULL;
    int rc = parse_pid_args("snapshot", snapshot_help, argc, argv, &pid, &label);
    if (rc >= 0)
        return rc;
    struct session s;
    if ((rc = find_session("snapshot", pid, &s)) != 0)
        return rc;
    char line[300], reply[8192], buf[1024];
    snprintf(line, sizeof line, "snapshot %s", label ? label : "on demand");
    if (request(s.sock, line, reply, sizeof reply, REQUEST_TIMEOUT_S) != 0)
        return fail(RS_EXIT_FAILURE, "no refscope session answers in process %d", (int)pid);
    if (!reply_ok(reply))
        return fail(RS_EXIT_FAILURE, "snapshot of process %d failed: %s", (int)pid,
                    reply_error(reply, buf, sizeof buf));
    char trace[PATH_MAX];
    say("snapshot %s of process %d taken, in %s", reply_get(reply, "snapshot", buf, sizeof buf),
        (int)pid, reply_get(reply, "trace", trace, sizeof trace));
    return RS_EXIT_OK;
}
