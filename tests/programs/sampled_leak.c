/* A program for the sampling mode: a known leak of small blocks, a known leak of big ones,
 * and much more memory that is freed again: by the thread that allocated it, and by another
 * thread than the one that did. Under REFSCOPE_SAMPLE a correct report estimates the first
 * leak, gives the second exactly (a block far bigger than the mean is always sampled, and
 * stands for itself) and shows none of the rest as leaked. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    SMALL_LEAKS = 8192,
    SMALL_SIZE = 1024,
    BIG_LEAKS = 16,
    BIG_SIZE = 1 << 20,
    CHURN_THREADS = 4,
    CHURN_PAIRS = 200000,
    HANDED_OVER = 20000,
};

static void *volatile kept[SMALL_LEAKS + BIG_LEAKS];
static void *handed[HANDED_OVER];

__attribute__((noinline)) static void leak_small(void)
{
    for (int i = 0; i < SMALL_LEAKS; i++)
        kept[i] = malloc(SMALL_SIZE); /* SMALL LEAK */
}

__attribute__((noinline)) static void leak_big(void)
{
    for (int i = 0; i < BIG_LEAKS; i++)
        kept[SMALL_LEAKS + i] = malloc(BIG_SIZE); /* BIG LEAK */
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Blocks of 16 B to 64 KB, freed in a different order than allocated. */
__attribute__((noinline)) static void *churn(void *arg)
{
    uint64_t x = 0x9e3779b97f4a7c15u + (uintptr_t)arg;
    void *window[64] = {0};
    for (int i = 0; i < CHURN_PAIRS; i++) {
        size_t slot = next(&x) % 64;
        free(window[slot]);
        window[slot] = malloc(16 + next(&x) % 4096 * (i % 16 == 0 ? 16 : 1)); /* CHURN */
    }
    for (int i = 0; i < 64; i++)
        free(window[i]);
    return NULL;
}

__attribute__((noinline)) static void *hand_over(void *arg)
{
    (void)arg;
    for (int i = 0; i < HANDED_OVER; i++)
        handed[i] = malloc(32 + (size_t)i % 2048); /* HANDED OVER */
    return NULL;
}

int main(void)
{
    leak_small();
    leak_big();

    pthread_t threads[CHURN_THREADS], producer;
    for (uintptr_t i = 0; i < CHURN_THREADS; i++)
        if (pthread_create(&threads[i], NULL, churn, (void *)i))
            return 2;
    if (pthread_create(&producer, NULL, hand_over, NULL))
        return 2;
    for (int i = 0; i < CHURN_THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_join(producer, NULL);
    for (int i = 0; i < HANDED_OVER; i++)
        free(handed[i]);

    printf("leaked %d x %d and %d x %d bytes\n", SMALL_LEAKS, SMALL_SIZE, BIG_LEAKS, BIG_SIZE);
    return 0;
}
