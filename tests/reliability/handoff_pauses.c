/* handoff_pauses [ROUNDS]: two threads pass batches of blocks back and forth; each frees
 * the batch it receives and allocates the next one at once, so the addresses one thread
 * frees come back from the other's next allocations. Every few rounds one side pauses long
 * enough that refscope stops counting its thread as recording (it parks its ring), and
 * the other, recording alone, reuses one clock reading for many events: the case where a
 * time taken too early would put an allocation before the free of the same address. The
 * main thread also pauses while the other works alone, and a third thread starts and ends
 * in the middle of it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BATCH 50

struct side {
    int in[2], out[2];
};

static int rounds;

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void **take(int fd)
{
    void **batch;
    if (read(fd, &batch, sizeof batch) != sizeof batch)
        exit(2);
    return batch;
}

static void give(int fd, void **batch)
{
    if (write(fd, &batch, sizeof batch) != sizeof batch)
        exit(2);
}

/* Frees what came in and fills the same array with new blocks. */
static void recycle(void **batch, unsigned seed)
{
    for (int i = 0; i < BATCH; i++)
        free(batch[i]);
    for (int i = 0; i < BATCH; i++)
        batch[i] = malloc(16 + (seed + (unsigned)i * 7u) % 96);
}

static void *volatile sink;

static void *churn_alone(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        sink = malloc(32 + (unsigned)i % 64);
        free(sink);
    }
    return NULL;
}

static void *other(void *arg)
{
    struct side *s = arg;
    for (int r = 0; r < rounds; r++) {
        void **batch = take(s->in[0]);
        if (r % 7 == 3)
            pause_ms(30); /* the main thread waits in read(): parked */
        recycle(batch, (unsigned)r * 31u);
        give(s->out[1], batch);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atoi(argv[1]) : 60;
    struct side s;
    if (pipe(s.in) || pipe(s.out))
        return 1;
    void **batch = malloc(BATCH * sizeof *batch);
    for (int i = 0; i < BATCH; i++)
        batch[i] = malloc(24);
    pthread_t t;
    pthread_create(&t, NULL, other, &s);
    for (int r = 0; r < rounds; r++) {
        if (r % 5 == 1)
            pause_ms(30); /* the other thread waits in read(): parked */
        if (r == rounds / 2) {
            pthread_t alone;
            pthread_create(&alone, NULL, churn_alone, NULL);
            pthread_join(alone, NULL);
        }
        give(s.in[1], batch);
        batch = take(s.out[0]);
        recycle(batch, (unsigned)r * 17u);
    }
    pthread_join(t, NULL);
    for (int i = 0; i < BATCH; i++)
        free(batch[i]);
    free(batch);
    printf("handoff: %d rounds of %d blocks\n", rounds, BATCH);
    return 0;
}
