/* Three threads each walk the same 2^LEVELS distinct call paths (LEVELS from argv, 16 by
 * default; each level through a() or b(): the bits of the path's number) and leak one
 * 24-byte block at the end of each: 2^LEVELS stacks, every one met by three threads at
 * about the same moment. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 3

static int levels = 16;

static void *volatile sink;

__attribute__((noinline)) static void leaf(void)
{
    sink = malloc(24);
}

__attribute__((noinline)) static void go(unsigned bits, int depth);

/* the empty asm after each call keeps it a call (no tail call), so each level is a frame */
__attribute__((noinline)) static void a(unsigned bits, int depth)
{
    go(bits, depth);
    __asm__ volatile("");
}

__attribute__((noinline)) static void b(unsigned bits, int depth)
{
    go(bits, depth);
    __asm__ volatile("");
}

__attribute__((noinline)) static void go(unsigned bits, int depth)
{
    if (depth == 0)
        leaf();
    else if (bits & 1)
        a(bits >> 1, depth - 1);
    else
        b(bits >> 1, depth - 1);
    __asm__ volatile("");
}

static void *walk_all_paths(void *unused)
{
    (void)unused;
    for (unsigned path = 0; path < (1u << levels); path++)
        go(path, levels);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        levels = atoi(argv[1]);
    if (levels < 1 || levels > 24)
        return 2;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, walk_all_paths, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("%u paths, %d threads\n", 1u << levels, THREADS);
    return 0;
}
