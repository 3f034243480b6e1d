/* One line that leaks a block, reached in turn from several callers at the same stack
 * depth (so at the same stack addresses), from a second line of one caller, and through
 * recursion of changing depth; argv[1] rounds. Each caller's blocks must be counted under
 * its own stack: the shim takes a stack that met the last one's frames at every step for
 * the last one, and this is the program that would show a caller taken for another. */
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;
static volatile int calls; /* work after each call: no tail calls */

__attribute__((noinline)) static void leak_one(void)
{
    sink = malloc(24); /* LEAK */
    calls++;
}

__attribute__((noinline)) static void via_a(void)
{
    leak_one(); /* CALL a */
    calls++;
}

__attribute__((noinline)) static void via_b(void)
{
    leak_one(); /* CALL b */
    calls++;
}

__attribute__((noinline)) static void recurse(int depth)
{
    if (depth == 0)
        leak_one(); /* CALL bottom */
    else
        recurse(depth - 1); /* CALL deeper */
    calls++;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 3000;
    long blocks = 0;
    for (long i = 0; i < rounds; i++) {
        via_a(); /* ROUND a */
        blocks++;
        if (i % 2 == 0) {
            via_b(); /* ROUND b */
            blocks++;
        }
        if (i % 3 == 0) {
            recurse((int)(i % 4)); /* ROUND recurse */
            blocks++;
        }
        if (i % 5 == 0) {
            via_a(); /* ROUND a again */
            blocks++;
        }
    }
    printf("%ld blocks\n", blocks);
    return 0;
}
