/* The options of `refscope check`, shared with `refscope run --check`. */
#ifndef REFSCOPE_CHECK_CLI_H
#define REFSCOPE_CHECK_CLI_H

#include <stdbool.h>

/* Exit status of refscope check: 0 the trace passes, 1 it fails, 2 usage or config error,
 * 3 the trace (or baseline) cannot be read, or an output cannot be written. */
#define RS_CHECK_PASS 0
#define RS_CHECK_FAIL 1
#define RS_CHECK_USAGE 2
#define RS_CHECK_ERROR 3

struct rs_check_cli;

/* Parses argv[0..argc) (options; the trace file too when want_file). `cmd` names the command
 * in messages. Returns -1 and sets *out when the check is to run; otherwise an exit status
 * (0 after --help or --show-config, 2 after a usage error, both already printed). */
int rs_check_cli_parse(const char *cmd, int argc, char **argv, bool want_file,
                       struct rs_check_cli **out);
/* Checks `trace` (NULL: the file given on the command line), writes the outputs, and
 * returns the exit status. */
int rs_check_cli_run(struct rs_check_cli *cli, const char *trace);
void rs_check_cli_free(struct rs_check_cli *cli);
/* The options, for `run --help`. */
extern const char rs_check_options_help[];

#endif
