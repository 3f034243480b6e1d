/* A native program for `refscope attach`: every 10 ms it allocates a block in
 * grow_cache() and keeps it (a slow leak), and allocates and frees another in churn().
 * Between rounds it waits in poll() on stdin; a line "q" makes it exit normally
 * (status 0), after checking that everything it kept is intact. Prints "ready" first. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_KEPT 100000

static char *kept[MAX_KEPT];
static size_t nkept;

__attribute__((noinline)) static void grow_cache(size_t i)
{
    if (nkept == MAX_KEPT)
        return;
    char *p = malloc(48 + i % 16);
    if (!p)
        exit(3);
    memset(p, (int)(i & 0x7f), 48);
    kept[nkept++] = p;
}

__attribute__((noinline)) static void churn(size_t i)
{
    char *p = calloc(1, 200 + i % 50);
    char *q = realloc(p, 400);
    if (!q)
        exit(3);
    q[0] = 1;
    free(q);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    puts("ready");
    for (size_t i = 0;; i++) {
        grow_cache(i);
        churn(i);
        struct pollfd p = {0, POLLIN, 0};
        if (poll(&p, 1, 10) > 0) {
            char line[64];
            if (!fgets(line, sizeof line, stdin) || line[0] == 'q')
                break;
        }
    }
    for (size_t i = 0; i < nkept; i++)
        if ((unsigned char)kept[i][0] != (i & 0x7f))
            return 4;
    printf("kept %zu\n", nkept);
    return 0;
}
