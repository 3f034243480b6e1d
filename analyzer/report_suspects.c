#include "report_suspects.h"

#include "escape.h"
#include "format_num.h"
#include "check.h"
#include "python_frames.h"
#include "rs_uthash.h"
#include "snap_analyze.h"
#include "supp_match.h"

#include <stdlib.h>
#include <string.h>

struct chain_step {
    char *node;              /* "list (3 items)", escaped for a terminal */
    char *type;
    char *label;             /* raw, for JSON */
    size_t label_len;
    uint64_t addr;
    struct rs_snap_edge_ref edge; /* to this node (not for the root) */
};

struct suspect {
    char *name;
    bool growing, leaked;
    bool grows_in_size;      /* in bytes, not in number (never with growing: the growth's
                              * row is so only when its count does not grow steadily) */
    uint64_t *counts;        /* per snapshot */
    uint64_t *sizes;         /* per snapshot */
    uint64_t largest;        /* the size of its largest object (grows_in_size) */
    uint32_t largest_node;   /* that object, in the last snapshot */
    const struct rs_site_name *fills_at; /* where its items' block was last (re)allocated */
    uint64_t count, size, retained;
    double grown;            /* the part of `retained` its growth stands for (the order) */
    const struct rs_site_name *site;
    uint64_t site_count;
    struct chain_step *chain;
    size_t nchain;
    uint8_t root_kind;
    char *root_name;
};

struct rs_suspects {
    size_t nsnaps;
    const struct rs_snap_info *last;
    struct suspect *v;
    size_t n;
    char note[512];          /* why there is nothing, or what went wrong */
    struct rs_site_names *names;
    struct rs_notes notes;
};

static void free_suspect(struct suspect *s)
{
    free(s->name);
    free(s->counts);
    free(s->sizes);
    for (size_t i = 0; i < s->nchain; i++) {
        free(s->chain[i].node);
        free(s->chain[i].type);
        free(s->chain[i].label);
        free(s->chain[i].edge.text);
    }
    free(s->chain);
    free(s->root_name);
}

void rs_suspects_free(struct rs_suspects *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free_suspect(&s->v[i]);
    free(s->v);
    rs_site_names_free(s->names);
    rs_notes_free(&s->notes);
    free(s);
}

static struct suspect *find_or_add(struct rs_suspects *S, const char *name, size_t nsnaps)
{
    for (size_t i = 0; i < S->n; i++) {
        if (strcmp(S->v[i].name, name) == 0)
            return &S->v[i];
    }
    struct suspect *p = realloc(S->v, (S->n + 1) * sizeof *p);
    if (!p)
        return NULL;
    S->v = p;
    struct suspect *s = &S->v[S->n];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    s->counts = calloc(nsnaps ? nsnaps : 1, sizeof *s->counts);
    s->sizes = calloc(nsnaps ? nsnaps : 1, sizeof *s->sizes);
    if (!s->name || !s->counts || !s->sizes) {
        free(s->name);
        free(s->counts);
        free(s->sizes);
        return NULL;
    }
    S->n++;
    return s;
}

/* What a suspect's growth retains, for the order: its retained bytes times the part of its
 * count (of its bytes, when it grows in size) gained since the series' low. A type of which
 * one big container holds the leak (a set of tasks) retains it all, yet when only a few of
 * its many objects are new, most of what it retains is not its growth: the tasks come
 * first. */
static double grown_share(const struct suspect *s, size_t nsnaps)
{
    const uint64_t *v = s->grows_in_size ? s->sizes : s->counts;
    if (!nsnaps || !(s->growing || s->grows_in_size) || !v[nsnaps - 1])
        return 0;
    uint64_t low = v[0];
    for (size_t i = 1; i < nsnaps; i++)
        low = v[i] < low ? v[i] : low;
    return (double)s->retained * (double)(v[nsnaps - 1] - low) / (double)v[nsnaps - 1];
}

static int by_suspect(const void *a, const void *b)
{
    const struct suspect *x = a, *y = b;
    if (x->leaked != y->leaked)
        return x->leaked ? -1 : 1;
    if (x->grown != y->grown)
        return x->grown > y->grown ? -1 : 1;
    if (x->retained != y->retained)
        return x->retained > y->retained ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The suppressions `refscope check` uses by default (check_config.c): the suspects leave out
 * what the check leaves out (the interpreter's caches, objects its start-up or imports made,
 * what the thread state holds...), so that a program the check passes has no suspects. */
struct quiet {
    struct rs_check_config cfg;
    struct rs_supp_matcher match;
    uint8_t *type_ok;        /* of the snapshot being counted: [type * nsupp + s] */
    uint8_t *excluded;       /* of the snapshot being counted (rs_snap_growth_excluded) */
};

static int quiet_init(struct quiet *q, const struct rs_trace *t, struct rs_symbolizer *sym,
                      struct rs_site_names *names)
{
    memset(q, 0, sizeof *q);
    rs_check_config_init(&q->cfg);
    if (rs_check_config_finish(&q->cfg) != 0)
        return -1;
    rs_supp_matcher_init(&q->match, q->cfg.supp, q->cfg.nsupp, rs_trace_is_python(t), t, sym,
                         names);
    return 0;
}

static void quiet_free(struct quiet *q)
{
    rs_supp_matcher_free(&q->match);
    rs_check_config_free(&q->cfg);
    free(q->type_ok);
    free(q->excluded);
}

static bool quiet_hit(struct quiet *q, enum rs_check_rule rule, const char *type, uint32_t site)
{
    return rs_supp_matcher_hit(&q->match, rule, type, NULL, site, 0);
}

static int quiet_begin(void *arg, size_t s, struct rs_snap_graph *g, const struct rs_site_map *live)
{
    (void)s, (void)live;
    struct quiet *q = arg;
    free(q->type_ok);
    free(q->excluded);
    q->type_ok = rs_supp_type_verdicts(&q->match, g);
    q->excluded = calloc(g->n ? g->n : 1, 1);
    if (!q->type_ok || !q->excluded || rs_snap_growth_excluded(g, q->excluded))
        return -2;
    return 0;
}

static bool quiet_keep(void *arg, size_t s, const struct rs_snap_graph *g, uint32_t v,
                       uint32_t site)
{
    (void)s;
    struct quiet *q = arg;
    return !q->excluded[v] && !rs_supp_matcher_hit(&q->match, RS_RULE_GROWTH, NULL,
                                q->type_ok + (size_t)g->type[v] * q->cfg.nsupp, site, 0);
}

/* A type that grows steadily stays a suspect only if it still does without the objects the
 * check leaves out of growth: those its suppressions take out, and garbage the collector
 * would free (cycles waiting for a collection). The growth is counted again that way, each
 * snapshot loaded with its references, when there is such a type (a leaking program; a
 * clean one rarely has any). Returns 0, -1 (err set). */
static int unsuppressed_growth(const struct rs_trace *t, struct rs_snap_source *src,
                               struct rs_site_names *names, struct quiet *q, struct rs_growth *gr,
                               char *err, size_t errcap)
{
    bool any = false;
    for (size_t i = 0; i < gr->ntypes; i++)
        any |= gr->types[i].suspect;
    if (!any)
        return 0;
    struct rs_growth_filter filter = {.load_flags = RS_SNAP_LOAD_EDGES, .begin = quiet_begin,
                                      .keep = quiet_keep, .arg = q};
    struct rs_growth kept;
    struct rs_notes notes;
    memset(&notes, 0, sizeof notes);
    int rc = rs_growth_build_filtered(t, src, names, &filter, &kept, &notes, err, errcap);
    rs_notes_free(&notes);
    if (rc)
        return -1;
    for (size_t i = 0; i < gr->ntypes; i++) {
        if (!gr->types[i].suspect)
            continue;
        bool still = false;
        for (size_t k = 0; k < kept.ntypes && !still; k++)
            still = kept.types[k].suspect && strcmp(kept.types[k].key, gr->types[i].key) == 0;
        gr->types[i].suspect = still;
    }
    rs_growth_free(&kept);
    return 0;
}

/* The site of every object of g, the last snapshot: from the growth's replay when it made
 * them (one replay of the events fewer), else from a replay of its own. */
static int sites_of_last(const struct rs_trace *t, const struct rs_snap_graph *g,
                         struct rs_growth *gr, uint32_t *site)
{
    struct rs_site_map *m = gr->last_sites;
    if (!m || !rs_site_map_bind(m, g))
        return rs_snap_sites(t, g, site);
    for (uint32_t v = 0; v < g->n; v++)
        site[v] = rs_site_of(g, m, v);
    rs_site_map_free(m); /* its answers are copied: 8 bytes an object less from here on */
    gr->last_sites = NULL;
    return 0;
}

/* *marks: per object of g, whether no module or thread reaches it (GC-tracked only), made
 * only when a suspect is a leaked type that is not growing; else NULL. Returns -1 when out
 * of memory. */
static int unreached_marks(const struct rs_suspects *S, const struct rs_snap_graph *g, uint8_t **marks)
{
    *marks = NULL;
    bool wanted = false;
    for (size_t k = 0; k < S->n; k++)
        wanted |= S->v[k].leaked && !S->v[k].growing;
    if (!wanted)
        return 0;
    *marks = calloc(g->n ? g->n : 1, 1);
    if (*marks && rs_snap_unreachable_set(g, *marks, NULL) == 0)
        return 0;
    free(*marks);
    *marks = NULL;
    return -1;
}

struct site_tally {
    uint32_t canonical;
    uint64_t count;
    const struct rs_site_name *name;
    UT_hash_handle hh;
};

/* The sites the growth finds growing steadily, by canonical stack id (sites shown alike
 * are one), malloc'd (*n of them; NULL when out of memory). */
static uint32_t *growing_sites(struct rs_suspects *S, const struct rs_growth *gr, size_t *n)
{
    *n = 0;
    uint32_t *ids = malloc((gr->nsites ? gr->nsites : 1) * sizeof *ids);
    for (size_t i = 0; ids && i < gr->nsites; i++) {
        const struct rs_site_name *nm =
            gr->sites[i].suspect ? rs_site_name(S->names, gr->sites[i].stack_id) : NULL;
        if (nm)
            ids[(*n)++] = nm->canonical;
    }
    return ids;
}

static bool site_grows(const uint32_t *growing, size_t ngrowing, const struct rs_site_name *n)
{
    for (size_t i = 0; i < ngrowing; i++) {
        if (growing[i] == n->canonical)
            return true;
    }
    return false;
}

/* The suspect's site: where most of its objects (targets) were allocated among the sites
 * that grow steadily, where its growth is; else where most of them were. (A type made at
 * start-up too, str or int, has more objects from imports at many sites than a leak has
 * so far at one, and the first objects of the graph are the imports'.) Returns -1 when out
 * of memory. */
static int top_site(struct rs_suspects *S, struct suspect *s, const uint32_t *site,
                    const uint32_t *targets, size_t nt, const uint32_t *growing,
                    size_t ngrowing)
{
    struct site_tally *tally = NULL, *t, *tt;
    int rc = 0;
    for (size_t i = 0; i < nt; i++) {
        const struct rs_site_name *n = rs_site_name(S->names, site[targets[i]]);
        if (!n)
            continue;
        HASH_FIND(hh, tally, &n->canonical, sizeof n->canonical, t);
        if (!t) {
            if (!(t = calloc(1, sizeof *t))) {
                rc = -1;
                break;
            }
            t->canonical = n->canonical;
            t->name = n;
            HASH_ADD(hh, tally, canonical, sizeof t->canonical, t);
        }
        t->count++;
    }
    bool best_grows = false;
    HASH_ITER(hh, tally, t, tt) {
        bool grows = !t->name->internal && site_grows(growing, ngrowing, t->name);
        if ((grows && !best_grows) || (grows == best_grows && t->count > s->site_count)) {
            s->site = t->name;
            s->site_count = t->count;
            best_grows = grows;
        }
        HASH_DEL(tally, t);
        free(t);
    }
    return rc;
}

/* Where the largest object of each type growing in size alone fills up: the allocation
 * site of its items' block (RS_TAG_SNAP_BUFFERS) when the snapshot was taken, found with one
 * more replay of the events, only when there is such a suspect. A trace without the record,
 * or one whose block is not followed, leaves fills_at NULL. Returns -1 when out of memory. */
static int fills_sites(struct rs_suspects *S, const struct rs_trace *t,
                       struct rs_snap_source *src, const struct rs_snap_graph *g)
{
    if (!S->names)
        return 0;
    uint64_t *blocks = calloc(S->n ? S->n : 1, sizeof *blocks);
    uint32_t *nodes = calloc(S->n ? S->n : 1, sizeof *nodes);
    size_t *of = calloc(S->n ? S->n : 1, sizeof *of);
    if (!blocks || !nodes || !of) {
        free(blocks);
        free(nodes);
        free(of);
        return -1;
    }
    size_t nw = 0;
    for (size_t k = 0; k < S->n; k++) {
        if (S->v[k].grows_in_size && S->v[k].largest) {
            of[nw] = k;
            nodes[nw++] = S->v[k].largest_node;
        }
    }
    char err[256];
    if (nw && rs_snap_items_blocks(g, src, nodes, nw, blocks, err, sizeof err) == 0) {
        /* Those with a block, in front, for one replay of the events. */
        uint32_t nq = 0;
        for (size_t i = 0; i < nw; i++) {
            if (blocks[i]) {
                of[nq] = of[i];
                blocks[nq++] = blocks[i];
            }
        }
        struct rs_site_query q = {S->last->time, blocks, nq};
        if (nq && rs_sites_of_blocks(t, &q, 1, err, sizeof err) == 0) {
            for (uint32_t i = 0; i < nq; i++) {
                uint32_t stack = rs_answer_site(blocks[i]);
                if (stack != RS_SITE_UNKNOWN && stack != RS_STACK_ID_NONE)
                    S->v[of[i]].fills_at = rs_site_name(S->names, stack);
            }
        }
    }
    free(blocks);
    free(nodes);
    free(of);
    return 0;
}

/* Fills the details of each suspect from g, the last snapshot loaded with its references
 * (site: its objects' sites, NULL without names). The objects' labels are read for the
 * chains alone. Returns 0, -1 (note set). */
static int details(struct rs_suspects *S, const struct rs_trace *t, struct rs_snap_source *src,
                   struct rs_snap_graph *g, uint32_t *last_site, uint32_t last_n,
                   const struct rs_growth *gr)
{
    char err[512];
    size_t n = g->n ? g->n : 1;
    bool reuse = last_site && last_n == g->n;
    uint32_t *site = S->names ? (reuse ? last_site : malloc(n * sizeof *site)) : NULL;
    uint32_t *in_all = malloc(n * sizeof *in_all);
    uint8_t *kind = malloc(n);
    uint32_t *targets = malloc(n * sizeof *targets);
    struct rs_chain *chains = calloc(S->n ? S->n : 1, sizeof *chains);
    struct rs_snap_domtree d = {0};
    uint8_t *unreached = NULL;
    size_t ngrowing = 0;
    uint32_t *growing = site ? growing_sites(S, gr, &ngrowing) : NULL;
    int rc = -1;
    if (!chains || (S->names && (!site || !growing || (!reuse && rs_snap_sites(t, g, site)))) ||
        !in_all || !kind || !targets || rs_snap_build_reverse(g))
        goto nomem;
    rs_snap_in_degrees(g, in_all, NULL);
    rs_snap_root_kinds(g, in_all, kind);
    if (unreached_marks(S, g, &unreached))
        goto nomem;
    for (size_t k = 0; k < S->n; k++) {
        struct suspect *s = &S->v[k];
        size_t nt = 0, nunreached = 0;
        s->count = s->size = 0;
        for (uint32_t v = 0; v < g->n; v++) {
            if (!rs_growth_counts(g, v) || strcmp(rs_snap_type_name(g, v), s->name) != 0)
                continue;
            targets[nt++] = v;
            nunreached += unreached && unreached[v];
            s->count++;
            s->size += rs_snap_size(g, v);
        }
        if (s->grows_in_size && nt) {
            /* Its objects do not grow in number: one of them grows, the largest. */
            uint32_t big = targets[0];
            for (size_t i = 1; i < nt; i++) {
                if (rs_snap_size(g, targets[i]) > rs_snap_size(g, big))
                    big = targets[i];
            }
            targets[0] = big;
            nt = 1;
            s->largest = rs_snap_size(g, big);
            s->largest_node = big;
        }
        if (site && top_site(S, s, site, targets, nt, growing, ngrowing))
            goto nomem;
        /* A type leaked, not growing: the chain of a leaked one (held from C), not of one of
         * its kind a module still holds (the shortest chain would be that one's). */
        if (s->leaked && !s->growing && nunreached) {
            size_t w = 0;
            for (size_t i = 0; i < nt; i++) {
                if (unreached[targets[i]])
                    targets[w++] = targets[i];
            }
            nt = w;
        } else if (s->growing && s->site) {
            /* A type that grows: the chain of one allocated where most of them were, where
             * the growth is; the shortest chain to any object of a builtin type names one
             * the interpreter holds (a type's __mro__, gc.garbage, sys.__dict__). */
            size_t w = 0;
            for (size_t i = 0; i < nt; i++) {
                const struct rs_site_name *ni = rs_site_name(S->names, site[targets[i]]);
                if (ni && ni->canonical == s->site->canonical)
                    targets[w++] = targets[i];
            }
            if (w)
                nt = w;
        }
        if (rs_snap_backref_chain(g, kind, targets, nt, 0, &chains[k]))
            goto nomem;
    }
    if (fills_sites(S, t, src, g))
        goto nomem;
    /* The labels of the chains' objects in one pass over the file. */
    size_t nn = 0;
    for (size_t k = 0; k < S->n; k++)
        nn += chains[k].n;
    uint32_t *chain_nodes = malloc((nn ? nn : 1) * sizeof *chain_nodes);
    if (!chain_nodes)
        goto nomem;
    nn = 0;
    for (size_t k = 0; k < S->n; k++)
        for (size_t i = 0; i < chains[k].n; i++)
            chain_nodes[nn++] = chains[k].nodes[i];
    int lrc = rs_snap_node_labels(g, src, chain_nodes, nn, err, sizeof err);
    free(chain_nodes);
    if (lrc) {
        snprintf(S->note, sizeof S->note, "%s", err);
        goto out;
    }
    for (size_t k = 0; k < S->n; k++) {
        struct suspect *s = &S->v[k];
        struct rs_chain ch = chains[k];
        if (ch.n) {
            s->chain = calloc(ch.n, sizeof *s->chain);
            if (!s->chain)
                goto nomem;
            s->nchain = ch.n;
            s->root_kind = ch.root_kind;
            size_t rl;
            const char *rn = "";
            for (size_t i = 0; i < g->nroots; i++) {
                if (g->roots[i].node == ch.nodes[0]) {
                    rn = g->strings + g->roots[i].name;
                    rl = g->roots[i].name_len;
                    (void)rl;
                }
            }
            s->root_name = strdup(rn);
            for (size_t i = 0; i < ch.n; i++) {
                uint32_t v = ch.nodes[i];
                struct chain_step *st = &s->chain[i];
                char buf[512];
                size_t llen;
                const char *label = rs_snap_label(g, v, &llen);
                if (g->flags[v] & RS_NODE_MODULE) {
                    size_t u = (size_t)snprintf(buf, sizeof buf, "module ");
                    rs_escape_to(buf + u, sizeof buf - u, label, llen);
                } else {
                    const char *tn = rs_type_display(rs_snap_type_name(g, v), false);
                    size_t u = rs_escape_to(buf, sizeof buf, tn, strlen(tn));
                    if (llen && u + 8 < sizeof buf) {
                        u += (size_t)snprintf(buf + u, sizeof buf - u, " (");
                        u += rs_escape_to(buf + u, sizeof buf - u - 2, label, llen);
                        snprintf(buf + u, sizeof buf - u, ")");
                    }
                }
                st->node = strdup(buf);
                st->type = strdup(rs_snap_type_name(g, v));
                st->label = malloc(llen + 1);
                if (st->label) {
                    memcpy(st->label, label, llen);
                    st->label[llen] = '\0';
                }
                st->label_len = llen;
                st->addr = g->addr[v];
                if (i)
                    st->edge = (struct rs_snap_edge_ref){.from = ch.nodes[i - 1], .to = v};
                if (!st->node || !st->type || !st->label || !s->root_name)
                    goto nomem;
            }
        }
    }
    /* Edge labels of all the chains in one pass over the file. */
    size_t ne = 0;
    for (size_t k = 0; k < S->n; k++)
        ne += S->v[k].nchain ? S->v[k].nchain - 1 : 0;
    struct rs_snap_edge_ref *refs = calloc(ne ? ne : 1, sizeof *refs);
    if (!refs)
        goto nomem;
    size_t e = 0;
    for (size_t k = 0; k < S->n; k++)
        for (size_t i = 1; i < S->v[k].nchain; i++)
            refs[e++] = S->v[k].chain[i].edge;
    if (rs_snap_edge_labels(g, src, refs, ne, err, sizeof err)) {
        rs_snap_edge_refs_free(refs, ne);
        free(refs);
        snprintf(S->note, sizeof S->note, "%s", err);
        goto out;
    }
    e = 0;
    for (size_t k = 0; k < S->n; k++)
        for (size_t i = 1; i < S->v[k].nchain; i++)
            S->v[k].chain[i].edge = refs[e++]; /* takes the text */
    free(refs);
    free(in_all);
    in_all = NULL;
    free(g->in_off);
    free(g->src);
    g->in_off = g->src = NULL;
    /* Retained sizes per type. */
    struct rs_type_stat *st = NULL;
    size_t nst = 0;
    if (rs_snap_full_domtree(g, &d) || rs_snap_type_stats(g, &d, true, &st, &nst))
        goto nomem;
    for (size_t k = 0; k < S->n; k++) {
        /* The type statistics count what the collector tracks; a type it does not (str,
         * int) retains at least its own objects. */
        S->v[k].retained = S->v[k].size;
        for (size_t i = 0; i < nst; i++) {
            if (strcmp(st[i].name, S->v[k].name) == 0 && st[i].retained > S->v[k].retained)
                S->v[k].retained = st[i].retained;
        }
        S->v[k].grown = grown_share(&S->v[k], S->nsnaps);
    }
    free(st);
    rc = 0;
    goto out;
nomem:
    snprintf(S->note, sizeof S->note, "out of memory while analysing snapshot %u",
             (unsigned)S->last->id);
out:
    rs_snap_domtree_free(&d);
    free(unreached);
    free(growing);
    if (site != last_site)
        free(site);
    free(in_all);
    free(kind);
    free(targets);
    for (size_t k = 0; chains && k < S->n; k++)
        rs_chain_free(&chains[k]);
    free(chains);
    return rc;
}

struct rs_suspects *rs_suspects_build(const struct rs_trace *t, const char *path,
                                      struct rs_symbolizer *sym)
{
    struct rs_suspects *S = calloc(1, sizeof *S);
    if (!S)
        return NULL;
    S->nsnaps = rs_snap_count_complete(t);
    S->last = rs_snap_last_complete(t);
    if (!S->last) {
        snprintf(S->note, sizeof S->note, "the trace has no complete object-graph snapshot");
        return S;
    }
    if (sym && t->nevents)
        S->names = rs_site_names_new(t, sym);
    struct rs_snap_source src;
    char err[512];
    if (rs_snap_source_file(&src, path, t->file_size, err, sizeof err)) {
        snprintf(S->note, sizeof S->note, "%s", err);
        return S;
    }
    /* The last snapshot: growth counts its objects from this load instead of reading it
     * once more on its own. Its references are added after growth: the replay for the
     * objects' sites is the largest thing growth holds, and the report's replay of the
     * events may still run beside it (report.c), so the references wait (on 1M objects
     * they are 28 MB of the 2x budget). */
    struct rs_snap_graph g;
    char load_err[512];
    bool loaded = rs_snap_load(&g, S->last, &src, RS_SNAP_KEEP_INDEX, load_err,
                               sizeof load_err) == 0;
    struct rs_growth gr;
    if (rs_growth_build_given(t, &src, S->names, loaded ? &g : NULL, &gr, &S->notes, err,
                              sizeof err)) {
        snprintf(S->note, sizeof S->note, "%s", err);
        if (loaded)
            rs_snap_graph_free(&g);
        rs_snap_source_close(&src);
        return S;
    }
    struct quiet q;
    int quiet_rc = quiet_init(&q, t, sym, S->names);
    if (quiet_rc || unsuppressed_growth(t, &src, S->names, &q, &gr, err, sizeof err)) {
        snprintf(S->note, sizeof S->note, "%s", quiet_rc ? "out of memory" : err);
        quiet_free(&q);
        if (loaded)
            rs_snap_graph_free(&g);
        rs_growth_free(&gr);
        rs_snap_source_close(&src);
        return S;
    }
    if (loaded && rs_snap_load_edges(&g, &src, 0, load_err, sizeof load_err)) {
        rs_snap_graph_free(&g);
        loaded = false;
    }
    /* Types that grow in number (their suppressed objects left out) or only in size. */
    for (size_t i = 0; i < gr.ntypes; i++) {
        if (!gr.types[i].suspect && !gr.types[i].grows_in_size)
            continue;
        struct suspect *s = find_or_add(S, gr.types[i].key, gr.nsnaps);
        if (!s)
            goto nomem;
        s->growing = gr.types[i].suspect;
        s->grows_in_size = gr.types[i].grows_in_size;
        memcpy(s->counts, gr.types[i].count, gr.nsnaps * sizeof *s->counts);
    }
    /* Leaked objects of the last snapshot. */
    uint32_t *site = NULL;
    uint32_t site_n = 0;
    if (loaded) {
        site = S->names ? malloc((g.n ? g.n : 1) * sizeof *site) : NULL;
        site_n = g.n;
        struct rs_cycles cy;
        if ((!S->names || (site && sites_of_last(t, &g, &gr, site) == 0)) &&
            rs_snap_cycles(&g, site, S->names, false, &cy) == 0) {
            for (size_t i = 0; i < cy.ngroups; i++) {
                if (cy.groups[i].cls != RS_CYCLE_LEAKED)
                    continue;
                for (size_t k = 0; k < cy.groups[i].ntype_sites; k++) {
                    const struct rs_count_item *it = &cy.groups[i].type_sites[k];
                    if (quiet_hit(&q, RS_RULE_LEAKED_REFS, it->name, it->site))
                        continue;
                    struct suspect *s = find_or_add(S, it->name, gr.nsnaps);
                    if (s)
                        s->leaked = true;
                }
            }
            for (size_t i = 0; i < cy.nleaked; i++) {
                const struct rs_count_item *it = &cy.leaked[i];
                if (quiet_hit(&q, RS_RULE_LEAKED_REFS, it->name, it->site))
                    continue;
                struct suspect *s = find_or_add(S, it->name, gr.nsnaps);
                if (s)
                    s->leaked = true;
            }
            rs_cycles_free(&cy);
        } else {
            free(site);
            site = NULL;
        }
        /* The series of every suspect (the growing ones have their counts already). */
        for (size_t k = 0; k < S->n; k++) {
            for (size_t i = 0; i < gr.ntypes; i++) {
                if (strcmp(gr.types[i].key, S->v[k].name) != 0)
                    continue;
                if (!S->v[k].growing)
                    memcpy(S->v[k].counts, gr.types[i].count, gr.nsnaps * sizeof *S->v[k].counts);
                memcpy(S->v[k].sizes, gr.types[i].size, gr.nsnaps * sizeof *S->v[k].sizes);
            }
        }
        if (S->n)
            details(S, t, &src, &g, site, site_n, &gr);
        rs_snap_graph_free(&g);
    } else {
        snprintf(S->note, sizeof S->note, "%s", load_err);
    }
    free(site);
    quiet_free(&q);
    if (!S->n && S->nsnaps < 3 && !S->note[0])
        snprintf(S->note, sizeof S->note, "steady growth needs three snapshots or more, taken "
                 "while the program runs: refscope.snapshot(), REFSCOPE_SNAPSHOT_INTERVAL; "
                 "`refscope growth` compares two");
    rs_qsort(S->v, S->n, sizeof *S->v, by_suspect);
    while (S->n > RS_SUSPECTS_MAX)
        free_suspect(&S->v[--S->n]);
    rs_growth_free(&gr);
    rs_snap_source_close(&src);
    return S;
nomem:
    quiet_free(&q);
    if (loaded)
        rs_snap_graph_free(&g);
    rs_growth_free(&gr);
    rs_snap_source_close(&src);
    rs_suspects_free(S);
    return NULL;
}

static const char *root_kind_text(uint8_t k)
{
    switch (k) {
    case RS_SROOT_MODULE: return "module";
    case RS_SROOT_THREAD: return "thread";
    case RS_SROOT_C: return "c_held";
    }
    return "none";
}

static void put_edge(FILE *out, const struct rs_snap_edge_ref *e)
{
    if (!e->found || (e->kind != RS_SNAP_EDGE_INDEX && !e->len)) {
        fputs(" --> ", out);
    } else if (e->kind == RS_SNAP_EDGE_INDEX) {
        fprintf(out, " --[%llu]--> ", (unsigned long long)e->index);
    } else {
        fputs(" --[", out);
        rs_fput_escaped(out, e->text, e->len);
        fputs("]--> ", out);
    }
}

void rs_suspects_write_text(const struct rs_suspects *S, FILE *out)
{
    char a[RS_NUM_BUF], b[RS_NUM_BUF], c[RS_NUM_BUF];
    fputs("\nLeak suspects", out);
    if (!S->last) {
        fputs(": none (the trace has no complete object-graph snapshot)\n", out);
        return;
    }
    fprintf(out, " (object-graph snapshots: %zu; details from snapshot %u)", S->nsnaps,
            (unsigned)S->last->id);
    if (!S->n) {
        fprintf(out, ": none%s", S->note[0] ? " (" : "\n");
        if (S->note[0]) {
            rs_fput_escaped(out, S->note, strlen(S->note));
            fputs(")\n", out);
        }
        return;
    }
    fputs(":\n", out);
    for (size_t k = 0; k < S->n; k++) {
        const struct suspect *s = &S->v[k];
        fprintf(out, "#%-3zu ", k + 1);
        const char *tn = rs_type_display(s->name, false);
        rs_fput_escaped(out, tn, strlen(tn));
        fprintf(out, ": %s",
                s->leaked          ? "leaked (held by references no recorded object holds)"
                : s->grows_in_size ? "grows steadily in size, not in number"
                                   : "grows steadily");
        if (s->leaked && (s->growing || s->grows_in_size))
            fputs(s->growing ? ", grows steadily" : ", grows steadily in size", out);
        fputs(" (", out);
        for (size_t i = 0; s->grows_in_size && i < S->nsnaps; i++)
            fprintf(out, "%s%s", i ? " -> " : "", rs_fmt_bytes(a, s->sizes[i]));
        fputs(s->grows_in_size ? "; objects: " : "", out);
        for (size_t i = 0; i < S->nsnaps; i++)
            fprintf(out, "%s%llu", i ? " -> " : "", (unsigned long long)s->counts[i]);
        fprintf(out, ")\n     %s object%s, %s, retaining %s\n", rs_fmt_count(a, s->count),
                s->count == 1 ? "" : "s", rs_fmt_bytes(b, s->size), rs_fmt_bytes(c, s->retained));
        if (s->grows_in_size) {
            /* Where the container was made, when known: a list or dict taken from the
             * interpreter's free lists keeps the site of the first object there. */
            fprintf(out, "     the largest: %s", rs_fmt_bytes(a, s->largest));
            if (s->site && s->site->frame) {
                fputs(", allocated at ", out);
                rs_fput_escaped(out, s->site->text, strlen(s->site->text));
            }
            if (s->fills_at) {
                fputs("; fills up at ", out);
                rs_fput_escaped(out, s->fills_at->text, strlen(s->fills_at->text));
            }
            fputc('\n', out);
        } else if (s->site) {
            fputs("     allocated at ", out);
            rs_fput_escaped(out, s->site->text, strlen(s->site->text));
            fprintf(out, " (%s of them)", rs_fmt_count(a, s->site_count));
            if (s->site->caller) {
                fputs(", called from ", out);
                rs_fput_escaped(out, s->site->caller, strlen(s->site->caller));
            }
            fputc('\n', out);
        }
        if (s->nchain) {
            fputs("     held by: ", out);
            for (size_t i = 0; i < s->nchain; i++) {
                if (i)
                    put_edge(out, &s->chain[i].edge);
                fputs(s->chain[i].node, out);
            }
            if (s->root_kind == RS_SROOT_THREAD) {
                fputs("  (a frame of thread '", out);
                rs_fput_escaped(out, s->root_name, strlen(s->root_name));
                fputs("')", out);
            } else if (s->root_kind == RS_SROOT_C) {
                fputs("  (held from C)", out);
            }
            fputc('\n', out);
        } else {
            fputs("     held by: no chain from a module or thread\n", out);
        }
    }
    if (S->note[0]) {
        fputs("  warning: ", out);
        rs_fput_escaped(out, S->note, strlen(S->note));
        fputc('\n', out);
    }
}

/* A site object (null when unknown); objects: its objects of the type, when counted. */
static void json_site(struct rs_json *j, const char *key, const struct rs_site_name *site,
                      const uint64_t *objects)
{
    rs_json_key(j, key);
    if (!site) {
        rs_json_null(j);
        return;
    }
    rs_json_object_begin(j);
    rs_json_key(j, "text");
    rs_json_cstring(j, site->text);
    rs_json_key(j, "stack_id");
    rs_json_u64(j, site->stack_id);
    if (objects) {
        rs_json_key(j, "objects");
        rs_json_u64(j, *objects);
    }
    rs_json_key(j, "function");
    rs_json_cstring(j, site->frame ? site->frame->function : NULL);
    rs_json_key(j, "file");
    rs_json_cstring(j, site->frame ? site->frame->file : NULL);
    rs_json_key(j, "line");
    if (site->frame && site->frame->line > 0)
        rs_json_u64(j, (uint64_t)site->frame->line);
    else
        rs_json_null(j);
    rs_json_key(j, "called_from");
    rs_json_cstring(j, site->caller);
    rs_json_object_end(j);
}

void rs_suspects_write_json(const struct rs_suspects *S, struct rs_json *j)
{
    rs_json_key(j, "leak_suspects");
    rs_json_array_begin(j);
    for (size_t k = 0; k < S->n; k++) {
        const struct suspect *s = &S->v[k];
        rs_json_object_begin(j);
        rs_json_key(j, "type");
        rs_json_cstring(j, s->name);
        rs_json_key(j, "reasons");
        rs_json_array_begin(j);
        if (s->growing)
            rs_json_cstring(j, "grows_steadily");
        if (s->grows_in_size)
            rs_json_cstring(j, "grows_in_size");
        if (s->leaked)
            rs_json_cstring(j, "leaked");
        rs_json_array_end(j);
        rs_json_key(j, "counts");
        rs_json_array_begin(j);
        for (size_t i = 0; i < S->nsnaps; i++)
            rs_json_u64(j, s->counts[i]);
        rs_json_array_end(j);
        rs_json_key(j, "sizes");
        rs_json_array_begin(j);
        for (size_t i = 0; i < S->nsnaps; i++)
            rs_json_u64(j, s->sizes[i]);
        rs_json_array_end(j);
        rs_json_key(j, "largest");
        if (s->grows_in_size)
            rs_json_u64(j, s->largest);
        else
            rs_json_null(j);
        rs_json_key(j, "snapshot");
        rs_json_u64(j, S->last->id);
        rs_json_key(j, "count");
        rs_json_u64(j, s->count);
        rs_json_key(j, "size");
        rs_json_u64(j, s->size);
        rs_json_key(j, "retained");
        rs_json_u64(j, s->retained);
        json_site(j, "site", s->site, &s->site_count);
        json_site(j, "fills_at", s->fills_at, NULL);
        rs_json_key(j, "root");
        if (s->nchain) {
            rs_json_object_begin(j);
            rs_json_key(j, "kind");
            rs_json_cstring(j, root_kind_text(s->root_kind));
            rs_json_key(j, "name");
            rs_json_cstring(j, s->root_kind == RS_SROOT_C ? NULL : s->root_name);
            rs_json_object_end(j);
        } else {
            rs_json_null(j);
        }
        rs_json_key(j, "chain");
        rs_json_array_begin(j);
        for (size_t i = 0; i < s->nchain; i++) {
            const struct chain_step *st = &s->chain[i];
            char addr[24];
            rs_json_object_begin(j);
            snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)st->addr);
            rs_json_key(j, "address");
            rs_json_cstring(j, addr);
            rs_json_key(j, "type");
            rs_json_cstring(j, st->type);
            rs_json_key(j, "label");
            rs_json_string(j, st->label, st->label_len);
            rs_json_key(j, "edge");
            if (i == 0 || !st->edge.found) {
                rs_json_null(j);
            } else if (st->edge.kind == RS_SNAP_EDGE_INDEX) {
                rs_json_object_begin(j);
                rs_json_key(j, "index");
                rs_json_u64(j, st->edge.index);
                rs_json_object_end(j);
            } else {
                rs_json_object_begin(j);
                rs_json_key(j, "text");
                rs_json_string(j, st->edge.text ? st->edge.text : "", st->edge.len);
                rs_json_object_end(j);
            }
            rs_json_object_end(j);
        }
        rs_json_array_end(j);
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
    rs_json_key(j, "leak_suspects_note");
    if (S->note[0])
        rs_json_cstring(j, S->note);
    else
        rs_json_null(j);
}

void rs_report_suspects_text(const struct rs_trace *t, const struct rs_suspects *s, FILE *out)
{
    if (!t->snapshots)
        return; /* a trace without snapshots (not Python): nothing to say */
    if (!s) {
        fputs("\nLeak suspects: out of memory\n", out);
        return;
    }
    rs_suspects_write_text(s, out);
}

void rs_report_suspects_json(const struct rs_trace *t, const struct rs_suspects *s,
                             struct rs_json *j)
{
    if (!s) {
        rs_json_key(j, "leak_suspects");
        rs_json_array_begin(j);
        rs_json_array_end(j);
        rs_json_key(j, "leak_suspects_note");
        rs_json_cstring(j, t->snapshots ? "out of memory" : "no object-graph snapshot");
        return;
    }
    rs_suspects_write_json(s, j);
}

size_t rs_suspects_n(const struct rs_suspects *S)
{
    return S->n;
}

size_t rs_suspects_nsnaps(const struct rs_suspects *S)
{
    return S->nsnaps;
}

const struct rs_snap_info *rs_suspects_snapshot(const struct rs_suspects *S)
{
    return S->last;
}

const char *rs_suspects_note(const struct rs_suspects *S)
{
    return S->note;
}

void rs_suspects_get(const struct rs_suspects *S, size_t k, struct rs_suspect_view *out)
{
    const struct suspect *s = &S->v[k];
    *out = (struct rs_suspect_view){
        .type = s->name,
        .growing = s->growing,
        .leaked = s->leaked,
        .grows_in_size = s->grows_in_size,
        .counts = s->counts,
        .sizes = s->sizes,
        .largest = s->largest,
        .fills_at = s->fills_at,
        .count = s->count,
        .size = s->size,
        .retained = s->retained,
        .site = s->site,
        .site_count = s->site_count,
        .nchain = s->nchain,
        .root_kind = s->root_kind,
        .root_name = s->root_name ? s->root_name : "",
    };
}

void rs_suspects_step(const struct rs_suspects *S, size_t k, size_t i,
                      struct rs_suspect_step *out)
{
    const struct chain_step *st = &S->v[k].chain[i];
    *out = (struct rs_suspect_step){
        .addr = st->addr,
        .type = st->type,
        .label = st->label,
        .label_len = st->label_len,
        .edge = i ? &st->edge : NULL,
    };
}
