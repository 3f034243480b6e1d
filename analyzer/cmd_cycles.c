/* refscope cycles FILE [--snapshot N] [-o cycles.dot|.svg|.png] [--all] [--json] */
#include "cmd_snap.h"

#include "escape.h"
#include "format_num.h"
#include "snap_draw.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "Usage: refscope cycles FILE [--snapshot N] [--top K] [-o OUT.dot|.svg|.png] [--all]\n"
    "                       [--short-names] [--json]\n"
    "\n"
    "Reference cycles among the objects the garbage collector tracks that no module and no\n"
    "thread reaches, each class of them reported once with its count, member types,\n"
    "allocation sites and size:\n"
    "  uncollectable  holds an object of gc.garbage (a finalizer in a cycle, DEBUG_SAVEALL)\n"
    "  leaked         kept alive by references no recorded object holds: a C extension's\n"
    "                 missing Py_DECREF\n"
    "  garbage        the collector would free it (refscope redoes its reference counting\n"
    "                 offline): the program disabled gc, or it had not run yet\n"
    "Single objects kept alive the same way are listed as leaked references.\n"
    "\n"
    "  --snapshot N     the snapshot, by id or label (default: the last complete one)\n"
    "  --top K          classes of cycles listed (default 20; 0 lists all)\n"
    "  -o OUT           draw one cycle of each class listed: .dot writes Graphviz text,\n"
    "                   .svg and .png render\n"
    "  --all            also what looks leaked but is the interpreter's own (made where no\n"
    "                   Python code ran, or held by types)\n"
    "  --json           machine-readable output (schema refscope.cycles/1)\n"
    "\n"
    "Exit status: 0 success, 1 unreadable or corrupt trace or snapshot, 2 usage error.\n";

static const char *class_title(enum rs_cycle_class c)
{
    switch (c) {
    case RS_CYCLE_UNCOLLECTABLE: return "Uncollectable (held by gc.garbage)";
    case RS_CYCLE_LEAKED: return "Leaked (kept alive by references no recorded object holds)";
    case RS_CYCLE_GARBAGE: return "Cyclic garbage (the collector would free it)";
    default: return "?";
    }
}

static int draw(struct snap_session *s, const struct rs_snap_graph *g, const uint32_t *site,
                const struct rs_cycles *cy, size_t shown, const char *path)
{
    struct rs_strbuf sb = {0};
    int rc = rs_cycles_dot(&sb, g, &s->src, cy->groups, shown, 0, site, s->names,
                           "unreachable cycles", s->err, sizeof s->err);
    if (rc == -1)
        rc = snap_fail(s, "%s", s->err);
    else if (rc || sb.failed)
        rc = snap_fail(s, "out of memory");
    else
        rc = snap_write_graph(s, path, sb.s, sb.len);
    rs_sb_free(&sb);
    return rc;
}

static void put_items(const char *what, const struct rs_count_item *it, size_t n, bool sites,
                      struct snap_session *s, bool short_names)
{
    printf("      %s: ", what);
    for (size_t i = 0; i < n && i < 8; i++) {
        const char *text;
        if (sites) {
            const struct rs_site_name *sn = snap_site(s, it[i].site);
            text = sn ? sn->text : "(unknown site)";
        } else {
            text = rs_type_display(it[i].name, short_names);
        }
        printf("%s%llu ", i ? ", " : "", (unsigned long long)it[i].count);
        rs_fput_escaped(stdout, text, strlen(text));
    }
    if (n > 8)
        printf(", ... (%zu more)", n - 8);
    fputc('\n', stdout);
}

enum item_fields { ITEM_TYPE = 1, ITEM_SITE = 2 };

static void json_items(struct rs_json *j, const char *key, const struct rs_count_item *it,
                       size_t n, int fields, struct snap_session *s)
{
    rs_json_key(j, key);
    rs_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        rs_json_object_begin(j);
        if (fields & ITEM_TYPE) {
            rs_json_key(j, "name");
            rs_json_cstring(j, it[i].name);
        }
        if (fields & ITEM_SITE)
            snap_json_site(j, "site", snap_site(s, it[i].site));
        rs_json_key(j, "count");
        rs_json_u64(j, it[i].count);
        rs_json_key(j, "size");
        rs_json_u64(j, it[i].size);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
}

int rs_cmd_cycles(int argc, char **argv)
{
    const char *cmd = "cycles", *file = NULL, *snapshot = NULL, *out = NULL, *value;
    unsigned top = 20;
    bool json = false, all = false, short_names = false;
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
        } else if (strcmp(arg, "--all") == 0) {
            all = true;
        } else if (strcmp(arg, "--short-names") == 0) {
            short_names = true;
        } else if ((m = rs_option_value(argc, argv, &i, "--snapshot", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--snapshot needs an id or a label");
            snapshot = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--top", &value)) != 0) {
            int rc = snap_parse_uint(&s, "--top", m < 0 ? NULL : value, 1000000, &top);
            if (rc)
                return rc;
        } else if ((m = rs_option_value(argc, argv, &i, "-o", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "-o needs a file name");
            if (snap_check_out(cmd, value))
                return RS_EXIT_USAGE;
            out = value;
        } else {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!file)
        return rs_usage_error(cmd, "missing the trace file");
    /* Only the objects no root reaches are looked at by site: theirs are found once the
     * graph is loaded (snap_sites_of). */
    int rc = snap_open(&s, cmd, file);
    if (rc)
        return snap_finish(&s, rc);
    const struct rs_snap_info *si = snap_pick(&s, snapshot);
    if (!si)
        return snap_finish(&s, RS_EXIT_FAILURE);
    if ((rc = snap_open_sites(&s)))
        return snap_finish(&s, rc);
    uint32_t *site = NULL;
    struct rs_snap_graph g;
    if ((rc = snap_load(&s, si, RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS, &g)))
        return snap_finish(&s, rc);
    if (s.names) {
        uint32_t *unreachable = NULL;
        size_t nu = 0;
        rc = rs_snap_unreachable(&g, &unreachable, &nu) ? snap_fail(&s, "out of memory")
                                                        : snap_sites_of(&s, &g, unreachable, nu,
                                                                        &site);
        free(unreachable);
        if (rc) {
            rs_snap_graph_free(&g);
            return snap_finish(&s, rc);
        }
    }
    struct rs_cycles cy;
    if (rs_snap_cycles(&g, site, s.names, all, &cy)) {
        free(site);
        rs_snap_graph_free(&g);
        return snap_finish(&s, snap_fail(&s, "out of memory"));
    }
    if (!site)
        rs_notes_add(&s.notes, RS_NOTE_INFO, "the trace has no allocation events: no sites, "
                                             "and leaked-looking objects the interpreter made "
                                             "itself cannot be told apart");
    size_t shown = top && cy.ngroups > top ? top : cy.ngroups;
    rc = RS_EXIT_OK;
    if (out)
        rc = draw(&s, &g, site, &cy, shown, out);
    char a[RS_NUM_BUF], b[RS_NUM_BUF], c[RS_NUM_BUF];
    if (rc == RS_EXIT_OK && json) {
        struct rs_json j;
        rs_json_init(&j, stdout);
        rs_json_object_begin(&j);
        rs_json_key(&j, "schema");
        rs_json_cstring(&j, "refscope.cycles/1");
        rs_json_key(&j, "file");
        rs_json_cstring(&j, file);
        snap_json_info(&j, "snapshot", si, &g);
        rs_json_key(&j, "unreachable_gc_objects");
        rs_json_u64(&j, cy.unreachable);
        rs_json_key(&j, "summary");
        rs_json_object_begin(&j);
        for (int k = 0; k < RS_CYCLE_CLASSES; k++) {
            rs_json_key(&j, rs_cycle_class_name((enum rs_cycle_class)k));
            rs_json_object_begin(&j);
            rs_json_key(&j, "cycles");
            rs_json_u64(&j, cy.ncycles[k]);
            rs_json_key(&j, "objects");
            rs_json_u64(&j, cy.in_cycles[k]);
            rs_json_key(&j, "size");
            rs_json_u64(&j, cy.size[k]);
            rs_json_object_end(&j);
        }
        rs_json_object_end(&j);
        rs_json_key(&j, "groups");
        rs_json_array_begin(&j);
        for (size_t i = 0; i < shown; i++) {
            const struct rs_cycle_group *gr = &cy.groups[i];
            rs_json_object_begin(&j);
            rs_json_key(&j, "class");
            rs_json_cstring(&j, rs_cycle_class_name(gr->cls));
            rs_json_key(&j, "cycles");
            rs_json_u64(&j, gr->cycles);
            rs_json_key(&j, "members");
            rs_json_u64(&j, gr->members);
            rs_json_key(&j, "objects");
            rs_json_u64(&j, gr->objects);
            rs_json_key(&j, "size");
            rs_json_u64(&j, gr->size);
            rs_json_key(&j, "finalizer");
            rs_json_bool(&j, gr->finalizer);
            json_items(&j, "types", gr->types, gr->ntypes, ITEM_TYPE, &s);
            json_items(&j, "sites", gr->sites, gr->nsites, ITEM_SITE, &s);
            json_items(&j, "type_sites", gr->type_sites, gr->ntype_sites, ITEM_TYPE | ITEM_SITE, &s);
            rs_json_key(&j, "example");
            rs_json_array_begin(&j);
            for (size_t m = 0; m < gr->nexample; m++) {
                char buf[24];
                snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)g.addr[gr->example[m]]);
                rs_json_cstring(&j, buf);
            }
            rs_json_array_end(&j);
            rs_json_object_end(&j);
        }
        rs_json_array_end(&j);
        rs_json_key(&j, "leaked_objects");
        rs_json_u64(&j, cy.leaked_objects);
        rs_json_key(&j, "leaked_size");
        rs_json_u64(&j, cy.leaked_size);
        rs_json_key(&j, "leaked");
        rs_json_array_begin(&j);
        for (size_t i = 0; i < cy.nleaked; i++) {
            rs_json_object_begin(&j);
            rs_json_key(&j, "type");
            rs_json_cstring(&j, cy.leaked[i].name);
            snap_json_site(&j, "site", snap_site(&s, cy.leaked[i].site));
            rs_json_key(&j, "count");
            rs_json_u64(&j, cy.leaked[i].count);
            rs_json_key(&j, "size");
            rs_json_u64(&j, cy.leaked[i].size);
            rs_json_object_end(&j);
        }
        rs_json_array_end(&j);
        rs_json_key(&j, "suppressed_objects");
        rs_json_u64(&j, cy.suppressed_objects);
        snap_json_notes(&j, &s);
        rs_json_object_end(&j);
        rs_json_finish(&j);
    } else if (rc == RS_EXIT_OK) {
        fputs("refscope cycles: ", stdout);
        rs_fput_escaped(stdout, file, strlen(file));
        fputs(", ", stdout);
        snap_put_info(stdout, si);
        printf("\n%s objects; %s tracked by the collector and reached by no module or thread\n",
               rs_fmt_count(a, g.n), rs_fmt_count(b, cy.unreachable));
        for (int k = 0; k < RS_CYCLE_CLASSES; k++) {
            printf("\n%s: ", class_title((enum rs_cycle_class)k));
            if (!cy.ncycles[k]) {
                puts("none");
                continue;
            }
            printf("%s cycle%s, %s objects, %s\n", rs_fmt_count(a, cy.ncycles[k]),
                   cy.ncycles[k] == 1 ? "" : "s", rs_fmt_count(b, cy.in_cycles[k]),
                   rs_fmt_bytes(c, cy.size[k]));
            size_t num = 0;
            for (size_t i = 0; i < shown; i++) {
                const struct rs_cycle_group *gr = &cy.groups[i];
                if ((int)gr->cls != k)
                    continue;
                printf("  #%-3zu %s cycle%s of %llu object%s, %s in all%s\n", ++num,
                       rs_fmt_count(a, gr->cycles), gr->cycles == 1 ? "" : "s",
                       (unsigned long long)gr->members, gr->members == 1 ? "" : "s",
                       rs_fmt_bytes(b, gr->size), gr->finalizer ? "  [__del__]" : "");
                put_items("types", gr->types, gr->ntypes, false, &s, short_names);
                if (site)
                    put_items("sites", gr->sites, gr->nsites, true, &s, short_names);
                printf("      e.g. ");
                for (size_t m = 0; m < gr->nexample && m < 4; m++) {
                    if (m)
                        fputs(" -> ", stdout);
                    snap_put_node(stdout, &g, gr->example[m], short_names);
                    printf(" at 0x%llx", (unsigned long long)g.addr[gr->example[m]]);
                }
                if (gr->nexample > 4)
                    fputs(" ...", stdout);
                fputc('\n', stdout);
            }
        }
        printf("\nLeaked references (single objects no module or thread reaches, with more "
               "references than known objects hold): ");
        if (!cy.nleaked) {
            puts("none");
        } else {
            printf("%s objects, %s\n", rs_fmt_count(a, cy.leaked_objects),
                   rs_fmt_bytes(b, cy.leaked_size));
            for (size_t i = 0; i < cy.nleaked && (!top || i < top); i++) {
                const char *tn = rs_type_display(cy.leaked[i].name, short_names);
                const struct rs_site_name *sn = snap_site(&s, cy.leaked[i].site);
                printf("  %8s  ", rs_fmt_count(a, cy.leaked[i].count));
                rs_fput_escaped(stdout, tn, strlen(tn));
                printf(", %s", rs_fmt_bytes(b, cy.leaked[i].size));
                if (sn) {
                    fputs("  (alloc: ", stdout);
                    rs_fput_escaped(stdout, sn->text, strlen(sn->text));
                    fputc(')', stdout);
                }
                fputc('\n', stdout);
            }
        }
        if (cy.suppressed_objects)
            printf("\n%s leaked-looking object(s) are the interpreter's own and not shown "
                   "(--all shows them)\n", rs_fmt_count(a, cy.suppressed_objects));
        if (out) {
            fputs("Cycles drawn in ", stdout);
            rs_fput_escaped(stdout, out, strlen(out));
            fputc('\n', stdout);
        }
        snap_put_notes(stdout, &s);
    }
    rs_cycles_free(&cy);
    free(site);
    rs_snap_graph_free(&g);
    return snap_finish(&s, rc);
}
