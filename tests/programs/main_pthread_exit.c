/* The main thread ends with pthread_exit while a worker still runs: the process must end
 * when the worker does (status 0), as without refscope, whose own threads must not keep
 * it alive. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

static void *worker(void *unused)
{
    (void)unused;
    usleep(200 * 1000);
    sink = malloc(123); /* WORKER LEAK */
    printf("worker done\n");
    fflush(stdout);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_exit(NULL);
}
