/* A program whose own global functions have the names of refscope's trace encoder, exported
 * (-rdynamic) as a plugin host's would be. The preloaded library must keep calling its own:
 * were one of these reached from the shim, the program would abort instead of printing. */
#include <stdio.h>
#include <stdlib.h>

#define OWN(name)                                                                         \
    void name(void);                                                                      \
    void name(void)                                                                       \
    {                                                                                     \
        fputs("the program's " #name " was called from outside\n", stderr);              \
        abort();                                                                          \
    }

OWN(rs_chunk_open)
OWN(rs_chunk_close)
OWN(rs_rec_alloc)
OWN(rs_rec_free)
OWN(rs_rec_stack)
OWN(rs_rec_thread)
OWN(rs_hdr_u64)
OWN(rs_encode_file_header)

int main(void)
{
    static char *kept[3];
    unsigned long sum = 0;
    for (int i = 0; i < 100000; i++) {
        char *p = malloc((size_t)(i % 200) + 1);
        p[0] = (char)i;
        sum += (unsigned char)p[0];
        free(p);
    }
    for (int i = 0; i < 3; i++)
        kept[i] = malloc(1000);
    printf("sum %lu, kept %d blocks\n", sum, kept[2] != NULL ? 3 : 0);
    return 0;
}
