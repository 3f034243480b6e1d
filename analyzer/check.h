/* `refscope check`: a leak gate for CI. A trace passes or fails a small set of rules
 * (bytes leaked at exit, growth between snapshots, leaked references, uncollectable
 * cycles, cyclic garbage), each computed by the analyses the other commands use (the
 * report's replay, growth, cycles, backref chains), with suppressions (by type, site or
 * stack pattern, a built-in list for the interpreter's caches) and an optional baseline
 * (the JSON of an earlier check: only what is new or bigger counts).
 *
 * check_config.c: the rules' limits, the suppressions, the config file format.
 * check_eval.c:   evaluating a trace.
 * check_out.c:    the baseline, and the outputs (text, JSON refscope.check/1, JUnit XML,
 *                 Markdown).
 * cmd_check.c:    the command line (and `refscope run --check`). */
#ifndef REFSCOPE_CHECK_H
#define REFSCOPE_CHECK_H

#include "notes.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum rs_check_rule {
    RS_RULE_LEAKED_BYTES = 0,  /* bytes the program left allocated at exit */
    RS_RULE_GROWTH,            /* objects gained per type or per allocation site */
    RS_RULE_LEAKED_REFS,       /* objects kept alive by references no recorded object holds */
    RS_RULE_UNCOLLECTABLE,     /* objects in cycles held by gc.garbage */
    RS_RULE_CYCLIC_GARBAGE,    /* objects the collector would free, not freed yet */
    RS_RULE_COUNT,
};

#define RS_LIMIT_OFF UINT64_MAX

/* "leaked-bytes"... (the id in every output), "max-leaked-bytes"... (config key and flag). */
const char *rs_check_rule_id(enum rs_check_rule r);
const char *rs_check_rule_key(enum rs_check_rule r);
/* The rule named by its id, or -1. */
int rs_check_rule_from_id(const char *id);
/* "bytes" or "objects" */
const char *rs_check_rule_unit(enum rs_check_rule r);

/* ---- suppressions ------------------------------------------------------------------ */

enum rs_term_kind {
    RS_TERM_TYPE,            /* type:GLOB    the object's type (module.qualname, or the name
                              *               without "builtins.") */
    RS_TERM_SITE,            /* site:GLOB    the allocation site: "FILE:LINE FUNCTION" with the
                              *               file's whole path, or the short text
                              *               "file.py:21 handle" */
    RS_TERM_STACK,           /* stack:GLOB   any frame of the allocation stack (native and
                              *               Python): "FILE:LINE FUNCTION", the function, the
                              *               file, the module */
    RS_TERM_RULE,            /* rule:ID      only for that rule */
    RS_TERM_INTERPRETER,     /* interpreter  Python only: made by the interpreter itself (no
                              *               stack, start-up, teardown, an import, frozen
                              *               modules, no Python frame) */
};

struct rs_supp_term {
    enum rs_term_kind kind;
    bool negate;             /* !kind:GLOB */
    char *pattern;           /* the glob (fnmatch, '*' matches '/' too) */
    int rule;                /* RS_TERM_RULE */
};

/* One suppression: all its terms must match. */
struct rs_suppression {
    struct rs_supp_term *terms;
    size_t nterms;
    char *text;              /* as written, normalised: "site:*\/re.py:*" */
    char *origin;            /* "default", "FILE:LINE" or "--suppress" */
    const char *why;         /* defaults: what it is for */
    bool has_type, has_where; /* type terms; site, stack or interpreter terms */
    uint64_t hits;           /* objects or blocks it took out (this evaluation) */
};

/* ---- configuration ------------------------------------------------------------------ */

struct rs_check_config {
    uint64_t limit[RS_RULE_COUNT];
    const char *limit_origin[RS_RULE_COUNT]; /* "default", a file, or the flag */
    bool defaults;           /* the built-in suppressions are used */
    unsigned tolerance_pct;  /* baseline: a finding counts as bigger beyond this */
    struct rs_suppression *supp; /* the user's; the defaults are added by rs_check_finish */
    size_t nsupp, cap;
    char *file;              /* the config file read, or NULL */
};

#define RS_DEFAULT_MAX_GROWTH 100
#define RS_DEFAULT_MAX_CYCLIC_GARBAGE 1000
#define RS_DEFAULT_TOLERANCE_PCT 10

void rs_check_config_init(struct rs_check_config *c);
void rs_check_config_free(struct rs_check_config *c);
/* `key = value` as in the file (or from a flag): returns 0, or -1 with err set. */
int rs_check_config_set(struct rs_check_config *c, const char *key, const char *value,
                        const char *origin, char *err, size_t errcap);
/* One suppression, "TERM [TERM...]". Returns 0, or -1 with err set. */
int rs_check_add_suppression(struct rs_check_config *c, const char *text, const char *origin,
                             const char *why, char *err, size_t errcap);
/* Reads a config file. Returns 0; -1 with err set ("FILE:LINE: ..."). */
int rs_check_config_read(struct rs_check_config *c, const char *path, char *err, size_t errcap);
/* The config file to use when none is named: .refscope-check in the current directory or
 * its parents, up to the first that holds .git; NULL when there is none (malloc'd). */
char *rs_check_config_find(void);
/* Adds the built-in suppressions (unless turned off). */
int rs_check_config_finish(struct rs_check_config *c);
/* The effective configuration in the file's syntax. */
void rs_check_config_write(const struct rs_check_config *c, FILE *out);

/* "1MB", "512 kB", "2MiB", "1000", "off". Returns false when it is none of these. */
bool rs_parse_limit(const char *s, bool bytes, uint64_t *out);

/* Matching. A suppression applies to a finding of `rule` for an object of type `type`
 * (NULL for raw blocks: no type term matches them) whose allocation site or stack gave
 * `where` (the verdict of each suppression's site/stack/interpreter terms, computed once
 * per stack by rs_supp_where). */
struct rs_site_name;
struct rs_frames;
bool rs_supp_type_match(const struct rs_suppression *s, const char *type);
bool rs_supp_rule_match(const struct rs_suppression *s, int rule);
/* site: the site's name (may be NULL: unknown); frames: the whole stack, hybrid view (may
 * be NULL); python: the trace is of a Python process (the interpreter term). */
bool rs_supp_where_match(const struct rs_suppression *s, const struct rs_site_name *site,
                         const struct rs_frames *frames, bool python);

/* ---- results ------------------------------------------------------------------------ */

struct rs_check_step {
    char *node;              /* "module __main__", "list", "__main__.Connection" */
    char *type;
    char *label;
    uint64_t addr;
    int edge_kind;           /* 0 none, 1 attr-like ".x", 2 key "[x]", 3 index "[N]" */
    char *edge_text;         /* the reference from the previous step */
    uint64_t edge_index;
};

struct rs_check_finding {
    char *key;               /* stable, for baselines: "type:__main__.Connection",
                              * "site:cache_leak.py:22 handle", "cycle:__main__.Node*2" */
    char *loose_key;         /* the same without the line number (sites), or NULL */
    char *type;              /* or NULL */
    char *site;              /* "cache_leak.py:22 handle", or NULL */
    char *site_file;
    char *site_function;
    int site_line;
    char *site_caller;       /* a site in a library: the program's line that called it */
    char *what;              /* extra words: "50 cycles of 3 objects", "(__del__)" */
    uint64_t value;          /* what the rule measures, in its unit */
    uint64_t count;          /* objects or blocks */
    uint64_t bytes;
    uint64_t from, to;       /* growth: objects at the two points */
    bool has_base;           /* a baseline (or the --from snapshot) had it */
    uint64_t base;
    uint64_t excess;         /* value beyond the base (all of it when new) */
    char *chain;             /* one line, or NULL */
    char *root_kind;         /* "module", "thread", "c_held", or NULL */
    char *root_name;
    struct rs_check_step *steps;
    size_t nsteps;
};

enum rs_verdict { RS_VERDICT_PASS, RS_VERDICT_FAIL, RS_VERDICT_SKIPPED, RS_VERDICT_OFF };
const char *rs_verdict_name(enum rs_verdict v);

struct rs_check_result {
    enum rs_check_rule rule;
    enum rs_verdict verdict;
    uint64_t limit;
    bool per_item;           /* the limit applies to each finding (growth), else to the sum */
    uint64_t value;          /* the sum (or, per item, the largest) of the findings */
    uint64_t counted;        /* what is compared with the limit: new or bigger only */
    char *reason;            /* one line */
    char *skipped_why;
    char *measure;           /* what was measured, one sentence */
    struct rs_check_finding *findings; /* largest excess first */
    size_t nfindings;
    uint64_t suppressed;     /* objects or bytes taken out by suppressions */
};

struct rs_check_snap {
    bool present;
    uint32_t id;
    char *label;
    uint64_t time;
};

struct rs_check_options {
    const char *from, *to;   /* snapshot specs (id or label); NULL: first and last */
    const char *baseline;    /* the JSON of an earlier check */
    unsigned max_chains;     /* findings per rule that get a backref chain */
};

struct rs_baseline;

struct rs_check {
    const char *path;
    const struct rs_check_config *cfg;
    struct rs_check_options opt;
    bool python;
    char *python_version;
    const char *trace_status; /* "complete", "partial", "incomplete" */
    char *program;           /* argv joined, for the outputs */
    size_t snapshots;        /* complete ones */
    const char *window;      /* "snapshots", "since-start", "none" */
    struct rs_check_snap from, to;
    bool explicit_from;
    const char *leak_point;  /* "end_of_trace", "program_end" */
    struct rs_check_result results[RS_RULE_COUNT];
    unsigned failures;
    uint64_t elapsed_ns;
    struct rs_notes notes;
    struct rs_baseline *baseline;
    struct rs_suppression *supp; /* the suppressions used (user's, then defaults) */
    size_t nsupp;
};

/* Evaluates the trace. Returns 0; 3 when the trace (or the baseline) cannot be read, with
 * a one-line message in err. */
#define RS_CHECK_EXIT_ERROR 3
int rs_check_eval(struct rs_check *c, const char *path, struct rs_check_config *cfg,
                  const struct rs_check_options *opt, char *err, size_t errcap);
void rs_check_free(struct rs_check *c);

/* check_out.c */
int rs_baseline_load(struct rs_baseline **out, const char *path, char *err, size_t errcap);
void rs_baseline_free(struct rs_baseline *b);
/* The value the baseline holds for a finding of the rule (exact key, else the loose key):
 * true and *value when it has one. */
bool rs_baseline_find(const struct rs_baseline *b, enum rs_check_rule rule, const char *key,
                      const char *loose_key, uint64_t *value);

void rs_check_write_text(const struct rs_check *c, FILE *out, bool verbose);
void rs_check_write_json(const struct rs_check *c, FILE *out);
void rs_check_write_junit(const struct rs_check *c, FILE *out);
void rs_check_write_markdown(const struct rs_check *c, FILE *out);

#endif
