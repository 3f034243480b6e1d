/* stress_fork [FORKS]: forks FORKS times (default 200) while two threads of the parent
 * keep allocating and freeing. Each child allocates CHILD_BLOCKS blocks, frees them all
 * but CHILD_LEAK of them, frees one block it inherited from the parent, and ends: even
 * children with exit(), odd ones with _exit(), every tenth after making a thread of its
 * own. The parent waits for each child and checks it ended with status 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_BLOCKS 100
#define CHILD_LEAK 3

static _Atomic int stop;
static void *volatile sink;

static void *churn(void *arg)
{
    long n = 0;
    (void)arg;
    while (!atomic_load(&stop)) {
        void *p = malloc(32 + (size_t)(n++ % 2000));
        sink = p;
        free(p);
    }
    return (void *)n;
}

static void *child_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        free(malloc(64));
    return NULL;
}

static void child(int i, void *inherited)
{
    void *blocks[CHILD_BLOCKS];
    for (int b = 0; b < CHILD_BLOCKS; b++)
        blocks[b] = malloc(100 + (size_t)b);
    for (int b = CHILD_LEAK; b < CHILD_BLOCKS; b++)
        free(blocks[b]);
    sink = blocks[0];
    free(inherited); /* allocated before the fork: in the parent's trace */
    if (i % 10 == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, child_thread, NULL) == 0)
            pthread_join(t, NULL);
    }
    if (i % 2)
        _exit(0);
    exit(0);
}

int main(int argc, char **argv)
{
    int forks = argc > 1 ? atoi(argv[1]) : 200;
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        pthread_create(&t[k], NULL, churn, NULL);
    int bad = 0;
    for (int i = 0; i < forks; i++) {
        void *inherited = malloc(4242);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            child(i, inherited);
        free(inherited);
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d ended badly (status 0x%x)\n", i, status);
            bad++;
        }
    }
    atomic_store(&stop, 1);
    long churned = 0;
    for (int k = 0; k < 2; k++) {
        void *r;
        pthread_join(t[k], &r);
        churned += (long)r;
    }
    printf("stress_fork: %d forks, %d children ended badly; parent threads churned %s\n",
           forks, bad, churned > 0 ? "yes" : "no");
    return bad ? 1 : 0;
}
