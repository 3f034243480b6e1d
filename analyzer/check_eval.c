/* refscope check: evaluating a trace against the rules.
 *
 * Nothing here measures anything itself: the bytes left at exit come from the report
 * (rs_report_build: replay, C-runtime blocks set apart), growth from rs_growth_build_filtered
 * (objects counted by type and allocation site in two snapshots), cycles and leaked
 * references from rs_snap_cycles, what a collection would free from rs_snap_collectable,
 * chains from rs_snap_backref_chain. This file chooses what to count (suppressions, the
 * window between two snapshots), compares with the limits and a baseline, and words the
 * reasons. */
#include "check.h"

#include "escape.h"
#include "event_merge.h"
#include "format_num.h"
#include "python_frames.h"
#include "report.h"
#include "rs_uthash.h"
#include "snap_analyze.h"
#include "snap_sites.h"
#include "supp_match.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FINDINGS 200     /* kept per rule (largest first); the outputs show fewer */

/* Per stack id: the allocator domains it allocated from (bit per rs_alloc_kind). */
struct domain_entry {
    uint32_t stack;
    uint32_t kinds;
    UT_hash_handle hh;
};

/* Findings being gathered for one rule, by key. */
struct item {
    char *key;
    struct rs_check_finding f;
    uint32_t example;        /* uncollectable cycles: one member, for a chain */
    bool has_example;
    UT_hash_handle hh;
};

struct gather {
    struct item *by_key;
};

struct ctx {
    struct rs_check *c;
    const struct rs_trace *t;
    struct rs_symbolizer *sym;
    struct rs_site_names *names;
    struct rs_snap_source src;
    bool src_open;
    struct rs_supp_matcher match; /* the suppressions */
    char *err;
    size_t errcap;

    /* growth and the snapshot rules */
    struct rs_growth gr;
    size_t nsnaps;
    size_t ia, ib;           /* the window's snapshots (indices in gr.snaps); ia = SIZE_MAX:
                              * since the start of the trace */
    uint32_t rank_a;         /* A's position among all snapshots by time (epochs) */
    uint8_t *growth_excluded; /* of the snapshot being counted (rs_snap_growth_excluded) */
    uint8_t *type_ok;        /* [type index * nsupp + s]: s's type terms match */
    uint64_t growth_suppressed;
    struct gather base[RS_RULE_COUNT]; /* the cycle rules at A (explicit --from) */
    struct gather cur[RS_RULE_COUNT];
    bool snap_done;
};

/* ---- small helpers ------------------------------------------------------------------- */

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static void free_finding(struct rs_check_finding *f)
{
    free(f->key);
    free(f->loose_key);
    free(f->type);
    free(f->site);
    free(f->site_file);
    free(f->site_function);
    free(f->site_caller);
    free(f->what);
    free(f->chain);
    free(f->root_kind);
    free(f->root_name);
    for (size_t i = 0; i < f->nsteps; i++) {
        free(f->steps[i].node);
        free(f->steps[i].type);
        free(f->steps[i].label);
        free(f->steps[i].edge_text);
    }
    free(f->steps);
    memset(f, 0, sizeof *f);
}

static void gather_free(struct gather *g)
{
    struct item *it, *tmp;
    HASH_ITER(hh, g->by_key, it, tmp) {
        HASH_DEL(g->by_key, it);
        free_finding(&it->f);
        free(it);
    }
}

/* The finding for key, created when new (with the site's details filled). NULL when out of
 * memory. */
static struct item *gather_item(struct gather *g, const char *key, const char *type,
                                const struct rs_site_name *site)
{
    struct item *it = NULL;
    HASH_FIND_STR(g->by_key, key, it);
    if (it)
        return it;
    it = calloc(1, sizeof *it);
    if (!it || !(it->f.key = strdup(key))) {
        free(it);
        return NULL;
    }
    it->key = it->f.key;
    if (type && !(it->f.type = strdup(type)))
        goto nomem;
    if (site) {
        const struct rs_frame *fr = site->frame;
        if (!(it->f.site = xstrdup(site->text)) ||
            (site->caller && !(it->f.site_caller = strdup(site->caller))))
            goto nomem;
        if (fr) {
            if ((fr->file && !(it->f.site_file = strdup(fr->file))) ||
                (fr->function && !(it->f.site_function = strdup(fr->function))))
                goto nomem;
            it->f.site_line = fr->line;
            /* The key without the line number: it survives edits above the site. */
            const char *base = fr->file ? strrchr(fr->file, '/') : NULL;
            base = base ? base + 1 : fr->file;
            if (base && fr->python)
                base = rs_python_file_shown(fr->file);
            const char *fn = fr->function ? fr->function : "?";
            if (base && fr->line > 0) {
                if (strncmp(key, "site:", 5) == 0)
                    it->f.loose_key = xprintf("site:%s %s", base, fn);
                else if (type && strncmp(key, "type:", 5) == 0 && strstr(key, " site:"))
                    it->f.loose_key = xprintf("type:%s site:%s %s", type, base, fn);
                else
                    it->f.loose_key = strdup("");
                if (!it->f.loose_key)
                    goto nomem;
                if (!it->f.loose_key[0]) {
                    free(it->f.loose_key);
                    it->f.loose_key = NULL;
                }
            }
        }
    }
    HASH_ADD_KEYPTR(hh, g->by_key, it->key, strlen(it->key), it);
    return it;
nomem:
    free_finding(&it->f);
    free(it);
    return NULL;
}

static struct rs_check_finding *gather_get(struct gather *g, const char *key, const char *type,
                                           const struct rs_site_name *site)
{
    struct item *it = gather_item(g, key, type, site);
    return it ? &it->f : NULL;
}

/* ---- suppressions ------------------------------------------------------------------- */

/* Is an object of `type` (NULL: a raw block) allocated at `stack` suppressed for the rule?
 * type_ok: the type terms' verdicts for its type, when known in advance. Counts the hit. */
static bool suppressed(struct ctx *x, enum rs_check_rule rule, const char *type,
                       const uint8_t *type_ok, uint32_t stack, uint64_t weight)
{
    return rs_supp_matcher_hit(&x->match, rule, type, type_ok, stack, weight);
}

/* ---- leaked bytes --------------------------------------------------------------------- */

static bool python_domain_only(struct domain_entry *domains, uint32_t stack)
{
    struct domain_entry *d = NULL;
    HASH_FIND(hh, domains, &stack, sizeof stack, d);
    if (!d)
        return false;
    uint32_t py = (1u << RS_ALLOC_PY_OBJ) | (1u << RS_ALLOC_PY_MEM);
    return d->kinds && (d->kinds & ~py) == 0;
}

/* Was the block allocated by the interpreter's own C code (its first native frame, past
 * CPython's allocator wrappers, in libpython or the python executable)? Such blocks belong
 * to Python objects (locks, thread states, buffers): the object rules judge those. */
static bool interpreter_allocated(struct ctx *x, uint32_t stack, const char *exe)
{
    const struct rs_trace_stack *st = rs_trace_stack_find(x->t, stack);
    struct rs_frames fr;
    if (!st || !x->sym ||
        rs_symbolize_stack_view(x->sym, st->words, st->nwords, RS_VIEW_NATIVE_ONLY, 0, &fr))
        return false;
    bool interp = false;
    for (size_t i = 0; i < fr.n; i++) {
        const struct rs_frame *f = fr.v[i];
        const char *fn = f->function ? f->function : "";
        if (!strncmp(fn, "PyMem_", 6) || !strncmp(fn, "_PyMem_", 7) ||
            !strncmp(fn, "PyObject_Malloc", 15) || !strncmp(fn, "PyObject_Calloc", 15) ||
            !strncmp(fn, "PyObject_Realloc", 16) || !strncmp(fn, "_PyObject_Malloc", 16))
            continue;
        interp = f->module && (strncmp(f->module, "libpython", 9) == 0 ||
                               (exe && strcmp(f->module, exe) == 0));
        break;
    }
    rs_frames_free(&fr);
    return interp;
}

static int leaked_bytes(struct ctx *x, const struct rs_report *rep)
{
    struct rs_check *c = x->c;
    struct rs_check_result *res = &c->results[RS_RULE_LEAKED_BYTES];
    const struct rs_report_section *sec = &rep->leaked;
    if (c->python && rep->end_of_trace.present)
        sec = &rep->end_of_trace;
    c->leak_point = sec == &rep->leaked && rep->program_end ? "program_end" : "end_of_trace";
    /* Python: only blocks of the C allocator (malloc and family, mmap). */
    struct domain_entry *domains = NULL, *d, *dt;
    int rc = -1;
    if (c->python) {
        /* The report read the trace without its events: they come back from the file. */
        struct rs_merge *m = rs_merge_new(x->t, NULL, NULL);
        bool nomem = !m;
        const struct rs_trace_event *ev;
        while (!nomem && (ev = rs_merge_next(m, NULL))) {
            if (rs_ev_type(ev) != RS_EVENT_ALLOC && rs_ev_type(ev) != RS_EVENT_SAMPLED_ALLOC)
                continue;
            HASH_FIND(hh, domains, &ev->stack_id, sizeof ev->stack_id, d);
            if (!d) {
                if ((nomem = !(d = calloc(1, sizeof *d))))
                    break;
                d->stack = ev->stack_id;
                HASH_ADD(hh, domains, stack, sizeof d->stack, d);
            }
            d->kinds |= 1u << (rs_ev_kind(ev) & 31);
        }
        const char *why = m ? rs_merge_error(m) : NULL;
        if (why)
            snprintf(x->err, x->errcap, "%s", why);
        rs_merge_free(m);
        if (nomem || why)
            goto out;
        res->measure = xprintf("bytes of C-allocator blocks (malloc, calloc, realloc, mmap) that "
                               "code outside the interpreter (C extensions, libraries) allocated%s "
                               "and that were still allocated when the trace ended, after the "
                               "interpreter's teardown; Python objects (and the C memory the "
                               "interpreter keeps for them) are left to the object rules",
                               c->explicit_from ? " after the --from snapshot" : "");
    } else {
        res->measure = xprintf("bytes%s still allocated when the program finished (blocks the "
                               "C runtime keeps for the process set apart)",
                               c->explicit_from ? " allocated after the --from snapshot" : "");
    }
    struct gather g = {0};
    const char *exe = NULL;
    if (x->t->hdr.exe.s) {
        exe = strrchr(x->t->hdr.exe.s, '/');
        exe = exe ? exe + 1 : x->t->hdr.exe.s;
    }
    for (size_t i = 0; i < sec->ntotals; i++) {
        const struct rs_stack_total *tot = &sec->totals[i];
        if (tot->flags & RS_GROUP_BEFORE_SINCE)
            continue;
        if (c->python && (python_domain_only(domains, tot->stack_id) ||
                          interpreter_allocated(x, tot->stack_id, exe)))
            continue;
        if (suppressed(x, RS_RULE_LEAKED_BYTES, NULL, NULL, tot->stack_id, tot->bytes)) {
            res->suppressed = sat_add(res->suppressed, tot->bytes);
            continue;
        }
        const struct rs_site_name *site = x->names ? rs_site_name(x->names, tot->stack_id) : NULL;
        char *key = xprintf("site:%s", site && site->text ? site->text : "(unknown site)");
        struct rs_check_finding *f = key ? gather_get(&g, key, NULL, site) : NULL;
        free(key);
        if (!f) {
            gather_free(&g);
            goto out;
        }
        f->value = sat_add(f->value, tot->bytes);
        f->bytes = f->value;
        f->count = sat_add(f->count, tot->blocks);
    }
    x->cur[RS_RULE_LEAKED_BYTES] = g;
    rc = 0;
out:
    HASH_ITER(hh, domains, d, dt) {
        HASH_DEL(domains, d);
        free(d);
    }
    return rc;
}

/* ---- chains --------------------------------------------------------------------------- */

static char *edge_suffix(const struct rs_snap_edge_ref *e)
{
    if (!e->found)
        return strdup("");
    if (e->kind == RS_SNAP_EDGE_INDEX)
        return xprintf("[%llu]", (unsigned long long)e->index);
    if (!e->len)
        return strdup("");
    if (e->kind == RS_EDGE_SPECIAL && e->len == 8 && memcmp(e->text, "__dict__", 8) == 0)
        return strdup("");
    if (e->kind == RS_EDGE_KEY || e->kind == RS_EDGE_DICT_KEY)
        return xprintf("[%.*s]", (int)e->len, e->text);
    return xprintf(".%.*s", (int)e->len, e->text);
}

static char *node_text(const struct rs_snap_graph *g, uint32_t v)
{
    size_t llen;
    const char *label = rs_snap_label(g, v, &llen);
    if (g->flags[v] & RS_NODE_MODULE)
        return xprintf("module %.*s", (int)llen, label);
    const char *type = rs_type_display(rs_snap_type_name(g, v), false);
    if ((g->flags[v] & RS_NODE_FRAME) && llen)
        return xprintf("%s %.*s", type, (int)llen, label);
    return strdup(type);
}

struct chain_job {
    struct rs_check_finding *f;
    struct rs_chain ch;
};

/* Fills the chains of the jobs (nodes, labels of the references, one-line text). */
static int fill_chains(struct ctx *x, const struct rs_snap_graph *g, struct chain_job *jobs,
                       size_t njobs)
{
    size_t ne = 0;
    for (size_t k = 0; k < njobs; k++)
        ne += jobs[k].ch.n ? jobs[k].ch.n - 1 : 0;
    struct rs_snap_edge_ref *refs = calloc(ne ? ne : 1, sizeof *refs);
    if (!refs)
        return -2;
    size_t e = 0;
    for (size_t k = 0; k < njobs; k++)
        for (size_t i = 1; i < jobs[k].ch.n; i++)
            refs[e++] = (struct rs_snap_edge_ref){.from = jobs[k].ch.nodes[i - 1],
                                                  .to = jobs[k].ch.nodes[i]};
    char err[512];
    if (rs_snap_edge_labels(g, &x->src, refs, ne, err, sizeof err) != 0) {
        rs_snap_edge_refs_free(refs, ne);
        free(refs);
        rs_notes_add(&x->c->notes, RS_NOTE_WARNING, "reference labels: %s", err);
        return 0;
    }
    int rc = 0;
    e = 0;
    for (size_t k = 0; k < njobs; k++) {
        struct rs_check_finding *f = jobs[k].f;
        const struct rs_chain *ch = &jobs[k].ch;
        if (!ch->n) {
            continue;
        }
        f->steps = calloc(ch->n, sizeof *f->steps);
        size_t cap = 256, len = 0;
        char *line = malloc(cap);
        if (!f->steps || !line) {
            free(line);
            rc = -2;
            break;
        }
        line[0] = '\0';
        f->nsteps = ch->n;
        f->root_kind = strdup(ch->root_kind == RS_SROOT_MODULE   ? "module"
                              : ch->root_kind == RS_SROOT_THREAD ? "thread"
                                                                 : "c_held");
        size_t rec = rs_snap_root_record(g, ch->nodes[0]);
        if (rec != SIZE_MAX && ch->root_kind != RS_SROOT_C)
            f->root_name = strndup(g->strings + g->roots[rec].name, g->roots[rec].name_len);
        for (size_t i = 0; i < ch->n; i++) {
            uint32_t v = ch->nodes[i];
            struct rs_check_step *st = &f->steps[i];
            size_t llen;
            const char *label = rs_snap_label(g, v, &llen);
            st->node = node_text(g, v);
            st->type = strdup(rs_snap_type_name(g, v));
            st->label = strndup(label, llen);
            st->addr = g->addr[v];
            char *suffix = NULL;
            if (i + 1 < ch->n) {
                const struct rs_snap_edge_ref *next = &refs[e + i];
                suffix = edge_suffix(next);
            }
            if (i) {
                const struct rs_snap_edge_ref *in = &refs[e + i - 1];
                if (in->found && in->kind == RS_SNAP_EDGE_INDEX) {
                    st->edge_kind = 3;
                    st->edge_index = in->index;
                } else if (in->found && in->len) {
                    st->edge_kind = in->kind == RS_EDGE_KEY || in->kind == RS_EDGE_DICT_KEY ? 2 : 1;
                    st->edge_text = strndup(in->text, in->len);
                }
            }
            const char *prefix = "";
            char *rootpart = NULL;
            if (i == 0 && ch->root_kind == RS_SROOT_THREAD)
                rootpart = xprintf("thread '%s' ", f->root_name ? f->root_name : "?");
            else if (i == 0 && ch->root_kind == RS_SROOT_C)
                rootpart = strdup("(held from C) ");
            if (rootpart)
                prefix = rootpart;
            char *piece = xprintf("%s%s%s%s", i ? " -> " : "", prefix, st->node ? st->node : "?",
                                  suffix ? suffix : "");
            free(rootpart);
            free(suffix);
            if (!piece || !st->node || !st->type || !st->label) {
                free(piece);
                free(line);
                rc = -2;
                goto done;
            }
            size_t pl = strlen(piece);
            if (len + pl + 1 > cap) {
                while (len + pl + 1 > cap)
                    cap *= 2;
                char *p = realloc(line, cap);
                if (!p) {
                    free(piece);
                    free(line);
                    rc = -2;
                    goto done;
                }
                line = p;
            }
            memcpy(line + len, piece, pl + 1);
            len += pl;
            free(piece);
        }
        f->chain = line;
        e += ch->n - 1;
    }
done:
    rs_snap_edge_refs_free(refs, ne);
    free(refs);
    return rc;
}

/* ---- growth and the snapshot rules ---------------------------------------------------- */

static int snap_begin(void *arg, size_t s, struct rs_snap_graph *g, const struct rs_site_map *live)
{
    (void)live;
    struct ctx *x = arg;
    (void)s;
    free(x->growth_excluded);
    free(x->type_ok);
    x->growth_excluded = calloc(g->n ? g->n : 1, 1);
    x->type_ok = rs_supp_type_verdicts(&x->match, g);
    if (!x->growth_excluded || !x->type_ok || rs_snap_growth_excluded(g, x->growth_excluded))
        return -2;
    return 0;
}

/* Does growth count object v of the snapshot being loaded? */
static bool counts(struct ctx *x, const struct rs_snap_graph *g, uint32_t v, uint32_t site,
                   bool tally)
{
    if (x->growth_excluded[v])
        return false;
    if (x->ia == SIZE_MAX) {
        /* Since the start: only what the program's own code made while running, not its
         * module-level code (definitions, module state: made once, like an import's), and
         * only what the collector tracks: without a second snapshot to subtract, the
         * strings and numbers a program made and still holds at exit are mostly the keys
         * of bounded caches (re's compiled patterns) and names, not growth. */
        if (!(g->flags[v] & RS_NODE_GC_TRACKED))
            return false;
        const struct rs_site_name *n = x->names ? rs_site_name(x->names, site) : NULL;
        if (!n || n->internal ||
            (n->frame && n->frame->function && strcmp(n->frame->function, "<module>") == 0))
            return false;
    }
    const uint8_t *tok = x->type_ok + (size_t)g->type[v] * x->c->nsupp;
    if (suppressed(x, RS_RULE_GROWTH, rs_snap_type_name(g, v), tok, site, tally ? 1 : 0)) {
        if (tally)
            x->growth_suppressed++;
        return false;
    }
    return true;
}

static bool snap_keep(void *arg, size_t s, const struct rs_snap_graph *g, uint32_t v,
                      uint32_t site)
{
    struct ctx *x = arg;
    return counts(x, g, v, site, s == x->ib);
}

/* "__main__.Resource*3 + builtins.dict*3": a cycle group's members, for its key. */
static char *group_signature(const struct rs_cycle_group *grp)
{
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < grp->ntypes; i++) {
        uint64_t per = grp->cycles ? grp->types[i].count / grp->cycles : grp->types[i].count;
        char *piece = xprintf("%s%s*%llu", i ? " + " : "", grp->types[i].name,
                              (unsigned long long)per);
        if (!piece) {
            free(s);
            return NULL;
        }
        size_t pl = strlen(piece);
        if (len + pl + 1 > cap) {
            cap = (len + pl + 1) * 2;
            char *p = realloc(s, cap);
            if (!p) {
                free(piece);
                free(s);
                return NULL;
            }
            s = p;
        }
        memcpy(s + len, piece, pl + 1);
        len += pl;
        free(piece);
    }
    return s;
}

/* The cycle rules at one snapshot, into gather sets out[rule]. */
static int cycle_findings(struct ctx *x, const struct rs_snap_graph *g, const uint32_t *site,
                          struct gather *out, bool tally)
{
    struct rs_cycles cy;
    if (rs_snap_cycles(g, site, x->names, false, &cy))
        return -2;
    int rc = -2;
    /* Leaked references: single objects, and the members of leaked cycles. */
    for (size_t i = 0; i < cy.nleaked; i++) {
        const struct rs_count_item *it = &cy.leaked[i];
        if (suppressed(x, RS_RULE_LEAKED_REFS, it->name, NULL, it->site, tally ? it->count : 0)) {
            if (tally)
                x->c->results[RS_RULE_LEAKED_REFS].suppressed += it->count;
            continue;
        }
        const struct rs_site_name *sn = x->names ? rs_site_name(x->names, it->site) : NULL;
        char *key = xprintf("type:%s site:%s", it->name, sn && sn->text ? sn->text : "(unknown site)");
        struct rs_check_finding *f = key ? gather_get(&out[RS_RULE_LEAKED_REFS], key, it->name, sn) : NULL;
        free(key);
        if (!f)
            goto out;
        f->value += it->count;
        f->count += it->count;
        f->bytes += it->size;
    }
    for (size_t i = 0; i < cy.ngroups; i++) {
        const struct rs_cycle_group *grp = &cy.groups[i];
        enum rs_check_rule rule = grp->cls == RS_CYCLE_UNCOLLECTABLE ? RS_RULE_UNCOLLECTABLE
                                  : grp->cls == RS_CYCLE_LEAKED      ? RS_RULE_LEAKED_REFS
                                                                     : RS_RULE_CYCLIC_GARBAGE;
        uint64_t objects = 0, size = 0;
        for (size_t k = 0; k < grp->ntype_sites; k++) {
            const struct rs_count_item *it = &grp->type_sites[k];
            if (suppressed(x, rule, it->name, NULL, it->site, tally ? it->count : 0)) {
                if (tally)
                    x->c->results[rule].suppressed += it->count;
                continue;
            }
            if (rule == RS_RULE_LEAKED_REFS) { /* by type and site, like single objects */
                const struct rs_site_name *sn = x->names ? rs_site_name(x->names, it->site) : NULL;
                char *key = xprintf("type:%s site:%s", it->name,
                                    sn && sn->text ? sn->text : "(unknown site)");
                struct rs_check_finding *f =
                    key ? gather_get(&out[rule], key, it->name, sn) : NULL;
                free(key);
                if (!f)
                    goto out;
                f->value += it->count;
                f->count += it->count;
                f->bytes += it->size;
                continue;
            }
            objects += it->count;
            size += it->size;
        }
        if (rule == RS_RULE_LEAKED_REFS || !objects)
            continue;
        /* Named by its first type that is not a builtin (a class of the program's rather
         * than the instance dicts of it), allocated where most of those were. */
        const char *main_type = grp->ntypes ? grp->types[0].name : NULL;
        for (size_t k = 0; k < grp->ntypes; k++) {
            if (strncmp(grp->types[k].name, "builtins.", 9) != 0) {
                main_type = grp->types[k].name;
                break;
            }
        }
        const struct rs_site_name *sn = NULL;
        for (size_t k = 0; x->names && main_type && k < grp->ntype_sites && !sn; k++) {
            if (strcmp(grp->type_sites[k].name, main_type) == 0)
                sn = rs_site_name(x->names, grp->type_sites[k].site);
        }
        char *sig = group_signature(grp);
        char *key = sig ? xprintf("cycle:%s", sig) : NULL;
        struct item *gi = key ? gather_item(&out[rule], key, NULL, sn) : NULL;
        free(key);
        if (!gi) {
            free(sig);
            goto out;
        }
        struct rs_check_finding *f = &gi->f;
        if (!f->type && main_type && !(f->type = strdup(main_type))) {
            free(sig);
            goto out;
        }
        f->value += objects;
        f->count += grp->cycles;
        f->bytes += size;
        free(f->what);
        f->what = xprintf("%llu cycle%s of %llu object%s (%s)%s",
                          (unsigned long long)f->count, f->count == 1 ? "" : "s",
                          (unsigned long long)grp->members, grp->members == 1 ? "" : "s",
                          sig ? sig : "?", grp->finalizer ? ", with __del__" : "");
        free(sig);
        if (!f->what)
            goto out;
        /* One member, for a chain (gc.garbage holds the uncollectable ones). */
        if (!gi->has_example && grp->nexample) {
            gi->example = grp->example[0];
            gi->has_example = true;
        }
    }
    rc = 0;
out:
    rs_cycles_free(&cy);
    return rc;
}

static struct rs_check_finding *sorted_findings(struct gather *g, size_t *n, bool all);

static int by_count_desc(const void *a, const void *b);

/* A finding of a type the program's code defined or leaks, not of the interpreter's
 * plumbing (builtins, weak references): the growth rule's one-line reason names such a
 * type when one fails. */
static bool of_program_type(const struct rs_check_finding *f)
{
    return f->type && strncmp(f->key, "type:", 5) == 0 && strncmp(f->type, "builtins.", 9) != 0 &&
           strncmp(f->type, "weakref.", 8) != 0;
}

static int by_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The most common value of v[0..n) (sorts v). */
static uint32_t mode_of(uint32_t *v, size_t n)
{
    rs_qsort(v, n, sizeof *v, by_u32);
    uint32_t best = n ? v[0] : 0;
    size_t run = 0, best_run = 0;
    for (size_t i = 0; i < n; i++) {
        run = i && v[i] == v[i - 1] ? run + 1 : 1;
        if (run > best_run) {
            best_run = run;
            best = v[i];
        }
    }
    return best;
}

/* The window's last snapshot: growth findings (with the most common site or type of each,
 * and chains), then the cycle rules. */
static int analyse_to(struct ctx *x, struct rs_snap_graph *g, const struct rs_site_map *live)
{
    struct rs_check *c = x->c;
    struct rs_growth *gr = &x->gr;
    size_t a = x->ia, b = x->ib;
    int rc = -2;
    size_t n = g->n ? g->n : 1;
    uint32_t *site = live ? malloc(n * sizeof *site) : NULL;
    uint8_t *fresh = calloc(n, 1);      /* allocated after A (or since the start) */
    uint8_t *counted = calloc(n, 1);
    uint32_t *in_all = malloc(n * sizeof *in_all);
    uint8_t *kind = malloc(n);
    uint32_t *targets = malloc(n * sizeof *targets);
    struct chain_job *jobs = NULL;
    size_t njobs = 0;
    if ((live && !site) || !fresh || !counted || !in_all || !kind || !targets)
        goto out;
    for (uint32_t v = 0; v < g->n; v++) {
        uint32_t s = live ? rs_site_of(g, live, v) : RS_SITE_UNKNOWN;
        if (site)
            site[v] = s;
        if (!rs_growth_counts(g, v))
            continue;
        counted[v] = counts(x, g, v, s, false);
        uint32_t ep = live ? rs_epoch_of(g, live, v) : RS_EPOCH_UNKNOWN;
        fresh[v] = a == SIZE_MAX || (ep != RS_EPOCH_UNKNOWN && ep > x->rank_a);
    }
    /* Growth: by type, then by site. */
    struct gather *gg = &x->cur[RS_RULE_GROWTH];
    for (int pass = 0; pass < 2; pass++) {
        struct rs_growth_row *rows = pass ? gr->sites : gr->types;
        size_t nrows = pass ? gr->nsites : gr->ntypes;
        for (size_t i = 0; i < nrows; i++) {
            uint64_t from = a == SIZE_MAX ? 0 : rows[i].count[a], to = rows[i].count[b];
            if (to <= from)
                continue;
            char *key = xprintf("%s:%s", pass ? "site" : "type", rows[i].key);
            struct rs_check_finding *f =
                key ? gather_get(gg, key, pass ? NULL : rows[i].key, pass ? rows[i].site : NULL)
                    : NULL;
            free(key);
            if (!f)
                goto out;
            f->from = from;
            f->to = to;
            f->value = to - from;
            f->count = to;
            uint64_t sf = a == SIZE_MAX ? 0 : rows[i].size[a], st = rows[i].size[b];
            f->bytes = st > sf ? st - sf : 0;
        }
    }
    /* Details of the largest: the site (or type) most of their new objects have, and the
     * chain to one of them. */
    struct item **order = calloc(HASH_COUNT(gg->by_key) + 1, sizeof *order);
    if (!order)
        goto out;
    size_t no = 0;
    for (struct item *it = gg->by_key; it; it = it->hh.next)
        order[no++] = it;
    rs_qsort(order, no, sizeof *order, by_count_desc);
    size_t want = no < c->opt.max_chains ? no : c->opt.max_chains;
    /* The type the reason line will name (headline) gets its details even when larger
     * findings of builtins fill the first places. */
    for (size_t k = 0; want && k < no; k++) {
        const struct rs_check_finding *f = &order[k]->f;
        if (of_program_type(f) && f->value > c->cfg->limit[RS_RULE_GROWTH]) {
            if (k >= want) {
                struct item *t = order[want - 1];
                order[want - 1] = order[k];
                order[k] = t;
            }
            break;
        }
    }
    jobs = calloc(want + 64, sizeof *jobs);
    if (!jobs || rs_snap_build_reverse(g)) {
        free(order);
        goto out;
    }
    rs_snap_in_degrees(g, in_all, NULL);
    rs_snap_root_kinds(g, in_all, kind);
    for (size_t k = 0; k < want; k++) {
        struct rs_check_finding *f = &order[k]->f;
        bool by_type = f->type != NULL;
        const struct rs_site_name *want_site = NULL;
        if (!by_type && x->names) {
            for (size_t i = 0; i < gr->nsites; i++) {
                if (strcmp(gr->sites[i].key, f->site ? f->site : "") == 0)
                    want_site = rs_site_name(x->names, gr->sites[i].stack_id);
            }
        }
        /* The objects of the finding, new ones first. */
        size_t nt = 0;
        for (int want_new = 1; want_new >= 0 && nt == 0; want_new--) {
            for (uint32_t v = 0; v < g->n; v++) {
                if (!counted[v] || (want_new && !fresh[v]))
                    continue;
                if (by_type) {
                    if (strcmp(rs_snap_type_name(g, v), f->type) != 0)
                        continue;
                } else {
                    const struct rs_site_name *sn =
                        site && x->names ? rs_site_name(x->names, site[v]) : NULL;
                    if (!sn || !want_site || sn->canonical != want_site->canonical)
                        continue;
                }
                targets[nt++] = v;
            }
        }
        /* The most common site of a type's objects, the most common type at a site (of at
         * most 4096 of them). */
        size_t m = nt < 4096 ? nt : 4096;
        uint32_t *tally = malloc((m ? m : 1) * sizeof *tally);
        if (!tally) {
            free(order);
            goto out;
        }
        if (by_type && site && x->names && !f->site && m) {
            for (size_t i = 0; i < m; i++) {
                const struct rs_site_name *sn = rs_site_name(x->names, site[targets[i]]);
                tally[i] = sn ? sn->canonical : RS_SITE_UNKNOWN;
            }
            const struct rs_site_name *sn = rs_site_name(x->names, mode_of(tally, m));
            if (sn && sn->text) {
                f->site = strdup(sn->text);
                f->site_caller = xstrdup(sn->caller);
                if (sn->frame) {
                    f->site_file = xstrdup(sn->frame->file);
                    f->site_function = xstrdup(sn->frame->function);
                    f->site_line = sn->frame->line;
                }
            }
        } else if (!by_type && !f->type && m) {
            for (size_t i = 0; i < m; i++)
                tally[i] = g->type[targets[i]];
            uint32_t ti = mode_of(tally, m);
            f->type = strdup(g->strings + g->types[ti].name);
        }
        free(tally);
        jobs[njobs].f = f;
        if (rs_snap_backref_chain(g, kind, targets, nt, 0, &jobs[njobs].ch)) {
            free(order);
            goto out;
        }
        njobs++;
    }
    free(order);

    /* The cycle rules. */
    if (cycle_findings(x, g, site, x->cur, true))
        goto out;
    /* Chains to one member of the uncollectable cycles (gc.garbage holds them). */
    size_t nu = 0;
    for (struct item *it = x->cur[RS_RULE_UNCOLLECTABLE].by_key; it; it = it->hh.next) {
        struct rs_check_finding *f = &it->f;
        if (nu >= 64 || !it->has_example || it->example >= g->n)
            continue;
        targets[0] = it->example;
        jobs[njobs].f = f;
        if (rs_snap_backref_chain(g, kind, targets, 1, 0, &jobs[njobs].ch))
            goto out;
        njobs++;
        nu++;
    }
    rc = fill_chains(x, g, jobs, njobs);
out:
    for (size_t k = 0; jobs && k < njobs; k++)
        rs_chain_free(&jobs[k].ch);
    free(jobs);
    free(site);
    free(fresh);
    free(counted);
    free(in_all);
    free(kind);
    free(targets);
    return rc;
}

static int snap_end(void *arg, size_t s, struct rs_snap_graph *g, const struct rs_site_map *live)
{
    struct ctx *x = arg;
    int rc = 0;
    if (s == x->ib) {
        rc = analyse_to(x, g, live);
        x->snap_done = rc == 0;
    } else if (s == x->ia && x->c->explicit_from) {
        /* The cycle rules at A: what the window adds is measured against them. */
        size_t n = g->n ? g->n : 1;
        uint32_t *site = live ? malloc(n * sizeof *site) : NULL;
        if (live && !site)
            return -2;
        for (uint32_t v = 0; site && v < g->n; v++)
            site[v] = rs_site_of(g, live, v);
        rc = cycle_findings(x, g, site, x->base, false);
        free(site);
    }
    return rc;
}

/* ---- turning findings into verdicts ---------------------------------------------------- */

static int by_excess(const void *a, const void *b)
{
    const struct rs_check_finding *x = a, *y = b;
    if (x->excess != y->excess)
        return x->excess > y->excess ? -1 : 1;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return -strcmp(x->key, y->key); /* "type:" before "site:" */
}

static int by_count_desc(const void *a, const void *b)
{
    const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;
    if (x->f.value != y->f.value)
        return x->f.value > y->f.value ? -1 : 1;
    return -strcmp(x->key, y->key);
}

/* Moves the findings out of the hash into an array (when `all`), else copies the structs
 * for ordering only. */
static struct rs_check_finding *sorted_findings(struct gather *g, size_t *n, bool all)
{
    size_t cnt = HASH_COUNT(g->by_key);
    *n = cnt;
    if (!cnt)
        return NULL;
    struct rs_check_finding *v = calloc(cnt, sizeof *v);
    if (!v)
        return NULL;
    size_t i = 0;
    struct item *it, *tmp;
    HASH_ITER(hh, g->by_key, it, tmp) {
        v[i++] = it->f;
        if (all) {
            HASH_DEL(g->by_key, it);
            free(it);
        }
    }
    return v;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* The one-line reason of a broken rule, from its largest findings. */
/* The finding the one-line reason names: the largest, but for growth the largest type over
 * the limit that is not the interpreter's plumbing (builtins, weak references) when there
 * is one: the program's objects (a Session, a logging.Logger, an asyncio Task) are what
 * leaks, their dicts, lists, strings and weak references its parts, and a site of builtins
 * may be where their free list's memory was first made. */
static const struct rs_check_finding *headline(const struct rs_check_result *r)
{
    if (!r->nfindings)
        return NULL;
    const struct rs_check_finding *best = NULL;
    for (size_t i = 0; r->rule == RS_RULE_GROWTH && i < r->nfindings; i++) {
        const struct rs_check_finding *f = &r->findings[i];
        if (f->excess <= r->limit || !of_program_type(f))
            continue;
        if (best && f->excess < best->excess)
            break;
        /* of types that grew alike (a task and its context), the one nearer a root: the
         * other is its part */
        if (!best || (f->nsteps && (!best->nsteps || f->nsteps < best->nsteps)))
            best = f;
    }
    return best ? best : &r->findings[0];
}

static char *reason_of(const struct rs_check *c, const struct rs_check_result *r)
{
    char a[RS_NUM_BUF], b[RS_NUM_BUF], l[RS_NUM_BUF], d[RS_NUM_BUF];
    const struct rs_check_finding *f = headline(r);
    bool base = c->baseline || c->explicit_from;
    const char *newer = base ? " new or more than before" : "";
    char *head = NULL, *detail = NULL;
    /* A site in a library is shown with the program's line that called into it. */
    const char *site = f && f->site ? f->site : "(unknown site)";
    char *called = f && f->site_caller ? xprintf("%s (called from %s)", site, f->site_caller) : NULL;
    const char *at = called ? called : site;
    size_t over = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        over += r->per_item ? r->findings[i].excess > r->limit : r->findings[i].excess > 0;
    switch (r->rule) {
    case RS_RULE_LEAKED_BYTES:
        head = xprintf("%s bytes%s left allocated at exit (limit %s) in %s %s", rs_fmt_count(a, r->counted),
                       newer, rs_fmt_count(l, r->limit),
                       rs_fmt_count(b, over), plural(over, "site", "sites"));
        if (f)
            detail = xprintf("largest: %s bytes in %s %s at %s", rs_fmt_count(a, f->excess),
                             rs_fmt_count(b, f->count), plural(f->count, "block", "blocks"),
                             at);
        break;
    case RS_RULE_GROWTH:
        if (!f)
            break;
        if (f->type && strncmp(f->key, "type:", 5) == 0)
            head = xprintf("%s grew by %s %s (%s -> %s, limit %s)",
                           rs_type_display(f->type, false), rs_fmt_count(a, f->value),
                           plural(f->value, "object", "objects"), rs_fmt_count(b, f->from),
                           rs_fmt_count(d, f->to), rs_fmt_count(l, r->limit));
        else
            head = xprintf("%s more objects (%s -> %s, limit %s) allocated at %s",
                           rs_fmt_count(a, f->value), rs_fmt_count(b, f->from),
                           rs_fmt_count(d, f->to), rs_fmt_count(l, r->limit),
                           at);
        if (f->has_base && f->base)
            detail = xprintf("%s more than the baseline's %s", rs_fmt_count(a, f->excess),
                             rs_fmt_count(b, f->base));
        {
            char *where = NULL;
            if (f->type && strncmp(f->key, "type:", 5) == 0)
                where = xprintf("allocated at %s", at);
            else if (f->type)
                where = xprintf("mostly %s", rs_type_display(f->type, false));
            if (where) {
                char *d2 = detail ? xprintf("%s; %s", detail, where) : xstrdup(where);
                free(detail);
                free(where);
                detail = d2;
            }
        }
        break;
    case RS_RULE_LEAKED_REFS:
        head = xprintf("%s %s%s kept alive by references no recorded object holds (limit %s)",
                       rs_fmt_count(a, r->counted), plural(r->counted, "object", "objects"),
                       newer, rs_fmt_count(l, r->limit));
        if (f)
            /* Held from C is a missing Py_DECREF or C state no object shows: a registry of
             * the interpreter's (atexit.register keeps its callables in C) or a module's. */
            detail = xprintf("%s %s allocated at %s, held from C (a missing Py_DECREF, or C "
                             "state such as atexit's callbacks)",
                             rs_fmt_count(a, f->excess), f->type ? rs_type_display(f->type, false) : "?",
                             at);
        break;
    case RS_RULE_UNCOLLECTABLE:
        head = xprintf("%s %s%s in uncollectable cycles, held by gc.garbage (limit %s)",
                       rs_fmt_count(a, r->counted), plural(r->counted, "object", "objects"), newer,
                       rs_fmt_count(l, r->limit));
        if (f)
            detail = xprintf("%s, allocated at %s", f->what ? f->what : "?",
                             at);
        break;
    case RS_RULE_CYCLIC_GARBAGE:
        head = xprintf("%s %s%s of cyclic garbage not collected (limit %s)",
                       rs_fmt_count(a, r->counted), plural(r->counted, "object", "objects"), newer,
                       rs_fmt_count(l, r->limit));
        if (f)
            detail = xprintf("%s, allocated at %s; unreachable: no chain from a root (is gc "
                             "disabled?)", f->what ? f->what : "?",
                             at);
        break;
    default:
        break;
    }
    char *chain = f && f->chain ? xprintf("; held by %s", f->chain) : NULL;
    char *more = NULL;
    if (over > 1)
        more = xprintf(" (+%zu more)", over - 1);
    char *out = xprintf("%s%s%s%s%s", head ? head : "broken", detail ? ": " : "",
                        detail ? detail : "", chain ? chain : "", more ? more : "");
    free(head);
    free(detail);
    free(chain);
    free(more);
    free(called);
    return out;
}

static int finish_rule(struct ctx *x, enum rs_check_rule rule)
{
    struct rs_check *c = x->c;
    struct rs_check_result *r = &c->results[rule];
    r->rule = rule;
    r->limit = c->cfg->limit[rule];
    r->per_item = rule == RS_RULE_GROWTH;
    if (r->verdict == RS_VERDICT_SKIPPED) {
        gather_free(&x->cur[rule]);
        return 0;
    }
    size_t n;
    struct rs_check_finding *v = sorted_findings(&x->cur[rule], &n, true);
    if (!v && n)
        return -2;
    for (size_t i = 0; i < n; i++) {
        struct rs_check_finding *f = &v[i];
        uint64_t base = 0;
        bool has = false;
        /* The window's first snapshot, for the cycle rules. */
        struct item *bi = NULL;
        HASH_FIND_STR(x->base[rule].by_key, f->key, bi);
        if (bi) {
            base = bi->f.value;
            has = true;
        }
        uint64_t bv;
        uint64_t excess = f->value > base ? f->value - base : 0;
        if (c->baseline && rs_baseline_find(c->baseline, rule, f->key, f->loose_key, &bv)) {
            has = true;
            base += bv;
            uint64_t tol = bv / 100 * c->cfg->tolerance_pct +
                           bv % 100 * c->cfg->tolerance_pct / 100;
            excess = f->value > sat_add(base, tol) ? f->value - base : 0;
        }
        f->has_base = has;
        f->base = base;
        f->excess = excess;
        r->value = r->per_item ? (f->value > r->value ? f->value : r->value)
                               : sat_add(r->value, f->value);
        r->counted = r->per_item ? (excess > r->counted ? excess : r->counted)
                                 : sat_add(r->counted, excess);
    }
    rs_qsort(v, n, sizeof *v, by_excess);
    while (n > MAX_FINDINGS)
        free_finding(&v[--n]);
    r->findings = v;
    r->nfindings = n;
    if (r->limit == RS_LIMIT_OFF) {
        r->verdict = RS_VERDICT_OFF;
        return 0;
    }
    r->verdict = r->counted > r->limit ? RS_VERDICT_FAIL : RS_VERDICT_PASS;
    if (r->verdict == RS_VERDICT_FAIL) {
        c->failures++;
        if (!(r->reason = reason_of(c, r)))
            return -2;
    } else {
        char a[RS_NUM_BUF], l[RS_NUM_BUF];
        r->reason = xprintf("%s %s%s (limit %s)", rs_fmt_count(a, r->per_item ? r->counted : r->counted),
                            rs_check_rule_unit(rule),
                            r->per_item ? " at most per type or site" : "",
                            rs_fmt_count(l, r->limit));
        if (!r->reason)
            return -2;
    }
    return 0;
}

static void skip(struct rs_check *c, enum rs_check_rule rule, const char *why)
{
    struct rs_check_result *r = &c->results[rule];
    if (r->verdict == RS_VERDICT_SKIPPED)
        return;
    r->verdict = RS_VERDICT_SKIPPED;
    r->skipped_why = strdup(why);
    r->reason = xprintf("skipped: %s", why);
}

static void set_snap(struct rs_check_snap *s, const struct rs_snap_info *si)
{
    s->present = true;
    s->id = si->id;
    s->label = strndup(si->label.s ? si->label.s : "", si->label.len);
    s->time = si->time;
}

/* ---- the evaluation --------------------------------------------------------------------- */

static char *program_text(const struct rs_trace *t)
{
    size_t len = 1;
    for (size_t i = 0; i < t->hdr.argc; i++)
        len += t->hdr.argv[i].len + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < t->hdr.argc; i++) {
        if (i)
            s[k++] = ' ';
        memcpy(s + k, t->hdr.argv[i].s, t->hdr.argv[i].len);
        k += t->hdr.argv[i].len;
    }
    s[k] = '\0';
    return s;
}

static int snapshot_rules(struct ctx *x)
{
    struct rs_check *c = x->c;
    const struct rs_trace *t = x->t;
    size_t n = rs_snap_count_complete(t);
    c->snapshots = n;
    bool any = false;
    for (int r = RS_RULE_GROWTH; r < RS_RULE_COUNT; r++)
        any = any || c->cfg->limit[r] != RS_LIMIT_OFF;
    if (!any)
        return 0;
    if (n == 0) {
        const char *why = c->python ? "the trace has no complete object-graph snapshot"
                                    : "not a Python program: no object-graph snapshots";
        for (int r = RS_RULE_GROWTH; r < RS_RULE_COUNT; r++)
            skip(c, r, why);
        c->window = "none";
        return 0;
    }
    const struct rs_snap_info **snaps = calloc(n, sizeof *snaps);
    bool *load = calloc(n, sizeof *load);
    int rc = -2;
    if (!snaps || !load)
        goto out;
    size_t k = 0;
    for (size_t i = 0; i < t->snapshots->n; i++) {
        if (t->snapshots->v[i].complete)
            snaps[k++] = &t->snapshots->v[i];
    }
    const struct rs_snap_info *sa = NULL, *sb = NULL;
    if (c->opt.to && !(sb = rs_snap_find(t, c->opt.to))) {
        snprintf(x->err, x->errcap, "no complete snapshot has the id or label '%s'", c->opt.to);
        rc = -1;
        goto out;
    }
    if (c->opt.from && !(sa = rs_snap_find(t, c->opt.from))) {
        snprintf(x->err, x->errcap, "no complete snapshot has the id or label '%s'", c->opt.from);
        rc = -1;
        goto out;
    }
    if (!sb) { /* the last by time */
        sb = snaps[0];
        for (size_t i = 1; i < n; i++)
            if (snaps[i]->time >= sb->time)
                sb = snaps[i];
    }
    if (!sa && n > 1) { /* the first by time */
        for (size_t i = 0; i < n; i++)
            if (snaps[i] != sb && (!sa || snaps[i]->time < sa->time))
                sa = snaps[i];
        if (sa && sa->time > sb->time)
            sa = NULL;
    }
    if (sa && sa->time > sb->time) {
        snprintf(x->err, x->errcap, "the --from snapshot (%u) comes after the --to snapshot (%u)",
                 (unsigned)sa->id, (unsigned)sb->id);
        rc = -1;
        goto out;
    }
    if (sa == sb)
        sa = NULL;
    x->ia = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (snaps[i] == sa)
            x->ia = i;
        if (snaps[i] == sb)
            x->ib = i;
    }
    load[x->ib] = true;
    if (sa) {
        load[x->ia] = true;
        uint32_t rank = 0;
        for (size_t i = 0; i < n; i++)
            rank += snaps[i]->time < sa->time || (snaps[i]->time == sa->time && i < x->ia);
        x->rank_a = rank; /* allocated after A: epoch > rank (see RS_EPOCH_UNKNOWN) */
        set_snap(&c->from, sa);
        c->window = "snapshots";
    } else {
        c->window = "since-start";
    }
    set_snap(&c->to, sb);
    if (!sa && (!x->names || !t->nevents)) {
        skip(c, RS_RULE_GROWTH, "one snapshot and no allocation events: nothing tells what "
                                "the program's own code made since it started");
    }
    if (rs_snap_source_file(&x->src, c->path, t->file_size, x->err, x->errcap)) {
        rc = -1;
        goto out;
    }
    x->src_open = true;
    struct rs_growth_filter filter = {
        .load = load,
        .load_flags = RS_SNAP_LOAD_EDGES | RS_SNAP_LOAD_LABELS,
        .begin = snap_begin,
        .keep = snap_keep,
        .end = snap_end,
        .arg = x,
    };
    rc = rs_growth_build_filtered(t, &x->src, x->names, &filter, &x->gr, &c->notes, x->err,
                                  x->errcap);
    if (rc == 0 && !x->snap_done) {
        snprintf(x->err, x->errcap, "snapshot %u could not be analysed", (unsigned)sb->id);
        rc = -1;
    }
    c->results[RS_RULE_GROWTH].suppressed = x->growth_suppressed;
    if (!c->results[RS_RULE_GROWTH].measure)
        c->results[RS_RULE_GROWTH].measure =
            sa ? xprintf("objects alive (cyclic garbage, and what only bounded caches hold, "
                         "left out; those the collector does "
                         "not track counted where a module or thread reaches them and a "
                         "container holds them, not an instance whose growth they are), gained "
                         "from snapshot %u to snapshot %u, per type and per allocation site",
                         (unsigned)sa->id, (unsigned)sb->id)
               : xprintf("one snapshot (%u): objects the collector tracks alive in it that "
                         "the program's own code made since it started (the interpreter's, "
                         "imports' and start-up's, and what only bounded caches hold, left "
                         "out), per allocation site; types are "
                         "compared only between two snapshots", (unsigned)sb->id);
    c->results[RS_RULE_LEAKED_REFS].measure =
        xprintf("objects in snapshot %u that references no recorded object holds keep alive "
                "(held from C)%s", (unsigned)sb->id, c->explicit_from ? ", more than in the "
                "--from snapshot" : "");
    c->results[RS_RULE_UNCOLLECTABLE].measure =
        xprintf("objects in snapshot %u in reference cycles held by gc.garbage%s",
                (unsigned)sb->id, c->explicit_from ? ", more than in the --from snapshot" : "");
    c->results[RS_RULE_CYCLIC_GARBAGE].measure =
        xprintf("objects in snapshot %u in unreachable reference cycles the collector would "
                "free%s", (unsigned)sb->id, c->explicit_from ? ", more than in the --from "
                "snapshot" : "");
out:
    free(snaps);
    free(load);
    return rc;
}

int rs_check_eval(struct rs_check *c, const char *path, struct rs_check_config *cfg,
                  const struct rs_check_options *opt, char *err, size_t errcap)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(c, 0, sizeof *c);
    c->path = path;
    c->cfg = cfg;
    c->opt = *opt;
    if (!c->opt.max_chains)
        c->opt.max_chains = 5;
    c->explicit_from = opt->from != NULL;
    c->window = "none";
    c->leak_point = "end_of_trace";
    c->supp = cfg->supp;
    c->nsupp = cfg->nsupp;
    for (size_t i = 0; i < c->nsupp; i++)
        c->supp[i].hits = 0;
    if (opt->baseline && rs_baseline_load(&c->baseline, opt->baseline, err, errcap) != 0)
        return RS_CHECK_EXIT_ERROR;

    /* The report (replay, C-runtime blocks) when bytes leaked are checked; else only the
     * trace and a symbolizer (sites), which is much cheaper for large binaries. */
    bool want_report = cfg->limit[RS_RULE_LEAKED_BYTES] != RS_LIMIT_OFF;
    struct rs_report rep;
    memset(&rep, 0, sizeof rep);
    struct rs_trace *trace = NULL;
    struct rs_symbolizer *own_sym = NULL;
    struct rs_read_error rerr;
    if (want_report) {
        struct rs_report_options ropt;
        memset(&ropt, 0, sizeof ropt);
        ropt.top = 1;
        ropt.stack_depth = 1;
        /* With --from, what was allocated before A is not the window's: the one-time
         * set-up of libraries (OpenSSL's tables, a parser's buffer) is left out. */
        ropt.since_snapshot = opt->from;
        if (rs_report_build(&rep, path, &ropt, &rerr) != 0) {
            snprintf(err, errcap, "%s", rerr.message);
            return RS_CHECK_EXIT_ERROR;
        }
        trace = rep.trace;
        for (size_t i = 0; i < rep.notes.n; i++)
            rs_notes_add(&c->notes, rep.notes.items[i].level, "%s", rep.notes.items[i].text);
    } else {
        if (rs_trace_read_file_streamed(path, &trace, &rerr) != RS_READ_OK) {
            snprintf(err, errcap, "%s", rerr.message);
            return RS_CHECK_EXIT_ERROR;
        }
        if (!(own_sym = rs_symbolizer_new(trace, &c->notes))) {
            rs_trace_free(trace);
            snprintf(err, errcap, "out of memory");
            return RS_CHECK_EXIT_ERROR;
        }
    }
    struct ctx x;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.t = trace;
    x.sym = want_report ? rep.sym : own_sym;
    x.err = err;
    x.errcap = errcap;
    x.ia = x.ib = SIZE_MAX;
    err[0] = '\0';
    c->python = rs_trace_is_python(trace);
    if (c->python && trace->py.present && trace->py.version.s) {
        const char *v = trace->py.version.s;
        c->python_version = strndup(v, strcspn(v, " "));
    }
    c->trace_status = trace->partial ? "partial" : trace->end.present ? "complete" : "incomplete";
    c->program = program_text(trace);
    if (!trace->end.present || trace->partial)
        rs_notes_add(&c->notes, RS_NOTE_WARNING,
                     "the trace is %s (the program was killed, or is still running): bytes "
                     "leaked are what was allocated when the trace stops", c->trace_status);
    int rc = -2;
    if (!(x.names = rs_site_names_new(trace, x.sym)))
        goto out;
    rs_supp_matcher_init(&x.match, c->supp, c->nsupp, c->python, trace, x.sym, x.names);
    if (trace->nevents == 0)
        skip(c, RS_RULE_LEAKED_BYTES, "the trace has no allocation events");
    else if (want_report && leaked_bytes(&x, &rep))
        goto out;
    rc = snapshot_rules(&x);
    if (rc)
        goto out;
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        if ((rc = finish_rule(&x, r)) != 0)
            goto out;
    }
    if (c->results[RS_RULE_LEAKED_BYTES].measure == NULL)
        c->results[RS_RULE_LEAKED_BYTES].measure = strdup("bytes left allocated at exit");
out:
    if (rc == -2 && !err[0])
        snprintf(err, errcap, "out of memory");
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        gather_free(&x.cur[r]);
        gather_free(&x.base[r]);
    }
    rs_supp_matcher_free(&x.match);
    free(x.growth_excluded);
    free(x.type_ok);
    rs_growth_free(&x.gr);
    if (x.src_open)
        rs_snap_source_close(&x.src);
    rs_site_names_free(x.names);
    if (want_report) {
        rs_report_free(&rep);
    } else {
        rs_symbolizer_free(own_sym);
        rs_trace_free(trace);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c->elapsed_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec -
                    (uint64_t)t0.tv_nsec;
    return rc ? RS_CHECK_EXIT_ERROR : 0;
}

void rs_check_free(struct rs_check *c)
{
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        struct rs_check_result *res = &c->results[r];
        for (size_t i = 0; i < res->nfindings; i++)
            free_finding(&res->findings[i]);
        free(res->findings);
        free(res->reason);
        free(res->skipped_why);
        free(res->measure);
    }
    free(c->python_version);
    free(c->program);
    free(c->from.label);
    free(c->to.label);
    rs_notes_free(&c->notes);
    rs_baseline_free(c->baseline);
    memset(c, 0, sizeof *c);
}
