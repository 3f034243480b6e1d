/* refscope check FILE [rules] [--baseline B] [--json F] [--junit F] [--markdown F] */
#include "check.h"
#include "check_cli.h"
#include "commands.h"

#include "escape.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char rs_check_options_help[] =
    "Rules (a limit: the rule fails above it; 'off' turns a rule off):\n"
    "  --max-leaked-bytes N       bytes left allocated at exit (default 0; sizes: 64kB,\n"
    "                             1MB, 2MiB); for Python programs, C-allocator blocks\n"
    "                             still allocated after the interpreter's teardown\n"
    "  --max-growth N             objects gained per type or per allocation site from the\n"
    "                             first snapshot to the last (default 100)\n"
    "  --max-leaked-references N  objects kept alive by references no recorded object\n"
    "                             holds: held from C (default 0)\n"
    "  --max-uncollectable N      objects in cycles held by gc.garbage (default 0)\n"
    "  --max-cyclic-garbage N     objects of cyclic garbage not collected (default 1000)\n"
    "Suppressions and configuration:\n"
    "  --suppress 'TERM [TERM..]' leave out what all the terms match (repeatable); terms:\n"
    "                             type:GLOB site:GLOB stack:GLOB rule:RULE interpreter,\n"
    "                             '!' before a term negates it\n"
    "  --no-default-suppressions  do not use the built-in list (interpreter caches...)\n"
    "  --config FILE              rules and suppressions from FILE (default: the first\n"
    "                             .refscope-check in the current directory or a parent, up\n"
    "                             to the repository's top); --no-config: none\n"
    "  --show-config              print the effective rules and suppressions, and exit\n"
    "Baseline and window:\n"
    "  --baseline FILE            the --json output of an earlier check: only what is new\n"
    "                             or bigger counts\n"
    "  --baseline-tolerance PCT   a finding is bigger beyond PCT percent (default 10)\n"
    "  --from A, --to B           the snapshots compared (id or label; default: the first\n"
    "                             and the last). With --from, the cycle rules count only\n"
    "                             what B has more than A\n"
    "Outputs (FILE or - for standard output; the summary then goes to standard error):\n"
    "  --json FILE                machine-readable results (schema refscope.check/1)\n"
    "  --junit FILE               JUnit XML: a test case per rule\n"
    "  --markdown FILE            a summary for a CI job page\n"
    "  -q, --quiet                no summary; -v, --verbose: every rule and its findings\n";

static const char help_head[] =
    "Usage: refscope check FILE [options]\n"
    "\n"
    "A leak gate for CI: the trace passes or fails a set of rules, with one line per\n"
    "broken rule saying why (the type, the allocation site and the chain of references\n"
    "that keeps the objects alive).\n"
    "\n";

static const char help_tail[] =
    "\n"
    "Exit status: 0 the trace passes, 1 it fails, 2 usage or config error, 3 the trace or\n"
    "the baseline cannot be read, or an output cannot be written.\n";

struct setting {
    const char *key;
    const char *value;
    const char *origin;
};

struct rs_check_cli {
    const char *cmd;
    struct rs_check_config cfg;
    struct rs_check_options opt;
    const char *file;
    const char *config;
    bool no_config;
    bool quiet, verbose, show_config;
    const char *json, *junit, *markdown;
    struct setting *settings; /* flags, applied after the config file */
    size_t nsettings;
    const char **supps;
    size_t nsupps;
};

void rs_check_cli_free(struct rs_check_cli *cli)
{
    if (!cli)
        return;
    rs_check_config_free(&cli->cfg);
    free(cli->settings);
    free(cli->supps);
    free(cli);
}

static const char *const limit_flags[RS_RULE_COUNT] = {
    "--max-leaked-bytes", "--max-growth", "--max-leaked-references", "--max-uncollectable",
    "--max-cyclic-garbage",
};

int rs_check_cli_parse(const char *cmd, int argc, char **argv, bool want_file,
                       struct rs_check_cli **out)
{
    *out = NULL;
    struct rs_check_cli *cli = calloc(1, sizeof *cli);
    if (!cli) {
        fputs("refscope: out of memory\n", stderr);
        return RS_CHECK_ERROR;
    }
    cli->cmd = cmd;
    rs_check_config_init(&cli->cfg);
    cli->settings = calloc((size_t)argc + 1, sizeof *cli->settings);
    cli->supps = calloc((size_t)argc + 1, sizeof *cli->supps);
    if (!cli->settings || !cli->supps) {
        rs_check_cli_free(cli);
        fputs("refscope: out of memory\n", stderr);
        return RS_CHECK_ERROR;
    }
    int rc = -1;
    int stdout_users = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *value;
        int m;
        bool matched = false;
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (!want_file) {
                rc = rs_usage_error(cmd, "unexpected argument '%s' (put -- before the command)",
                                    arg);
                goto done;
            }
            if (cli->file) {
                rc = rs_usage_error(cmd, "more than one trace file given ('%s')", arg);
                goto done;
            }
            cli->file = arg;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help_head, stdout);
            fputs(rs_check_options_help, stdout);
            fputs(help_tail, stdout);
            rc = RS_CHECK_PASS;
            goto done;
        }
        for (int r = 0; r < RS_RULE_COUNT && !matched; r++) {
            if ((m = rs_option_value(argc, argv, &i, limit_flags[r], &value)) == 0)
                continue;
            matched = true;
            if (m < 0) {
                rc = rs_usage_error(cmd, "%s needs a limit (a number, or off)", limit_flags[r]);
                goto done;
            }
            cli->settings[cli->nsettings++] =
                (struct setting){rs_check_rule_key(r), value, limit_flags[r]};
        }
        if (matched)
            continue;
        if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            cli->quiet = true;
        } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
            cli->verbose = true;
        } else if (strcmp(arg, "--no-default-suppressions") == 0) {
            cli->settings[cli->nsettings++] =
                (struct setting){"default-suppressions", "no", "--no-default-suppressions"};
        } else if (strcmp(arg, "--no-config") == 0) {
            cli->no_config = true;
        } else if (strcmp(arg, "--show-config") == 0) {
            cli->show_config = true;
        } else if ((m = rs_option_value(argc, argv, &i, "--config", &value)) != 0) {
            if (m < 0 || !*value) {
                rc = rs_usage_error(cmd, "--config needs a file");
                goto done;
            }
            cli->config = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--suppress", &value)) != 0) {
            if (m < 0) {
                rc = rs_usage_error(cmd, "--suppress needs terms (type:GLOB, site:GLOB...)");
                goto done;
            }
            cli->supps[cli->nsupps++] = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--baseline-tolerance", &value)) != 0) {
            if (m < 0) {
                rc = rs_usage_error(cmd, "--baseline-tolerance needs a percentage");
                goto done;
            }
            cli->settings[cli->nsettings++] =
                (struct setting){"baseline-tolerance", value, "--baseline-tolerance"};
        } else if ((m = rs_option_value(argc, argv, &i, "--baseline", &value)) != 0) {
            if (m < 0 || !*value) {
                rc = rs_usage_error(cmd, "--baseline needs a file (the --json of a check)");
                goto done;
            }
            cli->opt.baseline = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--from", &value)) != 0) {
            if (m < 0) {
                rc = rs_usage_error(cmd, "--from needs a snapshot id or label");
                goto done;
            }
            cli->opt.from = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--to", &value)) != 0) {
            if (m < 0) {
                rc = rs_usage_error(cmd, "--to needs a snapshot id or label");
                goto done;
            }
            cli->opt.to = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--json", &value)) != 0 ||
                   (m = rs_option_value(argc, argv, &i, "--junit", &value)) != 0 ||
                   (m = rs_option_value(argc, argv, &i, "--markdown", &value)) != 0) {
            const char *which = strncmp(arg, "--json", 6) == 0    ? "--json"
                                : strncmp(arg, "--junit", 7) == 0 ? "--junit"
                                                                  : "--markdown";
            if (m < 0 || !*value) {
                rc = rs_usage_error(cmd, "%s needs a file (or - for standard output)", which);
                goto done;
            }
            if (strcmp(value, "-") == 0 && ++stdout_users > 1) {
                rc = rs_usage_error(cmd, "only one output can go to standard output");
                goto done;
            }
            if (which[2] == 'j' && which[3] == 's')
                cli->json = value;
            else if (which[2] == 'j')
                cli->junit = value;
            else
                cli->markdown = value;
        } else {
            rc = rs_usage_error(cmd, "unknown option '%s'", arg);
            goto done;
        }
    }
    /* The config file, then the flags over it. */
    char err[1024];
    char *found = NULL;
    if (!cli->no_config && !cli->config)
        cli->config = found = rs_check_config_find();
    if (cli->config && rs_check_config_read(&cli->cfg, cli->config, err, sizeof err) != 0) {
        fputs("refscope: ", stderr);
        fprintf(stderr, "%s: config: ", cmd);
        rs_fput_escaped(stderr, err, strlen(err));
        fputc('\n', stderr);
        free(found);
        rc = RS_CHECK_USAGE;
        goto done;
    }
    free(found);
    cli->config = NULL;
    for (size_t i = 0; i < cli->nsettings; i++) {
        const struct setting *s = &cli->settings[i];
        if (rs_check_config_set(&cli->cfg, s->key, s->value, s->origin, err, sizeof err) != 0) {
            rc = rs_usage_error(cmd, "%s", err);
            goto done;
        }
    }
    for (size_t i = 0; i < cli->nsupps; i++) {
        if (rs_check_add_suppression(&cli->cfg, cli->supps[i], "--suppress", NULL, err,
                                     sizeof err) != 0) {
            rc = rs_usage_error(cmd, "--suppress '%s': %s", cli->supps[i], err);
            goto done;
        }
    }
    if (rs_check_config_finish(&cli->cfg) != 0) {
        fputs("refscope: out of memory\n", stderr);
        rc = RS_CHECK_ERROR;
        goto done;
    }
    if (cli->show_config) {
        rs_check_config_write(&cli->cfg, stdout);
        rc = RS_CHECK_PASS;
        goto done;
    }
    if (want_file && !cli->file) {
        rc = rs_usage_error(cmd, "missing the trace file");
        goto done;
    }
    *out = cli;
    return -1;
done:
    rs_check_cli_free(cli);
    return rc;
}

typedef void (*writer_fn)(const struct rs_check *c, FILE *out);

static int write_output(const char *cmd, const char *path, const struct rs_check *c, writer_fn fn)
{
    if (!path)
        return 0;
    if (strcmp(path, "-") == 0) {
        fn(c, stdout);
        return fflush(stdout) == 0 ? 0 : -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "refscope: %s: cannot write ", cmd);
        rs_fput_escaped(stderr, path, strlen(path));
        fprintf(stderr, ": %s\n", strerror(errno));
        return -1;
    }
    fn(c, f);
    if (ferror(f) | (fclose(f) != 0)) {
        fprintf(stderr, "refscope: %s: error writing ", cmd);
        rs_fput_escaped(stderr, path, strlen(path));
        fputc('\n', stderr);
        return -1;
    }
    return 0;
}

int rs_check_cli_run(struct rs_check_cli *cli, const char *trace)
{
    const char *path = trace ? trace : cli->file;
    struct rs_check c;
    char err[1024];
    if (rs_check_eval(&c, path, &cli->cfg, &cli->opt, err, sizeof err) != 0) {
        fprintf(stderr, "refscope: %s: ", cli->cmd);
        rs_fput_escaped(stderr, err, strlen(err));
        fputc('\n', stderr);
        rs_check_free(&c);
        return RS_CHECK_ERROR;
    }
    int rc = c.failures ? RS_CHECK_FAIL : RS_CHECK_PASS;
    bool to_stdout = (cli->json && !strcmp(cli->json, "-")) ||
                     (cli->junit && !strcmp(cli->junit, "-")) ||
                     (cli->markdown && !strcmp(cli->markdown, "-"));
    if (write_output(cli->cmd, cli->json, &c, rs_check_write_json) ||
        write_output(cli->cmd, cli->junit, &c, rs_check_write_junit) ||
        write_output(cli->cmd, cli->markdown, &c, rs_check_write_markdown))
        rc = RS_CHECK_ERROR;
    if (!cli->quiet) {
        FILE *out = to_stdout ? stderr : stdout;
        rs_check_write_text(&c, out, cli->verbose);
        fflush(out);
    }
    rs_check_free(&c);
    return rc;
}

int rs_cmd_check(int argc, char **argv)
{
    struct rs_check_cli *cli;
    int rc = rs_check_cli_parse("check", argc - 1, argv + 1, true, &cli);
    if (rc >= 0)
        return rc;
    rc = rs_check_cli_run(cli, NULL);
    rs_check_cli_free(cli);
    return rc;
}
