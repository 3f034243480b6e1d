/* refscope verify FILE [--json] */
#include "commands.h"

#include "verify.h"

#include <stdio.h>
#include <string.h>

static const char help[] =
    "Usage: refscope verify FILE [--json]\n"
    "\n"
    "Checks a trace's integrity and consistency and reports what it found: every chunk's\n"
    "checksum and sequence number, each thread's events in time order, every free matching\n"
    "a live allocation when the events are replayed in time order (frees of blocks\n"
    "allocated before tracing started, or inherited by a fork child, are counted apart),\n"
    "each thread's events in the file against its own count and the END record's total,\n"
    "every stack an event names defined, and each snapshot's counts against its records.\n"
    "A trace cut short (killed, crashed) is checked up to its last complete chunk.\n"
    "\n"
    "  --json   machine-readable output (schema refscope.verify/1)\n"
    "\n"
    "Exit status: 0 consistent (up to the cut, for a partial trace), 1 not consistent or\n"
    "unreadable (one line per problem), 2 usage error.\n";

int rs_cmd_verify(int argc, char **argv)
{
    const char *cmd = "verify";
    const char *file = NULL;
    bool json = false, options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (file)
                return rs_usage_error(cmd, "more than one trace file given ('%s')", arg);
            file = arg;
        } else if (strcmp(arg, "--") == 0) {
            options_done = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help, stdout);
            return RS_EXIT_OK;
        } else if (strcmp(arg, "--json") == 0) {
            json = true;
        } else {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!file)
        return rs_usage_error(cmd, "missing the trace file");
    if (strcmp(file, "-") == 0)
        file = "/dev/stdin";

    struct rs_verify v;
    if (rs_verify_file(&v, file, NULL) != 0) {
        rs_verify_free(&v);
        fputs("refscope: verify: out of memory\n", stderr);
        return RS_EXIT_FAILURE;
    }
    if (json)
        rs_verify_write_json(&v, stdout);
    else
        rs_verify_write_text(&v, stdout);
    bool ok = rs_verify_consistent(&v);
    rs_verify_free(&v);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("refscope: writing the result");
        return RS_EXIT_FAILURE;
    }
    return ok ? RS_EXIT_OK : RS_EXIT_FAILURE;
}
