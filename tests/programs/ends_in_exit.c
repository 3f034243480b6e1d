/* Leaks 3 blocks of 300 bytes, then ends with _exit(3): no atexit handlers, no
 * destructors, yet the trace must be complete and the status kept. */
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

int main(void)
{
    for (int i = 0; i < 3; i++)
        sink = malloc(300); /* EXIT LEAK */
    _exit(3);
}
