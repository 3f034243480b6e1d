/* refscope growth FILE [--from A --to B] [--decreases] [--top K] [--json] */
#include "cmd_snap.h"

#include "escape.h"
#include "format_num.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "Usage: refscope growth FILE [--from A] [--to B] [--decreases] [--top K] [--short-names]\n"
    "                       [--json]\n"
    "\n"
    "What grew between two snapshots, like objgraph.show_growth, with sizes: the change in\n"
    "the number and size of objects, by type and by allocation site (every object, also\n"
    "those the garbage collector does not track: strings, numbers, dicts of them; objgraph\n"
    "sees only the tracked ones). Over all the snapshots, types that grow steadily are\n"
    "flagged as leak suspects: over 3 or more snapshots, from the count's last lowest\n"
    "point, a rise in at least two intervals (half of them, or the last two), with drops\n"
    "under a tenth of the gain and a gain beyond the count's own ups and downs (a count\n"
    "that rose once and stayed, or moves by a few around a level, is not flagged). A type\n"
    "whose objects do not grow in number but whose bytes grow that way (a list, dict, set,\n"
    "deque or buffer that only fills up) is flagged as growing in size.\n"
    "\n"
    "  --from A, --to B  the snapshots compared, by id or label (default: the first and the\n"
    "                    last complete ones)\n"
    "  --decreases       also list what shrank\n"
    "  --top K           rows listed per table (default 20; 0 lists all)\n"
    "  --short-names     type names without their module\n"
    "  --json            machine-readable output (schema refscope.growth/1)\n"
    "\n"
    "Exit status: 0 success, 1 unreadable or corrupt trace or snapshot, 2 usage error.\n";

struct delta {
    const struct rs_growth_row *row;
    int64_t dcount;
    int64_t dsize;
};

static int by_delta(const void *a, const void *b)
{
    const struct delta *x = a, *y = b;
    if (x->dcount != y->dcount)
        return x->dcount > y->dcount ? -1 : 1;
    if (x->dsize != y->dsize)
        return x->dsize > y->dsize ? -1 : 1;
    return strcmp(x->row->key, y->row->key);
}

static size_t deltas(const struct rs_growth_row *rows, size_t n, size_t a, size_t b,
                     bool decreases, struct delta *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t dc = (int64_t)(rows[i].count[b] - rows[i].count[a]);
        int64_t ds = (int64_t)(rows[i].size[b] - rows[i].size[a]);
        if (dc > 0 || (dc == 0 && ds > 0) || (decreases && (dc < 0 || ds < 0)))
            out[k++] = (struct delta){&rows[i], dc, ds};
    }
    rs_qsort(out, k, sizeof *out, by_delta);
    return k;
}

static char *signed_bytes(char *buf, int64_t v)
{
    char t[RS_NUM_BUF];
    rs_fmt_bytes(t, (uint64_t)(v < 0 ? -v : v));
    buf[0] = v < 0 ? '-' : '+';
    memcpy(buf + 1, t, strnlen(t, RS_NUM_BUF - 2));
    buf[1 + strnlen(t, RS_NUM_BUF - 2)] = '\0';
    return buf;
}

static char *signed_count(char *buf, int64_t v)
{
    char t[RS_NUM_BUF];
    rs_fmt_count(t, (uint64_t)(v < 0 ? -v : v));
    buf[0] = v < 0 ? '-' : '+';
    memcpy(buf + 1, t, strnlen(t, RS_NUM_BUF - 2));
    buf[1 + strnlen(t, RS_NUM_BUF - 2)] = '\0';
    return buf;
}

static void put_series(FILE *out, const uint64_t *count, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%llu", i ? " -> " : "", (unsigned long long)count[i]);
}

static void put_size_series(FILE *out, const uint64_t *size, size_t n)
{
    char b[RS_NUM_BUF];
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? " -> " : "", rs_fmt_bytes(b, size[i]));
}

static void text_table(const char *title, const struct delta *d, size_t n, size_t top,
                       bool types, bool short_names, size_t b)
{
    char x[RS_NUM_BUF], y[RS_NUM_BUF], z[RS_NUM_BUF];
    printf("\n%s", title);
    if (n == 0) {
        puts(": no change");
        return;
    }
    puts(":");
    printf("  %-44s %10s %10s %12s\n", types ? "type" : "site", "count", "change", "size change");
    size_t shown = top && n > top ? top : n;
    for (size_t i = 0; i < shown; i++) {
        const char *key = types ? rs_type_display(d[i].row->key, short_names) : d[i].row->key;
        char name[512];
        rs_escape_to(name, sizeof name, key, strlen(key));
        printf("  %-44s %10s %10s %12s%s\n", name, rs_fmt_count(x, d[i].row->count[b]),
               signed_count(y, d[i].dcount), signed_bytes(z, d[i].dsize),
               d[i].row->suspect         ? "  [grows steadily]"
               : d[i].row->grows_in_size ? "  [grows steadily in size]"
                                         : "");
    }
    if (shown < n)
        printf("  ... %zu more (--top 0 lists all)\n", n - shown);
}

static void json_table(struct rs_json *j, const char *key, const struct delta *d, size_t n,
                       size_t top, bool types, size_t a, size_t b, size_t nsnaps)
{
    rs_json_key(j, key);
    rs_json_array_begin(j);
    size_t shown = top && n > top ? top : n;
    for (size_t i = 0; i < shown; i++) {
        const struct rs_growth_row *r = d[i].row;
        rs_json_object_begin(j);
        if (types) {
            rs_json_key(j, "name");
            rs_json_cstring(j, r->key);
        } else {
            snap_json_site(j, "site", r->site);
        }
        rs_json_key(j, "count_from");
        rs_json_u64(j, r->count[a]);
        rs_json_key(j, "count_to");
        rs_json_u64(j, r->count[b]);
        rs_json_key(j, "count_change");
        rs_json_i64(j, d[i].dcount);
        rs_json_key(j, "size_from");
        rs_json_u64(j, r->size[a]);
        rs_json_key(j, "size_to");
        rs_json_u64(j, r->size[b]);
        rs_json_key(j, "size_change");
        rs_json_i64(j, d[i].dsize);
        rs_json_key(j, "grows_steadily");
        rs_json_bool(j, r->suspect);
        rs_json_key(j, "grows_in_size");
        rs_json_bool(j, r->grows_in_size);
        rs_json_key(j, "counts");
        rs_json_array_begin(j);
        for (size_t k = 0; k < nsnaps; k++)
            rs_json_u64(j, r->count[k]);
        rs_json_array_end(j);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
}

int rs_cmd_growth(int argc, char **argv)
{
    const char *cmd = "growth", *file = NULL, *from = NULL, *to = NULL, *value;
    unsigned top = 20;
    bool json = false, decreases = false, short_names = false;
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
        } else if (strcmp(arg, "--decreases") == 0) {
            decreases = true;
        } else if (strcmp(arg, "--short-names") == 0) {
            short_names = true;
        } else if ((m = rs_option_value(argc, argv, &i, "--from", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--from needs a snapshot id or label");
            from = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--to", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--to needs a snapshot id or label");
            to = value;
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
    size_t nc = rs_snap_count_complete(s.trace);
    if (nc == 0)
        return snap_finish(&s, snap_pick(&s, NULL) ? RS_EXIT_OK : RS_EXIT_FAILURE);
    const struct rs_snap_info *sa = from ? snap_pick(&s, from) : NULL;
    const struct rs_snap_info *sb = to ? snap_pick(&s, to) : NULL;
    if ((from && !sa) || (to && !sb))
        return snap_finish(&s, RS_EXIT_FAILURE);
    if ((rc = snap_open_sites(&s)))
        return snap_finish(&s, rc);
    struct rs_growth gr;
    rc = rs_growth_build(s.trace, &s.src, s.names, &gr, &s.notes, s.err, sizeof s.err);
    if (rc)
        return snap_finish(&s, snap_fail(&s, "%s", s.err));
    size_t a = 0, b = gr.nsnaps - 1;
    for (size_t i = 0; i < gr.nsnaps; i++) {
        if (sa && gr.snaps[i] == sa)
            a = i;
        if (sb && gr.snaps[i] == sb)
            b = i;
    }
    size_t nrows = gr.ntypes > gr.nsites ? gr.ntypes : gr.nsites;
    struct delta *dt = calloc(nrows ? nrows : 1, sizeof *dt);
    struct delta *ds = calloc(nrows ? nrows : 1, sizeof *ds);
    if (!dt || !ds) {
        free(dt);
        free(ds);
        rs_growth_free(&gr);
        return snap_finish(&s, snap_fail(&s, "out of memory"));
    }
    size_t nt = deltas(gr.types, gr.ntypes, a, b, decreases, dt);
    size_t nsites = deltas(gr.sites, gr.nsites, a, b, decreases, ds);
    if (gr.nsnaps < 2)
        rs_notes_add(&s.notes, RS_NOTE_INFO,
                     "the trace has one complete snapshot: nothing to compare it with");
    if (!gr.have_sites)
        rs_notes_add(&s.notes, RS_NOTE_INFO,
                     "the trace has no allocation events: no allocation sites");

    if (json) {
        struct rs_json j;
        rs_json_init(&j, stdout);
        rs_json_object_begin(&j);
        rs_json_key(&j, "schema");
        rs_json_cstring(&j, "refscope.growth/1");
        rs_json_key(&j, "file");
        rs_json_cstring(&j, file);
        snap_json_info(&j, "from", gr.snaps[a], NULL);
        snap_json_info(&j, "to", gr.snaps[b], NULL);
        rs_json_key(&j, "snapshots");
        rs_json_array_begin(&j);
        for (size_t i = 0; i < gr.nsnaps; i++)
            snap_json_info(&j, NULL, gr.snaps[i], NULL);
        rs_json_array_end(&j);
        json_table(&j, "types", dt, nt, top, true, a, b, gr.nsnaps);
        rs_json_key(&j, "sites_known");
        rs_json_bool(&j, gr.have_sites);
        json_table(&j, "sites", ds, nsites, top, false, a, b, gr.nsnaps);
        rs_json_key(&j, "suspects");
        rs_json_array_begin(&j);
        for (size_t i = 0; i < gr.ntypes; i++) {
            if (!gr.types[i].suspect && !gr.types[i].grows_in_size)
                continue;
            rs_json_object_begin(&j);
            rs_json_key(&j, "name");
            rs_json_cstring(&j, gr.types[i].key);
            rs_json_key(&j, "reason");
            rs_json_cstring(&j, gr.types[i].suspect ? "grows_steadily" : "grows_in_size");
            rs_json_key(&j, "counts");
            rs_json_array_begin(&j);
            for (size_t k = 0; k < gr.nsnaps; k++)
                rs_json_u64(&j, gr.types[i].count[k]);
            rs_json_array_end(&j);
            rs_json_key(&j, "sizes");
            rs_json_array_begin(&j);
            for (size_t k = 0; k < gr.nsnaps; k++)
                rs_json_u64(&j, gr.types[i].size[k]);
            rs_json_array_end(&j);
            rs_json_object_end(&j);
        }
        rs_json_array_end(&j);
        snap_json_notes(&j, &s);
        rs_json_object_end(&j);
        rs_json_finish(&j);
    } else {
        fputs("refscope growth: ", stdout);
        rs_fput_escaped(stdout, file, strlen(file));
        fputs("\nfrom ", stdout);
        snap_put_info(stdout, gr.snaps[a]);
        fputs("\nto   ", stdout);
        snap_put_info(stdout, gr.snaps[b]);
        printf("\n(%zu complete snapshot%s in the trace)\n", gr.nsnaps, gr.nsnaps == 1 ? "" : "s");
        text_table(decreases ? "Types, change in objects" : "Types that grew", dt, nt, top,
                   true, short_names, b);
        if (gr.have_sites)
            text_table(decreases ? "Allocation sites, change in objects"
                                 : "Allocation sites that grew", ds, nsites, top, false,
                       short_names, b);
        bool any = false;
        for (size_t i = 0; i < gr.ntypes; i++) {
            if (!gr.types[i].suspect && !gr.types[i].grows_in_size)
                continue;
            if (!any)
                printf("\nLeak suspects (grow steadily over the %zu snapshots):\n", gr.nsnaps);
            any = true;
            const char *key = rs_type_display(gr.types[i].key, short_names);
            fputs("  ", stdout);
            rs_fput_escaped(stdout, key, strlen(key));
            fputs(": ", stdout);
            if (gr.types[i].suspect) {
                put_series(stdout, gr.types[i].count, gr.nsnaps);
            } else {
                fputs("in size, ", stdout);
                put_size_series(stdout, gr.types[i].size, gr.nsnaps);
            }
            fputc('\n', stdout);
        }
        if (!any && gr.nsnaps >= 3)
            puts("\nLeak suspects: none (no type grows steadily, in number or in size)");
        snap_put_notes(stdout, &s);
    }
    free(dt);
    free(ds);
    rs_growth_free(&gr);
    return snap_finish(&s, RS_EXIT_OK);
}
