#include "snap_dot.h"

#include "escape.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rs_sb_put(struct rs_strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t want = b->cap ? b->cap : 4096;
        while (want < b->len + n + 1)
            want *= 2;
        char *p = realloc(b->s, want);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = want;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void rs_sb_printf(struct rs_strbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        rs_sb_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rs_sb_put(b, big, (size_t)n);
    free(big);
}

void rs_sb_dot_text(struct rs_strbuf *b, const char *s, size_t n)
{
    /* Terminal escaping first (it turns every control character and bad byte into plain
     * ASCII), then DOT's own: the escaped text is at most 6 times longer. */
    size_t cap = n * 6 + 1;
    char *tmp = malloc(cap);
    if (!tmp) {
        b->failed = true;
        return;
    }
    size_t m = rs_escape_to(tmp, cap, s, n);
    for (size_t i = 0; i < m; i++) {
        if (tmp[i] == '"' || tmp[i] == '\\')
            rs_sb_put(b, "\\", 1);
        rs_sb_put(b, tmp + i, 1);
    }
    free(tmp);
}

void rs_sb_free(struct rs_strbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

static void put_fill(struct rs_strbuf *b, unsigned depth, unsigned max_depth, bool module)
{
    /* objgraph's gradient: value 1 at the start, down to 0.3 at max_depth. */
    double f = max_depth ? (double)(depth > max_depth ? max_depth : depth) / max_depth : 0;
    double v = 1.0 - 0.7 * f;
    if (module)
        rs_sb_printf(b, "fillcolor=\"0.3,0.5,%.3f\"", v);
    else
        rs_sb_printf(b, "fillcolor=\"0,0,%.3f\"", v);
}

static void put_edge_label(struct rs_strbuf *b, const struct rs_snap_edge_ref *e)
{
    if (!e || !e->found || (e->kind != RS_SNAP_EDGE_INDEX && (!e->text || !e->len)))
        return;
    rs_sb_put(b, " [label=\"", 9);
    if (e->kind == RS_SNAP_EDGE_INDEX)
        rs_sb_printf(b, "[%llu]", (unsigned long long)e->index);
    else
        rs_sb_dot_text(b, e->text, e->len);
    rs_sb_put(b, "\"]", 2);
}

void rs_dot_graph(struct rs_strbuf *b, const struct rs_snap_graph *g,
                  const struct rs_dot_node *nodes, size_t nn, const struct rs_dot_edge *edges,
                  size_t ne, const struct rs_dot_more *more, size_t nmore, unsigned max_depth,
                  const char *title)
{
    rs_sb_printf(b, "digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white, "
                    "fontname=\"Helvetica\", fontsize=10];\n  edge[fontsize=9];\n");
    if (title) {
        rs_sb_put(b, "  label=\"", 9);
        rs_sb_dot_text(b, title, strlen(title));
        rs_sb_put(b, "\";\n  labelloc=t;\n", 17);
    }
    for (size_t i = 0; i < nn; i++) {
        uint32_t v = nodes[i].v;
        const char *type = rs_snap_type_name(g, v);
        if (strncmp(type, "builtins.", 9) == 0 && type[9])
            type += 9;
        size_t llen;
        const char *label = rs_snap_label(g, v, &llen);
        bool module = (g->flags[v] & RS_NODE_MODULE) != 0;
        bool del = (g->types[g->type[v]].flags &
                    (RS_SNAPTYPE_FINALIZER | RS_SNAPTYPE_LEGACY_DEL)) != 0;
        rs_sb_printf(b, "  o%zu[label=\"", i);
        rs_sb_dot_text(b, type, strlen(type));
        if (llen) {
            rs_sb_put(b, "\\n", 2);
            rs_sb_dot_text(b, label, llen);
        }
        if (del)
            rs_sb_put(b, "\\n__del__", 9);
        if (nodes[i].site) {
            rs_sb_put(b, "\\n", 2);
            rs_sb_dot_text(b, nodes[i].site, strlen(nodes[i].site));
        }
        rs_sb_printf(b, "\", tooltip=\"0x%llx\", ", (unsigned long long)g->addr[v]);
        put_fill(b, nodes[i].depth, max_depth, module);
        if (nodes[i].start)
            rs_sb_put(b, ", fontcolor=red", 15);
        if (del)
            rs_sb_put(b, ", color=red, penwidth=2", 23);
        rs_sb_put(b, "];\n", 3);
    }
    for (size_t i = 0; i < ne; i++) {
        rs_sb_printf(b, "  o%u -> o%u", edges[i].from, edges[i].to);
        put_edge_label(b, edges[i].label);
        rs_sb_put(b, ";\n", 2);
    }
    for (size_t i = 0; i < nmore; i++) {
        const struct rs_dot_more *m = &more[i];
        rs_sb_printf(b,
                     "  more%zu[label=\"%llu more reference%s\", shape=box, height=0.25, "
                     "color=red, fontsize=8, ",
                     i, (unsigned long long)m->count, m->count == 1 ? "" : "s");
        put_fill(b, nodes[m->at].depth + 1, max_depth, false);
        rs_sb_put(b, "];\n", 3);
        if (m->backrefs)
            rs_sb_printf(b, "  more%zu -> o%u[color=red];\n", i, m->at);
        else
            rs_sb_printf(b, "  o%u -> more%zu[color=red];\n", m->at, i);
    }
    rs_sb_put(b, "}\n", 2);
}

/* One Graphviz context for the process, never freed: Graphviz 2.43's pango plugin keeps a
 * pointer to the last font name, which a freed context would leave dangling for the next
 * rendering (a use-after-free ASan sees). It stays reachable, so it is no leak. */
static GVC_t *shared_gvc;

int rs_dot_render(const char *dot, const char *path, const char *format, char *err,
                  size_t errcap)
{
    if (!shared_gvc)
        shared_gvc = gvContext();
    GVC_t *gvc = shared_gvc;
    if (!gvc) {
        snprintf(err, errcap, "cannot start Graphviz");
        return -1;
    }
    Agraph_t *g = agmemread(dot);
    int rc = -1;
    if (!g) {
        snprintf(err, errcap, "Graphviz cannot read the graph");
    } else if (gvLayout(gvc, g, "dot") != 0) {
        snprintf(err, errcap, "Graphviz cannot lay out the graph (is its dot plugin installed?)");
    } else {
        if (gvRenderFilename(gvc, g, format, path) != 0)
            snprintf(err, errcap, "Graphviz cannot render %s to the file (is its %s plugin "
                                  "installed?)", format, format);
        else
            rc = 0;
        gvFreeLayout(gvc, g);
    }
    if (g)
        agclose(g);
    return rc;
}

int rs_dot_render_data(const char *dot, const char *format, char **out, size_t *len, char *err,
                       size_t errcap)
{
    *out = NULL;
    *len = 0;
    if (!shared_gvc)
        shared_gvc = gvContext();
    GVC_t *gvc = shared_gvc;
    if (!gvc) {
        snprintf(err, errcap, "cannot start Graphviz");
        return -1;
    }
    Agraph_t *g = agmemread(dot);
    int rc = -1;
    if (!g) {
        snprintf(err, errcap, "Graphviz cannot read the graph");
    } else if (gvLayout(gvc, g, "dot") != 0) {
        snprintf(err, errcap, "Graphviz cannot lay out the graph (is its dot plugin installed?)");
    } else {
        char *data = NULL;
        unsigned int n = 0;
        if (gvRenderData(gvc, g, format, &data, &n) != 0 || !data) {
            snprintf(err, errcap, "Graphviz cannot render %s (is its %s plugin installed?)",
                     format, format);
        } else if (!(*out = malloc((size_t)n + 1))) {
            snprintf(err, errcap, "out of memory");
        } else {
            memcpy(*out, data, n);
            (*out)[n] = '\0';
            *len = n;
            rc = 0;
        }
        if (data)
            gvFreeRenderData(data);
        gvFreeLayout(gvc, g);
    }
    if (g)
        agclose(g);
    return rc;
}

/* Under LeakSanitizer (the ASan builds of the analyzer and its tests): the font libraries
 * Graphviz renders text with keep process-wide caches they never free. Not ours to free,
 * so not reported. An ordinary build never calls this. */
const char *__lsan_default_suppressions(void) __attribute__((used));
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libpango\nleak:libcairo.so\nleak:libglib\n"
           "leak:libgobject\nleak:libharfbuzz\nleak:libgvplugin_pango\n"
           "leak:libgvplugin_dot_layout\nleak:libgvc.so\n"; /* dot: acyclic() leaks */
}
