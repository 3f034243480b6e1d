/* `refscope`: dispatches to a subcommand. A new subcommand is one entry in `commands`. */
#include "commands.h"

#include "rs_trace_format.h"

#include <stdio.h>
#include <string.h>

#ifndef REFSCOPE_VERSION
#define REFSCOPE_VERSION "unknown"
#endif

static const struct rs_command commands[] = {
    {"run", rs_cmd_run, "[-o FILE] [--force] [-q] [--] COMMAND [ARGS...]",
     "run COMMAND with refscope recording its allocations"},
    {"report", rs_cmd_report, "FILE [--json] [--top N] [--stack-depth N]",
     "summarize a trace: leaks at exit, the peak, threads"},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

static void usage(FILE *out)
{
    fputs("Usage: refscope COMMAND [ARGS...]\n"
          "       refscope --help | --version\n\nCommands:\n",
          out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\nrefscope COMMAND --help shows the arguments of a command.\n"
          "Exit status: 0 success, 1 unreadable or corrupt trace, 2 usage error;\n"
          "refscope run exits with its command's status.\n",
          out);
}

static const struct rs_command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return RS_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout);
        return RS_EXIT_OK;
    }
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        printf("refscope %s (trace format %d.%d)\n", REFSCOPE_VERSION, RS_VERSION_MAJOR,
               RS_VERSION_MINOR);
        return RS_EXIT_OK;
    }
    if (strcmp(arg, "help") == 0 && argc >= 3) {
        const struct rs_command *c = find(argv[2]);
        if (!c)
            return rs_usage_error(NULL, "unknown command '%s'", argv[2]);
        char *help_argv[] = {argv[2], "--help", NULL};
        return c->main(2, help_argv);
    }
    if (arg[0] == '-')
        return rs_usage_error(NULL, "unknown option '%s'", arg);
    const struct rs_command *c = find(arg);
    if (!c)
        return rs_usage_error(NULL, "unknown command '%s'", arg);
    return c->main(argc - 1, argv + 1);
}
