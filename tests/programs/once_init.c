/* A program whose library-like set-up runs once, through pthread_once, and keeps a table
 * for the life of the process (never freed, as OpenSSL's or a codec registry's), and which
 * also leaks a block on every request: the check leaves the first out, not the second. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void make_table(void)
{
    table = malloc(64 * 1024); /* ONCE */
    memset(table, 1, 64 * 1024);
}

static __attribute__((noinline)) char *handle_request(int i)
{
    pthread_once(&table_once, make_table);
    char *reply = malloc(100); /* LEAK */
    snprintf(reply, 100, "reply %d %d", i, table[i]);
    return reply;
}

int main(void)
{
    size_t total = 0;
    for (int i = 0; i < 50; i++)
        total += strlen(handle_request(i));
    printf("%zu\n", total);
    return 0;
}
