/* refscope backrefs FILE (--type T | --addr 0x.. | --site FILE:LINE) [--snapshot N]
 *                        [--max-depth N] [-o chain.dot|.svg|.png] [--json] */
#include "cmd_snap.h"

#include "escape.h"
#include "format_num.h"
#include "snap_draw.h"
#include "zeroed_table.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "Usage: refscope backrefs FILE (--type T | --addr 0xADDR | --site FILE:LINE)\n"
    "                         [--snapshot N] [--max-depth N] [-o OUT.dot|.svg|.png]\n"
    "                         [--short-names] [--json]\n"
    "\n"
    "Why an object is still alive: the shortest chain of references from a root to it, root\n"
    "first, each object with its type, label and allocation site and each reference with\n"
    "its name (attribute, key, index, local variable). A root is a module in sys.modules, a\n"
    "frame of a running thread, or, when neither leads to the object, an object held from\n"
    "C (more references than the recorded objects account for). With several matching\n"
    "objects, the chain is that of the one closest to a root. Also says what would be freed\n"
    "if the chain's last reference were cut: the object's retained size.\n"
    "\n"
    "  --type T          objects of type T (\"module.qualname\", or its last components)\n"
    "  --addr 0xADDR     the object at that address\n"
    "  --site FILE:LINE  objects allocated at that line (the allocation's innermost Python\n"
    "                    frame; FILE may be a base name)\n"
    "  --snapshot N      the snapshot, by id or label (default: the last complete one)\n"
    "  --max-depth N     look at most N references away (default 0: no limit)\n"
    "  -o OUT            also draw the chain: .dot writes Graphviz text, .svg and .png render\n"
    "  --json            machine-readable output (schema refscope.backrefs/1)\n"
    "\n"
    "Exit status: 0 success (also when no object matches or no chain exists), 1 unreadable\n"
    "or corrupt trace or snapshot, 2 usage error.\n";

struct opts {
    const char *file, *snapshot, *type, *addr, *site, *out;
    unsigned max_depth;
    bool json, short_names;
};

static int parse(int argc, char **argv, struct opts *o, struct snap_session *s)
{
    const char *cmd = s->cmd, *value;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (arg[0] != '-') {
            if (o->file)
                return rs_usage_error(cmd, "more than one trace file given ('%s')", arg);
            o->file = arg;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(help, stdout);
            return -1;
        } else if (strcmp(arg, "--json") == 0) {
            o->json = true;
        } else if (strcmp(arg, "--short-names") == 0) {
            o->short_names = true;
        } else if ((m = rs_option_value(argc, argv, &i, "--snapshot", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--snapshot needs an id or a label");
            o->snapshot = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--type", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "--type needs a type name");
            o->type = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--addr", &value)) != 0) {
            if (m < 0)
                return rs_usage_error(cmd, "--addr needs an address");
            o->addr = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--site", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "--site needs FILE:LINE");
            o->site = value;
        } else if ((m = rs_option_value(argc, argv, &i, "--max-depth", &value)) != 0) {
            int rc = snap_parse_uint(s, "--max-depth", m < 0 ? NULL : value, 1000000,
                                     &o->max_depth);
            if (rc)
                return rc;
        } else if ((m = rs_option_value(argc, argv, &i, "-o", &value)) != 0) {
            if (m < 0 || !*value)
                return rs_usage_error(cmd, "-o needs a file name");
            if (snap_check_out(cmd, value))
                return RS_EXIT_USAGE;
            o->out = value;
        } else {
            return rs_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!o->file)
        return rs_usage_error(cmd, "missing the trace file");
    if (!!o->type + !!o->addr + !!o->site != 1)
        return rs_usage_error(cmd, "give one of --type, --addr or --site");
    return 0;
}

static const char *root_kind_name(uint8_t k)
{
    switch (k) {
    case RS_SROOT_MODULE: return "module";
    case RS_SROOT_THREAD: return "thread";
    case RS_SROOT_C: return "c_held";
    }
    return "none";
}

static void put_root(FILE *out, const struct rs_snap_graph *g, uint32_t v, uint8_t kind,
                     const uint32_t *in_all)
{
    size_t len;
    const char *name = snap_root_name(g, v, &len);
    switch (kind) {
    case RS_SROOT_MODULE:
        fputs("root: a module in sys.modules", out);
        break;
    case RS_SROOT_THREAD:
        fputs("root: a frame of thread '", out);
        rs_fput_escaped(out, name, len);
        fputc('\'', out);
        break;
    case RS_SROOT_C:
        fprintf(out, "root: held from C (refcount %u, %u reference%s from recorded objects)",
                g->refcnt[v], in_all[v], in_all[v] == 1 ? "" : "s");
        break;
    }
}

int rs_cmd_backrefs(int argc, char **argv)
{
    struct snap_session s = {.cmd = "backrefs"};
    struct opts o = {0};
    int rc = parse(argc, argv, &o, &s);
    if (rc)
        return rc < 0 ? RS_EXIT_OK : rc;
    uint64_t want_addr = 0;
    if (o.addr) {
        char *end;
        want_addr = strtoull(o.addr, &end, 16);
        if (*end || !*o.addr)
            return rs_usage_error(s.cmd, "--addr takes a hexadecimal address, not '%s'", o.addr);
    }
    /* Objects chosen by site need every object's site; otherwise only the few shown need
     * theirs, found once the graph is searched (snap_sites_of). */
    if ((rc = snap_open(&s, s.cmd, o.file)))
        return snap_finish(&s, rc);
    const struct rs_snap_info *si = snap_pick(&s, o.snapshot);
    if (!si)
        return snap_finish(&s, RS_EXIT_FAILURE);
    if ((rc = snap_open_sites(&s)))
        return snap_finish(&s, rc);
    uint32_t *site = NULL;
    struct rs_snap_graph g;
    const unsigned load = RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS;
    if ((rc = o.site ? snap_load_with_sites(&s, si, load, &g, &site) : snap_load(&s, si, load, &g)))
        return snap_finish(&s, rc);

    size_t n = g.n ? g.n : 1;
    uint32_t *targets = malloc(n * sizeof *targets);
    uint32_t *in_all = rs_malloc_table(n, sizeof *in_all);
    uint8_t *kind = rs_malloc_table(n, 1);
    struct rs_chain chain = {0};
    struct rs_snap_edge_ref *edges = NULL;
    size_t nt = 0;
    rc = RS_EXIT_OK;
    uint8_t *type_match = o.type ? rs_snap_types_matching(&g, o.type) : NULL;
    if (!targets || !in_all || !kind || (o.type && !type_match))
        goto nomem;
    if (o.site && !site) {
        rs_notes_add(&s.notes, RS_NOTE_INFO,
                     "the trace has no allocation events: no object has a known site");
    }
    for (uint32_t v = 0; v < g.n; v++) {
        bool match;
        if (o.type) {
            match = type_match[g.type[v]];
        } else if (o.addr) {
            match = g.addr[v] == want_addr;
        } else {
            const struct rs_site_name *sn = site ? snap_site(&s, site[v]) : NULL;
            if (site && !sn)
                goto nomem;
            match = sn && rs_site_matches(sn, o.site);
        }
        if (match)
            targets[nt++] = v;
    }
    if (rs_snap_build_reverse(&g))
        goto nomem;
    rs_snap_in_degrees(&g, in_all, NULL);
    rs_snap_root_kinds(&g, in_all, kind);
    if (rs_snap_backref_chain(&g, kind, targets, nt, o.max_depth, &chain))
        goto nomem;
    free(g.in_off); /* the chain is found: the reverse edges make room for the retained size */
    free(g.src);
    g.in_off = g.src = NULL;
    if (chain.n > 1) {
        edges = calloc(chain.n - 1, sizeof *edges);
        if (!edges)
            goto nomem;
        for (size_t i = 0; i + 1 < chain.n; i++) {
            edges[i].from = chain.nodes[i];
            edges[i].to = chain.nodes[i + 1];
        }
        if (rs_snap_edge_labels(&g, &s.src, edges, chain.n - 1, s.err, sizeof s.err)) {
            rc = snap_fail(&s, "%s", s.err);
            goto out;
        }
    }
    uint32_t target = chain.n ? chain.target : nt ? targets[0] : RS_SNAP_NONE;
    uint64_t freed = 0;
    if (chain.n && rs_snap_retained_one(&g, target, &freed))
        goto nomem;
    if (!o.site) { /* the objects shown: the chain, the target */
        uint32_t *shown = malloc((chain.n + 1) * sizeof *shown);
        if (!shown)
            goto nomem;
        if (chain.n)
            memcpy(shown, chain.nodes, chain.n * sizeof *shown);
        shown[chain.n] = target;
        rc = snap_sites_of(&s, &g, shown, chain.n + (target != RS_SNAP_NONE), &site);
        free(shown);
        if (rc)
            goto out;
    }

    if (o.out && chain.n) {
        const char **sites = calloc(chain.n, sizeof *sites);
        struct rs_strbuf sb = {0};
        if (!sites)
            goto nomem;
        for (size_t i = 0; i < chain.n; i++) {
            const struct rs_site_name *sn = site ? snap_site(&s, site[chain.nodes[i]]) : NULL;
            sites[i] = sn ? sn->text : NULL;
        }
        rs_chain_dot(&sb, &g, chain.nodes, chain.n, edges, sites, 0, NULL);
        free(sites);
        if (sb.failed) {
            rs_sb_free(&sb);
            goto nomem;
        }
        rc = snap_write_graph(&s, o.out, sb.s, sb.len);
        rs_sb_free(&sb);
        if (rc)
            goto out;
    }

    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    if (o.json) {
        struct rs_json j;
        rs_json_init(&j, stdout);
        rs_json_object_begin(&j);
        rs_json_key(&j, "schema");
        rs_json_cstring(&j, "refscope.backrefs/1");
        rs_json_key(&j, "file");
        rs_json_cstring(&j, o.file);
        snap_json_info(&j, "snapshot", si, &g);
        rs_json_key(&j, "query");
        rs_json_object_begin(&j);
        rs_json_key(&j, o.type ? "type" : o.addr ? "addr" : "site");
        rs_json_cstring(&j, o.type ? o.type : o.addr ? o.addr : o.site);
        rs_json_object_end(&j);
        rs_json_key(&j, "matches");
        rs_json_u64(&j, nt);
        rs_json_key(&j, "max_depth");
        rs_json_u64(&j, o.max_depth);
        rs_json_key(&j, "found");
        rs_json_bool(&j, chain.n > 0);
        rs_json_key(&j, "root");
        if (chain.n) {
            size_t len;
            const char *name = snap_root_name(&g, chain.nodes[0], &len);
            rs_json_object_begin(&j);
            rs_json_key(&j, "kind");
            rs_json_cstring(&j, root_kind_name(chain.root_kind));
            rs_json_key(&j, "name");
            if (chain.root_kind == RS_SROOT_C)
                rs_json_null(&j);
            else
                rs_json_string(&j, name, len);
            rs_json_object_end(&j);
        } else {
            rs_json_null(&j);
        }
        rs_json_key(&j, "chain");
        rs_json_array_begin(&j);
        for (size_t i = 0; i < chain.n; i++) {
            uint32_t v = chain.nodes[i];
            rs_json_object_begin(&j);
            snap_json_edge(&j, "edge", i ? &edges[i - 1] : NULL);
            snap_json_node(&j, &g, v);
            snap_json_site(&j, "site", site ? snap_site(&s, site[v]) : NULL);
            rs_json_object_end(&j);
        }
        rs_json_array_end(&j);
        rs_json_key(&j, "target");
        if (target != RS_SNAP_NONE) {
            rs_json_object_begin(&j);
            snap_json_node(&j, &g, target);
            snap_json_site(&j, "site", site ? snap_site(&s, site[target]) : NULL);
            rs_json_key(&j, "retained");
            if (chain.n)
                rs_json_u64(&j, freed);
            else
                rs_json_null(&j);
            rs_json_object_end(&j);
        } else {
            rs_json_null(&j);
        }
        snap_json_notes(&j, &s);
        rs_json_object_end(&j);
        rs_json_finish(&j);
    } else {
        fputs("refscope backrefs: ", stdout);
        rs_fput_escaped(stdout, o.file, strlen(o.file));
        fputs(", ", stdout);
        snap_put_info(stdout, si);
        fputc('\n', stdout);
        const char *q = o.type ? o.type : o.addr ? o.addr : o.site;
        printf("%s object%s match%s %s ", rs_fmt_count(a, nt), nt == 1 ? "" : "s",
               nt == 1 ? "es" : "", o.type ? "type" : o.addr ? "address" : "site");
        rs_fput_escaped(stdout, q, strlen(q));
        fputc('\n', stdout);
        if (nt == 0) {
            /* nothing more to say */
        } else if (!chain.n) {
            printf("No chain from a root%s: nothing known holds %s (it is garbage, or held by "
                   "objects the snapshot did not record)\n",
                   o.max_depth ? " within --max-depth" : "", nt == 1 ? "it" : "them");
        } else {
            if (nt > 1)
                printf("The one closest to a root, at 0x%llx:\n",
                       (unsigned long long)g.addr[target]);
            printf("\nShortest chain (%zu reference%s), ", chain.n - 1, chain.n == 2 ? "" : "s");
            put_root(stdout, &g, chain.nodes[0], chain.root_kind, in_all);
            fputs(":\n\n", stdout);
            for (size_t i = 0; i < chain.n; i++) {
                uint32_t v = chain.nodes[i];
                fputs(i ? "  " : "", stdout);
                if (i) {
                    snap_put_edge(stdout, &edges[i - 1]);
                    fputc(' ', stdout);
                }
                snap_put_node(stdout, &g, v, o.short_names);
                const struct rs_site_name *sn = site ? snap_site(&s, site[v]) : NULL;
                if (sn && site[v] != RS_SITE_UNKNOWN) {
                    fputs("  (alloc: ", stdout);
                    rs_fput_escaped(stdout, sn->text, strlen(sn->text));
                    fputc(')', stdout);
                }
                fputc('\n', stdout);
            }
            printf("\nCutting the last reference would free %s", rs_fmt_bytes(a, freed));
            if (freed >= 1000)
                printf(" (%s bytes)", rs_fmt_count(b, freed));
            puts(": the object's retained size.");
        }
        if (o.out && chain.n) {
            fputs("Chain drawn in ", stdout);
            rs_fput_escaped(stdout, o.out, strlen(o.out));
            fputc('\n', stdout);
        }
        snap_put_notes(stdout, &s);
    }
    goto out;
nomem:
    rc = snap_fail(&s, "out of memory");
out:
    rs_snap_edge_refs_free(edges, chain.n ? chain.n - 1 : 0);
    free(edges);
    rs_chain_free(&chain);
    free(site);
    free(targets);
    free(type_match);
    free(in_all);
    free(kind);
    rs_snap_graph_free(&g);
    return snap_finish(&s, rc);
}
