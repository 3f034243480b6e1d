/* uthash, included the one way the analyzer uses it: a table that cannot grow has no
 * sensible continuation for a command-line tool, so say so in one line and exit 1 rather
 * than uthash's default exit(-1). */
#ifndef REFSCOPE_RS_UTHASH_H
#define REFSCOPE_RS_UTHASH_H

#include <stdio.h>
#include <stdlib.h>

#define uthash_fatal(msg)                                       \
    do {                                                        \
        fputs("refscope: out of memory\n", stderr);             \
        exit(1);                                                \
    } while (0)

#include <uthash.h>

#endif
