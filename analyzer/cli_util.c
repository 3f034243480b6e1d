#include "commands.h"

#include "escape.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rs_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Arguments may hold anything the user typed, control characters included. */
    fputs("refscope: ", stderr);
    if (cmd)
        fprintf(stderr, "%s: ", cmd);
    rs_fput_escaped(stderr, msg, strlen(msg));
    if (cmd)
        fprintf(stderr, " (see 'refscope %s --help')\n", cmd);
    else
        fputs(" (see 'refscope --help')\n", stderr);
    return RS_EXIT_USAGE;
}

int rs_option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '\0') {
        if (*i + 1 >= argc)
            return -1;
        *value = argv[++*i];
        return 1;
    }
    bool short_opt = n == 2 && name[0] == '-' && name[1] != '-';
    if (arg[n] == '=' && !short_opt) {
        *value = arg + n + 1;
        return 1;
    }
    if (short_opt) {
        *value = arg + n;
        return 1;
    }
    return 0;
}

bool rs_parse_unsigned(const char *s, unsigned max, unsigned *out)
{
    if (!*s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}
