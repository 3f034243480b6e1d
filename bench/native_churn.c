/* Benchmark workload: N malloc/free pairs of varied small sizes, split over T threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long pairs_per_thread;
static void *volatile sink;

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(long)arg * 2654435761u + 1;
    for (long i = 0; i < pairs_per_thread; i++) {
        seed = seed * 1103515245u + 12345u;
        void *p = malloc(16 + (seed >> 16) % 240);
        sink = p;
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : 10000000;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    pairs_per_thread = pairs / threads;
    pthread_t t[64];
    for (int i = 0; i < threads && i < 64; i++)
        pthread_create(&t[i], NULL, churn, (void *)(long)i);
    for (int i = 0; i < threads && i < 64; i++)
        pthread_join(t[i], NULL);
    return 0;
}
