/* refscope report FILE [--json] [--top N] [--stack-depth N] [--native] [--thread T] */
#include "commands.h"

#include "report.h"

#include <stdio.h>
#include <string.h>

static const char help[] =
    "Usage: refscope report FILE [--json] [--top N] [--stack-depth N] [--native]\n"
    "                            [--thread TID|NAME]\n"
    "\n"
    "Summarizes a trace written by refscope run: what was still allocated at exit and at\n"
    "the peak, grouped by allocation stack (and, for Python, by the Python line that\n"
    "allocated), with totals, threads and notes. For Python programs, \"at exit\" is when\n"
    "the program's own code finished (atexit), before interpreter teardown frees objects.\n"
    "Blocks the C runtime keeps for the process's lifetime (loader, stdio, locale data)\n"
    "are listed apart and not counted as leaks.\n"
    "\n"
    "  --json            machine-readable output (schema refscope.report/1)\n"
    "  --top N           stacks and lines listed per section (default 10; 0 lists all)\n"
    "  --stack-depth N   frames shown per stack (default 16; 0 shows all)\n"
    "  --native          show Python stacks with their native frames, each C frame of the\n"
    "                    interpreter's eval loop replaced by the Python frames it ran\n"
    "                    (default: Python frames only)\n"
    "  --thread T        only blocks allocated by thread T: a tid, a thread name (Python's\n"
    "                    or the OS's), or a name prefix (worker matches worker_0, worker_1)\n"
    "\n"
    "Exit status: 0 success, 1 unreadable or corrupt trace, 2 usage error (also when\n"
    "--thread matches no thread of the trace).\n";

int rs_cmd_report(int argc, char **argv)
{
    const char *cmd = "report";
    struct rs_report_options opt = {
        .json = false,
        .top = RS_REPORT_DEFAULT_TOP,
        .stack_depth = RS_REPORT_DEFAULT_DEPTH,
        .suspects = true,
    };
    const char *file = NULL;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value;
        int m;
        if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (file)
                return rs_usage_error(cmd, "more than one trace file given ('%s')", arg);
            file = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help, stdout);
            return RS_EXIT_OK;
        } else if (strcmp(arg, "--json") == 0) {
            opt.json = true;
        } else if (strcmp(arg, "--native") == 0) {
            opt.native = true;
        } else if ((m = rs_option_value(argc, argv, &i, "--thread", &value)) != 0) {
            if (m < 0 || value[0] == '\0')
                return rs_usage_error(cmd, "--thread needs a tid or a thread name");
            opt.thread = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--top", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--top needs a number");
            if (!rs_parse_unsigned(value, 1000000, &opt.top))
                return rs_usage_error(cmd, "--top takes a number, not '%s'", value);
        } else if ((m = rs_option_value(argc, argv, &i, "--stack-depth", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--stack-depth needs a number");
            if (!rs_parse_unsigned(value, RS_STACK_MAX_WORDS, &opt.stack_depth))
                return rs_usage_error(cmd, "--stack-depth takes a number from 0 to %d, not '%s'",
                                      RS_STACK_MAX_WORDS, value);
        } else {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!file)
        return rs_usage_error(cmd, "missing the trace file");
    if (strcmp(file, "-") == 0)
        file = "/dev/stdin";

    struct rs_report r;
    struct rs_read_error err;
    int rc = rs_report_build(&r, file, &opt, &err);
    if (rc == RS_REPORT_NO_THREAD)
        return rs_usage_error(cmd, "%s", err.message);
    if (rc != 0) {
        fprintf(stderr, "refscope: %s\n", err.message);
        return RS_EXIT_FAILURE;
    }
    if (opt.json)
        rs_report_write_json(&r, stdout);
    else
        rs_report_write_text(&r, stdout);
    rs_report_free(&r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("refscope: writing the report");
        return RS_EXIT_FAILURE;
    }
    return RS_EXIT_OK;
}
