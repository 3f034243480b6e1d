/* `refscope`: dispatches to a subcommand. A new subcommand is one entry in `commands`. */
#include "commands.h"

#include "rs_trace_format.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#ifndef REFSCOPE_VERSION
#define REFSCOPE_VERSION "unknown"
#endif

static const struct rs_command commands[] = {
    {"run", rs_cmd_run, "[-o FILE] [--force] [-q] [--] COMMAND [ARGS...]",
     "run COMMAND with refscope recording its allocations"},
    {"report", rs_cmd_report,
     "FILE [--json] [--top N] [--stack-depth N] [--native] [--thread T]",
     "summarize a trace: leaks at exit, the peak, threads"},
    {"types", rs_cmd_types, "FILE [--snapshot N] [--top K] [--retained] [--json]",
     "most common types of a snapshot's objects"},
    {"growth", rs_cmd_growth, "FILE [--from A --to B] [--decreases] [--top K] [--json]",
     "what grew between snapshots, by type and allocation site"},
    {"backrefs", rs_cmd_backrefs,
     "FILE (--type T | --addr 0x.. | --site FILE:LINE) [--snapshot N] [-o OUT] [--json]",
     "why an object is alive: the shortest chain from a root"},
    {"cycles", rs_cmd_cycles, "FILE [--snapshot N] [-o OUT] [--json]",
     "unreachable reference cycles: garbage, uncollectable, leaked"},
    {"graph", rs_cmd_graph, "FILE (--refs|--backrefs) (--type T | --addr A) [-o OUT]",
     "draw the objects around some objects (Graphviz)"},
    {"attach", rs_cmd_attach,
     "PID [--duration S | --until-signal | --no-wait] [--snapshot-every S] [-o FILE]",
     "trace a running process from now on (through gdb), then detach"},
    {"snapshot", rs_cmd_snapshot, "PID [--label L]",
     "take an object-graph snapshot in an attached process"},
    {"detach", rs_cmd_detach, "PID", "end the refscope session of an attached process"},
    {"html", rs_cmd_html, "FILE -o OUT.html [--check-json CHECK.json]",
     "one self-contained HTML report: memory, suspects, flame graph, cycles"},
    {"verify", rs_cmd_verify, "FILE [--json]",
     "check a trace's integrity and consistency"},
    {"check", rs_cmd_check,
     "FILE [--max-growth N ...] [--baseline B] [--json F] [--junit F] [--markdown F]",
     "pass or fail a trace on leak rules, for CI (exit 1 when it leaks)"},
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

/* The analyses allocate and free tables of tens to hundreds of MB one after another (a
 * snapshot's arrays, a replay's counters, the sites pass's tables). As separate mappings
 * each one is faulted in page by page and its munmap flushes the TLB on every CPU; kept in
 * the heap, the next table reuses the pages already there. Measured on a 5M-object trace:
 * report 9.7 -> 7.8 s of CPU, growth 4.6 -> 3.1 s, for 10-15% more peak memory. */
static void keep_freed_memory(void)
{
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

int main(int argc, char **argv)
{
    keep_freed_memory();
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
