/* refscope html FILE -o OUT.html [--check-json CHECK.json] */
#include "commands.h"

#include "html_report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "Usage: refscope html FILE -o OUT.html [--check-json CHECK.json]\n"
    "\n"
    "Writes one self-contained HTML page about a trace, for a browser (no network, no\n"
    "external script, style or font: a CI artifact a reviewer can open):\n"
    "  - a summary: program, interpreter, duration, totals, and the verdicts of\n"
    "    `refscope check` when its JSON output is given;\n"
    "  - live memory over time (Python allocator domains and native), with snapshot and\n"
    "    program-end marks, and the objects per type over the snapshots;\n"
    "  - the leak suspects (as refscope report lists them), each opening the chain of\n"
    "    references that keeps one of them alive, drawn by Graphviz;\n"
    "  - the leaked memory by allocation site, Python sites opening their backref chain;\n"
    "  - a flame graph of the allocation stacks alive at exit and at the peak, Python and\n"
    "    native frames, by thread, searchable;\n"
    "  - the unreachable reference cycles, each kind drawn; the threads.\n"
    "Long lists are cut (the page says where), so the page stays a few MB at most.\n"
    "\n"
    "  -o OUT.html          the page to write ('-': standard output)\n"
    "  --check-json FILE    show the rule verdicts in FILE, the output of\n"
    "                       `refscope check ... --json` (schema refscope.check/1)\n"
    "\n"
    "Exit status: 0 success, 1 unreadable trace (or check file), 2 usage error.\n";

/* The whole file, NUL-terminated; NULL with errno set. At most 64 MB. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= (64u << 20)) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
                errno = EIO;
            }
            break;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

int rs_cmd_html(int argc, char **argv)
{
    const char *cmd = "html", *file = NULL, *out = NULL, *check = NULL, *value;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (file)
                return rs_usage_error(cmd, "more than one trace file given ('%s')", arg);
            file = arg;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help, stdout);
            return RS_EXIT_OK;
        } else if ((m = rs_option_value(argc, argv, &i, "-o", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "-o needs a file name");
            out = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--check-json", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "--check-json needs a file name");
            check = value;
        } else {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!file)
        return rs_usage_error(cmd, "missing the trace file");
    if (!out)
        return rs_usage_error(cmd, "missing -o OUT.html");
    if (strcmp(file, "-") == 0)
        file = "/dev/stdin";

    struct rs_jv checkv;
    struct rs_html_options opt = {0};
    if (check) {
        size_t len;
        char err[256];
        char *text = read_all(check, &len);
        if (!text) {
            fprintf(stderr, "refscope: html: cannot read %s: %s\n", check, strerror(errno));
            return RS_EXIT_FAILURE;
        }
        int rc = rs_jv_parse(text, len, &checkv, err, sizeof err);
        free(text);
        if (rc) {
            fprintf(stderr, "refscope: html: %s is not JSON: %s\n", check, err);
            return RS_EXIT_FAILURE;
        }
        opt.check = &checkv;
        opt.check_source = check;
    }
    struct rs_strbuf page = {0};
    char err[600];
    int rc = rs_html_report(file, &opt, &page, err, sizeof err);
    if (check)
        rs_jv_free(&checkv);
    if (rc) {
        fprintf(stderr, "refscope: %s\n", err);
        rs_sb_free(&page);
        return RS_EXIT_FAILURE;
    }
    int status = RS_EXIT_OK;
    if (strcmp(out, "-") == 0) {
        fwrite(page.s, 1, page.len, stdout);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            perror("refscope: html: writing the page");
            status = RS_EXIT_FAILURE;
        }
    } else {
        /* written next to OUT, then renamed: never half a page */
        size_t n = strlen(out) + 16;
        char *tmp = malloc(n);
        FILE *f = NULL;
        if (tmp) {
            snprintf(tmp, n, "%s.tmp", out);
            f = fopen(tmp, "w");
        }
        bool ok = f != NULL;
        if (f) {
            ok = fwrite(page.s, 1, page.len, f) == page.len;
            ok = fclose(f) == 0 && ok;
        }
        if (!ok || rename(tmp, out) != 0) {
            fprintf(stderr, "refscope: html: cannot write %s: %s\n", out, strerror(errno));
            if (tmp)
                unlink(tmp);
            status = RS_EXIT_FAILURE;
        }
        free(tmp);
    }
    rs_sb_free(&page);
    return status;
}
