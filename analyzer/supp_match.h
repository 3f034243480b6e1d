/* Which suppressions take an object (or a block) out of a rule: the matching `refscope
 * check` applies to what it counts, shared with the report's leak suspects so that both
 * leave out the same things (the interpreter's caches...). */
#ifndef REFSCOPE_SUPP_MATCH_H
#define REFSCOPE_SUPP_MATCH_H

#include "check.h"
#include "snap_sites.h"
#include "symbolize.h"
#include "trace_model.h"

struct where_entry;

struct rs_supp_matcher {
    struct rs_suppression *supp;  /* hits are counted in them */
    size_t nsupp;
    bool python;                  /* a Python trace: the interpreter term applies */
    const struct rs_trace *t;
    struct rs_symbolizer *sym;    /* may be NULL: stack terms then never match */
    struct rs_site_names *names;  /* may be NULL: site terms then never match */
    struct where_entry *where;    /* per stack: the site and stack terms' verdicts */
};

void rs_supp_matcher_init(struct rs_supp_matcher *m, struct rs_suppression *supp, size_t nsupp,
                          bool python, const struct rs_trace *t, struct rs_symbolizer *sym,
                          struct rs_site_names *names);
void rs_supp_matcher_free(struct rs_supp_matcher *m);
/* Is an object of `type` (NULL: a raw block) allocated at `stack` suppressed for `rule`?
 * type_ok: the verdicts of each suppression's type terms for that type when known in
 * advance (rs_supp_type_match), else NULL. Adds `weight` to the hits of the suppression
 * that took it out. */
bool rs_supp_matcher_hit(struct rs_supp_matcher *m, enum rs_check_rule rule, const char *type,
                         const uint8_t *type_ok, uint32_t stack, uint64_t weight);
/* The type terms' verdicts for every type of a snapshot, [type index * nsupp + s], for
 * rs_supp_matcher_hit's type_ok (malloc'd; NULL when out of memory). */
uint8_t *rs_supp_type_verdicts(const struct rs_supp_matcher *m, const struct rs_snap_graph *g);

#endif
