/* crash MODE [N]: allocates (4 threads, N blocks each, default 200000, a tenth of them
 * kept), then ends as MODE says:
 *   segv     dereferences a null pointer (SIGSEGV)
 *   abort    calls abort() (SIGABRT)
 *   exit3    exit(3)
 *   forever  keeps allocating and freeing until killed (for SIGKILL at a random moment)
 * Prints "allocated" once the allocations are done (before the crash). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long per_thread = 200000;
static int forever;
static void *volatile sink;

static void *work(void *arg)
{
    long k = (long)arg;
    void **kept = calloc((size_t)per_thread / 10 + 1, sizeof *kept);
    long nkept = 0;
    for (long i = 0; forever || i < per_thread; i++) {
        void *p = malloc(16 + (size_t)((i * 7 + k) % 300));
        if (i % 10 == 0 && nkept < per_thread / 10) {
            kept[nkept++] = p;
        } else {
            sink = p;
            free(p);
        }
        if (forever && nkept == per_thread / 10) {
            while (nkept)
                free(kept[--nkept]);
        }
        if (forever && i % 50 == 49) { /* a steady pace: about 100,000 events a second */
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return kept;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *mode = argv[1];
    if (argc > 2)
        per_thread = atol(argv[2]);
    forever = strcmp(mode, "forever") == 0;
    pthread_t t[4];
    for (long k = 0; k < 4; k++)
        pthread_create(&t[k], NULL, work, (void *)k);
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    printf("allocated\n");
    fflush(stdout);
    if (strcmp(mode, "segv") == 0) {
        volatile int *p = NULL;
        *p = 1;
    } else if (strcmp(mode, "abort") == 0) {
        abort();
    } else if (strcmp(mode, "exit3") == 0) {
        exit(3);
    }
    return 0;
}
