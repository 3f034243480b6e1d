/* The child of a fork leaks 7 blocks of 777 bytes in child_leak(); the parent leaks
 * nothing of its own. Each process must leave its own trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void child_leak(void)
{
    for (int i = 0; i < 7; i++) {
        char *p = malloc(777); /* CHILD LEAK */
        memset(p, 0, 777);
        sink = p;
    }
}

int main(void)
{
    char *before = malloc(100);
    sink = before;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        child_leak();
        free(before);
        printf("child %d done\n", (int)getpid());
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    free(before);
    printf("parent: child exited with %d\n", WEXITSTATUS(status));
    return 0;
}
