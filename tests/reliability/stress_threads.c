/* stress_threads [THREADS [PER_THREAD]]: THREADS threads (default 64) each allocate
 * PER_THREAD blocks (default 20000) and hand every block to the previous thread, which
 * frees it while the next allocations are still being made: mallocs and cross-thread
 * frees interleave all the time, and addresses freed by one thread come back to others.
 *
 * The i-th block of thread k has size STRESS_SIZE(k, i) (a pattern check_pattern follows
 * to see that no event of the thread is lost, duplicated or reordered), and thread k frees
 * the blocks of thread k + 1 in the order they were made. Threads are named "stress-K".
 * Optional, for the signal stress: SIGNALS=1 in the environment makes a timer (setitimer,
 * SIGNAL_US microseconds, default 20) and a signalling thread (pthread_kill SIGUSR1 at
 * every worker in turn, pausing SIGNAL_US between two) interrupt
 * the workers all along; HANDLER=none|syscall|mmap chooses what the handlers do: count
 * (none), a getpid system call and a write to /dev/null (syscall), or map and unmap an
 * anonymous page (mmap, async-signal-safe in practice: plain system calls). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

/* odd sizes from 5001 to 6017: no page-sized or other allocation of the program matches */
#define STRESS_SIZE(k, i) (5001 + (size_t)(((k) * 131 + (i)) % 509) * 2)
#define QUEUE_SLOTS 1024

struct queue {
    _Atomic uint64_t head; /* producer */
    char pad0[56];
    _Atomic uint64_t tail; /* consumer */
    char pad1[56];
    void *slot[QUEUE_SLOTS];
};

static int nthreads = 64;
static long per_thread = 20000;
static struct queue *queues;      /* queues[k]: made by thread k, freed by thread k - 1 */
static pthread_t *tids;
static _Atomic int started;
static _Atomic int workers_done;
static _Atomic int release;        /* workers may end: nobody signals them any more */
static _Atomic long signals_taken;
static _Atomic long handler_mmaps;   /* pages mapped (and unmapped) by handlers */
static int handler_mode;          /* 0 none, 1 syscall, 2 mmap */
static long signal_us = 20;       /* SIGNAL_US: timer interval and pause between kills */
static int devnull = -1;

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    atomic_fetch_add_explicit(&signals_taken, 1, memory_order_relaxed);
    if (handler_mode == 1) {
        syscall(SYS_getpid);
        if (devnull >= 0) {
            ssize_t unused = write(devnull, "x", 1);
            (void)unused;
        }
    } else if (handler_mode == 2) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            *(volatile char *)p = 1;
            munmap(p, 4096);
            atomic_fetch_add_explicit(&handler_mmaps, 1, memory_order_relaxed);
        }
    }
    errno = saved;
}

/* Frees what the next thread handed over; returns how many. */
static long drain(struct queue *in)
{
    uint64_t tail = atomic_load_explicit(&in->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&in->head, memory_order_acquire);
    long n = 0;
    for (; tail != head; tail++, n++)
        free(in->slot[tail % QUEUE_SLOTS]);
    atomic_store_explicit(&in->tail, tail, memory_order_release);
    return n;
}

static void *worker(void *arg)
{
    int k = (int)(long)arg;
    char name[16];
    snprintf(name, sizeof name, "stress-%d", k);
    pthread_setname_np(pthread_self(), name);
    atomic_fetch_add(&started, 1);
    while (atomic_load(&started) < nthreads)
        ; /* everyone starts together */
    struct queue *out = &queues[k], *in = &queues[(k + 1) % nthreads];
    long freed = 0;
    for (long i = 0; i < per_thread; i++) {
        char *p = malloc(STRESS_SIZE(k, i));
        if (!p)
            abort();
        p[0] = (char)i;
        uint64_t head = atomic_load_explicit(&out->head, memory_order_relaxed);
        while (head - atomic_load_explicit(&out->tail, memory_order_acquire) >= QUEUE_SLOTS)
            freed += drain(in); /* wait for room, freeing meanwhile: no cycle can block */
        out->slot[head % QUEUE_SLOTS] = p;
        atomic_store_explicit(&out->head, head + 1, memory_order_release);
        if (i % 7 == 0)
            freed += drain(in);
    }
    while (freed < per_thread)
        freed += drain(in);
    atomic_fetch_add(&workers_done, 1);
    /* pthread_kill on a thread that has ended is undefined: stay until the signals stop */
    while (!atomic_load(&release)) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void *signaller(void *arg)
{
    (void)arg;
    long sent = 0;
    while (atomic_load(&workers_done) < nthreads) {
        for (int k = 0; k < nthreads && atomic_load(&workers_done) < nthreads; k++) {
            pthread_kill(tids[k], SIGUSR1);
            sent++;
            struct timespec ts = {0, signal_us * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return (void *)sent;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        nthreads = atoi(argv[1]);
    if (argc > 2)
        per_thread = atol(argv[2]);
    if (nthreads < 1 || nthreads > 1024 || per_thread < 1)
        return 2;
    const char *sig = getenv("SIGNALS");
    bool with_signals = sig && *sig == '1';
    const char *h = getenv("HANDLER");
    handler_mode = !h || strcmp(h, "none") == 0 ? 0 : strcmp(h, "syscall") == 0 ? 1 : 2;
    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    const char *us = getenv("SIGNAL_US");
    if (us && atol(us) > 0 && atol(us) < 1000000)
        signal_us = atol(us);

    queues = calloc((size_t)nthreads, sizeof *queues);
    tids = calloc((size_t)nthreads, sizeof *tids);
    if (!queues || !tids)
        return 1;
    pthread_t sig_thread;
    if (with_signals) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        sigaction(SIGUSR1, &sa, NULL);
    }
    for (long k = 0; k < nthreads; k++) {
        if (pthread_create(&tids[k], NULL, worker, (void *)k) != 0)
            return 1;
    }
    if (with_signals) {
        struct itimerval it = {{0, signal_us}, {0, signal_us}};
        setitimer(ITIMER_REAL, &it, NULL);
        pthread_create(&sig_thread, NULL, signaller, NULL);
    }
    while (atomic_load(&workers_done) < nthreads) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    long sent = 0;
    if (with_signals) {
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        void *r;
        pthread_join(sig_thread, &r);
        sent = (long)r;
    }
    atomic_store(&release, 1);
    for (int k = 0; k < nthreads; k++)
        pthread_join(tids[k], NULL);
    free(queues);
    free(tids);
    printf("stress: %d threads, %ld allocations and %ld cross-thread frees each; "
           "signals taken %ld (%ld sent by pthread_kill); handler mmaps %ld\n",
           nthreads, per_thread, per_thread, atomic_load(&signals_taken), sent,
           atomic_load(&handler_mmaps));
    return 0;
}
