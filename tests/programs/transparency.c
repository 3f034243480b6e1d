/* Exercises what a preloaded library could disturb: stdout/stderr, stdin, environment,
 * errno after allocation calls, signals and their handlers, threads, fork, exec and the
 * exit status. Prints a transcript; the test compares it with and without refscope. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig; got_usr1++; }

static void *worker(void *arg)
{
    long n = (long)arg, sum = 0;
    for (long i = 0; i < n; i++) {
        char *volatile p = malloc((size_t)(i % 100) + 1);
        p[0] = (char)i;
        sum += p[0];
        free(p);
    }
    return (void *)sum;
}

/* errno across frees that are the thread's first recorded call (its ring is claimed then)
 * and frees that find the thread's ring full (the test runs it with a small ring too). */
static void *frees_keep_errno(void *block)
{
    errno = 4321;
    free(block);
    int kept = errno == 4321;
    for (int i = 0; i < 200000 && kept; i++) {
        void *volatile p = malloc(16); /* volatile: GCC drops a malloc/free pair it sees whole */
        errno = 4321;
        free(p);
        kept = errno == 4321;
    }
    return (void *)(long)kept;
}

int main(int argc, char **argv)
{
    printf("argc=%d argv1=%s\n", argc, argc > 1 ? argv[1] : "-");
    fprintf(stderr, "to stderr\n");
    const char *home = getenv("TRANSPARENCY_VALUE");
    printf("env=%s\n", home ? home : "(unset)");

    errno = 1234;
    void *p = malloc(10);
    free(p);
    printf("errno kept across malloc/free: %s\n", errno == 1234 ? "yes" : "no");
    errno = 0;
    void *huge = malloc((size_t)-1 / 2);
    printf("huge malloc: %s errno=%s\n", huge ? "non-null" : "null", errno == ENOMEM ? "ENOMEM" : "other");

    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap ok: %s\n", m != MAP_FAILED ? "yes" : "no");
    errno = 0;
    printf("munmap bad: %d errno=%s\n", munmap((void *)1, 10), errno == EINVAL ? "EINVAL" : "other");
    munmap(m, 1 << 20);

    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    printf("handled SIGUSR1: %d\n", (int)got_usr1);

    pthread_t t[4];
    long total = 0;
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, (void *)(10000 + i));
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (long)r;
    }
    printf("threads sum=%ld\n", total);

    pthread_t freer;
    void *kept = NULL;
    pthread_create(&freer, NULL, frees_keep_errno, malloc(32));
    pthread_join(freer, &kept);
    printf("errno kept across a thread's frees: %s\n", kept ? "yes" : "no");

    char line[256];
    if (fgets(line, sizeof line, stdin))
        printf("stdin: %s", line);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "echo from exec child; exit 9", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("exec child status=%d\n", WEXITSTATUS(status));

    fflush(stdout);
    pid = fork();
    if (pid == 0)
        abort();
    waitpid(pid, &status, 0);
    printf("aborting child: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));
    return 42;
}
