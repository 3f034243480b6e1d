#include "supp_match.h"

#include "rs_uthash.h"

#include <stdlib.h>
#include <string.h>

/* Per allocation stack: which suppressions' site/stack terms match it, found when first
 * asked (most objects are taken out by the first suppressions, so the others, and the
 * symbolization of whole stacks for stack: terms, are rarely needed). */
struct where_entry {
    uint32_t stack;
    const struct rs_site_name *site;
    int frames_state;        /* 0 not symbolized yet, 1 frames valid, -1 none */
    struct rs_frames frames; /* the whole stack, hybrid view */
    uint8_t *ok;             /* per suppression: 0 not known yet, 1 no, 2 yes */
    UT_hash_handle hh;
};

void rs_supp_matcher_init(struct rs_supp_matcher *m, struct rs_suppression *supp, size_t nsupp,
                          bool python, const struct rs_trace *t, struct rs_symbolizer *sym,
                          struct rs_site_names *names)
{
    *m = (struct rs_supp_matcher){.supp = supp, .nsupp = nsupp, .python = python, .t = t,
                                  .sym = sym, .names = names};
}

void rs_supp_matcher_free(struct rs_supp_matcher *m)
{
    struct where_entry *w, *wt;
    HASH_ITER(hh, m->where, w, wt) {
        HASH_DEL(m->where, w);
        if (w->frames_state == 1)
            rs_frames_free(&w->frames);
        free(w->ok);
        free(w);
    }
}

static struct where_entry *where_of(struct rs_supp_matcher *m, uint32_t stack)
{
    struct where_entry *w = NULL;
    HASH_FIND(hh, m->where, &stack, sizeof stack, w);
    if (w)
        return w;
    w = calloc(1, sizeof *w);
    if (!w || !(w->ok = calloc(m->nsupp ? m->nsupp : 1, 1))) {
        free(w);
        return NULL;
    }
    w->stack = stack;
    w->site = m->names ? rs_site_name(m->names, stack) : NULL;
    HASH_ADD(hh, m->where, stack, sizeof w->stack, w);
    return w;
}

static bool has_stack_term(const struct rs_suppression *s)
{
    for (size_t k = 0; k < s->nterms; k++)
        if (s->terms[k].kind == RS_TERM_STACK)
            return true;
    return false;
}

/* Do suppression i's site, stack and interpreter terms match the stack? */
static bool where_ok(struct rs_supp_matcher *m, struct where_entry *w, size_t i)
{
    if (w->ok[i])
        return w->ok[i] == 2;
    const struct rs_suppression *s = &m->supp[i];
    if (has_stack_term(s) && w->frames_state == 0) {
        const struct rs_trace_stack *st =
            w->stack != RS_SITE_UNKNOWN && w->stack != RS_STACK_ID_NONE && m->sym
                ? rs_trace_stack_find(m->t, w->stack) : NULL;
        w->frames_state = st && rs_symbolize_stack_view(m->sym, st->words, st->nwords,
                                                        RS_VIEW_HYBRID, 0, &w->frames) == 0
                              ? 1 : -1;
    }
    /* Sampling records one allocation in many: an object with no recorded allocation was
     * not sampled, not made by the interpreter, so the interpreter term does not take it.
     * One recorded with no stack was (RS_STACK_ID_NONE: start-up, teardown): a block
     * sampled then and alive at the end failed leaked-bytes on clean programs now and
     * then. */
    bool unsampled = m->t->hdr.sample_bytes && w->stack == RS_SITE_UNKNOWN;
    bool match = rs_supp_where_match(s, w->site, w->frames_state == 1 ? &w->frames : NULL,
                                     m->python && !unsampled);
    w->ok[i] = match ? 2 : 1;
    return match;
}

uint8_t *rs_supp_type_verdicts(const struct rs_supp_matcher *m, const struct rs_snap_graph *g)
{
    size_t ns = m->nsupp;
    uint8_t *ok = calloc((size_t)(g->ntypes ? g->ntypes : 1) * (ns ? ns : 1), 1);
    for (uint32_t i = 0; ok && i < g->ntypes; i++) {
        for (size_t k = 0; k < ns; k++)
            ok[(size_t)i * ns + k] = rs_supp_type_match(&m->supp[k], g->strings + g->types[i].name);
    }
    return ok;
}

bool rs_supp_matcher_hit(struct rs_supp_matcher *m, enum rs_check_rule rule, const char *type,
                         const uint8_t *type_ok, uint32_t stack, uint64_t weight)
{
    struct where_entry *w = where_of(m, stack);
    for (size_t i = 0; i < m->nsupp; i++) {
        struct rs_suppression *s = &m->supp[i];
        if (!rs_supp_rule_match(s, (int)rule))
            continue;
        if (s->has_type && !(type_ok ? type_ok[i] : rs_supp_type_match(s, type)))
            continue;
        if (s->has_where && !(w && where_ok(m, w, i)))
            continue;
        s->hits = s->hits + weight < s->hits ? UINT64_MAX : s->hits + weight;
        return true;
    }
    return false;
}
