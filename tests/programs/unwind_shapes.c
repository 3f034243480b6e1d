/* Frames of every shape the native-stack rules must step through or hand to libunwind:
 * alloca and VLAs (CFA from rbp when built with frame pointers), deep recursion, a signal
 * handler that allocates (a signal frame: libunwind's), libraries loaded and unloaded
 * between allocations (cached rules dropped), a second thread. Leaks KEEP_BLOCKS blocks
 * at the LEAK line, so the report's stack can be checked. */
#include <alloca.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_BLOCKS 64

static void *volatile sink;
static volatile int calls; /* work after each call: no tail calls */
static void *volatile kept[KEEP_BLOCKS]; /* volatile: -O2 may not drop the leak */

__attribute__((noinline)) static void leaf_alloc(int n)
{
    char *scratch = alloca((size_t)n * 16 + 8);
    memset(scratch, 1, (size_t)n + 1);
    sink = scratch;
    void *p = malloc((size_t)n + 1);
    sink = p;
    free(p);
}

__attribute__((noinline)) static void with_vla(int n)
{
    char vla[n + 1];
    vla[0] = 0;
    sink = vla;
    leaf_alloc(n);
}

__attribute__((noinline)) static void recurse(int depth, int n)
{
    if (depth == 0) {
        with_vla(n);
        return;
    }
    recurse(depth - 1, n);
    calls++;
}

__attribute__((noinline)) static void keep_one(int i)
{
    kept[i] = malloc(1000); /* LEAK */
}

static void on_alarm(int sig)
{
    (void)sig;
    void *p = malloc(100);
    sink = p;
    free(p);
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5000; i++)
        recurse(i % 40, i % 200);
    return NULL;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    for (int i = 0; i < 20000; i++) {
        recurse(i % 25, i % 300);
        if (i % 1000 == 0)
            raise(SIGALRM);
    }
    for (int i = 0; i < 10; i++) {
        void *lib = dlopen("libz.so.1", RTLD_NOW);
        if (lib)
            dlclose(lib);
        recurse(3, i);
    }
    for (int i = 0; i < KEEP_BLOCKS; i++)
        keep_one(i);
    pthread_join(t, NULL);
    return 0;
}
