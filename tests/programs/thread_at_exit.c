/* A thread keeps allocating and freeing while main returns: the process must exit at
 * once with main's status, never hang or crash. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

static void *busy(void *unused)
{
    (void)unused;
    for (;;) {
        sink = malloc(64);
        free(sink);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, busy, NULL);
    usleep(50 * 1000);
    printf("main returns while threads allocate\n");
    return 5;
}
