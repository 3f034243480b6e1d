/* secure_probe: says whether it runs under secure execution (AT_SECURE) and which
 * refscope library is mapped into it, then allocates like any program and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(void)
{
    printf("AT_SECURE=%lu uid=%d euid=%d\n", getauxval(AT_SECURE), (int)getuid(), (int)geteuid());
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[4096];
    int found = 0;
    while (maps && fgets(line, sizeof line, maps)) {
        char *lib = strstr(line, "librefscope");
        if (lib && !found++) {
            lib[strcspn(lib, "\n")] = 0;
            printf("mapped: %s\n", lib);
        }
    }
    if (maps)
        fclose(maps);
    if (!found)
        printf("mapped: none\n");
    for (int i = 0; i < 1000; i++)
        free(malloc((size_t)i + 1));
    return 0;
}
