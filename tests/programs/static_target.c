/* Linked statically (no dynamic loader to load refscope into): `refscope attach` must say so
 * and leave it alone. Waits on stdin; any line ends it. */
#include <stdio.h>

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    puts("ready");
    char line[64];
    return fgets(line, sizeof line, stdin) ? 0 : 1;
}
