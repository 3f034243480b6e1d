/* exec_fail [N]: an exec that fails (ENOENT), then N allocations (default 1,000,000, far
 * more than a thread's ring holds), then "done". Under refscope the trace ends before the
 * exec and must resume after it fails. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char *args[] = {"nonexistent", NULL};
    execv("/nonexistent/program", args);
    perror("execv");
    for (long i = 0; i < n; i++) {
        sink = malloc(32);
        free(sink);
    }
    printf("done\n");
    return 0;
}
