#include "html_report.h"

#include "cmd_snap.h"
#include "escape.h"
#include "flame.h"
#include "format_num.h"
#include "html_escape.h"
#include "python_frames.h"
#include "report.h"
#include "report_suspects.h"
#include "snap_analyze.h"
#include "snap_draw.h"
#include "timeline.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef REFSCOPE_VERSION
#define REFSCOPE_VERSION "unknown"
#endif

extern const char rs_html_css[];
extern const char rs_html_js[];

/* Everything the page is made from. */
struct page {
    struct rs_strbuf *b;
    const char *path;
    const struct rs_html_options *opt;
    struct rs_report r;
    struct rs_timeline *tl;
    struct rs_suspects *sus;
    struct rs_site_names *names;   /* NULL: the trace has no allocation events */
    struct rs_snap_source src;
    bool src_open;
    bool have_growth;
    struct rs_growth gr;
    bool have_graph;               /* the last complete snapshot, loaded */
    struct rs_snap_graph g;
    uint32_t *site;                /* per object; NULL without allocation events */
    uint8_t *root_kind;            /* per object */
    bool have_cycles;
    struct rs_cycles cy;
    char snap_err[512];            /* why there is no graph */
    struct rs_notes notes;         /* the page's own */
    unsigned svg_seq;
    size_t cuts;                   /* "what was cut" lines written */
};

/* ---- small writers ------------------------------------------------------------------ */

#define P(pg, ...) rs_sb_printf((pg)->b, __VA_ARGS__)

static void lit(struct page *pg, const char *s)
{
    rs_sb_put(pg->b, s, strlen(s));
}

static void text(struct page *pg, const char *s, size_t n)
{
    rs_html_text(pg->b, s, n, 300);
}

static void ctext(struct page *pg, const char *s)
{
    if (s)
        rs_html_text(pg->b, s, strlen(s), 300);
}

static void rtext(struct page *pg, const struct rs_text *t)
{
    if (t && t->s)
        rs_html_text(pg->b, t->s, t->len, 300);
}

static void cut(struct page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cut(struct page *pg, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lit(pg, "<p class=\"cut\">");
    ctext(pg, buf);
    lit(pg, "</p>\n");
    pg->cuts++;
}

static void note(struct page *pg, const char *s)
{
    lit(pg, "<p class=\"note\">");
    ctext(pg, s);
    lit(pg, "</p>\n");
}

static const char *bytes_s(char *buf, uint64_t n)
{
    return rs_fmt_bytes(buf, n);
}

static void td_num(struct page *pg, const char *s)
{
    P(pg, "<td class=\"num\">%s</td>", s);
}

static const char *base_name(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p;
}

/* "function (file:line)" for a frame, escaped. */
static void frame_html(struct page *pg, const struct rs_frame *f)
{
    if (!f) {
        lit(pg, "(unknown)");
        return;
    }
    ctext(pg, f->function ? f->function : "??");
    if (f->file) {
        lit(pg, " <span class=\"mono\">(");
        ctext(pg, rs_frame_file_shown(f));
        if (f->line > 0)
            P(pg, ":%d", f->line);
        lit(pg, ")</span>");
    } else if (f->module) {
        lit(pg, " <span class=\"mono\">(in ");
        ctext(pg, f->module);
        lit(pg, ")</span>");
    }
}

static const struct rs_text *thread_name(const struct rs_trace *t, uint32_t tid)
{
    const struct rs_trace_thread *th = rs_trace_thread_find(t, tid);
    return th ? rs_thread_name(th) : NULL;
}

/* "MainThread (tid 12)" into buf, escaped for a terminal (it is escaped again for HTML). */
static void thread_label(const struct rs_trace *t, uint32_t tid, char *buf, size_t cap)
{
    const struct rs_text *n = thread_name(t, tid);
    size_t u = 0;
    if (n && n->len)
        u = rs_escape_to(buf, cap > 40 ? cap - 40 : cap, n->s, n->len);
    snprintf(buf + u, cap - u, "%stid %u%s", u ? " (" : "", (unsigned)tid, u ? ")" : "");
}

/* ---- graphs (Graphviz) ---------------------------------------------------------------- */

static void svg_from_dot(struct page *pg, struct rs_strbuf *dot, char prefix)
{
    char err[256];
    char *svg = NULL;
    size_t len = 0;
    if (dot->failed) {
        note(pg, "(graph not drawn: out of memory)");
        return;
    }
    if (rs_dot_render_data(dot->s, "svg", &svg, &len, err, sizeof err) != 0) {
        lit(pg, "<p class=\"note warn\">graph not drawn: ");
        ctext(pg, err);
        lit(pg, "</p>\n");
        return;
    }
    char id[32];
    snprintf(id, sizeof id, "%c%u-", prefix, ++pg->svg_seq);
    lit(pg, "<div class=\"graph\">");
    if (rs_html_embed_svg(pg->b, svg, len, id) != 0)
        lit(pg, "<p class=\"note warn\">graph not shown: Graphviz's SVG had unexpected content</p>");
    lit(pg, "</div>\n");
    free(svg);
}

/* The chain as text (root first), then drawn. nodes: graph objects; edges[i]: into
 * nodes[i + 1]. */
static void chain_html(struct page *pg, const uint32_t *nodes, size_t n,
                       const struct rs_snap_edge_ref *edges, uint8_t root_kind, char prefix)
{
    const struct rs_snap_graph *g = &pg->g;
    char buf[600];
    lit(pg, "<div class=\"chain-text\">");
    if (root_kind == RS_SROOT_THREAD)
        lit(pg, "root: a frame of a running thread");
    else if (root_kind == RS_SROOT_C)
        lit(pg, "root: an object held from C (more references than recorded objects hold)");
    else
        lit(pg, "root: a module in sys.modules");
    lit(pg, "<br>");
    size_t first = n > RS_HTML_MAX_CHAIN_NODES ? n - RS_HTML_MAX_CHAIN_NODES : 0;
    for (size_t i = 0; i < n; i++) {
        if (i && i < first)
            continue;
        if (i && i == first)
            P(pg, " <span class=\"edge\">&hellip; %zu more &hellip;</span> ", first - 1);
        if (i) {
            const struct rs_snap_edge_ref *e = &edges[i - 1];
            if (e->found && e->kind == RS_SNAP_EDGE_INDEX) {
                P(pg, " <span class=\"edge\">--[%llu]--&gt;</span> ",
                  (unsigned long long)e->index);
            } else if (e->found && e->text && e->len) {
                lit(pg, " <span class=\"edge\">--[");
                text(pg, e->text, e->len);
                lit(pg, "]--&gt;</span> ");
            } else {
                lit(pg, " <span class=\"edge\">--&gt;</span> ");
            }
        }
        snap_node_text(buf, sizeof buf, g, nodes[i], false);
        lit(pg, "<code>");
        ctext(pg, buf);
        lit(pg, "</code>");
    }
    lit(pg, "</div>\n");
    const char **sites = calloc(n ? n : 1, sizeof *sites);
    if (!sites)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct rs_site_name *sn =
            pg->site && pg->names && pg->site[nodes[i]] != RS_SITE_UNKNOWN
                ? rs_site_name(pg->names, pg->site[nodes[i]])
                : NULL;
        sites[i] = sn ? sn->text : NULL;
    }
    struct rs_strbuf dot = {0};
    rs_chain_dot(&dot, g, nodes, n, edges, sites, RS_HTML_MAX_CHAIN_NODES, NULL);
    free(sites);
    if (first)
        cut(pg, "chain of %zu references: only the last %d objects are drawn", n - 1,
            RS_HTML_MAX_CHAIN_NODES);
    svg_from_dot(pg, &dot, prefix);
    rs_sb_free(&dot);
}

/* ---- analyses ---------------------------------------------------------------------- */

static void load_snapshots(struct page *pg)
{
    const struct rs_trace *t = pg->r.trace;
    if (!t->snapshots)
        return;
    const struct rs_snap_info *last = rs_snap_last_complete(t);
    if (!last) {
        snprintf(pg->snap_err, sizeof pg->snap_err,
                 "the trace has no complete object-graph snapshot");
        return;
    }
    if (rs_snap_source_file(&pg->src, pg->path, t->file_size, pg->snap_err,
                            sizeof pg->snap_err))
        return;
    pg->src_open = true;
    pg->sus = pg->r.suspects; /* built with the report */
    pg->r.suspects = NULL;
    char err[512];
    if (rs_growth_build(t, &pg->src, pg->names, &pg->gr, &pg->notes, err, sizeof err) == 0)
        pg->have_growth = true;
    else
        rs_notes_add(&pg->notes, RS_NOTE_WARNING, "growth: %s", err);
    if (rs_snap_load(&pg->g, last, &pg->src,
                     RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS | RS_SNAP_KEEP_INDEX,
                     pg->snap_err, sizeof pg->snap_err))
        return;
    pg->have_graph = true;
    size_t n = pg->g.n ? pg->g.n : 1;
    if (pg->names) {
        pg->site = malloc(n * sizeof *pg->site);
        if (!pg->site || rs_snap_sites(t, &pg->g, pg->site)) {
            free(pg->site);
            pg->site = NULL;
        }
    }
    if (rs_snap_cycles(&pg->g, pg->site, pg->names, false, &pg->cy) == 0)
        pg->have_cycles = true;
    uint32_t *in_all = malloc(n * sizeof *in_all);
    pg->root_kind = malloc(n);
    if (!in_all || !pg->root_kind || rs_snap_build_reverse(&pg->g)) {
        free(pg->root_kind);
        pg->root_kind = NULL;
    } else {
        rs_snap_in_degrees(&pg->g, in_all, NULL);
        rs_snap_root_kinds(&pg->g, in_all, pg->root_kind);
    }
    free(in_all);
}

static void page_free(struct page *pg)
{
    if (pg->have_cycles)
        rs_cycles_free(&pg->cy);
    if (pg->have_graph)
        rs_snap_graph_free(&pg->g);
    free(pg->site);
    free(pg->root_kind);
    if (pg->have_growth)
        rs_growth_free(&pg->gr);
    rs_suspects_free(pg->sus);
    if (pg->src_open)
        rs_snap_source_close(&pg->src);
    rs_site_names_free(pg->names);
    rs_notes_free(&pg->notes);
    rs_report_free(&pg->r);
    free(pg->tl);
}

/* ---- header and summary ------------------------------------------------------------- */

static const char *status_text(enum rs_trace_status s)
{
    switch (s) {
    case RS_TRACE_COMPLETE: return "complete";
    case RS_TRACE_PARTIAL: return "partial (cut short inside a chunk)";
    case RS_TRACE_INCOMPLETE: return "incomplete (no end record)";
    }
    return "?";
}

static const char *program_name(const struct rs_trace *t)
{
    if (t->hdr.argc > 1 && t->hdr.argv[0].s) {
        /* a Python program: the script, not the interpreter */
        const char *a0 = base_name(t->hdr.argv[0].s);
        if (a0 && strncmp(a0, "python", 6) == 0) {
            for (size_t i = 1; i < t->hdr.argc; i++) {
                if (t->hdr.argv[i].s && t->hdr.argv[i].s[0] != '-')
                    return base_name(t->hdr.argv[i].s);
            }
        }
        return a0;
    }
    if (t->hdr.argc && t->hdr.argv[0].s)
        return base_name(t->hdr.argv[0].s);
    if (t->hdr.exe.s)
        return base_name(t->hdr.exe.s);
    return "(unknown program)";
}

static void card(struct page *pg, const char *k, const char *v, const char *d)
{
    lit(pg, "<div class=\"card\"><div class=\"k\">");
    ctext(pg, k);
    lit(pg, "</div><div class=\"v\">");
    ctext(pg, v);
    lit(pg, "</div>");
    if (d) {
        lit(pg, "<div class=\"d\">");
        ctext(pg, d);
        lit(pg, "</div>");
    }
    lit(pg, "</div>\n");
}

/* ---- `refscope check` verdicts (schema refscope.check/1, docs/json-schema.md) ---------- */

/* A verdict ("pass", "fail", "skipped", "off") as a badge. */
static void verdict_badge(struct page *pg, const char *v)
{
    const char *cls = !v                      ? ""
                      : strcmp(v, "pass") == 0 ? " pass"
                      : strcmp(v, "fail") == 0 ? " fail"
                                               : "";
    P(pg, "<span class=\"badge%s\">", cls);
    ctext(pg, v ? v : "?");
    lit(pg, "</span>");
}

/* An unsigned integer member as "1,234"; NULL when it is missing or not one. */
static const char *jv_count(char *buf, const struct rs_jv *o, const char *key)
{
    const struct rs_jv *v = rs_jv_get(o, key);
    if (!v || v->type != RS_JV_NUMBER || !v->str || !isdigit((unsigned char)v->str[0]))
        return NULL;
    char *end;
    unsigned long long n = strtoull(v->str, &end, 10);
    return *end ? NULL : rs_fmt_count(buf, n);
}

/* Text from the check file (reasons and chains are long: up to 2000 bytes). */
static void jtext(struct page *pg, const struct rs_jv *v)
{
    if (v && v->type == RS_JV_STRING)
        rs_html_text(pg->b, v->str, v->len, 2000);
}

/* The findings of a broken rule that are over its limit: what, how much, the chain. */
static void check_findings(struct page *pg, const struct rs_jv *rule, const char *unit)
{
    const struct rs_jv *fs = rs_jv_get(rule, "findings");
    if (!fs || fs->type != RS_JV_ARRAY)
        return;
    size_t shown = 0, over = 0;
    for (size_t i = 0; i < fs->n; i++) {
        const struct rs_jv *f = &fs->items[i];
        const struct rs_jv *ol = rs_jv_get(f, "over_limit");
        if (!ol || ol->type != RS_JV_BOOL || !ol->b)
            continue;
        over++;
        if (shown >= 5)
            continue;
        if (!shown++)
            lit(pg, "<ul class=\"check-findings\">\n");
        char a[RS_NUM_BUF], b[RS_NUM_BUF];
        const char *excess = jv_count(a, f, "excess"), *base = jv_count(b, f, "baseline");
        lit(pg, "<li>");
        if (excess)
            P(pg, "%s ", excess);
        ctext(pg, unit);
        if (base)
            P(pg, " (baseline %s)", base);
        lit(pg, ": <code>");
        jtext(pg, rs_jv_get(f, "key"));
        lit(pg, "</code>");
        if (rs_jv_str(rs_jv_get(f, "what"))) {
            lit(pg, " ");
            jtext(pg, rs_jv_get(f, "what"));
        }
        /* the site, unless the key names it */
        const char *key = rs_jv_str(rs_jv_get(f, "key"));
        const struct rs_jv *site = rs_jv_get(rs_jv_get(f, "site"), "text");
        if (rs_jv_str(site) && !(key && strncmp(key, "site:", 5) == 0)) {
            lit(pg, " at <code>");
            jtext(pg, site);
            lit(pg, "</code>");
        }
        if (rs_jv_str(rs_jv_get(f, "chain"))) {
            lit(pg, "<div class=\"chain-text\">held by <code>");
            jtext(pg, rs_jv_get(f, "chain"));
            lit(pg, "</code></div>");
        }
        lit(pg, "</li>\n");
    }
    if (shown)
        lit(pg, "</ul>\n");
    if (over > shown)
        P(pg, "<span class=\"note\">%zu more over the limit</span>", over - shown);
}

/* The verdicts of `refscope check --json`: the overall verdict, then a row per rule. */
static void check_section(struct page *pg)
{
    const struct rs_jv *c = pg->opt->check;
    if (!c)
        return;
    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    lit(pg, "<h3 id=\"check\">Rule verdicts (<code>refscope check</code>)</h3>\n");
    const char *schema = rs_jv_str(rs_jv_get(c, "schema"));
    lit(pg, "<p>Overall: ");
    verdict_badge(pg, rs_jv_str(rs_jv_get(c, "verdict")));
    const char *failed = jv_count(a, c, "failed_rules");
    if (failed && strcmp(failed, "0") != 0)
        P(pg, " %s rule%s broken", failed, strcmp(failed, "1") ? "s" : "");
    lit(pg, " <span class=\"note\">from ");
    ctext(pg, pg->opt->check_source);
    const struct rs_jv *cfg = rs_jv_get(c, "config");
    if (rs_jv_str(rs_jv_get(cfg, "baseline"))) {
        lit(pg, ", baseline ");
        jtext(pg, rs_jv_get(cfg, "baseline"));
    }
    if (schema) {
        lit(pg, ", schema ");
        ctext(pg, schema);
    }
    lit(pg, "</span></p>\n");
    if (!schema || strcmp(schema, "refscope.check/1") != 0)
        note(pg, "warning: this is not the schema refscope.check/1; shown as far as understood");
    const struct rs_jv *list = rs_jv_get(c, "rules");
    if (!list || list->type != RS_JV_ARRAY) {
        note(pg, "(no list of rules in the check results)");
        return;
    }
    lit(pg, "<table class=\"check\"><tr><th>rule</th><th>verdict</th><th>limit</th>"
            "<th>measured</th><th>details</th></tr>\n");
    size_t shown = 0;
    for (size_t i = 0; i < list->n && shown < 50; i++, shown++) {
        const struct rs_jv *it = &list->items[i];
        const char *verdict = rs_jv_str(rs_jv_get(it, "verdict"));
        const char *unit = rs_jv_str(rs_jv_get(it, "unit"));
        bool judged = verdict && (!strcmp(verdict, "pass") || !strcmp(verdict, "fail"));
        lit(pg, "<tr><td>");
        jtext(pg, rs_jv_get(it, "rule"));
        lit(pg, "</td><td>");
        verdict_badge(pg, verdict);
        lit(pg, "</td><td class=\"num\">");
        const struct rs_jv *limit = rs_jv_get(it, "limit");
        const char *ltext = jv_count(b, it, "limit");
        if (limit && limit->type == RS_JV_NULL) {
            lit(pg, "off");
        } else if (ltext) {
            P(pg, "%s ", ltext);
            ctext(pg, unit);
        } else {
            lit(pg, "&mdash;");
        }
        lit(pg, "</td><td class=\"num\">");
        const char *counted = judged ? jv_count(a, it, "counted") : NULL;
        const struct rs_jv *per_item = rs_jv_get(it, "per_item");
        if (counted)
            P(pg, "%s%s", counted, per_item && per_item->type == RS_JV_BOOL && per_item->b
                                       ? " (largest)" : "");
        else
            lit(pg, "&mdash;");
        lit(pg, "</td><td>");
        jtext(pg, rs_jv_get(it, "reason"));
        if (verdict && !strcmp(verdict, "fail"))
            check_findings(pg, it, unit ? unit : "");
        lit(pg, "</td></tr>\n");
    }
    lit(pg, "</table>\n");
    if (list->n > shown)
        cut(pg, "%zu more rules not listed", list->n - shown);
    const struct rs_jv *notes = rs_jv_get(c, "notes");
    for (size_t i = 0; notes && notes->type == RS_JV_ARRAY && i < notes->n && i < 20; i++) {
        const struct rs_jv *t = rs_jv_get(&notes->items[i], "text");
        if (!rs_jv_str(t))
            continue;
        lit(pg, "<p class=\"note\">check: ");
        jtext(pg, t);
        lit(pg, "</p>\n");
    }
}

static void summary_section(struct page *pg)
{
    const struct rs_report *r = &pg->r;
    const struct rs_trace *t = r->trace;
    const struct rs_replay *p = &r->replay;
    char a[RS_NUM_BUF], b[RS_NUM_BUF], c[160];
    lit(pg, "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"summary\">\n");
    snprintf(c, sizeof c, "%s blocks%s", rs_fmt_count(a, r->leaked.blocks),
             r->program_end ? ", at program end" : ", at the end of the trace");
    card(pg, r->program_end ? "left at exit" : "live at end of trace",
         bytes_s(b, r->leaked.bytes), c);
    snprintf(c, sizeof c, "%s blocks, at %s", rs_fmt_count(a, p->peak_blocks),
             rs_fmt_duration(b, p->peak_time));
    char pk[RS_NUM_BUF];
    card(pg, "peak live memory", bytes_s(pk, p->peak_bytes), c);
    snprintf(c, sizeof c, "%s allocated in %s blocks", bytes_s(a, p->alloc_bytes),
             rs_fmt_count(b, p->allocs));
    char dur[RS_NUM_BUF];
    card(pg, "duration", rs_fmt_duration(dur, r->duration_ns), c);
    if (pg->sus) {
        snprintf(c, sizeof c, "from %zu object-graph snapshot%s", rs_suspects_nsnaps(pg->sus),
                 rs_suspects_nsnaps(pg->sus) == 1 ? "" : "s");
        snprintf(a, sizeof a, "%zu", rs_suspects_n(pg->sus));
        card(pg, "leak suspects", a, c);
    }
    if (pg->have_cycles) {
        uint64_t n = 0;
        for (int k = 0; k < RS_CYCLE_CLASSES; k++)
            n += pg->cy.ncycles[k];
        snprintf(c, sizeof c, "%s uncollectable, %s leaked",
                 rs_fmt_count(a, pg->cy.ncycles[RS_CYCLE_UNCOLLECTABLE]),
                 rs_fmt_count(b, pg->cy.ncycles[RS_CYCLE_LEAKED]));
        char nn[RS_NUM_BUF];
        card(pg, "unreachable cycles", rs_fmt_count(nn, n), c);
    }
    snprintf(a, sizeof a, "%zu", r->nthreads);
    card(pg, "threads", a, NULL);
    lit(pg, "</div>\n<dl class=\"facts\">\n<dt>program</dt><dd><code>");
    for (size_t i = 0; i < t->hdr.argc && i < 64; i++) {
        if (i)
            lit(pg, " ");
        rtext(pg, &t->hdr.argv[i]);
    }
    if (t->hdr.argc > 64)
        P(pg, " &hellip; (%zu more arguments)", t->hdr.argc - 64);
    lit(pg, "</code></dd>\n");
    if (t->hdr.exe.s) {
        lit(pg, "<dt>executable</dt><dd><code>");
        rtext(pg, &t->hdr.exe);
        lit(pg, "</code></dd>\n");
    }
    if (r->python) {
        lit(pg, "<dt>interpreter</dt><dd>");
        if (t->py.present && t->py.version.s) {
            lit(pg, "CPython ");
            rtext(pg, &t->py.version);
        } else {
            lit(pg, "CPython (version not recorded)");
        }
        lit(pg, "</dd>\n");
    }
    if (rs_header_has(&t->hdr, RS_HDR_PID))
        P(pg, "<dt>pid</dt><dd>%llu</dd>\n", (unsigned long long)t->hdr.pid);
    if (t->hdr.hostname.s) {
        lit(pg, "<dt>host</dt><dd>");
        rtext(pg, &t->hdr.hostname);
        lit(pg, "</dd>\n");
    }
    if (rs_header_has(&t->hdr, RS_HDR_START_REALTIME) && t->hdr.start_realtime) {
        time_t sec = (time_t)(t->hdr.start_realtime / 1000000000u);
        struct tm tm;
        char when[64];
        if (gmtime_r(&sec, &tm) && strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm))
            P(pg, "<dt>started</dt><dd>%s</dd>\n", when);
    }
    lit(pg, "<dt>trace</dt><dd><code>");
    ctext(pg, pg->path);
    P(pg, "</code>, %s, %s events", status_text(r->status), rs_fmt_count(a, t->nevents));
    if (r->lost)
        P(pg, ", <span class=\"warn\">%s events lost</span>", rs_fmt_count(b, r->lost));
    lit(pg, "</dd>\n");
    P(pg, "<dt>allocations</dt><dd>%s blocks, ", rs_fmt_count(a, p->allocs));
    P(pg, "%s; %s frees</dd>\n", bytes_s(b, p->alloc_bytes), rs_fmt_count(c, p->frees));
    if (r->program_end) {
        lit(pg, "<dt>left at exit</dt><dd>taken at ");
        ctext(pg, rs_program_end_name(r->program_end));
        P(pg, " (%s)", rs_fmt_duration(a, r->program_end->time));
        if (r->teardown_freed_bytes)
            P(pg, "; interpreter teardown then freed %s", bytes_s(b, r->teardown_freed_bytes));
        lit(pg, "</dd>\n");
    }
    if (r->leaked.runtime_bytes)
        P(pg, "<dt>C runtime</dt><dd>%s in %s blocks kept by the C runtime for the life of "
              "the process: not counted as leaked</dd>\n",
          bytes_s(a, r->leaked.runtime_bytes), rs_fmt_count(b, r->leaked.runtime_blocks));
    lit(pg, "</dl>\n");
    check_section(pg);
    /* notes: the trace's, the analyzer's, the page's */
    size_t nn = t->nnotes + r->notes.n + pg->notes.n;
    if (nn) {
        lit(pg, "<h3>Notes</h3>\n<ul class=\"notes\">\n");
        size_t shown = 0;
        for (size_t i = 0; i < t->nnotes && shown < 50; i++, shown++) {
            P(pg, "<li%s>", t->notes[i].level ? " class=\"warn\"" : "");
            rtext(pg, &t->notes[i].text);
            lit(pg, "</li>\n");
        }
        const struct rs_notes *lists[2] = {&r->notes, &pg->notes};
        for (int l = 0; l < 2; l++) {
            for (size_t i = 0; i < lists[l]->n && shown < 50; i++, shown++) {
                P(pg, "<li%s>", lists[l]->items[i].level == RS_NOTE_WARNING ? " class=\"warn\"" : "");
                ctext(pg, lists[l]->items[i].text);
                lit(pg, "</li>\n");
            }
        }
        lit(pg, "</ul>\n");
        if (nn > shown)
            cut(pg, "%zu more notes not listed", nn - shown);
    }
    lit(pg, "</section>\n");
}

/* ---- charts ------------------------------------------------------------------------- */

#define CW 960.0 /* chart size in SVG units */
#define CH 280.0
#define ML 78.0  /* margins */
#define MR 16.0
#define MT 14.0
#define MB 34.0

static const char *const palette[] = {"#3b78c3", "#d9822b", "#2e8b57", "#c0392b", "#8e44ad",
                                      "#16a085", "#7f8c8d", "#b7950b"};

/* A tick step of 1, 2 or 5 times a power of ten, giving about n ticks up to max. */
static double nice_step(double max, int n)
{
    if (max <= 0)
        return 1;
    double raw = max / n, p = 1;
    while (p * 10 <= raw)
        p *= 10;
    while (p > raw)
        p /= 10;
    double m = raw / p;
    return p * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10);
}

static void y_axis(struct page *pg, double ymax, bool bytes)
{
    double step = nice_step(ymax, 5);
    char buf[RS_NUM_BUF];
    for (double v = 0; v <= ymax * 1.0001; v += step) {
        double y = CH - MB - (CH - MT - MB) * v / ymax;
        P(pg, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e7eb\"/>",
          ML, CW - MR, y, y);
        P(pg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", ML - 6, y + 4,
          bytes ? rs_fmt_bytes(buf, (uint64_t)v) : rs_fmt_count(buf, (uint64_t)v));
    }
}

static void memory_section(struct page *pg)
{
    const struct rs_report *r = &pg->r;
    const struct rs_trace *t = r->trace;
    const struct rs_timeline *tl = pg->tl;
    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    lit(pg, "<section id=\"memory\"><h2>Live memory over time</h2>\n");
    if (!tl->events) {
        note(pg, "The trace has no allocation events.");
        lit(pg, "</section>\n");
        return;
    }
    uint64_t tmax = r->duration_ns;
    if (tl->n * tl->width > tmax)
        tmax = tl->n * tl->width;
    if (!tmax)
        tmax = 1;
    uint64_t ymax_u = 1;
    for (size_t i = 0; i < tl->n; i++)
        if (tl->b[i].used && tl->b[i].max_bytes > ymax_u)
            ymax_u = tl->b[i].max_bytes;
    double ymax = (double)ymax_u * 1.08;
    double pw = CW - ML - MR, ph = CH - MT - MB;
#define X(tns) (ML + pw * (double)(tns) / (double)tmax)
#define Y(v) (CH - MB - ph * (double)(v) / ymax)
    P(pg, "<svg class=\"chart\" id=\"memory-chart\" viewBox=\"0 0 %.0f %.0f\" "
          "role=\"img\" aria-label=\"live memory over time\">\n", CW, CH);
    y_axis(pg, ymax, true);
    double xstep = nice_step((double)tmax, 8);
    for (double v = 0; v <= (double)tmax; v += xstep) {
        P(pg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", X(v), CH - MB + 16,
          rs_fmt_duration(a, (uint64_t)v));
    }
    P(pg, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#9aa3ad\"/>\n", ML,
      CW - MR, CH - MB, CH - MB);
    /* three lines: total, Python domains, native; a bucket without events keeps the values
     * the one before ended with */
    static const char *const colors[3] = {"#1d232b", "#3b78c3", "#d9822b"};
    static const char *const ids[3] = {"mem-total", "mem-python", "mem-native"};
    for (int s = 0; s < 3; s++) {
        if (s > 0 && !r->python)
            break; /* native programs: the total is the native line */
        P(pg, "<path id=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" d=\"", ids[s],
          colors[s], s ? "1.4" : "1.8");
        uint64_t end_total = 0, end_py = 0;
        bool started = false;
        for (size_t i = 0; i < tl->n; i++) {
            const struct rs_timeline_bucket *k = &tl->b[i];
            uint64_t v;
            if (k->used)
                v = s == 0 ? k->max_bytes : s == 1 ? k->max_py : k->max_native;
            else
                v = s == 0 ? end_total : s == 1 ? end_py : end_total - end_py;
            if (k->used) {
                end_total = k->end_bytes;
                end_py = k->end_py;
            }
            P(pg, "%s%.1f %.1f", started ? " L" : "M", X(i * tl->width + tl->width / 2), Y(v));
            started = true;
        }
        lit(pg, "\"/>\n");
    }
    /* the peak */
    P(pg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#c0392b\"><title>peak: %s at %s"
          "</title></circle>\n",
      X(r->replay.peak_time), Y(r->replay.peak_bytes), rs_fmt_bytes(a, r->replay.peak_bytes),
      rs_fmt_duration(b, r->replay.peak_time));
    /* marks: snapshots, program end, fork, exec */
    size_t drawn = 0, total = 0;
    const struct rs_snapshots *sn = t->snapshots;
    for (size_t i = 0; sn && i < sn->n; i++) {
        total++;
        if (drawn >= RS_HTML_MAX_MARKS)
            continue;
        drawn++;
        const struct rs_snap_info *si = &sn->v[i];
        P(pg, "<g class=\"mark snapshot\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
              "stroke=\"#2e8b57\" stroke-dasharray=\"4 3\"/>"
              "<text x=\"%.1f\" y=\"%.1f\" fill=\"#2e8b57\">S%u</text><title>snapshot %u",
          X(si->time), X(si->time), MT, CH - MB, X(si->time) + 2, MT + 9, (unsigned)si->id,
          (unsigned)si->id);
        if (si->label.len) {
            lit(pg, " &quot;");
            rs_html_text(pg->b, si->label.s, si->label.len, 120);
            lit(pg, "&quot;");
        }
        P(pg, " (%s, at %s)%s</title></g>\n", rs_snap_trigger_name(si->trigger),
          rs_fmt_duration(a, si->time), si->complete ? "" : ", incomplete");
    }
    for (size_t i = 0; i < t->nmarks; i++) {
        const struct rs_trace_mark *m = &t->marks[i];
        if (m->kind == RS_MARK_SNAPSHOT_REQUEST)
            continue; /* drawn as the snapshot itself */
        total++;
        if (drawn >= RS_HTML_MAX_MARKS)
            continue;
        drawn++;
        bool end = m->kind == RS_MARK_PROGRAM_END;
        P(pg, "<g class=\"mark %s\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
              "stroke=\"%s\" stroke-dasharray=\"2 2\"/><title>",
          end ? "program-end" : "other", X(m->time), X(m->time), MT, CH - MB,
          end ? "#c0392b" : "#8e44ad");
        lit(pg, end ? "program end: " : rs_mark_kind_name(m->kind));
        lit(pg, end ? "" : ": ");
        if (end)
            ctext(pg, rs_program_end_name(m));
        else
            rs_html_text(pg->b, m->label.s ? m->label.s : "", m->label.len, 120);
        P(pg, " at %s</title></g>\n", rs_fmt_duration(a, m->time));
    }
#undef X
#undef Y
    lit(pg, "</svg>\n<div class=\"legend\">");
    if (r->python)
        lit(pg, "<span><i style=\"background:#1d232b\"></i>all live bytes</span>"
                "<span><i style=\"background:#3b78c3\"></i>Python allocator domains "
                "(PyObject, PyMem)</span>"
                "<span><i style=\"background:#d9822b\"></i>native (malloc, mmap...)</span>");
    else
        lit(pg, "<span><i style=\"background:#1d232b\"></i>live bytes</span>");
    lit(pg, "<span><i style=\"background:#2e8b57\"></i>snapshot (S1, S2...)</span>"
            "<span><i style=\"background:#c0392b\"></i>program end, peak</span></div>\n");
    P(pg, "<p class=\"note\">Each point is the largest value in a %s interval (%zu "
          "intervals over %s events), so no peak is lost. Hover a mark for its label.</p>\n",
      rs_fmt_duration(a, tl->width), tl->n, rs_fmt_count(b, tl->events));
    note(pg, "Garbage-collection marks are not drawn: the trace records no collection "
             "events (only snapshots taken after a collection, with REFSCOPE_SNAPSHOT_GC).");
    if (total > drawn)
        cut(pg, "%zu of %zu marks drawn", drawn, total);
    lit(pg, "</section>\n");
}

struct growth_pick {
    const struct rs_growth_row *row;
    int64_t change;
};

static int by_change(const void *a, const void *b)
{
    const struct growth_pick *x = a, *y = b;
    if (x->change != y->change)
        return x->change > y->change ? -1 : 1;
    return strcmp(x->row->key, y->row->key);
}

static void growth_section(struct page *pg)
{
    if (!pg->have_growth || pg->gr.nsnaps == 0)
        return;
    const struct rs_growth *gr = &pg->gr;
    size_t ns = gr->nsnaps, last = ns - 1;
    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    lit(pg, "<section id=\"growth\"><h2>Objects per type over the snapshots</h2>\n");
    struct growth_pick *pk = calloc(gr->ntypes ? gr->ntypes : 1, sizeof *pk);
    if (!pk) {
        note(pg, "(out of memory)");
        lit(pg, "</section>\n");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < gr->ntypes; i++) {
        int64_t ch = (int64_t)(gr->types[i].count[last] - gr->types[i].count[0]);
        if (ns == 1)
            ch = (int64_t)gr->types[i].count[0]; /* one snapshot: the most numerous */
        if (ch > 0)
            pk[n++] = (struct growth_pick){&gr->types[i], ch};
    }
    rs_qsort(pk, n, sizeof *pk, by_change);
    size_t nchart = n < RS_HTML_MAX_GROWTH_TYPES ? n : RS_HTML_MAX_GROWTH_TYPES;
    if (ns == 1)
        note(pg, "Only one complete snapshot: nothing to compare, so the most numerous types "
                 "are listed. Take more (refscope.snapshot(), REFSCOPE_SNAPSHOT_INTERVAL) to "
                 "see growth.");
    if (ns >= 2 && nchart) {
        uint64_t ymax_u = 1;
        for (size_t k = 0; k < nchart; k++)
            for (size_t i = 0; i < ns; i++)
                if (pk[k].row->count[i] > ymax_u)
                    ymax_u = pk[k].row->count[i];
        double ymax = (double)ymax_u * 1.08, pw = CW - ML - MR, ph = CH - MT - MB;
        P(pg, "<svg class=\"chart\" id=\"growth-chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
              "aria-label=\"objects per type over the snapshots\">\n", CW, CH);
        y_axis(pg, ymax, false);
        size_t every = ns > 24 ? (ns + 23) / 24 : 1;
        for (size_t i = 0; i < ns; i += every) {
            double x = ML + pw * (ns > 1 ? (double)i / (double)(ns - 1) : 0.5);
            P(pg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">S%u<title>", x,
              CH - MB + 16, (unsigned)gr->snaps[i]->id);
            rs_html_text(pg->b, gr->snaps[i]->label.s ? gr->snaps[i]->label.s : "",
                         gr->snaps[i]->label.len, 120);
            lit(pg, "</title></text>");
        }
        for (size_t k = 0; k < nchart; k++) {
            P(pg, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" d=\"", palette[k % 8]);
            for (size_t i = 0; i < ns; i++) {
                double x = ML + pw * (double)i / (double)(ns - 1);
                P(pg, "%s%.1f %.1f", i ? " L" : "M", x,
                  CH - MB - ph * (double)pk[k].row->count[i] / ymax);
            }
            lit(pg, "\"><title>");
            ctext(pg, rs_type_display(pk[k].row->key, false));
            lit(pg, "</title></path>\n");
        }
        lit(pg, "</svg>\n");
    }
    lit(pg, "<table id=\"growth-table\"><tr><th></th><th>type</th>");
    if (ns >= 2)
        lit(pg, "<th class=\"num\">first</th>");
    lit(pg, "<th class=\"num\">last</th>");
    if (ns >= 2)
        lit(pg, "<th class=\"num\">change</th>");
    lit(pg, "<th class=\"num\">size (last)</th><th>counts per snapshot</th></tr>\n");
    size_t rows = n < RS_HTML_MAX_ROWS ? n : RS_HTML_MAX_ROWS;
    for (size_t k = 0; k < rows; k++) {
        const struct rs_growth_row *row = pk[k].row;
        if (k < nchart)
            P(pg, "<tr><td><i style=\"display:inline-block;width:12px;height:3px;background:%s;"
                  "vertical-align:middle\"></i></td><td><code>", palette[k % 8]);
        else
            lit(pg, "<tr><td></td><td><code>");
        ctext(pg, rs_type_display(row->key, false));
        lit(pg, "</code>");
        if (row->suspect)
            lit(pg, " <span class=\"badge fail\">grows steadily</span>");
        lit(pg, "</td>");
        if (ns >= 2)
            td_num(pg, rs_fmt_count(a, row->count[0]));
        td_num(pg, rs_fmt_count(a, row->count[last]));
        if (ns >= 2) {
            snprintf(b, sizeof b, "+%s", rs_fmt_count(a, (uint64_t)pk[k].change));
            td_num(pg, b);
        }
        td_num(pg, rs_fmt_bytes(a, row->size[last]));
        lit(pg, "<td class=\"mono\">");
        size_t shown = ns > 12 ? 12 : ns;
        for (size_t i = 0; i < shown; i++)
            P(pg, "%s%s", i ? " &rarr; " : "", rs_fmt_count(a, row->count[ns - shown + i]));
        if (shown < ns)
            P(pg, " (last %zu of %zu)", shown, ns);
        lit(pg, "</td></tr>\n");
    }
    lit(pg, "</table>\n");
    if (n > rows)
        cut(pg, "%zu of the %zu types that %s listed", rows, n, ns >= 2 ? "grew are" : "have objects are");
    free(pk);
    lit(pg, "</section>\n");
}

/* ---- leak suspects ------------------------------------------------------------------ */

static void suspects_section(struct page *pg)
{
    if (!pg->r.trace->snapshots)
        return;
    char a[RS_NUM_BUF];
    lit(pg, "<section id=\"suspects\"><h2>Leak suspects</h2>\n");
    if (!pg->sus) {
        note(pg, pg->snap_err[0] ? pg->snap_err : "(out of memory)");
        lit(pg, "</section>\n");
        return;
    }
    const struct rs_suspects *S = pg->sus;
    size_t n = rs_suspects_n(S), ns = rs_suspects_nsnaps(S);
    const struct rs_snap_info *si = rs_suspects_snapshot(S);
    note(pg, "Types whose objects grow steadily across the object-graph snapshots, or that "
             "have objects kept alive by references no recorded object holds (a C extension's "
             "missing Py_DECREF). Click a row for the chain of references that keeps one of "
             "them alive.");
    if (!n) {
        lit(pg, "<p>None.");
        if (rs_suspects_note(S)[0]) {
            lit(pg, " <span class=\"note\">(");
            ctext(pg, rs_suspects_note(S));
            lit(pg, ")</span>");
        }
        lit(pg, "</p>\n</section>\n");
        return;
    }
    lit(pg, "<table id=\"suspects-table\"><tr><th>#</th><th>type</th><th>why</th>"
            "<th class=\"num\">count</th><th class=\"num\">size</th>"
            "<th class=\"num\">retained</th><th>top allocation site</th>"
            "<th>count per snapshot</th></tr>\n");
    for (size_t k = 0; k < n; k++) {
        struct rs_suspect_view v;
        rs_suspects_get(S, k, &v);
        P(pg, "<tr class=\"expandable suspect%s\" data-detail=\"suspect-%zu\"><td>%zu</td>"
              "<td class=\"type\"><code>",
          k == 0 ? " open" : "", k + 1, k + 1);
        ctext(pg, rs_type_display(v.type, false));
        lit(pg, "</code></td><td>");
        if (v.leaked)
            lit(pg, "<span class=\"badge fail\">leaked</span> ");
        if (v.growing)
            lit(pg, "<span class=\"badge fail\">grows steadily</span>");
        if (v.grows_in_size)
            lit(pg, "<span class=\"badge fail\">grows steadily in size</span>");
        lit(pg, "</td>");
        td_num(pg, rs_fmt_count(a, v.count));
        td_num(pg, rs_fmt_bytes(a, v.size));
        td_num(pg, rs_fmt_bytes(a, v.retained));
        lit(pg, "<td class=\"site mono\">");
        if (v.site) {
            ctext(pg, v.site->text);
            if (v.grows_in_size) {
                P(pg, " <span class=\"note\">(the largest, %s)</span>", rs_fmt_bytes(a, v.largest));
                if (v.fills_at) {
                    lit(pg, "<br>fills up at ");
                    ctext(pg, v.fills_at->text);
                }
            }
            else
                P(pg, " <span class=\"note\">(%s of them)</span>", rs_fmt_count(a, v.site_count));
        } else {
            lit(pg, "&mdash;");
        }
        lit(pg, "</td><td class=\"mono\">");
        size_t shown = ns > 10 ? 10 : ns;
        for (size_t i = 0; i < shown; i++)
            P(pg, "%s%s", i ? " &rarr; " : "",
              v.grows_in_size ? rs_fmt_bytes(a, v.sizes[ns - shown + i])
                              : rs_fmt_count(a, v.counts[ns - shown + i]));
        lit(pg, "</td></tr>\n");
        P(pg, "<tr class=\"detail\" id=\"suspect-%zu\"%s><td></td><td colspan=\"7\">", k + 1,
          k == 0 ? "" : " hidden");
        if (!v.nchain) {
            note(pg, "No chain from a module or a thread's frame reaches these objects.");
        } else {
            /* the chain's objects in the loaded snapshot, found by address */
            uint32_t *nodes = calloc(v.nchain, sizeof *nodes);
            struct rs_snap_edge_ref *edges = calloc(v.nchain, sizeof *edges);
            bool found = nodes && edges && pg->have_graph && si == pg->g.info;
            for (size_t i = 0; found && i < v.nchain; i++) {
                struct rs_suspect_step st;
                rs_suspects_step(S, k, i, &st);
                nodes[i] = rs_snap_find_addr(&pg->g, st.addr);
                found = nodes[i] != RS_SNAP_NONE;
                if (found && i) {
                    edges[i - 1] = *st.edge; /* shares the text: not freed here */
                    edges[i - 1].from = nodes[i - 1];
                    edges[i - 1].to = nodes[i];
                }
            }
            if (found) {
                if (v.root_kind == RS_SROOT_THREAD && v.root_name[0]) {
                    lit(pg, "<p class=\"note\">held by a frame of thread <code>");
                    ctext(pg, v.root_name);
                    lit(pg, "</code></p>");
                }
                chain_html(pg, nodes, v.nchain, edges, v.root_kind, 's');
            } else {
                note(pg, "(the chain's objects could not be found again in the snapshot)");
            }
            free(nodes);
            free(edges);
        }
        lit(pg, "</td></tr>\n");
    }
    lit(pg, "</table>\n");
    if (si)
        P(pg, "<p class=\"note\">Counts, sizes and chains from snapshot %u; retained: the bytes "
              "that would be freed if all of a type's objects went (dominator tree). At most "
              "%d suspects are listed.</p>\n",
          (unsigned)si->id, RS_SUSPECTS_MAX);
    if (rs_suspects_note(S)[0]) {
        lit(pg, "<p class=\"note warn\">");
        ctext(pg, rs_suspects_note(S));
        lit(pg, "</p>\n");
    }
    lit(pg, "</section>\n");
}

/* ---- leaked memory by allocation site ----------------------------------------------- */

static const char *line_kind_label(const struct rs_report_line *l)
{
    switch (l->kind) {
    case RS_LINE_NO_STACK:
        return l->flags & RS_GROUP_AFTER_PROGRAM_END ? "no stack: interpreter teardown"
                                                     : "no stack recorded";
    case RS_LINE_UNKNOWN_STACK: return "stack not in the trace";
    case RS_LINE_NO_FRAMES: return "no frames";
    default: return "";
    }
}

/* The objects of the snapshot allocated at a Python line: the chain to the one closest to
 * a root. */
static void site_chain(struct page *pg, const struct rs_frame *f)
{
    const struct rs_snap_graph *g = &pg->g;
    uint32_t *targets = malloc((g->n ? g->n : 1) * sizeof *targets);
    if (!targets)
        return;
    size_t nt = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        if (pg->site[v] == RS_SITE_UNKNOWN)
            continue;
        const struct rs_site_name *sn = rs_site_name(pg->names, pg->site[v]);
        const struct rs_frame *sf = sn ? sn->frame : NULL;
        if (sf && sf->python && sf->line == f->line && sf->file && f->file &&
            strcmp(sf->file, f->file) == 0)
            targets[nt++] = v;
    }
    struct rs_chain ch = {0};
    if (nt && rs_snap_backref_chain(g, pg->root_kind, targets, nt, 0, &ch) == 0 && ch.n) {
        struct rs_snap_edge_ref *edges = calloc(ch.n, sizeof *edges);
        char err[256];
        if (edges) {
            for (size_t i = 0; i + 1 < ch.n; i++)
                edges[i] = (struct rs_snap_edge_ref){.from = ch.nodes[i], .to = ch.nodes[i + 1]};
            if (rs_snap_edge_labels(g, &pg->src, edges, ch.n - 1, err, sizeof err) == 0) {
                char a[RS_NUM_BUF];
                P(pg, "<p class=\"note\">%s object%s of the snapshot were allocated here; the "
                      "chain to the one closest to a root:</p>",
                  rs_fmt_count(a, nt), nt == 1 ? "" : "s");
                chain_html(pg, ch.nodes, ch.n, edges, ch.root_kind, 'l');
            } else {
                note(pg, err);
            }
            rs_snap_edge_refs_free(edges, ch.n - 1);
            free(edges);
        }
    } else if (nt) {
        note(pg, "No chain from a root reaches the objects allocated here (garbage, or held "
                 "by objects the snapshot did not record).");
    } else {
        note(pg, "None of the objects allocated here are in the last snapshot (not objects, "
                 "or freed by then).");
    }
    rs_chain_free(&ch);
    free(targets);
}

static void sites_section(struct page *pg)
{
    const struct rs_report *r = &pg->r;
    const struct rs_report_section *s = &r->leaked;
    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    lit(pg, "<section id=\"sites\"><h2>Leaked memory by allocation site</h2>\n");
    P(pg, "<p class=\"note\">What the program left behind (%s in %s blocks, %s), by the line "
          "that allocated it: the innermost Python frame when there is one, else the "
          "innermost native frame.%s</p>\n",
      rs_fmt_bytes(a, s->bytes), rs_fmt_count(b, s->blocks),
      r->program_end ? "at program end" : "at the end of the trace",
      pg->root_kind && pg->site ? " Click a Python site for the chain of references that "
                                  "keeps its objects alive." : "");
    if (!s->nlines) {
        note(pg, "Nothing.");
        lit(pg, "</section>\n");
        return;
    }
    lit(pg, "<table id=\"sites-table\"><tr><th>site</th><th>file</th>"
            "<th class=\"num\">bytes</th><th class=\"num\">blocks</th>"
            "<th class=\"num\">stacks</th></tr>\n");
    size_t rows = s->nlines < RS_HTML_MAX_ROWS ? s->nlines : RS_HTML_MAX_ROWS, chains = 0;
    for (size_t i = 0; i < rows; i++) {
        const struct rs_report_line *l = &s->lines[i];
        bool chain = l->kind == RS_LINE_PYTHON && l->frame && pg->have_graph && pg->site &&
                     pg->root_kind && chains < RS_HTML_MAX_SITE_CHAINS;
        if (chain)
            P(pg, "<tr class=\"expandable site\" data-detail=\"site-%zu\">", i + 1);
        else
            lit(pg, "<tr class=\"site\">");
        lit(pg, "<td>");
        if (l->frame) {
            P(pg, "<span class=\"badge\">%s</span> ", l->frame->python ? "Python" : "native");
            frame_html(pg, l->frame);
        } else {
            ctext(pg, line_kind_label(l));
        }
        lit(pg, "</td><td class=\"mono\">");
        if (l->frame && l->frame->file)
            ctext(pg, l->frame->file);
        else if (l->frame && l->frame->module_path)
            ctext(pg, l->frame->module_path);
        lit(pg, "</td>");
        td_num(pg, rs_fmt_bytes(a, l->bytes));
        td_num(pg, rs_fmt_count(a, l->blocks));
        snprintf(a, sizeof a, "%zu", l->stacks);
        td_num(pg, a);
        lit(pg, "</tr>\n");
        if (chain) {
            P(pg, "<tr class=\"detail\" id=\"site-%zu\" hidden><td colspan=\"5\">", i + 1);
            site_chain(pg, l->frame);
            lit(pg, "</td></tr>\n");
            chains++;
        }
    }
    lit(pg, "</table>\n");
    if (s->nlines > rows)
        cut(pg, "%zu of %zu allocation sites listed (the largest)", rows, s->nlines);
    lit(pg, "</section>\n");
}

/* ---- flame graph -------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

struct tid_bytes {
    uint32_t tid;
    uint64_t bytes;
};

static int tid_heaviest(const void *a, const void *b)
{
    const struct tid_bytes *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static const char *group_leaf(const struct rs_report *r, const struct rs_live_group *gr)
{
    if (gr->stack_id != RS_STACK_ID_NONE)
        return "(stack not in the trace)";
    if (!r->python)
        return "(no stack recorded)";
    return gr->flags & RS_GROUP_AFTER_PROGRAM_END ? "(no stack: interpreter teardown)"
                                                  : "(no stack: interpreter start-up)";
}

/* Trees for one point: all threads, then the heaviest threads one by one. Returns 0, -1
 * when out of memory; *threads_cut gets the threads without a tree of their own. */
static int flame_point(struct page *pg, struct rs_flame *f, const char *point,
                       const struct rs_live_point *pt, const uint32_t *skip, size_t nskip,
                       size_t *threads_cut)
{
    const struct rs_report *r = &pg->r;
    struct tid_bytes *tb = calloc(pt->ngroups ? pt->ngroups : 1, sizeof *tb);
    size_t ntb = 0;
    if (!tb || rs_flame_tree(f, point, "all threads", RS_HTML_FLAME_NODES) < 0)
        goto nomem;
    for (size_t i = 0; i < pt->ngroups; i++) {
        const struct rs_live_group *gr = &pt->groups[i];
        if (nskip && bsearch(&gr->stack_id, skip, nskip, sizeof *skip, cmp_u32))
            continue;
        if (rs_flame_add(f, gr->stack_id, group_leaf(r, gr), gr->bytes, gr->blocks))
            goto nomem;
        size_t k = 0;
        while (k < ntb && tb[k].tid != gr->tid)
            k++;
        if (k == ntb)
            tb[ntb++] = (struct tid_bytes){gr->tid, 0};
        tb[k].bytes += gr->bytes;
    }
    rs_qsort(tb, ntb, sizeof *tb, tid_heaviest);
    size_t nthreads = ntb > 1 ? ntb : 0; /* one thread: "all threads" says it all */
    if (nthreads > RS_HTML_MAX_FLAME_THREADS) {
        *threads_cut += nthreads - RS_HTML_MAX_FLAME_THREADS;
        nthreads = RS_HTML_MAX_FLAME_THREADS;
    }
    for (size_t k = 0; k < nthreads; k++) {
        char label[200];
        thread_label(r->trace, tb[k].tid, label, sizeof label);
        if (rs_flame_tree(f, point, label, RS_HTML_FLAME_THREAD_NODES) < 0)
            goto nomem;
        for (size_t i = 0; i < pt->ngroups; i++) {
            const struct rs_live_group *gr = &pt->groups[i];
            if (gr->tid != tb[k].tid ||
                (nskip && bsearch(&gr->stack_id, skip, nskip, sizeof *skip, cmp_u32)))
                continue;
            if (rs_flame_add(f, gr->stack_id, group_leaf(r, gr), gr->bytes, gr->blocks))
                goto nomem;
        }
    }
    free(tb);
    return 0;
nomem:
    free(tb);
    return -1;
}

static void flame_section(struct page *pg)
{
    const struct rs_report *r = &pg->r;
    const struct rs_replay *p = &r->replay;
    lit(pg, "<section id=\"flame-section\"><h2>Flame graph of live allocations</h2>\n");
    const struct rs_live_point *exit_pt = p->has_program_end ? &p->program_end : &p->end;
    if (!exit_pt->valid || (!exit_pt->ngroups && !p->peak.ngroups)) {
        note(pg, "Nothing was live.");
        lit(pg, "</section>\n");
        return;
    }
    /* the C runtime's stacks, left out at exit as in the report */
    size_t nskip = r->leaked.nruntime_totals;
    uint32_t *skip = calloc(nskip ? nskip : 1, sizeof *skip);
    struct rs_flame *f = rs_flame_new(r->trace, r->sym);
    size_t threads_cut = 0;
    if (!skip || !f) {
        note(pg, "(out of memory)");
        goto out;
    }
    for (size_t i = 0; i < nskip; i++)
        skip[i] = r->leaked.runtime_totals[i].stack_id;
    rs_qsort(skip, nskip, sizeof *skip, cmp_u32);
    if (flame_point(pg, f, "exit", exit_pt, skip, nskip, &threads_cut) ||
        (p->peak.valid && flame_point(pg, f, "peak", &p->peak, NULL, 0, &threads_cut))) {
        note(pg, "(out of memory)");
        goto out;
    }
    P(pg, "<p class=\"note\">The allocation stacks of the blocks still live %s and at the peak "
          "of live memory, outermost frame at the top; a frame's width is the bytes allocated "
          "under it. <span style=\"background:#a9c7ec\">&nbsp;Python&nbsp;</span> and "
          "<span style=\"background:#f3c48f\">&nbsp;native&nbsp;</span> frames; click a "
          "frame to zoom in, search to highlight.%s</p>\n",
      r->program_end ? "at program end" : "at the end of the trace",
      nskip ? " The C runtime's blocks are left out at exit, as in refscope report." : "");
    lit(pg, "<div class=\"controls\"><label>when <select id=\"flame-point\"></select></label>"
            "<label>thread <select id=\"flame-thread\"></select></label>"
            "<input type=\"search\" id=\"flame-search\" placeholder=\"search frames\" "
            "aria-label=\"search frames\">"
            "<button type=\"button\" id=\"flame-reset\">reset</button></div>\n"
            "<div id=\"flame-info\"></div><div id=\"flame\"></div>\n");
    P(pg, "<p class=\"note\">At most %d frames per graph (%d per thread) are kept, the "
          "heaviest; the rest are merged into &ldquo;(smaller frames, merged)&rdquo;.</p>\n",
      RS_HTML_FLAME_NODES / 2, RS_HTML_FLAME_THREAD_NODES / 2);
    if (threads_cut)
        cut(pg, "%zu threads have no flame graph of their own (only the %d heaviest do); "
                "they are in \"all threads\"",
            threads_cut, RS_HTML_MAX_FLAME_THREADS);
    lit(pg, "<script type=\"application/json\" id=\"flame-data\">");
    rs_flame_json(f, pg->b);
    lit(pg, "</script>\n");
out:
    rs_flame_free(f);
    free(skip);
    lit(pg, "</section>\n");
}

/* ---- cycles ------------------------------------------------------------------------- */

static const char *class_title(enum rs_cycle_class c)
{
    switch (c) {
    case RS_CYCLE_UNCOLLECTABLE: return "uncollectable (held by gc.garbage)";
    case RS_CYCLE_LEAKED: return "leaked (kept alive by references no recorded object holds)";
    case RS_CYCLE_GARBAGE: return "cyclic garbage (the collector would free it)";
    default: return "?";
    }
}

static void site_cell(struct page *pg, uint32_t site)
{
    const struct rs_site_name *sn = pg->names ? rs_site_name(pg->names, site) : NULL;
    if (sn)
        ctext(pg, sn->text);
    else
        lit(pg, "&mdash;");
}

static void cycles_section(struct page *pg)
{
    if (!pg->r.trace->snapshots)
        return;
    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    lit(pg, "<section id=\"cycles\"><h2>Unreachable reference cycles</h2>\n");
    if (!pg->have_cycles) {
        note(pg, pg->snap_err[0] ? pg->snap_err : "(out of memory)");
        lit(pg, "</section>\n");
        return;
    }
    const struct rs_cycles *cy = &pg->cy;
    P(pg, "<p class=\"note\">In snapshot %u: objects the garbage collector tracks that no "
          "module and no thread reaches (%s of them), in cycles, by class.</p>\n",
      (unsigned)pg->g.info->id, rs_fmt_count(a, cy->unreachable));
    lit(pg, "<table id=\"cycle-summary\"><tr><th>class</th><th class=\"num\">cycles</th>"
            "<th class=\"num\">objects</th><th class=\"num\">size</th></tr>\n");
    for (int k = 0; k < RS_CYCLE_CLASSES; k++) {
        lit(pg, "<tr><td>");
        lit(pg, class_title((enum rs_cycle_class)k));
        lit(pg, "</td>");
        td_num(pg, rs_fmt_count(a, cy->ncycles[k]));
        td_num(pg, rs_fmt_count(a, cy->in_cycles[k]));
        td_num(pg, rs_fmt_bytes(a, cy->size[k]));
        lit(pg, "</tr>\n");
    }
    lit(pg, "</table>\n");
    size_t shown = cy->ngroups < RS_HTML_MAX_CYCLES ? cy->ngroups : RS_HTML_MAX_CYCLES;
    if (shown) {
        lit(pg, "<h3>Each kind of cycle, one of them drawn</h3>\n"
                "<table id=\"cycles-table\"><tr><th>#</th><th>class</th>"
                "<th class=\"num\">cycles</th><th class=\"num\">objects each</th>"
                "<th class=\"num\">size</th><th>types</th><th>allocation sites</th></tr>\n");
    }
    for (size_t i = 0; i < shown; i++) {
        const struct rs_cycle_group *gr = &cy->groups[i];
        P(pg, "<tr class=\"expandable cycle%s\" data-detail=\"cycle-%zu\"><td>%zu</td><td>%s%s"
              "</td>",
          i < 3 ? " open" : "", i + 1, i + 1, rs_cycle_class_name(gr->cls),
          gr->finalizer ? " <span class=\"badge fail\">__del__</span>" : "");
        td_num(pg, rs_fmt_count(a, gr->cycles));
        td_num(pg, rs_fmt_count(a, gr->members));
        td_num(pg, rs_fmt_bytes(a, gr->size));
        lit(pg, "<td>");
        for (size_t t = 0; t < gr->ntypes && t < 5; t++) {
            P(pg, "%s%s&times;<code>", t ? ", " : "", rs_fmt_count(b, gr->types[t].count));
            ctext(pg, rs_type_display(gr->types[t].name, false));
            lit(pg, "</code>");
        }
        if (gr->ntypes > 5)
            P(pg, ", &hellip; (%zu more)", gr->ntypes - 5);
        lit(pg, "</td><td class=\"mono\">");
        for (size_t t = 0; t < gr->nsites && t < 3; t++) {
            P(pg, "%s%s&times; ", t ? "<br>" : "", rs_fmt_count(b, gr->sites[t].count));
            site_cell(pg, gr->sites[t].site);
        }
        if (gr->nsites > 3)
            P(pg, "<br>&hellip; (%zu more)", gr->nsites - 3);
        lit(pg, "</td></tr>\n");
        P(pg, "<tr class=\"detail\" id=\"cycle-%zu\"%s><td></td><td colspan=\"6\">", i + 1,
          i < 3 ? "" : " hidden");
        struct rs_strbuf dot = {0};
        char err[256];
        int rc = rs_cycles_dot(&dot, &pg->g, &pg->src, gr, 1, RS_HTML_MAX_CYCLE_MEMBERS,
                               pg->site, pg->names, NULL, err, sizeof err);
        if (rc == -1)
            note(pg, err);
        else if (rc)
            note(pg, "(out of memory)");
        else
            svg_from_dot(pg, &dot, 'c');
        if (gr->nexample > RS_HTML_MAX_CYCLE_MEMBERS)
            cut(pg, "%zu of the cycle's %llu objects drawn", (size_t)RS_HTML_MAX_CYCLE_MEMBERS,
                (unsigned long long)gr->members);
        rs_sb_free(&dot);
        lit(pg, "</td></tr>\n");
    }
    if (shown)
        lit(pg, "</table>\n");
    if (cy->ngroups > shown)
        cut(pg, "%zu of %zu kinds of cycles listed and drawn", shown, cy->ngroups);
    if (!cy->ngroups)
        lit(pg, "<p>No unreachable cycles.</p>\n");
    if (cy->nleaked) {
        P(pg, "<h3>Leaked references</h3><p class=\"note\">Single objects no module or thread "
              "reaches, with more references than the recorded objects hold (%s objects, %s)."
              "</p>\n<table id=\"leaked-refs\"><tr><th>type</th><th>allocation site</th>"
              "<th class=\"num\">count</th><th class=\"num\">size</th></tr>\n",
          rs_fmt_count(a, cy->leaked_objects), rs_fmt_bytes(b, cy->leaked_size));
        size_t rows = cy->nleaked < RS_HTML_MAX_ROWS ? cy->nleaked : RS_HTML_MAX_ROWS;
        for (size_t i = 0; i < rows; i++) {
            lit(pg, "<tr><td><code>");
            ctext(pg, rs_type_display(cy->leaked[i].name, false));
            lit(pg, "</code></td><td class=\"mono\">");
            site_cell(pg, cy->leaked[i].site);
            lit(pg, "</td>");
            td_num(pg, rs_fmt_count(a, cy->leaked[i].count));
            td_num(pg, rs_fmt_bytes(a, cy->leaked[i].size));
            lit(pg, "</tr>\n");
        }
        lit(pg, "</table>\n");
        if (cy->nleaked > rows)
            cut(pg, "%zu of %zu rows listed", rows, cy->nleaked);
    }
    lit(pg, "</section>\n");
}

/* ---- threads ------------------------------------------------------------------------ */

static const struct rs_report_thread_total *section_thread(const struct rs_report_section *s,
                                                           uint32_t tid)
{
    for (size_t i = 0; i < s->nthreads; i++)
        if (s->threads[i].tid == tid)
            return &s->threads[i];
    return NULL;
}

static void threads_section(struct page *pg)
{
    const struct rs_report *r = &pg->r;
    char a[RS_NUM_BUF];
    lit(pg, "<section id=\"threads\"><h2>Threads</h2>\n<table id=\"threads-table\"><tr>"
            "<th>tid</th><th>name</th><th class=\"num\">allocations</th>"
            "<th class=\"num\">allocated</th><th class=\"num\">left at exit</th>"
            "<th class=\"num\">live at peak</th><th></th></tr>\n");
    size_t rows = r->nthreads < 200 ? r->nthreads : 200;
    for (size_t i = 0; i < rows; i++) {
        const struct rs_trace_thread *th = r->threads[i];
        const struct rs_thread_activity *act = rs_replay_thread(&r->replay, th->tid);
        const struct rs_report_thread_total *lk = section_thread(&r->leaked, th->tid);
        const struct rs_report_thread_total *pk = section_thread(&r->at_peak, th->tid);
        P(pg, "<tr><td class=\"num\">%u</td><td>", (unsigned)th->tid);
        rtext(pg, rs_thread_name(th));
        lit(pg, "</td>");
        td_num(pg, rs_fmt_count(a, act ? act->allocs : 0));
        td_num(pg, rs_fmt_bytes(a, act ? act->alloc_bytes : 0));
        td_num(pg, rs_fmt_bytes(a, lk ? lk->bytes : 0));
        td_num(pg, rs_fmt_bytes(a, pk ? pk->bytes : 0));
        P(pg, "<td>%s%s%s</td></tr>\n", th->flags & RS_THREAD_MAIN ? "main " : "",
          th->flags & RS_THREAD_EXITED ? "exited " : "",
          th->flags & RS_THREAD_REFSCOPE ? "refscope's own" : "");
    }
    lit(pg, "</table>\n");
    if (r->nthreads > rows)
        cut(pg, "%zu of %zu threads listed", rows, r->nthreads);
    lit(pg, "</section>\n");
}

/* ---- the page ----------------------------------------------------------------------- */

/* 32 hex digits from the kernel's random numbers (or, failing that, the clock). */
static void make_nonce(char *out, size_t cap)
{
    unsigned char r[16] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(r, 1, sizeof r, f) : 0;
    if (f)
        fclose(f);
    if (got != sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec * 6364136223846793005ULL ^ (uint64_t)ts.tv_sec;
        for (size_t i = 0; i < sizeof r; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            r[i] = (unsigned char)(x >> 56);
    }
    for (size_t i = 0; i < sizeof r && 2 * i + 2 < cap; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

int rs_html_report(const char *path, const struct rs_html_options *o, struct rs_strbuf *page,
                   char *err, size_t errcap)
{
    struct page pg = {.b = page, .path = path, .opt = o};
    struct rs_read_error rerr;
    if (!(pg.tl = malloc(sizeof *pg.tl))) {
        snprintf(err, errcap, "out of memory");
        return 1;
    }
    rs_timeline_init(pg.tl);
    struct rs_report_options ropt = {
        .top = RS_HTML_MAX_ROWS,
        .stack_depth = RS_REPORT_DEFAULT_DEPTH,
        .timeline = pg.tl,
        .suspects = true,
    };
    if (rs_report_build(&pg.r, path, &ropt, &rerr) != 0) {
        snprintf(err, errcap, "%s", rerr.message);
        free(pg.tl);
        return 1;
    }
    if (pg.r.trace->nevents && pg.r.sym)
        pg.names = rs_site_names_new(pg.r.trace, pg.r.sym);
    load_snapshots(&pg);

    const char *prog = program_name(pg.r.trace);
    lit(&pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "style-src 'unsafe-inline'; img-src data:; script-src 'nonce-");
    /* Only the page's own script runs: it carries a fresh nonce, anything injected would
     * not (and inline event handlers are refused). */
    char nonce[40];
    make_nonce(nonce, sizeof nonce);
    lit(&pg, nonce);
    lit(&pg, "'\">\n<title>refscope: ");
    ctext(&pg, prog);
    lit(&pg, "</title>\n<style>\n");
    lit(&pg, rs_html_css);
    lit(&pg, "</style>\n</head>\n<body>\n<header><h1>refscope: <span id=\"program\">");
    ctext(&pg, prog);
    lit(&pg, "</span></h1><div class=\"sub\">");
    char a[RS_NUM_BUF];
    if (pg.r.python)
        lit(&pg, "Python program");
    else
        lit(&pg, "native program");
    P(&pg, " &middot; ran %s &middot; trace ", rs_fmt_duration(a, pg.r.duration_ns));
    ctext(&pg, status_text(pg.r.status));
    lit(&pg, "</div></header>\n<nav><a href=\"#summary\">summary</a>"
             "<a href=\"#memory\">memory</a>");
    if (pg.have_growth)
        lit(&pg, "<a href=\"#growth\">growth</a>");
    if (pg.r.trace->snapshots)
        lit(&pg, "<a href=\"#suspects\">leak suspects</a>");
    lit(&pg, "<a href=\"#sites\">sites</a><a href=\"#flame-section\">flame graph</a>");
    if (pg.r.trace->snapshots)
        lit(&pg, "<a href=\"#cycles\">cycles</a>");
    lit(&pg, "<a href=\"#threads\">threads</a></nav>\n<main>\n");
    summary_section(&pg);
    memory_section(&pg);
    growth_section(&pg);
    suspects_section(&pg);
    sites_section(&pg);
    flame_section(&pg);
    cycles_section(&pg);
    threads_section(&pg);
    lit(&pg, "</main>\n<footer>Written by refscope " REFSCOPE_VERSION " (<code>refscope html"
             "</code>) from <code>");
    ctext(&pg, path);
    P(&pg, "</code>. One self-contained file: no network, no external script, style or font. "
           "Bounded: %zu place%s above say%s what was left out.</footer>\n",
      pg.cuts, pg.cuts == 1 ? "" : "s", pg.cuts == 1 ? "s" : "");
    P(&pg, "<script nonce=\"%s\">\n", nonce);
    lit(&pg, rs_html_js);
    lit(&pg, "</script>\n</body>\n</html>\n");
    page_free(&pg);
    if (page->failed) {
        snprintf(err, errcap, "out of memory");
        return 1;
    }
    return 0;
}
