/* refscope types FILE [--snapshot N] [--top K] [--retained] [--no-frozen] [--short-names] [--json] */
#include "cmd_snap.h"

#include "escape.h"
#include "format_num.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "Usage: refscope types FILE [--snapshot N] [--top K] [--retained] [--no-frozen] [--short-names]\n"
    "                      [--json]\n"
    "\n"
    "The most common types of a snapshot's objects, like objgraph.most_common_types: the\n"
    "objects the garbage collector tracks, counted by type (module.qualname), with their\n"
    "total size.\n"
    "\n"
    "  --snapshot N     the snapshot, by id or label (default: the last complete one)\n"
    "  --top K          types listed (default 20; 0 lists all)\n"
    "  --no-frozen      leave out objects in the permanent generation (gc.freeze(), and\n"
    "                   3.12's immortal start-up objects): count what gc.get_objects() and\n"
    "                   objgraph see\n"
    "  --retained       also the retained size per type: the bytes that would be freed if\n"
    "                   every object of the type went (from the dominator tree)\n"
    "  --short-names    type names without their module\n"
    "  --json           machine-readable output (schema refscope.types/1)\n"
    "\n"
    "Exit status: 0 success, 1 unreadable or corrupt trace or snapshot, 2 usage error.\n";

int rs_cmd_types(int argc, char **argv)
{
    const char *cmd = "types", *file = NULL, *snapshot = NULL, *value;
    unsigned top = 20;
    bool json = false, retained = false, short_names = false, no_frozen = false;
    struct snap_session s = {.cmd = cmd};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (arg[0] != '-') {
            if (file)
                return rs_usage_error(cmd, "more than one trace file given ('%s')", arg);
            file = arg;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help, stdout);
            return RS_EXIT_OK;
        } else if (strcmp(arg, "--json") == 0) {
            json = true;
        } else if (strcmp(arg, "--retained") == 0) {
            retained = true;
        } else if (strcmp(arg, "--short-names") == 0) {
            short_names = true;
        } else if (strcmp(arg, "--no-frozen") == 0) {
            no_frozen = true;
        } else if ((m = rs_option_value(argc, argv, &i, "--snapshot", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--snapshot needs an id or a label");
            snapshot = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--top", &value)) != 0) {
            int rc = snap_parse_uint(&s, "--top", m < 0 ? NULL : value, 1000000, &top);
            if (rc)
                return rc;
        } else {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!file)
        return rs_usage_error(cmd, "missing the trace file");

    int rc = snap_open(&s, cmd, file);
    if (rc)
        return snap_finish(&s, rc);
    const struct rs_snap_info *si = snap_pick(&s, snapshot);
    if (!si)
        return snap_finish(&s, RS_EXIT_FAILURE);
    struct rs_snap_graph g;
    if ((rc = snap_load(&s, si, retained ? RS_SNAP_LOAD_EDGES : 0, &g)))
        return snap_finish(&s, rc);
    struct rs_snap_domtree d = {0};
    struct rs_type_stat *st = NULL;
    size_t n = 0;
    if ((retained && rs_snap_full_domtree(&g, &d)) ||
        rs_snap_type_stats(&g, retained ? &d : NULL, !no_frozen, &st, &n)) {
        rs_snap_domtree_free(&d);
        rs_snap_graph_free(&g);
        return snap_finish(&s, snap_fail(&s, "out of memory"));
    }
    uint64_t total = 0, total_size = 0;
    for (size_t i = 0; i < n; i++) {
        total += st[i].count;
        total_size += st[i].size;
    }
    size_t shown = top && n > top ? top : n;
    char a[RS_NUM_BUF], b[RS_NUM_BUF], c[RS_NUM_BUF], d4[RS_NUM_BUF];
    if (json) {
        struct rs_json j;
        rs_json_init(&j, stdout);
        rs_json_object_begin(&j);
        rs_json_key(&j, "schema");
        rs_json_cstring(&j, "refscope.types/1");
        rs_json_key(&j, "file");
        rs_json_cstring(&j, file);
        snap_json_info(&j, "snapshot", si, &g);
        rs_json_key(&j, "gc_objects");
        rs_json_u64(&j, total);
        rs_json_key(&j, "gc_bytes");
        rs_json_u64(&j, total_size);
        rs_json_key(&j, "type_count");
        rs_json_u64(&j, n);
        rs_json_key(&j, "types");
        rs_json_array_begin(&j);
        for (size_t i = 0; i < shown; i++) {
            rs_json_object_begin(&j);
            rs_json_key(&j, "name");
            rs_json_cstring(&j, st[i].name);
            rs_json_key(&j, "short_name");
            rs_json_cstring(&j, rs_type_display(st[i].name, true));
            rs_json_key(&j, "count");
            rs_json_u64(&j, st[i].count);
            rs_json_key(&j, "size");
            rs_json_u64(&j, st[i].size);
            rs_json_key(&j, "retained");
            if (retained)
                rs_json_u64(&j, st[i].retained);
            else
                rs_json_null(&j);
            rs_json_key(&j, "finalizer");
            rs_json_bool(&j, st[i].finalizer);
            rs_json_object_end(&j);
        }
        rs_json_array_end(&j);
        snap_json_notes(&j, &s);
        rs_json_object_end(&j);
        rs_json_finish(&j);
    } else {
        fputs("refscope types: ", stdout);
        rs_fput_escaped(stdout, file, strlen(file));
        fputs(", ", stdout);
        snap_put_info(stdout, si);
        printf("\n%s objects, %s tracked by the garbage collector (%s) in %s types\n\n",
               rs_fmt_count(a, g.n), rs_fmt_count(b, total), rs_fmt_bytes(c, total_size),
               rs_fmt_count(d4, n));
        printf("  %-40s %12s %12s", "type", "count", "size");
        if (retained)
            printf(" %12s", "retained");
        fputc('\n', stdout);
        for (size_t i = 0; i < shown; i++) {
            char name[256];
            rs_escape_to(name, sizeof name, rs_type_display(st[i].name, short_names),
                         strlen(rs_type_display(st[i].name, short_names)));
            printf("  %-40s %12s %12s", name, rs_fmt_count(a, st[i].count),
                   rs_fmt_bytes(b, st[i].size));
            if (retained)
                printf(" %12s", rs_fmt_bytes(c, st[i].retained));
            fputc('\n', stdout);
        }
        if (shown < n)
            printf("  ... %s more types (--top 0 lists all)\n", rs_fmt_count(a, n - shown));
        snap_put_notes(stdout, &s);
    }
    free(st);
    rs_snap_domtree_free(&d);
    rs_snap_graph_free(&g);
    return snap_finish(&s, RS_EXIT_OK);
}
