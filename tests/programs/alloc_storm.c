/* 16 threads allocate; every block is freed by a different thread than the one that
 * allocated it. The i-th allocation of every thread has size STORM_SIZE(i), a pattern a
 * checker can follow to see that no event is lost, duplicated or reordered. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 16
#define STORM_SIZE(i) (16 + (size_t)(i) % 256)
#define STORM_PER_THREAD 20000

static void *_Atomic handoff[THREADS][STORM_PER_THREAD];
static _Atomic int ready[THREADS];

static void *storm(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < STORM_PER_THREAD; i++)
        handoff[me][i] = malloc(STORM_SIZE(i));
    atomic_store(&ready[me], 1);
    /* free the blocks the next thread allocated */
    int other = (me + 1) % THREADS;
    while (!atomic_load(&ready[other]))
        ;
    for (int i = 0; i < STORM_PER_THREAD; i++)
        free(handoff[other][i]);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, storm, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("storm: %d allocations, %d frees\n", THREADS * STORM_PER_THREAD, THREADS * STORM_PER_THREAD);
    return 0;
}
