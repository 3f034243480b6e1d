/* The subcommands of the `refscope` CLI. Each is one entry in main.c's table.
 *
 * Exit codes, for every command:
 *   0  success
 *   1  the trace cannot be read (missing, not a trace, corrupt) or another runtime failure
 *   2  usage error (unknown command or option, missing or bad argument), or `run` refusing
 *      to start (output exists, directory not writable, librefscope.so not found)
 * `run` otherwise exits with its command's status (127 when the command cannot be run). */
#ifndef REFSCOPE_COMMANDS_H
#define REFSCOPE_COMMANDS_H

#include <stdbool.h>

#define RS_EXIT_OK 0
#define RS_EXIT_FAILURE 1
#define RS_EXIT_USAGE 2
#define RS_EXIT_CANNOT_RUN 127

struct rs_command {
    const char *name;
    int (*main)(int argc, char **argv); /* argv[0] is the command's name */
    const char *synopsis;               /* its arguments, for usage lines */
    const char *summary;
};

int rs_cmd_run(int argc, char **argv);
int rs_cmd_report(int argc, char **argv);
/* Object-graph snapshots (cmd_types.c, cmd_growth.c, cmd_backrefs.c, cmd_cycles.c,
 * cmd_graph.c) */
int rs_cmd_types(int argc, char **argv);
int rs_cmd_growth(int argc, char **argv);
int rs_cmd_backrefs(int argc, char **argv);
int rs_cmd_cycles(int argc, char **argv);
int rs_cmd_graph(int argc, char **argv);
/* Running processes: attach through gdb, snapshots on demand, detach (cmd_attach.c) */
int rs_cmd_attach(int argc, char **argv);
int rs_cmd_snapshot(int argc, char **argv);
int rs_cmd_detach(int argc, char **argv);
/* One self-contained HTML page about a trace (cmd_html.c, html_report.c) */
int rs_cmd_html(int argc, char **argv);
/* Trace integrity and consistency (cmd_verify.c) */
int rs_cmd_verify(int argc, char **argv);
/* A leak gate for CI: rules, suppressions, baselines (cmd_check.c, check_*.c) */
int rs_cmd_check(int argc, char **argv);

/* "refscope: <cmd>: <message> (see 'refscope <cmd> --help')" on stderr; returns
 * RS_EXIT_USAGE. */
int rs_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For options taking a value: matches "--name VALUE" and "--name=VALUE" (and "-xVALUE"
 * when name is a one-letter "-x"). Returns 1 and sets *value (advancing *i past a separate
 * value), 0 when argv[*i] is another option, -1 when the value is missing. */
int rs_option_value(int argc, char **argv, int *i, const char *name, const char **value);
/* A whole decimal number in [0, max]. */
bool rs_parse_unsigned(const char *s, unsigned max, unsigned *out);

#endif
