/* The demangler is the C++ runtime's own (__cxa_demangle, in libstdc++.so.6, which every
 * Debian system has: apt is linked against it), loaded the first time a mangled name is
 * met, so that the analyzer, a C program, neither links it nor carries a demangler of its
 * own. Without it, names stay as the symbols have them. */
#include "demangle.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

typedef char *(*cxa_demangle_fn)(const char *mangled, char *out, size_t *len, int *status);

static cxa_demangle_fn demangler;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *lib = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
    if (lib)
        *(void **)&demangler = dlsym(lib, "__cxa_demangle");
}

char *rs_demangle(const char *name)
{
    if (!name || name[0] != '_' || name[1] != 'Z')
        return NULL;
    pthread_once(&load_once, load);
    if (!demangler)
        return NULL;
    int status = -1;
    char *out = demangler(name, NULL, NULL, &status);
    if (status != 0) {
        free(out);
        return NULL;
    }
    return out;
}
